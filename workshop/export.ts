/**
 * Saves a student's work before their notebook is destroyed, reading it from the Docker engine that
 * holds the student's volume, never from the student's notebook server (the student controls that
 * server: its listings, paths and sizes). A throwaway container (export-helper.ts) mounts the volume
 * read-only and streams a tar with the manifest it computed; here the stream is checked entry by
 * entry as it passes (tar-verify.ts) on its way, compressed, into a private staging file. Only a
 * stream that ended cleanly, matched its manifest in every entry and reported nothing unreadable is
 * renamed into place as DIR/<student>.tar.gz, with DIR/<student>.manifest.json beside it. Nothing is
 * extracted on this machine, so no name in the archive decides where anything is written.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { describeEngine, runDocker, spawnDocker, type EngineTarget } from "./engine";
import { exportRunArgs, restoreRunArgs } from "./export-helper";
import { ensurePrivateDir, writePrivateFile } from "../lib/privateFile";
import {
  ArchiveRefused,
  TarVerifier,
  type HelperManifest,
  type ManifestEntry,
  type ManifestProblem,
} from "./tar-verify";

export interface ExportManifest {
  student: string;
  /** Where the volume was read (the engine, no secrets). */
  source: string;
  volume: string;
  image: string;
  exportedAt: string;
  durationMs: number;
  fileCount: number;
  folderCount: number;
  linkCount: number;
  /** Bytes of file content. */
  totalBytes: number;
  /** Sockets and device files: not data, not exported, listed here. */
  skipped: { path: string; kind: string }[];
  entries: ManifestEntry[];
  archive: { file: string; bytes: number; sha256: string };
}

export interface ExportOptions {
  student: string;
  engine: EngineTarget;
  /** The student's volume on that engine. */
  volume: string;
  /** The stack's notebook image, pinned (see export-helper.ts). */
  image: string;
  outDir: string;
  /** The whole export's deadline; default 30 minutes. */
  deadlineMs?: number;
  now?: () => Date;
  /**
   * The student's notebook container, for the export before a teardown: stopped before the volume
   * is read, so nothing the student writes afterwards is lost with the stack, and started again
   * when the export fails, since the stack is then kept. Absent for a plain export (a copy taken
   * while the class goes on).
   */
  stopContainer?: string;
}

export class ExportError extends Error {
  constructor(
    student: string,
    message: string,
    /** True when running the same command again can help (a transient cause). */
    readonly retryable = false,
  ) {
    super(`export of ${student}: ${message}`);
    this.name = "ExportError";
  }
}

const studentFileName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function manifestPath(outDir: string, student: string): string {
  return path.join(outDir, `${student}.manifest.json`);
}

export function archivePath(outDir: string, student: string): string {
  return path.join(outDir, `${student}.tar.gz`);
}

/** Hashes and counts what goes through. */
class Digest extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;
  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

function firstLines(text: string): string {
  return text.trim().split("\n").slice(0, 3).join(" / ").slice(0, 500);
}

function listProblems(problems: ManifestProblem[]): string {
  const shown = problems.slice(0, 20).map((p) => `${p.path} (${p.error})`);
  return `${shown.join("; ")}${problems.length > 20 ? `; and ${problems.length - 20} more` : ""}`;
}

/** Checks the volume exists on the engine and is this student's (by the label the stack sets). */
async function checkVolume(opts: ExportOptions, engineName: string): Promise<void> {
  const r = await runDocker(
    opts.engine,
    ["volume", "inspect", "--format", "{{json .Labels}}", opts.volume],
    { timeoutMs: 120_000 },
  );
  if (r.code !== 0) {
    if (/no such volume/i.test(r.stderr)) {
      throw new ExportError(
        opts.student,
        `the volume ${opts.volume} does not exist on ${engineName}: there is nothing to export (was it removed by hand?); pass --force to destroy the stack anyway`,
      );
    }
    throw new ExportError(
      opts.student,
      `could not reach ${engineName}: ${firstLines(r.stderr) || `docker exited ${r.code}`}; run it again once it answers`,
      true,
    );
  }
  let labels: Record<string, string> | null = null;
  try {
    labels = JSON.parse(r.stdout) as Record<string, string> | null;
  } catch {
    labels = null;
  }
  const owner = labels?.["org.jetstream-notebooks.student"];
  if (owner !== undefined && owner !== opts.student) {
    throw new ExportError(
      opts.student,
      `the volume ${opts.volume} on ${engineName} belongs to student ${owner}, not ${opts.student}; check the stack's volumeName output`,
    );
  }
}

/** `docker container inspect` of the notebook's running state: stdout is "true" or "false". */
function runningState(opts: ExportOptions, container: string) {
  return runDocker(
    opts.engine,
    ["container", "inspect", "--format", "{{.State.Running}}", container],
    { timeoutMs: 120_000 },
  );
}

