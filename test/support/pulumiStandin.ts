/**
 * Puts the stand-in Pulumi CLI (pulumi-standin.cjs) first on PATH for a test, in a folder of its
 * own, and reads back what it recorded: every invocation's argv, environment, stdin, process group
 * and the signals it received.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface StandinCall {
  pid: number;
  pgid?: number;
  sid?: number;
  argv: string[];
  env: Record<string, string>;
  stdin: string;
  signals: string[];
  exit?: number;
  started: number;
}

export interface Standin {
  /** STANDIN_DIR: stacks/ and calls/. */
  dir: string;
  /** The folder holding the `pulumi` executable. */
  bin: string;
  /** Environment for a child process (PATH first, STANDIN_DIR) on top of `extra`. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  calls(): StandinCall[];
  stack(name: string): { config: Record<string, { value: string; secret: boolean }> } | undefined;
  cleanup(): void;
}

export function makeStandin(): Standin {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-pulumi-standin-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, "pulumi"),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(__dirname, "pulumi-standin.cjs")}" "$@"\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    bin,
    env: (extra = {}) => ({
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      STANDIN_DIR: dir,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      ...extra,
    }),
    calls: () => {
      const callsDir = path.join(dir, "calls");
      if (!fs.existsSync(callsDir)) return [];
      return fs
        .readdirSync(callsDir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(callsDir, f), "utf8")) as StandinCall);
    },
    stack: (name) => {
      const file = path.join(dir, "stacks", `${name}.json`);
      return fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, "utf8")) as {
            config: Record<string, { value: string; secret: boolean }>;
          })
        : undefined;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every process's command line on this machine now (Linux /proc), by PID. */
export function commandLines(): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.set(
        Number(entry),
        fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" "),
      );
    } catch {
      // Gone since the listing.
    }
  }
  return out;
}
