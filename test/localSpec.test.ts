/**
 * What the program declares for target local really runs: the docker.Container (and Volume and
 * Network) inputs recorded under mocks are translated, field by field, into `docker` commands and
 * run on the real engine with the real image. The program's notebookUrl, with the engine's address
 * in place of the mocked host, must open JupyterLab; work written to work/ must survive a second
 * container from the same spec.
 */
import * as os from "node:os";
import {
  dockerCreateArgs,
  dockerNetworkArgs,
  dockerRunArgs,
  dockerVolumeArgs,
  type ContainerSpec,
  type NetworkSpec,
  type VolumeSpec,
} from "./support/dockerRun";
import { only, promiseOf, runMocked } from "./mocks";
import {
  describeWithDocker,
  docker,
  freePort,
  notebookImage,
  publishedPort,
  removeContainer,
  removeNetwork,
  removeVolume,
  waitForHealthy,
  imageBuildTimeoutMs,
} from "./support/docker";
import { httpGet, jupyterApi, runInKernel, waitForHttp } from "./support/jupyter";

describe("the docker argument translator", () => {
  const spec: ContainerSpec = {
    name: "n",
    image: "sha256:abc",
    envs: ["A=1", "B=2"],
    ports: [{ internal: 8888, external: 9000, ip: "127.0.0.1", protocol: "tcp" }],
    mounts: [{ type: "volume", source: "v", target: "/w" }],
    networksAdvanced: [{ name: "net", aliases: ["notebook"] }],
    restart: "unless-stopped",
    wait: true,
    waitTimeout: 90,
    destroyGraceSeconds: 30,
    memory: 5120,
    memorySwap: 5120,
    cpus: "1.5",
    ulimits: [{ name: "nproc", soft: 100, hard: 200 }],
    capabilities: { drops: ["ALL"], adds: ["CHOWN"] },
    securityOpts: ["no-new-privileges:true"],
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
    labels: [{ label: "k", value: "v" }],
  };

  test("translates every field", () => {
    expect(dockerRunArgs(spec)).toEqual({
      args: [
        "run",
        "--detach",
        "--name",
        "n",
        "--env",
        "A=1",
        "--env",
        "B=2",
        "--publish",
        "127.0.0.1:9000:8888/tcp",
        "--mount",
        "type=volume,source=v,target=/w",
        "--network",
        "net",
        "--network-alias",
        "notebook",
        "--restart",
        "unless-stopped",
        "--memory",
        "5120m",
        "--memory-swap",
        "5120m",
        "--cpus",
        "1.5",
        "--ulimit",
        "nproc=100:200",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CHOWN",
        "--security-opt",
        "no-new-privileges:true",
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-size=10m",
        "--log-opt",
        "max-file=3",
        "--label",
        "k=v",
        "--stop-timeout",
        "30",
        "sha256:abc",
      ],
      healthTimeoutSeconds: 90,
      stopTimeoutSeconds: 30,
    });
  });

  test("publishes on every address with no ip, and a random port with no external", () => {
    expect(dockerRunArgs({ name: "n", image: "i", ports: [{ internal: 1 }] }).args).toContain(
      "1/tcp",
    );
    expect(
      dockerRunArgs({ name: "n", image: "i", ports: [{ internal: 1, external: 2 }] }).args,
    ).toContain("2:1/tcp");
  });

  test("refuses inputs it does not translate, so nothing is silently dropped", () => {
    expect(() =>
      dockerRunArgs({ ...spec, privileged: true, shmSize: 64 } as unknown as ContainerSpec),
    ).toThrow("docker.Container inputs not translated to docker arguments: privileged, shmSize");
    expect(() => dockerVolumeArgs({ name: "v", driverOpts: {} } as unknown as VolumeSpec)).toThrow(
      "docker.Volume inputs not translated to docker arguments: driverOpts",
    );
  });

  test("create: the command after the image, named volumes, uploads returned to copy in before start", () => {
    expect(
      dockerCreateArgs({
        name: "p",
        image: "caddy:2",
        command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile"],
        uploads: [{ file: "/etc/caddy/Caddyfile", content: "notebook.test {}\n" }],
        volumes: [
          { volumeName: "data", containerPath: "/data" },
          { volumeName: "config", containerPath: "/config", readOnly: true },
        ],
        ports: [{ internal: 443, external: 8443, ip: "127.0.0.1" }],
        mustRun: true,
        wait: false,
      }),
    ).toEqual({
      args: [
        "create",
        "--name",
        "p",
        "--publish",
        "127.0.0.1:8443:443/tcp",
        "--volume",
        "data:/data",
        "--volume",
        "config:/config:ro",
        "caddy:2",
        "caddy",
        "run",
        "--config",
        "/etc/caddy/Caddyfile",
      ],
      healthTimeoutSeconds: undefined,
      stopTimeoutSeconds: undefined,
      uploads: [{ file: "/etc/caddy/Caddyfile", content: "notebook.test {}\n" }],
    });
    expect(dockerRunArgs({ name: "n", image: "i", command: ["a", "b"] }).args).toEqual([
      "run",
      "--detach",
      "--name",
      "n",
      "i",
      "a",
      "b",
    ]);
  });

  test("run refuses uploads (they must be in place before the start); nested inputs it does not know are refused", () => {
    const upload = { file: "/f", content: "x" };
    expect(() => dockerRunArgs({ name: "n", image: "i", uploads: [upload] })).toThrow(
      "docker run cannot upload files before the start; use dockerCreateArgs",
    );
    expect(dockerRunArgs({ name: "n", image: "i", uploads: [] }).args).toEqual([
      "run",
      "--detach",
      "--name",
      "n",
      "i",
    ]);
    expect(() =>
      dockerCreateArgs({
        name: "n",
        image: "i",
        uploads: [{ ...upload, executable: true } as unknown as typeof upload],
      }),
    ).toThrow("docker.Container uploads inputs not translated to docker arguments: executable");
    expect(() =>
      dockerCreateArgs({
        name: "n",
        image: "i",
        volumes: [
          { volumeName: "", containerPath: "/d", hostPath: "/srv" } as unknown as {
            volumeName: string;
            containerPath: string;
          },
        ],
      }),
    ).toThrow("docker.Container volumes inputs not translated to docker arguments: hostPath");
  });

  test("volumes and networks", () => {
    expect(
      dockerVolumeArgs({ name: "v", driver: "local", labels: [{ label: "a", value: "b" }] }),
    ).toEqual(["volume", "create", "--driver", "local", "--label", "a=b", "v"]);
    expect(dockerNetworkArgs({ name: "n", driver: "bridge" })).toEqual([
      "network",
      "create",
      "--driver",
      "bridge",
      "n",
    ]);
  });
});

