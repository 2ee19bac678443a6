/**
 * The workshop's moving parts, over the StackDriver interface: bring every student's stack up,
 * report status, export work, and tear down without losing any. Rules it keeps:
 * - stack create/select one at a time (a mutex; concurrent createOrSelectStack corrupts the
 *   workspace, pulumi/pulumi#8186), updates in parallel up to the concurrency bound;
 * - one student's failure is that student's result, never an exception that stops the others;
 * - transient failures are retried with backoff, permanent ones are reported at once;
 * - a URL is ready only once the notebook answers with its token;
 * - nothing is destroyed before its export is verified, unless forced;
 * - the backend, not the journal, says which stacks exist: a stack that exists is exported again
 *   (fresh, from its engine) and torn down, whatever an earlier run recorded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Mutex, runPool } from "./concurrency";
import type { ConfigValues, StackDriver, UpdateResult } from "./driver";
import { ExportError, exportStudent, type ExportManifest } from "./export";
import { exportSource, type ExportSource } from "./export-source";
import { Journal } from "./journal";
import { assignPorts } from "./localPorts";
import { pausedSince } from "./power";
import { probeNotebook, probeTrust, type ProbeResult } from "./probe";
import type { Reporter } from "./progress";
import { Redactor } from "./redaction";
import { defaultRetryPolicy, withRetries, type RetryPolicy } from "./retry";
import type { Power } from "../lib/config";
import { keptGenerations, nextGenerations } from "./reset";
import { readLastActivity } from "./lastActivity";
import { idProblem, type Student } from "./roster";
import { configNamespace } from "../lib/rules/stack";
import { stackName, studentConfig, type WorkshopSettings } from "./settings";

export interface OrchestratorOptions {
  driver: StackDriver;
  reporter: Reporter;
  retry?: RetryPolicy;
  now?: () => Date;
  /** Once aborted, no new student is started; those in flight finish. */
  signal?: AbortSignal;
  /** Probe timing; the deadline comes from the settings' probeTimeoutMinutes unless given here. */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Secret stack config (full keys added by the orchestrator), e.g. dockerHubToken. */
  secrets?: Record<string, string>;
  /** Folder for each student's Pulumi output; none when undefined. */
  logDir?: string;
  /**
   * Knows every secret in play; every text this class shows, logs or returns passes through it.
   * The secrets given above are added to it.
   */
  redactor?: Redactor;
  /** One student's whole export, from their engine; default 30 minutes. */
  exportTimeoutMs?: number;
  /**
   * Reads a student's volume into outDir; default {@link exportStudent} on the stack's engine. The
   * orchestration tests put a stand-in here; the export's own tests run the real one.
   */
  exporter?: (args: {
    student: string;
    source: ExportSource;
    outDir: string;
    deadlineMs: number;
    /** True for the last export before a teardown: the notebook is stopped first. */
    stopNotebook: boolean;
  }) => Promise<ExportManifest>;
}

export type UpStatus = "ready" | "unchanged" | "paused" | "failed";

export interface UpResult {
  student: Student;
  stack: string;
  status: UpStatus;
  detail: string;
  url?: string;
  hostname?: string;
}

export interface StatusRow {
  student: string;
  stack: string;
  exists: boolean;
  /** The stack's `power` setting: `active` (also when unset) or `shelved`. */
  power?: string;
  lastUpdate?: string;
  lastResult?: UpdateResult;
  health: string;
  /** The notebook's `/api/status` `last_activity` (ISO, UTC); unset when it did not say. */
  lastActivity?: string;
  expires?: string;
  /** The notebook URL (a secret: shown only on request). */
  url?: string;
}

export interface ExportOutcome {
  student: string;
  stack: string;
  ok: boolean;
  detail: string;
  manifest?: ExportManifest;
}

export type DownStatus = "removed" | "absent" | "kept" | "failed";

export interface DownOutcome {
  student: string;
  stack: string;
  status: DownStatus;
  detail: string;
  /** This run's export, when there was one. */
  manifest?: ExportManifest;
}

export interface DownTarget {
  student: string;
  stack: string;
}

