/**
 * Translates the inputs a program gives docker.Container, docker.Volume and docker.Network into
 * `docker` CLI arguments, so the exact spec a stack declares can be run on a real engine without a
 * second, hand-written copy of it (the local spec test and the TLS proxy engine test do this).
 * Every input is either translated or refused: a field added to the container later cannot be
 * silently left out. What cannot run as recorded (a registry digest, host ports 80 and 443) is
 * swapped by the caller in the spec before translating, so the swap is visible where it is made.
 */

/** What docker.Container inputs look like once resolved (the subset this project uses). */
export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image's CMD: appended after the image. */
  command?: string[];
  envs?: string[];
  ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
  mounts?: { type: string; source?: string; target: string; readOnly?: boolean }[];
  /** Named volumes only (no hostPath, no fromContainer). */
  volumes?: { volumeName: string; containerPath: string; readOnly?: boolean }[];
  /** Files the provider writes into the created container before starting it (text content only). */
  uploads?: { file: string; content: string }[];
  networksAdvanced?: { name: string; aliases?: string[] }[];
  restart?: string;
  /** The provider's own check that the container is running after creation: no docker argument. */
  mustRun?: boolean;
  wait?: boolean;
  waitTimeout?: number;
  destroyGraceSeconds?: number;
  memory?: number;
  memorySwap?: number;
  cpus?: string;
  ulimits?: { name: string; soft: number; hard: number }[];
  capabilities?: { adds?: string[]; drops?: string[] };
  securityOpts?: string[];
  logDriver?: string;
  logOpts?: Record<string, string>;
  labels?: { label: string; value: string }[];
}

export interface DockerRun {
  /** Arguments after `docker`: `run --detach ...` (or `create ...` from dockerCreateArgs). */
  args: string[];
  /** Seconds to wait for the health check to pass (the provider's `wait`), or undefined. */
  healthTimeoutSeconds?: number;
  /** Seconds `docker stop` should give the container (the provider's destroyGraceSeconds). */
  stopTimeoutSeconds?: number;
}

export interface DockerCreate extends DockerRun {
  /**
   * Files to copy into the container (`docker cp`) after `docker create` and before `docker start`,
   * as the provider's `uploads` does.
   */
  uploads: { file: string; content: string }[];
}

const handled = new Set<keyof ContainerSpec>([
  "name",
  "image",
  "command",
  "envs",
  "ports",
  "mounts",
  "volumes",
  "uploads",
  "networksAdvanced",
  "restart",
  "mustRun",
  "wait",
  "waitTimeout",
  "destroyGraceSeconds",
  "memory",
  "memorySwap",
  "cpus",
  "ulimits",
  "capabilities",
  "securityOpts",
  "logDriver",
  "logOpts",
  "labels",
]);

