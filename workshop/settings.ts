/**
 * Workshop settings: what every student's stack shares (workshop name, target, expiry, image, flavor,
 * network limits, TLS) plus how the workshop command itself runs (stack names, backend, concurrency,
 * where handouts and exports go). Read from a YAML file the instructor keeps next to the roster; it
 * holds no secrets (those come from the environment, see docs/workshop.md).
 */
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { findFlavor, defaultFlavor, type Flavor } from "../lib/flavors";
import {
  configKeys,
  expiresProblem,
  flavorProblem,
  perStackKeys,
  secretConfigKeys,
  sshCidrWarning,
  workshopProblem,
} from "../lib/config";
import { InputError, shown } from "../lib/rules/problems";
import { maxStackName, type Target } from "../lib/rules/stack";
import { hiddenCharacter } from "../lib/rules/text";
import { parseTlsSettings } from "../lib/tlsSettings";
import { parseCardsBlock, parseMailBlock, type CardSettings, type MailBlock } from "./cardSettings";
import { readInputFile, utf8Text } from "./inputFile";
import type { Student } from "./roster";
import { maxIdLength } from "./roster";
import { parseSchedule, type Schedule } from "./schedule";

/**
 * Stack config keys the settings may share between students: every key the stack reads except the
 * ones the workshop command sets itself (`student` from the roster, `workshop` and `stackPrefix` from
 * these settings) and secrets, which never go in a file.
 */
export const sharedStackKeys: readonly string[] = configKeys.filter(
  (k) =>
    k !== "student" &&
    k !== "workshop" &&
    k !== "stackPrefix" &&
    !secretConfigKeys.has(k) &&
    !perStackKeys.has(k),
);

/** Settings of the workshop command itself, not passed to stacks. */
const commandKeys = [
  "workshop",
  "stackPrefix",
  "roster",
  "backend",
  "concurrency",
  "probeTimeoutMinutes",
  "handoutsDir",
  "exportDir",
  "localPortBase",
  "cards",
  "mail",
  "idColumn",
  "schedule",
] as const;

export interface WorkshopSettings {
  /** The settings file, for messages. */
  file: string;
  /** DNS-safe workshop name; also the default stack prefix. */
  workshop: string;
  /** Student stacks are `<stackPrefix>-<student>`. */
  stackPrefix: string;
  target: Target;
  /** Last day of the workshop, YYYY-MM-DD (UTC); `reap` removes stacks after it. */
  expires: string;
  flavor: Flavor;
  /** Stack config every student shares (bare keys, string values). */
  shared: Record<string, string>;
  backend: {
    /** Where stack state lives; PULUMI_BACKEND_URL in the environment wins. */
    url?: string;
    /** `passphrase` (default for self-managed backends) or a KMS URL. */
    secretsProvider?: string;
  };
  /** Roster path, relative paths resolved against the settings file's folder. */
  roster?: string;
  concurrency: number;
  probeTimeoutMinutes: number;
  handoutsDir: string;
  exportDir: string;
  /** On target `local` each student's notebook gets port localPortBase + roster row index. */
  localPortBase: number;
  /** What the handout cards say and look like (`cards:`; see cardSettings.ts). */
  cards: CardSettings;
  /** Sender and mail server for `workshop mail` (`mail:`), if set. */
  mail?: MailBlock;
  /** Accepted settings that deserve attention (a world-open sshCidr), to print before acting. */
  warnings: string[];
  /** The roster column holding the ids, by header (any case); `--id-column` wins over it. */
  idColumn?: string;
  /** The class's session times (schedule.ts); plan's SU figure counts only them. */
  schedule?: Schedule;
}

/** The longest workshop name: with a student id of up to 32 it still fits the VM name (63). */
const maxWorkshop = 24;
/** The longest stack prefix: `<stackPrefix>-<student>` is a Pulumi stack name. */
export const maxStackPrefix = maxStackName - 1 - maxIdLength;
/** A settings file is a few dozen lines; anything near this is the wrong path. */
const maxSettingsBytes = 1024 * 1024;
const backendUrl = /^[a-z][a-z0-9+.-]*:\/\/\S*$/;

/** A YAML scalar as text, or undefined for anything else (lists, mappings, a cyclic alias). */
function scalar(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return undefined;
}

/**
 * A whole number written in decimal: YAML's own integers, or text of digits only. Text such as
 * "0x10" or "1e1" is refused: Number() would read it as 16 or 10, which nobody meant.
 */
