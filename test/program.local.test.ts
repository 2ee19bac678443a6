/**
 * The whole program for target local (what `npm start` runs), under mocks.
 */
import { notebookHome } from "../lib/notebookHome";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RawConfig } from "../lib/config";
import { version } from "../package.json";
import { inventory, isSecret, only, promiseOf, runMocked, type Recorded } from "./mocks";

const localId = `sha256:${"d".repeat(64)}`;

async function program(raw: RawConfig, localCpus?: number) {
  return runMocked(
    async () => {
      const { parseStackConfig } = await import("../lib/config");
      const { notebookStack } = await import("../program");
      const cfg = parseStackConfig(raw, { stackName: "dev", now: new Date("2030-01-01") });
      return notebookStack(cfg, { localCpus });
    },
    { localImageId: localId, stack: "dev" },
  );
}

const T = {
  image: "jetstream-notebooks:image:JupyterImage",
  dockerImage: "docker:index/image:Image",
  server: "jetstream-notebooks:notebook:NotebookServer",
  provider: "pulumi:providers:docker",
  token: "random:index/randomPassword:RandomPassword",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  container: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
} as const;

describe("the local dev stack (build, run on this engine)", () => {
  let rs: Recorded[];
  let run: Awaited<ReturnType<typeof program>>;
  beforeAll(async () => {
    run = await program({ target: "local", student: "dev", buildImage: "true" }, 8);
    rs = run.resources;
  });

  test("declares the image build and the notebook, nothing in any cloud", () => {
    expect(inventory(rs)).toEqual({
      [T.image]: 1,
      [T.dockerImage]: 1,
      [T.server]: 1,
      [T.provider]: 1,
      [T.token]: 1,
      [T.volume]: 1,
      [T.network]: 1,
      [T.container]: 1,
    });
    expect(run.calls).toEqual([]);
  });

  test("builds docker/ with the course/ folder staged in, locally without pushing, with no per-run build args", () => {
    const image = only(rs, T.dockerImage);
    expect(image.parent).toBe(`${T.image}::workshop-dev`);
    // VERSION only: a REVISION or CREATED that changed per run would rebuild, and roll, every time.
    expect(image.inputs).toEqual({
      imageName: `jupyter-notebook:${version}`,
      build: {
        context: expect.stringMatching(/jetstream-notebooks-image-[0-9a-f]{20}$/) as unknown,
        dockerfile: "Dockerfile",
        args: { VERSION: version, COURSE_NAME: "course" },
      },
      buildOnPreview: false,
      skipPush: true,
    });
  });

  test("the staged context holds the course/ folder, so npm start shows the example course", () => {
    const build = only(rs, T.dockerImage).inputs.build as { context: string };
    const staged = (rel: string) => fs.readFileSync(path.join(build.context, rel), "utf8");
    expect(staged("course/apt.txt")).toBe(
      fs.readFileSync(path.join(__dirname, "..", "course", "apt.txt"), "utf8"),
    );
    expect(staged("course/materials.sha256")).toContain("  ./01-first-look.ipynb\n");
  });

  test("runs the built image by id on the local engine, on 127.0.0.1 only", () => {
    const c = only(rs, T.container);
    expect(c.inputs.image).toBe(localId);
    expect(c.inputs.ports).toEqual([
      { internal: 8888, external: 8888, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(c.provider).toBe(`${T.provider}::workshop-dev-engine`);
    expect(c.dependsOn).toEqual([]);
    expect(c.deletedWith).toBeUndefined();
    // The local engine: whatever DOCKER_HOST (or the default socket) says.
    expect(only(rs, T.provider).inputs).toEqual({});
  });

  test("keeps the work volume when the stack is destroyed, under a stable name", () => {
    const v = only(rs, T.volume);
    expect(v.retainOnDelete).toBe(true);
    expect(v.inputs).toEqual({
      name: "workshop-dev-work",
      driver: "local",
      labels: [
        { label: "org.jetstream-notebooks.workshop", value: "workshop" },
        { label: "org.jetstream-notebooks.student", value: "dev" },
      ],
    });
    expect(only(rs, T.container).inputs.mounts).toEqual([
      { type: "volume", source: "workshop-dev-work", target: notebookHome },
    ]);
  });

  test("limits memory and CPU from the flavor, and leaves out the per-uid process limit", () => {
    expect(only(rs, T.container).inputs).toMatchObject({
      memory: 5120,
      memorySwap: 5120,
      cpus: "1.5",
      ulimits: [],
    });
  });

  test("outputs a secret 127.0.0.1 URL with the container's token", async () => {
    const out = run.result;
    const envs = only(rs, T.container).inputs.envs as string[];
    const token = envs[0].replace("JUPYTER_TOKEN=", "");
    expect(envs).toEqual([`JUPYTER_TOKEN=${token}`, "JUPYTER_PORT=8888"]);
    expect(await promiseOf(out.notebookUrl)).toBe(`http://127.0.0.1:8888/lab?token=${token}`);
    expect(await isSecret(out.notebookUrl)).toBe(true);
    expect(only(rs, T.container).secretInputs).toEqual(new Set(["envs"]));
    expect(await promiseOf(out.publicIp)).toBe("127.0.0.1");
    expect(await promiseOf(out.hostname)).toBe("");
    expect(await promiseOf(out.sshCommand)).toBe("");
    expect(await promiseOf(out.imageRef)).toBe(localId);
    expect(await promiseOf(out.volumeName)).toBe("workshop-dev-work");
    expect([await promiseOf(out.sshUser), await promiseOf(out.sshHostPublicKey)]).toEqual(["", ""]);
    expect([out.target, out.student, out.workshop, out.expires]).toEqual([
      "local",
      "dev",
      "workshop",
      "",
    ]);
  });
});

describe("local variants", () => {
  test("a machine with fewer CPUs than the flavor caps the CPU limit", async () => {
    const run = await program({ buildImage: "true", flavor: "m3.quad" }, 2);
    expect(only(run.resources, T.container).inputs.cpus).toBe("2");
  });

  test("a digest-pinned image is pulled instead of built, and run by its id", async () => {
    const ref = `docker.io/instructor/jupyter-notebook@sha256:${"e".repeat(64)}`;
    const run = await program({ image: ref, notebookPort: "18888" });
    expect(inventory(run.resources)[T.dockerImage]).toBeUndefined();
    const pulled = only(run.resources, T.remoteImage);
    expect(pulled.inputs).toEqual({ name: ref, keepLocally: true });
    const c = only(run.resources, T.container).inputs;
    expect(c.image).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(c.ports).toEqual([
      { internal: 8888, external: 18888, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(await promiseOf(run.result.notebookUrl)).toMatch(
      /^http:\/\/127\.0\.0\.1:18888\/lab\?token=[0-9a-f]{48}$/,
    );
  });
});

describe("names on the one local engine every local stack shares", () => {
  const namesOf = async (raw: RawConfig) => {
    const { resources } = await program({ target: "local", buildImage: "true", ...raw });
    return [T.volume, T.container, T.network].map((t) => only(resources, t).inputs.name as string);
  };

  test("two workshops of one name under different stack prefixes never share a volume", async () => {
    const fall = await namesOf({ workshop: "intro", student: "ada", stackPrefix: "fall" });
    const spring = await namesOf({ workshop: "intro", student: "ada", stackPrefix: "spring" });
    for (const n of fall) expect(spring).not.toContain(n);
    // Nor do workshop intro-py's ada and workshop intro's py-ada.
    const a = await namesOf({ workshop: "intro-py", student: "ada", stackPrefix: "intro-py" });
    const b = await namesOf({ workshop: "intro", student: "py-ada", stackPrefix: "intro" });
    for (const n of a) expect(b).not.toContain(n);
  });

  test("a stack without stackPrefix, and the usual one-word case, keep the names they always had", async () => {
    const old = ["intro-ada-work", "intro-ada-notebook", "intro-ada-net"];
    expect(await namesOf({ workshop: "intro", student: "ada" })).toEqual(old);
    expect(await namesOf({ workshop: "intro", student: "ada", stackPrefix: "intro" })).toEqual(old);
  });
});