/**
 * Stops the notebook container. A container that is not there (removed by hand, or never made) is
 * nothing to stop: its volume is what the export reads.
 */
async function stopNotebook(
  opts: ExportOptions,
  container: string,
  engineName: string,
): Promise<void> {
  const state = await runningState(opts, container);
  if (state.code !== 0) {
    if (/no such (container|object)/i.test(state.stderr)) return;
    throw new ExportError(
      opts.student,
      `could not reach ${engineName}: ${firstLines(state.stderr) || `docker exited ${state.code}`}; run it again once it answers`,
      true,
    );
  }
  if (state.stdout.trim() !== "true") return;
  // Jupyter's own shutdown takes a few seconds; then the engine kills what is left.
  const stop = await runDocker(opts.engine, ["stop", "--time", "20", container], {
    timeoutMs: 120_000,
  });
  if (stop.code !== 0) {
    throw new ExportError(
      opts.student,
      `could not stop the notebook ${container} on ${engineName} before its last export: ${firstLines(stop.stderr) || `docker exited ${stop.code}`}; run it again`,
      true,
    );
  }
}

/** Exports one student's volume; see the file's header. Throws {@link ExportError}. */
export async function exportStudent(opts: ExportOptions): Promise<ExportManifest> {
  if (!studentFileName.test(opts.student)) {
    throw new ExportError(opts.student, "the student id cannot be a file name");
  }
  const engineName = describeEngine(opts.engine);
  await checkVolume(opts, engineName);
  const container = opts.stopContainer;
  try {
    if (container) await stopNotebook(opts, container, engineName);
    return await readVolume(opts, engineName);
  } catch (e) {
    if (!container) throw e;
    // The stack is kept when its export fails: its notebook goes on as it was, whether this run
    // stopped it, an interrupted run did, or the stop failed half-way (the engine may finish it).
    const restarted = await startAgain(opts, container);
    const message = e instanceof Error ? e.message.replace(/^export of [^:]*: /, "") : String(e);
    throw new ExportError(
      opts.student,
      restarted ? `${message} (${restarted})` : message,
      e instanceof ExportError && e.retryable,
    );
  }
}

/** Starts the notebook when it exists and is not running; what was done, for the message. */
async function startAgain(opts: ExportOptions, container: string): Promise<string | undefined> {
  const state = await runningState(opts, container).catch(() => undefined);
  if (!state || state.code !== 0 || state.stdout.trim() === "true") return undefined;
  const start = await runDocker(opts.engine, ["start", container], { timeoutMs: 120_000 }).catch(
    (e: unknown) => ({ code: 1, stdout: "", stderr: String(e) }),
  );
  return start.code === 0
    ? `the notebook ${container} was started again`
    : `the notebook ${container} is stopped and did not start again (${firstLines(start.stderr)}); \`docker start ${container}\` on that engine, or \`workshop reset --student ${opts.student}\`, brings it back with the same files`;
}