/** `1.2 GB`, `340 kB`: sizes for people, in powers of 1000 as disks are sold. */
export function formatBytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** The size report of one export. */
export function exportSummary(m: ExportManifest): string {
  return `${m.fileCount} files, ${formatBytes(m.totalBytes)} (archive ${formatBytes(m.archive.bytes)}, ${(m.durationMs / 1000).toFixed(1)} s)`;
}

function fullKeys(raw: Record<string, string>, secret: boolean): ConfigValues {
  const out: ConfigValues = {};
  for (const [k, value] of Object.entries(raw)) out[`${configNamespace}:${k}`] = { value, secret };
  return out;
}

/**
 * Why a stack that already exists is not this student's, or undefined when it is (or is new). A
 * stack name can be shared: workshop `intro-py` student `ada` and workshop `intro` student `py-ada`
 * are both `intro-py-ada`, and adopting it would hand over the other student's notebook.
 */
export function ownerProblem(
  current: ConfigValues,
  workshop: string,
  student: string,
  stack: string,
  stackPrefix?: string,
): string | undefined {
  const theirs = (k: string) => current[`${configNamespace}:${k}`]?.value;
  const w = theirs("workshop");
  const s = theirs("student");
  const p = theirs("stackPrefix");
  if ((w !== undefined && w !== workshop) || (s !== undefined && s !== student)) {
    return `stack ${stack} belongs to workshop ${w ?? "(none)"}, student ${s ?? "(none)"}, not ${workshop}/${student}: refusing to take it over. Give this workshop a stackPrefix of its own in the settings`;
  }
  // Another prefix's stack under the same name (a backend whose file names ignore case).
  if (stackPrefix !== undefined && p !== undefined && p !== stackPrefix) {
    return `stack ${stack} was made with stackPrefix ${p}, not ${stackPrefix}: refusing to take it over (its VM is named after its own prefix). Use the settings it was made with, or give this workshop a stackPrefix no other workshop uses`;
  }
  return undefined;
}

/**
 * `stackPrefix` for a stack's config: set on a stack this command creates (no config of ours yet) and
 * kept on one that has it, so its resources get names unique to the workshop (lib/physicalName.ts).
 * A stack made without it keeps its names: adding it would rename the key pair, replacing the VM.
 */
export function stackPrefixConfig(current: ConfigValues, stackPrefix: string): ConfigValues {
  const key = `${configNamespace}:stackPrefix`;
  const ours = Object.keys(current).filter((k) => k.startsWith(`${configNamespace}:`));
  if (ours.length > 0 && !(key in current)) return {};
  // Its own value wins: another one would rename the key pair and so replace the VM.
  return { [key]: current[key] ?? { value: stackPrefix, secret: false } };
}

export class Orchestrator {
  private readonly stackLock = new Mutex();
  private readonly driver: StackDriver;
  private readonly reporter: Reporter;
  private readonly retry: RetryPolicy;
  private readonly now: () => Date;
  private readonly redactor: Redactor;

  constructor(private readonly opts: OrchestratorOptions) {
    this.driver = opts.driver;
    this.redactor = opts.redactor ?? new Redactor();
    for (const v of Object.values(opts.secrets ?? {})) this.redactor.add(v);
    const redact = (text?: string) => (text === undefined ? undefined : this.redactor.redact(text));
    this.reporter = {
      update: (student, status, detail) => opts.reporter.update(student, status, redact(detail)),
      note: (text) => opts.reporter.note(this.redactor.redact(text)),
      close: () => opts.reporter.close(),
    };
    this.retry = opts.retry ?? defaultRetryPolicy;
    this.now = opts.now ?? (() => new Date());
  }

  private errorText(e: unknown): string {
    return this.redactor.errorText(e);
  }

  /** Selects (optionally creating) a stack under the workspace lock, retrying transient failures. */
  private select(student: string, stack: string, create: boolean): Promise<boolean> {
    return withRetries(
      this.retry,
      () => this.stackLock.run(() => this.driver.select(stack, { create })),
      (r) =>
        this.reporter.update(
          student,
          "retrying",
          `select: ${r.reason}, again in ${Math.round(r.delayMs / 1000)}s`,
        ),
    );
  }

