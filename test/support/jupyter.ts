/**
 * A small Jupyter client for tests against a real server: plain HTTP(S) requests with the token, and
 * code run in a real kernel over its websocket (the path a browser takes), directly or through a proxy.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { waitFor } from "./docker";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Extra CA certificates (PEM) to trust, such as a test proxy's internal CA. */
  ca?: string | Buffer;
  /** Connect to this address instead of the URL's host, keeping the URL's host for TLS and Host. */
  connectTo?: { host: string; port: number };
  timeoutMs?: number;
}

/** One HTTP(S) request; never follows redirects, so tests see them. */
export function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const isHttps = u.protocol === "https:";
  const transport = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        method: opts.method ?? "GET",
        host: opts.connectTo?.host ?? u.hostname,
        port: opts.connectTo?.port ?? (u.port || (isHttps ? 443 : 80)),
        path: `${u.pathname}${u.search}`,
        headers: { Host: u.host, ...(opts.headers ?? {}) },
        servername: isHttps ? u.hostname : undefined,
        ca: opts.ca,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout requesting ${u.origin}${u.pathname}`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return request(url, { headers });
}

/** Polls until the URL answers with `status` (200 by default). */
export async function waitForHttp(
  url: string,
  opts: RequestOptions & { status?: number } = {},
  timeoutMs = 60_000,
): Promise<HttpResponse> {
  const want = opts.status ?? 200;
  return waitFor(
    `${new URL(url).origin} to answer ${want}`,
    async () => {
      const res = await request(url, opts);
      return res.status === want ? res : undefined;
    },
    timeoutMs,
  );
}

/** A Jupyter REST call with token auth; throws on an unexpected status. */
export async function jupyterApi<T>(
  baseUrl: string,
  token: string,
  method: string,
  apiPath: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const res = await request(`${baseUrl.replace(/\/$/, "")}${apiPath}`, {
    ...opts,
    method,
    headers: {
      Authorization: `token ${token}`,
      "Content-Type": "application/json",
      ...(opts.headers ?? {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${method} ${apiPath} answered ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return (res.body ? JSON.parse(res.body) : undefined) as T;
}

interface KernelMessage {
  msg_type?: string;
  header: { msg_type: string };
  parent_header: { msg_id?: string };
  content: {
    name?: string;
    text?: string;
    execution_state?: string;
    ename?: string;
    evalue?: string;
    data?: Record<string, string>;
  };
}

/** Starts a python3 kernel through the REST API; the caller shuts it down (DELETE its id). */
export function startKernel(
  baseUrl: string,
  token: string,
  opts: RequestOptions = {},
): Promise<{ id: string }> {
  return jupyterApi<{ id: string }>(
    baseUrl,
    token,
    "POST",
    "/api/kernels",
    { name: "python3" },
    opts,
  );
}

/**
 * Starts a python3 kernel through the REST API, runs `code` over the kernel's websocket and returns
 * what it printed (stdout plus any execute_result). Throws with the Python error if the code raised.
 * The kernel is always shut down afterwards.
 */
export async function runInKernel(
  baseUrl: string,
  token: string,
  code: string,
  opts: RequestOptions = {},
): Promise<string> {
  const base = baseUrl.replace(/\/$/, "");
  const kernel = await startKernel(base, token, opts);
  try {
    return await executeOverWebsocket(base, token, kernel.id, code, opts);
  } finally {
    await jupyterApi(base, token, "DELETE", `/api/kernels/${kernel.id}`, undefined, opts).catch(
      () => undefined,
    );
  }
}

/**
 * A socket factory for `ws` that dials `to` instead of the URL's host, keeping the URL's host name
 * for TLS (SNI and certificate check) and the Host header, as `request` does with `connectTo`.
 */
function connectVia(to: { host: string; port: number }, url: URL): (options: object) => net.Socket {
  return (options) =>
    url.protocol === "wss:"
      ? tls.connect({
          ...(options as tls.ConnectionOptions),
          host: to.host,
          port: to.port,
          servername: url.hostname,
        })
      : net.connect({
          ...(options as net.NetConnectOpts),
          host: to.host,
          port: to.port,
        } as net.NetConnectOpts);
}

function executeOverWebsocket(
  base: string,
  token: string,
  kernelId: string,
  code: string,
  opts: RequestOptions,
): Promise<string> {
  const session = randomUUID();
  const wsUrl = `${base.replace(/^http/, "ws")}/api/kernels/${kernelId}/channels?session_id=${session}`;
  const msgId = randomUUID();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, {
      headers: { Authorization: `token ${token}` },
      ca: opts.ca,
      handshakeTimeout: 15_000,
      // As a browser would send it; the server compares it with Host.
      ...(opts.headers?.Origin ? { origin: opts.headers.Origin } : {}),
      ...(opts.connectTo ? { createConnection: connectVia(opts.connectTo, new URL(wsUrl)) } : {}),
    });
    let output = "";
    let failure: string | undefined;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`kernel ${kernelId} did not finish within 60 s; output so far: ${output}`));
    }, 60_000);
    ws.on("open", () => {
      ws.send(
        JSON.stringify({
          header: {
            msg_id: msgId,
            username: "test",
            session,
            msg_type: "execute_request",
            version: "5.3",
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          content: {
            code,
            silent: false,
            store_history: false,
            user_expressions: {},
            allow_stdin: false,
            stop_on_error: true,
          },
          channel: "shell",
          buffers: [],
        }),
      );
    });
    ws.on("message", (raw: WebSocket.RawData) => {
      // The server sends JSON text frames; `ws` hands them over as Buffers (or Buffer lists).
      const text = Array.isArray(raw)
        ? Buffer.concat(raw).toString("utf8")
        : Buffer.isBuffer(raw)
          ? raw.toString("utf8")
          : Buffer.from(new Uint8Array(raw)).toString("utf8");
      const msg = JSON.parse(text) as KernelMessage;
      if (msg.parent_header.msg_id !== msgId) return;
      const type = msg.header.msg_type;
      if (type === "stream" && msg.content.text) output += msg.content.text;
      if (type === "execute_result" && msg.content.data?.["text/plain"]) {
        output += msg.content.data["text/plain"];
      }
      if (type === "error") failure = `${msg.content.ename}: ${msg.content.evalue}`;
      if (type === "status" && msg.content.execution_state === "idle") {
        clearTimeout(timer);
        ws.close();
        if (failure) reject(new Error(`kernel raised ${failure}`));
        else resolve(output);
      }
    });
    ws.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
