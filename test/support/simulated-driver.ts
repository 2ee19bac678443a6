/**
 * A simulated Pulumi backend behind the StackDriver interface, for the orchestration tests and the
 * benchmark: stacks with config and history, latencies you choose, failures you script, and for
 * every stack that is up a notebook served by a real local HTTP server (status, /lab and the contents
 * API), so the real probe and the real export run against it. It records every call as an event.
 * It also reproduces pulumi/pulumi#8186: overlapping selects fail, as they corrupt a real workspace.
 */
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { ConfigValues, StackDriver, StackInfo, UpdateResult } from "../../workshop/driver";
import type { UpdateRecord } from "../../workshop/power";

export type SimOp =
  | "list"
  | "select"
  | "getConfig"
  | "setConfig"
  | "lastResult"
  | "updates"
  | "up"
  | "outputs"
  | "destroy"
  | "remove";

export interface SimEvent {
  seq: number;
  op: SimOp;
  stack: string;
  phase: "start" | "end" | "error";
  error?: string;
}

interface SimStack {
  config: ConfigValues;
  history: UpdateResult[];
  resources: number;
  token?: string;
  files: Map<string, Buffer>;
  /** The `power` the last up applied: a shelved VM's notebook does not answer. */
  power?: string;
  /** Each up's time and power, oldest first. */
  updates?: UpdateRecord[];
  /** The reset counters the last up applied (`resetGeneration`, `tokenGeneration`). */
  generations?: { container?: string; token?: string };
  /** Notebook containers started: the first up, then one per reset. */
  containers?: number;
}

export interface SimOptions {
  /** Milliseconds an operation takes; 0 by default. */
  latency?: (op: SimOp, stack: string) => number;
  /** An error to throw for this call, or undefined to succeed. `attempt` counts calls of op on stack. */
  fail?: (op: SimOp, stack: string, attempt: number) => Error | undefined;
  /** Stacks that exist before the run, with their config. */
  existing?: Record<string, Record<string, string>>;
  sleep?: (ms: number) => Promise<void>;
  /** Outputs added to (or replacing) a stack's own once it is up, such as a real volume's name. */
  extraOutputs?: (stack: string) => Record<string, unknown>;
  /** The time an update records; one minute per update from 2030-06-01 by default. */
  clock?: () => string;
  /** Serve the notebooks over HTTPS with this key and certificate instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

/** What a simulated student has in work/: nested folders, a notebook, a binary file. */
function sampleWork(stack: string): Map<string, Buffer> {
  return new Map([
    [
      "work/hello.ipynb",
      Buffer.from(
        JSON.stringify({ cells: [], metadata: { stack }, nbformat: 4, nbformat_minor: 5 }),
      ),
    ],
    ["work/data/values.bin", createHash("sha256").update(stack).digest()],
    ["work/data/deeper/notes.txt", Buffer.from(`notes of ${stack}\n`)],
  ]);
}

export class SimulatedBackend {
  readonly events: SimEvent[] = [];
  readonly stacks = new Map<string, SimStack>();
  /** Stacks whose notebook answers 500 on the contents API (export fails). */
  readonly brokenContents = new Set<string>();
  /** Stacks whose notebook does not answer at all (not booted). */
  readonly silent = new Set<string>();
  /** What a stack's notebook answers on /api/status instead of Jupyter's own (a lying server). */
  readonly statusBody = new Map<string, unknown>();
  private readonly selected = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private seq = 0;
  private ticks = 0;
  private readonly clock = () =>
    this.opts.clock?.() ?? new Date(Date.UTC(2030, 5, 1, 0, this.ticks++)).toISOString();
  private selectsRunning = 0;
  private server?: http.Server | https.Server;
  private base = "";

  constructor(private readonly opts: SimOptions = {}) {
    for (const [name, raw] of Object.entries(opts.existing ?? {})) {
      const config: ConfigValues = {};
      for (const [k, value] of Object.entries(raw)) config[k] = { value, secret: false };
      this.stacks.set(name, { config, history: [], resources: 0, files: new Map() });
    }
  }