  private retried<T>(student: string, what: string, op: () => Promise<T>): Promise<T> {
    return withRetries(this.retry, op, (r) =>
      this.reporter.update(
        student,
        "retrying",
        `${what}: ${r.reason}, try ${r.attempt + 1} in ${Math.round(r.delayMs / 1000)}s`,
      ),
    );
  }

  private logFor(stack: string, op: string): { log: (line: string) => void; close: () => void } {
    if (!this.opts.logDir) return { log: () => {}, close: () => {} };
    fs.mkdirSync(this.opts.logDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.opts.logDir, `${stack}.${op}.log`);
    const stream = fs.createWriteStream(file, { flags: "a", mode: 0o600 });
    let broken = false;
    // A log that cannot be written (its folder removed, a full disk) costs the log, not the run:
    // an error event with no listener would end the whole command.
    // The progress lines and the summary still say what happened to each student.
    stream.on("error", () => {
      broken = true;
    });
    stream.write(`--- ${op} ${this.now().toISOString()}\n`);
    const writer = this.redactor.lineWriter((text) => {
      if (!broken) stream.write(text);
    });
    return {
      log: writer.write,
      close: () => {
        writer.flush();
        stream.end();
      },
    };
  }

  private probeDeadline(settings: WorkshopSettings): number {
    return Date.now() + (this.opts.probeTimeoutMs ?? settings.probeTimeoutMinutes * 60_000);
  }

  /**
   * Brings every student's notebook up; converges when run again. `students` is the whole roster
   * (on target local a student's port follows its row); `only` picks the ones to bring up.
   */
  async up(
    settings: WorkshopSettings,
    students: readonly Student[],
    opts: {
      concurrency: number;
      forceUpdate?: boolean;
      only?: ReadonlySet<string>;
      /**
       * The `power` to set on each stack (pause: shelved, resume: active). Undefined keeps each
       * stack's own: a plain up for a late student must not resume a paused class.
       */
      power?: Power;
      /** Count the reset settings up (reset.ts): a fresh container, with `token` a new token. */
      reset?: { token: boolean };
    },
  ): Promise<UpResult[]> {
    const rows = new Map(students.map((s, i) => [s.id, i]));
    const only = opts.only;
    const ports =
      settings.target === "local" ? await this.localPorts(settings, students) : undefined;
    return runPool(
      only ? students.filter((s) => only.has(s.id)) : students,
      opts.concurrency,
      (student) =>
        this.upOne(
          settings,
          student,
          rows.get(student.id) ?? 0,
          opts.forceUpdate ?? false,
          opts.power,
          ports?.get(student.id),
          opts.reset,
        ),
      this.opts.signal,
    );
  }

  /**
   * On target local, every roster student's port: the one its stack already has, else a free one
   * derived from its id (localPorts.ts), so adding a student anywhere in the roster moves no one.
   */
  private async localPorts(
    settings: WorkshopSettings,
    students: readonly Student[],
  ): Promise<Map<string, number>> {
    const existing = new Set((await this.driver.list()).map((s) => s.name));
    const taken = new Map<string, number>();
    for (const student of students) {
      const stack = stackName(settings, student.id);
      if (!existing.has(stack) || !(await this.select(student.id, stack, false))) continue;
      const config = await this.retried(student.id, "config", () => this.driver.getConfig(stack));
      const port = Number(config[`${configNamespace}:notebookPort`]?.value);
      if (Number.isInteger(port) && port > 0 && ![...taken.values()].includes(port)) {
        taken.set(student.id, port);
      }
    }
    return assignPorts(
      students.map((s) => s.id),
      taken,
      settings.localPortBase,
    );
  }

  /** Shelves each student's VM through its stack (`power: shelved`); nothing is probed. */
  pause(
    settings: WorkshopSettings,
    students: readonly Student[],
    opts: { concurrency: number; only?: ReadonlySet<string> },
  ): Promise<UpResult[]> {
    return this.up(settings, students, { ...opts, power: "shelved" });
  }

