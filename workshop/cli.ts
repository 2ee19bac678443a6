/**
 * `npm run workshop -- <command>`: run a whole workshop from a roster. See docs/workshop.md.
 *
 * The commands are a table (name -> summary, options, help text, run); `run` takes its streams,
 * environment and driver as arguments, so the tests call it in-process, and only the self-start at
 * the bottom touches the real process (argv, signals, exit).
 */
import * as path from "node:path";
import type { Power } from "../lib/config";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { configDefaults } from "../lib/config";
import { courseNameOf } from "../lib/course";
import { AutomationDriver } from "./automation";
import type { StackDriver } from "./driver";
import { pulumiPreflight } from "./preflight";
import { writeHandouts, type HandoutEntry } from "./handouts";
import { loadCards, type LoadedCards } from "./cardSettings";
import { checkMail, runMail } from "./mailRun";
import { readStudentLinks } from "./studentLinks";
import {
  formatBytes,
  Orchestrator,
  type DownOutcome,
  type DownTarget,
  type OrchestratorOptions,
  type UpResult,
} from "./orchestrator";
import { plan } from "./plan";
import { describeActivity } from "./lastActivity";
import { pausePlanLines } from "./pauseForecast";
import { acquireWorkshopLock, lockFileFor, tookOverMessage, WorkshopLockError } from "./lock";
import { PulumiProcesses } from "./pulumi-process";
import { guardStream, redactorFromEnv, type Redactor } from "./redaction";
import { handleInterrupts } from "./signals";
import { makeReporter, PlainReporter, type Reporter } from "./progress";
import { OpenStackQuotaSource, QuotaSourceError, type QuotaSource } from "./quota";
import { InputError } from "../lib/rules/problems";
import { derivedIdLines, readRoster, type RosterOptions, type Student } from "./roster";
import { parseConcurrency, readSettings, stackName, type WorkshopSettings } from "./settings";
import { formatTable } from "./table";
import { readUsage, usageText } from "./usageReport";
import { resetProblems } from "./reset";
import { addSelection } from "./add";

export const exitCodes = { ok: 0, someFailed: 1, badInput: 2, interrupted: 130 } as const;

/** Where the output goes; `isTTY` picks the live table over timestamped lines. */
export type Output = NodeJS.WritableStream & { isTTY?: boolean };

export interface RunOptions {
  stdout: Output;
  stderr: Output;
  /** Read for the OpenStack credentials, DOCKER_HUB_TOKEN and npm's variables. */
  env: NodeJS.ProcessEnv;
  /** Makes the driver once the settings are read; the Automation API by default. */
  driverFactory?: (settings: WorkshopSettings) => StackDriver;
  /** Where plan asks for quota; OpenStack with the OS_* variables of `env` by default. */
  quotaSourceFactory?: (env: NodeJS.ProcessEnv) => QuotaSource;
  /** Answers the confirmation before down/reap destroy; only asked when `isTTY` is set. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Relative paths in options are resolved against it; process.cwd() by default. */
  cwd?: string;
  /** The clock for plan's estimate and reap's expiry; the real one by default. */
  now?: () => Date;
  /** Once aborted, no new student starts (the first Ctrl-C). */
  signal?: AbortSignal;
  /** Runs the Pulumi children (and relays a cancel to them); one per process. */
  processes?: PulumiProcesses;
  /** Reads a student's volume for export and down; the real one on the stack's engine by default. */
  exporter?: OrchestratorOptions["exporter"];
}

/** Bad flags or arguments: the message, then where the help is; exit code 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

const optionSpecs = {
  settings: { type: "string", arg: "FILE", text: "workshop settings (default workshop.yaml)" },
  roster: {
    type: "string",
    arg: "FILE",
    text: "roster CSV (default: the settings' roster, else roster.csv)",
  },
  student: {
    type: "string",
    multiple: true,
    arg: "ID",
    text: "only this student (repeat it for several); an id not on the roster is an error",
  },
  concurrency: {
    type: "string",
    arg: "N",
    text: "students at a time, 1 to 64 (default: the settings' concurrency, 8)",
  },
  out: { type: "string", arg: "DIR", text: "export folder (default: the settings' exportDir)" },
  force: { type: "boolean", text: "destroy students whose export failed (the journal says so)" },
  "force-update": {
    type: "boolean",
    text: "run pulumi up even for students whose config did not change",
  },
  "skip-quota": { type: "boolean", text: "do not ask OpenStack for the quota" },
  "all-workshops": {
    type: "boolean",
    text: "every workshop's expired stacks in the backend, not only this one's",
  },
  yes: { type: "boolean", text: "destroy without asking (for cron and CI)" },
  json: { type: "boolean", text: "one JSON array of rows on stdout, for scripts" },
  urls: {
    type: "boolean",
    text: "include each notebook's URL (it holds the student's token: a secret)",
  },
  token: {
    type: "boolean",
    text: "also issue a new token (the old URL stops working) and reprint the card",
  },
  send: {
    type: "boolean",
    text: "send through the settings' mail server (without it: .eml files only, nothing sent)",
  },
  "id-column": {
    type: "string",
    arg: "NAME",
    text: "the roster column holding the student ids (default: the settings' idColumn, else id or student; without one, ids come from emails or names)",
  },
  help: { type: "boolean", short: "h", text: "this command's help" },
} as const;

type OptionName = keyof typeof optionSpecs;
type Values = {
  settings?: string;
  roster?: string;
  student?: string[];
  concurrency?: string;
  out?: string;
  force?: boolean;
  "force-update"?: boolean;
  "skip-quota"?: boolean;
  "all-workshops"?: boolean;
  yes?: boolean;
  json?: boolean;
  urls?: boolean;
  token?: boolean;
  send?: boolean;
  "id-column"?: string;
  help?: boolean;
};

/** Every command takes these. */
const commonOptions: readonly OptionName[] = ["settings", "roster", "id-column", "student", "help"];

