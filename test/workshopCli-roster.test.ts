/**
 * Rosters exported from an LMS, as an instructor runs them: the id column picked by `--id-column`
 * or the `idColumn` setting, and ids derived from emails or names shown by `plan`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli, writeSettings } = ws;

const writeRoster = (text: string) => fs.writeFileSync(path.join(ws.dir, "roster.csv"), text);

test("--id-column picks the id column for plan and up", async () => {
  writeRoster("NetID,Full Name\nada,Ada Lovelace\nbob,Bob Tables\n");
  const planned = await cli(["plan", "--skip-quota", "--id-column", "NetID"]);
  expect(planned).toMatchObject({ code: 0, stderr: "" });
  expect(planned.stdout).toContain("2 students");
  const up = await cli(["up", "--skip-quota", "--id-column", "NetID", "--student", "bob"]);
  expect(up.code).toBe(0);
  expect([...ws.sim.stacks.keys()]).toEqual(["intro-bob"]);
});

test("the idColumn setting does the same; the flag wins over it", async () => {
  writeSettings({ idColumn: "login" });
  writeRoster("Login,Other\nada,x1\nbob,x2\n");
  expect((await cli(["plan", "--skip-quota"])).code).toBe(0);
  const flag = await cli(["plan", "--skip-quota", "--id-column", "other"]);
  expect(flag.code).toBe(0);
  expect((await cli(["status", "--json", "--id-column", "other"])).stdout).toContain('"x2"');
});

test("an unknown id column is one clear error naming the columns found", async () => {
  writeRoster("NetID,Full Name\nada,Ada\n");
  const r = await cli(["plan", "--skip-quota", "--id-column", "username"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    'line 1: --id-column "username" is not a column of the roster; the columns found are "netid", "full name"',
  );
  writeSettings({ idColumn: "username" });
  const setting = await cli(["plan", "--skip-quota"]);
  expect(setting.code).toBe(2);
  expect(setting.stderr).toMatch(/\[idColumn\] in .*workshop\.yaml "username" is not a column/);
});

test("plan shows the ids it derived from emails and names", async () => {
  writeRoster(
    "Full Name,Email Address\nZoë Ñúñez,zoe.nunez@uni.edu\nAda Lovelace,\nAda Lovelace,ada.lovelace@x.org\n",
  );
  const r = await cli(["plan", "--skip-quota"]);
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toContain(
    'ids derived from the email (else the name) by the rule in docs/workshop.md, "Ids from emails or names"; the students get these:',
  );
  expect(r.stdout).toContain("  line 2  zoe-nunez       from email zoe.nunez@uni.edu");
  expect(r.stdout).toContain("  line 3  ada-lovelace    from name Ada Lovelace");
  expect(r.stdout).toContain("  line 4  ada-lovelace-2  from email ada.lovelace@x.org");
});

test("a roster with its own ids prints no derived-id table", async () => {
  expect((await cli(["plan", "--skip-quota"])).stdout).not.toContain("ids derived");
});
