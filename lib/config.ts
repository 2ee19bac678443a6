/**
 * The stack's settings: every `jetstream-notebooks:` config key, parsed and checked in one place
 * before any resource is declared. Pure and free of Pulumi imports on purpose: the workshop CLI
 * validates forty students' configs with the same function before it creates anything.
 */
import { defaultFlavor, findFlavor, flavors, type Flavor } from "./flavors";
import { parseTlsSettings, type TlsSettings } from "./tlsSettings";
import { physicalName } from "./physicalName";
import { jetstreamHostname } from "./urls";
import { cidrProblem, isWorldOpen } from "./rules/cidr";
import { isDigestPinned } from "./rules/imageRef";
import { dnsLabelProblem, isDnsLabel } from "./rules/names";
import { InputError, shown } from "./rules/problems";
import { sshPublicKeyProblem } from "./rules/sshKey";
import { jupyterPort, maxStackName, type Target } from "./rules/stack";
import { hiddenCharacter } from "./rules/text";
import { version as packageVersion } from "../package.json";

/** Config key (without the `jetstream-notebooks:` namespace) to the raw string Pulumi holds. */
export type RawConfig = Record<string, string | undefined>;

/**
 * Where a stack runs: a target of the notebook, or `image`, the instructor's stack that only builds
 * and pushes the image (no VM, no certificate) and may own the workshop's security group; student
 * stacks read its outputs through `imageStack`.
 */
export type StackTarget = Target | "image";

/** Where the notebook image comes from: exactly one of these per stack. */
export type ImageSource =
  /** A digest-pinned reference given in config (`image`). */
  | { kind: "ref"; ref: string }
  /** The `imageRef` output of another stack (`imageStack`), typically the instructor's. */
  | { kind: "stack"; stack: string }
  /** This stack builds docker/ (`buildImage`); pushed to Docker Hub when `push` is set. */
  | {
      kind: "build";
      repository: string;
      tag: string;
      /** Docker Hub account to push to; undefined for a local build that is never pushed. */
      push?: { dockerHubUser: string };
    };

interface CommonConfig {
  /** DNS-safe student name; part of every physical name. */
  student: string;
  /** DNS-safe workshop name; part of every physical name. */
  workshop: string;
  /**
   * The workshop command's stack prefix (`stackPrefix`), set on the stacks it creates; undefined on
   * a stack made before it existed or by hand.
   */
  stackPrefix?: string;
  /**
   * What the VM, its key pair, port and security group are called, and the VM's DNS label: see
   * lib/physicalName.ts. Logical (URN) names stay `<workshop>-<student>`.
   */
  physicalName: string;
  /** Last day of the workshop (YYYY-MM-DD), or undefined (local only). */
  expires?: string;
  image: ImageSource;
  flavor: Flavor;
  /**
   * Host port the notebook answers on: 127.0.0.1's port locally, the VM's public port with `tls`
   * off. Behind the HTTPS proxy the notebook is published on no port at all.
   */
  notebookPort: number;
  /** Accepted settings that deserve attention, printed by `pulumi up` (loud ones first). */
  warnings: string[];
  /** The course folder built into the image (`course`), relative to the project; see docs/course.md. */
  course: string;
  /** Data fetched once per machine and mounted read-only (`dataUrl`, `dataSha256`), if any. */
  data?: { url: string; sha256: string };
  /** `power`: whether the VM runs (`active`) or is shelved between sessions (`shelved`). */
  power: Power;
}

/**
 * A student VM's power setting. Jetstream2 charges a shelved instance nothing; its disk, address,
 * DNS name and the notebook's volume all stay.
 */
export type Power = "active" | "shelved";

export interface LocalStackConfig extends CommonConfig {
  target: "local";
}