async function readVolume(opts: ExportOptions, engineName: string): Promise<ExportManifest> {
  const started = Date.now();
  const deadlineMs = opts.deadlineMs ?? 30 * 60_000;

  await ensurePrivateDir(opts.outDir);
  const staging = await fsp.mkdtemp(path.join(opts.outDir, `.export-${opts.student}-`));
  try {
    const stagingArchive = path.join(staging, "archive.tar.gz");
    const name = `jn-export-${opts.student}-${randomBytes(4).toString("hex")}`;
    const child = spawnDocker(
      opts.engine,
      exportRunArgs({ name, image: opts.image, volume: opts.volume }),
    );
    child.stdin.end();
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    child.stderr.on("data", (c: Buffer) => {
      if (stderrBytes < 64 * 1024) stderr.push(c);
      stderrBytes += c.length;
    });
    const exited = new Promise<number>((resolve) => {
      child.on("error", () => resolve(127));
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
      // The container may outlive its client (over ssh it always does): remove it by name, with
      // the anonymous volume the image's VOLUME gives it (never a named one).
      void runDocker(opts.engine, ["rm", "--force", "--volumes", name], { timeoutMs: 60_000 });
    }, deadlineMs);

    const verifier = new TarVerifier();
    const digest = new Digest();
    let streamError: unknown;
    try {
      await pipeline(
        child.stdout,
        verifier,
        // Level 1: the engine's stream of a large home is compressed as fast as it arrives.
        zlib.createGzip({ level: 1 }),
        digest,
        fs.createWriteStream(stagingArchive, { flags: "wx", mode: 0o600 }),
      );
    } catch (e) {
      streamError = e;
      child.kill("SIGKILL");
      void runDocker(opts.engine, ["rm", "--force", "--volumes", name], { timeoutMs: 60_000 });
    }
    const code = await exited;
    clearTimeout(timer);

    if (timedOut) {
      throw new ExportError(
        opts.student,
        `not finished within ${Math.round(deadlineMs / 60_000)} min (${verifier.bytes} bytes read from ${opts.volume} on ${engineName}); run it again when the engine is less busy`,
        true,
      );
    }
    if (streamError instanceof ArchiveRefused) {
      throw new ExportError(
        opts.student,
        `the stream from ${engineName} was refused, nothing was kept: ${streamError.message}`,
      );
    }
    if (code !== 0) {
      const why = firstLines(Buffer.concat(stderr).toString("utf8")) || `exit ${code}`;
      throw new ExportError(
        opts.student,
        `the export container on ${engineName} failed: ${why}`,
        code === 255 /* ssh's own failure */,
      );
    }
    if (streamError) {
      throw new ExportError(
        opts.student,
        `writing the archive failed: ${(streamError as Error).message}`,
      );
    }
    let helper: HelperManifest;
    try {
      helper = verifier.result();
    } catch (e) {
      throw new ExportError(opts.student, `nothing was kept: ${(e as Error).message}`);
    }
    if (helper.errors.length > 0) {
      const changed = helper.errors.filter((p) => p.error.startsWith("changed while"));
      const unreadable = helper.errors.filter((p) => !p.error.startsWith("changed while"));
      if (unreadable.length > 0) {
        throw new ExportError(
          opts.student,
          `${unreadable.length} item(s) in ${opts.volume} could not be read: ${listProblems(unreadable)}; make them readable from the student's terminal, or pass --force to destroy without them`,
        );
      }
      throw new ExportError(
        opts.student,
        `${changed.length} file(s) changed while they were being read: ${listProblems(changed)}; run it again once the student has stopped writing`,
        true,
      );
    }

    const files = helper.entries.filter((e) => e.type === "file");
    const manifest: ExportManifest = {
      student: opts.student,
      source: engineName,
      volume: opts.volume,
      image: opts.image,
      exportedAt: (opts.now?.() ?? new Date()).toISOString(),
      durationMs: Date.now() - started,
      fileCount: files.length,
      folderCount: helper.entries.filter((e) => e.type === "dir").length,
      linkCount: helper.entries.filter((e) => e.type === "symlink").length,
      totalBytes: files.reduce((n, f) => n + (f.size ?? 0), 0),
      skipped: helper.skipped.map((s) => ({ path: s.path, kind: s.kind })),
      entries: helper.entries,
      archive: {
        file: path.basename(archivePath(opts.outDir, opts.student)),
        bytes: digest.bytes,
        sha256: digest.hash.digest("hex"),
      },
    };
    await fsp.rename(stagingArchive, archivePath(opts.outDir, opts.student));
    await writePrivateFile(
      manifestPath(opts.outDir, opts.student),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    return manifest;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** Reads an export archive back through the same checks; its manifest when it passes. */
export async function verifyArchiveFile(archive: string): Promise<HelperManifest> {
  const verifier = new TarVerifier();
  await pipeline(
    fs.createReadStream(archive),
    zlib.createGunzip(),
    verifier,
    new Writable({ write: (_chunk, _enc, done) => done() }),
  );
  return verifier.result();
}

/**
 * Restores an export into a NEW volume on the engine, unpacked by a container there (never on this
 * machine), after the archive passed the same checks as when it was made.
 */
export async function restoreArchive(opts: {
  engine: EngineTarget;
  archive: string;
  volume: string;
  image: string;
  labels?: Record<string, string>;
}): Promise<HelperManifest> {
  const manifest = await verifyArchiveFile(opts.archive);
  const home = manifest.entries.find((e) => e.p === "");
  if (!home) throw new Error(`restore: ${opts.archive} has no entry for the home itself`);
  const exists = await runDocker(opts.engine, ["volume", "inspect", opts.volume]);
  if (exists.code === 0) {
    throw new Error(`restore: the volume ${opts.volume} exists; restore only into a new one`);
  }
  const create = await runDocker(opts.engine, [
    "volume",
    "create",
    ...Object.entries(opts.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    opts.volume,
  ]);
  if (create.code !== 0) throw new Error(`restore: ${firstLines(create.stderr)}`);
  const child = spawnDocker(
    opts.engine,
    restoreRunArgs({
      name: `jn-restore-${randomBytes(4).toString("hex")}`,
      image: opts.image,
      volume: opts.volume,
      root: home,
    }),
  );
  const stderr: Buffer[] = [];
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  child.stdout.resume();
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  await pipeline(fs.createReadStream(opts.archive), child.stdin);
  const code = await exited;
  if (code !== 0) {
    throw new Error(
      `restore into ${opts.volume} failed: ${firstLines(Buffer.concat(stderr).toString())}`,
    );
  }
  return manifest;
}
