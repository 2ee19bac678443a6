/**
 * `workshop reset` under mocks: a bumped `resetGeneration` gives the notebook container a new
 * replacement trigger and changes nothing else; a bumped `tokenGeneration` also gives the token a
 * new keeper (a new password) and so the container a new token. The volume, the VM and everything
 * else keep every input and option. What this cannot prove: that the engine replaces only these
 * (that is the engine's diff of what the program declares); reset.test.ts runs the replaced
 * container on the real engine with the same volume.
 */
import { parseStackConfig, type RawConfig } from "../lib/config";
import { fakeDigest, type Recorded } from "./mocks";
import { declared as declaredFor, usePrivateTmpdir } from "./support/declared";

const now = new Date("2030-03-01T00:00:00Z");
const jetstream: RawConfig = {
  target: "jetstream",
  student: "alice",
  workshop: "hpc",
  expires: "2030-03-05",
  image: `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("instructor-image")}`,
  sshCidr: "203.0.113.7/32",
  allocation: "cis230000",
};
const local: RawConfig = { target: "local", student: "alice", workshop: "hpc", buildImage: "true" };
const containerKey = "docker:index/container:Container::hpc-alice-notebook";
const tokenKey = "random:index/randomPassword:RandomPassword::hpc-alice-token";

usePrivateTmpdir("jn-reset-");
const declared = (raw: RawConfig) => declaredFor(raw, now);

function optionsOf(r: Recorded) {
  return {
    parent: r.parent,
    dependsOn: [...r.dependsOn].sort(),
    provider: r.provider,
    deletedWith: r.deletedWith,
    ignoreChanges: r.ignoreChanges,
    replacementTrigger: r.replacementTrigger,
    deleteBeforeReplace: r.deleteBeforeReplace,
    retainOnDelete: r.retainOnDelete,
  };
}

/** Every input or option that differs, by resource. */
async function differences(
  from: RawConfig,
  to: RawConfig,
): Promise<{ resource: string; key: string; from: unknown; to: unknown }[]> {
  const a = await declared(from);
  const b = await declared(to);
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  const out: { resource: string; key: string; from: unknown; to: unknown }[] = [];
  for (const [resource, ra] of a) {
    const rb = b.get(resource) as Recorded;
    const fields: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ["", ra.inputs, rb.inputs],
      ["opts.", optionsOf(ra), optionsOf(rb)],
    ];
    for (const [prefix, x, y] of fields) {
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (JSON.stringify(x[key]) !== JSON.stringify(y[key])) {
          out.push({ resource, key: `${prefix}${key}`, from: x[key], to: y[key] });
        }
      }
    }
  }
  return out;
}

describe.each([
  ["jetstream", jetstream],
  ["local", local],
])("reset on target %s", (_label, base) => {
  test("a new resetGeneration changes only the container's replacement trigger", async () => {
    expect(await differences(base, { ...base, resetGeneration: "1" })).toEqual([
      { resource: containerKey, key: "opts.replacementTrigger", from: undefined, to: "1" },
    ]);
    expect(
      await differences({ ...base, resetGeneration: "1" }, { ...base, resetGeneration: "2" }),
    ).toEqual([{ resource: containerKey, key: "opts.replacementTrigger", from: "1", to: "2" }]);
  });

  test("with a new tokenGeneration the token is a new password and the container gets it", async () => {
    const diff = await differences(
      { ...base, resetGeneration: "1" },
      { ...base, resetGeneration: "2", tokenGeneration: "1" },
    );
    expect(diff.map((d) => `${d.resource} ${d.key}`).sort()).toEqual(
      [
        `${containerKey} envs`,
        `${containerKey} opts.replacementTrigger`,
        `${tokenKey} keepers`,
      ].sort(),
    );
    expect(diff.find((d) => d.key === "keepers")).toMatchObject({
      from: undefined,
      to: { tokenGeneration: "1" },
    });
  });

  test("a stack without the settings declares what it always did (no replacement on upgrade)", async () => {
    expect(
      await differences(base, { ...base, resetGeneration: "0", tokenGeneration: "0" }),
    ).toEqual([]);
  });
});

describe("the reset settings", () => {
  test.each(["resetGeneration", "tokenGeneration"])("%s must be a whole number", (key) => {
    expect(() =>
      parseStackConfig({ ...jetstream, [key]: "-1" }, { stackName: "alice", now }),
    ).toThrow(`[${key}] must be a whole number from 0 (set by \`workshop reset\`), got "-1"`);
  });
});
