/**
 * The stack's settings: every `jetstream-notebooks:` config key, parsed and checked in one place
 * before any resource is declared. Pure and free of Pulumi imports on purpose: the workshop CLI
 * validates forty students' configs with the same function before it creates anything.
 */
import { defaultFlavor, findFlavor, flavors, type Flavor } from "./flavors";
import { parseTlsSettings, type TlsSettings } from "./tlsSettings";
import { jetstreamHostname } from "./urls";
import { version as packageVersion } from "../package.json";

/** Config key (without the `jetstream-notebooks:` namespace) to the raw string Pulumi holds. */
export type RawConfig = Record<string, string | undefined>;

export type Target = "local" | "jetstream";

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
}

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
  /** `<workshop>-<student>.<allocation>.projects.jetstream-cloud.org`, or "" without allocation. */
  hostname: string;
}

export type StackConfig = LocalStackConfig | JetstreamStackConfig;

/** Every problem found in a stack's config, one per line in `message`. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid jetstream-notebooks config:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** The config keys this project reads, so a misspelt key is an error rather than silently unused. */
export const configKeys = [
  "target",
  "student",
  "workshop",
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
  "course",
  "dataUrl",
  "dataSha256",
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
  notebookPort: "8888",
  course: "course/",
} as const;

// A DNS label: lowercase letters, digits and inner hyphens, starting with a letter.
const dnsLabel = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
// Workshop and student join into the VM's name, `<workshop>-<student>`, itself one DNS label.
const maxInstanceName = 63;
const digestRef = /^[a-z0-9]+([._/:-][a-z0-9]+)*@sha256:[0-9a-f]{64}$/;
const stackName = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;
const dockerHubUser = /^[a-z0-9]{4,30}$/;
const repository = /^[a-z0-9]+([._-][a-z0-9]+)*$/;
const tag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const sshPublicKey =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;
const firstNotebookPort = 1024;

/**
 * Parses and validates a stack's raw config. Collects every problem before throwing one
 * {@link ConfigError}, so a student's config is fixed in one round.
 */