  async start(): Promise<void> {
    const listener: http.RequestListener = (req, res) => this.serve(req, res);
    this.server = this.opts.tls
      ? https.createServer(this.opts.tls, listener)
      : http.createServer(listener);
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    const scheme = this.opts.tls ? "https" : "http";
    this.base = `${scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Calls of `op` in the order they started. */
  calls(op: SimOp, stack?: string): SimEvent[] {
    return this.events.filter(
      (e) => e.op === op && e.phase === "start" && (!stack || e.stack === stack),
    );
  }

  /** The most calls of `op` that were ever in flight at once. */
  maxInFlight(op: SimOp): number {
    let now = 0;
    let max = 0;
    for (const e of this.events.filter((x) => x.op === op)) {
      now += e.phase === "start" ? 1 : -1;
      max = Math.max(max, now);
    }
    return max;
  }

  private async call<T>(op: SimOp, stack: string, body: () => T): Promise<T> {
    const key = `${op} ${stack}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    this.events.push({ seq: this.seq++, op, stack, phase: "start" });
    try {
      if (op === "select" && ++this.selectsRunning > 1) {
        throw new Error("concurrent stack select: the workspace is corrupt (pulumi/pulumi#8186)");
      }
      if (op !== "list" && op !== "select" && !this.selected.has(stack)) {
        throw new Error(`${op} on ${stack} before it was selected`);
      }
      const ms = this.opts.latency?.(op, stack) ?? 0;
      if (ms > 0)
        await (this.opts.sleep ?? ((t: number) => new Promise<void>((r) => setTimeout(r, t))))(ms);
      const failure = this.opts.fail?.(op, stack, attempt);
      if (failure) throw failure;
      const value = body();
      this.events.push({ seq: this.seq++, op, stack, phase: "end" });
      return value;
    } catch (e) {
      this.events.push({ seq: this.seq++, op, stack, phase: "error", error: (e as Error).message });
      throw e;
    } finally {
      if (op === "select") this.selectsRunning--;
    }
  }

  private need(stack: string): SimStack {
    const s = this.stacks.get(stack);
    if (!s) throw new Error(`no stack named '${stack}' found`);
    return s;
  }

