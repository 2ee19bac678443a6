/**
 * The readiness entry point the stack's local commands run: its settings from the environment, the
 * authoritative DNS lookup it uses, the timeout it reports by kind, and the flavor guard's scripts
 * run by a real shell.
 */
import { execFile } from "node:child_process";
import {
  authoritativeResolve,
  findAuthoritativeServers,
  ReadinessTimeoutError,
  type DnsClient,
  type ReadinessDeps,
} from "../lib/httpsReadiness";
import { readinessRequestFromEnv, runReadiness, timeoutLine } from "../lib/readinessMain";
import { flavorChangeScript, flavorRecordScript } from "../lib/readiness";

const hostname = "hpc-alice.cis230000.projects.jetstream-cloud.org";

describe("readinessRequestFromEnv", () => {
  test("reads a DNS wait with the floating IP and minutes", () => {
    expect(
      readinessRequestFromEnv({
        JN_WAIT: "dns",
        JN_HOSTNAME: hostname,
        JN_ADDRESS: "198.51.100.23",
        JN_TIMEOUT_MINUTES: "60",
      }),
    ).toEqual({
      wait: "dns",
      hostname,
      address: "198.51.100.23",
      timeoutMs: 3_600_000,
      check: "trusted",
    });
  });

  test.each([
    [{ JN_WAIT: "both" }, 'JN_WAIT must be dns or https, got "both"'],
    [{ JN_WAIT: "dns", JN_HOSTNAME: "a b" }, 'JN_HOSTNAME must be a DNS name, got "a b"'],
    [
      { JN_WAIT: "dns", JN_HOSTNAME: hostname, JN_TIMEOUT_MINUTES: "0" },
      'JN_TIMEOUT_MINUTES must be a number of minutes above 0, got "0"',
    ],
    [
      { JN_WAIT: "https", JN_HOSTNAME: hostname, JN_TIMEOUT_MINUTES: "1", JN_CERTIFICATE: "any" },
      'JN_CERTIFICATE must be trusted or names-host, got "any"',
    ],
  ])("refuses %j", (env, message) => {
    expect(() => readinessRequestFromEnv(env)).toThrow(message);
  });
});

/** A DNS that knows one zone with two servers, and records every question. */
function fakeDns(published: boolean) {
  const asked: string[] = [];
  const notFound = (name: string) =>
    Object.assign(new Error(`queryNs ENOTFOUND ${name}`), { code: "ENOTFOUND" });
  const client: DnsClient = {
    resolveNs(zone) {
      asked.push(`NS ${zone}`);
      return zone === "cis230000.projects.jetstream-cloud.org"
        ? Promise.resolve(["ns1.example.net", "ns2.example.net"])
        : Promise.reject(notFound(zone));
    },
    resolve4(name) {
      asked.push(`A ${name} (cache)`);
      if (name === "ns1.example.net") return Promise.resolve(["192.0.2.53"]);
      if (name === "ns2.example.net") return Promise.resolve(["192.0.2.54"]);
      // A caching resolver that saw NXDOMAIN before the record existed.
      return Promise.reject(notFound(name));
    },
    resolve4At(servers, name) {
      asked.push(`A ${name} @${servers.join(",")}`);
      return published ? Promise.resolve(["198.51.100.23"]) : Promise.reject(notFound(name));
    },
  };
  return { client, asked };
}

describe("the authoritative lookup", () => {
  test("finds the allocation's zone and its servers' addresses", async () => {
    const { client, asked } = fakeDns(true);
    await expect(findAuthoritativeServers(hostname, client)).resolves.toEqual({
      zone: "cis230000.projects.jetstream-cloud.org",
      servers: ["192.0.2.53", "192.0.2.54"],
    });
    expect(asked[0]).toBe("NS cis230000.projects.jetstream-cloud.org");
  });

  test("asks those servers, not the cache that still holds an NXDOMAIN, and finds the zone once", async () => {
    const { client, asked } = fakeDns(true);
    const resolve = authoritativeResolve(client);
    await expect(resolve(hostname)).resolves.toEqual(["198.51.100.23"]);
    await resolve(hostname);
    expect(asked.filter((q) => q.startsWith("NS"))).toHaveLength(1);
    expect(asked.filter((q) => q === `A ${hostname} (cache)`)).toEqual([]);
    expect(asked.filter((q) => q.startsWith(`A ${hostname} @`))).toEqual([
      `A ${hostname} @192.0.2.53,192.0.2.54`,
      `A ${hostname} @192.0.2.53,192.0.2.54`,
    ]);
  });

  test("without a zone that has servers, falls back to the system's resolver", async () => {
    const { client, asked } = fakeDns(true);
    const resolve = authoritativeResolve(client);
    await expect(resolve("nb.example.org")).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(asked).toContain("A nb.example.org (cache)");
  });
});