interface Command {
  summary: string;
  /** Options beyond the common ones. */
  options: readonly OptionName[];
  /** What the command needs, writes and returns, and where the docs explain it. */
  usage: string;
  run: (ctx: Context) => Promise<number>;
}

const backendNeeds =
  "the state backend: PULUMI_BACKEND_URL or the settings' backend.url, with PULUMI_CONFIG_PASSPHRASE(_FILE) for a passphrase backend or PULUMI_ACCESS_TOKEN for Pulumi Cloud; the pulumi CLI on PATH";
const cloudNeeds =
  "on target jetstream, the OpenStack application credential: OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID, OS_APPLICATION_CREDENTIAL_SECRET (Horizon's openrc file, sourced)";
const exitsUsual =
  "0 every student done; 1 some students failed or were kept (the others are done: run it again); 2 bad input, nothing created; 130 interrupted (run it again to finish)";

const commands: Record<string, Command> = {
  plan: {
    summary: "validate roster and settings, check the allocation's quota, estimate SUs",
    options: ["skip-quota"],
    usage: `needs:      the settings and the roster; ${cloudNeeds}, for the quota (or --skip-quota); the backend, to count students who already have a stack (optional)
writes:     nothing
exit codes: 0 ready to go; 2 bad input or not enough quota
docs:       docs/workshop.md, "2. plan: check before anything is created"`,
    run: async (ctx) => ((await runPlan(ctx, ctx.students())) ? exitCodes.ok : exitCodes.badInput),
  },
  up: {
    summary: "create or update every student's stack, probe each notebook, write handouts",
    options: ["concurrency", "force-update", "skip-quota"],
    usage: `needs:      the settings and the roster; ${backendNeeds}; ${cloudNeeds}; DOCKER_HUB_TOKEN only for a private image
writes:     the students' stacks; <handoutsDir>/handouts.html and handouts.csv (they hold tokens: mode 0600), or with --student <handoutsDir>/selected/, so the whole class's handouts stay; each student's Pulumi output in <handoutsDir>/logs/
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "3. up: bring everyone up"`,
    run: runUp,
  },
  status: {
    summary: "stack state, power, notebook health, last activity and expiry per student",
    options: ["concurrency", "json", "urls"],
    usage: `needs:      the settings and the roster; ${backendNeeds}
writes:     nothing; prints a table, or with --json one JSON array of rows (student, stack, exists, power, lastUpdate, lastResult, health, lastActivity, expires); URLs only with --urls
exit codes: 0 every student's stack exists and its notebook answers (or is paused); 1 some do not; 2 bad input
docs:       docs/workshop.md, "4. During the workshop"`,
    run: runStatus,
  },
  pause: {
    summary: "shelve every student's VM between sessions (shelved VMs cost 0 SUs)",
    options: ["concurrency"],
    usage: `needs:      the settings and the roster (target jetstream); ${backendNeeds}; ${cloudNeeds}
writes:     power: shelved in each selected student's stack config, then pulumi up per stack (Pulumi's state stays the truth); nothing else of the student's changes: the VM's disk, the volume, the address, the DNS name and the certificate stay
time:       Jetstream2 shelving can take up to ~15 minutes per instance; --concurrency students at a time
saves:      a shelved instance is charged 0% of its flavor's SUs per hour (active 100%)
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "Between sessions: pause and resume"`,
    run: (ctx) => runPower(ctx, "shelved"),
  },
  resume: {
    summary: "unshelve the VMs, wait until each notebook answers, write handouts",
    options: ["concurrency"],
    usage: `needs:      the settings and the roster (target jetstream); ${backendNeeds}; ${cloudNeeds}
writes:     power: active in each selected student's stack config, then pulumi up per stack; the handouts as up writes them (the URLs do not change)
time:       unshelving takes minutes per instance, then the notebook's boot; --concurrency students at a time
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "Between sessions: pause and resume"`,
    run: (ctx) => runPower(ctx, "active"),
  },
  export: {
    summary: "save every student's volume, read on its engine, into --out (default: exportDir)",
    options: ["concurrency", "out"],
    usage: `needs:      the settings and the roster; ${backendNeeds} (the notebook URLs are stack outputs)
writes:     <out>/<student>.tar.gz and <out>/<student>.manifest.json per student
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "4. During the workshop"`,
    run: runExport,
  },
  down: {
    summary: "export, then destroy and remove each stack (resumable: run it again to finish)",
    options: ["concurrency", "out", "force", "yes"],
    usage: `needs:      the settings and the roster; ${backendNeeds}; ${cloudNeeds}
asks:       on a terminal, lists the stacks it will destroy and waits for "yes"; elsewhere it needs --yes
writes:     <out>/<student>.tar.gz and .manifest.json, <out>/down-journal.json; destroys and removes the stacks
exit codes: ${exitsUsual}; 2 also when not confirmed (nothing destroyed)
docs:       docs/workshop.md, "5. Teardown"`,
    run: runDown,
  },
  cards: {
    summary: "reprint the handout cards from the stacks' outputs (no update)",
    options: [],
    usage: `needs:      the settings and the roster; ${backendNeeds} (the notebook URLs are stack outputs); the settings' cards block, if any
writes:     <handoutsDir>/handouts.html (the cards) and handouts.csv, mode 0600, or with --student <handoutsDir>/selected/, so the whole class's cards stay
exit codes: 0 every selected student has a card; 1 some have no stack or link yet (the others are printed); 2 bad input (a card template or logo that cannot be used)
docs:       docs/workshop.md, "Cards and emails"`,
    run: runCards,
  },
  mail: {
    summary: "email each student their link: .eml files by default, --send to send",
    options: ["send", "force"],
    usage: `needs:      the settings' mail block (from; for --send also host, and SMTP_PASSWORD in the environment when user is set) and the roster's email column; ${backendNeeds} (the links are stack outputs)
writes:     without --send, <handoutsDir>/mail/<student>.eml, mode 0600 (they hold tokens), and sends nothing; with --send, <handoutsDir>/mail/sent.json (who was sent which link, as a hash), so a second --send skips them unless the link changed or --force is given
exit codes: 0 every selected student with an email was written or sent; 1 some were not (no stack, or refused by the server); 2 bad input (no mail block, no host, no password)
docs:       docs/workshop.md, "Cards and emails"`,
    run: runMailCommand,
  },
  reap: {
    summary: "down for this workshop's stacks whose expiry day has passed",
    options: ["concurrency", "out", "force", "yes", "all-workshops"],
    usage: `needs:      the settings (the roster is not read: each stack's own config says when it expires); ${backendNeeds}; ${cloudNeeds}
asks:       on a terminal, lists the expired stacks and waits for "yes"; elsewhere (cron) it needs --yes
writes:     as down: the exports, <out>/down-journal.json; destroys and removes the expired stacks
exit codes: ${exitsUsual}; 2 also when not confirmed (nothing destroyed)
docs:       docs/workshop.md, "5. Teardown"`,
    run: runReap,
  },
  add: {
    summary: "bring up a late student (new roster rows) and write only their cards",
    options: ["concurrency", "skip-quota"],
    usage: `needs:      the new row(s) in the roster, and --student ID for each (without --student: every roster row that has no stack); the settings; ${backendNeeds}; ${cloudNeeds}
writes:     the new students' stacks only; <handoutsDir>/selected/ with their cards alone; no other student's stack, port or URL changes
refuses:    an id that already has a stack (use up --student or reset), an id not on the roster (add its row first); bad rows, with their line, before anything is created
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "4. During the workshop"`,
    run: runAdd,
  },
  reset: {
    summary:
      "a fresh notebook container for a wedged student, keeping their files; --token: a new token",
    options: ["token"],
    usage: `needs:      --student ID (repeatable), students whose stack exists and is not paused; the settings and the roster; ${backendNeeds}; ${cloudNeeds}
writes:     resetGeneration (with --token also tokenGeneration) counted up in the student's stack config, then pulumi up for that stack alone: the notebook container is replaced (with --token the token too); <handoutsDir>/selected/ with the student's card
keeps:      the volume with the student's files, the VM, its address, DNS name and certificate; running kernels stop (unsaved browser edits since the last autosave are lost)
exit codes: ${exitsUsual}
docs:       docs/workshop.md, "4. During the workshop"`,
    run: runReset,
  },
  usage: {
    summary:
      "SUs spent so far per student and in total, from the stacks' history, beside plan's forecast",
    options: ["json"],
    usage: `needs:      the settings and the roster; ${backendNeeds}
writes:     nothing; prints a table (student, stack, SUs, active and shelved hours, state now), the total and plan's forecast, or with --json one JSON object (students, totalSu, forecast)
counts:     each stack's updates and destroy: active hours x the flavor's SU/hour, shelved hours free; a failed update that would start the VM counts as having started it (never under-counted); a stack \`down\` removed is no longer counted
exit codes: 0 done; 2 bad input
docs:       docs/workshop.md, "Between sessions: pause and resume"`,
    run: runUsage,
  },
};

