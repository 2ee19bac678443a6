/**
 * The OpenStack quota source against a local HTTP server that answers with the JSON shapes Keystone,
 * Nova and Neutron document (application-credential token, GET /limits, GET
 * /v2.0/quotas/{project}/details). This proves the requests and the parsing; it is not Jetstream2.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { findFlavor } from "../lib/flavors";
import {
  checkQuota,
  describeQuota,
  OpenStackQuotaSource,
  quotaNeeds,
  suEstimate,
  type ProjectQuota,
} from "../workshop/quota";

interface Seen {
  method: string;
  url: string;
  token?: string;
  body?: unknown;
}

const projectId = "8f7c3a0b5e2d4c1a9b6e0f3d2c1b4a59";
const token = "gAAAAABtest-token";

function startOpenStack(
  opts: { keystoneStatus?: number; floatingipReserved?: number; networks?: string[] } = {},
) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const text = Buffer.concat(chunks).toString("utf8");
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        token: req.headers["x-auth-token"] as string | undefined,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method === "POST" && req.url === "/identity/v3/auth/tokens") {
        if (opts.keystoneStatus === 401) {
          json(401, {
            error: {
              code: 401,
              message: "The request you have made requires authentication.",
              title: "Unauthorized",
            },
          });
          return;
        }
        json(
          201,
          {
            token: {
              methods: ["application_credential"],
              project: {
                id: projectId,
                name: "TRA000000",
                domain: { id: "default", name: "Default" },
              },
              catalog: [
                {
                  type: "compute",
                  name: "nova",
                  endpoints: [
                    {
                      interface: "internal",
                      region_id: "IU",
                      region: "IU",
                      url: "http://10.0.0.1:8774/v2.1",
                    },
                    {
                      interface: "public",
                      region_id: "Elsewhere",
                      region: "Elsewhere",
                      url: "http://192.0.2.1/v2.1",
                    },
                    {
                      interface: "public",
                      region_id: "IU",
                      region: "IU",
                      url: `${base}/compute/v2.1/`,
                    },
                  ],
                },
                {
                  type: "network",
                  name: "neutron",
                  endpoints: [
                    { interface: "public", region_id: "IU", region: "IU", url: `${base}/network` },
                  ],
                },
              ],
            },
          },
          { "X-Subject-Token": token },
        );
        return;
      }
      if (req.headers["x-auth-token"] !== token) {
        json(401, { error: "bad token" });
        return;
      }
      if (req.method === "GET" && req.url === "/compute/v2.1/limits") {
        json(200, {
          limits: {
            rate: [],
            absolute: {
              maxServerMeta: 128,
              maxTotalInstances: 40,
              maxPersonality: 5,
              totalServerGroupsUsed: 0,
              maxImageMeta: 128,
              maxPersonalitySize: 10240,
              maxTotalRAMSize: 307200,
              maxServerGroups: 10,
              maxSecurityGroupRules: -1,
              maxTotalKeypairs: 100,
              totalCoresUsed: 4,
              totalRAMUsed: 12288,
              maxSecurityGroups: -1,
              totalFloatingIpsUsed: 0,
              totalInstancesUsed: 2,
              maxServerGroupMembers: 10,
              maxTotalFloatingIps: -1,
              totalSecurityGroupsUsed: 0,
              maxTotalCores: 100,
            },
          },
        });
        return;
      }
      if (req.method === "GET" && req.url === `/network/v2.0/quotas/${projectId}/details.json`) {
        json(200, {
          quota: {
            network: { used: 1, limit: 100, reserved: 0 },
            floatingip: { used: 2, limit: 25, reserved: opts.floatingipReserved ?? 0 },
            security_group_rule: { used: 4, limit: 100, reserved: 0 },
            port: { used: 5, limit: 250, reserved: 0 },
            security_group: { used: 3, limit: 50, reserved: 0 },
          },
        });
        return;
      }
      const query = new URL(req.url ?? "/", base);
      if (req.method === "GET" && query.pathname === "/network/v2.0/networks") {
        // Neutron filters by exact name; a fresh allocation has no auto_allocated_network yet.
        const name = query.searchParams.get("name");
        const networks = (opts.networks ?? []).filter((n) => name === null || n === name);
        json(200, { networks: networks.map((n, i) => ({ id: `net-${i}`, name: n })) });
        return;
      }
      json(404, { error: `no route ${req.method} ${req.url}` });
    });
  });
  return new Promise<{ server: http.Server; seen: Seen[]; authUrl: string }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ server, seen, authUrl: `http://127.0.0.1:${port}/identity/v3/` });
    });
  });
}

const credentials = {
  OS_APPLICATION_CREDENTIAL_ID: "appcred-id-1",
  OS_APPLICATION_CREDENTIAL_SECRET: "appcred-secret-1",
  OS_REGION_NAME: "IU",
  OS_INTERFACE: "public",
};

describe("OpenStackQuotaSource", () => {
  let os: Awaited<ReturnType<typeof startOpenStack>>;
  afterEach(() => new Promise<void>((r) => os.server.close(() => r())));

  test("authenticates with the application credential and reads Nova limits and Neutron details", async () => {
    os = await startOpenStack({ floatingipReserved: 1 });
    const source = new OpenStackQuotaSource({ ...credentials, OS_AUTH_URL: os.authUrl });
    const quota = await source.fetch();
    expect(quota).toEqual<ProjectQuota>({
      instances: { limit: 40, used: 2 },
      cores: { limit: 100, used: 4 },
      ramMb: { limit: 307200, used: 12288 },
      floatingIps: { limit: 25, used: 3 },
      securityGroups: { limit: 50, used: 3 },
      securityGroupRules: { limit: 100, used: 4 },
      ports: { limit: 250, used: 5 },
    });
    expect(os.seen.map((s) => `${s.method} ${s.url} ${s.token ?? "-"}`)).toEqual([
      "POST /identity/v3/auth/tokens -",
      `GET /compute/v2.1/limits ${token}`,
      `GET /network/v2.0/quotas/${projectId}/details.json ${token}`,
    ]);
    expect(os.seen[0].body).toEqual({
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: "appcred-id-1", secret: "appcred-secret-1" },
        },
      },
    });
  });

  test.each([
    ["a fresh allocation without it", [], false],
    ["an allocation that has it", ["auto_allocated_network", "other"], true],
  ])(
    "asked for the stacks' network, it says whether the project has it: %s",
    async (_name, networks, exists) => {
      os = await startOpenStack({ networks });
      const source = new OpenStackQuotaSource({ ...credentials, OS_AUTH_URL: os.authUrl });
      const quota = await source.fetch({ network: "auto_allocated_network" });
      expect(quota.network).toEqual({ name: "auto_allocated_network", exists });
      expect(os.seen.map((s) => `${s.method} ${s.url} ${s.token ?? "-"}`)).toContain(
        `GET /network/v2.0/networks?name=auto_allocated_network&fields=id ${token}`,
      );
    },
  );

  test("an auth URL without /v3 works too", async () => {
    os = await startOpenStack();
    const source = new OpenStackQuotaSource({
      ...credentials,
      OS_AUTH_URL: os.authUrl.replace(/\/v3\/$/, ""),
    });
    await expect(source.fetch()).resolves.toMatchObject({ instances: { limit: 40 } });
  });

  test("a refused credential says what to check", async () => {
    os = await startOpenStack({ keystoneStatus: 401 });
    const source = new OpenStackQuotaSource({ ...credentials, OS_AUTH_URL: os.authUrl });
    await expect(source.fetch()).rejects.toThrow(
      /Keystone refused the application credential \(401\).*check OS_APPLICATION_CREDENTIAL_ID\/SECRET/,
    );
  });

  test("a region the catalog lacks is named", async () => {
    os = await startOpenStack();
    const source = new OpenStackQuotaSource({
      ...credentials,
      OS_REGION_NAME: "TACC",
      OS_AUTH_URL: os.authUrl,
    });
    await expect(source.fetch()).rejects.toThrow(
      "the service catalog has no public compute endpoint in region TACC; check OS_REGION_NAME and OS_INTERFACE",
    );
  });

  test.each([
    [
      "http://keystone.example.org:5000/v3",
      undefined,
      /plain HTTP.*WORKSHOP_ALLOW_HTTP_KEYSTONE=1/,
    ],
    ["ftp://keystone.example.org/v3", undefined, /must be an https:\/\/ URL/],
    ["not a url", undefined, /is not a URL/],
  ])("OS_AUTH_URL %s is refused before the secret is sent", (url, allow, message) => {
    let requests = 0;
    const fetchSpy = (() => {
      requests++;
      return Promise.reject(new Error("sent"));
    }) as unknown as typeof fetch;
    expect(
      () =>
        new OpenStackQuotaSource(
          { ...credentials, OS_AUTH_URL: url, WORKSHOP_ALLOW_HTTP_KEYSTONE: allow },
          fetchSpy,
        ),
    ).toThrow(message);
    expect(requests).toBe(0);
  });

  test("plain HTTP to a lab cloud only with the explicit override, and then loudly", () => {
    const source = new OpenStackQuotaSource({
      ...credentials,
      OS_AUTH_URL: "http://keystone.lab.example:5000/v3",
      WORKSHOP_ALLOW_HTTP_KEYSTONE: "1",
    });
    expect(source.description).toMatch(/WARNING: plain HTTP/);
  });

  test("missing variables are named before any request", () => {
    os = { server: http.createServer(), seen: [], authUrl: "" };
    expect(() => new OpenStackQuotaSource({ OS_AUTH_URL: "https://example.org:5000/v3" })).toThrow(
      /^OS_APPLICATION_CREDENTIAL_ID, OS_APPLICATION_CREDENTIAL_SECRET not set: source the application credential's openrc/,
    );
  });
});

describe("quota arithmetic", () => {
  const small = findFlavor("m3.small")!;
  const quota: ProjectQuota = {
    instances: { limit: 40, used: 2 },
    cores: { limit: 100, used: 4 },
    ramMb: { limit: -1, used: 12288 },
    floatingIps: { limit: 25, used: 2 },
  };

  test("30 m3.small students fit everything but the floating IPs", () => {
    const lines = checkQuota(quotaNeeds(30, small), quota);
    expect(lines.map((l) => [l.resource, l.need, l.free, l.ok])).toEqual([
      ["instances", 30, 38, true],
      ["cores", 60, 96, true],
      ["ramMb", 30 * 6 * 1024, Infinity, true],
      ["floatingIps", 30, 23, false],
    ]);
    expect(describeQuota(lines, small).problems).toEqual([
      "quota: floating IPs needed 30, free 23 (limit 25, in use 2): 7 short, room for 23 student(s). Ask Jetstream2 support for more (or free some), use a smaller flavor, or split the roster.",
    ]);
  });

  test("cores shortfalls count students by the flavor's cores", () => {
    const quad = findFlavor("m3.quad")!;
    const lines = checkQuota(quotaNeeds(25, quad), quota);
    const cores = lines.find((l) => l.resource === "cores")!;
    expect(cores).toMatchObject({ need: 100, free: 96, ok: false });
    expect(describeQuota(lines, quad).problems[0]).toContain("4 short, room for 24 student(s)");
  });

  test("security groups, rules and ports: Neutron's defaults of 10 groups and 100 rules stop a class of 40 with a group each", () => {
    const neutronDefaults: ProjectQuota = {
      ...quota,
      instances: { limit: -1, used: 0 },
      cores: { limit: -1, used: 0 },
      floatingIps: { limit: -1, used: 0 },
      securityGroups: { limit: 10, used: 1 },
      securityGroupRules: { limit: 100, used: 4 },
      ports: { limit: 500, used: 3 },
    };
    const perStudent = checkQuota(quotaNeeds(40, small), neutronDefaults);
    expect(
      perStudent
        .filter((l) => l.resource.startsWith("security") || l.resource === "ports")
        .map((l) => [l.resource, l.need, l.free, l.ok]),
    ).toEqual([
      ["securityGroups", 40, 9, false],
      ["securityGroupRules", 200, 96, false],
      ["ports", 40, 497, true],
    ]);
    expect(describeQuota(perStudent, small).problems).toEqual([
      "quota: security groups needed 40, free 9 (limit 10, in use 1): 31 short, room for 9 student(s). Ask Jetstream2 support for more (or free some), use a smaller flavor, or split the roster.",
      "quota: security group rules needed 200, free 96 (limit 100, in use 4): 104 short, room for 19 student(s). Ask Jetstream2 support for more (or free some), use a smaller flavor, or split the roster.",
    ]);
    // One group for the whole workshop fits with room to spare.
    const shared = checkQuota(
      quotaNeeds(40, small, { sharedSecurityGroup: true }),
      neutronDefaults,
    );
    expect(shared.filter((l) => !l.ok)).toEqual([]);
    expect(shared.find((l) => l.resource === "securityGroupRules")?.need).toBe(5);
  });

  test("SU estimate: flavor rate x students x hours until the end of the expiry day", () => {
    const now = new Date("2026-06-29T12:00:00Z");
    const end = new Date("2026-06-30T23:59:59.999Z");
    expect(suEstimate(small, 40, now, end)).toEqual({
      hours: 36,
      suPerHour: 2,
      students: 40,
      su: 2880,
    });
    expect(suEstimate(small, 40, end, now).su).toBe(0);
  });
});
