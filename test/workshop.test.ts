/**
 * The orchestration through the StackDriver interface, with the simulated backend behind it: the
 * probe is the real one, against the simulated notebooks' HTTP server. The export here is a
 * stand-in that records who was exported and fails on demand; the real export, on the real engine,
 * is tested in export.test.ts and down-safety.test.ts. Assertions are on the recorded call sequence,
 * never on timing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { Orchestrator, type DownTarget } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import type { RetryPolicy } from "../workshop/retry";
import type { Student } from "../workshop/roster";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { SimulatedBackend, type SimOptions } from "./support/simulated-driver";
import { standInExporter } from "./support/standInExporter";
import { jetstreamSettings } from "./support/workshopFixtures";

const settings: WorkshopSettings = parseSettings(
  jetstreamSettings,
  path.join(os.tmpdir(), "workshop.yaml"),
);

const students = (n: number): Student[] =>
  Array.from({ length: n }, (_, i) => ({ id: `s${String(i + 1).padStart(2, "0")}`, line: i + 2 }));

class Lines extends Writable {
  readonly lines: string[] = [];
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  }
}

function setup(simOpts: SimOptions = {}) {
  const sim = new SimulatedBackend({
    extraOutputs: () => ({ imageRef: `sha256:${"b".repeat(64)}` }),
    // A few milliseconds of latency so calls really overlap.
    latency: (op) =>
      op === "up" ? 5 + Math.random() * 10 : op === "select" ? 1 + Math.random() * 2 : 0,
    ...simOpts,
  });
  const delays: number[] = [];
  const retry: RetryPolicy = {
    attempts: 4,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    random: () => 0.5,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
  const out = new Lines();
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-orch-"));
  const brokenExport = new Set<string>();
  const exported: string[] = [];
  const make = (signal?: AbortSignal) =>
    new Orchestrator({
      driver: sim.driver,
      reporter: new PlainReporter(out, () => new Date("2031-01-05T12:00:00Z")),
      retry,
      signal,
      probeIntervalMs: 20,
      probeTimeoutMs: 300,
      now: () => new Date("2031-01-05T12:00:00Z"),
      exporter: standInExporter(brokenExport, exported),
    });
  return { sim, delays, out, outDir, make, orch: make(), brokenExport, exported };
}

let current: ReturnType<typeof setup> | undefined;
async function start(simOpts: SimOptions = {}) {
  current = setup(simOpts);
  await current.sim.start();
  return current;
}
afterEach(async () => {
  await current?.sim.stop();
  if (current) fs.rmSync(current.outDir, { recursive: true, force: true });
  current = undefined;
});

const targets = (n: number): DownTarget[] =>
  students(n).map((s) => ({ student: s.id, stack: `intro-${s.id}` }));

describe("workshop up", () => {
  test("bounded parallelism, strictly serial stack selection, every URL probed", async () => {
    const { sim, orch } = await start();
    const results = await orch.up(settings, students(12), { concurrency: 3 });
    expect(results.map((r) => r.status)).toEqual(Array(12).fill("ready"));
    expect(sim.maxInFlight("up")).toBe(3);
    expect(sim.maxInFlight("select")).toBe(1);
    expect(sim.calls("select")).toHaveLength(12);
    // Each stack got its own student's config, namespaced, with the shared settings.
    const config = sim.stacks.get("intro-s07")!.config;
    expect(config["jetstream-notebooks:student"]).toEqual({ value: "s07", secret: false });
    expect(config["jetstream-notebooks:workshop"]?.value).toBe("intro");
    expect(config["jetstream-notebooks:flavor"]?.value).toBe("m3.small");
    expect(results[0].url).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/s\/intro-s01\/lab\?token=[0-9a-f]{32}$/,
    );
    expect(results[0].detail).toBe("answering after 1 probe(s)");
  });

  test("concurrency 1 runs one student at a time", async () => {
    const { sim, orch } = await start();
    await orch.up(settings, students(4), { concurrency: 1 });
    expect(sim.maxInFlight("up")).toBe(1);
  });

  test("one student's permanent failure is reported once and stops no one else", async () => {
    const { sim, orch, delays } = await start({
      fail: (op, stack) =>
        op === "up" && stack === "intro-s02"
          ? new Error("Quota exceeded for instances: Requested 1, but already used 10 of 10")
          : undefined,
    });
    const results = await orch.up(settings, students(5), { concurrency: 2 });
    expect(results.map((r) => [r.student.id, r.status])).toEqual([
      ["s01", "ready"],
      ["s02", "failed"],
      ["s03", "ready"],
      ["s04", "ready"],
      ["s05", "ready"],
    ]);
    expect(results[1].detail).toContain("Quota exceeded");
    expect(sim.calls("up", "intro-s02")).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  test.each([
    // A lock is waited out on its own, longer schedule (15 s base; see workshop-retry.test.ts).
    ["conflict: Another update is currently in progress.", [7500, 15000]],
    ["error: read tcp 10.0.0.2:443: read: connection reset by peer", [500, 1000]],
    ["429 Too Many Requests", [500, 1000]],
    ["Error: 503 Service Unavailable from compute API", [500, 1000]],
  ])("a transient failure (%s) is retried with backoff", async (message, expected) => {
    const { sim, orch, delays } = await start({
      fail: (op, stack, attempt) =>
        op === "up" && stack === "intro-s01" && attempt <= 2 ? new Error(message) : undefined,
    });
    const [result] = await orch.up(settings, students(1), { concurrency: 1 });
    expect(result.status).toBe("ready");
    expect(sim.calls("up", "intro-s01")).toHaveLength(3);
    // Full jitter at 0.5 of an exponential cap: base * 2^0, base * 2^1.
    expect(delays).toEqual(expected);
  });

  test("transient failures give up after the policy's attempts", async () => {
    const { sim, orch } = await start({
      fail: (op) => (op === "up" ? new Error("dial tcp: i/o timeout") : undefined),
    });
    const [result] = await orch.up(settings, students(1), { concurrency: 1 });
    expect(result).toMatchObject({
      status: "failed",
      detail: "dial tcp: i/o timeout (after 4 tries)",
    });
    expect(sim.calls("up")).toHaveLength(4);
  });

  test("a notebook that never answers is not reported ready", async () => {
    const { sim, orch } = await start();
    sim.silent.add("intro-s02");
    const results = await orch.up(settings, students(2), { concurrency: 2 });
    expect(results[0].status).toBe("ready");
    expect(results[1].status).toBe("failed");
    expect(results[1].detail).toMatch(
      /^up succeeded but the notebook did not answer within 15 min: /,
    );
    expect(results[1].url).toBeUndefined();
  });

  test("running again converges: nothing is updated unless config changed", async () => {
    const { sim, orch } = await start();
    await orch.up(settings, students(3), { concurrency: 3 });
    const second = await orch.up(settings, students(3), { concurrency: 3 });
    expect(second.map((r) => r.status)).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(sim.calls("up")).toHaveLength(3);
    expect(sim.calls("setConfig")).toHaveLength(3);

    const bigger = { ...settings, shared: { ...settings.shared, flavor: "m3.quad" } };
    const third = await orch.up(bigger, students(4), { concurrency: 2 });
    expect(third.map((r) => r.status)).toEqual(["ready", "ready", "ready", "ready"]);
    expect(sim.calls("up")).toHaveLength(7);
    expect(sim.stacks.get("intro-s01")!.config["jetstream-notebooks:flavor"]?.value).toBe(
      "m3.quad",
    );
  });

  test("a key dropped from the settings is removed from the stacks", async () => {
    const { sim, orch } = await start();
    const { allocation, ...withoutKey } = settings.shared;
    expect(allocation).toBeDefined();
    await orch.up(settings, students(1), { concurrency: 1 });
    expect(sim.stacks.get("intro-s01")!.config["jetstream-notebooks:allocation"]).toBeDefined();
    await orch.up({ ...settings, shared: withoutKey }, students(1), { concurrency: 1 });
    expect(sim.stacks.get("intro-s01")!.config["jetstream-notebooks:allocation"]).toBeUndefined();
  });

  test("progress goes out as timestamped lines when not a terminal", async () => {
    const { out, orch } = await start();
    await orch.up(settings, students(1), { concurrency: 1 });
    expect(out.lines).toEqual([
      "2031-01-05T12:00:00.000Z s01: selecting",
      "2031-01-05T12:00:00.000Z s01: updating",
      "2031-01-05T12:00:00.000Z s01: probing",
      "2031-01-05T12:00:00.000Z s01: ready (answering after 1 probe(s))",
    ]);
  });
});

describe("workshop down and reap", () => {
  test("exports, then destroys and removes, in that order per student", async () => {
    const { sim, orch, outDir } = await start();
    await orch.up(settings, students(3), { concurrency: 3 });
    const results = await orch.down(settings, targets(3), { outDir, concurrency: 2, force: false });
    expect(results.map((r) => r.status)).toEqual(["removed", "removed", "removed"]);
    for (const t of targets(3)) {
      expect(fs.existsSync(path.join(outDir, `${t.student}.tar.gz`))).toBe(true);
      const order = sim.events
        .filter(
          (e) =>
            e.stack === t.stack &&
            e.phase === "end" &&
            ["outputs", "destroy", "remove"].includes(e.op),
        )
        .map((e) => e.op);
      expect(order.slice(-3)).toEqual(["outputs", "destroy", "remove"]);
    }
    expect(sim.stacks.size).toBe(0);
  });

  test("a student whose export failed is not destroyed", async () => {
    const { sim, orch, outDir, brokenExport } = await start();
    await orch.up(settings, students(3), { concurrency: 3 });
    brokenExport.add("s02");
    const results = await orch.down(settings, targets(3), { outDir, concurrency: 3, force: false });
    expect(results.map((r) => r.status)).toEqual(["removed", "kept", "removed"]);
    expect(results[1].detail).toBe(
      "export failed, stack kept: export of s02: the export container on the local Docker engine failed: gone; pass --force to destroy without an export",
    );
    expect(results[0].detail).toBe(
      "exported (3 files, 2.5 MB (archive 1.0 MB, 1.2 s)), destroyed, removed",
    );
    expect(sim.calls("destroy", "intro-s02")).toHaveLength(0);
    expect(sim.stacks.has("intro-s02")).toBe(true);
  });

  test("a stack that never came up has nothing to export and is kept", async () => {
    const { sim, orch, outDir } = await start({ existing: { "intro-s01": {} } });
    const [r] = await orch.down(settings, targets(1), { outDir, concurrency: 1, force: false });
    expect(r.status).toBe("kept");
    expect(r.detail).toContain("export of s01: the stack has no imageRef output");
    expect(sim.calls("destroy")).toHaveLength(0);
  });

  test("--force destroys without an export, and the journal says so", async () => {
    const { orch, outDir, brokenExport } = await start();
    await orch.up(settings, students(2), { concurrency: 2 });
    brokenExport.add("s02");
    const results = await orch.down(settings, targets(2), { outDir, concurrency: 2, force: true });
    expect(results.map((r) => [r.status, r.detail])).toEqual([
      ["removed", expect.stringMatching(/^exported \(3 files, .*\), destroyed, removed$/)],
      ["removed", "destroyed WITHOUT export (--force)"],
    ]);
    const journal = JSON.parse(fs.readFileSync(path.join(outDir, "down-journal.json"), "utf8")) as {
      stacks: Record<string, { forced?: boolean; exportError?: string }>;
    };
    expect(journal.stacks["intro-s02"]).toMatchObject({ forced: true });
    expect(journal.stacks["intro-s02"].exportError).toContain("failed: gone");
  });

  test("resumes after a failed destroy: the rerun exports again, then finishes", async () => {
    const crash = new Error("killed: the laptop went to sleep");
    let crashed = false;
    const { sim, outDir, make, exported } = await start({
      fail: (op, stack) => {
        if (op === "destroy" && stack === "intro-s02" && !crashed) {
          crashed = true;
          return crash;
        }
        return undefined;
      },
    });
    await make().up(settings, students(3), { concurrency: 3 });
    const first = await make().down(settings, targets(3), { outDir, concurrency: 1, force: false });
    expect(first.map((r) => r.status)).toEqual(["removed", "failed", "removed"]);
    expect(first[1].detail).toMatch(/^destroy failed: killed: .*run down again: it exports again/);

    const second = await make().down(settings, targets(3), {
      outDir,
      concurrency: 1,
      force: false,
    });
    expect(second.map((r) => [r.status, r.detail])).toEqual([
      ["removed", expect.stringMatching(/^removed earlier/)],
      ["removed", expect.stringMatching(/^exported \(.*\), destroyed, removed$/)],
      ["removed", expect.stringMatching(/^removed earlier/)],
    ]);
    // The stack still existed, so the student may have worked since: exported again.
    expect(exported.filter((s) => s === "s02")).toHaveLength(2);
    expect(sim.calls("destroy", "intro-s02")).toHaveLength(2);
    expect(sim.calls("destroy", "intro-s01")).toHaveLength(1);
    expect(sim.stacks.size).toBe(0);
  });

  test("a journal entry never outranks the backend: a stack recorded as removed but there is torn down", async () => {
    const { sim, orch, outDir, exported } = await start();
    await orch.up(settings, students(2), { concurrency: 2 });
    fs.writeFileSync(
      path.join(outDir, "down-journal.json"),
      JSON.stringify({
        version: 1,
        stacks: {
          "intro-s01": { student: "s01", removed: "2031-01-01T00:00:00.000Z" },
          "intro-s02": { student: "s02", absent: "2031-01-01T00:00:00.000Z" },
        },
      }),
    );
    const results = await orch.down(settings, targets(2), { outDir, concurrency: 1, force: false });
    expect(results.map((r) => r.status)).toEqual(["removed", "removed"]);
    expect(results[0].detail).toMatch(/^exported \(/);
    expect(exported).toEqual(["s01", "s02"]);
    expect(sim.stacks.size).toBe(0);
  });

  test("an interrupted run starts no new student; the rerun finishes the rest", async () => {
    const { sim, outDir, make } = await start();
    await make().up(settings, students(4), { concurrency: 4 });
    const abort = new AbortController();
    const orch = make(abort.signal);
    const done = orch.down(settings, targets(4), { outDir, concurrency: 1, force: false });
    // Ctrl-C as soon as the first destroy starts.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (sim.calls("destroy").length > 0) {
          abort.abort();
          clearInterval(t);
          resolve();
        }
      }, 1);
    });
    const first = await done;
    expect(first.map((r) => r.student)).toEqual(["s01"]);
    expect(sim.stacks.size).toBe(3);
    const second = await make().down(settings, targets(4), {
      outDir,
      concurrency: 2,
      force: false,
    });
    expect(second.map((r) => r.status)).toEqual(["removed", "removed", "removed", "removed"]);
    expect(sim.calls("destroy")).toHaveLength(4);
  });

  test("reap picks only this workshop's stacks whose expiry day has passed", async () => {
    const cfg = (workshop: string, expires?: string) => ({
      "jetstream-notebooks:workshop": workshop,
      "jetstream-notebooks:student": "x",
      ...(expires ? { "jetstream-notebooks:expires": expires } : {}),
    });
    const { orch } = await start({
      existing: {
        "intro-old": cfg("intro", "2031-01-04"),
        "intro-today": cfg("intro", "2031-01-05"),
        "intro-later": cfg("intro", "2031-02-01"),
        "other-old": cfg("other", "2020-01-01"),
        dev: {},
      },
    });
    const { expired, kept } = await orch.expiredTargets(settings, { allWorkshops: false });
    expect(expired).toEqual([{ student: "x", stack: "intro-old" }]);
    expect(kept).toEqual([
      { stack: "intro-today", why: "expires 2031-01-05" },
      { stack: "intro-later", why: "expires 2031-02-01" },
      { stack: "other-old", why: "workshop other, not intro" },
      { stack: "dev", why: "workshop (none), not intro" },
    ]);
    const all = await orch.expiredTargets(settings, { allWorkshops: true });
    expect(all.expired.map((t) => t.stack)).toEqual(["intro-old", "other-old"]);
  });
});
