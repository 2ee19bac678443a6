/**
 * `plan` lists the stacks another workshop may hold under this workshop's stack names: a stack that
 * exists and splits into another stack prefix and student that the backend shows in use, and a stack
 * whose name differs from one of ours only in letter case (one file on a case-insensitive disk).
 */
import { nameCollisions } from "../workshop/nameCollisions";
import { plan } from "../workshop/plan";
import { parseSettings } from "../workshop/settings";

const file = "/srv/class/workshop.yaml";
const settingsFor = (workshop: string, stackPrefix?: string) =>
  parseSettings(
    {
      workshop,
      ...(stackPrefix !== undefined ? { stackPrefix } : {}),
      target: "jetstream",
      expires: "2030-06-30",
      image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
      sshCidr: "203.0.113.7/32",
    },
    file,
  );
const roster = (...ids: string[]) => ids.map((id, i) => ({ id, line: i + 2 }));

test("workshop intro's py-ada against workshop intro-py's stacks", () => {
  expect(
    nameCollisions(
      settingsFor("intro"),
      roster("py-ada", "bob"),
      new Set(["intro-py-ada", "intro-py-cy", "intro-bob"]),
    ),
  ).toEqual([
    "student py-ada: stack intro-py-ada exists and may be stack prefix intro-py's student ada (the backend also holds intro-py-cy); `up` refuses it if its config names another workshop or student. Give this workshop a stackPrefix of its own if it is not yours.",
  ]);
});

test("the other way round: workshop intro-py's ada against workshop intro's stacks", () => {
  expect(
    nameCollisions(
      settingsFor("intro-py"),
      roster("ada", "cy"),
      new Set(["intro-py-ada", "intro-py-cy", "intro-bob", "intro-zoe"]),
    ),
  ).toEqual([
    "student ada: stack intro-py-ada exists and may be stack prefix intro's student py-ada (the backend also holds intro-bob, intro-zoe); `up` refuses it if its config names another workshop or student. Give this workshop a stackPrefix of its own if it is not yours.",
    "student cy: stack intro-py-cy exists and may be stack prefix intro's student py-cy (the backend also holds intro-bob, intro-zoe); `up` refuses it if its config names another workshop or student. Give this workshop a stackPrefix of its own if it is not yours.",
  ]);
});

test("ids that collide after normalisation: a stack differing only in letter case", () => {
  expect(
    nameCollisions(
      settingsFor("intro", "Intro"),
      roster("ada", "bob"),
      new Set(["intro-ada", "Intro-bob"]),
    ),
  ).toEqual([
    "student ada: stack Intro-ada and the existing stack intro-ada differ only in letter case: a file backend on a case-insensitive disk (macOS, Windows) keeps them in one file. Choose a stackPrefix no other workshop uses in any case.",
  ]);
});

test("nothing to say: only this workshop's own stacks, or none", () => {
  expect(nameCollisions(settingsFor("intro"), roster("ada", "py-bob"), new Set())).toEqual([]);
  expect(
    nameCollisions(
      settingsFor("intro"),
      roster("ada", "py-bob", "py-cy"),
      new Set(["intro-ada", "intro-py-bob", "intro-py-cy"]),
    ),
  ).toEqual([]);
  // A stack of ours whose other split names no stack prefix in use.
  expect(nameCollisions(settingsFor("intro-py"), roster("ada"), new Set(["intro-py-ada"]))).toEqual(
    [],
  );
});

test("plan reports them among its warnings", async () => {
  const report = await plan({
    settings: settingsFor("intro"),
    students: roster("py-ada"),
    secrets: {},
    now: new Date("2030-06-29T12:00:00Z"),
    existingStacks: new Set(["intro-py-ada", "intro-py-cy"]),
  });
  expect(report.warnings).toContain(
    "student py-ada: stack intro-py-ada exists and may be stack prefix intro-py's student ada (the backend also holds intro-py-cy); `up` refuses it if its config names another workshop or student. Give this workshop a stackPrefix of its own if it is not yours.",
  );
});