const invocation = "npm run workshop --";

function synopsis(name: string): string {
  const c = commands[name];
  const opts = [...commonOptions, ...c.options]
    .filter((o) => o !== "help")
    .map((o) => {
      const spec = optionSpecs[o];
      const arg = "arg" in spec ? ` ${spec.arg}` : "";
      return `[--${o}${arg}]${"multiple" in spec ? "..." : ""}`;
    });
  return `usage: ${invocation} ${name} ${opts.join(" ")}`;
}

function commandHelp(name: string): string {
  const c = commands[name];
  const width = Math.max(...[...commonOptions, ...c.options].map((o) => optionLabel(o).length));
  const options = [...c.options, ...commonOptions].map(
    (o) => `  ${optionLabel(o).padEnd(width)}  ${optionSpecs[o].text}`,
  );
  return `${synopsis(name)}\n\n${c.summary}\n\noptions:\n${options.join("\n")}\n\n${c.usage}`;
}

function optionLabel(o: OptionName): string {
  const spec = optionSpecs[o];
  return `--${o}${"arg" in spec ? ` ${spec.arg}` : ""}`;
}

function generalHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length), "help".length);
  return `usage: ${invocation} <command> [options]

commands:
${Object.entries(commands)
  .map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`)
  .join("\n")}
  ${"help".padEnd(width)}  this text; \`help <command>\` for what a command needs, writes and returns

every command takes --settings FILE, --roster FILE and --student ID (repeatable); see its help.
exit codes: 0 done; 1 some students failed or were kept (run again); 2 bad input, nothing created;
130 interrupted. docs/workshop.md explains each command.`;
}

