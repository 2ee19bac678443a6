import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ContainerLimits } from "../lib/limits";
import { courseDataPath } from "../lib/course";
import { notebookHome } from "../lib/notebookHome";
import { jupyterPort } from "../lib/rules/stack";
import { sshOptions, writeSshIdentity } from "../lib/sshIdentity";

/** The port the image's server listens on inside the container (its JUPYTER_PORT). */
export const containerPort = jupyterPort;
/** The notebook's name on its Docker network, for a proxy in front of it. */
export const networkAlias = "notebook";

/** A Docker engine reached over SSH (a VM's); unset means the local engine. */
export interface RemoteEngine {
  /** Address of the machine, such as a floating IP. */
  host: pulumi.Input<string>;
  /** Login user, a member of the docker group there. */
  user: pulumi.Input<string>;
  /** OpenSSH private key to log in with (a secret). */
  privateKey: pulumi.Input<string>;
  /** The machine's host public key (`ssh-ed25519 ...`): the only key ssh will accept from it. */
  hostPublicKey: pulumi.Input<string>;
  /**
   * The resource whose deletion takes the engine with it (the VM). The notebook's Docker resources
   * are `deletedWith` it: destroying the stack does not reach over SSH into a VM that is going away.
   */
  deletedWith?: pulumi.Resource;
  /**
   * Identifies the machine itself (the VM's instance id). When it changes, the machine was
   * replaced and everything here is created again on the new one: it is a label on the container
   * and network, a trigger of the image pull, and the work volume's replacement trigger.
   */
  machineId?: pulumi.Input<string>;
}

export interface NotebookServerArgs {
  /**
   * The image by content: a digest-pinned reference (`repo@sha256:...`, pulled) or, with `pull`
   * false, a local image id (`sha256:...`). Never a tag: a new digest rolls the container and an
   * unchanged one never does.
   */
  image: pulumi.Input<string>;
  /** Pull `image` through a RemoteImage (digest references); false for a locally built image id. */
  pull: boolean;
  /** The engine to run on; default the local engine (DOCKER_HOST, or the default socket). */
  engine?: RemoteEngine;
  /**
   * Publish the notebook on the engine's host: `hostPort` on `bindAddress`. Default: not published,
   * reachable only on the Docker network (for a proxy in front). Locally use `127.0.0.1`.
   */
  publish?: { hostPort: number; bindAddress: string };
  /** Memory, CPU and process limits; `cpus` and `processes` may be left out (see lib/limits.ts). */
  limits: Partial<Pick<ContainerLimits, "cpus" | "processes">> & Pick<ContainerLimits, "memoryMb">;
  /**
   * Keep the work volume when the stack is destroyed (and when it would be replaced). Default
   * false. Locally true: a teardown never loses work, and the next `up` reattaches the volume by
   * its name.
   */
  retainWorkVolume?: boolean;
  /** Container, volume and network names on the engine; default derived from the component name. */
  names?: { container?: string; volume?: string; network?: string };
  /** Labels on the container, volume and network (such as workshop and student). */
  labels?: Record<string, string>;
  /** How long `up` waits for the image's health check to pass; default 180 s. */
  healthTimeoutSeconds?: number;
  /** Length of the generated token; default 48 (letters and digits). */
  tokenLength?: number;
  /**
   * Shared data mounted read-only where the course's data/ is: a folder on the engine's host
   * (`bind`, a VM's fetched data) or a named volume (`volume`, the local target's).
   */
  dataMount?: { type: "bind" | "volume"; source: pulumi.Input<string> };
  /**
   * Resources every Docker resource here waits for, such as a VM's readiness gate: nothing touches
   * the engine before it is ready.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Reset counters (`workshop reset`): a new `container` replaces the container, on the same
   * volume; a new `token` generates a new token (and so a new container). 0, the default, adds
   * nothing to what is declared, so a stack from before them is not replaced on its next update.
   */
  generations?: { container: number; token: number };
}

/**
 * One student's notebook on a Docker engine: a provider for the engine, the image (pulled by
 * digest, or a local build's id), a named volume on the notebook user's home, a network for a proxy to share, and the
 * container, hardened (capabilities dropped, no-new-privileges), limited, with rotated logs and a
 * generated token.
 */
export class NotebookServer extends pulumi.ComponentResource {
  /** The token the notebook asks for (a secret). */
  public readonly token: pulumi.Output<string>;
  /** The host port the notebook is published on, or undefined when it is not published. */
  public readonly hostPort: pulumi.Output<number | undefined>;
  public readonly containerName: pulumi.Output<string>;
  public readonly volumeName: pulumi.Output<string>;
  /** The Docker network the notebook is on, as `notebook`: a proxy joins it to reach port 8888. */
  public readonly networkName: pulumi.Output<string>;
  /** The engine's provider, for resources a caller adds beside the notebook (a proxy). */
  public readonly provider: docker.Provider;
  /** The notebook container: a proxy in front waits for it (it is healthy once created). */
  public readonly container: docker.Container;