export interface JetstreamStackConfig extends CommonConfig {
  target: "jetstream";
  expires: string;
  vmImage: string;
  network: string;
  floatingIpPool: string;
  /** Who may SSH to the VM (the instructor's address). */
  sshCidr: string;
  /** Who may open the notebook port. */
  notebookCidr: string;
  /** An extra public key authorized on the VM (the instructor's own), or undefined. */
  sshPublicKey?: string;
  /** Jetstream2 allocation (lowercase), which gives the VM a DNS name; undefined without one. */
  allocation?: string;
  /** HTTPS in front of the notebook (`tls`, `acmeEmail`, `acmeCa`, `proxyImage`). */
  tls: TlsSettings;
  /** `<physicalName>.<allocation>.projects.jetstream-cloud.org`, or "" without allocation. */
  hostname: string;
  /** Minutes to wait for the DNS name, then for HTTPS (`dnsTimeoutMinutes`, `httpsTimeoutMinutes`). */
  readinessTimeouts: { dnsMinutes: number; httpsMinutes: number };
}

/** The instructor's image-only stack: builds docker/ for linux/amd64 and pushes it. */
export interface ImageStackConfig extends CommonConfig {
  target: "image";
  /**
   * With `sshCidr` set, the stack also owns the workshop's security group (SSH from `sshCidr`, 80
   * from all, 443 from `notebookCidr`), which student stacks behind HTTPS share through imageStack.
   */
  securityGroup?: { sshCidr: string; notebookCidr: string };
}

export type StackConfig = LocalStackConfig | JetstreamStackConfig | ImageStackConfig;

/** The config keys this project reads, so a misspelt key is an error rather than silently unused. */
export const configKeys = [
  "target",
  "student",
  "workshop",
  "stackPrefix",
  "expires",
  "image",
  "imageStack",
  "buildImage",
  "dockerHubUser",
  "dockerHubToken",
  "imageRepository",
  "imageTag",
  "flavor",
  "vmImage",
  "network",
  "floatingIpPool",
  "sshCidr",
  "notebookCidr",
  "sshPublicKey",
  "allocation",
  "notebookPort",
  "tls",
  "acmeEmail",
  "acmeCa",
  "proxyImage",
  "dnsTimeoutMinutes",
  "httpsTimeoutMinutes",
  "course",
  "dataUrl",
  "dataSha256",
  "power",
] as const;

/** Keys whose values are secrets: only their presence is validated. */
export const secretConfigKeys: ReadonlySet<string> = new Set(["dockerHubToken"]);

export const configDefaults = {
  target: "local",
  workshop: "workshop",
  imageRepository: "jupyter-notebook",
  imageTag: packageVersion,
  flavor: defaultFlavor,
  vmImage: "Featured-Ubuntu24",
  network: "auto_allocated_network",
  floatingIpPool: "public",
  notebookCidr: "0.0.0.0/0",
  notebookPort: String(jupyterPort),
  dnsTimeoutMinutes: "60",
  httpsTimeoutMinutes: "15",
  course: "course/",
} as const;

// Workshop and student join into the VM's name, `<workshop>-<student>`, itself one DNS label.
const maxInstanceName = 63;
const stackName = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;
const dockerHubUser = /^[a-z0-9]{4,30}$/;
const repository = /^[a-z0-9]+([._-][a-z0-9]+)*$/;
const tag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
// OpenStack keeps names (images, networks, pools) to 255 characters.
const maxOpenStackName = 255;
const firstNotebookPort = 1024;

/**
 * Parses and validates a stack's raw config. Collects every problem before throwing one
 * {@link InputError}, so a student's config is fixed in one round.
 */