  /** Unshelves each student's VM (`power: active`), then waits until its notebook answers. */
  resume(
    settings: WorkshopSettings,
    students: readonly Student[],
    opts: { concurrency: number; only?: ReadonlySet<string> },
  ): Promise<UpResult[]> {
    return this.up(settings, students, { ...opts, power: "active" });
  }

  private async upOne(
    settings: WorkshopSettings,
    student: Student,
    row: number,
    forceUpdate: boolean,
    power: Power | undefined,
    localPort?: number,
    reset?: { token: boolean },
  ): Promise<UpResult> {
    const stack = stackName(settings, student.id);
    const result = (status: UpStatus, detail: string, extra: Partial<UpResult> = {}): UpResult => {
      this.reporter.update(student.id, status, detail);
      return { student, stack, status, detail, ...extra };
    };
    try {
      this.reporter.update(student.id, "selecting");
      await this.select(student.id, stack, true);
      const current = await this.retried(student.id, "config", () => this.driver.getConfig(stack));
      // Another workshop's or student's stack of the same name is never taken over.
      const owner = ownerProblem(
        current,
        settings.workshop,
        student.id,
        stack,
        settings.stackPrefix,
      );
      if (owner) return result("failed", owner);
      const powerKey = `${configNamespace}:power`;
      const keptPower = current[powerKey]?.value;
      const desired: ConfigValues = {
        ...fullKeys(studentConfig(settings, student, row), false),
        ...stackPrefixConfig(current, settings.stackPrefix),
        ...(localPort !== undefined ? fullKeys({ notebookPort: String(localPort) }, false) : {}),
        ...fullKeys(this.opts.secrets ?? {}, true),
        // A plain up keeps the reset counters: dropping them would reset (and change a token) again.
        ...(reset ? nextGenerations(current, reset.token) : keptGenerations(current)),
        ...(power !== undefined
          ? { [powerKey]: { value: power, secret: false } }
          : keptPower !== undefined
            ? { [powerKey]: { value: keptPower, secret: false } }
            : {}),
      };
      const paused = desired[powerKey]?.value === "shelved";
      const stale = Object.keys(current).filter(
        (k) => k.startsWith(`${configNamespace}:`) && !(k in desired),
      );
      const changed = Object.entries(desired).filter(([k, v]) => current[k]?.value !== v.value);
      if (changed.length > 0 || stale.length > 0) {
        await this.retried(student.id, "config", () =>
          this.driver.setConfig(stack, Object.fromEntries(changed), stale),
        );
      }

      // Nothing changed and the last update worked: if the notebook answers, there is nothing to do.
      if (!forceUpdate && changed.length === 0 && stale.length === 0) {
        const last = await this.retried(student.id, "history", () => this.driver.lastResult(stack));
        // A shelved VM does not answer: nothing to probe, nothing to update.
        if (last === "succeeded" && paused) {
          return result(
            "paused",
            "paused (shelved); `workshop resume` starts it again",
            await this.urlOf(student.id, stack),
          );
        }
        if (last === "succeeded") {
          const outputs = await this.retried(student.id, "outputs", () =>
            this.driver.outputs(stack),
          );
          const url = typeof outputs.notebookUrl === "string" ? outputs.notebookUrl : undefined;
          if (url) {
            this.reporter.update(student.id, "checking");
            const probe = await probeNotebook(url, { tls: probeTrust(settings.shared) });
            if (probe.healthy) {
              return result("unchanged", "already up and answering", {
                url,
                hostname: typeof outputs.hostname === "string" ? outputs.hostname : undefined,
              });
            }
          }
        }
      }

      this.reporter.update(student.id, "updating");
      const { log, close } = this.logFor(stack, "up");
      try {
        await this.retried(student.id, "up", () => this.driver.up(stack, log));
      } finally {
        close();
      }
      if (paused) {
        return result(
          "paused",
          "shelved: costs no SUs; `workshop resume` starts it again",
          await this.urlOf(student.id, stack),
        );
      }
      const outputs = await this.retried(student.id, "outputs", () => this.driver.outputs(stack));
      const url = outputs.notebookUrl;
      if (typeof url !== "string") {
        return result("failed", "the stack has no notebookUrl output; check the program's exports");
      }
      this.reporter.update(student.id, "probing");
      const probe: ProbeResult = await probeNotebook(url, {
        deadline: this.probeDeadline(settings),
        intervalMs: this.opts.probeIntervalMs,
        tls: probeTrust(settings.shared),
      });
      if (!probe.healthy) {
        return result(
          "failed",
          `up succeeded but the notebook did not answer within ${settings.probeTimeoutMinutes} min: ${probe.detail}; run up again once it boots, or check \`workshop status\``,
        );
      }
      return result("ready", `answering after ${probe.attempts} probe(s)`, {
        url,
        hostname: typeof outputs.hostname === "string" ? outputs.hostname : undefined,
      });
    } catch (e) {
      return result("failed", this.errorText(e));
    }
  }

