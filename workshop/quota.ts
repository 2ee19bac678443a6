/**
 * Will the allocation hold the workshop? Compares what a roster needs (one instance and one floating
 * IP per student, cores and RAM per the flavor) with what the project's quota leaves free, before
 * anything is created: Jetstream2 allocations default to 10 or 25 floating IPs, and one per student
 * runs into that long before cores do. Also the SU estimate an instructor budgets with.
 */
import type { Flavor } from "../lib/flavors";

/** One quota: `limit` -1 means unlimited. */
export interface QuotaUsage {
  limit: number;
  used: number;
}

export interface ProjectQuota {
  instances: QuotaUsage;
  cores: QuotaUsage;
  ramMb: QuotaUsage;
  floatingIps: QuotaUsage;
  /** Neutron's; checked when the cloud reports them. */
  securityGroups?: QuotaUsage;
  securityGroupRules?: QuotaUsage;
  ports?: QuotaUsage;
  /** Whether the project has the network the stacks attach to, when fetch was asked about one. */
  network?: { name: string; exists: boolean };
}

/** Where quota numbers come from; OpenStack's APIs in production. */
export interface QuotaSource {
  /** For messages: which cloud and project was asked. */
  readonly description: string;
  /** @param ask.network A network name to look for in the project, reported as `network`. */
  fetch(ask?: { network?: string }): Promise<ProjectQuota>;
}

/** The network every allocation gets, once created; stacks attach to it unless `network` says. */
const autoAllocatedNetwork = "auto_allocated_network";

/**
 * The problem with a network the project does not have, naming the fix, or undefined. A new
 * allocation has no auto_allocated_network until something (Horizon, Exosphere, this command)
 * asks Neutron for its topology; every student's `up` would fail on the lookup.
 * @param network What fetch reported; undefined when it was not asked or could not tell.
 * @param file The settings file, named when the network is the settings' own choice.
 */
export function networkProblem(network: ProjectQuota["network"], file: string): string | undefined {
  if (network === undefined || network.exists) return undefined;
  if (network.name === autoAllocatedNetwork) {
    return `network: ${autoAllocatedNetwork} does not exist in this allocation's project yet (a new allocation gets it only when it is first asked for). Create it once, with the same openrc sourced: \`openstack network auto allocated topology create --or-show\`, then run plan again`;
  }
  return `${file}: [network] is ${network.name}, and this allocation's project has no network of that name: \`openstack network list\` shows the ones it has`;
}

export type QuotaResource = Exclude<keyof ProjectQuota, "network">;

export interface QuotaLine {
  resource: QuotaResource;
  need: number;
  limit: number;
  used: number;
  /** limit - used, or Infinity when unlimited. */
  free: number;
  ok: boolean;
}

const labels: Record<QuotaResource, string> = {
  instances: "instances",
  cores: "cores",
  ramMb: "RAM (MB)",
  floatingIps: "floating IPs",
  securityGroups: "security groups",
  securityGroupRules: "security group rules",
  ports: "ports",
};

/**
 * Rules in one notebook security group: SSH, 80 and 443 (or the notebook's port), and the two
 * egress rules Neutron adds to every new group (IPv4 and IPv6).
 */
export const rulesPerSecurityGroup = 5;

/**
 * What `students` notebooks of `flavor` need on Jetstream2. Each student has a port; the security
 * group is one per student, or with `sharedSecurityGroup` one for the whole workshop.
 */
export function quotaNeeds(
  students: number,
  flavor: Flavor,
  options: { sharedSecurityGroup?: boolean } = {},
): Record<QuotaResource, number> {
  const groups = options.sharedSecurityGroup ? (students > 0 ? 1 : 0) : students;
  return {
    securityGroups: groups,
    securityGroupRules: groups * rulesPerSecurityGroup,
    ports: students,
    instances: students,
    cores: students * flavor.vcpus,
    // Nova counts RAM in MiB; the flavor table gives GB as Jetstream2 publishes it (GiB in Nova).
    ramMb: students * flavor.ramGb * 1024,
    floatingIps: students,
  };
}

/** Compares needs with the quota's free room, one line per resource. */
export function checkQuota(need: Record<QuotaResource, number>, quota: ProjectQuota): QuotaLine[] {
  return (Object.keys(labels) as QuotaResource[]).flatMap((resource) => {
    const usage = quota[resource];
    // A cloud that does not report a quota is not checked for it.
    if (usage === undefined) return [];
    const { limit, used } = usage;
    const free = limit < 0 ? Infinity : Math.max(0, limit - used);
    return [{ resource, need: need[resource], limit, used, free, ok: need[resource] <= free }];
  });
}

