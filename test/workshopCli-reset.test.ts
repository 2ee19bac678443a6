/**
 * `workshop reset --student ID [--token]` over the simulated backend: it counts the stack's reset
 * settings up and runs that student's update alone (a fresh container on the same files; with
 * --token a new token, reprinted on the card); nobody else's stack is touched, and a later plain up
 * keeps the counters (it neither resets again nor undoes the reset).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli } = ws;
const ns = "jetstream-notebooks";
const stackOf = (id: string) => ws.sim.stacks.get(`intro-${id}`);
const setting = (id: string, key: string) => stackOf(id)?.config[`${ns}:${key}`]?.value;
const selectedCsv = () =>
  fs.readFileSync(path.join(ws.dir, "handouts", "selected", "handouts.csv"), "utf8");
const configs = (ids: string[]) => JSON.stringify(ids.map((id) => stackOf(id)?.config));

test("reset is in the command table with its help", async () => {
  expect((await cli(["help"])).stdout).toMatch(/^ {2}reset +\S/m);
  const { code, stdout } = await cli(["reset", "--help"]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^ {2}--token +\S/m);
  expect(stdout).toMatch(/^keeps: +.*volume/m);
});

test("reset without --student is refused before anything runs", async () => {
  const r = await cli(["reset"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("reset needs --student ID");
  expect(ws.sim.calls("up")).toHaveLength(0);
});

test("reset gives one student a fresh container on the same files; no one else changes", async () => {
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  const files = new Map(stackOf("ada")?.files);
  const token = stackOf("ada")?.token;
  const others = configs(["bob", "cy"]);
  const upsBefore = ws.sim.calls("up").length;
  const setsBefore = ws.sim.calls("setConfig").length;

  const r = await cli(["reset", "--student", "ada"]);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toContain("1 of 1 notebooks ready");
  expect(setting("ada", "resetGeneration")).toBe("1");
  expect(setting("ada", "tokenGeneration")).toBeUndefined();
  expect(stackOf("ada")?.containers).toBe(2);
  expect(stackOf("ada")?.token).toBe(token);
  expect(stackOf("ada")?.files).toEqual(files);
  // Only ada's stack was updated; the others' config is byte for byte what it was.
  expect(
    ws.sim
      .calls("up")
      .slice(upsBefore)
      .map((e) => e.stack),
  ).toEqual(["intro-ada"]);
  expect(
    ws.sim
      .calls("setConfig")
      .slice(setsBefore)
      .map((e) => e.stack),
  ).toEqual(["intro-ada"]);
  expect(configs(["bob", "cy"])).toBe(others);
  expect(selectedCsv()).toContain(token);
  expect(selectedCsv()).not.toMatch(/\bbob\b|\bcy\b/);
});

test("--token issues a new token and reprints the card; a later up keeps both", async () => {
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  const oldToken = stackOf("ada")?.token as string;
  const bobToken = stackOf("bob")?.token;

  const r = await cli(["reset", "--student", "ada", "--token"]);
  expect(r.code).toBe(0);
  const newToken = stackOf("ada")?.token as string;
  expect(newToken).not.toBe(oldToken);
  expect([setting("ada", "resetGeneration"), setting("ada", "tokenGeneration")]).toEqual([
    "1",
    "1",
  ]);
  expect(selectedCsv()).toContain(newToken);
  expect(selectedCsv()).not.toContain(oldToken);
  expect(r.stdout).not.toContain(newToken);
  expect(stackOf("bob")?.token).toBe(bobToken);

  // A plain up neither resets again nor drops the counters (which would change the token back).
  const containers = stackOf("ada")?.containers;
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  expect([setting("ada", "resetGeneration"), setting("ada", "tokenGeneration")]).toEqual([
    "1",
    "1",
  ]);
  expect(stackOf("ada")?.token).toBe(newToken);
  expect(stackOf("ada")?.containers).toBe(containers);
});

test("a student without a stack, or a paused one, is refused with the fix", async () => {
  expect((await cli(["up", "--skip-quota", "--student", "ada"])).code).toBe(0);
  const none = await cli(["reset", "--student", "bob"]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain(
    "--student bob: has no stack yet, so nothing to reset; bring it up with `npm run workshop -- add --student bob`",
  );
  expect((await cli(["pause", "--student", "ada"])).code).toBe(0);
  const paused = await cli(["reset", "--student", "ada"]);
  expect(paused.code).toBe(2);
  expect(paused.stderr).toContain(
    "--student ada: is paused (its VM is shelved); `npm run workshop -- resume --student ada` first",
  );
  expect(setting("ada", "resetGeneration")).toBeUndefined();
});
