/**
 * `npm run workshop -- <command>`: run a whole workshop from a roster. See docs/workshop.md.
 *
 * Exit codes: 0 everything done; 1 some students failed or were kept (the rest are done; run the
 * command again); 2 bad input or not enough quota, nothing created; 130 interrupted.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { configDefaults } from "../lib/config";
import { courseNameOf } from "../lib/course";
import { AutomationDriver } from "./automation";
import type { StackDriver } from "./driver";
import { writeHandouts, type HandoutEntry } from "./handouts";
import { Orchestrator, type DownOutcome, type DownTarget } from "./orchestrator";
import { plan } from "./plan";
import { makeReporter } from "./progress";
import { OpenStackQuotaSource, QuotaSourceError, type QuotaSource } from "./quota";
import { readRoster, RosterError, type Student } from "./roster";
import { readSettings, SettingsError, stackName, type WorkshopSettings } from "./settings";
import { formatTable } from "./table";

const usage = `usage: npm run workshop -- <command> [options]

commands:
  plan     validate roster and settings, check the allocation's quota, estimate SUs
  up       create or update every student's stack, probe each notebook, write handouts
  status   stack state, notebook health and expiry per student
  export   download every student's work/ into --out (default: the settings' exportDir)
  down     export, then destroy and remove each stack (resumable: run it again to finish)
  reap     down for this workshop's stacks whose expiry day has passed

options:
  --settings FILE     workshop settings (default workshop.yaml)
  --roster FILE       roster CSV (default: the settings' roster, else roster.csv)
  --concurrency N     students at a time (default: the settings' concurrency, 8)
  --out DIR           export folder (export, down, reap)
  --force             down/reap: destroy students whose export failed
  --force-update      up: run pulumi up even for students whose config did not change
  --skip-quota        plan/up: do not ask OpenStack for the quota
  --all-workshops     reap: every workshop's expired stacks in the backend, not only this one's`;

export const exitCodes = { ok: 0, someFailed: 1, badInput: 2, interrupted: 130 } as const;

class UsageError extends Error {}

function secretsFromEnv(): Record<string, string> {
  return process.env.DOCKER_HUB_TOKEN ? { dockerHubToken: process.env.DOCKER_HUB_TOKEN } : {};
}

function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      settings: { type: "string", default: "workshop.yaml" },
      roster: { type: "string" },
      concurrency: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean", default: false },
      "force-update": { type: "boolean", default: false },
      "skip-quota": { type: "boolean", default: false },
      "all-workshops": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    print(usage);
    return values.help ? exitCodes.ok : exitCodes.badInput;
  }
  if (!["plan", "up", "status", "export", "down", "reap"].includes(command)) {
    throw new UsageError(`unknown command "${command}"`);
  }

  const settings = readSettings(path.resolve(values.settings));
  const concurrency =
    values.concurrency === undefined ? settings.concurrency : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError(
      `--concurrency must be a whole number from 1 to 64, got ${values.concurrency}`,
    );
  }
  const rosterFile = (): string => path.resolve(values.roster ?? settings.roster ?? "roster.csv");
  const students = (): Student[] => readRoster(rosterFile());
  const outDir = path.resolve(values.out ?? settings.exportDir);
  const driver: StackDriver = new AutomationDriver({
    // The program is the repository's own: workshop/ sits next to Pulumi.yaml.
    workDir: path.resolve(__dirname, ".."),
    backendUrl: settings.backend.url,
    secretsProvider: settings.backend.secretsProvider,
  });

  // First Ctrl-C: start no new student, let those in flight finish (a killed `pulumi up` leaves
  // pending operations behind). Second Ctrl-C: leave now; the next run picks up from the state.
  const abort = new AbortController();
  process.on("SIGINT", () => {
    if (abort.signal.aborted) process.exit(exitCodes.interrupted);
    abort.abort();
    process.stderr.write(
      "\ninterrupted: finishing the students in flight (Ctrl-C again to leave now)\n",
    );
  });

  const orchestrator = (ids: string[]) =>
    new Orchestrator({
      driver,
      reporter: makeReporter(process.stdout, ids),
      signal: abort.signal,
      secrets: secretsFromEnv(),
      logDir: path.join(settings.handoutsDir, "logs"),
    });
  const finish = (failed: number): number =>
    abort.signal.aborted ? exitCodes.interrupted : failed > 0 ? exitCodes.someFailed : exitCodes.ok;

  switch (command) {
    case "plan":
    case "up": {
      const roster = students();
      const ok = await runPlan(settings, roster, driver, values["skip-quota"]);
      if (!ok) return exitCodes.badInput;
      if (command === "plan") return exitCodes.ok;
      const orch = orchestrator(roster.map((s) => s.id));
      const results = await orch.up(settings, roster, {
        concurrency,
        forceUpdate: values["force-update"],
      });
      const byId = new Map(results.map((r) => [r.student.id, r]));
      const entries: HandoutEntry[] = roster.map((s) => {
        const r = byId.get(s.id);
        return {
          id: s.id,
          name: s.name,
          email: s.email,
          status: r?.status ?? "not started",
          url: r && r.status !== "failed" ? r.url : undefined,
          hostname: r?.hostname,
          detail: r?.detail ?? "interrupted before it started",
        };
      });
      const files = await writeHandouts(
        settings.handoutsDir,
        {
          workshop: settings.workshop,
          expires: settings.expires,
          generatedAt: new Date(),
          course: courseNameOf(settings.shared.course ?? configDefaults.course),
        },
        entries,
      );
      const failed = entries.filter((e) => !e.url);
      print();
      print(`${entries.length - failed.length} of ${entries.length} notebooks ready`);
      for (const f of failed) print(`  ${f.id}: ${f.status}: ${f.detail}`);
      print(`handouts (they hold tokens; mode 0600): ${files.html}, ${files.csv}`);
      return finish(failed.length);
    }
    case "status": {
      const roster = students();
      const rows = await new Orchestrator({
        driver,
        reporter: { update: () => {}, note: () => {}, close: () => {} },
      }).status(settings, roster, concurrency);
      print(
        formatTable([
          ["student", "stack", "exists", "last update", "result", "notebook", "expires"],
          ...rows.map((r) => [
            r.student,
            r.stack,
            r.exists ? "yes" : "no",
            r.lastUpdate ?? "-",
            r.lastResult ?? "-",
            r.health,
            r.expires ?? settings.expires,
          ]),
        ]),
      );
      return rows.every((r) => r.exists && r.health === "healthy")
        ? exitCodes.ok
        : exitCodes.someFailed;
    }
    case "export": {
      const roster = students();
      const targets = roster.map((s) => ({ student: s.id, stack: stackName(settings, s.id) }));
      const results = await orchestrator(roster.map((s) => s.id)).export(settings, targets, {
        outDir,
        concurrency,
      });
      print();
      print(`${results.filter((r) => r.ok).length} of ${targets.length} exported to ${outDir}`);
      for (const r of results.filter((x) => !x.ok)) print(`  ${r.student}: ${r.detail}`);
      return finish(results.filter((r) => !r.ok).length + (targets.length - results.length));
    }
    case "down":
    case "reap": {
      let targets: DownTarget[];
      if (command === "down") {
        targets = students().map((s) => ({ student: s.id, stack: stackName(settings, s.id) }));
      } else {
        const found = await new Orchestrator({
          driver,
          reporter: { update: () => {}, note: () => {}, close: () => {} },
        }).expiredTargets(settings, { allWorkshops: values["all-workshops"] });
        for (const k of found.kept) print(`kept ${k.stack}: ${k.why}`);
        targets = found.expired;
        if (targets.length === 0) {
          print("no expired stacks");
          return exitCodes.ok;
        }
      }
      const results: DownOutcome[] = await orchestrator(targets.map((t) => t.student)).down(
        settings,
        targets,
        { outDir, concurrency, force: values.force },
      );
      const bad = results.filter((r) => r.status === "kept" || r.status === "failed");
      print();
      print(
        `${results.length - bad.length} of ${targets.length} torn down; exports and journal in ${outDir}`,
      );
      for (const r of bad) print(`  ${r.student}: ${r.status}: ${r.detail}`);
      return finish(bad.length + (targets.length - results.length));
    }
  }
  return exitCodes.badInput;
}

async function runPlan(
  settings: WorkshopSettings,
  roster: Student[],
  driver: StackDriver,
  skipQuota: boolean,
): Promise<boolean> {
  let existing = new Set<string>();
  try {
    existing = new Set((await driver.list()).map((s) => s.name));
  } catch (e) {
    print(
      `note: could not list the backend's stacks (${(e as Error).message.split("\n")[0]}; is the pulumi CLI on PATH and the backend reachable?); counting every student as new`,
    );
  }
  let quotaSource: QuotaSource | undefined;
  if (settings.target === "jetstream" && !skipQuota) {
    try {
      quotaSource = new OpenStackQuotaSource();
    } catch (e) {
      if (!(e instanceof QuotaSourceError)) throw e;
      print(`quota: ${e.message}`);
      return false;
    }
  }
  const report = await plan({
    settings,
    students: roster,
    secrets: secretsFromEnv(),
    now: new Date(),
    existingStacks: existing,
    quotaSource,
  });
  print(
    `workshop ${settings.workshop}: ${roster.length} students, target ${settings.target}, flavor ${settings.flavor.name}, until ${settings.expires}`,
  );
  for (const n of report.notes) print(n);
  if (report.quotaTable) print(formatTable(report.quotaTable));
  const { su } = report;
  print(
    `SU estimate: ${su.suPerHour} SU/hour x ${su.students} students x ${su.hours} hours until the end of ${settings.expires} = ${su.su} SUs`,
  );
  if (report.problems.length > 0) {
    print(`\n${report.problems.length} problem(s); nothing was created:`);
    for (const p of report.problems) print(`  ${p}`);
    return false;
  }
  return true;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof RosterError || e instanceof SettingsError) {
      process.stderr.write(`${e.message}\nnothing was created\n`);
      process.exit(exitCodes.badInput);
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${(e as Error).message}\n\n${usage}\n`);
      process.exit(exitCodes.badInput);
    }
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(exitCodes.someFailed);
  },
);
