/**
 * How the workshop command reaches a student's Docker engine: the way the stack itself does. The
 * local target is the local engine (the docker CLI, honouring DOCKER_HOST as the stack's provider
 * does); a Jetstream2 VM is reached over SSH with the stack's own key and the VM's host key pinned
 * (lib/sshIdentity, as the stack's docker provider uses them), running the VM's docker CLI there.
 * Nothing here asks the student's notebook anything.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { sshOptions, writeSshIdentity } from "../lib/sshIdentity";

export type EngineTarget =
  | { kind: "local" }
  | {
      kind: "ssh";
      /** The VM's address. */
      host: string;
      /** Login user, in the docker group there. */
      user: string;
      /** The stack's private key for the VM (a secret: written 0600, never on a command line). */
      privateKey: string;
      /** The VM's host key (`ssh-ed25519 ...`), the only one ssh accepts. */
      hostPublicKey: string;
    };

/** The engine in words, for messages and manifests (no secrets). */
export function describeEngine(engine: EngineTarget): string {
  return engine.kind === "local"
    ? "the local Docker engine"
    : `ssh://${engine.user}@${engine.host}`;
}

/** One word for a POSIX shell: the remote side of ssh runs its command through the login shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The program and arguments that run `docker <args>` against the engine. */
export function dockerCommand(
  engine: EngineTarget,
  args: readonly string[],
): { file: string; args: string[] } {
  if (engine.kind === "local") return { file: "docker", args: [...args] };
  const files = writeSshIdentity({
    privateKey: engine.privateKey,
    host: engine.host,
    hostPublicKey: engine.hostPublicKey,
  });
  return {
    file: "ssh",
    args: [
      ...sshOptions(files),
      "-l",
      engine.user,
      "--",
      engine.host,
      ["docker", ...args].map(shellQuote).join(" "),
    ],
  };
}

/** Starts `docker <args>` against the engine; stdin is left open for the caller. */
export function spawnDocker(
  engine: EngineTarget,
  args: readonly string[],
): ChildProcessWithoutNullStreams {
  const cmd = dockerCommand(engine, args);
  return spawn(cmd.file, cmd.args, {
    // A session of its own, as the pulumi children have: the first Ctrl-C lets the work in flight
    // finish, so it must not reach a \`docker stop\` or an export stream half-way.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs `docker <args>` to completion, keeping at most 64 KiB of each output. */
export function runDocker(
  engine: EngineTarget,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnDocker(engine, args);
    child.stdin.end();
    const cap = (chunks: Buffer[], c: Buffer) => {
      if (chunks.reduce((n, x) => n + x.length, 0) < 64 * 1024) chunks.push(c);
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => cap(out, c));
    child.stderr.on("data", (c: Buffer) => cap(err, c));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill(), opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}
