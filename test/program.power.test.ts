/**
 * Pause and resume under mocks: the `power` setting reaches the instance's powerState and nothing
 * else. What this cannot prove: that the docker provider dials nothing for a shelved VM's unchanged
 * containers (that is the engine's diff, not the program's); it proves the program gives it nothing
 * to change.
 */
import { parseStackConfig, type RawConfig } from "../lib/config";
import { fakeDigest, type Recorded } from "./mocks";
import { declared as declaredFor, usePrivateTmpdir } from "./support/declared";

const now = new Date("2030-03-01T00:00:00Z");
const student: RawConfig = {
  target: "jetstream",
  student: "alice",
  workshop: "hpc",
  expires: "2030-03-05",
  image: `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("instructor-image")}`,
  flavor: "m3.quad",
  sshCidr: "203.0.113.7/32",
  notebookCidr: "192.0.2.0/24",
  allocation: "cis230000",
};
const instanceType = "openstack:compute/instance:Instance";
const gateType = "command:remote:Command";

usePrivateTmpdir("jn-power-");
const declared = (raw: RawConfig) => declaredFor(raw, now);

describe.each([
  ["letsencrypt", {}],
  ["tls off", { tls: "off", notebookPort: "9443" }],
])("power on a jetstream stack (%s)", (_label, extra: RawConfig) => {
  test("shelved maps to shelved_offloaded and changes no other input of any resource", async () => {
    const active = await declared({ ...student, ...extra });
    const shelved = await declared({ ...student, ...extra, power: "shelved" });
    expect([...shelved.keys()].sort()).toEqual([...active.keys()].sort());

    const differences: { resource: string; key: string; from: unknown; to: unknown }[] = [];
    for (const [resource, a] of active) {
      const s = shelved.get(resource) as Recorded;
      const keys = new Set([...Object.keys(a.inputs), ...Object.keys(s.inputs)]);
      for (const key of keys) {
        if (JSON.stringify(a.inputs[key]) !== JSON.stringify(s.inputs[key])) {
          differences.push({ resource, key, from: a.inputs[key], to: s.inputs[key] });
        }
      }
      // Options too: a changed dependsOn or replacement trigger would touch the resource.
      expect({ resource, opts: optionsOf(s) }).toEqual({ resource, opts: optionsOf(a) });
    }
    expect(differences).toEqual([
      {
        resource: `${instanceType}::hpc-alice-vm`,
        key: "powerState",
        from: "active",
        to: "shelved_offloaded",
      },
    ]);
  });

  test("the readiness gate's triggers do not include the power state", async () => {
    for (const power of ["active", "shelved"]) {
      const rs = await declared({ ...student, ...extra, power });
      const gates = [...rs.values()].filter((r) => r.type === gateType);
      expect(gates.length).toBeGreaterThan(0);
      for (const gate of gates) {
        expect(JSON.stringify(gate.inputs.triggers ?? [])).not.toMatch(/active|shelved/);
      }
    }
  });
});

function optionsOf(r: Recorded) {
  return {
    parent: r.parent,
    dependsOn: [...r.dependsOn].sort(),
    provider: r.provider,
    deletedWith: r.deletedWith,
    ignoreChanges: r.ignoreChanges,
    replacementTrigger: r.replacementTrigger,
    deleteBeforeReplace: r.deleteBeforeReplace,
  };
}

describe("the power setting", () => {
  const bad = (raw: RawConfig): string => {
    try {
      parseStackConfig(raw, { stackName: "alice", now });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("config was accepted");
  };

  test("defaults to active and accepts shelved on jetstream", () => {
    expect(parseStackConfig(student, { stackName: "alice", now }).power).toBe("active");
    expect(
      parseStackConfig({ ...student, power: "shelved" }, { stackName: "alice", now }).power,
    ).toBe("shelved");
  });

  test.each([
    [
      "an unknown value",
      { ...student, power: "off" },
      '[power] must be "active" or "shelved", got "off"',
    ],
    [
      "shelved on target local",
      { buildImage: "true", power: "shelved" },
      "[power] shelved applies to target jetstream only (a shelved VM costs no SUs); on target local remove it, and stop a local notebook with `npm run down` (its volume stays)",
    ],
  ])("refuses %s", (_label, raw: RawConfig, message) => {
    expect(bad(raw)).toContain(message);
  });
});
