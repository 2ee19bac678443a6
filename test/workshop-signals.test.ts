/**
 * Interrupting `workshop up` with real signals, sent the way a terminal sends them (to the whole
 * foreground process group). The Pulumi CLI is a stand-in on PATH that records the signals it
 * receives; the workshop command is the real one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeStandin, type Standin, type StandinCall } from "./support/pulumiStandin";

const repo = path.resolve(__dirname, "..");

let standin: Standin;
let work: string;
let cli: ChildProcess | undefined;
beforeEach(() => {
  standin = makeStandin();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-signals-"));
  fs.writeFileSync(
    path.join(work, "workshop.yaml"),
    [
      "workshop: intro",
      "target: local",
      "expires: 2030-06-30",
      `image: docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      `handoutsDir: ${path.join(work, "handouts")}`,
      `exportDir: ${path.join(work, "exports")}`,
      "",
    ].join("\n"),
  );
  fs.writeFileSync(path.join(work, "roster.csv"), "id\nada\nbob\ncy\n");
});
afterEach(() => {
  if (cli?.exitCode === null) process.kill(-(cli.pid as number), "SIGKILL");
  // Stand-in children still sleeping are ended by their own timers; remove what they wrote.
  for (const c of standin.calls()) {
    try {
      process.kill(c.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  standin.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Starts `workshop up` in a process group of its own, as a shell starts a foreground job. */
function startUp(upMs: number): { exited: Promise<{ code: number | null; output: string }> } {
  output = "";
  cli = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "workshop/cli.ts",
      "up",
      "--concurrency",
      "1",
      "--settings",
      path.join(work, "workshop.yaml"),
      "--roster",
      path.join(work, "roster.csv"),
    ],
    {
      cwd: repo,
      env: standin.env({ STANDIN_UP_MS: String(upMs) }),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  cli.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  cli.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const child = cli;
  return {
    exited: new Promise((resolve) => child.on("close", (code) => resolve({ code, output }))),
  };
}

const ups = (): StandinCall[] => standin.calls().filter((c) => c.argv[0] === "up");

let output = "";
async function until(what: string, ok: () => boolean): Promise<void> {
  // Polls without a deadline of its own: jest's timeout ends a test that never gets there.
  while (!ok()) {
    if (cli?.exitCode !== null) throw new Error(`workshop up ended before ${what}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const group = () => -(cli?.pid as number);

describe("interrupting workshop up", () => {
  test.each([
    ["a first Ctrl-C", "SIGINT"],
    ["SIGTERM", "SIGTERM"],
    ["SIGHUP (a closed SSH session)", "SIGHUP"],
  ] as const)(
    "%s lets the update in flight finish and starts no new student",
    async (_what, signal) => {
      const run = startUp(4_000);
      await until("the first up runs", () => ups().length === 1);
      process.kill(group(), signal);
      const { code, output } = await run.exited;

      const [only, ...others] = ups();
      expect(others).toEqual([]);
      // The update was not signalled, and finished.
      expect(only.signals).toEqual([]);
      expect(only.exit).toBe(0);
      // It ran in a session of its own, out of the terminal's reach.
      expect(only.sid).not.toBe(cli?.pid);
      expect(code).toBe(130);
      expect(output).toMatch(/no new student starts/);
    },
  );

  test("a second Ctrl-C cancels the update in flight with pulumi's own cancel, once", async () => {
    const run = startUp(120_000);
    await until("the first up runs", () => ups().length === 1);
    process.kill(group(), "SIGINT");
    // A person's second key press, well after the first (presses within a second count once).
    await new Promise((r) => setTimeout(r, 2_500));
    process.kill(group(), "SIGINT");
    const { code, output } = await run.exited;

    const [only, ...others] = ups();
    expect(others).toEqual([]);
    expect(only.signals).toEqual(["SIGINT"]);
    expect(only.exit).toBe(255);
    expect(code).toBe(130);
    expect(output).toMatch(/cancelling 1 update/);
  });
});
