/**
 * `npm run bench:workshop`: how close the orchestrator gets to the best possible wall time for a
 * 40-student workshop at concurrency 1, 8 and 16. Students run against the simulated backend (the
 * StackDriver test double) with realistic latencies scaled down by one factor: a stack select
 * 0.5-1 s (serialized, as the workspace requires), an up 4-8 min, 10% of first ups failing with a
 * transient error after their full time and retried with the real backoff policy (also scaled).
 * The floor is the largest of three lower bounds no scheduler can beat:
 *   serial selects then the shortest up;  all work / concurrency;  the longest single student.
 * Writes a table and bench/results/workshop.json.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Orchestrator } from "../workshop/orchestrator";
import type { RetryPolicy } from "../workshop/retry";
import { backoffDelay, defaultRetryPolicy } from "../workshop/retry";
import type { Student } from "../workshop/roster";
import { parseSettings } from "../workshop/settings";
import { SimulatedBackend } from "../test/support/simulated-driver";
import { formatTable } from "../workshop/table";

const students = 40;
const scale = 1 / 400; // 6 min becomes 0.9 s
const levels = [1, 8, 16];
const transientShare = 0.1;

/** mulberry32: the same draws on every run and at every concurrency level. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const draw = rng(20300630);
const roster: Student[] = Array.from({ length: students }, (_, i) => ({
  id: `s${String(i + 1).padStart(2, "0")}`,
  line: i + 2,
}));
const plan = roster.map((s) => ({
  stack: `bench-${s.id}`,
  selectMs: (500 + draw() * 500) * scale,
  upMs: (240_000 + draw() * 240_000) * scale,
  flaky: draw() < transientShare,
}));
const byStack = new Map(plan.map((p) => [p.stack, p]));

const settings = parseSettings(
  {
    workshop: "bench",
    target: "jetstream",
    expires: "2099-12-31",
    image: `docker.io/instructor/jupyter-notebook@sha256:${"b".repeat(64)}`,
    sshCidr: "203.0.113.7/32",
  },
  path.join(os.tmpdir(), "bench-workshop.yaml"),
);

// The production policy, its delays scaled like everything else; jitter from a fixed seed.
const jitter = rng(7);
const retry: RetryPolicy = {
  ...defaultRetryPolicy,
  baseDelayMs: defaultRetryPolicy.baseDelayMs * scale,
  maxDelayMs: defaultRetryPolicy.maxDelayMs * scale,
  random: jitter,
};
// The expected backoff of one retry (mean of full jitter over the first cap), for the floor.
const meanBackoff = backoffDelay({ ...retry, random: () => 0.5 }, 1);

function floorMs(c: number): number {
  const work = plan.map((p) => p.selectMs + p.upMs * (p.flaky ? 2 : 1));
  const serialSelects =
    plan.reduce((n, p) => n + p.selectMs, 0) + Math.min(...plan.map((p) => p.upMs));
  const spread = work.reduce((n, w) => n + w, 0) / c;
  const longest = Math.max(...plan.map((p, i) => work[i] + (p.flaky ? meanBackoff : 0)));
  return Math.max(serialSelects, spread, longest);
}

async function runAt(
  c: number,
): Promise<{ wallMs: number; ready: number; ups: number; maxUps: number }> {
  const sim = new SimulatedBackend({
    latency: (op, stack) => {
      const p = byStack.get(stack);
      if (!p) return 0;
      return op === "select" ? p.selectMs : op === "up" ? p.upMs : 0;
    },
    fail: (op, stack, attempt) =>
      op === "up" && attempt === 1 && byStack.get(stack)?.flaky
        ? new Error("conflict: Another update is currently in progress.")
        : undefined,
  });
  await sim.start();
  try {
    const orch = new Orchestrator({
      driver: sim.driver,
      reporter: { update: () => {}, note: () => {}, close: () => {} },
      retry,
      probeIntervalMs: 10,
      probeTimeoutMs: 5_000,
    });
    const started = performance.now();
    const results = await orch.up({ ...settings, stackPrefix: "bench" }, roster, {
      concurrency: c,
    });
    const wallMs = performance.now() - started;
    return {
      wallMs,
      ready: results.filter((r) => r.status === "ready").length,
      ups: sim.calls("up").length,
      maxUps: sim.maxInFlight("up"),
    };
  } finally {
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const rows: Record<string, number>[] = [];
  for (const c of levels) {
    const r = await runAt(c);
    const floor = floorMs(c);
    rows.push({
      concurrency: c,
      students,
      ready: r.ready,
      upCalls: r.ups,
      maxParallelUps: r.maxUps,
      wallMs: Math.round(r.wallMs),
      floorMs: Math.round(floor),
      ratio: Number((r.wallMs / floor).toFixed(3)),
      // What the run means at real speed.
      wallMinutesUnscaled: Number((r.wallMs / scale / 60_000).toFixed(1)),
    });
  }
  process.stdout.write(
    `${students} simulated students, latencies scaled by 1/${1 / scale}; ${plan.filter((p) => p.flaky).length} flaky first ups\n`,
  );
  process.stdout.write(
    `${formatTable([
      [
        "concurrency",
        "ready",
        "up calls",
        "max parallel",
        "wall ms",
        "floor ms",
        "wall/floor",
        "real minutes",
      ],
      ...rows.map((r) => [
        String(r.concurrency),
        `${r.ready}/${r.students}`,
        String(r.upCalls),
        String(r.maxParallelUps),
        String(r.wallMs),
        String(r.floorMs),
        r.ratio.toFixed(2),
        String(r.wallMinutesUnscaled),
      ]),
    ])}\n`,
  );
  const out = path.join(__dirname, "..", "bench", "results", "workshop.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, scale, transientShare, rows }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
