/**
 * Physical names (VM, key pair, port, security group, and with them the DNS name) are unique per
 * stackPrefix, workshop and student: workshop `intro-py` student `ada` and workshop `intro` student
 * `py-ada` never share a VM, a key pair or a hostname. A stack made before stackPrefix was in its
 * config keeps the name it has, since renaming a key pair replaces the VM and its disk.
 */
import * as os from "node:os";
import * as path from "node:path";
import { parseStackConfig, type RawConfig } from "../lib/config";
import { physicalName } from "../lib/physicalName";
import { isDnsLabel } from "../lib/rules/names";
import { Orchestrator } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import { parseSettings } from "../workshop/settings";
import { fakeDigest, only, runMocked } from "./mocks";
import { SimulatedBackend } from "./support/simulated-driver";
import { Writable } from "node:stream";

describe("physicalName", () => {
  test("a stack without stackPrefix (made before, or by hand) keeps <workshop>-<student>", () => {
    expect(physicalName("intro-py", "ada")).toBe("intro-py-ada");
    expect(physicalName("intro", "py-ada")).toBe("intro-py-ada");
  });

  test("a name that no other triple can form stays <workshop>-<student>", () => {
    expect(physicalName("intro", "ada", "intro")).toBe("intro-ada");
  });

  test("the issue's case: two workshops, two names", () => {
    const a = physicalName("intro-py", "ada", "intro-py");
    const b = physicalName("intro", "py-ada", "intro");
    expect(a).toMatch(/^intro-py-ada-[a-z2-7]{5}$/);
    expect(b).toMatch(/^intro-py-ada-[a-z2-7]{5}$/);
    expect(a).not.toBe(b);
    // Neither is the name a stack made before stackPrefix holds.
    expect([a, b]).not.toContain("intro-py-ada");
  });

  test("the same workshop and student under another stackPrefix get another name", () => {
    const fall = physicalName("intro", "ada", "intro-fall");
    const spring = physicalName("intro", "ada", "intro-spring");
    expect(fall).not.toBe(spring);
    expect(fall).not.toBe("intro-ada");
  });

  test("stable: the same triple always gives the same name", () => {
    expect(physicalName("intro-py", "ada", "intro-py")).toBe(
      physicalName("intro-py", "ada", "intro-py"),
    );
  });

  // Every split of a few hyphenated words into stackPrefix, workshop and student, plus the names
  // the same pairs had before stackPrefix: no two triples share a name, and no new name is an old
  // name of another pair.
  test("no collisions over every split of a hyphenated set of words", () => {
    const words = ["a", "py", "ada", "intro"];
    const labels = new Set<string>();
    const joins = (parts: string[]) => {
      for (let i = 1; i <= parts.length; i++) labels.add(parts.slice(0, i).join("-"));
    };
    for (const w of words) for (const v of words) for (const u of words) joins([w, v, u]);
    const all = [...labels].filter((l) => l.length <= 24);
    const seen = new Map<string, string>();
    const legacy = new Map<string, string>();
    let triples = 0;
    for (const workshop of all) {
      for (const student of all) {
        legacy.set(`${workshop}-${student}`, `${workshop}/${student}`);
        for (const prefix of [workshop, `${workshop}-2030`, "p"]) {
          const name = physicalName(workshop, student, prefix);
          const who = `${prefix}|${workshop}/${student}`;
          if (!isDnsLabel(name)) throw new Error(`${who} gives ${name}, not a DNS label`);
          const earlier = seen.get(name);
          if (earlier !== undefined) throw new Error(`${who} and ${earlier} are both ${name}`);
          seen.set(name, who);
          triples++;
        }
      }
    }
    for (const [name, who] of seen) {
      const old = legacy.get(name);
      if (old !== undefined && !who.endsWith(`|${old}`)) {
        throw new Error(`${who} takes ${name}, the name ${old} had before stackPrefix`);
      }
    }
    expect(triples).toBe(3 * all.length * all.length);
    expect(triples).toBeGreaterThan(20_000);
  });

  test("the longest workshop and id still fit one DNS label", () => {
    const name = physicalName("w".repeat(24), "s".repeat(32), "p");
    expect(name).toHaveLength(63);
    expect(isDnsLabel(name)).toBe(true);
  });
});

