/**
 * How the workshop command runs the Pulumi CLI. The Automation API runs every command through one
 * `run(args, cwd, env, onOutput, onError, signal)` method of its PulumiCommand; this module supplies
 * that method, for three reasons:
 * - each child gets a session of its own (setsid), so the terminal's Ctrl-C and a closed SSH session
 *   reach the workshop command only: it decides whether the updates in flight finish or cancel;
 * - a value can go to the child on stdin, off its command line (`pulumi config set --secret` reads
 *   the value from stdin when none is given), since any local user can read a command line;
 * - a failure's message is the child's output, without the command line repeated in it.
 * Every running child is tracked, so a second Ctrl-C can send it pulumi's own cancel (SIGINT).
 */
import { spawn } from "node:child_process";
import {
  CommandError,
  ConcurrentUpdateError,
  PulumiCommand,
  StackAlreadyExistsError,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";

/** What a finished command gave; the shape of the Automation API's CommandResult. */
export interface CommandOutcome {
  stdout: string;
  stderr: string;
  code: number;
  err?: Error;
  toString(): string;
}

// The Automation API builds its errors from a CommandResult (`commandResult.stderr` decides the
// class); its constructors are internal, so they are reached through this narrow signature.
type CommandErrorClass = new (result: CommandOutcome) => CommandError;

function outcome(stdout: string, stderr: string, code: number, err?: Error): CommandOutcome {
  return {
    stdout,
    stderr,
    code,
    err,
    // The text the error message is made of: the output, never the arguments.
    toString: () =>
      `code: ${code}\n stdout: ${stdout}\n stderr: ${stderr}\n err?: ${err?.message ?? ""}\n`,
  };
}

/** The Automation API's own classification of a failed command, from its stderr. */
export function commandError(result: CommandOutcome): CommandError {
  const cls: CommandErrorClass = /no stack named.*found/.test(result.stderr)
    ? (StackNotFoundError as unknown as CommandErrorClass)
    : /stack.*already exists/.test(result.stderr)
      ? (StackAlreadyExistsError as unknown as CommandErrorClass)
      : result.stderr.includes("Another update is currently in progress") ||
          result.stderr.includes("the stack is currently locked by")
        ? (ConcurrentUpdateError as unknown as CommandErrorClass)
        : (CommandError as unknown as CommandErrorClass);
  return new cls(result);
}

export interface PulumiProcessOptions {
  /** The CLI to run; `pulumi` on PATH by default. */
  command?: string;
  /**
   * Environment variables the children do not get: credentials no student stack uses (the Docker
   * Hub token is only for the image build, which student stacks never do).
   */
  withhold?: readonly string[];
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  onOutput?: (text: string) => void;
  onError?: (text: string) => void;
  signal?: AbortSignal;
  /** Written to the child's stdin, which is then closed; stdin is empty otherwise. */
  stdin?: string;
}

/**
 * The CLI's version as the Automation API reads it: `compare("3.95.0") < 0` gates newer commands,
 * `toString()` is reported. Pre-release and build tags are not compared.
 */
export function cliVersion(text: string): { compare(other: string): number; toString(): string } {
  const parts = (v: string) =>
    (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim()) ?? ["", "3", "0", "0"]).slice(1, 4).map(Number);
  const mine = parts(text);
  return {
    compare(other: string): number {
      const theirs = parts(other);
      for (let i = 0; i < 3; i++) {
        if (mine[i] !== theirs[i]) return mine[i] < theirs[i] ? -1 : 1;
      }
      return 0;
    },
    toString: () => mine.join("."),
  };
}

/** Runs the Pulumi CLI as the Automation API expects, with the rules above. */
export class PulumiProcesses {
  private readonly live = new Set<number>();
  readonly command: string;
  private readonly withhold: ReadonlySet<string>;

  constructor(opts: PulumiProcessOptions = {}) {
    this.command = opts.command ?? "pulumi";
    this.withhold = new Set(opts.withhold ?? ["DOCKER_HUB_TOKEN"]);
  }

  /** PIDs of the children running now. */
  running(): number[] {
    return [...this.live];
  }

  /**
   * Sends `signal` to every running child: SIGINT is pulumi's own cancel (it stops starting new
   * resource operations, waits for those in flight, records the state and exits).
   */
  signalAll(signal: NodeJS.Signals = "SIGINT"): number {
    let sent = 0;
    for (const pid of this.live) {
      try {
        process.kill(pid, signal);
        sent++;
      } catch {
        // Already gone: nothing to cancel.
      }
    }
    return sent;
  }

  run(args: string[], opts: RunOptions = {}): Promise<CommandOutcome> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    for (const k of this.withhold) delete env[k];
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, args, {
        cwd: opts.cwd,
        env,
        // A session of its own: terminal signals (Ctrl-C, hangup) are the parent's to relay.
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
      const pid = child.pid;
      if (pid !== undefined) this.live.add(pid);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stdout.on("data", (d: string) => {
        stdout += d;
        opts.onOutput?.(d);
      });
      child.stderr.on("data", (d: string) => {
        stderr += d;
        opts.onError?.(d);
      });
      // A child that exits before reading its stdin closes the pipe: that is its answer, not ours.
      child.stdin.on("error", () => {});
      child.stdin.end(opts.stdin ?? "");
      const onAbort = () => {
        if (pid !== undefined) process.kill(pid, "SIGINT");
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", (err) => {
        if (pid !== undefined) this.live.delete(pid);
        opts.signal?.removeEventListener("abort", onAbort);
        reject(
          commandError(outcome(stdout, stderr, -2, new Error(`${this.command}: ${err.message}`))),
        );
      });
      child.on("close", (code, sig) => {
        if (pid !== undefined) this.live.delete(pid);
        opts.signal?.removeEventListener("abort", onAbort);
        const exit = code ?? -1;
        if (exit === 0) {
          resolve(outcome(stdout, stderr, 0));
        } else {
          const why = sig ? `ended by ${sig}` : `exited with code ${exit}`;
          reject(commandError(outcome(stdout, stderr, exit, new Error(`pulumi ${why}`))));
        }
      });
    });
  }

  /**
   * A PulumiCommand for LocalWorkspace's `pulumiCommand` option that runs through this object.
   * `version` is what `pulumi version` says (the Automation API checks features against it).
   */
  async pulumiCommand(cwd?: string): Promise<PulumiCommand> {
    const { stdout } = await this.run(["version"], { cwd });
    const command = {
      command: this.command,
      version: cliVersion(stdout),
      run: (
        args: string[],
        runCwd: string,
        env: Record<string, string>,
        onOutput?: (text: string) => void,
        onError?: (text: string) => void,
        signal?: AbortSignal,
      ): Promise<CommandOutcome> => {
        // All commands run non-interactive, as the Automation API's own runner does.
        const all = args.includes("--non-interactive") ? args : [...args, "--non-interactive"];
        return this.run(all, {
          cwd: runCwd,
          env: { ...env, PULUMI_AUTOMATION_API: "true" },
          onOutput,
          onError,
          signal,
        });
      },
    };
    // The Automation API uses only `command`, `version` and `run` of a PulumiCommand (checked
    // against @pulumi/pulumi 3.248's automation/cmd.js; the class's constructor is private).
    return command as unknown as PulumiCommand;
  }
}
