/**
 * TlsProxy under Pulumi mocks: what it declares, on which engine, with which inputs, and that its URL
 * waits for readiness. Mocks run no provider: that the declared container really serves HTTPS in
 * front of the notebook is shown by test/tlsProxy.test.ts, which runs this very spec on the engine.
 */
import { registryDigest } from "./mocks";
import type { ReadinessDeps } from "../lib/httpsReadiness";
import { answeringNetwork } from "./support/answeringNetwork";
import {
  componentKey,
  engineProvider,
  recordTlsProxy,
  type TlsProxyRecording,
} from "./support/tlsProxyHarness";

// The readiness waits reach the network only through the deps given to the component. These answer
// wrong first (another address, then a certificate no browser trusts) and right after, and record
// every call, so the test sees what each wait accepted and what it waited out.
const mockDigest = registryDigest("caddy:2.11.4");
type Call = { kind: "resolve" | "probe"; answer: string };

function networkRightOnSecondTry(calls: Call[]): ReadinessDeps {
  const right = answeringNetwork("192.0.2.10");
  const wrongAddress = answeringNetwork("198.51.100.99");
  const untrusted = answeringNetwork("192.0.2.10", [], { trusted: false });
  const wrong: Pick<ReadinessDeps, "resolve" | "probe"> = {
    resolve: (hostname) => wrongAddress.resolve(hostname),
    probe: (request) => untrusted.probe(request),
  };
  const tries = { resolve: 0, probe: 0 };
  const first = (kind: "resolve" | "probe") => tries[kind]++ === 0;
  return {
    ...right,
    resolve: async (hostname) => {
      const addresses = await (first("resolve") ? wrong : right).resolve(hostname);
      calls.push({ kind: "resolve", answer: addresses.join(",") });
      return addresses;
    },
    probe: async (request) => {
      const answer = await (first("probe") ? wrong : right).probe(request);
      calls.push({ kind: "probe", answer: answer.authorized ? "trusted" : "untrusted" });
      return answer;
    },
  };
}

const calls: Call[] = [];
const hostname = "nb-ada.abc123456.projects.jetstream-cloud.org";
let rec: TlsProxyRecording;

beforeAll(async () => {
  rec = await recordTlsProxy(
    {
      network: "nb-net",
      upstreamHost: "nb-ada",
      hostname,
      acmeEmail: "instructor@example.edu",
      expectedAddress: "192.0.2.10",
    },
    { preview: false, name: "ada-tls", readinessDeps: networkRightOnSecondTry(calls) },
  );
});

function only(type: string) {
  const found = rec.ofType(type);
  expect(found).toHaveLength(1);
  return found[0];
}

test("declares exactly one image, two volumes and one container, all children on the given engine", () => {
  const types = rec.resources.map((r) => `${r.type} ${r.name}`).sort();
  expect(types).toEqual([
    "docker:index/container:Container ada-tls",
    "docker:index/remoteImage:RemoteImage ada-tls-image",
    "docker:index/volume:Volume ada-tls-config",
    "docker:index/volume:Volume ada-tls-data",
    "jetstream-notebooks:tls:TlsProxy ada-tls",
    "pulumi:providers:docker engine",
  ]);
  for (const r of rec.resources.filter((x) => x.type.startsWith("docker:index/"))) {
    expect(r.parent).toBe(componentKey("ada-tls"));
    expect(r.provider).toBe(engineProvider);
  }
});

test("resolves the default tag to its registry digest and runs the container by that digest", () => {
  // The mocked registry's digest is derived from the name asked, so this shows what was asked.
  expect(rec.calls).toEqual(["docker:index/getRegistryImage:getRegistryImage"]);
  expect(rec.result.imageRef).toBe(`caddy@${mockDigest}`);
  expect(only("docker:index/remoteImage:RemoteImage").inputs).toMatchObject({
    name: `caddy@${mockDigest}`,
    keepLocally: true,
  });
  expect(only("docker:index/container:Container").inputs.image).toBe(`caddy@${mockDigest}`);
});

test("publishes only 80 and 443, joins the notebook's network, keeps certificates on a volume", () => {
  const c = only("docker:index/container:Container");
  expect(c.inputs.ports).toEqual(
    [
      { internal: 80, external: 80, protocol: "tcp", ip: "0.0.0.0" },
      { internal: 443, external: 443, protocol: "tcp", ip: "0.0.0.0" },
    ].map(({ internal, external }) => expect.objectContaining({ internal, external }) as unknown),
  );
  expect(c.inputs.networksAdvanced).toEqual([expect.objectContaining({ name: "nb-net" })]);
  const volumes = c.inputs.volumes as { volumeName: string; containerPath: string }[];
  expect(volumes.map((v) => v.containerPath).sort()).toEqual(["/config", "/data"]);
  expect(rec.result.dataVolumeName).toMatch(/^ada-tls-data-[0-9a-f]{7}$/);
  expect(volumes.find((v) => v.containerPath === "/data")?.volumeName).toBe(
    rec.result.dataVolumeName,
  );
  // The fixed host ports mean the old container must go first.
  expect(c.deleteBeforeReplace).toBe(true);
  expect(c.inputs).toMatchObject({
    restart: "unless-stopped",
    capabilities: { drops: ["ALL"], adds: ["NET_BIND_SERVICE"] },
    securityOpts: ["no-new-privileges:true"],
  });
});

