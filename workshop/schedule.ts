/**
 * The class's session times (`schedule:` in workshop.yaml), in the local time of the place the class
 * meets. Outside them the VMs can be shelved (`workshop pause`, from cron or a GitHub Actions
 * schedule), and plan's SU figure counts only them. Two forms:
 *
 * ```yaml
 * schedule:                      # different times each day
 *   timeZone: America/New_York
 *   sessions:
 *     - { start: "2030-06-28 09:00", end: "2030-06-28 17:00" }
 * schedule:                      # the same times every class day
 *   timeZone: America/New_York
 *   days: [2030-06-28, 2030-06-29]
 *   start: "09:00"
 *   end: "17:00"
 * ```
 */

export interface Session {
  start: Date;
  end: Date;
  /** As written, for messages: "2030-06-28 09:00". */
  startText: string;
  endText: string;
}

export interface Schedule {
  /** IANA time zone the times are written in. */
  timeZone: string;
  /** In time order, without overlap. */
  sessions: Session[];
}

const keys = ["timeZone", "sessions", "days", "start", "end"];
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const timePattern = /^([01]\d|2[0-3]):([0-5]\d)$/;
const localPattern = /^(\d{4}-\d{2}-\d{2})[ T]([0-9]{2}:[0-9]{2})$/;
/** A year of daily sessions; more is a mistake, and each is converted with Intl. */
const maxSessions = 366;
const hour = 3_600_000;

function show(value: unknown): string {
  return value === undefined || value === null ? "nothing" : JSON.stringify(value);
}

/** [year, month, day] of a real calendar date, or undefined. */
function calendarDate(text: string): [number, number, number] | undefined {
  const m = datePattern.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const back = new Date(Date.UTC(y, mo - 1, d));
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? [y, mo, d] : undefined;
}

/** Minutes `zone` is ahead of UTC at `instant`. */
function offsetMinutes(zone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return Math.round((asUtc - Math.floor(instant / 60_000) * 60_000) / 60_000);
}

/**
 * The instant a local wall-clock time in `zone` names. Twice, because the offset at the guess can
 * differ from the offset at the answer near a daylight-saving change.
 */
export function localTime(date: [number, number, number], hhmm: string, zone: string): Date {
  const [h, min] = hhmm.split(":").map(Number);
  const wall = Date.UTC(date[0], date[1] - 1, date[2], h, min);
  let t = wall - offsetMinutes(zone, wall) * 60_000;
  t = wall - offsetMinutes(zone, t) * 60_000;
  return new Date(t);
}

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates the `schedule` setting. Every problem names its key, as `[schedule.sessions[1].end]`.
 * @param raw The parsed YAML value of `schedule`.
 * @param limits.expiresEnd The end of the expires day: a session after it would lose its notebooks.
 */
