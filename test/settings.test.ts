/**
 * Bad workshop settings: each gets one problem naming its key and the fix, before anything is
 * created. Every row here was accepted, changed silently or crashed before.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import { parseConcurrency, parseSettings, readSettings } from "../workshop/settings";
import { repoRoot } from "./support/docker";
import { jetstreamSettings } from "./support/workshopFixtures";

/**
 * readSettings in a child process with a time limit: before the fix, /dev/zero filled memory and a
 * FIFO blocked the reading thread, which no in-process timeout can interrupt.
 */
function problemsInChild(file: string): string[] {
  const script = `const { readSettings } = require(${JSON.stringify(path.join(repoRoot, "workshop", "settings.ts"))});
try { readSettings(${JSON.stringify(file)}); console.log("[]"); }
catch (e) { console.log(JSON.stringify(e.problems ?? [String(e)])); }`;
  const out = execFileSync(path.join(repoRoot, "node_modules", ".bin", "tsx"), ["-e", script], {
    timeout: 30_000,
    encoding: "utf8",
  });
  return JSON.parse(out) as string[];
}

const base = jetstreamSettings;
const file = "/srv/class/workshop.yaml";

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("the input was accepted");
}

describe("settings the stack would read differently are refused", () => {
  test.each([
    [
      "a day that does not exist (the stack's own rule)",
      { expires: "2030-02-31" },
      '[expires] must be a date YYYY-MM-DD such as 2030-06-30, got "2030-02-31"',
    ],
    [
      "a workshop name the stack refuses (an R-LDH label)",
      { workshop: "ab--cd" },
      '[workshop] must be free of "--" in its third and fourth characters (reserved for internationalized names; Let\'s Encrypt refuses them), got "ab--cd"',
    ],
    [
      "a flavor the stack does not know",
      { flavor: "m3.huge" },
      expect.stringMatching(
        /^\[flavor\] must be a Jetstream2 flavor \(m3\.tiny, .*\), got "m3\.huge"$/,
      ),
    ],
    [
      "a roster given as a list",
      { roster: ["a.csv"] },
      "[roster] must be one file path (text), got a list: write roster: roster.csv",
    ],
    [
      "a handouts folder given as a list",
      { handoutsDir: ["x"] },
      "[handoutsDir] must be one folder path (text), got a list: write handoutsDir: handouts",
    ],
    [
      "an export folder given as a mapping",
      { exportDir: { a: 1 } },
      "[exportDir] must be one folder path (text), got a mapping: write exportDir: exports",
    ],
    [
      "an empty export folder",
      { exportDir: "" },
      '[exportDir] is empty: remove the line for the default ("exports", next to this file) or name a folder',
    ],
    [
      "a backend URL given as a list",
      { backend: { url: ["s3://bucket"] } },
      "[backend.url] must be one backend URL (text) such as s3://bucket/prefix or file://./state, got a list",
    ],
    [
      "a backend URL given as a number",
      { backend: { url: 5 } },
      "[backend.url] must be one backend URL (text) such as s3://bucket/prefix or file://./state, got 5",
    ],
    [
      "a hexadecimal concurrency",
      { concurrency: "0x10" },
      '[concurrency] must be a whole number from 1 to 64, got "0x10"',
    ],
    [
      "an exponent concurrency",
      { concurrency: "1e1" },
      '[concurrency] must be a whole number from 1 to 64, got "1e1"',
    ],
    [
      "a 200-character stack prefix",
      { stackPrefix: "a".repeat(200) },
      `[stackPrefix] must be at most 67 characters (a stack name, <stackPrefix>-<student>, is at most 100 and a student id up to 32), got "${"a".repeat(60)}"... (200 characters)`,
    ],
    [
      "NUL in a value",
      { network: "net\u0000work" },
      "[network] contains U+0000 (NUL): retype the value without it",
    ],
    [
      "a bidi override in a value",
      { workshop: "intro\u202e" },
      "[workshop] contains U+202E (a bidi override, which reverses how text is shown): retype the value without it",
    ],
    [
      "a backtick in acmeEmail (Caddy's quote character)",
      { acmeEmail: "i`@example.edu" },
      '[acmeEmail] must be an email address such as instructor@example.edu, got "i`@example.edu"',
    ],
    [
      "a backtick in acmeCa",
      { acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory`" },
      "[acmeCa] must be the https:// URL of an ACME directory, such as Let's Encrypt's staging https://acme-staging-v02.api.letsencrypt.org/directory, got \"https://acme-staging-v02.api.letsencrypt.org/directory`\"",
    ],
    [
      "a recursive alias",
      {
        workshop: ((): unknown[] => {
          const a: unknown[] = [];
          a.push(a);
          return a;
        })(),
      },
      "[workshop] must be a single value (text), got a list",
    ],
  ])("%s", (_what, change, message) => {
    expect(problemsOf(() => parseSettings({ ...base, ...change }, file))).toEqual([message]);
  });

  test("a world-open sshCidr is accepted with a loud warning", () => {
    const s = parseSettings({ ...base, sshCidr: "0.0.0.0/0" }, file);
    expect(s.warnings).toEqual([
      expect.stringMatching(
        /^\[sshCidr\] is 0\.0\.0\.0\/0: every address on the internet may try to log in/,
      ),
    ]);
    expect(parseSettings(base, file).warnings).toEqual([]);
  });

  test("an expired workshop is still read (down and reap run after the last day)", () => {
    expect(parseSettings({ ...base, expires: "2020-01-31" }, file).expires).toBe("2020-01-31");
  });
});

describe("parseConcurrency (the --concurrency flag)", () => {
  test.each(["1", "8", "64"])("accepts %s", (text) => {
    expect(parseConcurrency(text)).toBe(Number(text));
  });
  test.each(["0x8", "1e1", "0", "65", "8.5", " 8", "", "eight", "08"])("refuses %j", (text) => {
    expect(problemsOf(() => parseConcurrency(text))).toEqual([
      `--concurrency must be a whole number from 1 to 64, got ${JSON.stringify(text)}`,
    ]);
  });
});

describe("readSettings reads only a regular file of sensible size", () => {
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-settings-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a recursive YAML alias is one clear problem, not a TypeError", () => {
    const f = path.join(dir, "alias.yaml");
    fs.writeFileSync(f, "workshop: &a [*a]\ntarget: local\nexpires: 2030-06-30\n");
    expect(problemsOf(() => readSettings(f))).toEqual([
      "[workshop] must be a single value (text), got a list",
    ]);
  });

  test("/dev/zero is refused at once", () => {
    expect(problemsInChild("/dev/zero")).toEqual([
      "is a character device, not a file: give the path of the settings file, such as workshop.yaml",
    ]);
  });

  test("a FIFO is refused without waiting for a writer", () => {
    const fifo = path.join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    expect(problemsInChild(fifo)).toEqual([
      "is a FIFO, not a file: give the path of the settings file, such as workshop.yaml",
    ]);
  });

  test("a file over 1 MiB is refused", () => {
    const big = path.join(dir, "big.yaml");
    fs.writeFileSync(big, `# ${"x".repeat(1024 * 1024)}\n`);
    expect(problemsOf(() => readSettings(big))).toEqual([
      "is 1048579 bytes, more than the 1048576 a settings file may have: check the path",
    ]);
  });

  test("a missing file says how to start", () => {
    expect(problemsOf(() => readSettings(path.join(dir, "none.yaml")))).toEqual([
      "cannot be read (no such file): copy workshop.example.yaml to start",
    ]);
  });
});
