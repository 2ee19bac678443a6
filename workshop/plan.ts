/**
 * `workshop plan`: everything that can be checked before anything is created. Each student's merged
 * config goes through the stack's own validation (parseStackConfig, the function index.ts runs), the
 * allocation's quota is compared with what the new stacks need, and the SU cost is estimated.
 */
import { parseStackConfig } from "../lib/config";
import { InputError } from "../lib/rules/problems";
import {
  checkQuota,
  describeQuota,
  quotaNeeds,
  suEstimate,
  type QuotaSource,
  type SuEstimate,
} from "./quota";
import type { Student } from "./roster";
import { expiryEnd, stackName, studentConfig, type WorkshopSettings } from "./settings";

export interface PlanReport {
  /** Bad input: exit code 2, nothing created. */
  problems: string[];
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

export async function plan(input: {
  settings: WorkshopSettings;
  students: readonly Student[];
  secrets: Record<string, string>;
  now: Date;
  /** Stacks that already exist: their VMs are already counted in the quota's "in use". */
  existingStacks: ReadonlySet<string>;
  /** Undefined skips the quota check (target local, or --skip-quota). */
  quotaSource?: QuotaSource;
}): Promise<PlanReport> {
  const { settings, students, now } = input;
  const problems = validateStudents(settings, students, input.secrets, now);
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
      const quota = await input.quotaSource.fetch();
      const lines = checkQuota(quotaNeeds(newStudents, settings.flavor), quota);
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
  return { problems, notes, quotaTable, su, newStudents };
}
