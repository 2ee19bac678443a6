/**
 * Which failures are worth another try, and trying again with exponential backoff and full jitter
 * (so forty students that hit the same rate limit do not come back in lockstep).
 *
 * A failure is classed by its kind first: the program's permanent tag (lib/errorKind.ts, which
 * survives the trip through the CLI's output), the Automation API's error class for a stack locked
 * by another update, a Node error code. Only then by words, for what the CLI reports as plain text
 * (a backend's 503, an object store's SlowDown); words never override a kind.
 */
import { isPermanent } from "../lib/errorKind";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * `locked`: another update holds the stack; it ends when that update ends (minutes), so it is
 * waited out on its own budget. `transient`: goes away by itself soon. `permanent`: needs a change.
 */
export type ErrorKind = "permanent" | "locked" | "transient";

export type Classification =
  | { transient: true; kind: "locked" | "transient"; reason: string }
  | { transient: false; kind: "permanent" };

const networkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

const lockPatterns = [
  /conflict: Another update is currently in progress/i,
  /the stack is currently locked/i,
];

// Each pattern is a failure that goes away by itself: the network, an overloaded API, a lock another
// update holds for a while. Quota, auth and program errors stay; retrying them only wastes minutes.
const transientPatterns: [RegExp, string][] = [
  [/\b429\b|too many requests|rate limit/i, "rate limited"],
  [/\b(502|503|504)\b|bad gateway|service unavailable|gateway time-?out/i, "server unavailable"],
  [/ECONNRESET|ECONNREFUSED|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket hang up/i, "network"],
  [/ETIMEDOUT|timed? ?out|deadline exceeded|i\/o timeout|TLS handshake timeout/i, "timeout"],
  [
    /connection reset by peer|connection refused|no such host|temporary failure in name resolution/i,
    "network",
  ],
  [/RequestTimeTooSkewed|SlowDown|InternalError.*try again/i, "object store busy"],
];

const permanentPatterns = [
  /quota exceeded|QuotaExceeded|exceeds? (the )?quota/i,
  /\b(401|403)\b|unauthori[sz]ed|forbidden|invalid credentials|incorrect passphrase/i,
  /Invalid jetstream-notebooks config/i,
];

export function classify(error: unknown): Classification {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const permanent = { transient: false, kind: "permanent" } as const;
  if (isPermanent(text)) return permanent;
  const name = error instanceof Error ? error.name : "";
  if (name === "ConcurrentUpdateError" || lockPatterns.some((p) => p.test(text))) {
    return { transient: true, kind: "locked", reason: "another update holds the stack" };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && networkCodes.has(code)) {
    return { transient: true, kind: "transient", reason: `network (${code})` };
  }
  if (permanentPatterns.some((p) => p.test(text))) return permanent;
  for (const [pattern, reason] of transientPatterns) {
    if (pattern.test(text)) return { transient: true, kind: "transient", reason };
  }
  return permanent;
}

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** [0, 1); Math.random in production, seeded in tests and the benchmark. */
  random: () => number;
  /**
   * How long to wait out a stack locked by another update, in total, whatever `attempts` says: as
   * long as an update can take (a VM, DNS and a certificate: up to an hour). Default 60 min.
   */
  lockWaitMs?: number;
  /** First and longest wait between tries on a locked stack. Default 15 s and 2 min. */
  lockBaseDelayMs?: number;
  lockMaxDelayMs?: number;
}

export const defaultLockWaitMs = 60 * 60_000;

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 5_000,
  maxDelayMs: 120_000,
  sleep: (ms) => sleep(ms),
  random: Math.random,
};

/** The delay before try `attempt + 1` (attempt counts from 1): full jitter over an exponential cap. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(policy.random() * cap);
}

export class LockWaitExhausted extends Error {
  constructor(
    public readonly waitedMs: number,
    public readonly last: unknown,
  ) {
    super(
      `another update held the stack for ${Math.round(waitedMs / 60_000)} min and still does: check \`pulumi stack history\` for a running update (another workshop process, a colleague, CI); if none runs, \`pulumi cancel\` releases the lock. Last error: ${(last as Error)?.message ?? String(last)}`,
    );
    this.name = "LockWaitExhausted";
  }
}

export class RetriesExhausted extends Error {
  constructor(
    public readonly attempts: number,
    public readonly last: unknown,
  ) {
    super(`${(last as Error)?.message ?? String(last)} (after ${attempts} tries)`);
    this.name = "RetriesExhausted";
  }
}

/**
 * Runs `op`, retrying transient failures up to the policy's attempts; a permanent failure is thrown at
 * once, unchanged. `onRetry` hears about each retry before the wait.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  op: (attempt: number) => Promise<T>,
  onRetry: (info: {
    attempt: number;
    delayMs: number;
    reason: string;
    error: unknown;
  }) => void = () => {},
): Promise<T> {
  let lockTries = 0;
  let lockWaited = 0;
  let transientTries = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      const c = classify(error);
      if (!c.transient) throw error;
      let delayMs: number;
      if (c.kind === "locked") {
        // Its own budget, in time rather than tries: the lock lasts as long as the other update.
        const budget = policy.lockWaitMs ?? defaultLockWaitMs;
        if (lockWaited >= budget) throw new LockWaitExhausted(lockWaited, error);
        lockTries++;
        delayMs = Math.min(
          budget - lockWaited,
          Math.max(
            1_000,
            backoffDelay(
              {
                ...policy,
                baseDelayMs: policy.lockBaseDelayMs ?? 15_000,
                maxDelayMs: policy.lockMaxDelayMs ?? 120_000,
              },
              lockTries,
            ),
          ),
        );
        lockWaited += delayMs;
      } else {
        transientTries++;
        if (transientTries >= policy.attempts) throw new RetriesExhausted(attempt, error);
        delayMs = backoffDelay(policy, transientTries);
      }
      onRetry({ attempt, delayMs, reason: c.reason, error });
      await policy.sleep(delayMs);
    }
  }
}