/** What a command's run sees: its parsed options and lazily built settings, roster and driver. */
interface Context {
  name: string;
  values: Values;
  io: RunOptions;
  now: () => Date;
  settings: WorkshopSettings;
  print: (line?: string) => void;
  driver: () => StackDriver;
  /** The roster, or the --student subset of it. */
  students: () => Student[];
  /** The whole roster (up needs every row: on target local a student's port follows its row). */
  roster: () => Student[];
  concurrency: number;
  outDir: string;
  reporter: (ids: readonly string[]) => Reporter;
  orchestrator: (ids: readonly string[]) => Orchestrator;
  /** Exit code for a run that stopped with `failed` students not done. */
  finish: (failed: number) => number;
  /** Knows every credential in `env`; every error text shown or written passes through it. */
  redactor: Redactor;
  /** The settings' card template and logo, read and checked once (InputError when unusable). */
  cards: () => LoadedCards;
}

/** The closest of `candidates` to `word` by edit distance, if it is close enough to be a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let diagonal = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length];
  };
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * `npm run workshop down --student ada` (no `--`) keeps `--student` as npm's own config (it sets
 * npm_config_student=true) and runs `cli.ts down ada`; `--force` and `--yes` vanish the same way.
 * The options npm kept are named, so the command can refuse instead of running without them.
 */
function optionsNpmKept(env: NodeJS.ProcessEnv): string[] {
  if (!env.npm_lifecycle_event) return [];
  return (Object.keys(optionSpecs) as OptionName[]).filter(
    // npm sets some of its own configs (npm_config_yes) to "" when not given.
    (o) => o !== "help" && Boolean(env[`npm_config_${o.replace(/-/g, "_")}`]),
  );
}

const npmHint = `options go after \`--\`, or npm keeps them for itself: ${invocation} <command> --student ID`;

function parse(argv: string[]): { values: Values; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(optionSpecs).map(([k, spec]) => [
      k,
      {
        type: spec.type,
        ...("multiple" in spec ? { multiple: true } : {}),
        ...("short" in spec ? { short: spec.short } : {}),
      },
    ]),
  ) as Record<OptionName, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
    return { values: values as Values, positionals };
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError((e as Error).message);
    }
    throw e;
  }
}

/**
 * Runs one command line (without `node cli.ts`) and resolves to its exit code. Nothing here exits
 * the process or installs signal handlers; the self-start below does.
 */
export async function run(argv: string[], io: RunOptions): Promise<number> {
  const err = (text: string) => io.stderr.write(`${text}\n`);
  let command: string | undefined;
  try {
    const { values, positionals } = parse(argv);
    command = positionals[0];
    if (command === "help") {
      const topic = positionals[1];
      if (topic !== undefined && !(topic in commands)) {
        throw new UsageError(`no command "${topic}" to explain`);
      }
      io.stdout.write(`${topic ? commandHelp(topic) : generalHelp()}\n`);
      return exitCodes.ok;
    }
    if (command === undefined) {
      io.stdout.write(`${generalHelp()}\n`);
      return values.help ? exitCodes.ok : exitCodes.badInput;
    }
    if (!(command in commands)) {
      const near = closest(command, Object.keys(commands));
      throw new UsageError(`unknown command "${command}"${near ? `; did you mean ${near}?` : ""}`);
    }
    if (values.help) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return exitCodes.ok;
    }
    checkArguments(command, values, positionals.slice(1), io.env);
    const ctx = makeContext(command, values, io);
    // One workshop command at a time (plan only reads): see lock.ts.
    const lock =
      command === "plan"
        ? undefined
        : acquireWorkshopLock(lockFileFor(ctx.settings.file, ctx.settings.workshop), { command });
    if (lock) {
      const took = tookOverMessage(lock);
      if (took) err(took);
    }
    try {
      // Once, before any student: the CLI runs and the backend answers, or one message and exit 2.
      if (command !== "plan") {
        const problem = await pulumiPreflight(() => ctx.driver().list());
        if (problem !== undefined) {
          err(problem);
          return exitCodes.badInput;
        }
      }
      return await commands[command].run(ctx);
    } finally {
      lock?.release();
    }
  } catch (e) {
    if (e instanceof WorkshopLockError) {
      err(e.message);
      return exitCodes.someFailed;
    }
    if (e instanceof InputError) {
      err(`${e.message}\nnothing was created`);
      return exitCodes.badInput;
    }
    if (e instanceof UsageError) {
      const topic = e.command ?? (command && command in commands ? command : undefined);
      err(
        `${e.message}\n\n${topic ? synopsis(topic) : generalHelp()}\n(${invocation} help${topic ? ` ${topic}` : ""} explains it)`,
      );
      return exitCodes.badInput;
    }
    err(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return exitCodes.someFailed;
  }
}