describeWithDocker("the local program's container spec on the real engine", () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const workshop = "jn-stack";
  const student = `spec-${suffix}`;
  let container: ContainerSpec;
  let volume: VolumeSpec;
  let network: NetworkSpec;
  let notebookUrl: string;
  let port: number;

  beforeAll(async () => {
    const imageId = await notebookImage();
    port = await freePort();
    const run = await runMocked(
      async () => {
        const { parseStackConfig } = await import("../lib/config");
        const { notebookStack } = await import("../program");
        const cfg = parseStackConfig(
          { target: "local", workshop, student, buildImage: "true", notebookPort: String(port) },
          { stackName: student, now: new Date() },
        );
        // The options index.ts passes for a local stack.
        return notebookStack(cfg, { localCpus: os.availableParallelism() });
      },
      { localImageId: imageId },
    );
    container = only(run.resources, "docker:index/container:Container")
      .inputs as unknown as ContainerSpec;
    volume = only(run.resources, "docker:index/volume:Volume").inputs as unknown as VolumeSpec;
    network = only(run.resources, "docker:index/network:Network").inputs as unknown as NetworkSpec;
    notebookUrl = await promiseOf(run.result.notebookUrl);
    expect(container.image).toBe(imageId);
  }, imageBuildTimeoutMs);

  afterAll(async () => {
    if (container) await removeContainer(container.name);
    if (volume) await removeVolume(volume.name);
    if (network) await removeNetwork(network.name);
  });

  /** Runs the spec and waits as the provider would (wait: true on the health check). */
  async function start(): Promise<string> {
    const run = dockerRunArgs(container);
    await docker(run.args);
    await waitForHealthy(container.name, (run.healthTimeoutSeconds ?? 60) * 1000);
    // The mocked host swapped for the engine's address and the port it really published.
    const url = new URL(notebookUrl);
    url.host = `127.0.0.1:${await publishedPort(container.name, 8888)}`;
    return url.toString();
  }

  test("serves JupyterLab at the program's notebookUrl, token required, kernels run hardened", async () => {
    await docker(dockerNetworkArgs(network));
    await docker(dockerVolumeArgs(volume));
    const url = await start();
    expect(new URL(url).port).toBe(String(port));
    expect(notebookUrl).toBe(url);

    const lab = await waitForHttp(url, {}, 60_000);
    expect(lab.body).toContain("jupyter-config-data");
    const base = `${new URL(url).origin}/`;
    const token = new URL(url).searchParams.get("token") ?? "";
    expect(token).toMatch(/^[0-9A-Za-z]{48}$/);
    expect((await httpGet(`${base}api/contents`)).status).toBe(403);

    const out = await runInKernel(
      base,
      token,
      [
        "import os, pathlib",
        "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines())",
        "mem = pathlib.Path('/sys/fs/cgroup/memory.max')",
        "mem = mem if mem.exists() else pathlib.Path('/sys/fs/cgroup/memory/memory.limit_in_bytes')",
        "print(os.getuid(), status['NoNewPrivs'].strip(), status['CapEff'].strip(), mem.read_text().strip())",
      ].join("\n"),
    );
    expect(out.trim().split(" ")).toEqual([
      "1000",
      "1",
      "0000000000000000",
      String(container.memory! * 1024 * 1024),
    ]);

    const inspect = JSON.parse(await docker(["inspect", container.name])) as {
      HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]> };
    }[];
    expect(inspect[0].HostConfig.PortBindings).toEqual({
      "8888/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }],
    });
  });

  test("work written to work/ survives a second container from the same spec", async () => {
    const base = `${new URL(notebookUrl).origin}/`;
    const token = new URL(notebookUrl).searchParams.get("token") ?? "";
    const content = `written at ${new Date().toISOString()}\n`;
    await jupyterApi(base, token, "PUT", "/api/contents/work/survives.txt", {
      type: "file",
      format: "text",
      content,
    });

    await removeContainer(container.name);
    expect(await docker(["volume", "ls", "--quiet", "--filter", `name=^${volume.name}$`])).toBe(
      volume.name,
    );
    await start();
    const file = await jupyterApi<{ content: string }>(
      base,
      token,
      "GET",
      "/api/contents/work/survives.txt?content=1&type=file&format=text",
    );
    expect(file.content).toBe(content);
  });
});