function scriptedDeps(resolveAnswer: () => Promise<string[]>): ReadinessDeps {
  let t = 0;
  return {
    resolve: resolveAnswer,
    probe: () => Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })),
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
    now: () => t,
    log: () => undefined,
  };
}

describe("runReadiness", () => {
  test("a DNS wait that never sees the record times out as a ReadinessTimeoutError, not permanent", async () => {
    const deps = scriptedDeps(() =>
      Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" })),
    );
    const error = await runReadiness(
      { wait: "dns", hostname, address: "198.51.100.23", timeoutMs: 60_000, check: "trusted" },
      deps,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadinessTimeoutError);
    const timeout = error as ReadinessTimeoutError;
    expect([timeout.wait, timeout.kind, timeout.permanent]).toEqual(["dns", "dns-missing", false]);
    expect(timeoutLine(timeout)).toBe(
      "JN_READINESS_TIMEOUT wait=dns kind=dns-missing permanent=false",
    );
  });

  test("an authoritative server that times out is waited out, not a failure at once", async () => {
    let calls = 0;
    const deps = scriptedDeps(() =>
      ++calls < 3
        ? Promise.reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" }))
        : Promise.resolve(["198.51.100.23"]),
    );
    await expect(
      runReadiness(
        { wait: "dns", hostname, address: "198.51.100.23", timeoutMs: 60_000, check: "trusted" },
        deps,
      ),
    ).resolves.toBe(`${hostname} resolves to 198.51.100.23 at its authoritative servers`);
  });

  test("the HTTPS probe connects to the floating IP, with the hostname as SNI", async () => {
    const seen: unknown[] = [];
    const deps = scriptedDeps(() => Promise.resolve([]));
    deps.probe = (request) => {
      seen.push(request);
      return Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
    };
    await expect(
      runReadiness(
        { wait: "https", hostname, address: "198.51.100.23", timeoutMs: 10_000, check: "trusted" },
        deps,
      ),
    ).rejects.toBeInstanceOf(ReadinessTimeoutError);
    expect(seen[0]).toEqual({
      hostname,
      port: 443,
      path: "/api",
      connectTo: { host: "198.51.100.23", port: 443 },
    });
  });
});

function sh(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      ["-c", script],
      { env: { PATH: process.env.PATH ?? "", ...env } },
      (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe("the flavor guard, in a real shell", () => {
  test("records the flavor and its disk", async () => {
    await expect(
      sh(flavorRecordScript(), { JN_FLAVOR: "m3.medium", JN_DISK_GB: "60" }),
    ).resolves.toEqual({
      code: 0,
      out: "m3.medium 60\n",
      err: "",
    });
  });

  test("refuses a smaller root disk, naming both flavors", async () => {
    const r = await sh(flavorChangeScript(), {
      JN_FLAVOR: "m3.quad",
      JN_DISK_GB: "20",
      PULUMI_COMMAND_STDOUT: "m3.medium 60",
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "[flavor] cannot change from m3.medium (60 GB root disk) to m3.quad (20 GB): a root disk cannot shrink. Choose a flavor with at least 60 GB, or export the work and replace the VM.\n",
    );
  });

  test.each([
    ["m3.small 20", "m3.medium", "60"],
    ["m3.quad 20", "m3.small", "20"],
    ["", "m3.small", "20"],
  ])("allows %j to %s", async (previous, flavor, disk) => {
    const r = await sh(flavorChangeScript(), {
      JN_FLAVOR: flavor,
      JN_DISK_GB: disk,
      PULUMI_COMMAND_STDOUT: previous,
    });
    expect(r).toEqual({ code: 0, out: `${flavor} ${disk}\n`, err: "" });
  });
});

describe("the command the stack's local commands run", () => {
  test("starts from the project's root and reports bad settings with exit 2", async () => {
    const { readinessCommand } = await import("../components/tlsProxy");
    const r = await new Promise<{ code: number; err: string }>((resolve) => {
      execFile(
        "sh",
        ["-c", readinessCommand],
        { cwd: `${__dirname}/..`, env: { PATH: process.env.PATH ?? "", JN_WAIT: "later" } },
        (e, _out, err) => resolve({ code: e ? Number((e as { code?: number }).code) : 0, err }),
      );
    });
    expect(r).toEqual({ code: 2, err: 'JN_WAIT must be dns or https, got "later"\n' });
  }, 60_000);
});
