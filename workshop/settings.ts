/**
 * Workshop settings: what every student's stack shares (workshop name, target, expiry, image, flavor,
 * network limits, TLS) plus how the workshop command itself runs (stack names, backend, concurrency,
 * where handouts and exports go). Read from a YAML file the instructor keeps next to the roster; it
 * holds no secrets (those come from the environment, see docs/workshop.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { findFlavor, defaultFlavor, type Flavor } from "../lib/flavors";
import { configKeys, secretConfigKeys } from "../lib/config";
import type { Student } from "./roster";

/**
 * Stack config keys the settings may share between students: every key the stack reads except the
 * ones the workshop command sets itself (`student` from the roster, `workshop` from these settings)
 * and secrets, which never go in a file.
 */
export const sharedStackKeys: readonly string[] = configKeys.filter(
  (k) => k !== "student" && k !== "workshop" && !secretConfigKeys.has(k),
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
] as const;

export const configNamespace = "jetstream-notebooks";

export type Target = "local" | "jetstream";

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
}

export class SettingsError extends Error {
  constructor(
    public readonly file: string,
    public readonly problems: string[],
  ) {
    super(`${file} has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    this.name = "SettingsError";
  }
}

// The stack joins workshop and student into one DNS label for the VM, so both start with a letter.
const dnsLabel = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;

function scalar(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return undefined;
}

function wholeNumber(
  raw: unknown,
  key: string,
  min: number,
  max: number,
  fallback: number,
  problems: string[],
): number {
  if (raw === undefined || raw === null) return fallback;
  const n = typeof raw === "number" ? raw : Number(scalar(raw));
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(
      `[${key}] must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
    return fallback;
  }
  return n;
}

/** The end of the expiry day (UTC): a workshop that expires 2026-06-30 runs through that day. */
export function expiryEnd(expires: string): Date {
  return new Date(`${expires}T23:59:59.999Z`);
}

/** Validates parsed YAML; `file` is used in messages and to resolve relative paths. */
export function parseSettings(doc: unknown, file: string): WorkshopSettings {
  const problems: string[] = [];
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new SettingsError(file, [
      "the file is not a YAML mapping; start from workshop.example.yaml",
    ]);
  }
  const raw = doc as Record<string, unknown>;
  const known = new Set<string>([...sharedStackKeys, ...commandKeys]);
  for (const key of Object.keys(raw)) {
    if (key === "student") {
      problems.push("[student] comes from the roster, one per row; remove it from the settings");
    } else if (key === "dockerHubToken") {
      problems.push(
        "[dockerHubToken] is a secret and does not belong in this file; set DOCKER_HUB_TOKEN in the environment",
      );
    } else if (!known.has(key)) {
      problems.push(`[${key}] is not a workshop setting; known settings: ${[...known].join(", ")}`);
    }
  }

  const workshop = scalar(raw.workshop) ?? "";
  if (!dnsLabel.test(workshop) || workshop.length > 24) {
    problems.push(
      `[workshop] must be a DNS-safe name of 1 to 24 lowercase letters, digits and hyphens, starting with a letter, such as "intro-python", got ${JSON.stringify(raw.workshop ?? "")}`,
    );
  }
  const stackPrefix = scalar(raw.stackPrefix) ?? workshop;
  // Checked only when given: by default it is the workshop name, already checked above.
  if (raw.stackPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(stackPrefix)) {
    problems.push(
      `[stackPrefix] may hold letters, digits, "-", "_" and "." (Pulumi stack name rules), got ${JSON.stringify(stackPrefix)}`,
    );
  }
  const target = scalar(raw.target) ?? "";
  if (target !== "local" && target !== "jetstream") {
    problems.push(
      `[target] must be "local" or "jetstream", got ${JSON.stringify(raw.target ?? "")}`,
    );
  }
  const expires = scalar(raw.expires) ?? "";
  if (!isoDate.test(expires) || Number.isNaN(expiryEnd(expires).getTime())) {
    problems.push(
      `[expires] must be the workshop's last day as YYYY-MM-DD, such as 2026-06-30, got ${JSON.stringify(raw.expires ?? "")}`,
    );
  }
  const flavorName = scalar(raw.flavor) ?? defaultFlavor;
  const flavor = findFlavor(flavorName);
  if (!flavor) {
    problems.push(
      `[flavor] "${flavorName}" is not a Jetstream2 flavor this project knows, such as ${defaultFlavor}`,
    );
  }

  const shared: Record<string, string> = {};
  for (const key of sharedStackKeys) {
    if (raw[key] === undefined || raw[key] === null) continue;
    const value = scalar(raw[key]);
    if (value === undefined) {
      problems.push(`[${key}] must be a single value (text or number), not a list or mapping`);
      continue;
    }
    shared[key] = value;
  }

  let backend: WorkshopSettings["backend"] = {};
  if (raw.backend !== undefined && raw.backend !== null) {
    if (typeof raw.backend !== "object" || Array.isArray(raw.backend)) {
      problems.push("[backend] must be a mapping with url and/or secretsProvider");
    } else {
      const b = raw.backend as Record<string, unknown>;
      for (const k of Object.keys(b)) {
        if (k !== "url" && k !== "secretsProvider") {
          problems.push(`[backend.${k}] is not a backend setting; use url and secretsProvider`);
        }
      }
      backend = { url: scalar(b.url), secretsProvider: scalar(b.secretsProvider) };
      if (backend.url && /passphrase|secret|password/i.test(backend.url)) {
        problems.push(
          "[backend.url] looks like it holds a secret; keep credentials in the environment (AWS_ACCESS_KEY_ID, PULUMI_CONFIG_PASSPHRASE)",
        );
      }
    }
  }

  const concurrency = wholeNumber(raw.concurrency, "concurrency", 1, 64, 8, problems);
  const probeTimeoutMinutes = wholeNumber(
    raw.probeTimeoutMinutes,
    "probeTimeoutMinutes",
    1,
    120,
    15,
    problems,
  );
  const localPortBase = wholeNumber(
    raw.localPortBase,
    "localPortBase",
    1024,
    65000,
    8901,
    problems,
  );
  if (target === "local" && shared.notebookPort !== undefined) {
    problems.push(
      "[notebookPort] would give every student the same port on target local; remove it (each student gets a port from localPortBase, derived from their id)",
    );
  }

  if (problems.length > 0) throw new SettingsError(file, problems);
  const dir = path.dirname(file);
  const resolve = (p: unknown, fallback: string): string =>
    path.resolve(dir, scalar(p) ?? fallback);
  return {
    file,
    workshop,
    stackPrefix,
    target: target as Target,
    expires,
    flavor: flavor as Flavor,
    shared: { ...shared, flavor: flavorName },
    backend,
    roster: raw.roster === undefined ? undefined : resolve(raw.roster, "roster.csv"),
    concurrency,
    probeTimeoutMinutes,
    handoutsDir: resolve(raw.handoutsDir, "handouts"),
    exportDir: resolve(raw.exportDir, "exports"),
    localPortBase,
  };
}

/** Reads and validates a settings file. */
export function readSettings(file: string): WorkshopSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new SettingsError(file, [
      `cannot read the settings: ${(e as Error).message}; copy workshop.example.yaml to start`,
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SettingsError(file, [`is not valid YAML: ${(e as Error).message}`]);
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