export function parseStackConfig(
  raw: RawConfig,
  ctx: { stackName: string; now: Date },
): StackConfig {
  const problems: string[] = [];
  const bad = (key: string, text: string) => problems.push(`[${key}] ${text}`);
  const get = (key: string): string | undefined => {
    const v = raw[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  for (const key of Object.keys(raw)) {
    if (!(configKeys as readonly string[]).includes(key)) {
      bad(key, `is not a jetstream-notebooks setting; known settings: ${configKeys.join(", ")}`);
    }
  }

  const targetRaw = get("target") ?? configDefaults.target;
  let target: Target = "local";
  if (targetRaw === "local" || targetRaw === "jetstream") target = targetRaw;
  else bad("target", `must be "local" or "jetstream", got ${JSON.stringify(targetRaw)}`);

  const student = get("student") ?? ctx.stackName;
  if (!dnsLabel.test(student)) {
    bad(
      "student",
      `must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got ${JSON.stringify(student)}${get("student") === undefined ? " (the stack name); set it with `pulumi config set student <name>`" : ""}`,
    );
  }
  const workshop = get("workshop") ?? configDefaults.workshop;
  if (!dnsLabel.test(workshop)) {
    bad(
      "workshop",
      `must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got ${JSON.stringify(workshop)}`,
    );
  }
  if (dnsLabel.test(student) && dnsLabel.test(workshop)) {
    const length = workshop.length + 1 + student.length;
    if (length > maxInstanceName) {
      bad(
        "student",
        `and [workshop] join into the VM name "${workshop}-${student}" (${length} characters), which must be at most ${maxInstanceName}: shorten one of them`,
      );
    }
  }

  const expiresRaw = get("expires");
  let expires: string | undefined;
  if (expiresRaw !== undefined) {
    const day = parseDay(expiresRaw);
    if (day === undefined) {
      bad(
        "expires",
        `must be a date YYYY-MM-DD such as 2030-06-30, got ${JSON.stringify(expiresRaw)}`,
      );
    } else if (expiresRaw < ctx.now.toISOString().slice(0, 10)) {
      bad("expires", `is in the past (${expiresRaw}): set the workshop's last day`);
    } else {
      expires = day;
    }
  } else if (target === "jetstream") {
    bad("expires", "is required for target jetstream: the workshop's last day, YYYY-MM-DD");
  }

  const image = parseImageSource(get, bad, target);

  const flavorName = get("flavor") ?? configDefaults.flavor;
  const flavor = findFlavor(flavorName);
  if (!flavor) {
    bad(
      "flavor",
      `must be a Jetstream2 flavor (${[...flavors.keys()].join(", ")}), got ${JSON.stringify(flavorName)}`,
    );
  }

  const portRaw = get("notebookPort") ?? configDefaults.notebookPort;
  const notebookPort = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || notebookPort < firstNotebookPort || notebookPort > 65535) {
    bad(
      "notebookPort",
      `must be a port number from ${firstNotebookPort} to 65535 (lower ports are kept for SSH and the HTTPS proxy), got ${JSON.stringify(portRaw)}`,
    );
  }

  // vmImage, network, floatingIpPool and the CIDRs are only read for jetstream; a local stack
  // ignores them, so a student's settings may be kept while the instructor tries them locally.
  const sshCidrRaw = get("sshCidr");
  const notebookCidrRaw = get("notebookCidr") ?? configDefaults.notebookCidr;
  if (target === "jetstream") {
    if (sshCidrRaw === undefined) {
      bad(
        "sshCidr",
        "is required for target jetstream: the address allowed to SSH to the VM, such as 203.0.113.7/32 (your own address)",
      );
    } else {
      checkCidr(sshCidrRaw, "sshCidr", bad);
    }
    checkCidr(notebookCidrRaw, "notebookCidr", bad);
  }

  const keyRaw = get("sshPublicKey");
  if (keyRaw !== undefined && !sshPublicKey.test(keyRaw)) {
    bad(
      "sshPublicKey",
      'must be one OpenSSH public key line such as "ssh-ed25519 AAAAC3... you@laptop" (the contents of ~/.ssh/id_ed25519.pub)',
    );
  }
  const allocation = get("allocation");
  if (allocation !== undefined && !dnsLabel.test(allocation)) {
    bad(
      "allocation",
      `must be the allocation name in lowercase, such as "cis230000", got ${JSON.stringify(allocation)}`,
    );
  }

  const namesOk =
    dnsLabel.test(student) &&
    dnsLabel.test(workshop) &&
    instanceName(workshop, student).length <= maxInstanceName;
  const allocationOk = allocation !== undefined && dnsLabel.test(allocation);
  const hostname =
    namesOk && allocationOk ? jetstreamHostname(instanceName(workshop, student), allocation) : "";
  const tls = parseTlsSettings({
    target,
    tls: get("tls"),
    acmeEmail: get("acmeEmail"),
    acmeCa: get("acmeCa"),
    proxyImage: get("proxyImage"),
    // With an allocation but a bad name (reported above), the hostname is not missing, only not
    // derivable yet: a stand-in keeps the HTTPS check from reporting the same mistake twice.
    hostname: hostname || (allocation !== undefined ? "hostname.invalid" : undefined),
    hostnameKey: "allocation",
  });
  problems.push(...tls.problems);
  const data = parseDataSettings(get("dataUrl"), get("dataSha256"), bad);

  if (problems.length > 0 || !flavor || !image || !tls.settings) throw new ConfigError(problems);

  const common: CommonConfig = {
    student,
    workshop,
    expires,
    image,
    flavor,
    notebookPort,
    warnings: tls.warnings,
    course: get("course") ?? configDefaults.course,
    data,
  };
  if (target === "local") return { target, ...common };
  return {
    target,
    ...common,
    expires: expires as string,
    vmImage: get("vmImage") ?? configDefaults.vmImage,
    network: get("network") ?? configDefaults.network,
    floatingIpPool: get("floatingIpPool") ?? configDefaults.floatingIpPool,
    sshCidr: sshCidrRaw as string,
    notebookCidr: notebookCidrRaw,
    sshPublicKey: keyRaw,
    allocation,
    tls: tls.settings,
    hostname,
  };
}

/** Every physical name (VM, key pair, container, volume) derives from this one DNS label. */
export function instanceName(workshop: string, student: string): string {
  return `${workshop}-${student}`;
}

function parseImageSource(
  get: (key: string) => string | undefined,
  bad: (key: string, text: string) => void,
  target: Target,
): ImageSource | undefined {
  const ref = get("image");
  const stack = get("imageStack");
  const buildRaw = get("buildImage");
  let build: boolean | undefined;
  if (buildRaw === "true" || buildRaw === "false") build = buildRaw === "true";
  else if (buildRaw !== undefined) {
    bad("buildImage", `must be true or false, got ${JSON.stringify(buildRaw)}`);
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
    if (!digestRef.test(ref)) {
      bad(
        "image",
        `must be pinned by digest, such as docker.io/instructor/jupyter-notebook@sha256:<64 hex digits> (the instructor stack's imageRef output), got ${JSON.stringify(ref)}`,
      );
      return undefined;
    }
    return { kind: "ref", ref };
  }
  if (stack !== undefined) {
    if (!stackName.test(stack)) {
      bad(
        "imageStack",
        `must be a stack name such as "instructor" or "org/jetstream-notebooks/instructor", got ${JSON.stringify(stack)}`,
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
      `must be a lowercase repository name such as "jupyter-notebook", got ${JSON.stringify(repositoryName)}`,
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
    bad("imageTag", `must be a Docker tag such as "0.1.0", got ${JSON.stringify(tagName)}`);
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
      `must be a Docker Hub user name (4 to 30 lowercase letters and digits), got ${JSON.stringify(user)}`,
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
    bad("dataUrl", `must be an http:// or https:// URL of one file, got ${JSON.stringify(url)}`);
    ok = false;
  }
  if (sha256 === undefined) {
    bad(
      "dataSha256",
      "is required with [dataUrl]: the file's sha256 (`sha256sum FILE`), 64 hex digits",
    );
    ok = false;
  } else if (!/^[0-9a-f]{64}$/.test(sha256.toLowerCase())) {
    bad("dataSha256", `must be 64 hex digits (\`sha256sum FILE\`), got ${JSON.stringify(sha256)}`);
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

/** Checks an IPv4 CIDR such as 203.0.113.7/32 with no host bits set. */
function checkCidr(text: string, key: string, bad: (key: string, text: string) => void): void {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix > 32) {
    const hint = /^[\d.]+$/.test(text) ? ` (for one address write ${text}/32)` : "";
    bad(key, `must be an IPv4 CIDR such as 203.0.113.7/32, got ${JSON.stringify(text)}${hint}`);
    return;
  }
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    const n = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
    bad(key, `has host bits set (${text}): write the network, ${n}/${prefix}, or the address/32`);
  }
}
