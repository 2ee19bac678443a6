/**
 * `workshop add` for a late student, over the simulated backend: the new roster row is validated,
 * only that student's stack is created and updated, and only that student's card is written; every
 * other stack's config (port, URL inputs) is byte for byte what it was.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli } = ws;
const stackOf = (id: string) => ws.sim.stacks.get(`intro-${id}`);
const configs = (ids: string[]) => JSON.stringify(ids.map((id) => stackOf(id)?.config));
const selectedCsv = () =>
  fs.readFileSync(path.join(ws.dir, "handouts", "selected", "handouts.csv"), "utf8");
const roster = (text: string) => fs.writeFileSync(path.join(ws.dir, "roster.csv"), text);

/** Stacks touched by calls of `op` after the first `from` events. */
const touched = (op: "up" | "setConfig" | "select", from: number) => [
  ...new Set(
    ws.sim.events
      .slice(from)
      .filter((e) => e.op === op && e.phase === "start")
      .map((e) => e.stack),
  ),
];

test("add is in the command table with its help", async () => {
  expect((await cli(["help"])).stdout).toMatch(/^ {2}add +\S/m);
  const { code, stdout } = await cli(["add", "--help"]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^refuses: +.*already has a stack/m);
});

test.each([
  ["--student cy", ["add", "--skip-quota", "--student", "cy"]],
  ["the roster's rows without a stack", ["add", "--skip-quota"]],
])("add (%s) brings up only the late student; no one else changes", async (_label, argv) => {
  expect((await cli(["up", "--skip-quota", "--student", "ada", "--student", "bob"])).code).toBe(0);
  const before = configs(["ada", "bob"]);
  const from = ws.sim.events.length;

  const r = await cli(argv);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toContain("1 of 1 notebooks ready");
  expect(touched("up", from)).toEqual(["intro-cy"]);
  expect(touched("setConfig", from)).toEqual(["intro-cy"]);
  expect(configs(["ada", "bob"])).toBe(before);
  const csv = selectedCsv();
  expect(csv).toContain(stackOf("cy")?.token);
  expect(csv).not.toContain(stackOf("ada")?.token);
  expect(csv).not.toContain(stackOf("bob")?.token);
});

test("on target local a row inserted at the top moves no one's port", async () => {
  ws.writeSettings({ target: "local" });
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  const before = configs(["ada", "bob", "cy"]);
  roster("id,name\namy,Amy\nada,Ada\nbob,Bob\ncy,Cy\n");
  const r = await cli(["add", "--skip-quota", "--student", "amy"]);
  expect(r.code).toBe(0);
  expect(configs(["ada", "bob", "cy"])).toBe(before);
  const port = (id: string) => stackOf(id)?.config["jetstream-notebooks:notebookPort"]?.value;
  expect(new Set(["amy", "ada", "bob", "cy"].map(port)).size).toBe(4);
});

test("an id that already has a stack is refused, with what to run instead", async () => {
  expect((await cli(["up", "--skip-quota", "--student", "ada"])).code).toBe(0);
  const from = ws.sim.events.length;
  const r = await cli(["add", "--skip-quota", "--student", "ada"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    "--student ada: already has a stack (intro-ada); `npm run workshop -- up --student ada` updates it, `npm run workshop -- reset --student ada` gives it a fresh container",
  );
  expect(touched("up", from)).toEqual([]);
});

test("an id not on the roster is refused with the fix; nothing is created", async () => {
  const r = await cli(["add", "--skip-quota", "--student", "zed"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    "--student zed: not on the roster; add a row for the student to the roster first (id,name,email), then run add again",
  );
  expect(ws.sim.calls("select")).toHaveLength(0);
});

test("a bad new row is reported with its line before anything is created", async () => {
  roster("id,name,email\nada,Ada,\nbob,Bob,\ncy,Cy,\nZed Z,Zed,zed@\n");
  const r = await cli(["add", "--skip-quota", "--student", "zed"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('line 5: id "Zed Z" is not DNS-safe');
  expect(r.stderr).toContain('line 5: email "zed@" is not an address');
  expect(ws.sim.calls("select")).toHaveLength(0);
});

test("add with nobody new says so; with no stack at all it points to up", async () => {
  const none = await cli(["add", "--skip-quota"]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain(
    "no student has a stack yet: bring the class up with `npm run workshop -- up`",
  );
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  const all = await cli(["add", "--skip-quota"]);
  expect(all.code).toBe(0);
  expect(all.stdout).toContain("every student on the roster has a stack: nobody to add");
});
