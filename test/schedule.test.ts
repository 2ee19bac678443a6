import { parseSchedule, sessionsAhead } from "../workshop/schedule";

const end = new Date("2030-06-30T23:59:59.999Z");
const ok = (raw: unknown) => {
  const r = parseSchedule(raw, { expiresEnd: end, expires: "2030-06-30" });
  expect(r.problems).toEqual([]);
  return r.schedule!;
};
const problems = (raw: unknown) =>
  parseSchedule(raw, { expiresEnd: end, expires: "2030-06-30" }).problems;

describe("parseSchedule", () => {
  test("a list of sessions in local time, turned into instants with the zone's offset", () => {
    const s = ok({
      timeZone: "America/New_York",
      sessions: [
        { start: "2030-06-28 09:00", end: "2030-06-28 17:00" },
        { start: "2030-06-29 09:00", end: "2030-06-29 12:30" },
      ],
    });
    expect(s.sessions.map((x) => [x.start.toISOString(), x.end.toISOString()])).toEqual([
      ["2030-06-28T13:00:00.000Z", "2030-06-28T21:00:00.000Z"],
      ["2030-06-29T13:00:00.000Z", "2030-06-29T16:30:00.000Z"],
    ]);
  });

  test("days with one start and end time; winter and summer offsets differ", () => {
    const s = parseSchedule(
      {
        timeZone: "Europe/Berlin",
        days: ["2030-01-15", "2030-06-15"],
        start: "09:00",
        end: "17:00",
      },
      { expiresEnd: end, expires: "2030-06-30" },
    ).schedule!;
    expect(s.sessions.map((x) => x.start.toISOString())).toEqual([
      "2030-01-15T08:00:00.000Z",
      "2030-06-15T07:00:00.000Z",
    ]);
  });

  test.each([
    [
      "not a mapping",
      "9-5",
      [
        "[schedule] must be a mapping with timeZone and sessions (or days, start and end); see docs/workshop.md",
      ],
    ],
    [
      "no time zone",
      { sessions: [{ start: "2030-06-28 09:00", end: "2030-06-28 17:00" }] },
      ['[schedule.timeZone] is required: an IANA time zone such as "America/New_York"'],
    ],
    [
      "an unknown time zone",
      { timeZone: "Mars/Olympus", days: ["2030-06-28"], start: "09:00", end: "17:00" },
      [
        '[schedule.timeZone] is not a time zone this machine knows, got "Mars/Olympus"; use an IANA name such as "America/New_York"',
      ],
    ],
    [
      "an unknown key",
      { timeZone: "UTC", days: ["2030-06-28"], start: "09:00", end: "17:00", zone: "x" },
      ["[schedule.zone] is not a schedule setting; use timeZone, sessions, days, start and end"],
    ],
    [
      "both forms",
      { timeZone: "UTC", sessions: [], days: ["2030-06-28"], start: "09:00", end: "17:00" },
      ["[schedule] has both sessions and days: use one (sessions for different times each day)"],
    ],
    [
      "a bad time",
      { timeZone: "UTC", days: ["2030-06-28"], start: "9am", end: "17:00" },
      ['[schedule.start] must be a time as HH:MM (24-hour), such as "09:00", got "9am"'],
    ],
    [
      "a bad date",
      { timeZone: "UTC", days: ["2030-02-30"], start: "09:00", end: "17:00" },
      ['[schedule.days[0]] must be a date as YYYY-MM-DD, such as "2030-06-28", got "2030-02-30"'],
    ],
    [
      "a session ending before it starts",
      { timeZone: "UTC", sessions: [{ start: "2030-06-28 17:00", end: "2030-06-28 09:00" }] },
      ["[schedule.sessions[0]] ends (2030-06-28 09:00) before it starts (2030-06-28 17:00)"],
    ],
    [
      "overlapping sessions",
      {
        timeZone: "UTC",
        sessions: [
          { start: "2030-06-28 09:00", end: "2030-06-28 17:00" },
          { start: "2030-06-28 16:00", end: "2030-06-28 18:00" },
        ],
      },
      [
        "[schedule.sessions[1]] starts before the session before it ends; list sessions in order, without overlap",
      ],
    ],
    [
      "a session after the expires day",
      { timeZone: "UTC", sessions: [{ start: "2030-07-01 09:00", end: "2030-07-01 17:00" }] },
      [
        "[schedule.sessions[0]] ends after the expires day (2030-06-30, UTC), when reap removes the notebooks: move expires or the session",
      ],
    ],
    [
      "a session without an end",
      { timeZone: "UTC", sessions: [{ start: "2030-06-28 09:00" }] },
      [
        '[schedule.sessions[0].end] must be a local time as "YYYY-MM-DD HH:MM", such as "2030-06-28 17:00", got nothing',
      ],
    ],
  ])("%s", (_what, raw, expected) => {
    expect(problems(raw)).toEqual(expected);
  });
});

describe("sessionsAhead", () => {
  const s = ok({
    timeZone: "UTC",
    sessions: [
      { start: "2030-06-28 09:00", end: "2030-06-28 17:00" },
      { start: "2030-06-29 09:00", end: "2030-06-29 17:00" },
      { start: "2030-06-30 09:00", end: "2030-06-30 13:00" },
    ],
  });
  test("counts what is left from now: a session under way counts its remaining hours", () => {
    expect(sessionsAhead(s, new Date("2030-06-27T00:00:00Z"))).toEqual({ count: 3, hours: 20 });
    expect(sessionsAhead(s, new Date("2030-06-29T12:00:00Z"))).toEqual({ count: 2, hours: 9 });
    expect(sessionsAhead(s, new Date("2030-07-01T00:00:00Z"))).toEqual({ count: 0, hours: 0 });
  });
});
