/**
 * Every GitHub workflow in .github/workflows, checked by a real workflow linter (action-validator,
 * against GitHub's schema) and by this project's own rules: no pull_request_target, actions pinned
 * to versions, secrets only passed through env/with (never interpolated into a shell line or
 * echoed), and the preview skipped for pull requests from forks.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { repoRoot } from "./support/docker";

const run = promisify(execFile);
const validator = path.join(repoRoot, "node_modules", ".bin", "action-validator");
const dir = path.join(repoRoot, ".github", "workflows");
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const load = (f: string) => parse(fs.readFileSync(path.join(dir, f), "utf8")) as Workflow;

async function validate(file: string): Promise<{ code: number; output: string }> {
  try {
    const r = await run(validator, [file]);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe.each(files)("%s", (file) => {
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  const wf = load(file);
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);

  test("passes action-validator", async () => {
    const r = await validate(path.join(dir, file));
    expect(r).toEqual({ code: 0, output: "" });
  });

  test("never runs on pull_request_target", () => {
    expect(Object.keys(wf.on)).not.toContain("pull_request_target");
    // Comments may explain why it is not used; no key or expression may use it.
    const code = text
      .split("\n")
      .filter((l) => !/^\s*#/.test(l))
      .join("\n");
    expect(code).not.toMatch(/pull_request_target/);
  });

  test("pins every action to a version", () => {
    const uses = steps.map((s) => s.uses).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
  });

  test("keeps secrets out of shell lines", () => {
    for (const s of steps.filter((x) => x.run !== undefined)) {
      expect(s.run).not.toMatch(/secrets\./);
      expect(s.run).not.toMatch(/echo[^\n]*\$\{?[A-Z_]*(TOKEN|SECRET|PASSPHRASE|KEY)/);
      expect(s.run).not.toMatch(/set -x|printenv|^env$/m);
    }
  });

  test("asks for no more than read access to the code", () => {
    expect(wf.permissions?.contents).toBe("read");
  });
});

test("the preview skips forks, comments on the PR, and previews both stacks", () => {
  const wf = load("preview.yml");
  expect(Object.keys(wf.on)).toEqual(["pull_request"]);
  const job = wf.jobs.preview as Job & { strategy: { matrix: { stack: string[] } } };
  expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
  expect(job.strategy.matrix.stack).toEqual(["dev", "example-student"]);
  const pulumi = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
  expect(pulumi?.with).toMatchObject({ command: "preview", "comment-on-pr": true });
  for (const stack of job.strategy.matrix.stack) {
    expect(fs.existsSync(path.join(repoRoot, `Pulumi.${stack}.yaml`))).toBe(true);
  }
});

test("ci runs lint, build and the tests with CI=true on pull requests and main", () => {
  const wf = load("ci.yml");
  expect(wf.on).toEqual({ pull_request: null, push: { branches: ["main"] } });
  const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
  for (const cmd of ["npm ci", "npm run lint", "npm run build", "npm test"]) {
    expect(runs.some((r) => r.startsWith(cmd))).toBe(true);
  }
});

test("ci lints docker/Dockerfile with hadolint and the project's .hadolint.yaml", () => {
  const steps = Object.values(load("ci.yml").jobs).flatMap((j) => j.steps);
  const hadolint = steps.find((s) => s.uses?.startsWith("hadolint/hadolint-action@"));
  expect(hadolint?.with).toEqual({ dockerfile: "docker/Dockerfile", config: ".hadolint.yaml" });
  expect(fs.existsSync(path.join(repoRoot, "docker", "Dockerfile"))).toBe(true);
  const config = parse(fs.readFileSync(path.join(repoRoot, ".hadolint.yaml"), "utf8")) as {
    "failure-threshold": string;
    ignored: string[];
  };
  // Warnings fail the build; only rules named here with a reason are ignored.
  expect(config["failure-threshold"]).toBe("warning");
  for (const rule of config.ignored) expect(rule).toMatch(/^(DL\d{4}|SC\d{4})$/);
});

test("action-validator does reject a broken workflow (the check can fail)", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-wf-"));
  try {
    const bad = path.join(tmp, "bad.yml");
    fs.writeFileSync(
      bad,
      "name: bad\non: pull_request\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n",
    );
    const r = await validate(bad);
    expect(r.code).not.toBe(0);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("the workshop schedule example pauses and resumes on cron, only once switched on, secrets only in the steps that need them", () => {
  const wf = load("workshop-schedule.yml") as Workflow & {
    on: {
      schedule: { cron: string }[];
      workflow_dispatch: { inputs: { command: { options: string[] } } };
    };
  };
  const crons = wf.on.schedule.map((s) => s.cron);
  expect(crons).toHaveLength(2);
  for (const c of crons) expect(c.split(" ")).toHaveLength(5);
  expect(wf.on.workflow_dispatch.inputs.command.options).toEqual(["pause", "resume"]);
  const job = wf.jobs.power as Job & { env?: Record<string, string> };
  expect(job.if).toBe("vars.WORKSHOP_SCHEDULE == 'on'");
  // The pause line is the one the command is chosen by; the other is the resume.
  const command = (job.env?.COMMAND ?? "").replace(/\s+/g, " ");
  expect(command).toContain(`github.event.schedule == '${crons[1]}' && 'pause'`);
  // No secret in the job's env: npm ci's install scripts would see it.
  expect(JSON.stringify(job.env ?? {})).not.toMatch(/secrets\./);
  const ci = job.steps.find((s) => s.run?.startsWith("npm ci"));
  expect(JSON.stringify(ci)).not.toMatch(/secrets\./);
  const power = job.steps.find((s) => s.run?.includes("npm run workshop --"));
  expect(power?.run).toMatch(/npm run workshop -- "\$COMMAND" --settings /);
});
