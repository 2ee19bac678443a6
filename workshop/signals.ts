/**
 * What an interruption does to a run of forty `pulumi up`s. The Pulumi children run in sessions of
 * their own (pulumi-process.ts), so signals reach this process only, and it decides:
 * - first Ctrl-C, SIGTERM, or SIGHUP (a closed SSH session): start no new student; the updates in
 *   flight finish (a killed `pulumi up` leaves pending operations behind);
 * - second Ctrl-C: cancel them with pulumi's own cancel (SIGINT to each child: it stops starting
 *   resource operations, waits for those in flight and saves the state), then leave once they end;
 * - third Ctrl-C: leave now; the children still end on their own.
 * `npm run` and tsx both pass a Ctrl-C on to their child, so one key press can arrive twice within
 * milliseconds: signals closer together than `sameKeyPressMs` count once.
 */

export interface InterruptTarget {
  /** PIDs of the Pulumi children running now. */
  running(): number[];
  /** Sends the signal to every running child; returns how many got it. */
  signalAll(signal: NodeJS.Signals): number;
}

export interface InterruptOptions {
  /** Aborted at the first interruption: the orchestrator starts no new student. */
  abort: AbortController;
  children: InterruptTarget;
  /** Where the messages go (stderr). */
  write: (text: string) => void;
  exit: (code: number) => void;
  /** The process to listen on; `process` by default (tests pass an emitter). */
  proc?: Pick<NodeJS.Process, "on" | "removeListener">;
  sameKeyPressMs?: number;
  now?: () => number;
  /** How often to look whether the cancelled children have ended. */
  pollMs?: number;
}

export const interruptedExitCode = 130;

/** Installs the handlers; returns a function that removes them. */
export function handleInterrupts(opts: InterruptOptions): () => void {
  const proc = opts.proc ?? process;
  const now = opts.now ?? Date.now;
  const window = opts.sameKeyPressMs ?? 1_000;
  let presses = 0;
  let last = -Infinity;
  let poll: NodeJS.Timeout | undefined;
  const say = (text: string) => {
    try {
      opts.write(text);
    } catch {
      // The terminal is gone (SIGHUP): the run goes on without it.
    }
  };

  const first = (why: string) => {
    if (opts.abort.signal.aborted) return;
    opts.abort.abort();
    const n = opts.children.running().length;
    say(
      `\n${why}: no new student starts; ${n} update(s) in flight finish. Ctrl-C again to cancel them (pulumi's own cancel).\n`,
    );
  };

  const onInt = () => {
    const t = now();
    if (t - last < window) return;
    last = t;
    presses++;
    if (presses === 1) {
      first("interrupted");
    } else if (presses === 2) {
      const n = opts.children.signalAll("SIGINT");
      say(
        `\ncancelling ${n} update(s) in flight; leaving once pulumi has saved their state. Ctrl-C again to leave now (a stack then may need \`pulumi cancel\`).\n`,
      );
      poll = setInterval(() => {
        if (opts.children.running().length === 0) {
          clearInterval(poll);
          opts.exit(interruptedExitCode);
        }
      }, opts.pollMs ?? 200);
      poll.unref();
    } else {
      opts.exit(interruptedExitCode);
    }
  };
  // Like a first Ctrl-C, and a Ctrl-C after them is the second.
  const onTerm = () => {
    presses = Math.max(presses, 1);
    first("terminated (SIGTERM)");
  };
  const onHup = () => {
    presses = Math.max(presses, 1);
    first("the terminal closed (SIGHUP)");
  };
  if (proc === process) {
    // A closed terminal makes writes fail (EIO, EPIPE) asynchronously; the run must not die of it.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  }

  proc.on("SIGINT", onInt);
  proc.on("SIGTERM", onTerm);
  proc.on("SIGHUP", onHup);
  return () => {
    if (poll) clearInterval(poll);
    proc.removeListener("SIGINT", onInt);
    proc.removeListener("SIGTERM", onTerm);
    proc.removeListener("SIGHUP", onHup);
  };
}
