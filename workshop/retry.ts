/**
 * Which failures are worth another try, and trying again with exponential backoff and full jitter
 * (so forty students that hit the same rate limit do not come back in lockstep).
 */

export type Classification = { transient: true; reason: string } | { transient: false };

// Each pattern is a failure that goes away by itself: the network, an overloaded API, a lock another
// update holds for a while. Quota, auth and program errors stay; retrying them only wastes minutes.
const transientPatterns: [RegExp, string][] = [
  [/conflict: Another update is currently in progress/i, "another update holds the stack"],
  [/the stack is currently locked/i, "the stack is locked by another update"],
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
  if (permanentPatterns.some((p) => p.test(text))) return { transient: false };
  for (const [pattern, reason] of transientPatterns) {
    if (pattern.test(text)) return { transient: true, reason };
  }
  return { transient: false };
}

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** [0, 1); Math.random in production, seeded in tests and the benchmark. */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 5_000,
  maxDelayMs: 120_000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
};

/** The delay before try `attempt + 1` (attempt counts from 1): full jitter over an exponential cap. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(policy.random() * cap);
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
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      const c = classify(error);
      if (!c.transient) throw error;
      if (attempt >= policy.attempts) throw new RetriesExhausted(attempt, error);
      const delayMs = backoffDelay(policy, attempt);
      onRetry({ attempt, delayMs, reason: c.reason, error });
      await policy.sleep(delayMs);
    }
  }
}