/** Refuses what the command would otherwise ignore: stray words, options it does not use. */
function checkArguments(
  command: string,
  values: Values,
  extra: readonly string[],
  env: NodeJS.ProcessEnv,
): void {
  const kept = optionsNpmKept(env);
  if (kept.length > 0) {
    throw new UsageError(
      `npm took ${kept.map((o) => `--${o}`).join(", ")} for itself (npm_config_${kept[0].replace(/-/g, "_")} is set), so the command would run without it; nothing was done. ${npmHint}`,
      command,
    );
  }
  if (extra.length > 0) {
    const [word] = extra;
    const asStudent = /^[a-z][a-z0-9-]*$/.test(word);
    throw new UsageError(
      `unexpected argument "${word}"${asStudent ? `: did you mean --student ${word}?` : ""} (${command} takes no words after it, only options; ${npmHint})`,
      command,
    );
  }
  const allowed = new Set<string>([...commonOptions, ...commands[command].options]);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || allowed.has(k)) continue;
    const users = Object.keys(commands).filter((n) =>
      commands[n].options.includes(k as OptionName),
    );
    throw new UsageError(`--${k} does not apply to ${command} (only to ${users.join(", ")})`);
  }
}

function makeContext(name: string, values: Values, io: RunOptions): Context {
  const cwd = io.cwd ?? process.cwd();
  const now = io.now ?? (() => new Date());
  const settings = readSettings(path.resolve(cwd, values.settings ?? "workshop.yaml"));
  let concurrency = settings.concurrency;
  if (values.concurrency !== undefined) {
    try {
      // The settings' own rule: `0x8`, `1e1` and ` 8` are refused, not read as numbers.
      concurrency = parseConcurrency(values.concurrency);
    } catch (e) {
      if (e instanceof InputError) throw new UsageError(e.problems.join("; "), name);
      throw e;
    }
  }
  let roster: Student[] | undefined;
  const wholeRoster = (): Student[] =>
    (roster ??= readRoster(
      path.resolve(cwd, values.roster ?? settings.roster ?? "roster.csv"),
      idColumnOption(values, settings),
    ));
  let driver: StackDriver | undefined;
  let cards: LoadedCards | undefined;
  const makeDriver =
    io.driverFactory ??
    ((s: WorkshopSettings) =>
      new AutomationDriver({
        // The program is the repository's own: workshop/ sits next to Pulumi.yaml.
        workDir: path.resolve(__dirname, ".."),
        backendUrl: s.backend.url,
        secretsProvider: s.backend.secretsProvider,
        processes: io.processes,
      }));
  const reporter = (ids: readonly string[]): Reporter =>
    io.stdout.isTTY
      ? makeReporter(io.stdout as NodeJS.WriteStream, ids)
      : new PlainReporter(io.stdout, now);
  const ctx: Context = {
    name,
    values,
    io,
    now,
    settings,
    concurrency,
    outDir: path.resolve(cwd, values.out ?? settings.exportDir),
    print: (line = "") => io.stdout.write(`${line}\n`),
    driver: () => (driver ??= makeDriver(settings)),
    roster: wholeRoster,
    students: () => {
      const all = wholeRoster();
      const wanted = values.student;
      if (!wanted) return all;
      const ids = all.map((s) => s.id);
      const unknown = wanted.filter((id) => !ids.includes(id));
      if (unknown.length > 0) {
        throw new UsageError(
          unknown
            .map((id) => {
              const near = closest(id, ids);
              return `--student ${id}: no such student on the roster${near ? `; did you mean ${near}?` : ""}`;
            })
            .join("\n"),
        );
      }
      return all.filter((s) => wanted.includes(s.id));
    },
    reporter,
    orchestrator: (ids) =>
      new Orchestrator({
        driver: ctx.driver(),
        reporter: reporter(ids),
        signal: io.signal,
        redactor: ctx.redactor,
        logDir: path.join(settings.handoutsDir, "logs"),
        now,
        exporter: io.exporter,
      }),
    finish: (failed) =>
      io.signal?.aborted ? exitCodes.interrupted : failed > 0 ? exitCodes.someFailed : exitCodes.ok,
    redactor: redactorFromEnv(io.env),
    cards: () => (cards ??= loadCards(settings.cards)),
  };
  return ctx;
}

/** The id column: the flag, else the setting; named as given so an error points at it. */
function idColumnOption(values: Values, settings: WorkshopSettings): RosterOptions {
  if (values["id-column"] !== undefined) {
    return { idColumn: values["id-column"], idColumnFrom: "--id-column" };
  }
  return { idColumn: settings.idColumn, idColumnFrom: `[idColumn] in ${settings.file}` };
}

const quiet: Reporter = { update: () => {}, note: () => {}, close: () => {} };

async function runPlan(ctx: Context, roster: Student[]): Promise<boolean> {
  const { settings, print } = ctx;
  let existing = new Set<string>();
  try {
    existing = new Set((await ctx.driver().list()).map((s) => s.name));
  } catch (e) {
    print(
      `note: could not list the backend's stacks (${(e as Error).message.split("\n")[0]}; is the pulumi CLI on PATH and the backend reachable?); counting every student as new`,
    );
  }
  let quotaSource: QuotaSource | undefined;
  // Missing credentials are reported with everything else the plan finds, not alone.
  const earlierProblems: string[] = [];
  if (settings.target === "jetstream" && !ctx.values["skip-quota"]) {
    try {
      quotaSource = (ctx.io.quotaSourceFactory ?? ((env) => new OpenStackQuotaSource(env)))(
        ctx.io.env,
      );
    } catch (e) {
      if (!(e instanceof QuotaSourceError)) throw e;
      earlierProblems.push(`quota: ${e.message}`);
    }
  }
  const report = await plan({
    settings,
    students: roster,
    // Student stacks get no secret: they pull a public image (DOCKER_HUB_TOKEN builds it, once).
    secrets: {},
    now: ctx.now(),
    existingStacks: existing,
    quotaSource,
    earlierProblems,
  });
  print(
    `workshop ${settings.workshop}: ${roster.length} students, target ${settings.target}, flavor ${settings.flavor.name}, until ${settings.expires}`,
  );
  for (const n of report.notes) print(n);
  for (const l of derivedIdLines(roster)) print(l);
  if (report.quotaTable) print(formatTable(report.quotaTable));
  const { su } = report;
  print(
    `SU estimate: ${su.suPerHour} SU/hour x ${su.students} students x ${su.hours} hours until the end of ${settings.expires} = ${su.su} SUs`,
  );
  if (settings.target === "jetstream") {
    for (const l of pausePlanLines(settings, roster.length, ctx.now(), ctx.concurrency)) print(l);
  }
  if (report.warnings.length > 0) {
    print(`\n${report.warnings.length} warning(s):`);
    for (const w of report.warnings) print(`  ${w}`);
  }
  if (report.problems.length > 0) {
    print(`\n${report.problems.length} problem(s); nothing was created:`);
    for (const p of report.problems) print(`  ${p}`);
    return false;
  }
  return true;
}

