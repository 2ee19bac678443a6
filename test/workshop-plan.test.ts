/**
 * Settings validation, the per-student check through the stack's own parseStackConfig, and the
 * plan's quota and SU report. The command's exit codes are in workshopCli.test.ts.
 */
import { plan, validateStudents } from "../workshop/plan";
import type { QuotaSource } from "../workshop/quota";
import { InputError } from "../lib/rules/problems";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { dayBeforeEnd, jetstreamSettings } from "./support/workshopFixtures";

const base = jetstreamSettings;
const file = "/srv/class/workshop.yaml";
const now = dayBeforeEnd;
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

describe("planWarnings", () => {
  const shared = parseSettings(
    { ...base, sshCidr: "203.0.113.7/32", image: `docker.io/x/y@sha256:${"0".repeat(64)}` },
    file,
  );

  test("the stack's own warnings, placeholders, a far expiry and the Let's Encrypt budget, all at once", async () => {
    const { planWarnings } = await import("../workshop/plan");
    const early = new Date("2030-03-01T12:00:00Z");
    expect(
      planWarnings({ settings: shared, students, secrets: {}, now: early, newStudents: 3 }),
    ).toEqual([
      expect.stringMatching(/^\/srv\/class\/workshop\.yaml: \[acmeEmail\] is not set/) as string,
      `${file}: [image] is docker.io/x/y@sha256:${"0".repeat(64)}, the all-zero digest left from workshop.example.yaml: set your own`,
      `${file}: [sshCidr] is 203.0.113.7/32, a documentation address (RFC 5737) left from workshop.example.yaml: set your own`,
      `${file}: [allocation] is tra000000, the example allocation left from workshop.example.yaml: set your own`,
      `${file}: [expires] is 2030-06-30, 122 days away: every VM is charged each hour until reap removes it; is that the workshop's last day?`,
      "Let's Encrypt: 3 new certificate(s), 6% of the 50 per week that every *.jetstream-cloud.org name shares (it is not on the Public Suffix List, so other Jetstream2 users spend the same budget): set acmeEmail so the proxies fall back to ZeroSSL when it runs out, and rehearse on the staging CA (acmeCa).",
    ]);
  });

  test("plan reports missing credentials alongside the other problems and the warnings", async () => {
    const report = await plan({
      settings: parseSettings({ ...base, sshCidr: "203.0.113.7" }, file),
      students,
      secrets: {},
      now,
      existingStacks: new Set(),
      earlierProblems: ["quota: OS_AUTH_URL is not set"],
    });
    expect(report.problems[0]).toBe("quota: OS_AUTH_URL is not set");
    expect(report.problems.length).toBeGreaterThan(1);
    expect(report.warnings.length).toBeGreaterThan(0);
  });
});
