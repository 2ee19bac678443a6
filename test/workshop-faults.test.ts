/**
 * Faults around stacks the workshop command did not make, or cannot read: another workshop's
 * stack under the same name, a stack whose config is hostile, a backend that fails on one stack.
 * The orchestrator is the real one; the backend is the simulated one (test/support/simulated-driver.ts).
 */
import * as os from "node:os";
import * as path from "node:path";
import { Orchestrator } from "../workshop/orchestrator";
import type { Reporter } from "../workshop/progress";
import { parseSettings } from "../workshop/settings";
import { SimulatedBackend, type SimOptions } from "./support/simulated-driver";

const settingsFor = (workshop: string) =>
  parseSettings(
    {
      workshop,
      target: "jetstream",
      expires: "2030-06-30",
      image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      sshCidr: "203.0.113.7/32",
    },
    path.join(os.tmpdir(), "workshop.yaml"),
  );

const quiet: Reporter = { update: () => {}, note: () => {}, close: () => {} };
let sim: SimulatedBackend | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function orchestrator(opts: SimOptions) {
  sim = new SimulatedBackend(opts);
  await sim.start();
  const orch = new Orchestrator({
    driver: sim.driver,
    reporter: quiet,
    probeIntervalMs: 10,
    probeTimeoutMs: 100,
    retry: {
      attempts: 1,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: () => Promise.resolve(),
      random: () => 0,
    },
    now: () => new Date("2031-01-05T12:00:00Z"),
  });
  return { sim, orch };
}

describe("another workshop's stack is never adopted", () => {
  test("workshop intro-py student ada does not take over workshop intro student py-ada", async () => {
    // Both are stack intro-py-ada; the existing one is the other workshop's.
    const { sim, orch } = await orchestrator({
      existing: {
        "intro-py-ada": {
          "jetstream-notebooks:workshop": "intro",
          "jetstream-notebooks:student": "py-ada",
        },
      },
    });
    const [result] = await orch.up(settingsFor("intro-py"), [{ id: "ada", line: 2 }], {
      concurrency: 1,
    });
    expect(result.status).toBe("failed");
    expect(result.detail).toMatch(
      /stack intro-py-ada belongs to workshop intro, student py-ada.*stackPrefix/,
    );
    // Nothing of the other student's stack was touched.
    expect(sim.calls("setConfig")).toEqual([]);
    expect(sim.calls("up")).toEqual([]);
    expect(sim.stacks.get("intro-py-ada")?.config["jetstream-notebooks:student"]?.value).toBe(
      "py-ada",
    );
  });

  test("a stack of this workshop and student is updated as before", async () => {
    const { sim, orch } = await orchestrator({
      existing: {
        "intro-ada": {
          "jetstream-notebooks:workshop": "intro",
          "jetstream-notebooks:student": "ada",
        },
      },
    });
    const [result] = await orch.up(settingsFor("intro"), [{ id: "ada", line: 2 }], {
      concurrency: 1,
    });
    expect(result.status).toBe("ready");
    expect(sim.calls("up")).toHaveLength(1);
  });
});

describe("reap", () => {
  const expired = (student: string) => ({
    "jetstream-notebooks:workshop": "intro",
    "jetstream-notebooks:student": student,
    "jetstream-notebooks:expires": "2031-01-01",
  });

  test("keeps going past a stack it cannot read", async () => {
    const { orch } = await orchestrator({
      existing: { "intro-a": expired("a"), "intro-b": expired("b"), "intro-c": expired("c") },
      fail: (op, stack) =>
        op === "getConfig" && stack === "intro-b"
          ? new Error("decrypting config: bad passphrase")
          : undefined,
    });
    const { expired: targets, kept } = await orch.expiredTargets(settingsFor("intro"), {
      allWorkshops: false,
    });
    expect(targets.map((t) => t.stack)).toEqual(["intro-a", "intro-c"]);
    expect(kept).toEqual([
      {
        stack: "intro-b",
        why: expect.stringMatching(/cannot read it: .*bad passphrase/) as string,
      },
    ]);
  });

  test("a student name from a stack's config never escapes the export folder", async () => {
    const { orch } = await orchestrator({
      existing: { "intro-evil": expired("../../../escaped"), "intro-ok": expired("ok") },
    });
    const { expired: targets, kept } = await orch.expiredTargets(settingsFor("intro"), {
      allWorkshops: false,
    });
    expect(targets).toEqual([{ student: "ok", stack: "intro-ok" }]);
    expect(kept).toEqual([
      {
        stack: "intro-evil",
        why: expect.stringMatching(
          /student "..\/..\/..\/escaped" in its config is not a valid id/,
        ) as string,
      },
    ]);
  });
});
