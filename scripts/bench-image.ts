/**
 * `npm run bench:image`: measures the notebook image on this machine's Docker engine and writes
 * bench/results/image.json. A cold build (no cache) with the example course (`--no-cold` skips it:
 * about 20 minutes on two shared cores); the base's size (no course) and what the example course
 * adds; the course rebuilds, each the median of `--runs N` (default 3): nothing changed, a material
 * changed, a requirement added, with their ratios to the no-change rebuild; a warm rebuild after
 * changing only the start script, checking that the apt layer came from cache; and
 * start-to-healthy, the median of 5. The tutorial's image (3.86 GB, 20-25 minutes to build) is
 * printed beside them.
 *
 * It builds the way the stack does (lib/imageBuild.ts), offline (PIP_INDEX_URL empty), from copies
 * of docker/ and course/ in a temporary folder, so the repository is never touched, and removes
 * every image and container it made.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerBuildArgv, imageBuildArgs, stageBuildContext } from "../lib/imageBuild";
import { docker, exec, removeContainer, uniqueName } from "../test/support/docker";

const repoRoot = path.resolve(__dirname, "..");
const resultsFile = path.join(repoRoot, "bench", "results", "image.json");
const TUTORIAL = { sizeBytes: 3.86e9, buildMinutes: "20-25" };
const TARGETS = { coldBuildMs: 5 * 60_000, warmBuildMs: 20_000, startToHealthyMs: 10_000 };
const HEALTH_RUNS = 5;
const BASE_BUDGET = 500e6;

interface BuildResult {
  ms: number;
  output: string;
}

async function build(
  dockerDir: string,
  course: string | undefined,
  tag: string,
  extra: string[] = [],
): Promise<BuildResult> {
  // Staged beside the copies, so the benchmark's cleanup removes them too.
  const staged = stageBuildContext({ dockerDir, course, stagingRoot: path.dirname(dockerDir) });
  const args = imageBuildArgs<string>({
    version: "bench",
    courseName: staged.courseName,
    pipIndexUrl: "",
  });
  const started = Date.now();
  const result = await exec("docker", dockerBuildArgv(staged, tag, args, extra), {
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

/** A minimal pure-Python wheel, zipped by python3's zipfile (no index needed). */
async function writeWheel(dir: string, n: number): Promise<string> {
  const script = [
    "import sys, zipfile",
    "n = sys.argv[2]",
    "with zipfile.ZipFile(f'{sys.argv[1]}/jn_bench{n}-1.0-py3-none-any.whl', 'w') as z:",
    "  z.writestr(f'jn_bench{n}/__init__.py', 'X = 1\\n')",
    "  z.writestr(f'jn_bench{n}-1.0.dist-info/METADATA', f'Metadata-Version: 2.1\\nName: jn-bench{n}\\nVersion: 1.0\\n')",
    "  z.writestr(f'jn_bench{n}-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')",
    "  z.writestr(f'jn_bench{n}-1.0.dist-info/RECORD', '')",
  ].join("\n");
  fs.mkdirSync(dir, { recursive: true });
  await exec("python3", ["-c", script, dir, String(n)], { check: true });
  return `jn-bench${n}==1.0`;
}

async function layers(image: string): Promise<string[]> {
  return JSON.parse(
    await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]),
  ) as string[];
}

async function imageSize(image: string): Promise<number> {
  return Number(await docker(["image", "inspect", "--format", "{{.Size}}", image]));
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** `--runs N` and `--no-cold` from the command line. */
export function parseBenchArgs(argv: string[]): { runs: number; cold: boolean } {
  let runs = 3;
  let cold = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--no-cold") cold = false;
    else if (argv[i] === "--runs" && /^[1-9]\d?$/.test(argv[i + 1] ?? "")) runs = Number(argv[++i]);
    else throw new Error(`usage: npm run bench:image -- [--runs 1-99] [--no-cold], got ${argv[i]}`);
  }
  return { runs, cold };
}

