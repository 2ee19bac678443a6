/**
 * Rehearsals on Let's Encrypt staging: the workshop command's probes (up, status) accept a
 * certificate that names the host without a public issuer whenever the stack's CA is not Let's
 * Encrypt production, the rule the program's own readiness uses, and refuse it under production.
 * The notebooks are the simulated backend's, served over real HTTPS with certificates made here by
 * openssl; the probe is the real one.
 */
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { letsEncryptProductionCa, letsEncryptStagingCa } from "../lib/tlsSettings";
import { Orchestrator } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import type { Student } from "../workshop/roster";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { describeWithTool, hasCommand } from "./support/docker";
import { SimulatedBackend } from "./support/simulated-driver";
import { selfSignedCertificate, type Pem } from "./support/certificates";

function settingsWith(tls: Record<string, string>): WorkshopSettings {
  return parseSettings(
    {
      workshop: "intro",
      target: "jetstream",
      expires: "2030-06-30",
      image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      sshCidr: "203.0.113.7/32",
      ...tls,
    },
    path.join(os.tmpdir(), "workshop.yaml"),
  );
}

const student: Student[] = [{ id: "ada", line: 2 }];

class Quiet extends Writable {
  _write(_chunk: Buffer, _enc: string, done: () => void): void {
    done();
  }
}

let sim: SimulatedBackend | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function orchestratorServing(tls: Pem): Promise<Orchestrator> {
  sim = new SimulatedBackend({
    tls,
    extraOutputs: () => ({ imageRef: `sha256:${"b".repeat(64)}` }),
  });
  await sim.start();
  return new Orchestrator({
    driver: sim.driver,
    reporter: new PlainReporter(new Quiet(), () => new Date("2031-01-05T12:00:00Z")),
    retry: {
      attempts: 1,
      baseDelayMs: 1,
      maxDelayMs: 1,
      random: () => 0.5,
      sleep: () => Promise.resolve(),
    },
    probeIntervalMs: 20,
    probeTimeoutMs: 200,
    now: () => new Date("2031-01-05T12:00:00Z"),
  });
}

describeWithTool(
  "the workshop's HTTPS probes follow the stack's CA",
  "openssl (apt-get install openssl)",
  hasCommand("openssl"),
  () => {
    let namesHost: Pem;
    let namesAnother: Pem;
    beforeAll(() => {
      namesHost = selfSignedCertificate("IP:127.0.0.1");
      namesAnother = selfSignedCertificate("DNS:other.example,IP:10.0.0.1");
    });

    test("staging CA: a certificate that names the host is accepted by up and by status", async () => {
      const settings = settingsWith({ acmeCa: letsEncryptStagingCa });
      const orch = await orchestratorServing(namesHost);
      const [up] = await orch.up(settings, student, { concurrency: 1 });
      expect(up.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
      expect([up.status, up.detail]).toEqual(["ready", "answering after 1 probe(s)"]);
      const [row] = await orch.status(settings, student, 1);
      expect(row.health).toBe("healthy");
    });

    test("any CA other than Let's Encrypt production is treated as staging is", async () => {
      const settings = settingsWith({ acmeCa: "https://acme.internal.example/directory" });
      const orch = await orchestratorServing(namesHost);
      const [up] = await orch.up(settings, student, { concurrency: 1 });
      expect(up.status).toBe("ready");
    });

    test("staging CA: a certificate for another host is refused", async () => {
      const settings = settingsWith({ acmeCa: letsEncryptStagingCa });
      const orch = await orchestratorServing(namesAnother);
      const [up] = await orch.up(settings, student, { concurrency: 1 });
      expect(up.status).toBe("failed");
      expect(up.detail).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
      const [row] = await orch.status(settings, student, 1);
      expect(row.health).toBe("unhealthy: ERR_TLS_CERT_ALTNAME_INVALID");
    });

    test.each([
      ["acmeCa is Let's Encrypt production", { acmeCa: letsEncryptProductionCa }],
      ["acmeCa is unset (Caddy's public CAs)", {}],
    ])("%s: a certificate no public root vouches for is refused", async (_name, tls) => {
      const settings = settingsWith(tls);
      const orch = await orchestratorServing(namesHost);
      const [up] = await orch.up(settings, student, { concurrency: 1 });
      expect(up.status).toBe("failed");
      expect(up.detail).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
      const [row] = await orch.status(settings, student, 1);
      expect(row.health).toBe("unhealthy: DEPTH_ZERO_SELF_SIGNED_CERT");
    });

    test("tls self-signed: a certificate that names the host is accepted", async () => {
      const settings = settingsWith({ tls: "self-signed" });
      const orch = await orchestratorServing(namesHost);
      const [up] = await orch.up(settings, student, { concurrency: 1 });
      expect(up.status).toBe("ready");
    });
  },
);
