/**
 * Starting the notebook image the way the stacks run it (hardened, a token, a port on 127.0.0.1) for
 * tests that need several containers and clean them all up afterwards.
 */
import { notebookHome } from "../../lib/notebookHome";
import { docker, exec, freePort, removeContainer, removeVolume, uniqueName } from "./docker";

export const HARDENING = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"];

export interface StartOptions {
  /** Named volume mounted on the notebook user's home. */
  volume?: string;
  /** Mount the volume without Docker's copy of the image's home into it (as a bind mount or a PVC). */
  volumeNoCopy?: boolean;
  /** Port the server listens on inside the container; default 8888. */
  containerPort?: number;
  /** `--user`, such as `4242:100`. */
  user?: string;
  network?: string;
  /** Container name on `network`. */
  alias?: string;
  command?: string[];
}

export interface Started {
  name: string;
  url: string;
  port: number;
}

/** Containers and volumes made by one test file, removed together in its afterAll. */
export class NotebookContainers {
  private readonly containers: string[] = [];
  private readonly volumes: string[] = [];

  constructor(private readonly image: () => string) {}

  /** A volume name that `cleanup` removes. */
  volume(prefix = "jn-img-home"): string {
    const name = uniqueName(prefix);
    this.volumes.push(name);
    return name;
  }

  async start(env: Record<string, string>, opts: StartOptions = {}): Promise<Started> {
    const name = uniqueName("jn-img");
    const port = await freePort();
    this.containers.push(name);
    const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const mount = opts.volume
      ? [
          "--mount",
          `type=volume,source=${opts.volume},target=${notebookHome}${opts.volumeNoCopy ? ",volume-nocopy" : ""}`,
        ]
      : [];
    await docker([
      "run",
      "--detach",
      "--name",
      name,
      ...HARDENING,
      ...(opts.user ? ["--user", opts.user] : []),
      ...(opts.network ? ["--network", opts.network] : []),
      ...(opts.alias ? ["--network-alias", opts.alias] : []),
      ...envArgs,
      ...mount,
      "-p",
      `127.0.0.1:${port}:${opts.containerPort ?? 8888}`,
      this.image(),
      ...(opts.command ?? []),
    ]);
    return { name, url: `http://127.0.0.1:${port}`, port };
  }

  /** Runs `script` in a throwaway container with `volume` at /v, as the notebook user. */
  async inVolume(volume: string, script: string, mountAt = "/v"): Promise<string> {
    return docker([
      "run",
      "--rm",
      ...HARDENING,
      "--mount",
      `type=volume,source=${volume},target=${mountAt}`,
      this.image(),
      "bash",
      "-c",
      script,
    ]);
  }

  /** Every path in the volume with its type (`f`, `d`, `l`), sorted, as `find -printf '%y %P'`. */
  async listVolume(volume: string): Promise<string[]> {
    const out = await this.inVolume(
      volume,
      "cd /v && find . -mindepth 1 -printf '%y %P\\n' | sort",
    );
    return out.split("\n").filter((l) => l !== "");
  }

  async cleanup(): Promise<void> {
    for (const name of this.containers) await removeContainer(name);
    for (const name of this.volumes) await removeVolume(name);
  }
}

/** The container's logs, stdout and stderr together. */
export async function logsOf(container: string): Promise<string> {
  const r = await exec("docker", ["logs", container]);
  return `${r.stdout}${r.stderr}`;
}
