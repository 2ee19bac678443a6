/**
 * Secrets in the workshop command, checked where they could leak: the command lines of the Pulumi
 * children (read from /proc while they run), the children's environment, the stacks' config, and
 * everything a failing run prints or writes (screen, per-stack logs, handouts). The Pulumi CLI is a
 * stand-in on PATH (test/support/pulumi-standin.cjs); the driver, the orchestrator and the CLI are
 * the real ones.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AutomationDriver } from "../workshop/automation";
import { commandLines, makeStandin, type Standin } from "./support/pulumiStandin";

const repo = path.resolve(__dirname, "..");
const dockerToken = "dckr_pat_S3cr3tT0kenValue0123456789";
const passphrase = "correct-horse-battery-staple-42";

let standin: Standin;
const savedEnv = { ...process.env };
beforeEach(() => {
  standin = makeStandin();
});
afterEach(() => {
  process.env = { ...savedEnv };
  standin.cleanup();
});

function useStandin(extra: Record<string, string> = {}): void {
  process.env = standin.env(extra);
}

describe("secrets never reach a command line", () => {
  test("a secret config value is set through stdin: no process's /proc/<pid>/cmdline holds it", async () => {
    useStandin({ STANDIN_CONFIG_MS: "400" });
    const driver = new AutomationDriver({ workDir: standin.dir });
    await driver.select("intro-ada", { create: true });

    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const line of commandLines().values()) {
          if (line.includes("pulumi-standin.cjs config")) seen.add(line);
          if (line.includes(dockerToken)) seen.add(`LEAK ${line}`);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await driver.setConfig(
      "intro-ada",
      {
        "jetstream-notebooks:student": { value: "ada", secret: false },
        "jetstream-notebooks:dockerHubToken": { value: dockerToken, secret: true },
      },
      [],
    );
    watching = false;
    await watch;

    // The watch saw the config commands run, and none of them carried the secret.
    expect([...seen].filter((l) => !l.startsWith("LEAK")).length).toBeGreaterThan(0);
    expect([...seen].filter((l) => l.startsWith("LEAK"))).toEqual([]);
    // And the value still arrived, as a secret.
    expect(standin.stack("intro-ada")?.config["jetstream-notebooks:dockerHubToken"]).toEqual({
      value: dockerToken,
      secret: true,
    });
    expect(standin.calls().filter((c) => c.argv.join(" ").includes(dockerToken))).toEqual([]);
  });

  test("the Pulumi children do not get DOCKER_HUB_TOKEN in their environment", async () => {
    useStandin({ DOCKER_HUB_TOKEN: dockerToken });
    const driver = new AutomationDriver({ workDir: standin.dir });
    await driver.select("intro-ada", { create: true });
    await driver.getConfig("intro-ada");
    const calls = standin.calls();
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.filter((c) => "DOCKER_HUB_TOKEN" in c.env).map((c) => c.argv.join(" "))).toEqual(
      [],
    );
  });
});

/** Runs `workshop <args>` as an instructor would, with the stand-in on PATH. */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(repo, "node_modules", "tsx", "dist", "cli.mjs"), "workshop/cli.ts", ...args],
      { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function workshopFiles(dir: string): string {
  fs.writeFileSync(
    path.join(dir, "workshop.yaml"),
    [
      "workshop: intro",
      "target: local",
      "expires: 2030-06-30",
      `image: docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      `handoutsDir: ${path.join(dir, "handouts")}`,
      `exportDir: ${path.join(dir, "exports")}`,
      "",
    ].join("\n"),
  );
  fs.writeFileSync(path.join(dir, "roster.csv"), "id,name\nada,Ada\nbob,Bob\n");
  return path.join(dir, "workshop.yaml");
}

function allFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile());
}

describe("a failing step whose error repeats the secrets", () => {
  test("never shows them: not on screen, in the logs, in handouts.csv or handouts.html", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-redact-"));
    try {
      const settings = workshopFiles(work);
      const result = await runCli(
        ["up", "--settings", settings, "--roster", path.join(work, "roster.csv")],
        standin.env({
          DOCKER_HUB_TOKEN: dockerToken,
          PULUMI_CONFIG_PASSPHRASE: passphrase,
          STANDIN_UP_FAIL: `pushing the image: registry refused token ${dockerToken} (passphrase ${passphrase})`,
        }),
      );
      const screen = result.stdout + result.stderr;
      if (result.code !== 1) throw new Error(`exit ${result.code}:\n${screen}`);
      // The failure did reach every place, redacted.
      expect(screen).toContain("[redacted]");
      const files = allFiles(path.join(work, "handouts"));
      const names = files.map((f) => path.relative(work, f)).sort();
      expect(names).toEqual(
        expect.arrayContaining([
          "handouts/handouts.csv",
          "handouts/handouts.html",
          "handouts/logs/intro-ada.up.log",
        ]),
      );
      for (const f of files) {
        const text = fs.readFileSync(f, "utf8");
        expect({ file: f, leaks: text.includes(dockerToken) || text.includes(passphrase) }).toEqual(
          { file: f, leaks: false },
        );
      }
      expect(fs.readFileSync(path.join(work, "handouts", "handouts.csv"), "utf8")).toContain(
        "[redacted]",
      );
      expect(screen).not.toContain(dockerToken);
      expect(screen).not.toContain(passphrase);

      // Student stacks never get the Docker Hub token: not in config, not on argv, not in env.
      for (const id of ["ada", "bob"]) {
        expect(Object.keys(standin.stack(`intro-${id}`)?.config ?? {})).not.toContain(
          "jetstream-notebooks:dockerHubToken",
        );
      }
      const calls = standin.calls();
      expect(calls.length).toBeGreaterThan(5);
      for (const c of calls) {
        expect(c.argv.join(" ")).not.toContain(dockerToken);
        expect(Object.values(c.env)).not.toContain(dockerToken);
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