describe("the stack's config", () => {
  const base: RawConfig = {
    target: "jetstream",
    expires: "2030-03-05",
    image: `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("x")}`,
    sshCidr: "203.0.113.7/32",
    allocation: "cis230000",
  };
  const now = new Date("2030-03-01T00:00:00Z");

  test("the hostname follows the physical name", () => {
    const a = parseStackConfig(
      { ...base, workshop: "intro-py", student: "ada", stackPrefix: "intro-py" },
      { stackName: "intro-py-ada", now },
    );
    const b = parseStackConfig(
      { ...base, workshop: "intro", student: "py-ada", stackPrefix: "intro" },
      { stackName: "intro-py-ada", now },
    );
    if (a.target !== "jetstream" || b.target !== "jetstream") throw new Error("jetstream");
    expect(a.hostname).toBe(
      `${physicalName("intro-py", "ada", "intro-py")}.cis230000.projects.jetstream-cloud.org`,
    );
    expect(a.hostname).not.toBe(b.hostname);
  });

  test.each([
    ["intro ada", '[stackPrefix] may hold letters, digits, "-", "_" and "."'],
    ["-intro", '[stackPrefix] may hold letters, digits, "-", "_" and "."'],
    ["p".repeat(101), "[stackPrefix] must be at most 100 characters"],
  ])("a bad stackPrefix %j is refused by name", (stackPrefix, message) => {
    expect(() =>
      parseStackConfig(
        { ...base, workshop: "intro", student: "ada", stackPrefix },
        { stackName: "intro-ada", now },
      ),
    ).toThrow(message);
  });
});

describe("the program", () => {
  async function names(raw: RawConfig) {
    const run = await runMocked(async () => {
      const { notebookStack } = await import("../program");
      return notebookStack(
        parseStackConfig(
          {
            target: "jetstream",
            expires: "2030-03-05",
            image: `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("x")}`,
            sshCidr: "203.0.113.7/32",
            allocation: "cis230000",
            tls: "off",
            ...raw,
          },
          { stackName: "s", now: new Date("2030-03-01T00:00:00Z") },
        ),
        {},
      );
    });
    const rs = run.resources;
    return {
      instance: only(rs, "openstack:compute/instance:Instance").inputs.name,
      keypair: only(rs, "openstack:compute/keypair:Keypair").inputs.name,
      port: only(rs, "openstack:networking/port:Port").inputs.name,
      group: only(rs, "openstack:networking/secGroup:SecGroup").inputs.name,
      // Logical names (and so every resource's URN) do not change.
      vmUrnName: only(rs, "openstack:compute/instance:Instance").name,
    };
  }

  test("VM, key pair, port and security group carry the physical name; URNs keep theirs", async () => {
    const a = await names({ workshop: "intro-py", student: "ada", stackPrefix: "intro-py" });
    const b = await names({ workshop: "intro", student: "py-ada", stackPrefix: "intro" });
    const expected = physicalName("intro-py", "ada", "intro-py");
    expect(a).toEqual({
      instance: expected,
      keypair: expected,
      port: expected,
      group: expected,
      vmUrnName: "intro-py-ada-vm",
    });
    expect(b.instance).toBe(physicalName("intro", "py-ada", "intro"));
    expect(b.instance).not.toBe(a.instance);
    expect(b.vmUrnName).toBe("intro-py-ada-vm");
  });

  test("a stack without stackPrefix keeps every name it had", async () => {
    expect(await names({ workshop: "intro-py", student: "ada" })).toEqual({
      instance: "intro-py-ada",
      keypair: "intro-py-ada",
      port: "intro-py-ada",
      group: "intro-py-ada",
      vmUrnName: "intro-py-ada-vm",
    });
  });
});

describe("the workshop command", () => {
  class Quiet extends Writable {
    _write(_c: Buffer, _e: string, done: () => void): void {
      done();
    }
  }
  const settings = parseSettings(
    {
      workshop: "intro",
      target: "jetstream",
      expires: "2030-06-30",
      image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      sshCidr: "203.0.113.7/32",
    },
    path.join(os.tmpdir(), "workshop.yaml"),
  );

  test("a new stack gets stackPrefix; an existing stack without it is left as it is", async () => {
    const sim = new SimulatedBackend({
      existing: {
        "intro-old": {
          "jetstream-notebooks:workshop": "intro",
          "jetstream-notebooks:student": "old",
        },
      },
    });
    await sim.start();
    try {
      const orch = new Orchestrator({
        driver: sim.driver,
        reporter: new PlainReporter(new Quiet(), () => new Date("2030-06-01T00:00:00Z")),
        probeIntervalMs: 5,
        probeTimeoutMs: 100,
      });
      await orch.up(
        settings,
        [
          { id: "new", line: 2 },
          { id: "old", line: 3 },
        ],
        { concurrency: 1 },
      );
      expect(sim.stacks.get("intro-new")!.config["jetstream-notebooks:stackPrefix"]).toEqual({
        value: "intro",
        secret: false,
      });
      expect(sim.stacks.get("intro-old")!.config).not.toHaveProperty(
        "jetstream-notebooks:stackPrefix",
      );
      // Run again: the new stack keeps it, the old one still has none.
      await orch.up(
        settings,
        [
          { id: "new", line: 2 },
          { id: "old", line: 3 },
        ],
        { concurrency: 1 },
      );
      expect(sim.stacks.get("intro-new")!.config["jetstream-notebooks:stackPrefix"]?.value).toBe(
        "intro",
      );
      expect(sim.stacks.get("intro-old")!.config).not.toHaveProperty(
        "jetstream-notebooks:stackPrefix",
      );
    } finally {
      await sim.stop();
    }
  });
});