export function parseStackConfig(
  raw: RawConfig,
  ctx: { stackName: string; now: Date },
): StackConfig {
  const problems: string[] = [];
  // A key whose value holds a hidden character is reported for that alone: what follows from it
  // (not DNS-safe, not a CIDR) would only repeat the same mistake in other words.
  const tainted = new Set<string>();
  const bad = (key: string, text: string) => {
    if (!tainted.has(key)) problems.push(`[${keyShown(key)}] ${text}`);
  };
  const get = (key: string): string | undefined => {
    const v = raw[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  for (const [key, value] of Object.entries(raw)) {
    if (!(configKeys as readonly string[]).includes(key)) {
      bad(key, `is not a jetstream-notebooks setting; known settings: ${configKeys.join(", ")}`);
      tainted.add(key);
      continue;
    }
    const hidden = value === undefined ? undefined : hiddenCharacter(value);
    if (hidden !== undefined) {
      bad(key, `contains ${hidden}: retype the value without it`);
      tainted.add(key);
    }
  }

  const targetRaw = get("target") ?? configDefaults.target;
  let target: StackTarget = "local";
  if (targetRaw === "local" || targetRaw === "jetstream" || targetRaw === "image")
    target = targetRaw;
  else bad("target", `must be "local", "jetstream" or "image", got ${shown(targetRaw)}`);

  const student = get("student") ?? ctx.stackName;
  const studentProblem = dnsLabelProblem(student);
  if (studentProblem !== undefined) {
    bad(
      "student",
      `must be ${studentProblem}, got ${shown(student)}${get("student") === undefined ? " (the stack name); set it with `pulumi config set student <name>`" : ""}`,
    );
  }
  const workshop = get("workshop") ?? configDefaults.workshop;
  const workshopIssue = workshopProblem(workshop);
  if (workshopIssue !== undefined) problems.push(workshopIssue);
  const stackPrefix = get("stackPrefix");
  if (stackPrefix !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(stackPrefix)) {
      bad(
        "stackPrefix",
        `may hold letters, digits, "-", "_" and "." (Pulumi stack name rules), got ${shown(stackPrefix)}`,
      );
    } else if (stackPrefix.length > maxStackName) {
      bad("stackPrefix", `must be at most ${maxStackName} characters, got ${shown(stackPrefix)}`);
    }
  }
  const name = physicalName(workshop, student, stackPrefix);
  if (isDnsLabel(student) && isDnsLabel(workshop)) {
    if (name.length > maxInstanceName) {
      bad(
        "student",
        `and [workshop] join into the VM name "${name}" (${name.length} characters), which must be at most ${maxInstanceName}: shorten one of them`,
      );
    }
  }

  const expiresRaw = get("expires");
  let expires: string | undefined;
  if (expiresRaw !== undefined) {
    const issue = expiresProblem(expiresRaw, ctx.now);
    if (issue !== undefined) problems.push(issue);
    else expires = expiresRaw;
  } else if (target === "jetstream") {
    bad("expires", "is required for target jetstream: the workshop's last day, YYYY-MM-DD");
  }

  const image = parseImageSource(get, bad, target);
  if (target === "image" && image !== undefined && (image.kind !== "build" || !image.push)) {
    bad(
      "target",
      "image builds and pushes the notebook image: set buildImage true, dockerHubUser and dockerHubToken (and no image or imageStack)",
    );
  }

  const flavorName = get("flavor") ?? configDefaults.flavor;
  const flavor = findFlavor(flavorName);
  if (!flavor) problems.push(flavorProblem(flavorName));

  const portRaw = get("notebookPort") ?? configDefaults.notebookPort;
  const notebookPort = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || notebookPort < firstNotebookPort || notebookPort > 65535) {
    bad(
      "notebookPort",
      `must be a port number from ${firstNotebookPort} to 65535 (lower ports are kept for SSH and the HTTPS proxy), got ${shown(portRaw)}`,
    );
  }

  // vmImage, network, floatingIpPool and the CIDRs are only read for jetstream; a local stack
  // ignores them, so a student's settings may be kept while the instructor tries them locally.
  const warnings: string[] = [];
  const sshCidrRaw = get("sshCidr");
  const notebookCidrRaw = get("notebookCidr") ?? configDefaults.notebookCidr;
  if (target === "jetstream") {
    if (sshCidrRaw === undefined) {
      bad(
        "sshCidr",
        "is required for target jetstream: the address allowed to SSH to the VM, such as 203.0.113.7/32 (your own address)",
      );
    } else {
      const issue = cidrProblem(sshCidrRaw);
      if (issue !== undefined) bad("sshCidr", issue);
      else {
        const warning = sshCidrWarning(sshCidrRaw);
        if (warning !== undefined) warnings.push(warning);
      }
    }
    const issue = cidrProblem(notebookCidrRaw);
    if (issue !== undefined) bad("notebookCidr", issue);
    for (const key of ["vmImage", "network", "floatingIpPool"] as const) {
      const value = get(key);
      if (value !== undefined && value.length > maxOpenStackName) {
        bad(
          key,
          `must be an OpenStack name of at most ${maxOpenStackName} characters, got ${shown(value)}`,
        );
      }
    }
  } else if (target === "image" && sshCidrRaw !== undefined) {
    // The instructor's stack with sshCidr also owns the workshop's security group.
    const sshIssue = cidrProblem(sshCidrRaw);
    if (sshIssue !== undefined) bad("sshCidr", sshIssue);
    const notebookIssue = cidrProblem(notebookCidrRaw);
    if (notebookIssue !== undefined) bad("notebookCidr", notebookIssue);
  }

  const keyRaw = get("sshPublicKey");
  const keyIssue = keyRaw === undefined ? undefined : sshPublicKeyProblem(keyRaw);
  if (keyIssue !== undefined) bad("sshPublicKey", keyIssue);
  const allocation = get("allocation");
  if (allocation !== undefined && !isDnsLabel(allocation)) {
    bad(
      "allocation",
      `must be the allocation name in lowercase, such as "cis230000", got ${shown(allocation)}`,
    );
  }

  const namesOk = isDnsLabel(student) && isDnsLabel(workshop) && name.length <= maxInstanceName;
  const allocationOk = allocation !== undefined && isDnsLabel(allocation);
  const hostname = namesOk && allocationOk ? jetstreamHostname(name, allocation) : "";
  const tls = parseTlsSettings({
    // An image stack has no VM and so no proxy: its settings are checked as a local stack's.
    target: target === "image" ? "local" : target,
    tls: get("tls"),
    acmeEmail: get("acmeEmail"),
    acmeCa: get("acmeCa"),
    proxyImage: get("proxyImage"),
    // With an allocation but a bad name (reported above), the hostname is not missing, only not
    // derivable yet: a stand-in keeps the HTTPS check from reporting the same mistake twice.
    hostname: hostname || (allocation !== undefined ? "hostname.invalid" : undefined),
    hostnameKey: "allocation",
  });
  for (const p of tls.problems) {
    if (![...tainted].some((k) => p.startsWith(`[${k}]`))) problems.push(p);
  }
  warnings.push(...tls.warnings);
  const network = get("network") ?? configDefaults.network;
  if (
    target === "jetstream" &&
    tls.settings?.mode === "letsencrypt" &&
    network !== configDefaults.network &&
    // A network already refused is not the name to discuss (a 1 MB value, repeated in full).
    !problems.some((p) => p.startsWith("[network]"))
  ) {
    bad(
      "network",
      `is ${shown(network)}: Jetstream2 gives DNS names only to instances on ${configDefaults.network}, and [tls] letsencrypt needs one. Use ${configDefaults.network}, or set tls to self-signed or off`,
    );
  }
  const minutes = (key: "dnsTimeoutMinutes" | "httpsTimeoutMinutes"): number => {
    const text = get(key) ?? configDefaults[key];
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 240) {
      bad(key, `must be a whole number of minutes from 1 to 240, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const readinessTimeouts = {
    dnsMinutes: minutes("dnsTimeoutMinutes"),
    httpsMinutes: minutes("httpsTimeoutMinutes"),
  };
  const data = parseDataSettings(get("dataUrl"), get("dataSha256"), bad);

  const power = parsePower(get("power"), target, bad);

  if (problems.length > 0 || !flavor || !image || !tls.settings) {
    throw new InputError(
      "jetstream-notebooks config",
      problems,
      "Invalid jetstream-notebooks config:",
    );
  }

  const common: CommonConfig = {
    student,
    workshop,
    ...(stackPrefix !== undefined ? { stackPrefix } : {}),
    physicalName: name,
    expires,
    image,
    flavor,
    notebookPort,
    warnings,
    course: get("course") ?? configDefaults.course,
    data,
    power,
  };
  if (target === "local") return { target, ...common };
  if (target === "image") {
    return {
      target,
      ...common,
      ...(sshCidrRaw !== undefined
        ? { securityGroup: { sshCidr: sshCidrRaw, notebookCidr: notebookCidrRaw } }
        : {}),
    };
  }
  return {
    target,
    ...common,
    expires: expires as string,
    vmImage: get("vmImage") ?? configDefaults.vmImage,
    network,
    floatingIpPool: get("floatingIpPool") ?? configDefaults.floatingIpPool,
    sshCidr: sshCidrRaw as string,
    notebookCidr: notebookCidrRaw,
    sshPublicKey: keyRaw,
    allocation,
    tls: tls.settings,
    hostname,
    readinessTimeouts,
  };
}

/**
 * The loud warning for an sshCidr that lets the whole internet try SSH, or undefined. Accepted (a
 * class on changing networks may need it) but never silently.
 * @param cidr A valid CIDR.
 */
export function sshCidrWarning(cidr: string): string | undefined {
  if (!isWorldOpen(cidr)) return undefined;
  return (
    `[sshCidr] is ${cidr}: every address on the internet may try to log in to every VM over SSH. ` +
    "Keys alone stand between them and the VMs; set your own address, such as 203.0.113.7/32, unless you must reach the VMs from anywhere."
  );
}

/**
 * The `power` setting. Only a Jetstream2 VM can be shelved: a local notebook is stopped with
 * `npm run down` (its volume stays), and an image stack has no VM.
 */
export function parsePower(
  raw: string | undefined,
  target: StackTarget,
  bad: (key: string, text: string) => void,
): Power {
  if (raw === undefined || raw === "active") return "active";
  if (raw !== "shelved") {
    bad("power", `must be "active" or "shelved", got ${shown(raw)}`);
    return "active";
  }
  if (target !== "jetstream") {
    bad(
      "power",
      `shelved applies to target jetstream only (a shelved VM costs no SUs); on target ${target} remove it, and stop a local notebook with \`npm run down\` (its volume stays)`,
    );
  }
  return "shelved";
}

