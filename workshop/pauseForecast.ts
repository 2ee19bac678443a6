/**
 * What `plan` says about pausing between sessions: how long a pause of the class takes, and what it
 * saves against leaving every VM active until the end of the expires day. Pure; the figures come
 * from usage.ts's pauseSaving and Jetstream2's published charge rates.
 */
import { findFlavor } from "../lib/flavors";
import { sessionsAhead, type Schedule } from "./schedule";
import { expiryEnd, type WorkshopSettings } from "./settings";
import { chargeFraction, pauseSaving } from "./usage";

/** Jetstream2's documented upper bound for shelving one instance. */
export const shelveMinutes = 15;
/**
 * What a session costs beyond its own hours: the resume is started before class (30 minutes) and
 * the VM is charged until its shelving ends (up to 15 minutes).
 */
export const marginMinutesPerSession = 30 + shelveMinutes;
/** Without a schedule, the figure assumes the class meets 8 hours a day (paused 16). */
const assumedHoursPerDay = 8;

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * @param input.hours Hours until the end of the expires day (plan's SU estimate).
 * @param input.sessions The schedule's sessions still ahead and their hours; none: the assumption.
 */
export function pauseForecast(input: {
  students: number;
  flavor: string;
  hours: number;
  concurrency: number;
  sessions?: { count: number; hours: number };
}): string[] {
  const { students, hours, concurrency } = input;
  const rounds = Math.max(1, Math.ceil(students / concurrency));
  const time = `pause and resume: Jetstream2 shelving can take up to ~${shelveMinutes} minutes per instance, in parallel, and unshelving minutes more before the notebook boots; ${concurrency} students at a time (concurrency), so a pause of ${students} students takes up to about ${rounds * shelveMinutes} minutes (${rounds} round${rounds > 1 ? "s" : ""})${rounds > 1 ? "; a higher --concurrency shortens it" : ""}`;
  const rate = findFlavor(input.flavor)?.suPerHour;
  if (rate === undefined || hours <= 0) return [time];
  const activeHours = input.sessions
    ? Math.min(hours, input.sessions.hours + (input.sessions.count * marginMinutesPerSession) / 60)
    : (hours * assumedHoursPerDay) / 24;
  const saving = pauseSaving({
    students,
    flavor: input.flavor,
    days: hours / 24,
    activeHoursPerDay: activeHours / (hours / 24),
  });
  const how = input.sessions
    ? `with the schedule's ${input.sessions.count} sessions still ahead (${Number(input.sessions.hours.toFixed(2))} hours, plus ${marginMinutesPerSession} minutes each to resume before and shelve after)`
    : `paused ${24 - assumedHoursPerDay} h a day (${assumedHoursPerDay}-hour sessions)`;
  const rates = (["shelved", "stopped", "suspended", "active"] as const)
    .map((s) => `${s} ${chargeFraction[s] * 100}%`)
    .join(", ");
  return [
    time,
    `pausing saves: ${how}, ${students} students cost ${count(saving.paused)} SUs instead of ${count(saving.alwaysActive)} active for ${Number(hours.toFixed(2))} hours (${count(saving.saved)} saved); Jetstream2 charges ${rates} of ${rate} SUs/hour${input.sessions ? "" : "; a schedule in the settings makes this exact"}`,
  ];
}

const utc = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");
/** Sessions listed in full; a term's worth is summarised. */
const listedSessions = 10;

/**
 * The schedule's sessions still ahead in UTC, the time cron and GitHub Actions schedules use.
 */
export function scheduleLine(schedule: Schedule, now: Date): string {
  const ahead = schedule.sessions.filter((s) => s.end > now);
  if (ahead.length === 0) {
    return `schedule (${schedule.timeZone}): every session is over; pause the class until \`down\``;
  }
  const shown = ahead.slice(0, listedSessions).map((s) => {
    const [start, end] = [utc(s.start), utc(s.end)];
    return `${start}-${end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end}`;
  });
  const more = ahead.length > listedSessions ? ` and ${ahead.length - listedSessions} more` : "";
  return `schedule (${schedule.timeZone}): resume before, pause after each session; in UTC: ${shown.join(", ")}${more}`;
}

/** Every line `plan` prints about pausing, for a jetstream workshop of `students`. */
export function pausePlanLines(
  settings: WorkshopSettings,
  students: number,
  now: Date,
  concurrency: number,
): string[] {
  const hours = Math.max(
    0,
    Math.ceil((expiryEnd(settings.expires).getTime() - now.getTime()) / 3_600_000),
  );
  return [
    ...pauseForecast({
      students,
      flavor: settings.flavor.name,
      hours,
      concurrency,
      sessions: settings.schedule && sessionsAhead(settings.schedule, now),
    }),
    ...(settings.schedule ? [scheduleLine(settings.schedule, now)] : []),
  ];
}