test("uploads the rendered Caddyfile for the hostname, the notebook upstream and the email", () => {
  const c = only("docker:index/container:Container");
  const uploads = c.inputs.uploads as { file: string; content: string }[];
  expect(uploads).toHaveLength(1);
  expect(uploads[0].file).toBe("/etc/caddy/Caddyfile");
  expect(uploads[0].content).toContain(`\n${hostname} {\n`);
  expect(uploads[0].content).toContain("\treverse_proxy nb-ada:8888\n");
  expect(uploads[0].content).toContain("\temail instructor@example.edu\n");
  expect(uploads[0].content).not.toContain("tls internal");
  expect(c.inputs.command).toEqual([
    "caddy",
    "run",
    "--config",
    "/etc/caddy/Caddyfile",
    "--adapter",
    "caddyfile",
  ]);
});

test("waits for DNS to the floating IP, then for a publicly trusted certificate, before the URL", () => {
  expect(calls).toEqual([
    { kind: "resolve", answer: "198.51.100.99" },
    { kind: "resolve", answer: "192.0.2.10" },
    { kind: "probe", answer: "untrusted" },
    { kind: "probe", answer: "trusted" },
  ]);
  expect(rec.result.url).toBe(`https://${hostname}/`);
});

test("with the staging CA (a rehearsal), a certificate that names the host will do", async () => {
  const staging: Call[] = [];
  const r = await recordTlsProxy(
    {
      network: "nb-net",
      upstreamHost: "nb-ada",
      hostname,
      acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory",
    },
    { preview: false, name: "ada-tls", readinessDeps: networkRightOnSecondTry(staging) },
  );
  // No expected address: the first answer resolves the name; the untrusted certificate is accepted.
  expect(staging).toEqual([
    { kind: "resolve", answer: "198.51.100.99" },
    { kind: "probe", answer: "untrusted" },
  ]);
  expect(r.result.url).toBe(`https://${hostname}/`);
});

describe("self-signed, with a digest-pinned image, in preview", () => {
  const pinned = `caddy@sha256:${"12".repeat(32)}`;
  let selfSigned: TlsProxyRecording;
  beforeAll(async () => {
    calls.length = 0;
    selfSigned = await recordTlsProxy(
      {
        network: "nb-net",
        upstreamHost: "nb-bob",
        upstreamPort: 9999,
        hostname: "nb-bob.abc123456.projects.jetstream-cloud.org",
        mode: "self-signed",
        acmeEmail: "instructor@example.edu",
        image: pinned,
      },
      { preview: true, name: "bob-tls", readinessDeps: networkRightOnSecondTry(calls) },
    );
  });

  test("uses the pinned reference as given, without asking the registry", () => {
    expect(selfSigned.calls).toEqual([]);
    expect(selfSigned.result.imageRef).toBe(pinned);
    // The container takes the pulled image's repoDigest, which a preview of a new stack cannot know.
    const [image] = selfSigned.ofType("docker:index/remoteImage:RemoteImage");
    expect(image?.inputs.name).toBe(pinned);
  });

  test("renders tls internal, leaves the ACME email out, and proxies to the given port", () => {
    const [c] = selfSigned.ofType("docker:index/container:Container");
    const content = (c?.inputs.uploads as { content: string }[])[0].content;
    expect(content).toContain("\ttls internal\n");
    expect(content).toContain("\treverse_proxy nb-bob:9999\n");
    expect(content).not.toContain("email");
  });

  test("a preview waits for nothing, and the URL is not known yet", () => {
    expect(calls).toEqual([]);
    expect(selfSigned.result.url).toBeUndefined();
  });
});

describe("on a VM: ordering after the readiness gate, deleted with the VM", () => {
  let onVm: TlsProxyRecording;
  beforeAll(async () => {
    onVm = await recordTlsProxy(
      (docker) => {
        // Any resources will do as the gate and the VM here; the proxy only orders against them.
        const gate = new docker.Network("gate", {});
        const vm = new docker.Network("vm", {});
        return {
          network: "nb-net",
          upstreamHost: "notebook",
          hostname,
          dependsOn: [gate],
          deletedWith: vm,
        };
      },
      { preview: true, name: "cy-tls" },
    );
  });

  test("every Docker resource waits for the gate and is deleted with the VM", () => {
    const children = onVm.resources.filter(
      (r) => r.type.startsWith("docker:index/") && r.name.startsWith("cy-tls"),
    );
    expect(children.map((r) => r.name).sort()).toEqual([
      "cy-tls",
      "cy-tls-config",
      "cy-tls-data",
      "cy-tls-image",
    ]);
    for (const r of children) {
      expect(r.dependsOn).toEqual(["docker:index/network:Network::gate"]);
      expect(r.deletedWith).toBe("docker:index/network:Network::vm");
    }
  });
});
