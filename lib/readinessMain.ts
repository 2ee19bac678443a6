/**
 * The HTTPS readiness waits as a program of their own, run by the stack's `command.local.Command`
 * resources (components/tlsProxy.ts): a resource runs only when it is created or its triggers
 * change, so a `pulumi up` that changes nothing asks no DNS server and probes nothing, and a preview
 * shows the waits as resources to create.
 *
 * Settings come from the environment (the resource's `environment`), the result goes to stdout
 * (kept in the stack's state, so it holds no secret), progress to stderr (shown live by `pulumi up`).
 * Exit 3 is a timeout, preceded by a line `JN_READINESS_TIMEOUT wait=<dns|https> kind=<kind>
 * permanent=<true|false>` that a caller can read without parsing the message.
 */
import {
  formatDuration,
  nodeReadinessDeps,
  ReadinessTimeoutError,
  readinessTimeoutCode,
  type CertificateCheck,
  type ReadinessDeps,
  waitForDns,
  waitForHttps,
} from "./httpsReadiness";
import { messageOf } from "./errorText";

/** What one run waits for. */
export interface ReadinessRequest {
  wait: "dns" | "https";
  /** The DNS name students open. */
  hostname: string;
  /**
   * The floating IP: the name must resolve to it, and the HTTPS probe connects to it (with the
   * hostname as SNI and Host), so no resolver's cache decides where the probe goes.
   */
  address?: string;
  timeoutMs: number;
  /** What the certificate must satisfy (https only). */
  check: CertificateCheck;
}

/** The environment variables the entry point reads. */
export const readinessEnv = {
  wait: "JN_WAIT",
  hostname: "JN_HOSTNAME",
  address: "JN_ADDRESS",
  timeoutMinutes: "JN_TIMEOUT_MINUTES",
  check: "JN_CERTIFICATE",
} as const;

/** Reads a {@link ReadinessRequest} from the environment; throws naming the variable at fault. */
export function readinessRequestFromEnv(env: NodeJS.ProcessEnv): ReadinessRequest {
  const wait = env[readinessEnv.wait];
  if (wait !== "dns" && wait !== "https") {
    throw new Error(`${readinessEnv.wait} must be dns or https, got ${JSON.stringify(wait)}`);
  }
  const hostname = env[readinessEnv.hostname] ?? "";
  if (!/^[a-z0-9.-]+$/.test(hostname)) {
    throw new Error(`${readinessEnv.hostname} must be a DNS name, got ${JSON.stringify(hostname)}`);
  }
  const minutes = Number(env[readinessEnv.timeoutMinutes]);
  if (!(minutes > 0)) {
    throw new Error(
      `${readinessEnv.timeoutMinutes} must be a number of minutes above 0, got ${JSON.stringify(env[readinessEnv.timeoutMinutes])}`,
    );
  }
  const check = env[readinessEnv.check] ?? "trusted";
  if (check !== "trusted" && check !== "names-host") {
    throw new Error(
      `${readinessEnv.check} must be trusted or names-host, got ${JSON.stringify(check)}`,
    );
  }
  const address = env[readinessEnv.address] || undefined;
  return {
    wait,
    hostname,
    ...(address !== undefined ? { address } : {}),
    timeoutMs: Math.round(minutes * 60_000),
    check,
  };
}

/** Runs one wait; returns the line to print on success. Throws {@link ReadinessTimeoutError}. */
export async function runReadiness(
  request: ReadinessRequest,
  deps: ReadinessDeps,
): Promise<string> {
  if (request.wait === "dns") {
    const addresses = await waitForDns(
      {
        hostname: request.hostname,
        ...(request.address !== undefined ? { expectedAddress: request.address } : {}),
        timeoutMs: request.timeoutMs,
      },
      deps,
    );
    return `${request.hostname} resolves to ${addresses.join(", ")} at its authoritative servers`;
  }
  const ready = await waitForHttps(
    {
      hostname: request.hostname,
      check: request.check,
      timeoutMs: request.timeoutMs,
      ...(request.address !== undefined ? { connectTo: { host: request.address, port: 443 } } : {}),
    },
    deps,
  );
  return (
    `HTTPS on ${request.hostname} is ready: certificate from ${ready.issuer}, valid until ` +
    `${ready.validTo} (${formatDuration(ready.elapsedMs)})`
  );
}

/** The line a timeout is announced with, before its message. */
export function timeoutLine(e: ReadinessTimeoutError): string {
  return `${readinessTimeoutCode} wait=${e.wait} kind=${e.kind} permanent=${e.permanent}`;
}

async function main(): Promise<number> {
  let request: ReadinessRequest;
  try {
    request = readinessRequestFromEnv(process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const log = (message: string) => void process.stderr.write(`${message}\n`);
  try {
    process.stdout.write(`${await runReadiness(request, nodeReadinessDeps(log))}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReadinessTimeoutError) {
      process.stderr.write(`${timeoutLine(e)}\n${e.message}\n`);
      return 3;
    }
    process.stderr.write(`${messageOf(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
