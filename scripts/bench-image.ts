/**
 * `npm run bench:image`: measures the notebook image on this machine's Docker engine and writes
 * bench/results/image.json. Size and layers; a cold build (no cache); a warm rebuild after changing
 * only the start script, checking that the apt layer came from cache; and start-to-healthy, the
 * median of 5. The tutorial's image (3.86 GB, 20-25 minutes to build) is printed beside them.
 *
 * It builds from a copy of docker/ in a temporary folder, so the repository is never touched, and
 * removes every image and container it made.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { docker, exec, removeContainer, uniqueName } from "../test/support/docker";

const repoRoot = path.resolve(__dirname, "..");
const resultsFile = path.join(repoRoot, "bench", "results", "image.json");
const TUTORIAL = { sizeBytes: 3.86e9, buildMinutes: "20-25" };
const TARGETS = {
  sizeBytes: 500e6,
  coldBuildMs: 5 * 60_000,
  warmBuildMs: 20_000,
  startToHealthyMs: 10_000,
};
const HEALTH_RUNS = 5;

interface BuildResult {
  ms: number;
  output: string;
}

async function build(context: string, tag: string, extra: string[] = []): Promise<BuildResult> {
  const started = Date.now();
  const result = await exec("docker", ["build", ...extra, "--tag", tag, context], {
    timeoutMs: 30 * 60_000,
  });
  if (result.code !== 0) throw new Error(`docker build failed:\n${result.stdout}${result.stderr}`);
  return { ms: Date.now() - started, output: `${result.stdout}${result.stderr}` };
}

/**
 * Whether the build step that runs apt-get was served from cache. Understands the classic builder
 * ("Step n/m : RUN ..." then " ---> Using cache") and BuildKit ("#n CACHED").
 */
export function aptStepCached(output: string): boolean | undefined {
  const classic = output.split(/^Step \d+\/\d+ : /m).find((step) => /^RUN .*apt-get/s.test(step));
  if (classic !== undefined) return /---> Using cache/.test(classic);
  const buildkit = /^(#\d+) \[[^\]]*\] RUN .*apt-get.*$/m.exec(output);
  if (buildkit?.[1]) return new RegExp(`^${buildkit[1]} CACHED`, "m").test(output);
  return undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function startToHealthy(image: string): Promise<number> {
  const name = uniqueName("jn-img-bench");
  const started = Date.now();
  try {
    await docker(["run", "--detach", "--name", name, "-e", "JUPYTER_TOKEN=bench", image]);
    for (;;) {
      const status = await docker(["inspect", "--format", "{{.State.Health.Status}}", name]);
      if (status === "healthy") return Date.now() - started;
      if (status === "unhealthy" || Date.now() - started > 120_000) {
        throw new Error(`${name} became ${status} instead of healthy`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await removeContainer(name);
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const context = fs.mkdtempSync(path.join(os.tmpdir(), "jn-img-bench-"));
  const coldTag = `jn-img-bench:cold-${process.pid}`;
  const warmTag = `jn-img-bench:warm-${process.pid}`;
  try {
    fs.cpSync(path.join(repoRoot, "docker"), context, { recursive: true });

    process.stderr.write("cold build (no cache)...\n");
    const cold = await build(context, coldTag, ["--no-cache"]);
    const sizeBytes = Number(await docker(["image", "inspect", "--format", "{{.Size}}", coldTag]));
    const layers = Number(
      await docker(["image", "inspect", "--format", "{{len .RootFS.Layers}}", coldTag]),
    );

    process.stderr.write("warm rebuild after a start-script change...\n");
    fs.appendFileSync(path.join(context, "start-notebook.sh"), `# bench ${Date.now()}\n`);
    const warm = await build(context, warmTag);
    const cached = aptStepCached(warm.output);
    if (cached !== true) {
      throw new Error(`the warm rebuild did not take the apt layer from cache:\n${warm.output}`);
    }

    const healthyMs: number[] = [];
    for (let i = 0; i < HEALTH_RUNS; i++) {
      process.stderr.write(`start to healthy ${i + 1}/${HEALTH_RUNS}...\n`);
      healthyMs.push(await startToHealthy(warmTag));
    }

    const results = {
      measuredAt: new Date().toISOString(),
      host: { cpus: os.cpus().length, memoryBytes: os.totalmem() },
      image: { sizeBytes, layers },
      coldBuildMs: cold.ms,
      warmRebuildMs: warm.ms,
      warmRebuildAptLayerCached: cached,
      startToHealthyMs: { median: median(healthyMs), runs: healthyMs },
      tutorial: TUTORIAL,
      targets: TARGETS,
    };
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

    const ok = (pass: boolean): string => (pass ? "yes" : "NO");
    const rows: [string, string, string, string, string][] = [
      [
        "image size",
        mb(sizeBytes),
        mb(TUTORIAL.sizeBytes),
        `<= ${mb(TARGETS.sizeBytes)}`,
        ok(sizeBytes <= TARGETS.sizeBytes),
      ],
      ["layers", String(layers), "", "", ""],
      [
        "cold build",
        seconds(cold.ms),
        `${TUTORIAL.buildMinutes} min`,
        "< 5 min",
        ok(cold.ms < TARGETS.coldBuildMs),
      ],
      [
        "warm rebuild (start script)",
        `${seconds(warm.ms)}, apt layer cached`,
        "",
        "< 20 s",
        ok(warm.ms < TARGETS.warmBuildMs),
      ],
      [
        `start to healthy (median of ${HEALTH_RUNS})`,
        seconds(median(healthyMs)),
        "",
        "< 10 s",
        ok(median(healthyMs) < TARGETS.startToHealthyMs),
      ],
    ];
    const header: [string, string, string, string, string] = [
      "measure",
      "this image",
      "tutorial",
      "target",
      "met",
    ];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]?.length ?? 0)));
    const line = (r: string[]): string => r.map((v, c) => v.padEnd(widths[c] ?? 0)).join("  ");
    console.log(
      [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"),
    );
    console.log(`\nwritten to ${path.relative(repoRoot, resultsFile)}`);
  } finally {
    await exec("docker", ["rmi", warmTag, coldTag]);
    fs.rmSync(context, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
