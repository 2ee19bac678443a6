import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { agentAnswers, environmentProblems } from "../lib/environment";
import { describeWithTool, hasCommand } from "./support/docker";

const always = () => true;

describe("environmentProblems", () => {
  test("a local stack may use any Docker context", () => {
    expect(environmentProblems("local", { DOCKER_CONTEXT: "remote" }, always)).toEqual([]);
  });

  test("a jetstream stack refuses DOCKER_CONTEXT and DOCKER_CERT_PATH, naming each", () => {
    expect(
      environmentProblems(
        "jetstream",
        { DOCKER_CONTEXT: "colima", DOCKER_CERT_PATH: "/certs" },
        always,
      ),
    ).toEqual([
      "[DOCKER_CONTEXT] is set (colima): it would point the Docker provider at another engine instead of the student's VM. Unset it for this command (env -u DOCKER_CONTEXT pulumi up, or unset DOCKER_CONTEXT).",
      "[DOCKER_CERT_PATH] is set (/certs): it would point the Docker provider at another engine instead of the student's VM. Unset it for this command (env -u DOCKER_CERT_PATH pulumi up, or unset DOCKER_CERT_PATH).",
    ]);
  });

  test("a stale SSH_AUTH_SOCK is refused before the gate dials", () => {
    expect(environmentProblems("jetstream", { SSH_AUTH_SOCK: "/tmp/gone" }, () => false)).toEqual([
      '[SSH_AUTH_SOCK] names /tmp/gone, where no SSH agent answers: the readiness gate\'s SSH login would fail at once. Start the agent again (eval "$(ssh-agent)") or unset SSH_AUTH_SOCK; the stack logs in with its own key either way.',
    ]);
    expect(environmentProblems("jetstream", { SSH_AUTH_SOCK: "/tmp/agent" }, always)).toEqual([]);
  });
});

describeWithTool("agentAnswers, with the real ssh-add", "ssh-add", hasCommand("ssh-add"), () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-env-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("false for a missing path, a plain file and a socket nobody listens on", () => {
    const file = path.join(dir, "file");
    fs.writeFileSync(file, "");
    const dead = path.join(dir, "dead.sock");
    // Bound but never listening: what an agent that died leaves behind.
    execFileSync("python3", [
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      dead,
    ]);
    expect(fs.statSync(dead).isSocket()).toBe(true);
    expect([path.join(dir, "missing"), file, dead].map(agentAnswers)).toEqual([
      false,
      false,
      false,
    ]);
  });

  test("true for a running agent", () => {
    const sock = path.join(dir, "agent.sock");
    const out = execFileSync("ssh-agent", ["-a", sock, "-s"], { encoding: "utf8" });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(out)?.[1];
    try {
      expect(agentAnswers(sock)).toBe(true);
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });
});