/** A key as a message names it: odd characters in a misspelt key are shown, not printed raw. */
function keyShown(key: string): string {
  return /^[A-Za-z0-9_.-]{1,60}$/.test(key) ? key : shown(key);
}

/**
 * The problem with a workshop name, naming the key, or undefined. The workshop settings use it too,
 * so the name a workshop is planned with is the name its stacks accept.
 */
export function workshopProblem(workshop: string): string | undefined {
  const issue = dnsLabelProblem(workshop);
  return issue === undefined ? undefined : `[workshop] must be ${issue}, got ${shown(workshop)}`;
}

/**
 * The problem with an expiry day, naming the key, or undefined.
 * @param expires The value as given, such as 2030-06-30.
 * @param now When given, a day before it is refused too (a stack is not created already expired;
 * the workshop command reads its settings after the workshop to tear it down, and passes none).
 */
export function expiresProblem(expires: string, now?: Date): string | undefined {
  if (parseDay(expires) === undefined) {
    return `[expires] must be a date YYYY-MM-DD such as 2030-06-30, got ${shown(expires)}`;
  }
  if (now !== undefined && expires < now.toISOString().slice(0, 10)) {
    return `[expires] is in the past (${expires}): set the workshop's last day`;
  }
  return undefined;
}

/** The problem with a flavor name that is not a known flavor, naming the key. */
export function flavorProblem(name: string): string {
  return `[flavor] must be a Jetstream2 flavor (${[...flavors.keys()].join(", ")}), got ${shown(name)}`;
}