async function runUp(ctx: Context): Promise<number> {
  const { settings } = ctx;
  const selected = ctx.students();
  // A card template that cannot be used is bad input: found before any stack, not after.
  ctx.cards();
  if (!(await runPlan(ctx, selected))) return exitCodes.badInput;
  const results = await ctx.orchestrator(selected.map((s) => s.id)).up(settings, ctx.roster(), {
    concurrency: ctx.concurrency,
    forceUpdate: ctx.values["force-update"],
    only: ctx.values.student && new Set(selected.map((s) => s.id)),
  });
  return reportUp(ctx, selected, results);
}

/** Handouts for the selected students and the summary, as up and resume print them. */
async function reportUp(ctx: Context, selected: Student[], results: UpResult[]): Promise<number> {
  const { print } = ctx;
  const byId = new Map(results.map((r) => [r.student.id, r]));
  const entries: HandoutEntry[] = selected.map((s) => {
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
  const files = await writeCards(ctx, entries);
  // A paused student's stack is up to date and keeps its URL (it answers again after `resume`).
  const failed = entries.filter((e) => !e.url);
  const paused = entries.filter((e) => e.status === "paused").length;
  print();
  print(
    `${entries.length - failed.length - paused} of ${entries.length} notebooks ready${paused > 0 ? `, ${paused} paused (\`workshop resume\` starts them)` : ""}`,
  );
  for (const f of failed) print(`  ${f.id}: ${f.status}: ${f.detail}`);
  print(`handouts (they hold tokens; mode 0600): ${files.html}, ${files.csv}`);
  return ctx.finish(failed.length);
}

/**
 * Writes the cards and the CSV; a run for some students goes to selected/, so it never replaces the
 * whole class's handouts with a few cards.
 */
async function writeCards(ctx: Context, entries: HandoutEntry[]) {
  const { settings } = ctx;
  // A run for some students must not replace the whole class's handouts with a few cards.
  const dir =
    ctx.values.student || ctx.name === "add"
      ? path.join(settings.handoutsDir, "selected")
      : settings.handoutsDir;
  return writeHandouts(
    dir,
    {
      workshop: settings.workshop,
      expires: settings.expires,
      generatedAt: ctx.now(),
      course: courseNameOf(settings.shared.course ?? configDefaults.course),
      cards: ctx.cards(),
    },
    entries,
    (text) => ctx.redactor.redact(text),
  );
}

/** `cards`: the handouts again, from what the stacks hold; no update, no probe. */
async function runCards(ctx: Context): Promise<number> {
  ctx.cards();
  const entries = await readStudentLinks(ctx.driver(), ctx.settings, ctx.students(), (t) =>
    ctx.redactor.redact(t),
  );
  const files = await writeCards(ctx, entries);
  const missing = entries.filter((e) => e.url === undefined);
  ctx.print(`${entries.length - missing.length} of ${entries.length} card(s) printed`);
  for (const e of missing) ctx.print(`  ${e.id}: ${e.detail}`);
  ctx.print(`handouts (they hold tokens; mode 0600): ${files.html}, ${files.csv}`);
  return ctx.finish(missing.length);
}

/** `mail`: see mailRun.ts. */
async function runMailCommand(ctx: Context): Promise<number> {
  const { settings } = ctx;
  const plan = checkMail(settings, ctx.values.send ?? false, ctx.io.env);
  const entries = await readStudentLinks(ctx.driver(), settings, ctx.students(), (t) =>
    ctx.redactor.redact(t),
  );
  const { courseUrl, contact, wifi } = settings.cards;
  const failed = await runMail({
    plan,
    settings,
    entries,
    title: settings.cards.title,
    lines: [courseUrl, contact, wifi].filter((l): l is string => l !== undefined),
    now: ctx.now(),
    redactor: ctx.redactor,
    print: ctx.print,
    force: ctx.values.force ?? false,
  });
  return ctx.finish(failed);
}

/**
 * pause (`shelved`) and resume (`active`): the stacks' own `power` setting, applied through the up
 * path; resume then reports as up does.
 */
async function runPower(ctx: Context, power: Power): Promise<number> {
  const { settings, print } = ctx;
  if (settings.target !== "jetstream") {
    throw new UsageError(
      `${ctx.name} shelves Jetstream2 VMs; target ${settings.target} has none: stop local notebooks with \`${invocation} down\` instead (their volumes stay)`,
      ctx.name,
    );
  }
  const selected = ctx.students();
  if (power === "active") ctx.cards();
  const orchestrator = ctx.orchestrator(selected.map((s) => s.id));
  const opts = {
    concurrency: ctx.concurrency,
    only: ctx.values.student && new Set(selected.map((s) => s.id)),
  };
  const results =
    power === "shelved"
      ? await orchestrator.pause(settings, ctx.roster(), opts)
      : await orchestrator.resume(settings, ctx.roster(), opts);
  if (power === "active") return reportUp(ctx, selected, results);
  const bad = results.filter((r) => r.status !== "paused");
  print();
  print(`${results.length - bad.length} of ${selected.length} paused (shelved: 0 SUs an hour)`);
  for (const r of bad) print(`  ${r.student.id}: ${r.status}: ${r.detail}`);
  return ctx.finish(bad.length + (selected.length - results.length));
}

async function runStatus(ctx: Context): Promise<number> {
  const { settings } = ctx;
  const rows = await new Orchestrator({
    driver: ctx.driver(),
    reporter: quiet,
    now: ctx.now,
  }).status(settings, ctx.students(), ctx.concurrency);
  const urls = ctx.values.urls ?? false;
  if (ctx.values.json) {
    ctx.print(
      JSON.stringify(
        rows.map((r) => ({
          student: r.student,
          stack: r.stack,
          exists: r.exists,
          power: r.power ?? null,
          lastUpdate: r.lastUpdate ?? null,
          lastResult: r.lastResult ?? null,
          health: r.health,
          lastActivity: r.lastActivity ?? null,
          expires: r.expires ?? settings.expires,
          ...(urls ? { url: r.url ?? null } : {}),
        })),
        null,
        2,
      ),
    );
  } else {
    ctx.print(
      formatTable([
        [
          "student",
          "stack",
          "exists",
          "last update",
          "result",
          "notebook",
          "last activity",
          "expires",
          "power",
          ...(urls ? ["url"] : []),
        ],
        ...rows.map((r) => [
          r.student,
          r.stack,
          r.exists ? "yes" : "no",
          r.lastUpdate ?? "-",
          r.lastResult ?? "-",
          r.health,
          describeActivity(r.lastActivity, ctx.now()),
          r.expires ?? settings.expires,
          r.power ?? "-",
          ...(urls ? [r.url ?? "-"] : []),
        ]),
      ]),
    );
  }
  return rows.every((r) => r.exists && (r.health === "healthy" || r.power === "shelved"))
    ? exitCodes.ok
    : exitCodes.someFailed;
}

async function runExport(ctx: Context): Promise<number> {
  const { settings, outDir, print } = ctx;
  const roster = ctx.students();
  const targets = roster.map((s) => ({ student: s.id, stack: stackName(settings, s.id) }));
  const results = await ctx.orchestrator(roster.map((s) => s.id)).export(settings, targets, {
    outDir,
    concurrency: ctx.concurrency,
  });
  print();
  print(`${results.filter((r) => r.ok).length} of ${targets.length} exported to ${outDir}`);
  for (const r of results.filter((x) => x.ok)) print(`  ${r.student}: ${r.detail}`);
  print(sizeReport(results.map((r) => r.manifest)));
  for (const r of results.filter((x) => !x.ok)) print(`  ${r.student}: ${r.detail}`);
  return ctx.finish(results.filter((r) => !r.ok).length + (targets.length - results.length));
}

async function runDown(ctx: Context): Promise<number> {
  const targets = ctx
    .students()
    .map((s) => ({ student: s.id, stack: stackName(ctx.settings, s.id) }));
  return destroy(ctx, targets);
}

async function runReap(ctx: Context): Promise<number> {
  const { settings, print } = ctx;
  const found = await new Orchestrator({
    driver: ctx.driver(),
    reporter: quiet,
    now: ctx.now,
  }).expiredTargets(settings, { allWorkshops: ctx.values["all-workshops"] ?? false });
  let { expired } = found;
  const wanted = ctx.values.student;
  if (wanted) {
    const known = new Set([
      ...expired.map((t) => t.student),
      ...found.kept.map((k) => k.stack.slice(settings.stackPrefix.length + 1)),
    ]);
    const unknown = wanted.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new UsageError(
        unknown.map((id) => `--student ${id}: the backend has no stack of that student`).join("\n"),
      );
    }
  }
  const kept = wanted
    ? found.kept.filter((k) => wanted.some((id) => k.stack === stackName(settings, id)))
    : found.kept;
  for (const k of kept) print(`kept ${k.stack}: ${k.why}`);
  if (wanted) expired = expired.filter((t) => wanted.includes(t.student));
  if (expired.length === 0) {
    print("no expired stacks");
    return exitCodes.ok;
  }
  return destroy(ctx, expired);
}

