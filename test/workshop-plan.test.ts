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

describe("the stacks' network", () => {
  const settings = parseSettings(base, file);
  const sourceWith = (network: { name: string; exists: boolean }): QuotaSource => ({
    description: "test allocation",
    fetch: (asked) => {
      expect(asked).toEqual({ network: network.name });
      return Promise.resolve({
        instances: { limit: 10, used: 0 },
        cores: { limit: 100, used: 0 },
        ramMb: { limit: -1, used: 0 },
        floatingIps: { limit: 10, used: 0 },
        network,
      });
    },
  });

  test("a fresh allocation without auto_allocated_network is told the command that creates it", async () => {
    const report = await plan({
      settings,
      students,
      secrets: {},
      now,
      existingStacks: new Set(),
      quotaSource: sourceWith({ name: "auto_allocated_network", exists: false }),
    });
    expect(report.problems).toEqual([
      "network: auto_allocated_network does not exist in this allocation's project yet (a new allocation gets it only when it is first asked for). Create it once, with the same openrc sourced: `openstack network auto allocated topology create --or-show`, then run plan again",
    ]);
  });

  test("another network that does not exist is named with the key", async () => {
    const report = await plan({
      settings: parseSettings({ ...base, network: "lab-net", tls: "self-signed" }, file),
      students,
      secrets: {},
      now,
      existingStacks: new Set(),
      quotaSource: sourceWith({ name: "lab-net", exists: false }),
    });
    expect(report.problems).toEqual([
      `${file}: [network] is lab-net, and this allocation's project has no network of that name: \`openstack network list\` shows the ones it has`,
    ]);
  });

  test("a network that exists is no problem", async () => {
    const report = await plan({
      settings,
      students,
      secrets: {},
      now,
      existingStacks: new Set(),
      quotaSource: sourceWith({ name: "auto_allocated_network", exists: true }),
    });
    expect(report.problems).toEqual([]);
  });
});

describe("an SU total out of proportion", () => {
  // Placeholders and the far expiry have warnings of their own; here only the SU total is at stake.
  const real = { ...base, sshCidr: "198.18.0.7/32", allocation: "cis230000", acmeEmail: "i@x.org" };
  const roster = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `s${i + 1}`, line: i + 2 }));
  const suWarnings = async (doc: Record<string, string>, n: number, when: string) => {
    const report = await plan({
      settings: parseSettings({ ...real, ...doc }, file),
      students: roster(n),
      secrets: {},
      now: new Date(when),
      existingStacks: new Set(roster(n).map((s) => `intro-${s.id}`)),
    });
    return report.warnings.filter((w) => w.startsWith("SU estimate"));
  };

  test("forty m3.small students for 50 days: 2400 SU each", async () => {
    expect(await suWarnings({ expires: "2030-06-30" }, 40, "2030-05-12T00:00:00Z")).toEqual([
      "SU estimate: 96000 SUs, 2400 per student (m3.small, 2 SU/hour, for 1200 hours until the end of 2030-06-30), more than the 1000 per student a workshop rarely needs. Check that the allocation holds them; set expires to the last day of the class, choose a smaller flavor, or `workshop pause` between sessions (a shelved VM costs 0 SUs).",
    ]);
  });

  test("a large flavor for four days is out of proportion too", async () => {
    expect(
      await suWarnings({ expires: "2030-06-30", flavor: "m3.large" }, 3, "2030-06-27T00:00:00Z"),
    ).toEqual([expect.stringMatching(/^SU estimate: 4608 SUs, 1536 per student \(m3\.large/)]);
  });

  test("a two-day class on m3.small, or a local one, says nothing", async () => {
    expect(await suWarnings({ expires: "2030-06-30" }, 40, "2030-06-29T00:00:00Z")).toEqual([]);
    expect(
      await suWarnings({ expires: "2030-06-30", target: "local" }, 40, "2030-01-01T00:00:00Z"),
    ).toEqual([]);
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
