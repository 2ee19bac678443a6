/**
 * What a stack's update history says about its power: since when a paused stack has been shelved.
 * Pure, so it is tested with tables; the driver reads the history.
 */

/** One update as the backend's history records it. */
export interface UpdateRecord {
  result: string;
  /** ISO time the update ended (or started, when it has not ended). */
  time?: string;
  /** The stack's `power` setting that update ran with; undefined when it was not set. */
  power?: string;
  /** `update`, `destroy`, `preview`, `refresh`...; undefined when the backend does not say. */
  kind?: string;
  /** The stack's `flavor` setting that operation ran with, if set. */
  flavor?: string;
}

/**
 * The time of the update that shelved the stack: the oldest of the unbroken run of updates, newest
 * first, that ran with `power: shelved` (a later plain up keeps the setting and so the run).
 * Undefined when the history read does not reach back to it or has no time.
 * @param complete Whether `newestFirst` is the stack's whole history (fewer entries than asked for).
 */
export function pausedSince(
  newestFirst: readonly UpdateRecord[],
  complete: boolean,
): string | undefined {
  let since: string | undefined;
  let broken = false;
  for (const u of newestFirst) {
    if (u.power !== "shelved") {
      broken = true;
      break;
    }
    if (u.result === "succeeded") since = u.time;
  }
  return broken || complete ? since : undefined;
}