export function parseSchedule(
  raw: unknown,
  limits: { expiresEnd: Date; expires: string },
): { schedule?: Schedule; problems: string[] } {
  const problems: string[] = [];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      problems: [
        "[schedule] must be a mapping with timeZone and sessions (or days, start and end); see docs/workshop.md",
      ],
    };
  }
  const s = raw as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (!keys.includes(k)) {
      problems.push(
        `[schedule.${k.slice(0, 40)}] is not a schedule setting; use timeZone, sessions, days, start and end`,
      );
    }
  }
  const zone = s.timeZone;
  if (zone === undefined || zone === null) {
    problems.push('[schedule.timeZone] is required: an IANA time zone such as "America/New_York"');
  } else if (typeof zone !== "string" || !knownZone(zone)) {
    problems.push(
      `[schedule.timeZone] is not a time zone this machine knows, got ${show(zone)}; use an IANA name such as "America/New_York"`,
    );
  }
  if (s.sessions !== undefined && s.days !== undefined) {
    problems.push(
      "[schedule] has both sessions and days: use one (sessions for different times each day)",
    );
  }
  if (problems.length > 0) return { problems };
  const timeZone = zone as string;

  // Each entry: where it is written, its local start and end as text.
  const written: { at: string; start: unknown; end: unknown; startKey: string; endKey: string }[] =
    [];
  if (s.days !== undefined) {
    if (!Array.isArray(s.days) || s.days.length === 0) {
      problems.push(
        '[schedule.days] must be a list of dates, such as ["2030-06-28", "2030-06-29"]',
      );
    } else {
      for (const k of ["start", "end"]) {
        if (typeof s[k] !== "string" || !timePattern.test(s[k])) {
          problems.push(
            `[schedule.${k}] must be a time as HH:MM (24-hour), such as "${k === "start" ? "09:00" : "17:00"}", got ${show(s[k])}`,
          );
        }
      }
      s.days.forEach((d: unknown, i) => {
        if (typeof d !== "string" || calendarDate(d) === undefined) {
          problems.push(
            `[schedule.days[${i}]] must be a date as YYYY-MM-DD, such as "2030-06-28", got ${show(d)}`,
          );
        } else {
          written.push({
            at: `[schedule.days[${i}]]`,
            start: `${d} ${s.start as string}`,
            end: `${d} ${s.end as string}`,
            startKey: "[schedule.start]",
            endKey: "[schedule.end]",
          });
        }
      });
    }
  } else if (s.sessions !== undefined) {
    if (!Array.isArray(s.sessions) || s.sessions.length === 0) {
      problems.push(
        '[schedule.sessions] must be a list of { start: "YYYY-MM-DD HH:MM", end: "YYYY-MM-DD HH:MM" }',
      );
    } else {
      s.sessions.forEach((entry: unknown, i) => {
        const at = `[schedule.sessions[${i}]]`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
          problems.push(`${at} must be a mapping with start and end`);
          return;
        }
        const e = entry as Record<string, unknown>;
        written.push({
          at,
          start: e.start,
          end: e.end,
          startKey: `[schedule.sessions[${i}].start]`,
          endKey: `[schedule.sessions[${i}].end]`,
        });
      });
    }
  } else {
    problems.push("[schedule] needs sessions, or days with start and end; see docs/workshop.md");
  }
  if (problems.length > 0) return { problems };
  if (written.length > maxSessions) {
    return {
      problems: [`[schedule] has ${written.length} sessions; at most ${maxSessions}`],
    };
  }

  const sessions: Session[] = [];
  for (const w of written) {
    const parsed = (["start", "end"] as const).map((k) => {
      const value = w[k];
      const m = typeof value === "string" ? localPattern.exec(value) : null;
      const date = m ? calendarDate(m[1]) : undefined;
      if (!m || !date || !timePattern.test(m[2])) {
        problems.push(
          `${k === "start" ? w.startKey : w.endKey} must be a local time as "YYYY-MM-DD HH:MM", such as "2030-06-28 ${k === "start" ? "09:00" : "17:00"}", got ${show(value)}`,
        );
        return undefined;
      }
      return { text: `${m[1]} ${m[2]}`, at: localTime(date, m[2], timeZone) };
    });
    const [start, end] = parsed;
    if (!start || !end) continue;
    if (end.at <= start.at) {
      problems.push(`${w.at} ends (${end.text}) before it starts (${start.text})`);
      continue;
    }
    if (end.at.getTime() - start.at.getTime() > 24 * hour) {
      problems.push(`${w.at} lasts more than 24 hours; split it into one session per day`);
      continue;
    }
    const previous = sessions[sessions.length - 1];
    if (previous && start.at < previous.end) {
      problems.push(
        `${w.at} starts before the session before it ends; list sessions in order, without overlap`,
      );
      continue;
    }
    if (end.at > limits.expiresEnd) {
      problems.push(
        `${w.at} ends after the expires day (${limits.expires}, UTC), when reap removes the notebooks: move expires or the session`,
      );
      continue;
    }
    sessions.push({ start: start.at, end: end.at, startText: start.text, endText: end.text });
  }
  if (problems.length > 0) return { problems };
  return { schedule: { timeZone, sessions }, problems };
}

/** The sessions not over at `now`, and their hours from `now` on. */
export function sessionsAhead(schedule: Schedule, now: Date): { count: number; hours: number } {
  const ahead = schedule.sessions.filter((s) => s.end > now);
  const hours = ahead.reduce(
    (sum, s) => sum + (s.end.getTime() - Math.max(s.start.getTime(), now.getTime())) / hour,
    0,
  );
  return { count: ahead.length, hours };
}