  /** The notebook URL and hostname a stack outputs (a paused stack keeps them), if any. */
  private async urlOf(student: string, stack: string): Promise<Partial<UpResult>> {
    const outputs = await this.retried(student, "outputs", () => this.driver.outputs(stack));
    return {
      url: typeof outputs.notebookUrl === "string" ? outputs.notebookUrl : undefined,
      hostname: typeof outputs.hostname === "string" ? outputs.hostname : undefined,
    };
  }

  /** "paused since <time of the update that shelved it>", or "paused" when that is unknown. */
  private async pausedHealth(student: string, stack: string): Promise<string> {
    const updates = this.driver.updates?.bind(this.driver);
    if (!updates) return "paused";
    const limit = 50;
    const history = await this.retried(student, "history", () => updates(stack, limit));
    const since = pausedSince(history, history.length < limit);
    return since ? `paused since ${since}` : "paused";
  }

  /** Stack state, notebook health and expiry, per student; creates nothing. */
  async status(
    settings: WorkshopSettings,
    students: readonly Student[],
    concurrency: number,
  ): Promise<StatusRow[]> {
    const stacks = new Map((await this.driver.list()).map((s) => [s.name, s]));
    return runPool(students, concurrency, async (student): Promise<StatusRow> => {
      const stack = stackName(settings, student.id);
      const info = stacks.get(stack);
      if (!info)
        return { student: student.id, stack, exists: false, health: "-", expires: undefined };
      try {
        await this.select(student.id, stack, false);
        const [lastResult, outputs] = await Promise.all([
          this.retried(student.id, "history", () => this.driver.lastResult(stack)),
          this.retried(student.id, "outputs", () => this.driver.outputs(stack)),
        ]);
        const config = await this.retried(student.id, "config", () => this.driver.getConfig(stack));
        const power = config[`${configNamespace}:power`]?.value ?? "active";
        const url = outputs.notebookUrl;
        let health = "no notebookUrl output";
        let lastActivity: string | undefined;
        if (power === "shelved") {
          // A shelved VM does not answer; probing it would only report it unhealthy.
          health = await this.pausedHealth(student.id, stack);
        } else if (typeof url === "string") {
          const p = await probeNotebook(url, { tls: probeTrust(settings.shared) });
          health = p.healthy ? "healthy" : `unhealthy: ${p.detail}`;
          // Only a server that just answered is asked: a dead one would cost another timeout.
          if (p.healthy) {
            lastActivity = await readLastActivity(url, { tls: probeTrust(settings.shared) });
          }
        }
        return {
          student: student.id,
          stack,
          exists: true,
          power,
          url: typeof url === "string" ? url : undefined,
          lastUpdate: info.updateInProgress ? "in progress" : info.lastUpdate,
          lastResult,
          health,
          ...(lastActivity !== undefined ? { lastActivity } : {}),
          expires: typeof outputs.expires === "string" ? outputs.expires : undefined,
        };
      } catch (e) {
        return { student: student.id, stack, exists: true, health: `error: ${this.errorText(e)}` };
      }
    });
  }

