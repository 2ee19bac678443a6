/**
 * Readiness of a notebook behind its TLS proxy: the URL is reported only once HTTPS answers with a
 * valid certificate for the hostname. Two waits, each retrying until a deadline:
 *
 * - `waitForDns`: Jetstream2 publishes `<instance>.<allocation>.projects.jetstream-cloud.org` a minute
 *   or two after the floating IP is attached. Until then this is progress, not failure. Waiting for
 *   it before the proxy starts keeps Caddy from spending Let's Encrypt's failed-validation allowance
 *   (5 per hostname per hour) on a name that does not resolve yet.
 * - `waitForHttps`: then the proxy must accept connections, present a certificate for the hostname
 *   (publicly trusted, or, for self-signed and staging certificates, at least naming the host and in
 *   date) and pass a request through to the notebook.
 *
 * The network is reached only through the injected `ReadinessDeps`, so the logic is unit-tested with
 * scripted answers; `nodeReadinessDeps` are the real ones.
 */
import * as dns from "node:dns";
import * as https from "node:https";
import * as tls from "node:tls";
import { permanent } from "./errorKind";
import { errorText } from "./errorText";
import { setTimeout as sleep } from "node:timers/promises";

/** What the proxy's certificate must satisfy. */
export type CertificateCheck =
  /** The chain verifies against the public roots (plus `ca`, if given) and names the host. */
  | "trusted"
  /** The certificate names the host and is in date; its issuer is not checked (self-signed, staging). */
  | "names-host";

export interface ReadinessTarget {
  /** The DNS name students open; SNI and Host. */
  hostname: string;
  /** HTTPS port. Default 443. */
  port?: number;
  /** Path requested through the proxy. Default `/api` (the notebook server answers it without a token). */
  path?: string;
  check: CertificateCheck;
  /** Extra trusted root certificates (PEM), such as a test proxy's internal CA. */
  ca?: string;
  /** Connect here instead of resolving the hostname (tests on a local engine). */
  connectTo?: { host: string; port: number };
  /** The address the name must resolve to (the floating IP). Unset: any address. */
  expectedAddress?: string;
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts. Default 5 s. */
  intervalMs?: number;
  /** Repeat an unchanged progress message at most this often. Default 30 s. */
  progressEveryMs?: number;
}

/** The parts of a peer certificate the checks read (a subset of Node's `tls.PeerCertificate`). */
export interface CertificateSummary {
  subject: { CN?: string };
  issuer: { CN?: string; O?: string };
  subjectaltname?: string;
  valid_from: string;
  valid_to: string;
  fingerprint256?: string;
}

export interface ProbeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  certificate: CertificateSummary;
  /** Whether the chain verified against the roots the probe was given. */
  authorized: boolean;
  authorizationError?: string;
}

export interface ProbeRequest {
  hostname: string;
  port: number;
  path: string;
  ca?: string;
  connectTo?: { host: string; port: number };
}

export interface ReadinessDeps {
  /** The addresses a name resolves to; rejects with a `code` (ENOTFOUND, EAI_AGAIN...) otherwise. */
  resolve(hostname: string): Promise<string[]>;
  /** One HTTPS request that does not reject on certificate errors but reports them. */
  probe(request: ProbeRequest): Promise<ProbeAnswer>;
  sleep(ms: number): Promise<void>;
  now(): number;
  log(message: string): void;
}

export interface HttpsReady {
  url: string;
  status: number;
  issuer: string;
  validTo: string;
  hsts?: string;
  elapsedMs: number;
}

/** The states a wait can be in; the last one names the failure. */
type Pending = { kind: string; message: string; hint: string };

/**
 * The last thing seen before a wait gave up. Waiting longer helps the first four; the others need
 * a person (a certificate for the wrong name or from an untrusted CA, a clock out of step, a CA
 * that gives no certificate, often a rate limit that retrying would only prolong).
 */
export type ReadinessPendingKind =
  | "dns-missing"
  | "dns-other-address"
  | "connect"
  | "upstream"
  | "no-certificate"
  | "cert-name"
  | "cert-dates"
  | "cert-untrusted";

const waitingHelps: ReadonlySet<string> = new Set([
  "dns-missing",
  "dns-other-address",
  "connect",
  "upstream",
]);

/** Printed by the readiness entry point before a timeout's message, so a caller reading a log can tell the kind. */
export const readinessTimeoutCode = "JN_READINESS_TIMEOUT";

/**
 * A wait that reached its deadline. Callers tell it apart by class and `kind`, never by its words:
 * `permanent` is true when running the same wait again at once would not help (see
 * {@link ReadinessPendingKind}).
 */
