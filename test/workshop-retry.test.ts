/**
 * Retrying by kind of failure, not by the words in it. The errors are the real ones: the program's
 * own readiness failure, produced by lib/httpsReadiness and carried back through the Pulumi CLI's
 * output as the Automation API hands it over, and a stack lock held by another update.
 */
import { waitForHttps, waitForDns, type ReadinessDeps } from "../lib/httpsReadiness";
import { commandError } from "../workshop/pulumi-process";
import { classify, withRetries, type RetryPolicy } from "../workshop/retry";

/** A failed `pulumi up` whose program threw `message`, as the CLI prints it. */
function failedUp(message: string, stack = "intro-ada"): Error {
  const stdout =
    `Updating (${stack})\n\n` +
    `     Type                       Name                    Status\n` +
    ` +   pulumi:pulumi:Stack        jetstream-notebooks-${stack}  **failed**\n\n` +
    `Diagnostics:\n  pulumi:pulumi:Stack (jetstream-notebooks-${stack}):\n` +
    `    error: Error: ${message}\n        at waitForHttps (/repo/lib/httpsReadiness.ts:300:13)\n`;
  const stderr = "error: update failed\n";
  return commandError({
    stdout,
    stderr,
    code: 255,
    toString: () => `code: 255\n stdout: ${stdout}\n stderr: ${stderr}\n err?: \n`,
  });
}

function deps(probe: ReadinessDeps["probe"], resolve?: ReadinessDeps["resolve"]): ReadinessDeps {
  let now = 0;
  return {
    resolve: resolve ?? (() => Promise.resolve(["192.0.2.10"])),
    probe,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    now: () => now,
    log: () => {},
  };
}

async function readinessFailure(kind: "no-certificate" | "connect" | "dns"): Promise<string> {
  const target = {
    hostname: "intro-ada.tra000000.projects.jetstream-cloud.org",
    check: "trusted" as const,
    timeoutMs: 900_000,
  };
  const err = (code: string) => Object.assign(new Error(`${code} from the proxy`), { code });
  try {
    if (kind === "dns") {
      await waitForDns(
        target,
        deps(
          () => Promise.reject(err("X")),
          () => Promise.reject(err("ENOTFOUND")),
        ),
      );
    } else {
      await waitForHttps(
        target,
        deps(() =>
          Promise.reject(
            err(kind === "connect" ? "ECONNREFUSED" : "ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR"),
          ),
        ),
      );
    }
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the wait did not fail");
}

describe("classify", () => {
  test.each(["no-certificate", "connect", "dns"] as const)(
    "the program's readiness failure (%s) is permanent, whatever words it holds",
    async (kind) => {
      const message = await readinessFailure(kind);
      if (kind === "no-certificate") expect(message).toMatch(/rate limit/);
      if (kind === "connect") expect(message).toMatch(/ECONNREFUSED/);
      expect(classify(failedUp(message))).toEqual({ transient: false, kind: "permanent" });
    },
  );

  test("a stack locked by another update is its own kind", () => {
    const locked = commandError({
      stdout: "",
      stderr:
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n",
      code: 255,
      toString: () => "the stack is currently locked by 1 lock(s)",
    });
    expect(locked.name).toBe("ConcurrentUpdateError");
    expect(classify(locked)).toMatchObject({ transient: true, kind: "locked" });
  });

  test("a network error is transient by its code", () => {
    const e = Object.assign(new Error("read failed"), { code: "ECONNRESET" });
    expect(classify(e)).toMatchObject({ transient: true, kind: "transient" });
  });
});

describe("withRetries", () => {
  const policy = (): RetryPolicy & { waited: number[] } => {
    const waited: number[] = [];
    return {
      attempts: 4,
      baseDelayMs: 5_000,
      maxDelayMs: 120_000,
      random: () => 0.5,
      sleep: (ms) => {
        waited.push(ms);
        return Promise.resolve();
      },
      waited,
    };
  };
  const lockError = () =>
    commandError({
      stdout: "",
      stderr: "error: [409] Conflict: Another update is currently in progress.\n",
      code: 255,
      toString: () => "[409] Conflict: Another update is currently in progress.",
    });

  test("a lock held by another update is waited out for as long as an update can take", async () => {
    const p = policy();
    let calls = 0;
    // The other update holds the lock for the first 20 tries.
    const result = await withRetries(p, () => {
      calls++;
      return calls <= 20 ? Promise.reject(lockError()) : Promise.resolve("done");
    });
    expect(result).toBe("done");
    const total = p.waited.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(10 * 60_000);
    // With backoff: the waits grow, and none is longer than the cap.
    expect(p.waited[1]).toBeGreaterThan(p.waited[0]);
    expect(Math.max(...p.waited)).toBeLessThanOrEqual(120_000);
  });

  test("the lock wait has an end, and the message says why it stopped", async () => {
    const p = { ...policy(), lockWaitMs: 30 * 60_000 };
    await expect(withRetries(p, () => Promise.reject(lockError()))).rejects.toThrow(
      /another update held the stack for \d+ min/,
    );
    const total = p.waited.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(30 * 60_000);
    expect(total).toBeLessThan(33 * 60_000);
  });

  test("a permanent failure is tried once", async () => {
    const p = policy();
    const message = await readinessFailure("no-certificate");
    let calls = 0;
    await expect(
      withRetries(p, () => {
        calls++;
        return Promise.reject(failedUp(message));
      }),
    ).rejects.toThrow(/was not ready/);
    expect(calls).toBe(1);
  });
});
