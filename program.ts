/**
 * The composition: one student's notebook from a validated {@link StackConfig}. index.ts reads and
 * validates config and calls this; the mock tests, the benchmark and the workshop CLI call it too.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  JetstreamVm,
  JupyterImage,
  NotebookServer,
  TlsProxy,
  WorkshopSecurityGroup,
} from "./components";
import { networkAlias, containerPort } from "./components/notebookServer";
import { LocalCourseData } from "./components/localCourseData";
import { instanceName, type ImageSource, type StackConfig } from "./lib/config";
import { dataUrlProblem } from "./lib/course";
import { vmDataDir } from "./lib/courseData";
import { InputError } from "./lib/rules/problems";
import { pipIndexFromEnv, stageBuildContext } from "./lib/imageBuild";
import { containerLimits } from "./lib/limits";
import { isDigestPinned } from "./lib/rules/imageRef";
import { httpsNotebookUrl, notebookUrl, sshCommand } from "./lib/urls";

export interface ProgramOptions {
  /** The Docker Hub access token (a secret); needed when this stack builds and pushes. */
  dockerHubToken?: pulumi.Input<string>;
  /** OCI label values for a pushed image (per commit, never per run). */
  imageLabels?: { revision?: string; created?: string };
  /** The Dockerfile's folder for a built image; default the repository's docker/. */
  imageContext?: string;
  /** PIP_INDEX_URL for the course's requirements; default the environment's, else PyPI. */
  pipIndexUrl?: string;
  /**
   * CPUs of the machine running the local engine. The local container's CPU limit is capped to it
   * (Docker refuses `--cpus` above the machine's count).
   */
  localCpus?: number;
}

export interface NotebookStackOutputs {
  /** `http://<ip>:<port>/lab?token=...`: a secret. */
  notebookUrl: pulumi.Output<string>;
  publicIp: pulumi.Output<string>;
  /** Jetstream2's DNS name when an allocation is configured, else "". */
  hostname: pulumi.Output<string>;
  /** How to log in to the VM; "" for the local target. */
  sshCommand: pulumi.Output<string>;
  /** The image the notebook runs, by digest (or a local build's id). */
  imageRef: pulumi.Output<string>;
  /** The stack's SSH private key for the VM (a secret); "" for the local target. */
  sshPrivateKey: pulumi.Output<string>;
  /** The workshop's security group an image stack owns, for student stacks to share; else "". */
  securityGroupId: pulumi.Output<string>;
  /** The VM's login user; "" for the local target. */
  sshUser: pulumi.Output<string>;
  /**
   * The VM's SSH host key (`ssh-ed25519 ...`, public): `workshop export`/`down` reach the VM's
   * engine with it pinned, as the stack does. "" for the local target.
   */
  sshHostPublicKey: pulumi.Output<string>;
  /** The Docker volume holding the student's work, on the notebook's engine. */
  volumeName: pulumi.Output<string>;
  /**
   * The notebook's container on that engine: `workshop down` stops it before the last export, so
   * nothing a student writes after the export is read is lost with the stack.
   */
  containerName: pulumi.Output<string>;
  student: string;
  workshop: string;
  expires: string;
  target: string;
}

const openToAll = "0.0.0.0/0";

/** The file name the docs tell a person to save the `sshPrivateKey` output as. */
export function sshKeyFileName(cfg: StackConfig): string {
  return `${cfg.workshop}-${cfg.student}.key`;
}

