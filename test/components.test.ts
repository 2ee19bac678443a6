/**
 * Each component on its own, under mocks: what a caller can rely on beyond what the whole-program
 * tests show (an unpublished notebook for a proxy, image build options, the VM's outputs).
 */
import { notebookHome } from "../lib/notebookHome";
import { fakeKeyPair, isSecret, mockFloatingIp, only, promiseOf, runMocked } from "./mocks";

const imageRef = `docker.io/instructor/jupyter-notebook@sha256:${"f".repeat(64)}`;

describe("NotebookServer", () => {
  test("without publish: no host port, reachable as `notebook` on its network (for a proxy)", async () => {
    const run = await runMocked(async () => {
      const { NotebookServer } = await import("../components");
      const s = new NotebookServer("nb", {
        image: imageRef,
        pull: true,
        limits: { memoryMb: 1000 },
        names: { container: "c", volume: "v", network: "n" },
        labels: { team: "a" },
      });
      return { hostPort: s.hostPort, network: s.networkName, provider: s.provider, token: s.token };
    });
    const c = only(run.resources, "docker:index/container:Container");
    expect(c.name).toBe("nb-notebook");
    expect(c.inputs).toMatchObject({
      name: "c",
      ports: [],
      networksAdvanced: [{ name: "n", aliases: ["notebook"] }],
      mounts: [{ type: "volume", source: "v", target: notebookHome }],
      labels: [{ label: "team", value: "a" }],
      memory: 1000,
      ulimits: [],
    });
    expect(c.inputs.cpus).toBeUndefined();
    expect(await promiseOf(run.result.hostPort)).toBeUndefined();
    expect(await promiseOf(run.result.network)).toBe("n");
    expect(await isSecret(run.result.token)).toBe(true);
    // Resources a caller adds beside the notebook can use the same engine.
    expect(c.provider).toBe("pulumi:providers:docker::nb-engine");
    // Not retained unless asked: retention is the caller's decision (the local target asks).
    expect(only(run.resources, "docker:index/volume:Volume").retainOnDelete).toBe(false);
  });
});

describe("JupyterImage", () => {
  test("builds docker/ by default; honours a platform and a partial set of labels; keeps the password secret", async () => {
    const run = await runMocked(async () => {
      const { JupyterImage } = await import("../components");
      const i = new JupyterImage("img", {
        repository: "registry.example.org/team/nb",
        tag: "1.2.3",
        platform: "linux/arm64",
        push: { server: "registry.example.org", username: "u", password: "plain-in-code" },
        labels: { revision: "r1" },
      });
      return { ref: i.imageRef, name: i.imageName };
    });
    const image = only(run.resources, "docker:index/image:Image");
    expect(image.inputs).toEqual({
      imageName: "registry.example.org/team/nb:1.2.3",
      build: {
        // docker/ with an empty course staged in (lib/imageBuild.ts).
        context: expect.stringMatching(/jetstream-notebooks-image-[0-9a-f]{20}$/) as unknown,
        dockerfile: "Dockerfile",
        args: { VERSION: "1.2.3", REVISION: "r1", COURSE_NAME: "course" },
        platform: "linux/arm64",
      },
      buildOnPreview: false,
      skipPush: false,
      registry: { server: "registry.example.org", username: "u", password: "plain-in-code" },
    });
    // Secret even when the caller passed a plain string.
    expect(image.secretInputs).toEqual(new Set(["registry"]));
    expect(await promiseOf(run.result.ref)).toMatch(
      /^registry\.example\.org\/team\/nb@sha256:[0-9a-f]{64}$/,
    );
    expect(await promiseOf(run.result.name)).toBe("registry.example.org/team/nb:1.2.3");
  });
});

describe("JetstreamVm", () => {
  test("outputs the address, the login user and keys, the private one secret", async () => {
    const run = await runMocked(async () => {
      const { JetstreamVm } = await import("../components");
      const vm = new JetstreamVm("ws-bob", {
        workshop: "ws",
        student: "bob",
        expires: "2030-01-02",
        flavor: "m3.tiny",
        vmImage: "Featured-Ubuntu24",
        network: "net-a",
        floatingIpPool: "public",
        sshCidr: "198.51.100.0/24",
        notebookCidr: "0.0.0.0/0",
        publicPorts: [8888],
        imageRef,
      });
      return {
        ip: vm.publicIp,
        user: vm.user,
        name: vm.instanceName,
        key: vm.sshPrivateKey,
        host: vm.hostPublicKey,
      };
    });
    const out = run.result;
    expect(await promiseOf(out.ip)).toBe(mockFloatingIp);
    expect(await promiseOf(out.user)).toBe("ubuntu");
    expect(await promiseOf(out.name)).toBe("ws-bob");
    expect(await isSecret(out.key)).toBe(true);
    expect(await promiseOf(out.key)).toBe(fakeKeyPair("ws-bob-login").privateKeyOpenssh);
    expect(await promiseOf(out.host)).toBe(fakeKeyPair("ws-bob-host").publicKeyOpenssh.trim());
    const userData = String(
      only(run.resources, "openstack:compute/instance:Instance").inputs.userData,
    );
    expect(userData).not.toContain("ssh_authorized_keys");
    expect(only(run.resources, "openstack:networking/port:Port").inputs.networkId).toBe(
      "net-net-a",
    );
    // Both keys are ed25519, generated per stack.
    for (const k of run.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey")) {
      expect(k.inputs).toEqual({ algorithm: "ED25519" });
    }
  });
});
