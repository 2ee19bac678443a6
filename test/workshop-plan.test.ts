/**
 * Settings validation, the per-student check through the stack's own parseStackConfig, the plan's
 * quota and SU report, and the CLI's exit codes for bad input (run as a real process).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { plan, validateStudents } from "../workshop/plan";
import type { QuotaSource } from "../workshop/quota";
import { InputError } from "../lib/rules/problems";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { repoRoot } from "./support/docker";

const base = {
  workshop: "intro",
  target: "jetstream",
  expires: "2030-06-30",
  image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
  sshCidr: "203.0.113.7/32",
  // HTTPS is the default on jetstream; its certificate is for the allocation's DNS name.
  allocation: "tra000000",
};
const file = "/srv/class/workshop.yaml";
const now = new Date("2030-06-29T12:00:00Z");
const students = ["ada", "bob", "cy"].map((id, i) => ({ id, line: i + 2 }));

function problemsOf(doc: unknown): string[] {
  try {
    parseSettings(doc, file);
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("settings", () => {
  test("defaults, and relative paths resolved against the settings file", () => {
    const s = parseSettings({ ...base, roster: "class.csv" }, file);
    expect(s).toMatchObject({
      stackPrefix: "intro",
      concurrency: 8,
      probeTimeoutMinutes: 15,
      roster: "/srv/class/class.csv",
      handoutsDir: "/srv/class/handouts",
      exportDir: "/srv/class/exports",
    });
    expect(s.shared).toEqual({ ...base, workshop: undefined, flavor: "m3.small" });
  });

  test.each([
    [
      "an unknown key",
      { ...base, flavour: "m3.small" },
      /^\[flavour\] is not a workshop setting; known settings: .*flavor/,
    ],
    [
      "a student key",
      { ...base, student: "ada" },
      /^\[student\] comes from the roster, one per row; remove it from the settings$/,
    ],
    [
      "a secret",
      { ...base, dockerHubToken: "x" },
      /^\[dockerHubToken\] is a secret and does not belong in this file; set DOCKER_HUB_TOKEN/,
    ],
    [
      "a bad workshop name",
      { ...base, workshop: "Intro 2030" },
      /^\[workshop\] must be DNS-safe \(.*\), got "Intro 2030"$/,
    ],
    [
      "a bad target",
      { ...base, target: "aws" },
      /^\[target\] must be "local" or "jetstream", got "aws"$/,
    ],
    [
      "a bad expiry",
      { ...base, expires: "30/06/2030" },
      /^\[expires\] must be a date YYYY-MM-DD such as 2030-06-30, got "30\/06\/2030"$/,
    ],
    [
      "an unknown flavor",
      { ...base, flavor: "m3.huge" },
      /^\[flavor\] must be a Jetstream2 flavor \(.*\), got "m3.huge"$/,
    ],
    [
      "a bad concurrency",
      { ...base, concurrency: 0 },
      /^\[concurrency\] must be a whole number from 1 to 64, got 0$/,
    ],
    ["a list value", { ...base, sshCidr: ["a", "b"] }, /^\[sshCidr\] must be a single value/],
    [
      "a shared port on target local",
      { ...base, target: "local", notebookPort: 8888 },
      /^\[notebookPort\] would give every student the same port/,
    ],
    [
      "an unknown backend key",
      { ...base, backend: { passphrase: "x" } },
      /^\[backend.passphrase\] is not a backend setting/,
    ],
  ])("%s", (_what, doc, message) => {
    const problems = problemsOf(doc);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe("plan", () => {
  const settings: WorkshopSettings = parseSettings(base, file);

  test("a problem every student shares is reported once", () => {
    const bad = parseSettings({ ...base, sshCidr: "203.0.113.7" }, file);
    const problems = validateStudents(bad, students, {}, now);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\/srv\/class\/workshop\.yaml: \[sshCidr\] .*\(every student\)$/);
  });

  test("a problem of some students names them", () => {
    // validateStudents does not repeat the roster's checks; the stack's own rules still apply.
    const mixed = [...students, { id: "Bad_Id", line: 5 }];
    expect(validateStudents(settings, mixed, {}, now)).toEqual([
      expect.stringMatching(
        /^\/srv\/class\/workshop\.yaml: \[student\] must be DNS-safe .*\(student Bad_Id\)$/,
      ),
    ]);
  });

  test("a valid roster and settings pass", () => {
    expect(validateStudents(settings, students, {}, now)).toEqual([]);
  });

  test("quota counts only students without a stack, and a shortfall is a problem", async () => {
    const source: QuotaSource = {
      description: "test allocation",
      fetch: () =>
        Promise.resolve({
          instances: { limit: 10, used: 1 },
          cores: { limit: 100, used: 2 },
          ramMb: { limit: -1, used: 0 },
          floatingIps: { limit: 2, used: 1 },
        }),
    };
    const report = await plan({
      settings,
      students,
      secrets: {},
      now,
      existingStacks: new Set(["intro-ada"]),
      quotaSource: source,
    });
    expect(report.newStudents).toBe(2);
    expect(report.problems).toEqual([
      expect.stringMatching(
        /^quota: floating IPs needed 2, free 1 \(limit 2, in use 1\): 1 short, room for 1 student/,
      ),
    ]);
    expect(report.su).toEqual({ hours: 36, suPerHour: 2, students: 3, su: 216 });
  });
});

describe("the workshop command", () => {
  const run = promisify(execFile);
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-cli-"));
    fs.writeFileSync(
      path.join(dir, "workshop.yaml"),
      Object.entries(base)
        .map(([k, v]) => `${k}: "${v}"`)
        .join("\n"),
    );
    fs.writeFileSync(path.join(dir, "bad.csv"), "id\nada\nAda\n");
    fs.writeFileSync(path.join(dir, "roster.csv"), "id\nada\nbob\n");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(
        path.join(repoRoot, "node_modules", ".bin", "tsx"),
        [path.join(repoRoot, "workshop", "cli.ts"), ...args],
        {
          cwd: dir,
          env: { ...process.env, OS_AUTH_URL: "", PULUMI_BACKEND_URL: `file://${dir}/state` },
        },
      );
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  test("a bad roster exits 2 and names the line", async () => {
    const r = await cli(["up", "--roster", "bad.csv"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 3: id "Ada" is not DNS-safe');
    expect(r.stderr).toContain("nothing was created");
  });

  test("plan without OpenStack credentials exits 2 and says what to set", async () => {
    const r = await cli(["plan"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("quota: OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID");
  });

  test("plan --skip-quota of a good roster exits 0 with the SU estimate", async () => {
    const r = await cli(["plan", "--skip-quota"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /SU estimate: 2 SU\/hour x 2 students x \d+ hours until the end of 2030-06-30 = \d+ SUs/,
    );
  });

  test("an unknown command exits 2 with the usage", async () => {
    const r = await cli(["launch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "launch"');
  });
});
