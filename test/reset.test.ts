/**
 * `workshop reset --token` on the real engine: the local program is declared twice under mocks,
 * before and after the reset (resetGeneration and tokenGeneration counted up), and both container
 * specs are run as the engine would replace one (deleteBeforeReplace: the old container goes, the
 * new one starts) on the one volume both declare. A file the student wrote survives; the new token
 * opens it and the old one no longer does.
 */
import * as os from "node:os";
import {
  dockerNetworkArgs,
  dockerRunArgs,
  dockerVolumeArgs,
  type ContainerSpec,
  type NetworkSpec,
  type VolumeSpec,
} from "./support/dockerRun";
import { only, promiseOf, runMocked, type Recorded } from "./mocks";
import {
  describeWithDocker,
  docker,
  freePort,
  imageBuildTimeoutMs,
  notebookImage,
  removeContainer,
  removeNetwork,
  removeVolume,
  waitForHealthy,
} from "./support/docker";
import { httpGet, jupyterApi, waitForHttp } from "./support/jupyter";

interface Declared {
  container: ContainerSpec;
  containerOpts: Recorded;
  volume: VolumeSpec;
  network: NetworkSpec;
  url: string;
}

describeWithDocker("reset on the real engine", () => {
  const student = `reset-${Math.random().toString(36).slice(2, 8)}`;
  let before: Declared;
  let after: Declared;

  async function declare(imageId: string, port: number, generation: string): Promise<Declared> {
    const run = await runMocked(
      async () => {
        const { parseStackConfig } = await import("../lib/config");
        const { notebookStack } = await import("../program");
        const cfg = parseStackConfig(
          {
            target: "local",
            workshop: "jn-reset",
            student,
            buildImage: "true",
            notebookPort: String(port),
            resetGeneration: generation,
            tokenGeneration: generation,
          },
          { stackName: student, now: new Date() },
        );
        return notebookStack(cfg, { localCpus: os.availableParallelism() });
      },
      { localImageId: imageId },
    );
    const containerOpts = only(run.resources, "docker:index/container:Container");
    return {
      container: containerOpts.inputs as unknown as ContainerSpec,
      containerOpts,
      volume: only(run.resources, "docker:index/volume:Volume").inputs as unknown as VolumeSpec,
      network: only(run.resources, "docker:index/network:Network").inputs as unknown as NetworkSpec,
      url: await promiseOf(run.result.notebookUrl),
    };
  }

  beforeAll(async () => {
    const imageId = await notebookImage();
    const port = await freePort();
    before = await declare(imageId, port, "0");
    after = await declare(imageId, port, "1");
  }, imageBuildTimeoutMs);

  afterAll(async () => {
    if (after) await removeContainer(after.container.name);
    if (before) {
      await removeContainer(before.container.name);
      await removeVolume(before.volume.name);
      await removeNetwork(before.network.name);
    }
  });

  async function start(spec: ContainerSpec): Promise<void> {
    const run = dockerRunArgs(spec);
    await docker(run.args);
    await waitForHealthy(spec.name, (run.healthTimeoutSeconds ?? 60) * 1000);
  }

  test("a file in the volume survives the replaced container; only the new token opens it", async () => {
    // What the reset changes is the container (and its token), never the volume or network.
    expect(after.volume).toEqual(before.volume);
    expect(after.network).toEqual(before.network);
    expect(after.containerOpts.deleteBeforeReplace).toBe(true);
    expect(after.containerOpts.replacementTrigger).toBe("1");
    expect(after.url).not.toBe(before.url);

    await docker(dockerNetworkArgs(before.network));
    await docker(dockerVolumeArgs(before.volume));
    await start(before.container);
    const base = `${new URL(before.url).origin}/`;
    const oldToken = new URL(before.url).searchParams.get("token") ?? "";
    await waitForHttp(before.url, {}, 60_000);
    const content = `written before the reset ${new Date().toISOString()}\n`;
    await jupyterApi(base, oldToken, "PUT", "/api/contents/work/kept.txt", {
      type: "file",
      format: "text",
      content,
    });

    // The engine's replacement, delete before create: the same name and host port.
    await removeContainer(before.container.name);
    await start(after.container);
    const newToken = new URL(after.url).searchParams.get("token") ?? "";
    await waitForHttp(after.url, {}, 60_000);
    const file = await jupyterApi<{ content: string }>(
      base,
      newToken,
      "GET",
      "/api/contents/work/kept.txt?content=1&type=file&format=text",
    );
    expect(file.content).toBe(content);
    const stale = await httpGet(`${base}api/contents/work/kept.txt`, {
      Authorization: `token ${oldToken}`,
    });
    expect(stale.status).toBe(403);
  });
});
