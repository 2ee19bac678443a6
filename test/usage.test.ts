import { pauseSaving, stackUsage, type HistoryEntry } from "../workshop/usage";

const at = (iso: string): Date => new Date(iso);
const up = (iso: string, config: Record<string, string> = {}): HistoryEntry => ({
  kind: "update",
  result: "succeeded",
  endTime: at(iso),
  config: { flavor: "m3.small", ...config },
});

describe("stackUsage", () => {
  // Worked by hand: m3.small is 2 SU/h.
  //   day 1 09:00 created, active until 17:00      8 h x 2 = 16
  //   17:00 shelved until 20:00                     3 h x 0 =  0
  //   20:00 a resume that failed: it may have unshelved the VM
  //         (never under-counted), until day 2 09:00 13 h x 2 = 26
  //   day 2 09:00 resumed, active until 12:00       3 h x 2 =  6
  //   12:00 resized to m3.quad (4 SU/h) until 13:30 1.5 h x 4 = 6
  //   13:30 destroyed                                        ----
  //                                                          54
  const history: HistoryEntry[] = [
    up("2026-03-02T09:00:00Z"),
    { kind: "preview", result: "succeeded", endTime: at("2026-03-02T10:00:00Z"), config: {} },
    up("2026-03-02T17:00:00Z", { power: "shelved" }),
    // A failed resume: charged as if it had unshelved the VM.
    {
      kind: "update",
      result: "failed",
      endTime: at("2026-03-02T20:00:00Z"),
      config: { flavor: "m3.small", power: "active" },
    },
    up("2026-03-03T09:00:00Z", { power: "active" }),
    up("2026-03-03T12:00:00Z", { flavor: "m3.quad" }),
    { kind: "destroy", result: "succeeded", endTime: at("2026-03-03T13:30:00Z"), config: {} },
  ];

  it("charges each period by its state and flavor, matching the hand-computed total", () => {
    const u = stackUsage(history, at("2026-03-10T00:00:00Z"));
    expect(u.su).toBeCloseTo(54, 9);
    expect(u.hours).toEqual({ active: 25.5, shelved: 3, stopped: 0, suspended: 0 });
    expect(u.live).toBe(false);
    expect(u.periods.map((p) => [p.state, p.flavor, p.hours, p.su])).toEqual([
      ["active", "m3.small", 8, 16],
      ["shelved", "m3.small", 3, 0],
      ["active", "m3.small", 13, 26],
      ["active", "m3.small", 3, 6],
      ["active", "m3.quad", 1.5, 6],
    ]);
  });

  it("counts a live stack up to now, and nothing after now", () => {
    const u = stackUsage(history.slice(0, 3), at("2026-03-02T18:00:00Z"));
    expect(u.su).toBeCloseTo(16, 9);
    expect(u.live).toBe(true);
    expect(stackUsage(history, at("2026-03-02T13:00:00Z")).su).toBeCloseTo(8, 9);
  });

  it("charges nothing before the first successful update, and names an unknown flavor", () => {
    expect(stackUsage([], at("2026-03-02T18:00:00Z")).su).toBe(0);
    const u = stackUsage(
      [up("2026-03-02T09:00:00Z", { flavor: "g3.huge" })],
      at("2026-03-02T10:00:00Z"),
    );
    expect(u.su).toBe(0);
    expect(u.unknownFlavors).toEqual(["g3.huge"]);
  });
});

describe("pauseSaving", () => {
  it("40 m3.small students, 3 days, 8 active hours a day: 1,920 SU instead of 5,760", () => {
    expect(
      pauseSaving({ students: 40, flavor: "m3.small", days: 3, activeHoursPerDay: 8 }),
    ).toEqual({
      alwaysActive: 5760,
      paused: 1920,
      saved: 3840,
    });
  });

  it("refuses a flavor it cannot price", () => {
    expect(() => pauseSaving({ students: 1, flavor: "x", days: 1, activeHoursPerDay: 1 })).toThrow(
      "unknown flavor x",
    );
  });
});

describe("histories that did not go to plan: the bill is never under-counted", () => {
  const h = (result: string, iso: string, power?: string): HistoryEntry => ({
    kind: "update",
    result,
    endTime: new Date(iso),
    config: { flavor: "m3.small", ...(power ? { power } : {}) },
  });

  test("a VM made by a first up that failed (its health check timed out) is charged", () => {
    const u = stackUsage([h("failed", "2026-11-28T09:00:00Z")], new Date("2026-11-28T19:00:00Z"));
    expect(u.hours.active).toBe(10);
    expect(u.su).toBe(20);
  });

  test("a resume that unshelved the VM but failed its health check is charged from then", () => {
    const u = stackUsage(
      [
        h("succeeded", "2026-11-28T08:00:00Z"),
        h("succeeded", "2026-11-28T09:00:00Z", "shelved"),
        h("failed", "2026-11-28T10:00:00Z", "active"),
      ],
      new Date("2026-11-28T20:00:00Z"),
    );
    expect(u.hours).toMatchObject({ active: 11, shelved: 1 });
  });

  test("a pause that failed is not taken as shelved: the VM may still run", () => {
    const u = stackUsage(
      [h("succeeded", "2026-11-28T08:00:00Z"), h("failed", "2026-11-28T09:00:00Z", "shelved")],
      new Date("2026-11-28T10:00:00Z"),
    );
    expect(u.hours).toMatchObject({ active: 2, shelved: 0 });
  });
});
