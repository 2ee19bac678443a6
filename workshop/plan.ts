/**
 * `workshop plan`: everything that can be checked before anything is created. Each student's merged
 * config goes through the stack's own validation (parseStackConfig, the function index.ts runs), the
 * allocation's quota is compared with what the new stacks need, and the SU cost is estimated.
 */
import { configDefaults, parseStackConfig } from "../lib/config";
import { InputError } from "../lib/rules/problems";
import { isPubliclyTrusted } from "../lib/tlsSettings";
import {
  checkQuota,
  describeQuota,
  networkProblem,
  quotaNeeds,
  suEstimate,
  type QuotaSource,
  type SuEstimate,
} from "./quota";
import { nameCollisions } from "./nameCollisions";
import type { Student } from "./roster";
import { expiryEnd, stackName, studentConfig, type WorkshopSettings } from "./settings";

export interface PlanReport {
  /** Bad input: exit code 2, nothing created. */
  problems: string[];
  /** Accepted, but worth a look before the class: the stack's own warnings, placeholders, budgets. */
  warnings: string[];
  notes: string[];
  quotaTable?: string[][];
  su: SuEstimate;
  /** Students without a stack yet: what the quota must still hold. */
  newStudents: number;
}

/**
 * Runs every student's config through parseStackConfig. The same problem for many students is one
 * line naming them (a bad shared setting shows once, not forty times).
 */
export function validateStudents(
  settings: WorkshopSettings,
  students: readonly Student[],
  secrets: Record<string, string>,
  now: Date,
): string[] {
  const byMessage = new Map<string, string[]>();
  students.forEach((student, row) => {
    try {
      parseStackConfig(
        { ...studentConfig(settings, student, row), ...secrets },
        { stackName: stackName(settings, student.id), now },
      );
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      for (const p of e.problems) byMessage.set(p, [...(byMessage.get(p) ?? []), student.id]);
    }
  });
  return [...byMessage].map(([message, ids]) => {
    const who =
      ids.length === students.length
        ? "every student"
        : ids.length > 5
          ? `students ${ids.slice(0, 5).join(", ")} and ${ids.length - 5} more`
          : `student${ids.length > 1 ? "s" : ""} ${ids.join(", ")}`;
    return `${settings.file}: ${message} (${who})`;
  });
}

/** Let's Encrypt's new certificates per registered domain per week; all of jetstream-cloud.org shares it. */
export const letsEncryptWeeklyCertificates = 50;

const zeroDigest = `@sha256:${"0".repeat(64)}`;
// RFC 5737's documentation ranges, which workshop.example.yaml uses.
const documentationRanges = [/^192\.0\.2\./, /^198\.51\.100\./, /^203\.0\.113\./];
const exampleAllocation = /^(tra|exa)0{6}$/;
const farAwayDays = 60;

/**
 * What `plan` warns about without refusing: every distinct warning the stacks' own validation gives
 * (tls off, the staging CA, no acmeEmail...), values left from workshop.example.yaml, an expiry far
 * away, and the class's Let's Encrypt certificates against the weekly budget that every
 * jetstream-cloud.org name shares. Pure.
 */
export function planWarnings(input: {
  settings: WorkshopSettings;
  students: readonly Student[];
  secrets: Record<string, string>;
  now: Date;
  newStudents: number;
}): string[] {
  const { settings, students, now } = input;
  const warnings = new Set<string>();
  let letsencrypt = false;
  let acmeEmail = false;
  students.forEach((student, row) => {
    try {
      const cfg = parseStackConfig(
        { ...studentConfig(settings, student, row), ...input.secrets },
        { stackName: stackName(settings, student.id), now },
      );
      for (const w of cfg.warnings) warnings.add(`${settings.file}: ${w}`);
      if (cfg.target === "jetstream" && isPubliclyTrusted(cfg.tls.mode, cfg.tls.acmeCa)) {
        letsencrypt = true;
        acmeEmail = cfg.tls.acmeEmail !== undefined;
      }
    } catch (e) {
      // Reported as problems by validateStudents.
      if (!(e instanceof InputError)) throw e;
    }
  });
  const out = [...warnings];
  const shared = settings.shared;
  const placeholder = (key: string, why: string) =>
    out.push(
      `${settings.file}: [${key}] is ${shared[key]}, ${why} left from workshop.example.yaml: set your own`,
    );
  if (shared.image?.endsWith(zeroDigest)) placeholder("image", "the all-zero digest");
  for (const key of ["sshCidr", "notebookCidr"]) {
    if (shared[key] !== undefined && documentationRanges.some((r) => r.test(shared[key]))) {
      placeholder(key, "a documentation address (RFC 5737)");
    }
  }
  if (shared.allocation !== undefined && exampleAllocation.test(shared.allocation)) {
    placeholder("allocation", "the example allocation");
  }
  const days = Math.ceil((expiryEnd(settings.expires).getTime() - now.getTime()) / 86_400_000);
  if (settings.target === "jetstream" && days > farAwayDays) {
    out.push(
      `${settings.file}: [expires] is ${settings.expires}, ${days} days away: every VM is charged each hour until reap removes it; is that the workshop's last day?`,
    );
  }
  if (letsencrypt && input.newStudents > 0) {
    const share = Math.round((100 * input.newStudents) / letsEncryptWeeklyCertificates);
    out.push(
      `Let's Encrypt: ${input.newStudents} new certificate(s), ${share}% of the ${letsEncryptWeeklyCertificates} per week that every *.jetstream-cloud.org name shares (it is not on the Public Suffix List, so other Jetstream2 users spend the same budget)` +
        (acmeEmail
          ? "; acmeEmail lets the proxies fall back to ZeroSSL when it runs out."
          : ": set acmeEmail so the proxies fall back to ZeroSSL when it runs out, and rehearse on the staging CA (acmeCa)."),
    );
  }
  return out;
}

