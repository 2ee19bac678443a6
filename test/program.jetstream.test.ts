/**
 * The whole program for target jetstream, under mocks: what it declares, how the pieces are wired,
 * what is secret, and what a preview (no VM yet, so no IP) computes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { NotebookStackOutputs } from "../program";
import type { RawConfig } from "../lib/config";
import type { ReadinessDeps } from "../lib/httpsReadiness";
import { sshOptions } from "../lib/sshIdentity";
import {
  fakeDigest,
  fakeKeyPair,
  inventory,
  isKnown,
  isSecret,
  mockFloatingIp,
  only,
  promiseOf,
  registryDigest,
  runMocked,
  type MockOptions,
  type Recorded,
} from "./mocks";
import { answeringNetwork, type NetworkCall } from "./support/answeringNetwork";
import { describeWithTool, exec, hasCommand } from "./support/docker";

// The HTTPS readiness waits reach DNS and the network: here the network answers (the VM's name
// resolves to its floating IP, the proxy has a trusted certificate) and records what was asked.
const network: NetworkCall[] = [];

const digest = fakeDigest("instructor-image");
const imageRef = `docker.io/instructor/jupyter-notebook@sha256:${digest}`;
const student: RawConfig = {
  target: "jetstream",
  student: "alice",
  workshop: "hpc",
  expires: "2030-03-05",
  image: imageRef,
  flavor: "m3.quad",
  sshCidr: "203.0.113.7/32",
  notebookCidr: "192.0.2.0/24",
  notebookPort: "9443",
  allocation: "cis230000",
};
// The same student served over plain HTTP on notebookPort (tls off), the pre-HTTPS layout.
const plainStudent: RawConfig = { ...student, tls: "off" };
const hostname = "hpc-alice.cis230000.projects.jetstream-cloud.org";
const now = new Date("2030-03-01T00:00:00Z");

const T = {
  vm: "jetstream-notebooks:vm:JetstreamVm",
  server: "jetstream-notebooks:notebook:NotebookServer",
  image: "jetstream-notebooks:image:JupyterImage",
  key: "tls:index/privateKey:PrivateKey",
  keypair: "openstack:compute/keypair:Keypair",
  sg: "openstack:networking/secGroup:SecGroup",
  rule: "openstack:networking/secGroupRule:SecGroupRule",
  port: "openstack:networking/port:Port",
  instance: "openstack:compute/instance:Instance",
  fip: "openstack:networking/floatingIp:FloatingIp",
  fipAssoc: "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
  gate: "command:remote:Command",
  provider: "pulumi:providers:docker",
  token: "random:index/randomPassword:RandomPassword",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  dockerImage: "docker:index/image:Image",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  container: "docker:index/container:Container",
  proxy: "jetstream-notebooks:tls:TlsProxy",
} as const;

let tmp: string;
const savedTmp = process.env.TMPDIR;
beforeEach(() => {
  network.length = 0;
  // The docker provider's key files go under the temp folder: a fresh one per test shows what a
  // run wrote (and that a preview wrote nothing).
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jn-stack-program-"));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  process.env.TMPDIR = savedTmp;
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function program(
  raw: RawConfig,
  opts: MockOptions & { dockerHubToken?: string; httpsReadiness?: ReadinessDeps } = {},
) {
  return runMocked(async () => {
    const pulumiSdk = await import("@pulumi/pulumi");
    const { parseStackConfig } = await import("../lib/config");
    const { notebookStack } = await import("../program");
    return notebookStack(parseStackConfig(raw, { stackName: "alice", now }), {
      dockerHubToken:
        opts.dockerHubToken === undefined ? undefined : pulumiSdk.secret(opts.dockerHubToken),
      imageLabels: { revision: "abc123", created: "2030-02-01T10:00:00Z" },
      httpsReadiness: opts.httpsReadiness ?? answeringNetwork(mockFloatingIp, network),
    });
  }, opts);
}

const id = (r: Recorded) => `${r.name}-id-`;
const k = (r: Recorded) => `${r.type}::${r.name}`;

describe("a jetstream student stack with tls off (plain HTTP on notebookPort)", () => {
  let run: Awaited<ReturnType<typeof program>>;
  let rs: Recorded[];
  beforeEach(async () => {
    run = await program(plainStudent);
    rs = run.resources;
  });

  test("declares exactly one VM's worth of resources, named from workshop and student", () => {
    expect(inventory(rs)).toEqual({
      [T.vm]: 1,
      [T.key]: 2,
      [T.keypair]: 1,
      [T.sg]: 1,
      [T.rule]: 2,
      [T.port]: 1,
      [T.instance]: 1,
      [T.fip]: 1,
      [T.fipAssoc]: 1,
      [T.gate]: 1,
      [T.server]: 1,
      [T.provider]: 1,
      [T.token]: 1,
      [T.remoteImage]: 1,
      [T.volume]: 1,
      [T.network]: 1,
      [T.container]: 1,
    });
    expect(rs.map((r) => r.name).sort()).toEqual(
      [
        "hpc-alice",
        "hpc-alice",
        "hpc-alice-engine",
        "hpc-alice-host",
        "hpc-alice-image",
        "hpc-alice-ip",
        "hpc-alice-ip",
        "hpc-alice-key",
        "hpc-alice-login",
        "hpc-alice-net",
        "hpc-alice-notebook",
        "hpc-alice-port-9443",
        "hpc-alice-port",
        "hpc-alice-ready",
        "hpc-alice-sg",
        "hpc-alice-ssh",
        "hpc-alice-token",
        "hpc-alice-vm",
        "hpc-alice-work",
      ].sort(),
    );
    // The one lookup: the network by name (no port lookups after the fact).
    expect(run.calls).toEqual(["openstack:networking/getNetwork:getNetwork"]);
  });

  test("parents every resource to its component, and the components to the stack", () => {
    const vm = `${T.vm}::hpc-alice`;
    const server = `${T.server}::hpc-alice`;
    const parents = Object.fromEntries(rs.map((r) => [k(r), r.parent]));
    expect(parents[vm]).toBeUndefined();
    expect(parents[server]).toBeUndefined();
    for (const r of rs) {
      if (r.type.startsWith("jetstream-notebooks:")) continue;
      const expected =
        r.type.startsWith("openstack:") || r.type === T.gate || r.type === T.key ? vm : server;
      expect({ resource: k(r), parent: r.parent }).toEqual({ resource: k(r), parent: expected });
    }
  });

  test("opens SSH to sshCidr only and the notebook port to notebookCidr, in its own group", () => {
    const sg = only(rs, T.sg);
    expect(sg.inputs.name).toBe("hpc-alice");
    const rules = rs
      .filter((r) => r.type === T.rule)
      .map((r) => [r.inputs.portRangeMin, r.inputs.portRangeMax, r.inputs.remoteIpPrefix]);
    expect(rules).toEqual([
      [22, 22, "203.0.113.7/32"],
      [9443, 9443, "192.0.2.0/24"],
    ]);
  });

  test("puts the instance behind an explicit port carrying the group, with the floating IP on it", async () => {
    const sgId = await idOf(T.sg);
    const portId = await idOf(T.port);
    const port = only(rs, T.port);
    expect(port.inputs).toMatchObject({
      networkId: "net-auto_allocated_network",
      securityGroupIds: [sgId],
      name: "hpc-alice",
    });
    const instance = only(rs, T.instance);
    expect(instance.inputs).toMatchObject({
      name: "hpc-alice",
      flavorName: "m3.quad",
      imageName: "Featured-Ubuntu24",
      keyPair: "hpc-alice",
      networks: [{ port: portId }],
      metadata: {
        workshop: "hpc",
        student: "alice",
        expires: "2030-03-05",
        "managed-by": "jetstream-notebooks",
      },
    });
    expect(instance.inputs.securityGroups).toBeUndefined();
    expect(only(rs, T.fip).inputs).toMatchObject({ pool: "public" });
    expect(only(rs, T.fipAssoc).inputs).toEqual({ floatingIp: mockFloatingIp, portId });
    expect(only(rs, T.fipAssoc).dependsOn).toEqual([k(instance)]);
  });

  test("never replaces the VM for new user data or boot image, and keeps the user data secret", () => {
    const instance = only(rs, T.instance);
    expect(instance.ignoreChanges).toEqual(["userData", "imageName"]);
    expect(instance.secretInputs.has("userData")).toBe(true);
    const userData = String(instance.inputs.userData);
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    expect(userData).toContain(`image='${imageRef}'`);
    expect(userData).toContain(
      `ed25519_public: ${JSON.stringify(fakeKeyPair("hpc-alice-host").publicKeyOpenssh.trim())}`,
    );
  });

  test("gates on the VM over SSH with the stack's key, verifying the generated host key", async () => {
    const gate = only(rs, T.gate);
    const hostKey = fakeKeyPair("hpc-alice-host").publicKeyOpenssh.trim();
    expect(gate.inputs.connection).toEqual({
      host: mockFloatingIp,
      port: 22,
      user: "ubuntu",
      privateKey: fakeKeyPair("hpc-alice-login").privateKeyOpenssh,
      hostKey,
      dialErrorLimit: 60,
      perDialTimeout: 10,
    });
    expect(gate.secretInputs.has("connection")).toBe(true);
    expect(String(gate.inputs.create)).toContain("cloud-init status --wait");
    // A rebuilt image must roll the container without re-running (or failing) the gate.
    expect(String(gate.inputs.create)).not.toContain(digest);
    expect(gate.inputs.triggers).toEqual([await idOf(T.instance)]);
    expect(gate.dependsOn).toEqual([`${T.fipAssoc}::hpc-alice-ip`]);
    // The key pair the VM gets is that same login key.
    expect(only(rs, T.keypair).inputs.publicKey).toBe(
      fakeKeyPair("hpc-alice-login").publicKeyOpenssh.trim(),
    );
  });

  test("runs every Docker resource through the VM's engine, after the gate, deleted with the VM", () => {
    const gate = `${T.gate}::hpc-alice-ready`;
    const provider = only(rs, T.provider);
    expect(provider.dependsOn).toEqual([gate]);
    for (const type of [T.remoteImage, T.volume, T.network, T.container]) {
      const r = only(rs, type);
      expect({
        type,
        provider: r.provider,
        dependsOn: r.dependsOn,
        deletedWith: r.deletedWith,
      }).toEqual({
        type,
        provider: `${T.provider}::hpc-alice-engine`,
        dependsOn: [gate],
        deletedWith: `${T.instance}::hpc-alice-vm`,
      });
    }
  });

  test("ties every Docker resource to the instance id, so a replaced VM gets them all anew", async () => {
    const machine = { label: "org.jetstream-notebooks.machine", value: await idOf(T.instance) };
    for (const type of [T.volume, T.network, T.container]) {
      expect({ type, labels: only(rs, type).inputs.labels }).toEqual({
        type,
        labels: [
          { label: "org.jetstream-notebooks.workshop", value: "hpc" },
          { label: "org.jetstream-notebooks.student", value: "alice" },
          machine,
        ],
      });
    }
  });

  test("reaches the engine as ubuntu over ssh with strict host checking, key files 0600", () => {
    const provider = only(rs, T.provider).inputs;
    expect(provider.host).toBe(`ssh://ubuntu@${mockFloatingIp}:22`);
    // A provider's inputs reach the engine as strings (JSON for lists and booleans).
    expect(provider.disableDockerDaemonCheck).toBe("true");
    const opts = JSON.parse(String(provider.sshOpts)) as string[];
    const keyFile = opts[opts.indexOf("-i") + 1];
    const knownHosts = opts.find((o) => o.startsWith("UserKnownHostsFile="))!.split("=")[1];
    // The options are exactly the ones sshOptions gives for the files written (its own test says
    // what they are and why).
    expect(opts).toEqual(sshOptions({ keyFile, knownHostsFile: knownHosts }));
    expect(keyFile.startsWith(tmp)).toBe(true);
    expect(fs.readFileSync(keyFile, "utf8")).toBe(fakeKeyPair("hpc-alice-login").privateKeyOpenssh);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(
      `${mockFloatingIp} ${fakeKeyPair("hpc-alice-host").publicKeyOpenssh.trim()}\n`,
    );
  });

  test("runs the image by digest, pulled, on the port the security group opens", async () => {
    expect(only(rs, T.remoteImage).inputs).toEqual({
      name: imageRef,
      keepLocally: true,
      triggers: { machine: await idOf(T.instance) },
    });
    const c = only(rs, T.container).inputs;
    expect(c.image).toBe(`sha256:${fakeDigest(imageRef)}`);
    const notebookRule = only(rs, T.rule, "hpc-alice-port-9443").inputs;
    expect(c.ports).toEqual([{ internal: 8888, external: 9443, ip: "0.0.0.0", protocol: "tcp" }]);
    expect(notebookRule).toEqual({
      securityGroupId: await idOf(T.sg),
      direction: "ingress",
      ethertype: "IPv4",
      protocol: "tcp",
      portRangeMin: 9443,
      portRangeMax: 9443,
      remoteIpPrefix: "192.0.2.0/24",
      description: "The notebook",
    });
    expect(only(rs, T.rule, "hpc-alice-ssh").inputs).toEqual({
      securityGroupId: await idOf(T.sg),
      direction: "ingress",
      ethertype: "IPv4",
      protocol: "tcp",
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: "203.0.113.7/32",
      description: "SSH from the instructor",
    });
  });

  test("hardens and limits the container from the flavor (m3.quad: 4 CPUs, 15 GB)", () => {
    const container = only(rs, T.container);
    expect(container.inputs).toMatchObject({
      name: "hpc-alice-notebook",
      restart: "unless-stopped",
      wait: true,
      waitTimeout: 180,
      memory: 13824,
      memorySwap: 13824,
      cpus: "3.5",
      ulimits: [{ name: "nproc", soft: 2048, hard: 2048 }],
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      mounts: [{ type: "volume", source: "hpc-alice-work", target: "/home/jupyter/work" }],
      networksAdvanced: [{ name: "hpc-alice-net", aliases: ["notebook"] }],
    });
    expect(container.deleteBeforeReplace).toBe(true);
    expect(container.secretInputs).toEqual(new Set(["envs"]));
    expect(container.additionalSecretOutputs).toEqual(["envs"]);
    // On the VM the volume goes with the VM: no retention needed.
    expect(only(rs, T.volume).retainOnDelete).toBe(false);
  });

  test("outputs a secret notebook URL with the container's token, the DNS name and SSH command", async () => {
    const out = run.result;
    const container = only(rs, T.container).inputs;
    const token = (container.envs as string[])[0].replace("JUPYTER_TOKEN=", "");
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(only(rs, T.token).inputs).toMatchObject({ length: 48, special: false });
    expect(await promiseOf(out.notebookUrl)).toBe(
      `http://${mockFloatingIp}:9443/lab?token=${token}`,
    );
    expect(await isSecret(out.notebookUrl)).toBe(true);
    expect(await isSecret(out.sshPrivateKey)).toBe(true);
    expect(await isSecret(out.publicIp)).toBe(false);
    expect(await promiseOf(out.publicIp)).toBe(mockFloatingIp);
    expect(await promiseOf(out.hostname)).toBe("hpc-alice.cis230000.projects.jetstream-cloud.org");
    expect(await promiseOf(out.sshCommand)).toBe(`ssh -i hpc-alice.key ubuntu@${mockFloatingIp}`);
    expect(await promiseOf(out.imageRef)).toBe(imageRef);
    expect([out.student, out.workshop, out.expires, out.target]).toEqual([
      "alice",
      "hpc",
      "2030-03-05",
      "jetstream",
    ]);
  });

  async function idOf(type: string): Promise<string> {
    // Ids are assigned by the mocks in registration order: read one back from a consumer.
    const r = only(rs, type);
    const consumers: Record<string, () => unknown> = {
      [T.sg]: () => (only(rs, T.port).inputs.securityGroupIds as string[])[0],
      [T.port]: () => only(rs, T.fipAssoc).inputs.portId,
      [T.instance]: () => (only(rs, T.gate).inputs.triggers as string[])[0],
    };
    const value = String(consumers[type]());
    expect(value.startsWith(id(r))).toBe(true);
    return Promise.resolve(value);
  }
});

describe("a jetstream student stack behind HTTPS (the default)", () => {
  let run: Awaited<ReturnType<typeof program>>;
  let rs: Recorded[];
  beforeEach(async () => {
    run = await program(student);
    rs = run.resources;
  });
  const proxyResource = (type: string) =>
    only(
      rs.filter((r) => r.parent === `${T.proxy}::hpc-alice-https`),
      type,
    );

  test("opens 80 and 443 to notebookCidr and SSH to sshCidr, and not the notebook's port", () => {
    const rules = rs
      .filter((r) => r.type === T.rule)
      .map((r) => [r.name, r.inputs.portRangeMin, r.inputs.portRangeMax, r.inputs.remoteIpPrefix]);
    expect(rules).toEqual([
      ["hpc-alice-ssh", 22, 22, "203.0.113.7/32"],
      ["hpc-alice-port-80", 80, 80, "192.0.2.0/24"],
      ["hpc-alice-port-443", 443, 443, "192.0.2.0/24"],
    ]);
  });

  test("publishes the notebook on no host port: only the proxy reaches it, on its network", () => {
    const notebook = only(rs, T.container, "hpc-alice-notebook").inputs;
    expect(notebook.ports).toEqual([]);
    expect(notebook.networksAdvanced).toEqual([{ name: "hpc-alice-net", aliases: ["notebook"] }]);
    const proxy = proxyResource(T.container).inputs;
    expect(proxy.networksAdvanced).toEqual([{ name: "hpc-alice-net" }]);
    expect(proxy.ports).toEqual([
      { internal: 80, external: 80 },
      { internal: 443, external: 443 },
    ]);
  });

  test("runs Caddy by its registry digest with a certificate for the Jetstream2 name", () => {
    const digest = registryDigest("caddy:2.11.4");
    expect(proxyResource(T.remoteImage).inputs).toMatchObject({ name: `caddy@${digest}` });
    const proxy = proxyResource(T.container).inputs;
    // The container names the image by digest too, so the same tag never rolls it.
    expect(proxy.image).toBe(`caddy@${digest}`);
    const uploads = proxy.uploads as { file: string; content: string }[];
    expect(uploads.map((u) => u.file)).toEqual(["/etc/caddy/Caddyfile"]);
    const caddyfile = uploads[0].content;
    expect(caddyfile).toContain(`\n${hostname} {\n`);
    expect(caddyfile).toContain("\treverse_proxy notebook:8888\n");
    expect(caddyfile).toContain('header Strict-Transport-Security "max-age=31536000"');
    expect(caddyfile).not.toContain("tls internal");
  });

  test("the proxy runs on the VM's engine after the gate and the notebook, deleted with the VM", () => {
    const children = rs.filter((r) => r.parent === `${T.proxy}::hpc-alice-https`);
    expect(children.map((r) => r.type).sort()).toEqual(
      [T.container, T.remoteImage, T.volume, T.volume].sort(),
    );
    for (const r of children) {
      expect({
        r: k(r),
        provider: r.provider,
        dependsOn: r.dependsOn,
        deletedWith: r.deletedWith,
      }).toEqual({
        r: k(r),
        provider: `${T.provider}::hpc-alice-engine`,
        dependsOn: [`${T.gate}::hpc-alice-ready`, `${T.container}::hpc-alice-notebook`],
        deletedWith: `${T.instance}::hpc-alice-vm`,
      });
    }
  });

  test("reports an https URL, a secret, only after DNS points at the VM and HTTPS is trusted", async () => {
    const out = run.result;
    const token = (only(rs, T.container, "hpc-alice-notebook").inputs.envs as string[])[0].replace(
      "JUPYTER_TOKEN=",
      "",
    );
    expect(await promiseOf(out.notebookUrl)).toBe(`https://${hostname}/lab?token=${token}`);
    expect(await isSecret(out.notebookUrl)).toBe(true);
    expect(await promiseOf(out.hostname)).toBe(hostname);
    expect(network).toEqual([
      { kind: "resolve", hostname },
      { kind: "probe", hostname },
    ]);
  });

  test("self-signed: Caddy's internal CA, and readiness checks the name, not the issuer", async () => {
    // Caddy's internal CA: no browser (and no probe) trusts the chain, but it names the host.
    network.length = 0;
    const selfSigned = await program(
      { ...student, tls: "self-signed" },
      { httpsReadiness: answeringNetwork(mockFloatingIp, network, { trusted: false }) },
    );
    const proxy = only(
      selfSigned.resources.filter((r) => r.parent === `${T.proxy}::hpc-alice-https`),
      T.container,
    ).inputs;
    expect((proxy.uploads as { content: string }[])[0].content).toContain("\ttls internal\n");
    expect(await promiseOf(selfSigned.result.notebookUrl)).toMatch(
      new RegExp(`^https://${hostname.replace(/\./g, "\\.")}/lab\\?token=[0-9a-zA-Z]{48}$`),
    );
    expect(network.map((c) => c.kind)).toEqual(["resolve", "probe"]);
  });

  test("Let's Encrypt staging for rehearsals: the ACME CA goes into the Caddyfile", async () => {
    const staging = "https://acme-staging-v02.api.letsencrypt.org/directory";
    const rehearsal = await program({ ...student, acmeCa: staging, acmeEmail: "me@example.edu" });
    const proxy = only(
      rehearsal.resources.filter((r) => r.parent === `${T.proxy}::hpc-alice-https`),
      T.container,
    ).inputs;
    const caddyfile = (proxy.uploads as { content: string }[])[0].content;
    expect(caddyfile).toContain(`acme_ca ${staging}`);
    expect(caddyfile).toContain("email me@example.edu");
  });
});

describe("jetstream variants", () => {
  test("without an allocation the hostname is empty; with the student's own key, ssh uses it", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIInstructor me@laptop";
    const run = await program({ ...plainStudent, allocation: undefined, sshPublicKey: key });
    expect(await promiseOf(run.result.hostname)).toBe("");
    expect(await promiseOf(run.result.sshCommand)).toBe(`ssh ubuntu@${mockFloatingIp}`);
    expect(String(only(run.resources, T.instance).inputs.userData)).toContain(
      `ssh_authorized_keys:\n  - ${JSON.stringify(key)}\n`,
    );
  });

  test("SSH opens to the world only when sshCidr says so", async () => {
    const run = await program({ ...plainStudent, sshCidr: "0.0.0.0/0" });
    expect(only(run.resources, T.rule, "hpc-alice-ssh").inputs.remoteIpPrefix).toBe("0.0.0.0/0");
  });

  test("takes the image from the instructor's stack", async () => {
    const run = await program(
      { ...plainStudent, image: undefined, imageStack: "instructor" },
      { stackOutputs: { instructor: { imageRef } } },
    );
    expect(only(run.resources, T.remoteImage).inputs.name).toBe(imageRef);
    expect(await promiseOf(run.result.imageRef)).toBe(imageRef);
  });

  test("refuses an instructor stack whose imageRef is not pinned by digest", async () => {
    // Checked inside the apply that hands the reference on (a failed apply fails the deployment).
    const { checkStackImageRef } = await import("../program");
    expect(() =>
      checkStackImageRef("docker.io/instructor/jupyter-notebook:1.0", "instructor"),
    ).toThrow(
      '[imageStack] stack "instructor" must output imageRef pinned by digest (repo@sha256:...), got "docker.io/instructor/jupyter-notebook:1.0"',
    );
    expect(() => checkStackImageRef(undefined, "instructor")).toThrow("got undefined");
    expect(checkStackImageRef(imageRef, "instructor")).toBe(imageRef);
  });

  test("the instructor's stack builds for amd64 and pushes with a secret token, labelled per commit", async () => {
    const run = await program(
      {
        ...plainStudent,
        image: undefined,
        buildImage: "true",
        dockerHubUser: "instructor",
        dockerHubToken: "[secret]",
        imageTag: "2030.3",
      },
      { dockerHubToken: "dckr_pat_example" },
    );
    const image = only(run.resources, T.dockerImage);
    expect(image.parent).toBe(`${T.image}::hpc-alice`);
    expect(image.inputs).toEqual({
      imageName: "docker.io/instructor/jupyter-notebook:2030.3",
      build: {
        context: path.resolve(__dirname, "..", "docker"),
        dockerfile: "Dockerfile",
        args: { VERSION: "2030.3", REVISION: "abc123", CREATED: "2030-02-01T10:00:00Z" },
        platform: "linux/amd64",
      },
      // Nothing is built (or pushed) by a preview.
      buildOnPreview: false,
      skipPush: false,
      registry: { server: "docker.io", username: "instructor", password: "dckr_pat_example" },
    });
    expect(image.secretInputs).toEqual(new Set(["registry"]));
    const pushed = `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("docker.io/instructor/jupyter-notebook:2030.3")}`;
    expect(await promiseOf(run.result.imageRef)).toBe(pushed);
    expect(only(run.resources, T.remoteImage).inputs.name).toBe(pushed);
  });
});

describe("a preview of a new jetstream stack (nothing exists, so no IP)", () => {
  let run: Awaited<ReturnType<typeof program>>;
  beforeEach(async () => {
    run = await program(student, { preview: true });
  });

  test("declares the same resources as an up (the HTTPS proxy included) and does not throw", () => {
    expect(run.resources).toHaveLength(25);
    // A preview neither waits for DNS nor probes HTTPS.
    expect(network).toEqual([]);
  });

  test("leaves everything that needs the VM unknown, and writes no key files", async () => {
    const out: NotebookStackOutputs = run.result;
    const unknown: [string, pulumi.Output<string>][] = [
      ["notebookUrl", out.notebookUrl],
      ["publicIp", out.publicIp],
      ["sshCommand", out.sshCommand],
    ];
    for (const [name, o] of unknown)
      expect({ name, known: await isKnown(o) }).toEqual({ name, known: false });
    // The DNS name needs only names, so a preview already shows it.
    expect(await promiseOf(out.hostname)).toBe("hpc-alice.cis230000.projects.jetstream-cloud.org");
    expect(fs.readdirSync(tmp)).toEqual([]);
    const provider = only(run.resources, T.provider).inputs;
    // How the mock monitor receives a provider input that is unknown.
    expect(provider.host).toEqual({ __pulumiUnknown: true });
    expect(provider.sshOpts).toEqual({ __pulumiUnknown: true });
  });

  test("never interpolates an unknown into a string", () => {
    const strings: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === "string") strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    run.resources.forEach((r) => walk(r.inputs));
    expect(
      strings.filter((s) => /undefined|\[object Object\]|Calling \[toString\]/.test(s)),
    ).toEqual([]);
  });
});

describeWithTool(
  "the user data the program renders",
  "cloud-init",
  hasCommand("cloud-init"),
  () => {
    test("passes `cloud-init schema`", async () => {
      const run = await program(student);
      const file = path.join(tmp, "user-data.yaml");
      fs.writeFileSync(file, String(only(run.resources, T.instance).inputs.userData));
      const r = await exec("cloud-init", ["schema", "--config-file", file]);
      expect({ code: r.code, out: r.stdout.trim() }).toEqual({
        code: 0,
        out: expect.stringContaining("Valid cloud-config") as string,
      });
    });
  },
);
