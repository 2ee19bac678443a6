/**
 * Service units: what a workshop has spent so far, read from each stack's own update history, and
 * what pausing between sessions saves. Jetstream2 charges an instance by its state (its published SU
 * rules): active 100%, suspended 75%, stopped (shut off) 50%, shelved 0%. A stack's state changes only
 * through its updates (`workshop pause` and `resume` set the `power` config and run `pulumi up`), so
 * the history is the record: each successful update sets the state its config named, a successful
 * destroy ends the charge.
 */
import { findFlavor } from "../lib/flavors";

/** The power states a student's VM can be put in through the stack's `power` setting. */
export type PowerState = "active" | "shelved";

/** The share of a flavor's hourly SU rate Jetstream2 charges in each instance state. */
export const chargeFraction = {
  active: 1,
  suspended: 0.75,
  stopped: 0.5,
  shelved: 0,
} as const;

/** One entry of `pulumi stack history`, reduced to what the charge depends on. */
export interface HistoryEntry {
  kind: string;
  result: string;
  /** When the operation finished: the instance is in its new state from then on. */
  endTime: Date;
  /** The stack's config for that operation, by short key (`flavor`, `power`). */
  config: Record<string, string>;
}

export interface UsagePeriod {
  from: Date;
  to: Date;
  state: keyof typeof chargeFraction;
  flavor: string;
  hours: number;
  su: number;
}

export interface StackUsage {
  su: number;
  /** Hours in each state, for the report. */
  hours: Record<keyof typeof chargeFraction, number>;
  periods: UsagePeriod[];
  /** False once a destroy succeeded: nothing is charged after it. */
  live: boolean;
  /** Flavors the table does not know; their periods count 0 SU and are named here. */
  unknownFlavors: string[];
}

const hour = 3_600_000;

/**
 * SUs a stack has spent up to `now`. Previews change nothing; a failed update that would start the
 * VM counts as having started it, one that would shelve it changes nothing; the time before the first
 * update is free (no instance yet).
 */
export function stackUsage(history: readonly HistoryEntry[], now: Date): StackUsage {
  const events = history
    .filter((h) => h.kind === "update" || (h.kind === "destroy" && h.result === "succeeded"))
    .slice()
    .sort((a, b) => a.endTime.getTime() - b.endTime.getTime());
  const usage: StackUsage = {
    su: 0,
    hours: { active: 0, suspended: 0, stopped: 0, shelved: 0 },
    periods: [],
    live: false,
    unknownFlavors: [],
  };
  let current: { since: Date; state: PowerState; flavor: string } | undefined;
  const close = (to: Date): void => {
    if (!current || to <= current.since) return;
    const hours = (to.getTime() - current.since.getTime()) / hour;
    const flavor = findFlavor(current.flavor);
    if (!flavor && !usage.unknownFlavors.includes(current.flavor)) {
      usage.unknownFlavors.push(current.flavor);
    }
    const su = hours * (flavor?.suPerHour ?? 0) * chargeFraction[current.state];
    usage.periods.push({
      from: current.since,
      to,
      state: current.state,
      flavor: current.flavor,
      hours,
      su,
    });
    usage.hours[current.state] += hours;
    usage.su += su;
  };
  for (const e of events) {
    if (e.endTime > now) break;
    if (e.result !== "succeeded") {
      // A failed update may have done what it set out to do before it failed (the VM made or
      // unshelved, then the health check timed out): one that starts a VM counts as having done so,
      // one that shelves it does not, so the bill is never under-counted.
      if (e.config.power === "shelved" || (current && current.state === "active")) continue;
    }
    close(e.endTime);
    current =
      e.kind === "destroy"
        ? undefined
        : {
            since: e.endTime,
            state: e.config.power === "shelved" ? "shelved" : "active",
            flavor: e.config.flavor ?? "m3.small",
          };
  }
  close(now);
  usage.live = current !== undefined;
  return usage;
}

/**
 * What a workshop costs with its VMs active only during sessions and shelved in between, against
 * leaving them active throughout. Shelving is free, so the paused hours cost nothing.
 */
export function pauseSaving(opts: {
  students: number;
  flavor: string;
  days: number;
  activeHoursPerDay: number;
}): { alwaysActive: number; paused: number; saved: number } {
  const rate = findFlavor(opts.flavor)?.suPerHour;
  if (rate === undefined) throw new Error(`unknown flavor ${opts.flavor}`);
  const alwaysActive = opts.students * rate * 24 * opts.days;
  const paused = opts.students * rate * opts.activeHoursPerDay * opts.days;
  return { alwaysActive, paused, saved: alwaysActive - paused };
}