export class ReadinessTimeoutError extends Error {
  readonly code = readinessTimeoutCode;
  /** Which wait: the DNS name, or HTTPS with its certificate. */
  readonly wait: "dns" | "https";
  readonly kind: string;
  readonly permanent: boolean;
  constructor(wait: "dns" | "https", kind: string, message: string) {
    super(message);
    this.name = "ReadinessTimeoutError";
    this.wait = wait;
    this.kind = kind;
    this.permanent = !waitingHelps.has(kind);
  }
}

const dnsPendingCodes = new Set(["ENOTFOUND", "EAI_AGAIN", "ENODATA", "EAI_NODATA", "EAI_NONAME"]);
// An authoritative server that times out or fails a query is waited out too, like a missing name.
const dnsRetryCodes = new Set([...dnsPendingCodes, "ETIMEOUT", "ESERVFAIL", "ECONNREFUSED"]);

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

function dnsWaitMessage(hostname: string): string {
  return (
    `waiting for DNS name ${hostname} to appear (Jetstream2 publishes it a minute or two after ` +
    `the floating IP is attached)`
  );
}

/** Logs a pending state when it changes, and otherwise at most every `everyMs`. */
function progressLogger(deps: ReadinessDeps, start: number, everyMs: number) {
  let lastKind: string | undefined;
  let lastAt = 0;
  return (p: Pending) => {
    const now = deps.now();
    if (p.kind !== lastKind) {
      deps.log(p.message);
    } else if (now - lastAt >= everyMs) {
      deps.log(`${p.message} (${formatDuration(now - start)} so far)`);
    } else {
      return;
    }
    lastKind = p.kind;
    lastAt = now;
  };
}

/**
 * Waits until `hostname` resolves (to `expectedAddress`, when given). Returns the addresses; throws
 * once the deadline passes, saying what was last seen.
 */
export async function waitForDns(
  target: Pick<
    ReadinessTarget,
    "hostname" | "expectedAddress" | "timeoutMs" | "intervalMs" | "progressEveryMs"
  >,
  deps: ReadinessDeps,
): Promise<string[]> {
  const start = deps.now();
  const report = progressLogger(deps, start, target.progressEveryMs ?? 30_000);
  for (;;) {
    let pending: Pending;
    try {
      const addresses = await deps.resolve(target.hostname);
      if (target.expectedAddress === undefined || addresses.includes(target.expectedAddress)) {
        return addresses;
      }
      pending = {
        kind: "dns-other-address",
        message:
          `${target.hostname} resolves to ${addresses.join(", ")}, not yet to this instance's ` +
          `floating IP ${target.expectedAddress} (an earlier record, or one still cached): waiting`,
        hint:
          "Another instance may have had this name, or a resolver still caches the old record; " +
          "check that the instance name is unique in the allocation.",
      };
    } catch (e) {
      const code = errorCode(e);
      if (code === undefined || !dnsRetryCodes.has(code)) throw e;
      pending = {
        kind: "dns-missing",
        message: dnsWaitMessage(target.hostname),
        hint:
          "Check that the floating IP is attached to the instance and that the instance and " +
          "allocation names in the stack config are right (the name is <instance>.<allocation>." +
          "projects.jetstream-cloud.org).",
      };
    }
    report(pending);
    if (deps.now() - start >= target.timeoutMs) {
      // Permanent: the wait already lasted its whole deadline; another `up` would repeat it.
      throw new ReadinessTimeoutError(
        "dns",
        pending.kind,
        permanent(
          `DNS name ${target.hostname} was not ready after ${formatDuration(target.timeoutMs)}: ` +
            `${pending.message.replace(/^waiting for /, "still waiting for ")}. ${pending.hint}`,
        ),
      );
    }
    await deps.sleep(target.intervalMs ?? 5_000);
  }
}

/**
 * Judges one probe answer: undefined when HTTPS is ready, else what is still pending. Pure.
 */