export function notebookStack(
  cfg: StackConfig,
  options: ProgramOptions = {},
): NotebookStackOutputs {
  // Every logical name (so every URN) and the names on the VM's own engine (container, volume)
  // derive from this; the OpenStack resources and the names on the shared local engine carry
  // cfg.physicalName (lib/physicalName.ts).
  const name = instanceName(cfg.workshop, cfg.student);
  const labels = {
    "org.jetstream-notebooks.workshop": cfg.workshop,
    "org.jetstream-notebooks.student": cfg.student,
  };
  // The instructor's stack, when the image comes from it: it may also hand over the workshop's
  // security group.
  const imageStackName = cfg.image.kind === "stack" ? cfg.image.stack : undefined;
  const imageStack =
    imageStackName !== undefined
      ? new pulumi.StackReference(`${name}-image-stack`, { name: imageStackName })
      : undefined;
  // The data is mounted where the image keeps the course's data/, which it would hide. The course
  // folder is the image's when the image is built here or by the instructor's stack (a workshop
  // shares its course setting); a pinned image from elsewhere has a course this program cannot see.
  if (cfg.target !== "image" && cfg.image.kind !== "ref" && cfg.data !== undefined) {
    const problem = dataUrlProblem(path.resolve(__dirname, cfg.course), cfg.data.url);
    if (problem !== undefined) {
      throw new InputError(
        "the course folder",
        [problem],
        "The course's data and dataUrl collide:",
      );
    }
  }
  const imageRef = resolveImage(name, cfg.image, options, imageStack, cfg.course);
  // A locally built image is already on the engine, by id; every other source is a registry digest.
  const pull = cfg.image.kind !== "build" || cfg.image.push !== undefined;
  const limits = containerLimits(cfg.flavor);
  const common = {
    student: cfg.student,
    workshop: cfg.workshop,
    expires: cfg.expires ?? "",
    target: cfg.target,
    imageRef,
    securityGroupId: pulumi.output(""),
  };

  if (cfg.target === "image") {
    // The instructor's image stack: the build and push, and the workshop's security group when
    // sshCidr is set; no VM, address or certificate.
    const group = cfg.securityGroup
      ? new WorkshopSecurityGroup(`${cfg.workshop}-workshop`, {
          workshop: cfg.workshop,
          ...cfg.securityGroup,
        })
      : undefined;
    return {
      ...common,
      securityGroupId: group ? group.securityGroupId : pulumi.output(""),
      notebookUrl: pulumi.secret(""),
      publicIp: pulumi.output(""),
      hostname: pulumi.output(""),
      sshCommand: pulumi.output(""),
      sshPrivateKey: pulumi.secret(""),
      sshUser: pulumi.output(""),
      sshHostPublicKey: pulumi.output(""),
      volumeName: pulumi.output(""),
      containerName: pulumi.output(""),
    };
  }

  if (cfg.target === "local") {
    const data = cfg.data
      ? new LocalCourseData(`${name}-data`, { data: cfg.data, image: imageRef, labels })
      : undefined;
    const server = new NotebookServer(name, {
      image: imageRef,
      pull,
      // Every local stack shares this engine: its names are unique per stack prefix, as the cloud
      // resources' are (the same as ever for a stack without one, or a one-word workshop and id).
      names: {
        volume: `${cfg.physicalName}-work`,
        container: `${cfg.physicalName}-notebook`,
        network: `${cfg.physicalName}-net`,
      },
      publish: { hostPort: cfg.notebookPort, bindAddress: "127.0.0.1" },
      // On a person's own machine the process limit is left out: RLIMIT_NPROC counts every
      // process of uid 1000, which there is usually the person's whole desktop session.
      limits: {
        memoryMb: limits.memoryMb,
        cpus: Math.min(limits.cpus, options.localCpus ?? limits.cpus),
      },
      // `npm run down` keeps the student's work; the next `npm start` reattaches it by name.
      retainWorkVolume: true,
      labels,
      generations: cfg.generations,
      dataMount: data && { type: "volume", source: data.volumeName },
      dependsOn: data && [data.fetch],
    });
    const port = cfg.notebookPort;
    return {
      ...common,
      notebookUrl: pulumi.secret(server.token.apply((t) => notebookUrl("127.0.0.1", port, t))),
      publicIp: pulumi.output("127.0.0.1"),
      hostname: pulumi.output(""),
      sshCommand: pulumi.output(""),
      sshPrivateKey: pulumi.secret(""),
      sshUser: pulumi.output(""),
      sshHostPublicKey: pulumi.output(""),
      volumeName: server.volumeName,
      containerName: server.containerName,
    };
  }

  const proxyMode = cfg.tls.mode === "off" ? undefined : cfg.tls.mode;
  const https = proxyMode !== undefined;
  const acme = proxyMode === "letsencrypt";
  const vm = new JetstreamVm(name, {
    workshop: cfg.workshop,
    student: cfg.student,
    physicalName: cfg.physicalName,
    expires: cfg.expires,
    flavor: cfg.flavor.name,
    vmImage: cfg.vmImage,
    network: cfg.network,
    floatingIpPool: cfg.floatingIpPool,
    sshCidr: cfg.sshCidr,
    notebookCidr: cfg.notebookCidr,
    // Behind the proxy only 80 and 443 are open; the notebook's own port is published to no one.
    publicPorts: https ? [80, 443] : [cfg.notebookPort],
    // Let's Encrypt validates HTTP-01 from unpublished, changing addresses: 80 is open to all (it
    // serves only challenges and the redirect to HTTPS), whatever notebookCidr says.
    worldPorts: acme ? [80] : [],
    imageRef,
    extraSshPublicKey: cfg.sshPublicKey,
    powerState: cfg.power === "shelved" ? "shelved_offloaded" : "active",
    // Behind HTTPS, students of an instructor's stack share its workshop group.
    securityGroupId:
      imageStack !== undefined && acme
        ? imageStack
            .requireOutput("securityGroupId")
            .apply((value: unknown) => checkStackSecurityGroup(value, imageStackName))
        : undefined,
    data: cfg.data,
  });
  const engine = {
    host: vm.publicIp,
    user: vm.user,
    privateKey: vm.sshPrivateKey,
    hostPublicKey: vm.hostPublicKey,
    deletedWith: vm.instance,
    machineId: vm.instance.id,
  };
  const server = new NotebookServer(name, {
    image: imageRef,
    pull: true,
    engine,
    // With tls off the security group decides who reaches the published port; behind the proxy
    // the notebook is reachable only on its Docker network.
    publish: https ? undefined : { hostPort: cfg.notebookPort, bindAddress: "0.0.0.0" },
    // On the VM uid 1000 is the otherwise idle login user, so RLIMIT_NPROC bounds the notebook.
    limits,
    dependsOn: [vm.ready],
    labels,
    generations: cfg.generations,
    dataMount: cfg.data && { type: "bind", source: vmDataDir },
  });
  const keyFile = cfg.sshPublicKey ? undefined : sshKeyFileName(cfg);
  const vmOutputs = {
    ...common,
    publicIp: vm.publicIp,
    hostname: pulumi.output(cfg.hostname),
    sshCommand: vm.publicIp.apply((ip) => sshCommand(ip, keyFile)),
    sshPrivateKey: vm.sshPrivateKey,
    sshUser: vm.user,
    sshHostPublicKey: vm.hostPublicKey,
    volumeName: server.volumeName,
    containerName: server.containerName,
  };

  if (proxyMode === undefined) {
    const port = cfg.notebookPort;
    return {
      ...vmOutputs,
      notebookUrl: pulumi.secret(
        pulumi.all([vm.publicIp, server.token]).apply(([ip, t]) => notebookUrl(ip, port, t)),
      ),
    };
  }

  const proxy = new TlsProxy(`${name}-https`, {
    provider: server.provider,
    network: server.networkName,
    upstreamHost: networkAlias,
    upstreamPort: containerPort,
    hostname: cfg.hostname,
    mode: proxyMode,
    acmeEmail: cfg.tls.acmeEmail,
    acmeCa: cfg.tls.acmeCa,
    image: cfg.tls.proxyImage,
    expectedAddress: vm.publicIp,
    machineId: vm.instance.id,
    // A restricted 443 cannot pass TLS-ALPN validation from the CA's addresses.
    httpChallengeOnly: acme && cfg.notebookCidr !== openToAll,
    dnsTimeoutMinutes: cfg.readinessTimeouts.dnsMinutes,
    httpsTimeoutMinutes: cfg.readinessTimeouts.httpsMinutes,
    dependsOn: [vm.ready, server.container],
    deletedWith: vm.instance,
  });
  return {
    ...vmOutputs,
    // Resolves only once HTTPS answers with a valid certificate for the hostname.
    notebookUrl: pulumi.secret(
      pulumi.all([proxy.url, server.token]).apply(([base, t]) => httpsNotebookUrl(base, t)),
    ),
  };
}

