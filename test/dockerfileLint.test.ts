/**
 * What docker/Dockerfile must keep, whatever packages or paths it gains: rules this project relies on,
 * read through dockerfile-ast. General Dockerfile lint (ADD, pinning, apt hygiene, pipefail, exec
 * form...) is hadolint's job in CI (.github/workflows/ci.yml, .hadolint.yaml). Each rule is also run
 * against the Dockerfile with that one rule broken, so no assertion here is one that cannot fail.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DockerfileParser, Label, type Instruction, type JSONInstruction } from "dockerfile-ast";
import { dockerContext } from "./support/docker";

const real = fs.readFileSync(path.join(dockerContext, "Dockerfile"), "utf8");

/** The final stage's instructions (the image that runs), with the source text for line checks. */
function finalStage(text: string) {
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  const start = froms[froms.length - 1]?.getRange().start.line ?? 0;
  const stage = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= start);
  const last = (keyword: string): Instruction | undefined =>
    stage.filter((i) => i.getKeyword() === keyword).pop();
  return { dockerfile, stage, last, lines: text.split(/\r?\n/) };
}
type Stage = ReturnType<typeof finalStage>;

const json = (i: Instruction | undefined): string[] =>
  i ? (i as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue()) : [];

/** Every `apt-get install` package list in the stage's RUNs: its lines, as written. */
function aptLists(s: Stage): string[][] {
  const lists: string[][] = [];
  for (const run of s.stage.filter((i) => i.getKeyword() === "RUN")) {
    const { start, end } = run.getRange();
    const body = s.lines.slice(start.line, end.line + 1);
    const at = body.findIndex((l) => /\bapt-get\b.*\binstall\b/.test(l));
    if (at < 0) continue;
    // The packages follow the install line, up to the next command of the chain.
    const list: string[] = [];
    for (const l of body.slice(at + 1)) {
      if (/^\s*(&&|\|\||;|\|)/.test(l)) break;
      list.push(l.replace(/\\\s*$/, "").trim());
    }
    lists.push(list);
  }
  return lists;
}

const LABELS = ["source", "revision", "version", "created"].map(
  (k) => `org.opencontainers.image.${k}`,
);

const rules: [string, (s: Stage) => void][] = [
  [
    "tini is the entrypoint, so signals reach the server and zombies are reaped",
    (s) => {
      const entry = json(s.last("ENTRYPOINT"));
      expect(entry[0]).toMatch(/(^|\/)tini$/);
      expect(entry.at(-1)).toBe("--");
    },
  ],
  [
    "a HEALTHCHECK runs a command (Docker's health status is what the tests and users wait on)",
    (s) => expect(s.last("HEALTHCHECK")?.getArgumentsContent()).toMatch(/^(--\S+\s+)*CMD\s/),
  ],
  [
    "the OCI labels trace a running container to its source and build",
    (s) => {
      const names = s.stage
        .filter((i): i is Label => i instanceof Label)
        .flatMap((l) => l.getProperties().map((p) => p.getName()));
      expect(LABELS.filter((l) => !names.includes(l))).toEqual([]);
    },
  ],
  [
    "apt packages are one per line and sorted, so a diff shows exactly what changed",
    (s) => {
      const lists = aptLists(s);
      expect(lists.length).toBeGreaterThan(0);
      for (const list of lists) {
        for (const line of list) expect(line).toMatch(/^[a-z0-9][a-z0-9.+:-]*$/);
        expect(list).toEqual([...list].sort());
      }
    },
  ],
  [
    "the server runs as a non-root USER",
    (s) => {
      const who = s.last("USER")?.getExpandedArguments()[0]?.getValue().split(":")[0];
      expect(who).toBeDefined();
      expect(who).not.toMatch(/^(root|0+)$/);
    },
  ],
];

/** Replaces the final stage's last `keyword` instruction (all its lines) with `by`. */
function replaceLast(text: string, keyword: string, by: string): string {
  const s = finalStage(text);
  const target = s.last(keyword);
  if (!target) throw new Error(`test setup: no ${keyword} in the Dockerfile`);
  const { start, end } = target.getRange();
  return [...s.lines.slice(0, start.line), by, ...s.lines.slice(end.line + 1)].join("\n");
}

/** Applies `edit` to the package lines of the first apt-get install. */
function editAptList(text: string, edit: (lines: string[]) => string[]): string {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => /\bapt-get\b.*\binstall\b/.test(l));
  let end = at + 1;
  while (end < lines.length && !/^\s*(&&|\|\||;|\|)/.test(lines[end])) end++;
  return [...lines.slice(0, at + 1), ...edit(lines.slice(at + 1, end)), ...lines.slice(end)].join(
    "\n",
  );
}

const broken: Record<string, string> = {
  tini: replaceLast(real, "ENTRYPOINT", 'ENTRYPOINT ["start-notebook.sh"]'),
  healthcheck: replaceLast(real, "HEALTHCHECK", "HEALTHCHECK NONE"),
  labels: real.replace(/^\s*org\.opencontainers\.image\.revision=.*$/m, ""),
  unsorted: editAptList(real, ([a, b, ...rest]) => [b, a, ...rest]),
  crowded: editAptList(real, ([a, b, ...rest]) => [
    `${a.replace(/\\\s*$/, "")} ${b.trim()}`,
    ...rest,
  ]),
  root: replaceLast(real, "USER", "USER root"),
};
const breaks: Record<string, string[]> = {
  tini: [rules[0][0]],
  healthcheck: [rules[1][0]],
  labels: [rules[2][0]],
  unsorted: [rules[3][0]],
  crowded: [rules[3][0]],
  root: [rules[4][0]],
};

describe("docker/Dockerfile", () => {
  test.each(rules)("%s", (_rule, check) => check(finalStage(real)));
});

describe.each(Object.keys(broken))("the Dockerfile with %s", (name) => {
  test("breaks that rule and no other", () => {
    const failed = rules
      .filter(([, check]) => {
        try {
          check(finalStage(broken[name]));
          return false;
        } catch {
          return true;
        }
      })
      .map(([rule]) => rule);
    expect(failed).toEqual(breaks[name]);
  });
});