/**
 * The logical name every resource of the stack derives from (and the container and volume names on
 * the VM's engine); the OpenStack resources' own names come from physicalName (lib/physicalName.ts).
 */
export function instanceName(workshop: string, student: string): string {
  return `${workshop}-${student}`;
}

function parseImageSource(
  get: (key: string) => string | undefined,
  bad: (key: string, text: string) => void,
  target: StackTarget,
): ImageSource | undefined {
  const ref = get("image");
  const stack = get("imageStack");
  const buildRaw = get("buildImage");
  let build: boolean | undefined;
  if (buildRaw === "true" || buildRaw === "false") build = buildRaw === "true";
  else if (buildRaw !== undefined) {
    bad("buildImage", `must be true or false, got ${shown(buildRaw)}`);
    return undefined;
  }

  const given = [
    ref !== undefined && "image",
    stack !== undefined && "imageStack",
    build && "buildImage",
  ].filter((k): k is string => typeof k === "string");
  if (given.length > 1) {
    bad(
      given[0] ?? "image",
      `cannot be combined with ${given
        .slice(1)
        .map((k) => `[${k}]`)
        .join(" and ")}: the image comes from exactly one of image, imageStack or buildImage`,
    );
    return undefined;
  }

  if (ref !== undefined) {
    if (!isDigestPinned(ref)) {
      bad(
        "image",
        `must be pinned by digest, such as docker.io/instructor/jupyter-notebook@sha256:<64 hex digits> (the instructor stack's imageRef output), got ${shown(ref)}`,
      );
      return undefined;
    }
    return { kind: "ref", ref };
  }
  if (stack !== undefined) {
    if (!stackName.test(stack)) {
      bad(
        "imageStack",
        `must be a stack name such as "instructor" or "org/jetstream-notebooks/instructor", got ${shown(stack)}`,
      );
      return undefined;
    }
    return { kind: "stack", stack };
  }

  if (!build) {
    bad(
      "image",
      "is not set: set image (a digest-pinned reference), imageStack (the instructor's stack) or buildImage true",
    );
    return undefined;
  }

  const repositoryName = get("imageRepository") ?? configDefaults.imageRepository;
  const tagName = get("imageTag") ?? configDefaults.imageTag;
  let ok = true;
  if (!repository.test(repositoryName)) {
    bad(
      "imageRepository",
      `must be a lowercase repository name such as "jupyter-notebook", got ${shown(repositoryName)}`,
    );
    ok = false;
  }
  if (tagName === "latest") {
    bad(
      "imageTag",
      'must not be "latest": use a version such as "0.1.0" so every build is traceable',
    );
    ok = false;
  } else if (!tag.test(tagName)) {
    bad("imageTag", `must be a Docker tag such as "0.1.0", got ${shown(tagName)}`);
    ok = false;
  }
  if (target === "local") {
    return ok ? { kind: "build", repository: repositoryName, tag: tagName } : undefined;
  }

  const user = get("dockerHubUser");
  if (user === undefined) {
    bad(
      "dockerHubUser",
      "is required to build for target jetstream: the Docker Hub account the image is pushed to",
    );
    ok = false;
  } else if (!dockerHubUser.test(user)) {
    bad(
      "dockerHubUser",
      `must be a Docker Hub user name (4 to 30 lowercase letters and digits), got ${shown(user)}`,
    );
    ok = false;
  }
  if (get("dockerHubToken") === undefined) {
    bad(
      "dockerHubToken",
      "is required to build for target jetstream: `pulumi config set --secret dockerHubToken <a Docker Hub access token>`",
    );
    ok = false;
  }
  return ok && user !== undefined
    ? { kind: "build", repository: repositoryName, tag: tagName, push: { dockerHubUser: user } }
    : undefined;
}

