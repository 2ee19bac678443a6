/**
 * A page in headless Chromium driven over the DevTools protocol, for tests that must act in the
 * page (click, wait for what the page's scripts draw) rather than read one snapshot of its DOM.
 * `--dump-dom` runs on virtual time, under which a kernel's websocket may never connect.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { findChromium } from "./browser";
import { waitFor } from "./docker";
import { httpGet } from "./jupyter";

/** What a test can do with the page. */
export interface BrowserPage {
  /** Evaluates `expression` in the page and returns its value (JSON-serialisable results only). */
  evaluate<T>(expression: string): Promise<T>;
  /**
   * Evaluates `expression` until it yields something other than null or undefined, and returns
   * that; throws naming `what` after `timeoutMs`.
   */
  waitFor<T>(what: string, expression: string, timeoutMs?: number): Promise<T>;
  /** Presses and releases the left mouse button at a point of the viewport, as a user would. */
  click(x: number, y: number): Promise<void>;
}

interface CdpReply {
  id?: number;
  result?: { result?: { value?: unknown }; exceptionDetails?: { text?: string } };
  error?: { message: string };
}

/**
 * Opens `url` in a fresh headless Chromium (its own profile, no background networking), runs `use`
 * with the page, and always ends the browser and removes its profile.
 */
export async function withBrowserPage<T>(
  url: string,
  use: (page: BrowserPage) => Promise<T>,
): Promise<T> {
  const browser = findChromium();
  if (!browser) throw new Error("no chromium found: apt-get install chromium, or set CHROMIUM");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "jn-chromium-"));
  const child = spawn(
    browser,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--window-size=1280,900",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    // Its own process group, so that ending it ends its renderer and helper processes too.
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  let socket: WebSocket | undefined;
  try {
    // Chromium picks a free port and says which on stderr.
    const port = await waitFor(
      "chromium's DevTools port",
      () => {
        if (child.exitCode !== null) throw new Error(`chromium exited: ${stderr.slice(-2000)}`);
        return Promise.resolve(/DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(stderr)?.[1]);
      },
      30_000,
    );
    const targets = JSON.parse((await httpGet(`http://127.0.0.1:${port}/json/list`)).body) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const target = targets.find((t) => t.type === "page");
    if (!target) throw new Error("chromium opened no page");
    const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    socket = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    let nextId = 0;
    const pending = new Map<number, (reply: CdpReply) => void>();
    ws.on("message", (raw: WebSocket.RawData) => {
      // DevTools sends JSON text frames, which `ws` hands over as a Buffer or a list of them.
      const text = Buffer.concat(
        Array.isArray(raw) ? raw : [Buffer.isBuffer(raw) ? raw : Buffer.from(raw)],
      ).toString("utf8");
      const reply = JSON.parse(text) as CdpReply;
      if (reply.id !== undefined) pending.get(reply.id)?.(reply);
    });
    const send = (method: string, params: object): Promise<CdpReply["result"]> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, (reply) => {
          pending.delete(id);
          if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
          else resolve(reply.result);
        });
        ws.send(JSON.stringify({ id, method, params }));
      });

    const evaluate = async <R>(expression: string): Promise<R> => {
      const result = await send("Runtime.evaluate", { expression, returnByValue: true });
      if (result?.exceptionDetails) {
        throw new Error(`page threw: ${result.exceptionDetails.text ?? "an exception"}`);
      }
      return result?.result?.value as R;
    };
    const page: BrowserPage = {
      evaluate,
      waitFor: <R>(what: string, expression: string, timeoutMs = 60_000) =>
        waitFor(
          what,
          async () => (await evaluate<R | null | undefined>(expression)) ?? undefined,
          timeoutMs,
          500,
        ),
      click: async (x, y) => {
        for (const type of ["mousePressed", "mouseReleased"]) {
          await send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
        }
      },
    };
    await send("Page.navigate", { url });
    return await use(page);
  } finally {
    socket?.terminate();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    // Helpers may still be writing to the profile for a moment after the browser exits.
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
