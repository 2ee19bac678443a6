/**
 * Helpers for tests that drive the real Docker engine. They never mock the engine: a test that needs
 * one either gets a working engine or is skipped loudly (and fails under CI, where an engine is part of
 * the contract).
 */
import { execFile, execFileSync } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { dockerBuildArgv, imageBuildArgs, stageBuildContext } from "../../lib/imageBuild";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const dockerContext = path.join(repoRoot, "docker");
/**
 * The tag the test image is built under. JN_TEST_IMAGE_TAG gives each checkout on a shared engine its
 * own, so two suites building different Dockerfiles at once never run each other's image.
 */
/**
 * How long a suite's setup may take to build the notebook image (and a stand-in Caddy) from cold:
 * about 1.5 minutes alone on 2 cores, several times that on a shared, busy engine.
 */
export const imageBuildTimeoutMs = 20 * 60_000;

export const testImageTag = process.env.JN_TEST_IMAGE_TAG ?? "jetstream-notebooks:test";

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command without a shell; never throws for a non-zero exit unless `check` is set. */
export function exec(
  file: string,
  args: string[],
  opts: { check?: boolean; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, env: opts.env ?? process.env },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === "number"
            ? (error as { code: number }).code
            : error
              ? 1
              : 0;
        const result = { stdout: String(stdout), stderr: String(stderr), code };
        if (opts.check && code !== 0) {
          reject(
            new Error(
              // Both streams: the legacy builder prints a RUN step's own message on stdout and its
              // deprecation notice on stderr, so either alone can hide the cause.
              `${file} ${args.join(" ")} exited ${code}:\n${result.stderr}${result.stdout}`,
            ),
          );
        } else {
          resolve(result);
        }
      },
    );
    if (opts.input !== undefined) {
      child.stdin?.end(opts.input);
    }
  });
}

/** `docker ...`, throwing with the engine's own message on failure. */
export async function docker(
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await exec("docker", args, { ...opts, check: true });
  return r.stdout.trim();
}

let engineAnswered: boolean | undefined;

/** True when a Docker engine answers `docker info` (checked once per test file). */
export function engineAvailable(): boolean {
  if (engineAnswered === undefined) {
    try {
      execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
        stdio: "pipe",
        timeout: 20_000,
      });
      engineAnswered = true;
    } catch {
      engineAnswered = false;
    }
  }
  return engineAnswered;
}

/** True when a command is on PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need a real tool (the Docker engine by default). Without it the suite is
 * skipped with a loud message when run by hand, and fails under CI=true: CI provisions the tool, so
 * its absence there is a broken machine, not a reason to go green.
 */
export function describeWithDocker(name: string, fn: () => void): void {
  describeWithTool(name, "a Docker engine (start dockerd)", engineAvailable(), fn);
}

export function describeWithTool(
  name: string,
  what: string,
  available: boolean,
  fn: () => void,
): void {
  if (available) {
    describe(name, fn);
    return;
  }
  const message = `${name}: SKIPPED, no ${what} answers here. These tests run the real thing; run .ci/provision to install it.`;
  if (process.env.CI === "true") {
    describe(name, () => {
      test(`needs ${what}`, () => {
        throw new Error(message);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! ${message}\n\n`);
  describe.skip(name, fn);
}

/**
 * `test` for one test that needs a tool its suite does not (a browser in the image suite): skipped
 * with the same loud message as `describeWithTool` when run by hand, failing under CI=true.
 */
export function testWithTool(
  name: string,
  what: string,
  available: boolean,
  fn: () => Promise<void>,
  timeoutMs?: number,
): void {
  if (available) {
    test(name, fn, timeoutMs);
    return;
  }
  const message = `${name}: SKIPPED, no ${what} answers here. This test runs the real thing; run .ci/provision to install it.`;
  if (process.env.CI === "true") {
    test(name, () => {
      throw new Error(message);
    });
    return;
  }
  process.stderr.write(`\n!!! ${message}\n\n`);
  test.skip(name, fn);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let builtImageId: Promise<string> | undefined;

/**
 * Builds docker/ (without a course) as `testImageTag` (once per test file; the engine's layer
 * cache makes later builds cheap) and returns the image id.
 */
export function notebookImage(): Promise<string> {
  builtImageId ??= buildImage(testImageTag);
  return builtImageId;
}

/**
 * Builds the image the way the stack and `npm run image` do (lib/imageBuild.ts), for a course or
 * none, offline (PIP_INDEX_URL empty: no index answers here). Returns the image id; a failed build
 * throws with docker's output.
 */
export async function buildImage(tag: string, course?: string): Promise<string> {
  const staged = stageBuildContext({ course });
  const args = imageBuildArgs<string>({
    version: "test",
    revision: "test",
    created: "1970-01-01T00:00:00Z",
    courseName: staged.courseName,
    pipIndexUrl: "",
  });
  await docker(dockerBuildArgv(staged, tag, args), { timeoutMs: 20 * 60 * 1000 });
  return docker(["image", "inspect", "--format", "{{.Id}}", tag]);
}

/** The container's health status (`starting`, `healthy`, `unhealthy`), or "none". */
export async function healthStatus(container: string): Promise<string> {
  return docker([
    "inspect",
    "--format",
    "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
    container,
  ]);
}

/** Waits until the container reports healthy; throws with its logs if it does not. */
export async function waitForHealthy(container: string, timeoutMs = 60_000): Promise<void> {
  try {
    await waitFor(
      `${container} to be healthy`,
      async () => ((await healthStatus(container)) === "healthy" ? true : undefined),
      timeoutMs,
    );
  } catch (e) {
    const logs = await exec("docker", ["logs", "--tail", "40", container]);
    throw new Error(`${(e as Error).message}\n--- logs ---\n${logs.stdout}${logs.stderr}`);
  }
}

/** The host port Docker published for a container port, on 127.0.0.1. */
export async function publishedPort(container: string, containerPort: number): Promise<number> {
  const out = await docker(["port", container, `${containerPort}/tcp`]);
  const match = /:(\d+)\s*$/m.exec(out.split("\n")[0] ?? "");
  if (!match) throw new Error(`${container} publishes no ${containerPort}/tcp: ${out}`);
  return Number(match[1]);
}

export async function removeContainer(name: string): Promise<void> {
  await exec("docker", ["rm", "--force", "--volumes", name]);
}

export async function removeVolume(name: string): Promise<void> {
  await exec("docker", ["volume", "rm", "--force", name]);
}

export async function removeNetwork(name: string): Promise<void> {
  await exec("docker", ["network", "rm", name]);
}

/** A name unique to this run, so parallel runs and leftovers never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
