/**
 * Pause and resume through the orchestrator, with the simulated backend (a shelved stack's notebook
 * does not answer): the stacks' own `power` setting is what changes, through the up path.
 */
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { Orchestrator } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import type { Student } from "../workshop/roster";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { SimulatedBackend } from "./support/simulated-driver";
import { jetstreamSettings } from "./support/workshopFixtures";

const settings: WorkshopSettings = parseSettings(
  jetstreamSettings,
  path.join(os.tmpdir(), "workshop.yaml"),
);
const roster: Student[] = ["ada", "bob", "cy"].map((id, i) => ({ id, line: i + 2 }));
const powerKey = "jetstream-notebooks:power";

class Sink extends Writable {
  _write(_chunk: Buffer, _enc: string, done: () => void): void {
    done();
  }
}

let sim: SimulatedBackend;
let orch: Orchestrator;
beforeEach(async () => {
  sim = new SimulatedBackend();
  await sim.start();
  orch = new Orchestrator({
    driver: sim.driver,
    reporter: new PlainReporter(new Sink(), () => new Date("2030-06-01T00:00:00Z")),
    probeIntervalMs: 20,
    probeTimeoutMs: 300,
  });
});
afterEach(() => sim.stop());

const power = (id: string) => sim.stacks.get(`intro-${id}`)?.config[powerKey]?.value;
const configOf = (id: string) => JSON.stringify(sim.stacks.get(`intro-${id}`)?.config);

test("pause shelves every stack through pulumi up; resume starts them and probes each notebook", async () => {
  await orch.up(settings, roster, { concurrency: 3 });
  expect(sim.calls("up")).toHaveLength(3);

  const paused = await orch.pause(settings, roster, { concurrency: 3 });
  expect(paused.map((r) => [r.student.id, r.status])).toEqual([
    ["ada", "paused"],
    ["bob", "paused"],
    ["cy", "paused"],
  ]);
  expect(roster.map((s) => power(s.id))).toEqual(["shelved", "shelved", "shelved"]);
  expect(sim.calls("up")).toHaveLength(6);

  // Pausing again changes nothing and runs no update.
  const again = await orch.pause(settings, roster, { concurrency: 3 });
  expect(again.map((r) => r.status)).toEqual(["paused", "paused", "paused"]);
  expect(sim.calls("up")).toHaveLength(6);

  const resumed = await orch.resume(settings, roster, { concurrency: 3 });
  expect(resumed.map((r) => r.status)).toEqual(["ready", "ready", "ready"]);
  expect(resumed.every((r) => r.url?.includes("/lab?token="))).toBe(true);
  expect(roster.map((s) => power(s.id))).toEqual(["active", "active", "active"]);
  expect(sim.calls("up")).toHaveLength(9);
});

test("pausing one student leaves everyone else's stack and config alone", async () => {
  await orch.up(settings, roster, { concurrency: 3 });
  const before = { ada: configOf("ada"), cy: configOf("cy") };
  const upsBefore = sim.calls("up").length;
  const results = await orch.pause(settings, roster, {
    concurrency: 3,
    only: new Set(["bob"]),
  });
  expect(results.map((r) => [r.student.id, r.status])).toEqual([["bob", "paused"]]);
  expect(power("bob")).toBe("shelved");
  expect({ ada: configOf("ada"), cy: configOf("cy") }).toEqual(before);
  expect(
    sim
      .calls("up")
      .slice(upsBefore)
      .map((e) => e.stack),
  ).toEqual(["intro-bob"]);
});

test("a plain up keeps a paused class paused (a late student does not resume it)", async () => {
  await orch.up(settings, roster.slice(0, 2), { concurrency: 2 });
  await orch.pause(settings, roster.slice(0, 2), { concurrency: 2 });
  const results = await orch.up(settings, roster, { concurrency: 3 });
  expect(results.map((r) => [r.student.id, r.status])).toEqual([
    ["ada", "paused"],
    ["bob", "paused"],
    ["cy", "ready"],
  ]);
  expect(roster.map((s) => power(s.id))).toEqual(["shelved", "shelved", undefined]);

  // Also when the settings changed and the paused stacks are updated.
  const bigger = { ...settings, shared: { ...settings.shared, flavor: "m3.quad" } };
  const changed = await orch.up(bigger, roster, { concurrency: 3 });
  expect(changed.map((r) => r.status)).toEqual(["paused", "paused", "ready"]);
  expect(roster.map((s) => power(s.id))).toEqual(["shelved", "shelved", undefined]);
});

describe("local ports follow the student id, not the roster row", () => {
  const local = { ...settings, target: "local" as const, localPortBase: 9000 };
  const port = (id: string) =>
    sim.stacks.get(`intro-${id}`)?.config["jetstream-notebooks:notebookPort"]?.value;

  test("a row inserted at the top of the roster changes no other student's config", async () => {
    await orch.up(local, roster, { concurrency: 3 });
    const before = Object.fromEntries(roster.map((s) => [s.id, configOf(s.id)]));
    const ports = roster.map((s) => port(s.id));
    expect(new Set(ports).size).toBe(3);
    expect(ports).not.toEqual(["9000", "9001", "9002"]);

    const late: Student = { id: "aaron", line: 2 };
    const upsBefore = sim.calls("up").length;
    await orch.up(local, [late, ...roster], { concurrency: 3 });
    expect(Object.fromEntries(roster.map((s) => [s.id, configOf(s.id)]))).toEqual(before);
    expect(
      sim
        .calls("up")
        .slice(upsBefore)
        .map((e) => e.stack),
    ).toEqual(["intro-aaron"]);
    expect(ports).not.toContain(port("aaron"));
  });

  test("a new student whose preferred port is taken gets the next free one; the holder keeps it", async () => {
    const { preferredPort } = await import("../workshop/localPorts");
    // bob already holds the port aaron would prefer.
    await sim.stop();
    sim = new SimulatedBackend({
      existing: {
        "intro-bob": {
          "jetstream-notebooks:notebookPort": String(preferredPort("aaron", 9000)),
        },
      },
    });
    await sim.start();
    orch = new Orchestrator({
      driver: sim.driver,
      reporter: new PlainReporter(new Sink(), () => new Date("2030-06-01T00:00:00Z")),
      probeIntervalMs: 20,
      probeTimeoutMs: 300,
    });
    await orch.up(local, [{ id: "aaron", line: 2 }, ...roster], { concurrency: 3 });
    expect(port("bob")).toBe(String(preferredPort("aaron", 9000)));
    expect(port("aaron")).not.toBe(port("bob"));
    const all = ["aaron", ...roster.map((s) => s.id)].map(port);
    expect(new Set(all).size).toBe(4);
  });
});
