/**
 * `plan` on what pausing takes and saves, with and without the class's `schedule:` in workshop.yaml.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli } = ws;

/** workshop.yaml as the harness writes it, with a schedule block under it. */
const withSchedule = (block: string) => {
  const file = path.join(ws.dir, "workshop.yaml");
  fs.writeFileSync(file, `${fs.readFileSync(file, "utf8")}\n${block}\n`);
};

test("plan says what a pause takes and what it saves (3 students, 36 hours left)", async () => {
  const r = await cli(["plan", "--skip-quota"]);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toContain(
    "pause and resume: Jetstream2 shelving can take up to ~15 minutes per instance, in parallel",
  );
  // 3 x 2 SU x 36 h = 216 active; paused 16 h a day: a third of it.
  expect(r.stdout).toContain(
    "3 students cost 72 SUs instead of 216 active for 36 hours (144 saved)",
  );
});

test("a schedule makes the figure its sessions' hours", async () => {
  withSchedule(
    [
      "schedule:",
      "  timeZone: America/Chicago",
      "  days: [2030-06-29, 2030-06-30]",
      '  start: "09:00"',
      '  end: "13:00"',
    ].join("\n"),
  );
  // The clock is 2030-06-29 12:00 UTC = 07:00 in Chicago: both sessions are ahead, 4 h each.
  const r = await cli(["plan", "--skip-quota"]);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  // 3 x 2 x (8 + 2 x 0.75) = 57
  expect(r.stdout).toContain(
    "with the schedule's 2 sessions still ahead (8 hours, plus 45 minutes each to resume before and shelve after), 3 students cost 57 SUs instead of 216",
  );
  expect(r.stdout).toContain(
    "schedule (America/Chicago): resume before, pause after each session; in UTC: 2030-06-29 14:00-18:00, 2030-06-30 14:00-18:00",
  );
});

test("a bad schedule is a clear error before anything is created", async () => {
  withSchedule(["schedule:", "  timeZone: Central", "  days: [2030-06-29]"].join("\n"));
  const r = await cli(["plan", "--skip-quota"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    '[schedule.timeZone] is not a time zone this machine knows, got "Central"; use an IANA name such as "America/New_York"',
  );
  expect(ws.sim.stacks.size).toBe(0);
});