async function runAdd(ctx: Context): Promise<number> {
  const { settings } = ctx;
  const pick = await addSelection(
    ctx.driver(),
    settings,
    ctx.roster(),
    ctx.values.student,
    invocation,
  );
  if (pick.problems.length > 0) throw new UsageError(pick.problems.join("\n"), "add");
  if (pick.nothing !== undefined) {
    ctx.print(pick.nothing);
    return exitCodes.ok;
  }
  const selected = pick.students;
  ctx.print(`adding ${selected.map((s) => s.id).join(", ")}`);
  if (!(await runPlan(ctx, selected))) return exitCodes.badInput;
  const results = await ctx.orchestrator(selected.map((s) => s.id)).up(settings, ctx.roster(), {
    concurrency: ctx.concurrency,
    only: new Set(selected.map((s) => s.id)),
  });
  return reportUp(ctx, selected, results);
}

async function runReset(ctx: Context): Promise<number> {
  const { settings } = ctx;
  if (!ctx.values.student) {
    throw new UsageError(
      "reset needs --student ID: it replaces that student's notebook container (repeat --student for several)",
      "reset",
    );
  }
  const selected = ctx.students();
  const problems = await resetProblems(ctx.driver(), settings, selected, invocation);
  if (problems.length > 0) throw new UsageError(problems.join("\n"), "reset");
  const results = await ctx.orchestrator(selected.map((s) => s.id)).up(settings, ctx.roster(), {
    concurrency: ctx.concurrency,
    only: new Set(selected.map((s) => s.id)),
    reset: { token: ctx.values.token ?? false },
  });
  return reportUp(ctx, selected, results);
}