/** The image another stack hands over, refused unless pinned by digest. */
export function checkStackImageRef(value: unknown, stack: string): string {
  if (typeof value !== "string" || !isDigestPinned(value)) {
    throw new Error(
      `[imageStack] stack "${stack}" must output imageRef pinned by digest (repo@sha256:...), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The workshop's security group another stack hands over. */
export function checkStackSecurityGroup(value: unknown, stack: string | undefined): string {
  if (typeof value !== "string" || value === "") {
    throw new Error(
      `[imageStack] stack ${JSON.stringify(stack)} has no securityGroupId: set sshCidr (and notebookCidr) on it and run pulumi up there, so every student's VM shares the workshop's security group`,
    );
  }
  return value;
}

function resolveImage(
  name: string,
  source: ImageSource,
  options: ProgramOptions,
  ref: pulumi.StackReference | undefined,
  course: string,
): pulumi.Output<string> {
  switch (source.kind) {
    case "ref":
      return pulumi.output(source.ref);
    case "stack": {
      if (ref === undefined) throw new Error("the image stack's reference is missing");
      return ref
        .requireOutput("imageRef")
        .apply((value: unknown) => checkStackImageRef(value, source.stack));
    }
    case "build": {
      if (source.push && options.dockerHubToken === undefined) {
        throw new Error("[dockerHubToken] is required to push the image");
      }
      // The course is read and staged now, so a problem in it stops the program before any resource.
      const staged = stageBuildContext({
        course: path.resolve(__dirname, course),
        dockerDir: options.imageContext,
      });
      const image = new JupyterImage(name, {
        repository: source.push
          ? `docker.io/${source.push.dockerHubUser}/${source.repository}`
          : source.repository,
        tag: source.tag,
        context: staged.context,
        courseName: staged.courseName,
        pipIndexUrl: options.pipIndexUrl ?? pipIndexFromEnv(),
        push:
          source.push && options.dockerHubToken !== undefined
            ? { username: source.push.dockerHubUser, password: options.dockerHubToken }
            : undefined,
        labels: source.push ? options.imageLabels : undefined,
      });
      return image.imageRef;
    }
  }
}