function wholeNumber(raw: unknown, min: number, max: number): number | undefined {
  const n =
    typeof raw === "number"
      ? raw
      : typeof raw === "string" && /^[1-9][0-9]{0,5}$/.test(raw)
        ? Number(raw)
        : NaN;
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

const concurrencyRange = { min: 1, max: 64, fallback: 8 };

/**
 * Parses the `--concurrency` flag: a whole number from 1 to 64 in plain decimal.
 * @param text The flag's value as given.
 * @throws InputError naming the flag (the command exits with code 2).
 */
export function parseConcurrency(text: string): number {
  const n = wholeNumber(text, concurrencyRange.min, concurrencyRange.max);
  if (n === undefined) {
    throw new InputError("--concurrency", [
      `--concurrency must be a whole number from ${concurrencyRange.min} to ${concurrencyRange.max}, got ${JSON.stringify(text)}`,
    ]);
  }
  return n;
}

/** Every string in `value` (keys and values, nested), each once, cycles included. */
function* strings(value: unknown, seen = new Set<unknown>()): Generator<string> {
  if (typeof value === "string") yield value;
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(value)) yield k;
    yield* strings(v, seen);
  }
}

/** The end of the expiry day (UTC): a workshop that expires 2026-06-30 runs through that day. */
export function expiryEnd(expires: string): Date {
  return new Date(`${expires}T23:59:59.999Z`);
}

/**
 * Validates parsed YAML. The workshop name, expiry, flavor and HTTPS contact come from the stack's
 * own rules (lib/config.ts, lib/tlsSettings.ts), so the workshop is planned with what its stacks
 * accept; what the stack does not know (stack names, backend, concurrency, folders) is checked here.
 * @param doc The parsed YAML document.
 * @param file The settings file, named in messages and used to resolve relative paths.
 * @throws InputError listing every problem.
 */