export function judgeAnswer(
  target: Pick<ReadinessTarget, "hostname" | "check">,
  answer: ProbeAnswer,
  now: number,
): Pending | undefined {
  const cert = answer.certificate;
  const identityError = tls.checkServerIdentity(target.hostname, cert as tls.PeerCertificate);
  if (identityError) {
    return {
      kind: "cert-name",
      message:
        `the proxy presents a certificate for ${cert.subjectaltname ?? cert.subject.CN ?? "another name"}, ` +
        `not ${target.hostname}: waiting for the right one`,
      hint: "The proxy's site address must be the hostname students open.",
    };
  }
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  if (!(from <= now && now < to)) {
    return {
      kind: "cert-dates",
      message: `the certificate for ${target.hostname} is not in date (valid ${cert.valid_from} to ${cert.valid_to})`,
      hint: "Check the clocks of this machine and the instance.",
    };
  }
  if (target.check === "trusted" && !answer.authorized) {
    return {
      kind: "cert-untrusted",
      message:
        `the certificate for ${target.hostname} (issuer ${issuerName(cert)}) does not verify: ` +
        `${answer.authorizationError ?? "unknown reason"}`,
      hint:
        "If the proxy uses a staging or internal CA, its certificates are not trusted by " +
        "browsers; otherwise the proxy's log says which certificate it obtained.",
    };
  }
  if (answer.status >= 502 && answer.status <= 504) {
    return {
      kind: "upstream",
      message:
        `HTTPS on ${target.hostname} has a valid certificate, but the notebook behind the proxy does ` +
        `not answer yet (HTTP ${answer.status})`,
      hint: "The notebook container is not answering on the private network: see its logs.",
    };
  }
  return undefined;
}

function issuerName(cert: CertificateSummary): string {
  return [cert.issuer.O, cert.issuer.CN].filter(Boolean).join(" / ") || "unknown";
}

function classifyProbeError(target: ReadinessTarget, e: unknown): Pending {
  const code = errorCode(e);
  const where = `${target.hostname}:${target.port ?? 443}`;
  if (code !== undefined && dnsPendingCodes.has(code)) {
    return {
      kind: "dns-missing",
      message: dnsWaitMessage(target.hostname),
      hint: "The name resolved a moment ago and no longer does; check the floating IP.",
    };
  }
  if (code !== undefined && /^ERR_SSL_|^EPROTO$|^ECONNRESET$/.test(code)) {
    // Caddy completes no handshake for a name it holds no certificate for yet (an internal_error
    // alert), which is what the wait for the CA looks like from outside.
    return {
      kind: "no-certificate",
      message: `the proxy on ${where} accepts connections but has no certificate for ${target.hostname} yet (${errorText(e)}): the CA is being asked`,
      hint:
        "The proxy could not obtain a certificate. Its log (docker logs on the instance) says why: " +
        "usually port 80 not reachable from the internet, or a Let's Encrypt rate limit (docs/https.md).",
    };
  }
  return {
    kind: "connect",
    message: `waiting for the proxy on ${where} to accept connections (${errorText(e)})`,
    hint:
      "Check that the security group opens ports 80 and 443 and that the proxy container is " +
      "running on the instance.",
  };
}

/**
 * Waits until the proxy answers over HTTPS with a good certificate and passes the request through.
 * Assumes the name resolves (call `waitForDns` first); a DNS failure here is waited out too.
 */
export async function waitForHttps(
  target: ReadinessTarget,
  deps: ReadinessDeps,
): Promise<HttpsReady> {
  const start = deps.now();
  const port = target.port ?? 443;
  const path = target.path ?? "/api";
  const url = `https://${target.hostname}${port === 443 ? "" : `:${port}`}${path}`;
  const report = progressLogger(deps, start, target.progressEveryMs ?? 30_000);
  for (;;) {
    let pending: Pending | undefined;
    try {
      const answer = await deps.probe({
        hostname: target.hostname,
        port,
        path,
        ...(target.ca !== undefined ? { ca: target.ca } : {}),
        ...(target.connectTo !== undefined ? { connectTo: target.connectTo } : {}),
      });
      pending = judgeAnswer(target, answer, deps.now());
      if (pending === undefined) {
        const hsts = answer.headers["strict-transport-security"];
        return {
          url,
          status: answer.status,
          issuer: issuerName(answer.certificate),
          validTo: answer.certificate.valid_to,
          ...(typeof hsts === "string" ? { hsts } : {}),
          elapsedMs: deps.now() - start,
        };
      }
    } catch (e) {
      pending = classifyProbeError(target, e);
    }
    report(pending);
    if (deps.now() - start >= target.timeoutMs) {
      // Permanent: the wait already lasted its whole deadline; another `up` would repeat it.
      throw new ReadinessTimeoutError(
        "https",
        pending.kind,
        permanent(
          `HTTPS on ${target.hostname} was not ready after ${formatDuration(target.timeoutMs)}; ` +
            `last seen: ${pending.message}. ${pending.hint}`,
        ),
      );
    }
    await deps.sleep(target.intervalMs ?? 5_000);
  }
}

