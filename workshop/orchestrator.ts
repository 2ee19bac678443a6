/**
 * The workshop's moving parts, over the StackDriver interface: bring every student's stack up,
 * report status, export work, and tear down without losing any. Rules it keeps:
 * - stack create/select one at a time (a mutex; concurrent createOrSelectStack corrupts the
 *   workspace, pulumi/pulumi#8186), updates in parallel up to the concurrency bound;
 * - one student's failure is that student's result, never an exception that stops the others;
 * - transient failures are retried with backoff, permanent ones are reported at once;
 * - a URL is ready only once the notebook answers with its token;
 * - nothing is destroyed before its export is verified, unless forced.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Mutex, runPool } from "./concurrency";
import type { ConfigValues, StackDriver, UpdateResult } from "./driver";
import { exportStillValid, exportStudent, type ExportManifest } from "./export";
import { Journal } from "./journal";
import { assignPorts } from "./localPorts";
import { pausedSince } from "./power";
import { probeNotebook, type ProbeResult } from "./probe";
import type { Reporter } from "./progress";
import { defaultRetryPolicy, withRetries, type RetryPolicy } from "./retry";
import type { Power } from "../lib/config";
import type { Student } from "./roster";
import { configNamespace, stackName, studentConfig, type WorkshopSettings } from "./settings";

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
}

export interface DownTarget {
  student: string;
  stack: string;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fullKeys(raw: Record<string, string>, secret: boolean): ConfigValues {
  const out: ConfigValues = {};
  for (const [k, value] of Object.entries(raw)) out[`${configNamespace}:${k}`] = { value, secret };
  return out;
}

export class Orchestrator {
  private readonly stackLock = new Mutex();
  private readonly driver: StackDriver;
  private readonly reporter: Reporter;
  private readonly retry: RetryPolicy;
  private readonly now: () => Date;

  constructor(private readonly opts: OrchestratorOptions) {
    this.driver = opts.driver;
    this.reporter = opts.reporter;
    this.retry = opts.retry ?? defaultRetryPolicy;
    this.now = opts.now ?? (() => new Date());
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
    const stream = fs.createWriteStream(path.join(this.opts.logDir, `${stack}.${op}.log`), {
      flags: "a",
      mode: 0o600,
    });
    stream.write(`--- ${op} ${this.now().toISOString()}\n`);
    return { log: (text) => stream.write(text), close: () => stream.end() };
  }

  private probeDeadline(settings: WorkshopSettings): number {
    return Date.now() + (this.opts.probeTimeoutMs ?? settings.probeTimeoutMinutes * 60_000);
  }

  private insecure(settings: WorkshopSettings): boolean {
    return settings.shared.tls === "self-signed";
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
      const powerKey = `${configNamespace}:power`;
      const keptPower = current[powerKey]?.value;
      const desired: ConfigValues = {
        ...fullKeys(studentConfig(settings, student, row), false),
        ...(localPort !== undefined ? fullKeys({ notebookPort: String(localPort) }, false) : {}),
        ...fullKeys(this.opts.secrets ?? {}, true),
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
            const probe = await probeNotebook(url, { insecure: this.insecure(settings) });
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
        insecure: this.insecure(settings),
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
      return result("failed", errorText(e));
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
        if (power === "shelved") {
          // A shelved VM does not answer; probing it would only report it unhealthy.
          health = await this.pausedHealth(student.id, stack);
        } else if (typeof url === "string") {
          const p = await probeNotebook(url, { insecure: this.insecure(settings) });
          health = p.healthy ? "healthy" : `unhealthy: ${p.detail}`;
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
          expires: typeof outputs.expires === "string" ? outputs.expires : undefined,
        };
      } catch (e) {
        return { student: student.id, stack, exists: true, health: `error: ${errorText(e)}` };
      }
    });
  }

  private async exportOne(
    settings: WorkshopSettings,
    target: DownTarget,
    outDir: string,
  ): Promise<ExportManifest> {
    const outputs = await this.retried(target.student, "outputs", () =>
      this.driver.outputs(target.stack),
    );
    const url = outputs.notebookUrl;
    if (typeof url !== "string") {
      throw new Error("the stack has no notebookUrl output (did its up ever succeed?)");
    }
    this.reporter.update(target.student, "exporting");
    return this.retried(target.student, "export", () =>
      exportStudent({
        student: target.student,
        notebookUrl: url,
        outDir,
        insecure: this.insecure(settings),
      }),
    );
  }

  /** Exports each student's work/ to outDir. */
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
            this.reporter.update(t.student, "failed", "no such stack");
            return { ...t, ok: false, detail: "no such stack" };
          }
          const manifest = await this.exportOne(settings, t, opts.outDir);
          const detail = `${manifest.fileCount} files, ${manifest.totalBytes} bytes`;
          this.reporter.update(t.student, "exported", detail);
          return { ...t, ok: true, detail, manifest };
        } catch (e) {
          this.reporter.update(t.student, "failed", errorText(e));
          return { ...t, ok: false, detail: errorText(e) };
        }
      },
      this.opts.signal,
    );
  }

  /**
   * Export, destroy, remove, per student, recorded in a journal in outDir so a rerun finishes an
   * interrupted teardown. Without `force`, a student whose export failed keeps their stack.
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
        const outcome = (status: DownStatus, detail: string): DownOutcome => {
          this.reporter.update(t.student, status, detail);
          return { ...t, status, detail };
        };
        try {
          const entry = journal.get(t.stack);
          if (entry?.removed) return outcome("removed", `removed earlier (${entry.removed})`);
          if (!existing.has(t.stack) || !(await this.select(t.student, t.stack, false))) {
            await journal.record(t.stack, t.student, { removed: this.now().toISOString() });
            return outcome("absent", "no such stack; nothing to destroy");
          }
          const earlier = entry?.exported
            ? await exportStillValid(opts.outDir, t.student)
            : undefined;
          if (earlier && earlier.archive.sha256 === entry?.exported?.archiveSha256) {
            this.reporter.update(t.student, "exported", "earlier export still valid");
          } else if (!entry?.destroyed) {
            try {
              const m = await this.exportOne(settings, t, opts.outDir);
              await journal.record(t.stack, t.student, {
                exported: {
                  at: m.exportedAt,
                  files: m.fileCount,
                  bytes: m.totalBytes,
                  archiveSha256: m.archive.sha256,
                },
                exportError: undefined,
              });
            } catch (e) {
              await journal.record(t.stack, t.student, { exportError: errorText(e) });
              if (!opts.force) {
                return outcome(
                  "kept",
                  `export failed, stack kept: ${errorText(e)}. Fix it and run again, or pass --force to destroy without an export`,
                );
              }
              await journal.record(t.stack, t.student, { forced: true });
              this.reporter.update(
                t.student,
                "forcing",
                "export failed; destroying anyway (--force)",
              );
            }
          }
          if (!journal.get(t.stack)?.destroyed) {
            this.reporter.update(t.student, "destroying");
            const { log, close } = this.logFor(t.stack, "destroy");
            try {
              await this.retried(t.student, "destroy", () => this.driver.destroy(t.stack, log));
            } finally {
              close();
            }
            await journal.record(t.stack, t.student, { destroyed: this.now().toISOString() });
          }
          this.reporter.update(t.student, "removing");
          await this.retried(t.student, "remove", () => this.driver.remove(t.stack));
          await journal.record(t.stack, t.student, { removed: this.now().toISOString() });
          return outcome(
            "removed",
            journal.get(t.stack)?.forced
              ? "destroyed WITHOUT export (--force)"
              : "exported, destroyed, removed",
          );
        } catch (e) {
          return outcome("failed", `${errorText(e)}; run down again to finish`);
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
      await this.select(info.name, info.name, false);
      const config = await this.retried(info.name, "config", () =>
        this.driver.getConfig(info.name),
      );
      const value = (k: string): string | undefined => config[`${configNamespace}:${k}`]?.value;
      const expires = value("expires");
      const workshop = value("workshop");
      if (!opts.allWorkshops && workshop !== settings.workshop) {
        kept.push({
          stack: info.name,
          why: `workshop ${workshop ?? "(none)"}, not ${settings.workshop}`,
        });
      } else if (!expires) {
        kept.push({ stack: info.name, why: "no expires in its config" });
      } else if (expires >= today) {
        kept.push({ stack: info.name, why: `expires ${expires}` });
      } else {
        expired.push({ student: value("student") ?? info.name, stack: info.name });
      }
    }
    return { expired, kept };
  }
}