/**
 * SUs per student above which plan asks whether the total is meant: three weeks of an m3.small
 * around the clock, five days of an m3.medium, under three of an m3.large. A class that meets a few
 * hours a day for a few days needs a fraction of it. (The allocation's remaining balance is kept by
 * ACCESS, not OpenStack, so plan cannot compare with it.)
 */
export const suPerStudentWarning = 1000;

/** The warning for an SU total out of proportion with a workshop, or undefined. Pure. */
export function suWarning(settings: WorkshopSettings, su: SuEstimate): string | undefined {
  if (settings.target !== "jetstream" || su.students === 0) return undefined;
  const perStudent = su.su / su.students;
  if (perStudent <= suPerStudentWarning) return undefined;
  return `SU estimate: ${su.su} SUs, ${Math.round(perStudent)} per student (${settings.flavor.name}, ${su.suPerHour} SU/hour, for ${su.hours} hours until the end of ${settings.expires}), more than the ${suPerStudentWarning} per student a workshop rarely needs. Check that the allocation holds them; set expires to the last day of the class, choose a smaller flavor, or \`workshop pause\` between sessions (a shelved VM costs 0 SUs).`;
}

export async function plan(input: {
  settings: WorkshopSettings;
  students: readonly Student[];
  secrets: Record<string, string>;
  now: Date;
  /** Stacks that already exist: their VMs are already counted in the quota's "in use". */
  existingStacks: ReadonlySet<string>;
  /** Undefined skips the quota check (target local, or --skip-quota). */
  quotaSource?: QuotaSource;
  /** Problems found before the plan (such as missing credentials), reported with the rest. */
  earlierProblems?: string[];
}): Promise<PlanReport> {
  const { settings, students, now } = input;
  const problems = [
    ...(input.earlierProblems ?? []),
    ...validateStudents(settings, students, input.secrets, now),
  ];
  const notes: string[] = [];
  const newStudents = students.filter(
    (s) => !input.existingStacks.has(stackName(settings, s.id)),
  ).length;
  const su = suEstimate(settings.flavor, students.length, now, expiryEnd(settings.expires));
  let quotaTable: string[][] | undefined;
  if (settings.target === "local") {
    notes.push(
      "target local: no allocation quota applies; the notebooks run on this machine's Docker engine",
    );
  } else if (!input.quotaSource) {
    notes.push(
      "quota check skipped (--skip-quota): Jetstream2 will refuse what does not fit, mid-way",
    );
  } else {
    try {
      const quota = await input.quotaSource.fetch({
        network: settings.shared.network ?? configDefaults.network,
      });
      const missingNetwork = networkProblem(quota.network, settings.file);
      if (missingNetwork !== undefined) problems.push(missingNetwork);
      // Behind HTTPS with the instructor's stack, every student shares its security group.
      const sharedSecurityGroup =
        settings.shared.imageStack !== undefined && settings.shared.tls !== "off";
      const lines = checkQuota(
        quotaNeeds(newStudents, settings.flavor, { sharedSecurityGroup }),
        quota,
      );
      const described = describeQuota(lines, settings.flavor);
      quotaTable = described.table;
      problems.push(...described.problems);
      notes.push(
        `quota of ${input.quotaSource.description}: ${newStudents} new student(s), ${students.length - newStudents} already have a stack`,
      );
    } catch (e) {
      problems.push(`quota: ${(e as Error).message}`);
    }
  }
  const warnings = [
    ...planWarnings({ ...input, newStudents }),
    ...nameCollisions(settings, students, input.existingStacks),
    ...[suWarning(settings, su)].filter((w): w is string => w !== undefined),
  ];
  return { problems, warnings, notes, quotaTable, su, newStudents };
}