  readonly driver: StackDriver = {
    list: () =>
      this.call("list", "*", (): StackInfo[] =>
        [...this.stacks].map(([name, s]) => ({
          name,
          updateInProgress: false,
          resourceCount: s.resources,
          lastUpdate: s.history.length ? "2026-01-01T00:00:00Z" : undefined,
        })),
      ),
    select: (stack, { create }) =>
      this.call("select", stack, () => {
        if (!this.stacks.has(stack)) {
          if (!create) return false;
          this.stacks.set(stack, { config: {}, history: [], resources: 0, files: new Map() });
        }
        this.selected.add(stack);
        return true;
      }),
    getConfig: (stack) => this.call("getConfig", stack, () => ({ ...this.need(stack).config })),
    setConfig: (stack, values, remove) =>
      this.call("setConfig", stack, () => {
        const s = this.need(stack);
        Object.assign(s.config, values);
        for (const k of remove) delete s.config[k];
      }),
    updates: (stack, limit) =>
      this.call("updates", stack, () =>
        [...(this.need(stack).updates ?? [])].reverse().slice(0, limit),
      ),
    lastResult: (stack) => this.call("lastResult", stack, () => this.need(stack).history.at(-1)),
    up: (stack, log) =>
      this.call("up", stack, () => {
        const s = this.need(stack);
        log(`Updating (${stack})\n`);
        s.history.push("succeeded");
        s.resources = 5;
        // As the program declares it: a new tokenGeneration is a new password, and a new
        // resetGeneration (or token) a new container on the same files.
        const cfg = (k: string) => s.config[`jetstream-notebooks:${k}`]?.value;
        const generations = { container: cfg("resetGeneration"), token: cfg("tokenGeneration") };
        const newToken = s.generations !== undefined && s.generations.token !== generations.token;
        const newContainer =
          s.generations === undefined ||
          newToken ||
          s.generations.container !== generations.container;
        if (newToken) s.token = undefined;
        if (newContainer) s.containers = (s.containers ?? 0) + 1;
        s.generations = generations;
        s.token ??= randomBytes(16).toString("hex");
        s.power = s.config["jetstream-notebooks:power"]?.value;
        s.updates = [
          ...(s.updates ?? []),
          {
            result: "succeeded",
            time: this.clock(),
            power: s.power,
            kind: "update",
            flavor: s.config["jetstream-notebooks:flavor"]?.value,
          },
        ];
        if (s.files.size === 0) s.files = sampleWork(stack);
      }),
    outputs: (stack) =>
      this.call("outputs", stack, () => {
        const s = this.need(stack);
        if (!s.token || s.resources === 0) return {};
        const cfg = (k: string) => s.config[`jetstream-notebooks:${k}`]?.value;
        return {
          notebookUrl: `${this.base}/s/${stack}/lab?token=${s.token}`,
          hostname: `${stack}.example.org`,
          student: cfg("student"),
          workshop: cfg("workshop"),
          expires: cfg("expires"),
          ...this.opts.extraOutputs?.(stack),
        };
      }),
    destroy: (stack, log) =>
      this.call("destroy", stack, () => {
        const s = this.need(stack);
        log(`Destroying (${stack})\n`);
        s.resources = 0;
        s.token = undefined;
        s.history.push("succeeded");
        s.updates = [
          ...(s.updates ?? []),
          { result: "succeeded", time: this.clock(), kind: "destroy" },
        ];
      }),
    remove: (stack) =>
      this.call("remove", stack, () => {
        if (this.need(stack).resources > 0) {
          throw new Error(`'${stack}' still has resources; removal rejected`);
        }
        this.stacks.delete(stack);
        this.selected.delete(stack);
      }),
  };

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? "/", this.base);
    const m = /^\/s\/([^/]+)(\/.*)$/.exec(u.pathname);
    const s = m ? this.stacks.get(m[1]) : undefined;
    if (!m || !s?.token || this.silent.has(m[1]) || s.power === "shelved") {
      res.socket?.destroy();
      return;
    }
    const rest = decodeURIComponent(m[2]);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const auth =
      req.headers.authorization === `token ${s.token}` || u.searchParams.get("token") === s.token;
    if (rest === "/lab") {
      res.writeHead(
        auth ? 200 : 302,
        auth ? { "Content-Type": "text/html" } : { Location: "/login" },
      );
      res.end(auth ? "<title>JupyterLab</title>" : "");
      return;
    }
    if (!auth) return json(403, { message: "Forbidden" });
    if (rest === "/api/status") {
      if (this.statusBody.has(m[1])) {
        const body = this.statusBody.get(m[1]);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(typeof body === "string" ? body : JSON.stringify(body));
        return;
      }
      return json(200, {
        started: "2026-01-01T00:00:00Z",
        last_activity: "2026-01-01T00:05:00.000000Z",
      });
    }
    if (!rest.startsWith("/api/contents/")) return json(404, {});
    if (this.brokenContents.has(m[1])) return json(500, { message: "Internal Server Error" });
    const p = rest.slice("/api/contents/".length).replace(/\/$/, "");
    const file = s.files.get(p);
    if (file) {
      return json(200, {
        name: p.split("/").pop(),
        path: p,
        type: "file",
        format: "base64",
        size: file.length,
        content: file.toString("base64"),
      });
    }
    const children = new Map<string, { type: "file" | "directory"; size?: number }>();
    for (const [fp, bytes] of s.files) {
      if (!fp.startsWith(`${p}/`)) continue;
      const parts = fp.slice(p.length + 1).split("/");
      children.set(
        `${p}/${parts[0]}`,
        parts.length === 1 ? { type: "file", size: bytes.length } : { type: "directory" },
      );
    }
    if (children.size === 0) return json(404, { message: `No such file or directory: ${p}` });
    return json(200, {
      path: p,
      type: "directory",
      content: [...children].map(([cp, c]) => ({
        name: cp.split("/").pop(),
        path: cp,
        type: c.type,
        size: c.size ?? null,
      })),
    });
  }
}