  constructor(name: string, args: NotebookServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("jetstream-notebooks:notebook:NotebookServer", name, {}, opts);

    const engine = args.engine;
    this.provider = new docker.Provider(
      `${name}-engine`,
      engine
        ? {
            host: pulumi.interpolate`ssh://${engine.user}@${engine.host}:22`,
            sshOpts: pulumi
              .all([engine.privateKey, engine.host, engine.hostPublicKey])
              // Writes the key and known_hosts files: runs only once all three are known, so a
              // preview of a VM that does not exist yet writes nothing.
              .apply(([privateKey, host, hostPublicKey]) =>
                sshOptions(writeSshIdentity({ privateKey, host, hostPublicKey })),
              ),
            // Configuring the provider must not dial the VM: a destroy never needs to reach it.
            disableDockerDaemonCheck: true,
          }
        : {},
      { parent: this, dependsOn: args.dependsOn },
    );
    const childOpts: pulumi.CustomResourceOptions = {
      parent: this,
      provider: this.provider,
      dependsOn: args.dependsOn,
      deletedWith: engine?.deletedWith,
    };

    const labels: pulumi.Input<{ label: string; value: pulumi.Input<string> }>[] = Object.entries(
      args.labels ?? {},
    ).map(([label, value]) => ({ label, value }));
    // The volume's labels never change (a change would replace it): no machine id among them.
    const volumeLabels = [...labels];
    if (engine?.machineId !== undefined) {
      labels.push({ label: "org.jetstream-notebooks.machine", value: engine.machineId });
    }

    const generations = args.generations ?? { container: 0, token: 0 };
    const token = new random.RandomPassword(
      `${name}-token`,
      {
        length: args.tokenLength ?? 48,
        special: false,
        // A changed keeper makes a new password; none at 0, so older stacks keep their token.
        ...(generations.token > 0
          ? { keepers: { tokenGeneration: String(generations.token) } }
          : {}),
      },
      { parent: this },
    );

    let imageId: pulumi.Input<string> = args.image;
    if (args.pull) {
      const image = new docker.RemoteImage(
        `${name}-image`,
        // keepLocally: other stacks on the same engine may run the same image.
        {
          name: args.image,
          keepLocally: true,
          triggers: engine?.machineId === undefined ? undefined : { machine: engine.machineId },
        },
        childOpts,
      );
      imageId = image.imageId;
    }

    const volume = new docker.Volume(
      `${name}-work`,
      { name: args.names?.volume ?? `${name}-work`, driver: "local", labels: volumeLabels },
      // Nothing about the volume changes after creation; retained, a destroy leaves it in place.
      // Replaced only on a new machine, and then old first: the provider knows a volume by its
      // fixed name, so deleting after creating would aim at the new one.
      {
        ...childOpts,
        retainOnDelete: args.retainWorkVolume ?? false,
        ...(engine?.machineId === undefined
          ? {}
          : { replacementTrigger: engine.machineId, deleteBeforeReplace: true }),
      },
    );

    const network = new docker.Network(
      `${name}-net`,
      { name: args.names?.network ?? `${name}-net`, driver: "bridge", labels },
      childOpts,
    );

    const limits = args.limits;
    const container = new docker.Container(
      `${name}-notebook`,
      {
        name: args.names?.container ?? `${name}-notebook`,
        image: imageId,
        envs: [pulumi.interpolate`JUPYTER_TOKEN=${token.result}`, `JUPYTER_PORT=${containerPort}`],
        ports: args.publish
          ? [
              {
                internal: containerPort,
                external: args.publish.hostPort,
                ip: args.publish.bindAddress,
                protocol: "tcp",
              },
            ]
          : [],
        mounts: [
          { type: "volume", source: volume.name, target: notebookHome },
          ...(args.dataMount
            ? [{ ...args.dataMount, target: courseDataPath, readOnly: true }]
            : []),
        ],
        networksAdvanced: [{ name: network.name, aliases: [networkAlias] }],
        restart: "unless-stopped",
        // `up` returns only once the image's HEALTHCHECK passes.
        wait: true,
        waitTimeout: args.healthTimeoutSeconds ?? 180,
        // Time for the server to shut its kernels down before SIGKILL. It does not save open
        // notebooks: unsaved edits in a browser are lost (JupyterLab autosaves every 2 minutes).
        destroyGraceSeconds: 30,
        memory: limits.memoryMb,
        memorySwap: limits.memoryMb,
        cpus: limits.cpus === undefined ? undefined : String(limits.cpus),
        ulimits:
          limits.processes === undefined
            ? []
            : [{ name: "nproc", soft: limits.processes, hard: limits.processes }],
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        labels,
      },
      {
        ...childOpts,
        // The host port and the name are fixed: the old container must go before the new starts.
        deleteBeforeReplace: true,
        // A reset: a fresh container from the same inputs (the volume is a separate resource).
        ...(generations.container > 0 ? { replacementTrigger: String(generations.container) } : {}),
        // The environment holds the token.
        additionalSecretOutputs: ["envs"],
      },
    );

    this.container = container;
    this.token = token.result;
    this.hostPort = pulumi.output(args.publish?.hostPort);
    this.containerName = container.name;
    this.volumeName = volume.name;
    this.networkName = network.name;
    this.registerOutputs({
      token: this.token,
      hostPort: this.hostPort,
      containerName: this.containerName,
      volumeName: this.volumeName,
      networkName: this.networkName,
    });
  }
}
