/**
 * One workshop command at a time per workshop. Two at once lose journal entries (the last writer
 * wins) and overlap stack selects in one Pulumi workspace (pulumi/pulumi#8186). The lock is a file
 * created exclusively, holding the holder's PID, host and start time; a lock left by a process that
 * no longer runs on this host is taken over, with a message saying so.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export class WorkshopLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkshopLockError";
  }
}

export interface WorkshopLock {
  file: string;
  /** The stale holder whose lock was taken over, if any. */
  tookOver?: LockHolder;
  release(): void;
}

export interface LockOptions {
  /** What this process runs, for the message another process shows (`up`, `down`...). */
  command: string;
  pid?: number;
  host?: string;
  now?: () => Date;
  /** Whether a PID runs on this host; signal 0 by default. */
  isAlive?: (pid: number) => boolean;
}

/** The lock file of a workshop: next to its settings file, named after the workshop. */
export function lockFileFor(settingsFile: string, workshop: string): string {
  return path.join(path.dirname(settingsFile), `.workshop-${workshop}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string") {
      return { pid: h.pid, host: h.host, started: String(h.started), command: String(h.command) };
    }
  } catch {
    // Unreadable or half-written: treated as held (below).
  }
  return undefined;
}

/** Takes the workshop's lock or throws WorkshopLockError naming who holds it. */
export function acquireWorkshopLock(file: string, opts: LockOptions): WorkshopLock {
  const me: LockHolder = {
    pid: opts.pid ?? process.pid,
    host: opts.host ?? os.hostname(),
    started: (opts.now?.() ?? new Date()).toISOString(),
    command: opts.command,
  };
  const isAlive = opts.isAlive ?? alive;
  let tookOver: LockHolder | undefined;
  for (let tries = 0; tries < 2; tries++) {
    let fd: number;
    try {
      fd = fs.openSync(file, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = readHolder(file);
      if (holder && holder.host === me.host && !isAlive(holder.pid)) {
        // Its process is gone: the lock is stale. Removed only if still that same holder's.
        if (readHolder(file)?.pid === holder.pid) fs.rmSync(file, { force: true });
        tookOver = holder;
        continue;
      }
      const who = holder
        ? `\`workshop ${holder.command}\` (PID ${holder.pid} on ${holder.host}, since ${holder.started})`
        : "another workshop command (its lock file is unreadable)";
      throw new WorkshopLockError(
        `${who} is running on this workshop; wait for it to finish. Two at once lose journal entries and corrupt stack selection. If it is no longer running${holder && holder.host !== me.host ? ` (it ran on another machine, ${holder.host}, so this one cannot check)` : ""}, remove ${file}`,
      );
    }
    fs.writeSync(fd, `${JSON.stringify(me)}\n`);
    fs.closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (readHolder(file)?.pid === me.pid) fs.rmSync(file, { force: true });
    };
    return { file, tookOver, release };
  }
  throw new WorkshopLockError(`could not take ${file}: another process keeps taking it; try again`);
}

/** The message for a stale lock that was taken over. */
export function tookOverMessage(lock: WorkshopLock): string | undefined {
  const h = lock.tookOver;
  return h
    ? `note: took over ${lock.file} from \`workshop ${h.command}\` (PID ${h.pid}, since ${h.started}), which no longer runs`
    : undefined;
}
