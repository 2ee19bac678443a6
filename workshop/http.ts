/**
 * A small HTTP(S) client for notebook servers: node's own http module (no dependency), a timeout per
 * request, bodies as Buffers so binary downloads stay exact, and an opt-in for self-signed
 * certificates (settings `tls: self-signed`).
 */
import * as http from "node:http";
import * as https from "node:https";

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** Accept any certificate: only for notebooks deliberately served with a self-signed one. */
  insecure?: boolean;
}

export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const u = new URL(url);
  const transport = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      u,
      {
        method: opts.method ?? "GET",
        headers: opts.headers,
        timeout: opts.timeoutMs ?? 30_000,
        ...(u.protocol === "https:" && opts.insecure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`timed out requesting ${u.origin}${u.pathname}`)),
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