async function main(): Promise<void> {
  const { runs, cold: withCold } = parseBenchArgs(process.argv.slice(2));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "jn-img-bench-"));
  const dockerDir = path.join(work, "docker");
  const course = path.join(work, "course");
  const tags = {
    cold: `jn-img-bench:cold-${process.pid}`,
    course: `jn-img-bench:course-${process.pid}`,
    base: `jn-img-bench:base-${process.pid}`,
    materials: `jn-img-bench:materials-${process.pid}`,
    requirements: `jn-img-bench:requirements-${process.pid}`,
    warm: `jn-img-bench:warm-${process.pid}`,
  };
  try {
    fs.cpSync(path.join(repoRoot, "docker"), dockerDir, { recursive: true });
    fs.cpSync(path.join(repoRoot, "course"), course, { recursive: true });

    let cold: BuildResult | undefined;
    if (withCold) {
      process.stderr.write("cold build with the example course (no cache)...\n");
      cold = await build(dockerDir, course, tags.cold, ["--no-cache"]);
    }
    process.stderr.write("the example course...\n");
    await build(dockerDir, course, tags.course);
    const sizeBytes = await imageSize(tags.course);
    const layerCount = (await layers(tags.course)).length;

    process.stderr.write("the base without a course...\n");
    await build(dockerDir, undefined, tags.base);
    const baseBytes = await imageSize(tags.base);

    const unchangedMs: number[] = [];
    const materialsMs: number[] = [];
    const requirementsMs: number[] = [];
    let rebuiltLayers = 0;
    const material = fs.readdirSync(path.join(course, "materials")).sort()[0] ?? "README.md";
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`rebuild with nothing changed ${i}/${runs}...\n`);
      unchangedMs.push((await build(dockerDir, course, tags.course)).ms);
      process.stderr.write(`  ${seconds(unchangedMs[i - 1] ?? 0)}\n`);
    }
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`rebuild after a material changed ${i}/${runs}...\n`);
      const before = await layers(tags.course);
      fs.appendFileSync(path.join(course, "materials", material), "\n");
      materialsMs.push((await build(dockerDir, course, tags.course)).ms);
      process.stderr.write(`  ${seconds(materialsMs[i - 1] ?? 0)}\n`);
      const after = await layers(tags.course);
      rebuiltLayers = Math.max(rebuiltLayers, after.filter((l, k) => l !== before[k]).length);
    }
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`rebuild after a requirement was added ${i}/${runs}...\n`);
      const requirement = await writeWheel(path.join(course, "wheels"), i);
      fs.appendFileSync(path.join(course, "requirements.txt"), `${requirement}\n`);
      requirementsMs.push((await build(dockerDir, course, tags.requirements)).ms);
      process.stderr.write(`  ${seconds(requirementsMs[i - 1] ?? 0)}\n`);
    }
    const unchanged = median(unchangedMs);
    const materials = median(materialsMs);
    const requirements = median(requirementsMs);

    process.stderr.write("warm rebuild after a start-script change...\n");
    fs.appendFileSync(path.join(dockerDir, "start-notebook.sh"), `# bench ${Date.now()}\n`);
    const warm = await build(dockerDir, course, tags.warm);
    const cached = aptStepCached(warm.output);
    if (cached !== true) {
      throw new Error(`the warm rebuild did not take the apt layer from cache:\n${warm.output}`);
    }

    const healthyMs: number[] = [];
    for (let i = 0; i < HEALTH_RUNS; i++) {
      process.stderr.write(`start to healthy ${i + 1}/${HEALTH_RUNS}...\n`);
      healthyMs.push(await startToHealthy(tags.warm));
    }

    const results = {
      measuredAt: new Date().toISOString(),
      host: { cpus: os.cpus().length, memoryBytes: os.totalmem() },
      image: { sizeBytes, layers: layerCount },
      baseSizeBytes: baseBytes,
      exampleCourseBytes: sizeBytes - baseBytes,
      coldBuildMs: cold?.ms ?? null,
      rebuildRuns: runs,
      unchangedRebuildMs: { median: unchanged, runs: unchangedMs },
      materialsRebuildMs: { median: materials, runs: materialsMs },
      materialsRebuildLayers: rebuiltLayers,
      requirementsRebuildMs: { median: requirements, runs: requirementsMs },
      materialsToUnchangedRatio: materials / unchanged,
      requirementsToUnchangedRatio: requirements / unchanged,
      warmRebuildMs: warm.ms,
      warmRebuildAptLayerCached: cached,
      startToHealthyMs: { median: median(healthyMs), runs: healthyMs },
      tutorial: TUTORIAL,
      targets: { sizeBytes: 1.0e9, baseSizeBytes: BASE_BUDGET, ...TARGETS },
    };
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

    const ok = (pass: boolean): string => (pass ? "yes" : "NO");
    const rows: [string, string, string, string, string][] = [
      [
        "image size (example course)",
        mb(sizeBytes),
        mb(TUTORIAL.sizeBytes),
        "< 1000 MB",
        ok(sizeBytes < 1.0e9),
      ],
      ["base size (no course)", mb(baseBytes), "", "<= 500 MB", ok(baseBytes <= BASE_BUDGET)],
      ["example course adds", mb(sizeBytes - baseBytes), "", "", ""],
      ["layers", String(layerCount), "", "", ""],
      [
        "cold build (example course)",
        cold ? seconds(cold.ms) : "not run (--no-cold)",
        `${TUTORIAL.buildMinutes} min`,
        "< 5 min",
        cold ? ok(cold.ms < TARGETS.coldBuildMs) : "",
      ],
      [`rebuild: nothing changed (median of ${runs})`, seconds(unchanged), "", "", ""],
      [
        `rebuild: a material changed (median of ${runs})`,
        `${seconds(materials)} (x${(materials / unchanged).toFixed(1)}), ${rebuiltLayers} layers new`,
        "",
        "< 20 s",
        ok(materials < TARGETS.warmBuildMs),
      ],
      [
        `rebuild: a requirement added (median of ${runs})`,
        `${seconds(requirements)} (x${(requirements / unchanged).toFixed(1)})`,
        "",
        "",
        "",
      ],
      ["warm rebuild (start script)", `${seconds(warm.ms)}, apt layer cached`, "", "", ""],
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
    await exec("docker", ["rmi", ...Object.values(tags)]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
