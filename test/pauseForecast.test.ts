import { pauseForecast } from "../workshop/pauseForecast";

describe("pauseForecast", () => {
  test("the issue's class: 3 days, 40 m3.small students, paused 16 h a day", () => {
    const lines = pauseForecast({ students: 40, flavor: "m3.small", hours: 72, concurrency: 8 });
    expect(lines).toEqual([
      "pause and resume: Jetstream2 shelving can take up to ~15 minutes per instance, in parallel, and unshelving minutes more before the notebook boots; 8 students at a time (concurrency), so a pause of 40 students takes up to about 75 minutes (5 rounds); a higher --concurrency shortens it",
      "pausing saves: paused 16 h a day (8-hour sessions), 40 students cost 1,920 SUs instead of 5,760 active for 72 hours (3,840 saved); Jetstream2 charges shelved 0%, stopped 50%, suspended 75%, active 100% of 2 SUs/hour; a schedule in the settings makes this exact",
    ]);
  });

  test("with a schedule: its sessions' hours, plus resuming before and shelving after each", () => {
    const lines = pauseForecast({
      students: 40,
      flavor: "m3.small",
      hours: 72,
      concurrency: 40,
      sessions: { count: 3, hours: 24 },
    });
    expect(lines[0]).toContain(
      "40 students at a time (concurrency), so a pause of 40 students takes up to about 15 minutes (1 round)",
    );
    // 40 x 2 x (24 + 3 x 0.75) = 2,100
    expect(lines[1]).toBe(
      "pausing saves: with the schedule's 3 sessions still ahead (24 hours, plus 45 minutes each to resume before and shelve after), 40 students cost 2,100 SUs instead of 5,760 active for 72 hours (3,660 saved); Jetstream2 charges shelved 0%, stopped 50%, suspended 75%, active 100% of 2 SUs/hour",
    );
  });

  test("a schedule with nothing left ahead costs nothing more", () => {
    const lines = pauseForecast({
      students: 2,
      flavor: "m3.quad",
      hours: 10,
      concurrency: 8,
      sessions: { count: 0, hours: 0 },
    });
    expect(lines[1]).toContain("2 students cost 0 SUs instead of 80 active for 10 hours");
  });
});
