/**
 * One workshop command at a time: the lock file, with real processes for "alive" and "dead".
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireWorkshopLock, tookOverMessage, WorkshopLockError } from "../workshop/lock";

let dir = "";
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-lock-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A PID that ran and has ended on this host. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"]).stdout.toString().trim());
}

test("a second process is refused, told who holds the lock; the lock is free once released", () => {
  const file = path.join(dir, ".workshop-intro.lock");
  const first = acquireWorkshopLock(file, { command: "up" });
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const holder = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  expect(holder).toMatchObject({ pid: process.pid, host: os.hostname(), command: "up" });
  expect(typeof holder.started).toBe("string");

  // Another process on the same workshop (its own PID; this one is alive).
  expect(() => acquireWorkshopLock(file, { command: "down", pid: process.pid + 1 })).toThrow(
    WorkshopLockError,
  );
  expect(() => acquireWorkshopLock(file, { command: "down", pid: process.pid + 1 })).toThrow(
    new RegExp(`workshop up\` \\(PID ${process.pid} on ${os.hostname()}`),
  );
  first.release();
  expect(fs.existsSync(file)).toBe(false);
  acquireWorkshopLock(file, { command: "down" }).release();
});

test("a stale lock from a dead PID on this host is taken over, with a message", () => {
  const file = path.join(dir, ".workshop-intro.lock");
  const pid = deadPid();
  fs.writeFileSync(
    file,
    JSON.stringify({ pid, host: os.hostname(), started: "2030-01-01T00:00:00Z", command: "up" }),
  );
  const lock = acquireWorkshopLock(file, { command: "up" });
  expect(lock.tookOver?.pid).toBe(pid);
  expect(tookOverMessage(lock)).toMatch(new RegExp(`took over .* \\(PID ${pid}, since 2030`));
  lock.release();
});

test("a lock from another host is never taken over: this host cannot tell whether it runs", () => {
  const file = path.join(dir, ".workshop-intro.lock");
  fs.writeFileSync(
    file,
    JSON.stringify({
      pid: 1,
      host: "other-laptop",
      started: "2030-01-01T00:00:00Z",
      command: "up",
    }),
  );
  expect(() => acquireWorkshopLock(file, { command: "up", isAlive: () => false })).toThrow(
    /another machine, other-laptop.*remove/,
  );
});