async function runUsage(ctx: Context): Promise<number> {
  const { settings, print } = ctx;
  const students = ctx.students();
  if (settings.target !== "jetstream") {
    print(`target ${settings.target} runs on this machine: it spends no SUs`);
    return exitCodes.ok;
  }
  const report = await readUsage(ctx.driver(), settings, students, ctx.now());
  if (ctx.values.json) {
    print(JSON.stringify(report, null, 2));
    return exitCodes.ok;
  }
  const { table, lines } = usageText(report, settings.expires);
  print(formatTable(table));
  for (const line of lines) print(line);
  return exitCodes.ok;
}

/** Asks (or requires --yes), then exports, destroys and removes `targets`. */
async function destroy(ctx: Context, targets: DownTarget[]): Promise<number> {
  const { settings, outDir, print } = ctx;
  const what = `${ctx.name} will export to ${outDir}, then destroy and remove ${targets.length} stack(s): ${targets.map((t) => t.stack).join(", ")}`;
  if (!(await confirmed(ctx, what))) {
    return ctx.io.signal?.aborted ? exitCodes.interrupted : exitCodes.badInput;
  }
  const results: DownOutcome[] = await ctx
    .orchestrator(targets.map((t) => t.student))
    .down(settings, targets, {
      outDir,
      concurrency: ctx.concurrency,
      force: ctx.values.force ?? false,
    });
  const bad = results.filter((r) => r.status === "kept" || r.status === "failed");
  print();
  print(
    `${results.filter((r) => r.status === "removed").length} of ${targets.length} torn down${absentNote(results)}; exports and journal in ${outDir}`,
  );
  for (const r of bad) print(`  ${r.student}: ${r.status}: ${r.detail}`);
  print(sizeReport(results.map((r) => r.manifest)));
  return ctx.finish(bad.length + (targets.length - results.length));
}

/** Stacks this backend does not have are not "torn down": said apart, with what to check. */
function absentNote(results: readonly DownOutcome[]): string {
  const absent = results.filter((r) => r.status === "absent").length;
  return absent === 0
    ? ""
    : `, ${absent} not found in this backend (nothing done for them; is PULUMI_BACKEND_URL the workshop's?)`;
}

/** One line: how much this run exported, in total. */
function sizeReport(
  manifests: ({ fileCount: number; totalBytes: number; archive: { bytes: number } } | undefined)[],
): string {
  const done = manifests.filter((m) => m !== undefined);
  const files = done.reduce((n, m) => n + m.fileCount, 0);
  const bytes = done.reduce((n, m) => n + m.totalBytes, 0);
  const archives = done.reduce((n, m) => n + m.archive.bytes, 0);
  return `exported this run: ${done.length} student(s), ${files} files, ${formatBytes(bytes)} (archives ${formatBytes(archives)})`;
}

/** --yes, or "yes" typed on a terminal; anything else destroys nothing. */
async function confirmed(ctx: Context, what: string): Promise<boolean> {
  if (ctx.values.yes) return true;
  const { stdin, stderr } = ctx.io;
  if (!stdin?.isTTY) {
    throw new UsageError(
      `${what}\nnot on a terminal, so nobody can confirm: nothing was destroyed; pass --yes to go ahead`,
    );
  }
  const rl = createInterface({ input: stdin, terminal: false });
  stderr.write(`${what}\ntype yes to go on: `);
  // The first line is the answer; a closed input or a Ctrl-C is a no.
  const answer = await new Promise<string>((resolve) => {
    rl.once("line", resolve);
    rl.once("close", () => resolve(""));
    ctx.io.signal?.addEventListener("abort", () => resolve(""), { once: true });
  });
  rl.close();
  if (answer.trim().toLowerCase() === "yes") return true;
  stderr.write("not confirmed: nothing was destroyed\n");
  return false;
}

if (require.main === module) {
  // Every credential in the environment is taken out of whatever reaches the screen.
  const redactor = redactorFromEnv(process.env);
  guardStream(process.stdout, redactor);
  guardStream(process.stderr, redactor);
  // First Ctrl-C (or SIGTERM, SIGHUP): start no new student, let those in flight finish. Second:
  // pulumi's own cancel for them. Third: leave now. See signals.ts.
  const abort = new AbortController();
  const processes = new PulumiProcesses();
  handleInterrupts({
    abort,
    children: processes,
    write: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
  });
  void run(process.argv.slice(2), {
    processes,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: abort.signal,
  }).then((code) => process.exit(code));
}