/** The table `plan` prints, and for each shortfall a sentence naming the fix. */
export function describeQuota(
  lines: QuotaLine[],
  flavor: Flavor,
): { table: string[][]; problems: string[] } {
  const table = [
    ["resource", "needed", "limit", "in use", "free", ""],
    ...lines.map((l) => [
      labels[l.resource],
      String(l.need),
      l.limit < 0 ? "unlimited" : String(l.limit),
      String(l.used),
      l.free === Infinity ? "unlimited" : String(l.free),
      l.ok ? "ok" : "SHORT",
    ]),
  ];
  const problems = lines
    .filter((l) => !l.ok)
    .map((l) => {
      const short = l.need - l.free;
      const perStudent =
        l.resource === "cores"
          ? flavor.vcpus
          : l.resource === "ramMb"
            ? flavor.ramGb * 1024
            : l.resource === "securityGroupRules"
              ? rulesPerSecurityGroup
              : 1;
      const fits = Math.floor(l.free / perStudent);
      return `quota: ${labels[l.resource]} needed ${l.need}, free ${l.free} (limit ${l.limit}, in use ${l.used}): ${short} short, room for ${fits} student(s). Ask Jetstream2 support for more (or free some), use a smaller flavor, or split the roster.`;
    });
  return { table, problems };
}

export interface SuEstimate {
  hours: number;
  suPerHour: number;
  students: number;
  su: number;
}

/**
 * SUs the notebooks cost if they run from `now` until the end of the expiry day: Jetstream2 charges an
 * active instance's flavor rate every hour (a stopped one half, a shelved one nothing); the notebooks
 * stay active, so the workshop's length is the cost.
 */
export function suEstimate(
  flavor: Flavor,
  students: number,
  now: Date,
  expiresAt: Date,
): SuEstimate {
  const hours = Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / 3_600_000));
  return { hours, suPerHour: flavor.suPerHour, students, su: hours * flavor.suPerHour * students };
}

// ---------------------------------------------------------------------------------------------
// OpenStack: Keystone application-credential auth, Nova limits, Neutron quota details.

type Fetch = typeof fetch;

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
}

interface TokenBody {
  token: { project?: { id: string; name?: string }; catalog?: CatalogEntry[] };
}

interface NovaLimits {
  limits: {
    absolute: Record<string, number | undefined>;
  };
}

interface NeutronNetworks {
  networks?: { id: string }[];
}

interface NeutronQuotaDetails {
  quota: Record<string, { limit: number; used: number; reserved?: number } | undefined>;
}

export class QuotaSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuotaSourceError";
  }
}

/** The variable that lets a lab cloud's Keystone be reached over plain HTTP. */
export const allowPlainHttpKeystone = "WORKSHOP_ALLOW_HTTP_KEYSTONE";

const loopback = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Refuses a Keystone URL the credential secret would cross a network over in clear text: https://,
 * or http:// to this machine (a tunnel), or http:// with WORKSHOP_ALLOW_HTTP_KEYSTONE=1 for a lab
 * cloud, which returns the warning to show. Throws QuotaSourceError otherwise.
 */
export function checkAuthUrl(url: string, env: NodeJS.ProcessEnv): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QuotaSourceError(
      `OS_AUTH_URL ${JSON.stringify(url)} is not a URL: source the openrc file from Jetstream2's Horizon`,
    );
  }
  if (u.protocol === "https:") return undefined;
  if (u.protocol !== "http:") {
    throw new QuotaSourceError(`OS_AUTH_URL must be an https:// URL, got ${u.protocol}//...`);
  }
  if (loopback.has(u.hostname)) return undefined;
  if (env[allowPlainHttpKeystone] === "1") {
    return `WARNING: plain HTTP, the application credential secret crosses the network unencrypted (${allowPlainHttpKeystone}=1)`;
  }
  throw new QuotaSourceError(
    `OS_AUTH_URL ${u.origin} is plain HTTP: the application credential secret would cross the network in clear text. Use Keystone's https:// URL (Jetstream2's is https://js2.jetstream-cloud.org:5000/v3/); for a lab cloud without TLS, set ${allowPlainHttpKeystone}=1 to accept the risk`,
  );
}

/**
 * Reads quota and usage from OpenStack with the standard OS_* variables of an application credential
 * (the openrc file Jetstream2's Horizon hands out): OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID and
 * OS_APPLICATION_CREDENTIAL_SECRET, optionally OS_REGION_NAME and OS_INTERFACE.
 */
