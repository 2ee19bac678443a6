/**
 * Settings of the machine running Pulumi that would silently change what a jetstream stack does,
 * checked before anything is declared. `environmentProblems` is pure (the environment and the agent
 * check are passed in); `agentAnswers` is the real agent check.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

/** Answers whether a path is a Unix socket that accepts connections (an agent that is running). */
export type SocketCheck = (path: string) => boolean;

/**
 * Problems with the environment for a stack of `target`, one per line, each naming the variable
 * and the fix. Empty when nothing is wrong.
 */
export function environmentProblems(
  target: string,
  env: Readonly<Record<string, string | undefined>>,
  socketAnswers: SocketCheck,
): string[] {
  if (target !== "jetstream") return [];
  const problems: string[] = [];
  // The docker CLI and provider prefer these to the provider's own host: the notebook would be
  // created on whatever engine they name, not on the student's VM.
  for (const name of ["DOCKER_CONTEXT", "DOCKER_CERT_PATH"]) {
    if (env[name]) {
      problems.push(
        `[${name}] is set (${env[name]}): it would point the Docker provider at another engine instead of the student's VM. Unset it for this command (env -u ${name} pulumi up, or unset ${name}).`,
      );
    }
  }
  // The readiness gate's SSH client offers the agent's keys first and fails at once when the
  // agent's socket is gone (a closed terminal's agent, a stale forwarded socket).
  const agent = env.SSH_AUTH_SOCK;
  if (agent && !socketAnswers(agent)) {
    problems.push(
      `[SSH_AUTH_SOCK] names ${agent}, where no SSH agent answers: the readiness gate's SSH login would fail at once. Start the agent again (eval "$(ssh-agent)") or unset SSH_AUTH_SOCK; the stack logs in with its own key either way.`,
    );
  }
  return problems;
}

/**
 * Whether an SSH agent answers at `socket`: `ssh-add -l` exits 2 when it cannot reach one (0 and 1
 * mean an agent with and without keys). Without ssh-add, a socket file that exists is taken as an
 * agent.
 */
export function agentAnswers(socket: string): boolean {
  const r = spawnSync("ssh-add", ["-l"], {
    env: { ...process.env, SSH_AUTH_SOCK: socket },
    stdio: "ignore",
    timeout: 5_000,
  });
  if (r.error !== undefined) {
    try {
      return fs.statSync(socket).isSocket();
    } catch {
      return false;
    }
  }
  return r.status === 0 || r.status === 1;
}