  private async exportOne(
    _settings: WorkshopSettings,
    target: DownTarget,
    outDir: string,
    stopNotebook: boolean,
  ): Promise<ExportManifest> {
    const outputs = await this.retried(target.student, "outputs", () =>
      this.driver.outputs(target.stack),
    );
    let source: ExportSource;
    try {
      source = exportSource(outputs);
    } catch (e) {
      throw new ExportError(target.student, this.errorText(e));
    }
    this.reporter.update(target.student, "exporting", `${source.volume}`);
    const exporter =
      this.opts.exporter ??
      ((a) =>
        exportStudent({
          student: a.student,
          engine: a.source.engine,
          volume: a.source.volume,
          image: a.source.image,
          outDir: a.outDir,
          deadlineMs: a.deadlineMs,
          now: this.now,
          stopContainer: a.stopNotebook ? a.source.container : undefined,
        }));
    return exporter({
      student: target.student,
      source,
      outDir,
      deadlineMs: this.opts.exportTimeoutMs ?? 30 * 60_000,
      stopNotebook,
    });
  }

  /** Exports each student's whole volume to outDir. */
  async export(
    settings: WorkshopSettings,
    targets: readonly DownTarget[],
    opts: { outDir: string; concurrency: number },
  ): Promise<ExportOutcome[]> {
    return runPool(
      targets,
      opts.concurrency,
      async (t): Promise<ExportOutcome> => {
        try {
          if (!(await this.select(t.student, t.stack, false))) {
            const detail = `no stack ${t.stack} in this backend`;
            this.reporter.update(t.student, "failed", detail);
            return { ...t, ok: false, detail };
          }
          const manifest = await this.exportOne(settings, t, opts.outDir, false);
          const detail = exportSummary(manifest);
          this.reporter.update(t.student, "exported", detail);
          return { ...t, ok: true, detail, manifest };
        } catch (e) {
          this.reporter.update(t.student, "failed", this.errorText(e));
          return { ...t, ok: false, detail: this.errorText(e) };
        }
      },
      this.opts.signal,
    );
  }