export class OpenStackQuotaSource implements QuotaSource {
  readonly description: string;
  private readonly authUrl: string;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly fetchImpl: Fetch = fetch,
  ) {
    const missing = [
      "OS_AUTH_URL",
      "OS_APPLICATION_CREDENTIAL_ID",
      "OS_APPLICATION_CREDENTIAL_SECRET",
    ].filter((k) => !env[k]);
    if (missing.length > 0) {
      throw new QuotaSourceError(
        `${missing.join(", ")} not set: source the application credential's openrc file from Jetstream2's Horizon (Identity > Application Credentials), or pass --skip-quota`,
      );
    }
    // Keystone's URL is given with or without /v3; tokens live under /v3/auth/tokens either way.
    const base = (env.OS_AUTH_URL as string).replace(/\/+$/, "");
    const plain = checkAuthUrl(base, env);
    this.authUrl = base.endsWith("/v3") ? base : `${base}/v3`;
    this.description = `OpenStack project of application credential ${env.OS_APPLICATION_CREDENTIAL_ID} at ${this.authUrl}${plain ? ` (${plain})` : ""}`;
  }

  async fetch(ask: { network?: string } = {}): Promise<ProjectQuota> {
    const { token, body } = await this.authenticate();
    const projectId = body.token.project?.id;
    if (!projectId) {
      throw new QuotaSourceError(
        "Keystone's token has no project: make the application credential in the allocation's project",
      );
    }
    const catalog = body.token.catalog ?? [];
    const compute = this.endpoint(catalog, "compute");
    const network = this.endpoint(catalog, "network");
    const limits = await this.getJson<NovaLimits>(`${compute}/limits`, token);
    const details = await this.getJson<NeutronQuotaDetails>(
      `${network}/v2.0/quotas/${encodeURIComponent(projectId)}/details.json`,
      token,
    );
    // Neutron filters on the exact name and lists the project's own networks and shared ones.
    const found =
      ask.network === undefined
        ? undefined
        : await this.getJson<NeutronNetworks>(
            `${network}/v2.0/networks?name=${encodeURIComponent(ask.network)}&fields=id`,
            token,
          );
    const abs = limits.limits?.absolute ?? {};
    const nova = (limitKey: string, usedKey: string): QuotaUsage => {
      const limit = abs[limitKey];
      const used = abs[usedKey];
      if (typeof limit !== "number" || typeof used !== "number") {
        throw new QuotaSourceError(`Nova's /limits answer has no ${limitKey}/${usedKey}`);
      }
      return { limit, used };
    };
    const fip = details.quota?.floatingip;
    if (!fip || typeof fip.limit !== "number" || typeof fip.used !== "number") {
      throw new QuotaSourceError("Neutron's quota details have no floatingip limit/used");
    }
    // Reported by Neutron's quota details; a cloud without one is not checked for it.
    const optional = (name: "securityGroups" | "securityGroupRules" | "ports", key: string) => {
      const q = details.quota?.[key];
      return q && typeof q.limit === "number" && typeof q.used === "number"
        ? { [name]: { limit: q.limit, used: q.used + (q.reserved ?? 0) } }
        : {};
    };
    return {
      ...(ask.network !== undefined
        ? { network: { name: ask.network, exists: (found?.networks ?? []).length > 0 } }
        : {}),
      ...optional("securityGroups", "security_group"),
      ...optional("securityGroupRules", "security_group_rule"),
      ...optional("ports", "port"),
      instances: nova("maxTotalInstances", "totalInstancesUsed"),
      cores: nova("maxTotalCores", "totalCoresUsed"),
      ramMb: nova("maxTotalRAMSize", "totalRAMUsed"),
      // Reserved floating IPs are being allocated right now; count them as taken.
      floatingIps: { limit: fip.limit, used: fip.used + (fip.reserved ?? 0) },
    };
  }

  private async authenticate(): Promise<{ token: string; body: TokenBody }> {
    const url = `${this.authUrl}/auth/tokens`;
    const res = await this.call(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["application_credential"],
            application_credential: {
              id: this.env.OS_APPLICATION_CREDENTIAL_ID,
              secret: this.env.OS_APPLICATION_CREDENTIAL_SECRET,
            },
          },
        },
      }),
    });
    if (res.status === 401) {
      throw new QuotaSourceError(
        `Keystone refused the application credential (401) at ${url}: check OS_APPLICATION_CREDENTIAL_ID/SECRET and that it has not expired`,
      );
    }
    if (res.status !== 201 && res.status !== 200) {
      throw new QuotaSourceError(
        `Keystone answered ${res.status} at ${url}: ${(await res.text()).slice(0, 200)}`,
      );
    }
    const token = res.headers.get("x-subject-token");
    if (!token)
      throw new QuotaSourceError(`Keystone's answer at ${url} has no X-Subject-Token header`);
    return { token, body: (await res.json()) as TokenBody };
  }

  private endpoint(catalog: CatalogEntry[], type: string): string {
    const region = this.env.OS_REGION_NAME;
    // openrc files say "public" or "publicURL"; the catalog says "public".
    const iface = (this.env.OS_INTERFACE ?? "public").replace(/URL$/, "");
    const entry = catalog.find((c) => c.type === type);
    const endpoint = entry?.endpoints.find(
      (e) => e.interface === iface && (!region || e.region_id === region || e.region === region),
    );
    if (!endpoint) {
      throw new QuotaSourceError(
        `the service catalog has no ${iface} ${type} endpoint${region ? ` in region ${region}` : ""}; check OS_REGION_NAME and OS_INTERFACE`,
      );
    }
    return endpoint.url.replace(/\/+$/, "");
  }

  private async getJson<T>(url: string, token: string): Promise<T> {
    const res = await this.call(url, {
      headers: { "X-Auth-Token": token, Accept: "application/json" },
    });
    if (res.status !== 200) {
      throw new QuotaSourceError(
        `GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
      );
    }
    return (await res.json()) as T;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      // No redirects: a 307 to http:// would resend the credential in clear text.
      return await this.fetchImpl(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new QuotaSourceError(
        `cannot reach ${new URL(url).origin}: ${cause ?? (e as Error).message}`,
      );
    }
  }
}
