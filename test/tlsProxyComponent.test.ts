/**
 * TlsProxy under Pulumi mocks: what it declares, on which engine, with which inputs, and that its URL
 * waits for the readiness resources (which run lib/readinessMain.ts; test/readinessMain.test.ts runs it). Mocks run no provider: that the declared container really serves HTTPS in
 * front of the notebook is shown by test/tlsProxy.test.ts, which runs this very spec on the engine.
 */
import { createHash } from "node:crypto";
import { registryDigest, type Recorded } from "./mocks";
import {
  engineProvider,
  proxyKey,
  recordTlsProxy,
  type TlsProxyRecording,
} from "./support/tlsProxyHarness";

const mockDigest = registryDigest("caddy:2.11.4");

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
      machineId: "vm-1",
      httpChallengeOnly: true,
      dnsTimeoutMinutes: 90,
    },
    { preview: false, name: "ada-tls" },
  );
});

function only(type: string, name?: string) {
  const found = rec.resources.filter(
    (r) => r.type === type && (name === undefined || r.name === name),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

test("declares one image, two volumes, one container on the given engine, and two local waits", () => {
  const types = rec.resources.map((r) => `${r.type} ${r.name}`).sort();
  expect(types).toEqual([
    "command:local:Command ada-tls-dns",
    "command:local:Command ada-tls-ready",
    "docker:index/container:Container ada-tls",
    "docker:index/remoteImage:RemoteImage ada-tls-image",
    "docker:index/volume:Volume ada-tls-config",
    "docker:index/volume:Volume ada-tls-data",
    "jetstream-notebooks:tls:TlsProxy ada-tls",
    "pulumi:providers:docker engine",
  ]);
  for (const r of rec.resources.filter((x) => x.type.startsWith("docker:index/"))) {
    expect(r.parent).toBe(proxyKey("ada-tls"));
    expect(r.provider).toBe(engineProvider);
  }
});

test("resolves the default tag to its registry digest and runs the container by that digest", () => {
  expect(rec.invokes).toEqual([
    {
      token: "docker:index/getRegistryImage:getRegistryImage",
      inputs: expect.objectContaining({ name: "caddy:2.11.4" }) as unknown,
    },
  ]);
  expect(rec.outputs.imageRef).toBe(`caddy@${mockDigest}`);
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
  expect(volumes.find((v) => v.containerPath === "/data")?.volumeName).toBe(
    rec.outputs.dataVolumeName,
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

test("waits for DNS at the floating IP as a resource, then starts the proxy", () => {
  const dns = only("command:local:Command", "ada-tls-dns");
  expect(dns.inputs).toEqual({
    create: "npx --no-install tsx lib/readinessMain.ts",
    environment: {
      JN_WAIT: "dns",
      JN_HOSTNAME: hostname,
      JN_ADDRESS: "192.0.2.10",
      JN_TIMEOUT_MINUTES: "90",
    },
    // Only a new machine, address or name runs it again: an unchanged `up` asks no DNS server.
    triggers: ["vm-1", "192.0.2.10", hostname],
  });
  expect(dns.parent).toBe(proxyKey("ada-tls"));
  const container = only("docker:index/container:Container");
  // The container waits for the DNS name (its only dependency here).
  expect(container.dependsOn).toHaveLength(1);
});

test("then HTTPS through the floating IP, triggered by the container and its Caddyfile, before the URL", () => {
  const ready = only("command:local:Command", "ada-tls-ready");
  const containerId = only("docker:index/container:Container").id;
  expect(containerId).toMatch(/^ada-tls-id/);
  const caddyfile = (
    only("docker:index/container:Container").inputs.uploads as { content: string }[]
  )[0].content;
  expect(ready.inputs).toEqual({
    create: "npx --no-install tsx lib/readinessMain.ts",
    environment: {
      JN_WAIT: "https",
      JN_HOSTNAME: hostname,
      JN_ADDRESS: "192.0.2.10",
      JN_TIMEOUT_MINUTES: "15",
      JN_CERTIFICATE: "trusted",
    },
    triggers: [containerId, createHash("sha256").update(caddyfile).digest("hex")],
  });
  expect(rec.outputs.url).toBe(`https://${hostname}/`);
});

test("a restricted 443: HTTP-01 only in the Caddyfile", () => {
  const uploads = only("docker:index/container:Container").inputs.uploads as { content: string }[];
  expect(uploads[0].content).toContain("\t\tdisable_tlsalpn_challenge\n");
});

test("carries the machine id: a replaced VM gets a new image pull, volumes and container", () => {
  expect(only("docker:index/remoteImage:RemoteImage").inputs.triggers).toEqual({ machine: "vm-1" });
  expect(only("docker:index/container:Container").inputs.labels).toEqual([
    { label: "org.jetstream-notebooks.machine", value: "vm-1" },
  ]);
  const volumes = rec.resources.filter((r: Recorded) => r.type === "docker:index/volume:Volume");
  expect(volumes.map((v) => v.replacementTrigger)).toEqual(["vm-1", "vm-1"]);
});

describe("self-signed, with a digest-pinned image, in preview", () => {
  const pinned = `caddy@sha256:${"12".repeat(32)}`;
  let selfSigned: TlsProxyRecording;
  beforeAll(async () => {
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
      { preview: true, name: "bob-tls" },
    );
  });

  test("uses the pinned reference as given, without asking the registry", () => {
    expect(selfSigned.invokes).toEqual([]);
    expect(selfSigned.outputs.imageRef).toBe(pinned);
    const c = selfSigned.resources.find((r) => r.type === "docker:index/container:Container");
    expect(c?.inputs.image).toBe(pinned);
  });

  test("renders tls internal, leaves the ACME email out, and proxies to the given port", () => {
    const c = selfSigned.resources.find((r) => r.type === "docker:index/container:Container");
    const content = (c?.inputs.uploads as { content: string }[])[0].content;
    expect(content).toContain("\ttls internal\n");
    expect(content).toContain("\treverse_proxy nb-bob:9999\n");
    expect(content).not.toContain("email");
  });

  test("a preview runs no wait and leaves the URL unknown", () => {
    expect(selfSigned.outputs.url).toBeUndefined();
    const ready = selfSigned.resources.find((r) => r.name === "bob-tls-ready");
    expect((ready?.inputs.environment as Record<string, string>).JN_CERTIFICATE).toBe("names-host");
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
    const gate = "docker:index/network:Network::gate";
    const vm = "docker:index/network:Network::vm";
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
      if (r.name === "cy-tls") {
        // The container also waits for the DNS name.
        expect(r.dependsOn).toEqual([gate, "command:local:Command::cy-tls-dns"]);
      } else {
        expect(r.dependsOn).toEqual([gate]);
      }
      expect(r.deletedWith).toBe(vm);
    }
  });
});

describe("a preview of a new VM, whose engine cannot be asked for the tag's digest", () => {
  test("leaves the proxy image unknown instead of caddy@undefined", async () => {
    const preview = await recordTlsProxy(
      { network: "nb-net", upstreamHost: "notebook", hostname },
      { preview: true, name: "dee-tls", registryWithoutDigest: true },
    );
    expect(preview.outputs.imageRef).toBeUndefined();
    const image = preview.resources.find((r) => r.type === "docker:index/remoteImage:RemoteImage");
    expect(JSON.stringify(image?.inputs)).not.toContain("undefined");
  });
});