export function parseSettings(doc: unknown, file: string): WorkshopSettings {
  const problems: string[] = [];
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new InputError(file, [
      "the file is not a YAML mapping; start from workshop.example.yaml",
    ]);
  }
  const raw = doc as Record<string, unknown>;
  // A key whose value holds a hidden character is reported for that alone.
  const tainted = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    for (const text of [key, ...strings(value)]) {
      const hidden = hiddenCharacter(text);
      if (hidden !== undefined) {
        problems.push(
          `[${hiddenCharacter(key) ? shown(key) : key}] contains ${hidden}: retype the value without it`,
        );
        tainted.add(key);
        break;
      }
    }
  }
  const fresh = (key: string) => !tainted.has(key);
  const known = new Set<string>([...sharedStackKeys, ...commandKeys]);
  for (const key of Object.keys(raw).filter(fresh)) {
    if (key === "student") {
      problems.push("[student] comes from the roster, one per row; remove it from the settings");
    } else if (key === "dockerHubToken") {
      problems.push(
        "[dockerHubToken] is a secret and does not belong in this file; set DOCKER_HUB_TOKEN in the environment",
      );
    } else if (!known.has(key)) {
      problems.push(
        `[${key.length > 60 ? shown(key) : key}] is not a workshop setting; known settings: ${[...known].join(", ")}`,
      );
    }
  }
  // One value per key: a list or a mapping where the stack reads text is refused, never dropped.
  const single = (key: string, what = "a single value (text)"): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null || !fresh(key)) return undefined;
    const text = scalar(value);
    if (text === undefined) problems.push(`[${key}] must be ${what}, got ${shown(value)}`);
    return text;
  };

  const workshop = single("workshop") ?? "";
  if (raw.workshop === undefined || raw.workshop === null) {
    problems.push('[workshop] is required: a DNS-safe name such as "intro-python"');
  } else if (scalar(raw.workshop) !== undefined && fresh("workshop")) {
    const issue = workshopProblem(workshop);
    if (issue !== undefined) problems.push(issue);
    else if (workshop.length > maxWorkshop) {
      problems.push(
        `[workshop] must be at most ${maxWorkshop} characters, so that a student id of up to ${maxIdLength} still fits the VM name, got ${shown(workshop)}`,
      );
    }
  }
  const stackPrefix = single("stackPrefix") ?? workshop;
  // Checked only when given: by default it is the workshop name, already checked above.
  if (
    raw.stackPrefix !== undefined &&
    scalar(raw.stackPrefix) !== undefined &&
    fresh("stackPrefix")
  ) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(stackPrefix)) {
      problems.push(
        `[stackPrefix] may hold letters, digits, "-", "_" and "." (Pulumi stack name rules), got ${shown(stackPrefix)}`,
      );
    } else if (stackPrefix.length > maxStackPrefix) {
      problems.push(
        `[stackPrefix] must be at most ${maxStackPrefix} characters (a stack name, <stackPrefix>-<student>, is at most ${maxStackName} and a student id up to ${maxIdLength}), got ${shown(stackPrefix)}`,
      );
    }
  }
  const target = single("target") ?? "";
  if (fresh("target") && target !== "local" && target !== "jetstream") {
    problems.push(`[target] must be "local" or "jetstream", got ${shown(raw.target ?? "")}`);
  }
  const expires = single("expires") ?? "";
  if (raw.expires === undefined || raw.expires === null) {
    problems.push(
      "[expires] is required: the workshop's last day as YYYY-MM-DD, such as 2026-06-30",
    );
  } else if (scalar(raw.expires) !== undefined && fresh("expires")) {
    // No `now`: down and reap read the settings of a workshop that is over.
    const issue = expiresProblem(expires);
    if (issue !== undefined) problems.push(issue);
  }
  const flavorName = single("flavor") ?? defaultFlavor;
  const flavor = findFlavor(flavorName);
  if (!flavor && fresh("flavor") && scalar(raw.flavor ?? defaultFlavor) !== undefined) {
    problems.push(flavorProblem(flavorName));
  }

  const shared: Record<string, string> = {};
  for (const key of sharedStackKeys) {
    if (key === "flavor" || key === "expires" || key === "target") continue;
    const value = single(key, "a single value (text or number), not a list or mapping");
    if (value !== undefined) shared[key] = value;
  }
  if (target !== "") shared.target = target;
  if (expires !== "") shared.expires = expires;

  // The ACME contact and CA are written into every proxy's Caddyfile: refused here, once.
  const tls = parseTlsSettings({
    target: "jetstream",
    tls: "letsencrypt",
    acmeEmail: shared.acmeEmail,
    acmeCa: shared.acmeCa,
    hostname: "settings.invalid",
  });
  problems.push(...tls.problems.filter((p) => /^\[(acmeEmail|acmeCa)\]/.test(p)));
  const warnings: string[] = [];
  const sshWarning = shared.sshCidr === undefined ? undefined : sshCidrWarning(shared.sshCidr);
  if (sshWarning !== undefined) warnings.push(sshWarning);

  let backend: WorkshopSettings["backend"] = {};
  if (raw.backend !== undefined && raw.backend !== null && fresh("backend")) {
    if (typeof raw.backend !== "object" || Array.isArray(raw.backend)) {
      problems.push("[backend] must be a mapping with url and/or secretsProvider");
    } else {
      const b = raw.backend as Record<string, unknown>;
      for (const k of Object.keys(b)) {
        if (k !== "url" && k !== "secretsProvider") {
          problems.push(`[backend.${k}] is not a backend setting; use url and secretsProvider`);
        }
      }
      const url = b.url === undefined || b.url === null ? undefined : b.url;
      if (url !== undefined && (typeof url !== "string" || !backendUrl.test(url))) {
        problems.push(
          `[backend.url] must be one backend URL (text) such as s3://bucket/prefix or file://./state, got ${shown(url)}`,
        );
      }
      const secretsProvider = b.secretsProvider ?? undefined;
      if (secretsProvider !== undefined && typeof secretsProvider !== "string") {
        problems.push(
          `[backend.secretsProvider] must be "passphrase" or a KMS URL (text), got ${shown(secretsProvider)}`,
        );
      }
      backend = {
        url: typeof url === "string" ? url : undefined,
        secretsProvider: typeof secretsProvider === "string" ? secretsProvider : undefined,
      };
      if (backend.url && /passphrase|secret|password/i.test(backend.url)) {
        problems.push(
          "[backend.url] looks like it holds a secret; keep credentials in the environment (AWS_ACCESS_KEY_ID, PULUMI_CONFIG_PASSPHRASE)",
        );
      }
    }
  }

  const number = (key: string, min: number, max: number, fallback: number): number => {
    const value = raw[key];
    if (value === undefined || value === null || !fresh(key)) return fallback;
    const n = wholeNumber(value, min, max);
    if (n === undefined) {
      problems.push(`[${key}] must be a whole number from ${min} to ${max}, got ${shown(value)}`);
      return fallback;
    }
    return n;
  };
  const { min, max, fallback } = concurrencyRange;
  const concurrency = number("concurrency", min, max, fallback);
  const probeTimeoutMinutes = number("probeTimeoutMinutes", 1, 120, 15);
  const localPortBase = number("localPortBase", 1024, 65000, 8901);
  if (target === "local" && shared.notebookPort !== undefined) {
    problems.push(
      "[notebookPort] would give every student the same port on target local; remove it (each student gets a port from localPortBase, derived from their id)",
    );
  }

  const dir = path.dirname(file);
  const place = (key: string, kind: string, fallback: string): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null || !fresh(key)) return undefined;
    if (typeof value !== "string") {
      problems.push(
        `[${key}] must be one ${kind} path (text), got ${shown(value)}: write ${key}: ${fallback}`,
      );
      return undefined;
    }
    if (value.trim() === "") {
      problems.push(
        `[${key}] is empty: remove the line for the default ("${fallback}", next to this file) or name a ${kind}`,
      );
      return undefined;
    }
    return path.resolve(dir, value);
  };
  const roster = place("roster", "file", "roster.csv");
  const handoutsDir = place("handoutsDir", "folder", "handouts");
  const exportDir = place("exportDir", "folder", "exports");
  const cards = parseCardsBlock(fresh("cards") ? raw.cards : undefined, workshop, dir, problems);
  const mail = parseMailBlock(fresh("mail") ? raw.mail : undefined, dir, problems);

  const idColumn = single("idColumn");
  if (idColumn !== undefined && idColumn.trim() === "") {
    problems.push(
      '[idColumn] is empty: remove the line to use the roster\'s "id" column, or name a column of the roster',
    );
  }

  let schedule: Schedule | undefined;
  if (raw.schedule !== undefined && raw.schedule !== null && fresh("schedule")) {
    const parsed = parseSchedule(raw.schedule, { expiresEnd: expiryEnd(expires), expires });
    problems.push(...parsed.problems);
    schedule = parsed.schedule;
  }

  if (problems.length > 0) throw new InputError(file, problems);
  return {
    file,
    workshop,
    stackPrefix,
    target: target as Target,
    expires,
    flavor: flavor as Flavor,
    shared: { ...shared, flavor: flavorName },
    backend,
    roster,
    concurrency,
    probeTimeoutMinutes,
    handoutsDir: handoutsDir ?? path.resolve(dir, "handouts"),
    exportDir: exportDir ?? path.resolve(dir, "exports"),
    localPortBase,
    cards,
    ...(mail === undefined ? {} : { mail }),
    warnings,
    ...(idColumn !== undefined ? { idColumn } : {}),
    ...(schedule !== undefined ? { schedule } : {}),
  };
}

