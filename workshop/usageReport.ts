/**
 * `workshop usage`: the SUs each student's stack has spent so far, read from the stack's own update
 * history (usage.ts does the arithmetic), beside plan's forecast for the rest of the workshop.
 * Only stacks the backend still has are counted: `down` removes a stack with its history.
 */
import type { StackDriver } from "./driver";
import type { UpdateRecord } from "./power";
import { suEstimate, type SuEstimate } from "./quota";
import type { Student } from "./roster";
import { expiryEnd, stackName, type WorkshopSettings } from "./settings";
import { stackUsage, type HistoryEntry } from "./usage";

/** Updates read per stack; a workshop's stack has a few dozen. */
export const historyLimit = 1000;

export interface StudentUsage {
  student: string;
  stack: string;
  exists: boolean;
  su: number;
  activeHours: number;
  shelvedHours: number;
  /** The state the last successful update left the VM in, or "destroyed", or "-" without a stack. */
  state: string;
  /** Flavors the rate table does not know: their hours are counted as 0 SU. */
  unknownFlavors: string[];
  /** The history read was cut at {@link historyLimit}: the oldest updates are not counted. */
  truncated: boolean;
}

export interface UsageReport {
  students: StudentUsage[];
  totalSu: number;
  /** What plan forecasts from now to the end of the expiry day, every VM active. */
  forecast: SuEstimate;
}

/** A backend's update records as the arithmetic reads them; records without a time are skipped. */
export function historyEntries(records: readonly UpdateRecord[]): HistoryEntry[] {
  return records
    .filter((r) => r.time !== undefined)
    .map((r) => ({
      kind: r.kind ?? "update",
      result: r.result,
      endTime: new Date(r.time as string),
      config: {
        ...(r.flavor !== undefined ? { flavor: r.flavor } : {}),
        ...(r.power !== undefined ? { power: r.power } : {}),
      },
    }));
}

/** Rounded for people and scripts alike: SUs and hours to two decimals. */
function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * One student's usage from the stack's history, newest first as the backend gives it.
 * @param defaultFlavor The flavor of updates that ran without a `flavor` setting.
 */
export function studentUsage(
  student: string,
  stack: string,
  records: readonly UpdateRecord[] | undefined,
  now: Date,
  defaultFlavor: string,
): StudentUsage {
  if (records === undefined) {
    return {
      student,
      stack,
      exists: false,
      su: 0,
      activeHours: 0,
      shelvedHours: 0,
      state: "-",
      unknownFlavors: [],
      truncated: false,
    };
  }
  const entries = historyEntries(records).map((e) => ({
    ...e,
    config: { flavor: defaultFlavor, ...e.config },
  }));
  const u = stackUsage(entries, now);
  const last = u.periods.at(-1);
  return {
    student,
    stack,
    exists: true,
    su: round(u.su),
    activeHours: round(u.hours.active),
    shelvedHours: round(u.hours.shelved),
    state: u.live ? (last?.state ?? "active") : u.periods.length > 0 ? "destroyed" : "-",
    unknownFlavors: u.unknownFlavors,
    truncated: records.length >= historyLimit,
  };
}

/**
 * Reads every selected student's history and adds it up. Stacks are selected one at a time (a
 * select must not overlap another, see driver.ts).
 */
export async function readUsage(
  driver: StackDriver,
  settings: WorkshopSettings,
  students: readonly Student[],
  now: Date,
): Promise<UsageReport> {
  const readHistory = driver.updates?.bind(driver);
  if (!readHistory) throw new Error("this backend driver cannot read a stack's update history");
  const existing = new Set((await driver.list()).map((s) => s.name));
  const rows: StudentUsage[] = [];
  for (const s of students) {
    const stack = stackName(settings, s.id);
    const there = existing.has(stack) && (await driver.select(stack, { create: false }));
    const records = there ? await readHistory(stack, historyLimit) : undefined;
    rows.push(studentUsage(s.id, stack, records, now, settings.flavor.name));
  }
  return {
    students: rows,
    totalSu: round(rows.reduce((n, r) => n + r.su, 0)),
    forecast: suEstimate(settings.flavor, students.length, now, expiryEnd(settings.expires)),
  };
}

/**
 * The report as the terminal shows it: a table (rows for formatTable), then the lines with the
 * total, plan's forecast beside it, and anything not counted.
 */
export function usageText(
  report: UsageReport,
  expires: string,
): { table: string[][]; lines: string[] } {
  const table = [
    ["student", "stack", "SUs", "active h", "shelved h", "now"],
    ...report.students.map((r) => [
      r.student,
      r.stack,
      String(r.su),
      String(r.activeHours),
      String(r.shelvedHours),
      r.state,
    ]),
  ];
  const f = report.forecast;
  const lines = [
    `spent so far: ${report.totalSu} SUs (${report.students.filter((r) => r.exists).length} of ${report.students.length} students have a stack)`,
    `plan's forecast for the rest: ${f.suPerHour} SU/hour x ${f.students} students x ${f.hours} hours until the end of ${expires} = ${f.su} SUs (every VM active)`,
    `spent + forecast: ${Math.round((report.totalSu + f.su) * 100) / 100} SUs at most; shelved hours cost nothing`,
  ];
  for (const r of report.students) {
    if (r.unknownFlavors.length > 0) {
      lines.push(
        `  ${r.student}: flavor ${r.unknownFlavors.join(", ")} is not in the rate table; those hours count 0 SU`,
      );
    }
    if (r.truncated) {
      lines.push(
        `  ${r.student}: only the last ${historyLimit} updates were read; older hours are not counted`,
      );
    }
  }
  return { table, lines };
}
