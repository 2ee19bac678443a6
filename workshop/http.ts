/**
 * A small HTTP(S) client for notebook servers, in the fetch style quota.ts uses: a per-request
 * `undici` Agent carries the idle timeouts and the certificate rule, an AbortController carries the
 * overall deadline, and the body is read as a stream so a size cap stops it early. Bodies come back
 * as Buffers so binary downloads stay exact. Redirects are returned, never followed: a notebook
 * server that redirects is answering, and where it points is not for it to decide.
 *
 * Everything a notebook server sends is untrusted (the student has a shell there): it cannot make a
 * request last longer than its deadline, nor fill memory past the cap.
 */
import type * as http from "node:http";
import * as net from "node:net";
import type { ReadableStream } from "node:stream/web";
import * as tls from "node:tls";
import { Agent, buildConnector, fetch } from "undici";

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Which server certificates are accepted over HTTPS.
 * - `public`: the chain verifies against the public roots and names the host (what a browser does).
 * - `any-issuer-for-host`: the certificate names the host and is in date; who issued it is not
 *   checked. For notebooks behind a self-signed or internal CA, and for rehearsals on Let's Encrypt
 *   staging. A certificate for another name is still refused.
 */
export type TlsTrust = "public" | "any-issuer-for-host";

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Longest wait without progress (connecting, the answer's headers, the next bytes of its body).
   * Default 30 s.
   */
  timeoutMs?: number;
  /** The whole request, body included, must finish within this. Default five times `timeoutMs`. */
  deadlineMs?: number;
  /** Largest body accepted, in bytes after decoding (a gzip bomb counts at its full size). Default 64 MiB. */
  maxBodyBytes?: number;
  /** Default `public`. */
  tls?: TlsTrust;
}

export const defaultMaxBodyBytes = 64 * 1024 * 1024;

/**
 * Why a request failed; `code` is Node's (ECONNREFUSED, a certificate error) or ours (ETIMEDOUT,
 * ERR_BODY_TOO_LARGE), and unset when the reason has none: the message then says it.
 */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * One request. Resolves with any status (callers judge it); rejects with an `HttpError` when no
 * complete answer arrived. Messages name the URL without its query, which can carry a token.
 */
export async function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const u = new URL(url);
  const where = `${u.origin}${u.pathname}`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadlineMs = opts.deadlineMs ?? 5 * timeoutMs;
  const maxBodyBytes = opts.maxBodyBytes ?? defaultMaxBodyBytes;
  const agent = new Agent({
    connect: connector(opts.tls ?? "public", timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const abort = new AbortController();
  const timer = setTimeout(
    () =>
      abort.abort(
        new HttpError(
          `${where} did not answer completely within ${seconds(deadlineMs)}`,
          "ETIMEDOUT",
        ),
      ),
    deadlineMs,
  );
  try {
    // undici's own fetch with its own Agent: an Agent handed to the fetch built into another Node
    // version fails when the two undici majors differ (Node 26 bundles undici 8).
    const res = await fetch(u, {
      method: opts.method ?? "GET",
      headers: opts.headers,
      body: opts.body,
      redirect: "manual",
      dispatcher: agent,
      signal: abort.signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    // undici types the stream's chunks as `any`; fetch bodies are byte streams.
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    for (;;) {
      const next = reader === undefined ? { done: true as const } : await reader.read();
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBodyBytes) {
        const tooLarge = new HttpError(
          `${where} answered with more than ${maxBodyBytes} bytes, the most accepted`,
          "ERR_BODY_TOO_LARGE",
        );
        abort.abort(tooLarge);
        throw tooLarge;
      }
      chunks.push(Buffer.from(next.value));
    }
    const headers: http.IncomingHttpHeaders = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const cookies = res.headers.getSetCookie();
    if (cookies.length > 0) headers["set-cookie"] = cookies;
    return { status: res.status, headers, body: Buffer.concat(chunks) };
  } catch (e) {
    throw asHttpError(e, where, abort.signal, timeoutMs);
  } finally {
    clearTimeout(timer);
    // Nothing is pooled across requests: closing drops any connection the server keeps open.
    agent.destroy().catch(() => undefined);
  }
}

type Connector = ReturnType<typeof buildConnector>;

/**
 * `public` is undici's own connector. `any-issuer-for-host` skips the chain check and then applies
 * what is left of it by hand: Node checks the name only when the chain verified, so a self-signed
 * certificate for any name would otherwise pass.
 */
function connector(trust: TlsTrust, timeoutMs: number): Connector {
  if (trust === "public") return buildConnector({ timeout: timeoutMs });
  const connect = buildConnector({ timeout: timeoutMs, rejectUnauthorized: false });
  return (options, callback) =>
    connect(options, (error, socket) => {
      if (error !== null) return callback(error, null);
      if (options.protocol !== "https:") return callback(null, socket);
      const name = (options.servername ?? options.hostname).replace(/^\[(.*)\]$/, "$1");
      const cert = (socket as tls.TLSSocket).getPeerCertificate();
      const problem = certificateProblem(name, cert, Date.now());
      if (problem === undefined) return callback(null, socket);
      socket.destroy();
      return callback(problem, null);
    });
}

/** The certificate names `host` and is in date; undefined when it does. */
function certificateProblem(
  host: string,
  cert: tls.PeerCertificate,
  now: number,
): HttpError | undefined {
  if (cert === undefined || Object.keys(cert).length === 0) {
    return new HttpError(`${host} presented no certificate`, "ERR_TLS_NO_CERTIFICATE");
  }
  const identity = tls.checkServerIdentity(net.isIP(host) ? host : host.toLowerCase(), cert);
  if (identity !== undefined) {
    return new HttpError(
      identity.message,
      (identity as { code?: string }).code ?? "ERR_TLS_CERT_ALTNAME_INVALID",
    );
  }
  if (!(Date.parse(cert.valid_from) <= now)) {
    return new HttpError(
      `the certificate for ${host} is not valid before ${cert.valid_from}`,
      "CERT_NOT_YET_VALID",
    );
  }
  if (!(now < Date.parse(cert.valid_to))) {
    return new HttpError(
      `the certificate for ${host} expired ${cert.valid_to}`,
      "CERT_HAS_EXPIRED",
    );
  }
  return undefined;
}

/** fetch reports "fetch failed" with the real reason as `cause`: callers get the reason and its code. */
function asHttpError(e: unknown, where: string, signal: AbortSignal, timeoutMs: number): HttpError {
  if (signal.aborted && signal.reason instanceof HttpError) return signal.reason;
  if (e instanceof HttpError) return e;
  // Duck-typed: Node's own errors come from another realm under test runners, so `instanceof
  // Error` is false for them.
  const cause = (e as { cause?: unknown } | undefined)?.cause ?? e;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = (cause as { message?: unknown } | undefined)?.message;
  const text = typeof message === "string" ? message : String(cause);
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return new HttpError(`${where}: nothing received for ${seconds(timeoutMs)}`, "ETIMEDOUT");
    default:
      return new HttpError(`${where}: ${text}`, typeof code === "string" ? code : undefined);
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