/** The DNS queries the authoritative lookup makes; {@link nodeDnsClient} is the real one. */
export interface DnsClient {
  /** The NS names of a zone, through the system's resolver. */
  resolveNs(zone: string): Promise<string[]>;
  /** The IPv4 addresses of a name, through the system's resolver. */
  resolve4(name: string): Promise<string[]>;
  /** The IPv4 addresses of a name, asked of these server addresses only (no cache in between). */
  resolve4At(servers: string[], name: string): Promise<string[]>;
}

/**
 * The closest enclosing zone of `hostname` that has NS records, and its servers' addresses. For a
 * Jetstream2 name that is the allocation's zone, `<allocation>.projects.jetstream-cloud.org`.
 * Undefined when no enclosing zone answers with servers.
 */
export async function findAuthoritativeServers(
  hostname: string,
  client: DnsClient,
): Promise<{ zone: string; servers: string[] } | undefined> {
  const labels = hostname.split(".");
  for (let i = 1; i < labels.length - 1; i++) {
    const zone = labels.slice(i).join(".");
    let names: string[];
    try {
      names = await client.resolveNs(zone);
    } catch (e) {
      const code = errorCode(e);
      if (code === "ENODATA" || code === "ENOTFOUND") continue;
      throw e;
    }
    const addresses = await Promise.all(
      names.map((n) => client.resolve4(n).catch((): string[] => [])),
    );
    const servers = [...new Set(addresses.flat())];
    if (servers.length > 0) return { zone, servers };
  }
  return undefined;
}

/**
 * Resolves names by asking their zone's authoritative servers directly. A caching resolver keeps
 * the NXDOMAIN it got before the record existed for the zone's SOA minimum (an hour with
 * Designate's default), far longer than the wait; the authoritative servers answer as soon as the
 * record is published. Without a zone that has servers, falls back to the system's resolver.
 */
export function authoritativeResolve(client: DnsClient): (hostname: string) => Promise<string[]> {
  const zones = new Map<string, Promise<{ zone: string; servers: string[] } | undefined>>();
  return async (hostname) => {
    const parent = hostname.split(".").slice(1).join(".");
    let found = zones.get(parent);
    if (found === undefined) {
      found = findAuthoritativeServers(hostname, client);
      zones.set(parent, found);
      // A failed search (the network was down) is tried again next time.
      found.catch(() => zones.delete(parent));
    }
    const auth = await found;
    return auth ? client.resolve4At(auth.servers, hostname) : client.resolve4(hostname);
  };
}

/** Node's resolver; each authoritative query gets a fresh Resolver with 5 s per try. */
export const nodeDnsClient: DnsClient = {
  resolveNs: (zone) => dns.promises.resolveNs(zone),
  resolve4: (name) => dns.promises.resolve4(name),
  resolve4At: (servers, name) => {
    const resolver = new dns.promises.Resolver({ timeout: 5_000, tries: 2 });
    resolver.setServers(servers);
    return resolver.resolve4(name);
  },
};

/**
 * The real network: the zone's authoritative DNS servers, and Node's HTTPS client with the public
 * roots (+ `ca`).
 */
export function nodeReadinessDeps(
  log: (message: string) => void,
  dnsClient: DnsClient = nodeDnsClient,
): ReadinessDeps {
  return {
    resolve: authoritativeResolve(dnsClient),
    probe(request) {
      return new Promise<ProbeAnswer>((resolve, reject) => {
        const req = https.request(
          {
            host: request.connectTo?.host ?? request.hostname,
            port: request.connectTo?.port ?? request.port,
            path: request.path,
            method: "GET",
            servername: request.hostname,
            headers: {
              Host: request.port === 443 ? request.hostname : `${request.hostname}:${request.port}`,
            },
            // Certificate errors are judged (and explained) by the caller, not thrown here.
            rejectUnauthorized: false,
            ca: request.ca === undefined ? undefined : [...tls.rootCertificates, request.ca],
            agent: false,
            timeout: 15_000,
          },
          (res) => {
            const socket = res.socket as tls.TLSSocket;
            const certificate = socket.getPeerCertificate() as unknown as CertificateSummary;
            const authorizationError = socket.authorizationError;
            const answer: ProbeAnswer = {
              status: res.statusCode ?? 0,
              headers: res.headers,
              certificate,
              authorized: socket.authorized,
              ...(authorizationError ? { authorizationError: String(authorizationError) } : {}),
            };
            res.resume();
            res.on("end", () => resolve(answer));
            res.on("error", reject);
          },
        );
        req.on("timeout", () =>
          req.destroy(Object.assign(new Error("no answer within 15 s"), { code: "ETIMEDOUT" })),
        );
        req.on("error", reject);
        req.end();
      });
    },
    sleep: (ms) => sleep(ms),
    now: () => Date.now(),
    log,
  };
}