  /**
   * Export, destroy, remove, per student, recorded in a journal in outDir. Without `force`, a
   * student whose export failed keeps their stack. The journal only says what was done: whether a
   * stack exists is asked of the backend every time, and a stack that exists is exported again
   * before it is destroyed (the student may have worked since the last run).
   */
  async down(
    settings: WorkshopSettings,
    targets: readonly DownTarget[],
    opts: { outDir: string; concurrency: number; force: boolean },
  ): Promise<DownOutcome[]> {
    const journal = await Journal.open(opts.outDir);
    const existing = new Set((await this.driver.list()).map((s) => s.name));
    return runPool(
      targets,
      opts.concurrency,
      async (t): Promise<DownOutcome> => {
        let manifest: ExportManifest | undefined;
        const outcome = (status: DownStatus, detail: string): DownOutcome => {
          this.reporter.update(t.student, status, detail);
          return { ...t, status, detail, manifest };
        };
        try {
          const entry = journal.get(t.stack);
          if (!existing.has(t.stack) || !(await this.select(t.student, t.stack, false))) {
            if (entry?.removed) return outcome("removed", `removed earlier (${entry.removed})`);
            // An observation of this backend, never a reason to skip the stack later.
            await journal.record(t.stack, t.student, { absent: this.now().toISOString() });
            return outcome(
              "absent",
              `no stack ${t.stack} in this backend: nothing exported or destroyed (if it should exist, check PULUMI_BACKEND_URL or the settings' backend)`,
            );
          }
          if (entry?.removed) {
            // Removed once, back now (made again, or the earlier run looked at another backend).
            await journal.record(t.stack, t.student, {
              removed: undefined,
              destroyed: undefined,
              forced: undefined,
            });
          }
          const outputs = await this.retried(t.student, "outputs", () =>
            this.driver.outputs(t.stack),
          );
          const alreadyDestroyed =
            journal.get(t.stack)?.destroyed !== undefined && Object.keys(outputs).length === 0;
          if (!alreadyDestroyed) {
            try {
              manifest = await this.exportOne(settings, t, opts.outDir, true);
              await journal.record(t.stack, t.student, {
                exported: {
                  at: manifest.exportedAt,
                  files: manifest.fileCount,
                  bytes: manifest.totalBytes,
                  archiveSha256: manifest.archive.sha256,
                },
                exportError: undefined,
                forced: undefined,
              });
            } catch (e) {
              await journal.record(t.stack, t.student, { exportError: this.errorText(e) });
              if (!opts.force) {
                return outcome(
                  "kept",
                  `export failed, stack kept: ${this.errorText(e)}${/--force/.test(this.errorText(e)) ? "" : "; pass --force to destroy without an export"}`,
                );
              }
              await journal.record(t.stack, t.student, { forced: true });
              this.reporter.update(
                t.student,
                "forcing",
                "export failed; destroying anyway (--force)",
              );
            }
            this.reporter.update(t.student, "destroying");
            const { log, close } = this.logFor(t.stack, "destroy");
            try {
              await this.retried(t.student, "destroy", () => this.driver.destroy(t.stack, log));
            } catch (e) {
              return outcome(
                "failed",
                `destroy failed: ${this.errorText(e)}; the stack is still there (its export is in ${opts.outDir}); run down again: it exports again, then destroys`,
              );
            } finally {
              close();
            }
            await journal.record(t.stack, t.student, { destroyed: this.now().toISOString() });
          }
          this.reporter.update(t.student, "removing");
          await this.retried(t.student, "remove", () => this.driver.remove(t.stack));
          await journal.record(t.stack, t.student, { removed: this.now().toISOString() });
          const after = journal.get(t.stack);
          return outcome(
            "removed",
            after?.forced
              ? "destroyed WITHOUT export (--force)"
              : manifest
                ? `exported (${exportSummary(manifest)}), destroyed, removed`
                : "destroyed earlier (its export was made then), removed",
          );
        } catch (e) {
          return outcome("failed", `${this.errorText(e)}; run down again to finish`);
        }
      },
      this.opts.signal,
    );
  }

  /**
   * Stacks of this workshop (or of every workshop with `allWorkshops`) whose expiry day has passed,
   * read from each stack's own config: the stacks, not today's roster, say when they expire.
   */
  async expiredTargets(
    settings: WorkshopSettings,
    opts: { allWorkshops: boolean },
  ): Promise<{ expired: DownTarget[]; kept: { stack: string; why: string }[] }> {
    const today = this.now().toISOString().slice(0, 10);
    const expired: DownTarget[] = [];
    const kept: { stack: string; why: string }[] = [];
    for (const info of await this.driver.list()) {
      let config: ConfigValues;
      try {
        await this.select(info.name, info.name, false);
        config = await this.retried(info.name, "config", () => this.driver.getConfig(info.name));
      } catch (e) {
        // One unreadable stack (a passphrase of its own, a damaged file) stops no other.
        kept.push({ stack: info.name, why: `cannot read it: ${this.errorText(e)}` });
        continue;
      }
      const value = (k: string): string | undefined => config[`${configNamespace}:${k}`]?.value;
      const expires = value("expires");
      const workshop = value("workshop");
      const student = value("student");
      if (student !== undefined && idProblem(student) !== undefined) {
        // The student names the export's files: a stack's config must not choose where they go.
        kept.push({
          stack: info.name,
          why: `student ${JSON.stringify(student)} in its config is not a valid id; export and remove it by hand`,
        });
      } else if (!opts.allWorkshops && workshop !== settings.workshop) {
        kept.push({
          stack: info.name,
          why: `workshop ${workshop ?? "(none)"}, not ${settings.workshop}`,
        });
      } else if (!expires) {
        kept.push({ stack: info.name, why: "no expires in its config" });
      } else if (expires >= today) {
        kept.push({ stack: info.name, why: `expires ${expires}` });
      } else {
        expired.push({ student: student ?? info.name, stack: info.name });
      }
    }
    return { expired, kept };
  }
}
