/**
 * Random and hostile input for the three parsers an instructor feeds (roster, settings, stack
 * config): no crash (only InputError), every problem naming its key or line, and hostile
 * characters never accepted silently. A seeded run: the same inputs on every machine.
 */
import fc from "fast-check";
import { parseStackConfig, configKeys } from "../lib/config";
import { InputError } from "../lib/rules/problems";
import { parseRoster } from "../workshop/roster";
import { parseSettingsText } from "../workshop/settings";

const runs = 400;
const hostile = ["\u0000", "\u202e", "\u2066", "\u0007", "\u200b"];
const named = /^(\[[^\]]+\] |line \d+: |is |cannot |the file )/;

interface Tally {
  tried: number;
  clear: number;
  crashes: number;
  silent: number;
  accepted: number;
}

function check(tally: Tally, mustRefuse: boolean, run: () => unknown): boolean {
  tally.tried++;
  try {
    run();
  } catch (e) {
    if (
      e instanceof InputError &&
      e.problems.length > 0 &&
      e.problems.every((p) => named.test(p))
    ) {
      tally.clear++;
      return true;
    }
    tally.crashes++;
    return false;
  }
  if (mustRefuse) {
    tally.silent++;
    return false;
  }
  tally.accepted++;
  return true;
}

const tallies: Record<string, Tally> = {};
const tally = (name: string): Tally =>
  (tallies[name] ??= { tried: 0, clear: 0, crashes: 0, silent: 0, accepted: 0 });

afterAll(() => {
  // The figures for the record: tried / clear errors / crashes / silent acceptances.
  process.stdout.write(`${JSON.stringify(tallies)}\n`);
});

const cell = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("ada", "bob", "Ada Lovelace", "a@b.org", '"', '""', ",", "\n", "\r\n", ";", "\t"),
  fc.constantFrom(...hostile),
);

test("roster: random CSV text", () => {
  const t = tally("roster");
  fc.assert(
    fc.property(fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 8 }), (rows) => {
      const text = rows.map((r) => r.join(",")).join("\n");
      return check(t, false, () => parseRoster(text));
    }),
    { numRuns: runs, seed: 10 },
  );
});

test("roster: a valid roster with a hostile character in a used cell is refused", () => {
  const t = tally("roster-hostile");
  fc.assert(
    fc.property(fc.constantFrom(...hostile), fc.nat(2), (h, col) => {
      const cells = ["ada", "Ada", "ada@example.org"];
      cells[col] = `${cells[col].slice(0, 1)}${h}${cells[col].slice(1)}`;
      return check(t, true, () => parseRoster(`id,name,email\n${cells.join(",")}\n`));
    }),
    { numRuns: 50, seed: 11 },
  );
});

const settingsKeys = [
  "workshop",
  "target",
  "expires",
  "flavor",
  "roster",
  "exportDir",
  "concurrency",
  "backend",
  "stackPrefix",
  "sshCidr",
  "acmeEmail",
  "network",
];
const yamlValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.constantFrom(
    "[a, b]",
    "{a: 1}",
    "''",
    "&a [*a]",
    "0x10",
    "1e1",
    "2030-02-31",
    "0.0.0.0/0",
    "null",
    "~",
  ),
  fc.constantFrom(...hostile).map((h) => JSON.stringify(`in${h}tro`)),
);

test("settings: random YAML", () => {
  const t = tally("settings");
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...settingsKeys), yamlValue, { maxKeys: 8 }),
      fc.string({ maxLength: 30 }),
      (doc, noise) => {
        const text = `${Object.entries(doc)
          .map(([k, v]) => `${k}: ${typeof v === "number" ? v : v}`)
          .join("\n")}\n${noise}`;
        return check(t, false, () => parseSettingsText(text, "/srv/workshop.yaml"));
      },
    ),
    { numRuns: runs, seed: 12 },
  );
});

test("stack config: random values for every key", () => {
  const t = tally("stack-config");
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      "jetstream",
      "local",
      "true",
      "2030-06-30",
      "0.0.0.0/0",
      "010.0.0.1/32",
      "ab--cd",
      "m3.small",
    ),
    fc.constantFrom(...hostile).map((h) => `x${h}`),
  );
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...configKeys, "bogus"), value, { maxKeys: 10 }),
      (raw) => {
        const mustRefuse = Object.values(raw).some((v) => hostile.some((h) => v.includes(h)));
        return check(t, mustRefuse, () =>
          parseStackConfig(raw, { stackName: "alice", now: new Date("2030-01-01") }),
        );
      },
    ),
    { numRuns: runs, seed: 13 },
  );
});