/**
 * Reads and validates a settings file: a regular file of at most 1 MiB of UTF-8 YAML.
 * @throws InputError naming the file and every problem.
 */
export function readSettings(file: string): WorkshopSettings {
  const bytes = readInputFile(file, {
    what: "settings file",
    example: "workshop.yaml",
    maxBytes: maxSettingsBytes,
    whenMissing: "copy workshop.example.yaml to start",
  });
  const decoded = utf8Text(bytes, "save it as UTF-8 text");
  if ("problem" in decoded) throw new InputError(file, [decoded.problem]);
  return parseSettingsText(decoded.text, file);
}

/**
 * Parses and validates the YAML text of a settings file.
 * @param text The file's text.
 * @param file The settings file, for messages and relative paths.
 */
export function parseSettingsText(text: string, file: string): WorkshopSettings {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError(file, [`is not valid YAML: ${(e as Error).message}`]);
  }
  return parseSettings(doc, file);
}

/** The student's stack name. */
export function stackName(settings: WorkshopSettings, studentId: string): string {
  return `${settings.stackPrefix}-${studentId}`;
}

/**
 * The student's stack config (bare keys): the shared settings, the workshop and the student, and on
 * target local a port of its own. `row` is the student's 0-based position in the roster.
 */
export function studentConfig(
  settings: WorkshopSettings,
  student: Student,
  row: number,
): Record<string, string> {
  return {
    ...settings.shared,
    workshop: settings.workshop,
    student: student.id,
    ...(settings.target === "local" ? { notebookPort: String(settings.localPortBase + row) } : {}),
  };
}
