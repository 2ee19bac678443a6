/**
 * Benchmark (not a test): evaluates the program under Pulumi mocks for 1, 10 and 40 student
 * stacks of a jetstream workshop, one stack after another in this process with fresh mocks each
 * time (as the workshop CLI's inline programs would), and reports resources registered and wall
 * time. Writes bench/results/program.json.
 *
 *   npm run bench:program
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { runMocked } from "../test/mocks";

const sizes = [1, 10, 40];

const digest = "0123456789abcdef".repeat(4);

interface Row {
  students: number;
  resources: number;
  resourcesPerStack: number;
  wallMs: number;
  msPerStack: number;
  rssMb: number;
}

async function evaluate(student: string): Promise<number> {
  const run = await runMocked(
    async () => {
      const { parseStackConfig } = await import("../lib/config");
      const { notebookStack } = await import("../program");
      const cfg = parseStackConfig(
        {
          target: "jetstream",
          workshop: "bench",
          student,
          expires: "2099-12-31",
          image: `docker.io/instructor/jupyter-notebook@sha256:${digest}`,
          sshCidr: "203.0.113.7/32",
          allocation: "bench000000",
        },
        { stackName: student, now: new Date() },
      );
      // The readiness waits are resources (local commands), which mocks do not run.
      return notebookStack(cfg);
    },
    { stack: student },
  );
  return run.resources.length;
}

async function main(): Promise<void> {
  // The docker provider's SSH key files land in the temp folder: keep them out of the real one.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jn-bench-"));
  process.env.TMPDIR = tmp;
  const rows: Row[] = [];
  try {
    await evaluate("warmup"); // module loading and JIT, not part of any row
    for (const n of sizes) {
      const start = performance.now();
      let resources = 0;
      for (let i = 0; i < n; i++)
        resources += await evaluate(`student-${String(i).padStart(2, "0")}`);
      const wallMs = performance.now() - start;
      rows.push({
        students: n,
        resources,
        resourcesPerStack: resources / n,
        wallMs: Math.round(wallMs),
        msPerStack: Math.round((wallMs / n) * 10) / 10,
        rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const header = ["students", "resources", "per stack", "wall ms", "ms/stack", "rss MB"];
  const lines = rows.map((r) =>
    [r.students, r.resources, r.resourcesPerStack, r.wallMs, r.msPerStack, r.rssMb].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));

  const out = path.join(__dirname, "..", "bench", "results", "program.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        what: "program evaluation under Pulumi mocks, target jetstream, stacks evaluated one after another",
        node: process.version,
        cpus: os.cpus().length,
        date: new Date().toISOString(),
        rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