/** `dataUrl` and `dataSha256`: both or neither; http(s) with a host, and 64 hex digits. */
function parseDataSettings(
  url: string | undefined,
  sha256: string | undefined,
  bad: (key: string, text: string) => void,
): { url: string; sha256: string } | undefined {
  if (url === undefined && sha256 === undefined) return undefined;
  if (url === undefined) {
    bad("dataSha256", "is set without [dataUrl]: set both, or neither");
    return undefined;
  }
  let ok = true;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    !/^https?:$/.test(parsed.protocol) ||
    parsed.hostname === "" ||
    /[\s'"`$\\]/.test(url)
  ) {
    bad("dataUrl", `must be an http:// or https:// URL of one file, got ${shown(url)}`);
    ok = false;
  }
  if (sha256 === undefined) {
    bad(
      "dataSha256",
      "is required with [dataUrl]: the file's sha256 (`sha256sum FILE`), 64 hex digits",
    );
    ok = false;
  } else if (!/^[0-9a-f]{64}$/.test(sha256.toLowerCase())) {
    bad("dataSha256", `must be 64 hex digits (\`sha256sum FILE\`), got ${shown(sha256)}`);
    ok = false;
  }
  return ok && sha256 !== undefined ? { url, sha256: sha256.toLowerCase() } : undefined;
}

/** The date if `text` is a real calendar day written YYYY-MM-DD. */
function parseDay(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text ? text : undefined;
}
