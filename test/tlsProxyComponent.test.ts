/**
 * TlsProxy under Pulumi mocks: what it declares, on which engine, with which inputs, and that its URL
 * waits for readiness. Mocks run no provider: that the declared container really serves HTTPS in
 * front of the notebook is shown by test/tlsProxy.test.ts, which runs this very spec on the engine.
 */
import { mockDigest, recordTlsProxy, type TlsProxyRecording } from "./support/tlsProxyHarness";

// The readiness waits reach the network; here they are replaced by recorders, so the test can assert
// that they are asked the right thing and that the URL comes only after them.
const waits: { kind: string; target: Record<string, unknown> }[] = [];
jest.mock("../lib/httpsReadiness", () => {
  const actual =
    jest.requireActual<typeof import("../lib/httpsReadiness")>("../lib/httpsReadiness");
  return {
    ...actual,
    waitForDns: jest.fn((target: Record<string, unknown>) => {
      waits.push({ kind: "dns", target });
      return Promise.resolve(["192.0.2.10"]);
    }),
    waitForHttps: jest.fn((target: { hostname: string }) => {
      waits.push({ kind: "https", target });
      return Promise.resolve({
        url: `https://${target.hostname}/api`,
        status: 200,
        issuer: "Let's Encrypt / E7",
        validTo: "Jan  1 00:00:00 2099 GMT",
        elapsedMs: 1000,
      });
    }),
  };
});

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
    { preview: false, name: "ada-tls" },
  );
});

function only(type: string) {
  const found = rec.resources.filter((r) => r.type === type);
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
    expect(r.parentIsComponent).toBe(true);
    expect(r.usesEngineProvider).toBe(true);
  }
});

test("resolves the default tag to its registry digest and runs the container by that digest", () => {
  expect(rec.calls).toEqual([
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

test("waits for DNS (to the floating IP), then for a publicly trusted certificate, before the URL", () => {
  expect(waits.map((w) => w.kind)).toEqual(["dns", "https"]);
  expect(waits[0].target).toMatchObject({
    hostname,
    expectedAddress: "192.0.2.10",
    timeoutMs: 15 * 60_000,
  });
  expect(waits[1].target).toMatchObject({ hostname, check: "trusted" });
  expect(rec.outputs.url).toBe(`https://${hostname}/`);
});

describe("self-signed, with a digest-pinned image, in preview", () => {
  const pinned = `caddy@sha256:${"12".repeat(32)}`;
  let selfSigned: TlsProxyRecording;
  beforeAll(async () => {
    waits.length = 0;
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
    expect(selfSigned.calls).toEqual([]);
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

  test("a preview waits for nothing", () => {
    expect(waits).toEqual([]);
    expect(selfSigned.outputs.url).toBe("https://nb-bob.abc123456.projects.jetstream-cloud.org/");
  });
});

describe("on a VM: ordering after the readiness gate, deleted with the VM", () => {
  let onVm: TlsProxyRecording;
  const stand: { gate?: unknown; vm?: unknown } = {};
  beforeAll(async () => {
    waits.length = 0;
    onVm = await recordTlsProxy(
      (docker) => {
        // Any resources will do as the gate and the VM here; the proxy only orders against them.
        const gate = new docker.Network("gate", {});
        const vm = new docker.Network("vm", {});
        stand.gate = gate;
        stand.vm = vm;
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
      expect(r.dependsOn).toEqual([stand.gate]);
      expect(r.deletedWith).toBe(stand.vm);
    }
  });
});