function refuseUnknown(kind: string, spec: object, known: ReadonlySet<string>): void {
  const unknown = Object.keys(spec).filter(
    (k) => !known.has(k) && (spec as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown.length > 0) {
    throw new Error(`${kind} inputs not translated to docker arguments: ${unknown.join(", ")}`);
  }
}

/**
 * `docker run` for a container spec; throws on an input it does not know how to translate, and on
 * uploads (they must be copied in before the container starts: use dockerCreateArgs).
 */
export function dockerRunArgs(spec: ContainerSpec): DockerRun {
  if ((spec.uploads ?? []).length > 0) {
    throw new Error("docker run cannot upload files before the start; use dockerCreateArgs");
  }
  return translate(spec, ["run", "--detach"]);
}

/**
 * `docker create` for a container spec, and the uploads to copy in before `docker start`; throws on
 * an input it does not know how to translate.
 */
export function dockerCreateArgs(spec: ContainerSpec): DockerCreate {
  const uploads = (spec.uploads ?? []).map((u) => {
    refuseUnknown("docker.Container uploads", u, new Set(["file", "content"]));
    return { file: u.file, content: u.content };
  });
  return { ...translate(spec, ["create"]), uploads };
}

function translate(spec: ContainerSpec, verb: string[]): DockerRun {
  refuseUnknown("docker.Container", spec, handled);
  const a: string[] = [...verb, "--name", spec.name];
  for (const e of spec.envs ?? []) a.push("--env", e);
  for (const p of spec.ports ?? []) {
    const host = [p.ip, p.external].filter((x) => x !== undefined && x !== "").join(":");
    a.push("--publish", `${host ? `${host}:` : ""}${p.internal}/${p.protocol ?? "tcp"}`);
  }
  for (const m of spec.mounts ?? []) {
    const parts = [`type=${m.type}`];
    if (m.source) parts.push(`source=${m.source}`);
    parts.push(`target=${m.target}`);
    if (m.readOnly) parts.push("readonly");
    a.push("--mount", parts.join(","));
  }
  for (const v of spec.volumes ?? []) {
    refuseUnknown(
      "docker.Container volumes",
      v,
      new Set(["volumeName", "containerPath", "readOnly"]),
    );
    a.push("--volume", `${v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
  }
  const networks = spec.networksAdvanced ?? [];
  if (networks.length > 1) throw new Error("docker run joins one network; connect the rest after");
  for (const n of networks) {
    a.push("--network", n.name);
    for (const alias of n.aliases ?? []) a.push("--network-alias", alias);
  }
  if (spec.restart) a.push("--restart", spec.restart);
  if (spec.memory !== undefined) a.push("--memory", `${spec.memory}m`);
  if (spec.memorySwap !== undefined) a.push("--memory-swap", `${spec.memorySwap}m`);
  if (spec.cpus !== undefined) a.push("--cpus", spec.cpus);
  for (const u of spec.ulimits ?? []) a.push("--ulimit", `${u.name}=${u.soft}:${u.hard}`);
  for (const c of spec.capabilities?.drops ?? []) a.push("--cap-drop", c);
  for (const c of spec.capabilities?.adds ?? []) a.push("--cap-add", c);
  for (const s of spec.securityOpts ?? []) a.push("--security-opt", s);
  if (spec.logDriver) a.push("--log-driver", spec.logDriver);
  for (const [k, v] of Object.entries(spec.logOpts ?? {})) a.push("--log-opt", `${k}=${v}`);
  for (const l of spec.labels ?? []) a.push("--label", `${l.label}=${l.value}`);
  if (spec.destroyGraceSeconds !== undefined) {
    a.push("--stop-timeout", String(spec.destroyGraceSeconds));
  }
  a.push(spec.image, ...(spec.command ?? []));
  return {
    args: a,
    healthTimeoutSeconds: spec.wait ? (spec.waitTimeout ?? 60) : undefined,
    stopTimeoutSeconds: spec.destroyGraceSeconds,
  };
}

export interface VolumeSpec {
  name: string;
  driver?: string;
  labels?: { label: string; value: string }[];
}

/** `docker volume create` for a volume spec. */
export function dockerVolumeArgs(spec: VolumeSpec): string[] {
  refuseUnknown("docker.Volume", spec, new Set(["name", "driver", "labels"]));
  const a = ["volume", "create"];
  if (spec.driver) a.push("--driver", spec.driver);
  for (const l of spec.labels ?? []) a.push("--label", `${l.label}=${l.value}`);
  a.push(spec.name);
  return a;
}

export interface NetworkSpec {
  name: string;
  driver?: string;
  labels?: { label: string; value: string }[];
}

/** `docker network create` for a network spec. */
export function dockerNetworkArgs(spec: NetworkSpec): string[] {
  refuseUnknown("docker.Network", spec, new Set(["name", "driver", "labels"]));
  const a = ["network", "create"];
  if (spec.driver) a.push("--driver", spec.driver);
  for (const l of spec.labels ?? []) a.push("--label", `${l.label}=${l.value}`);
  a.push(spec.name);
  return a;
}
