/**
 * `workshop pause` and `workshop resume` as an instructor types them, in-process, with the
 * simulated backend behind the driver (a shelved stack's notebook does not answer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { useWorkshopCli } from "./support/workshopCli";
import { repoRoot } from "./support/docker";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli, writeSettings } = ws;

const power = (id: string) =>
  ws.sim.stacks.get(`intro-${id}`)?.config["jetstream-notebooks:power"]?.value;

test.each(["pause", "resume"])(
  "%s is in the command table, with what it needs, writes, takes and returns",
  async (command) => {
    expect((await cli(["help"])).stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
    const { code, stdout } = await cli([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^needs: {6}.*OS_APPLICATION_CREDENTIAL_SECRET/m);
    expect(stdout).toMatch(/^writes: {5}power: (shelved|active) in each selected student's stack/m);
    expect(stdout).toMatch(/^time: {7}\S/m);
    expect(stdout).toMatch(/^exit codes: 0 .*; 2 /m);
    expect(stdout).toContain("--student ID");
    const docs = /^docs: +docs\/workshop\.md, "(.+)"$/m.exec(stdout);
    const headings = fs
      .readFileSync(path.join(repoRoot, "docs", "workshop.md"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("## "))
      .map((l) => l.slice(3));
    expect(headings).toContain(docs?.[1]);
  },
);

test("pause says what it saves; the docs give Jetstream2's rates", async () => {
  expect((await cli(["help", "pause"])).stdout).toMatch(/^saves: +.*0% .*active 100%/m);
  const doc = fs.readFileSync(path.join(repoRoot, "docs", "workshop.md"), "utf8");
  const section = doc.split("## Between sessions: pause and resume")[1]?.split("\n## ")[0] ?? "";
  expect(section).toMatch(/active 100%,\s+suspended 75%,\s+stopped 50%,\s+shelved 0%/);
  expect(section).toContain("15 minutes");
});

test("pause, a late student's up, then resume: URLs unchanged and reported", async () => {
  expect((await cli(["up", "--skip-quota", "--student", "ada", "--student", "bob"])).code).toBe(0);
  const csv = path.join(ws.dir, "handouts", "selected", "handouts.csv");
  const urls = fs.readFileSync(csv, "utf8");

  const paused = await cli(["pause", "--student", "ada", "--student", "bob"]);
  expect(paused).toMatchObject({ code: 0, stderr: "" });
  expect(paused.stdout).toContain("2 of 2 paused");
  expect(["ada", "bob", "cy"].map(power)).toEqual(["shelved", "shelved", undefined]);

  // The late student's up leaves the class paused and counts it as no failure.
  const late = await cli(["up", "--skip-quota"]);
  expect(late.code).toBe(0);
  expect(late.stdout).toContain("1 of 3 notebooks ready, 2 paused");
  expect(["ada", "bob", "cy"].map(power)).toEqual(["shelved", "shelved", undefined]);

  const resumed = await cli(["resume", "--student", "ada", "--student", "bob"]);
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toContain("2 of 2 notebooks ready");
  expect(["ada", "bob"].map(power)).toEqual(["active", "active"]);
  expect(fs.readFileSync(csv, "utf8")).toBe(urls);
});

test("on target local pause is refused before anything runs", async () => {
  writeSettings({ target: "local" });
  const r = await cli(["pause"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    "pause shelves Jetstream2 VMs; target local has none: stop local notebooks with `npm run workshop -- down` instead (their volumes stay)",
  );
  expect(ws.sim.calls("up")).toHaveLength(0);
});

describe("status of a paused class", () => {
  test("says paused since the update that shelved it, and --json gives rows without URLs", async () => {
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    expect((await cli(["pause", "--student", "bob"])).code).toBe(0);
    const shelvedAt = ws.sim.stacks.get("intro-bob")?.updates?.at(-1)?.time;
    // A later plain up keeps bob paused; his pause still dates from the update that shelved him.
    expect((await cli(["up", "--skip-quota", "--force-update"])).code).toBe(0);
    expect(ws.sim.stacks.get("intro-bob")?.updates?.at(-1)?.time).not.toBe(shelvedAt);

    const table = await cli(["status"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`^bob +intro-bob +yes .*paused since ${shelvedAt}`, "m"),
    );
    expect(table.stdout).not.toContain("token=");

    const json = await cli(["status", "--json"]);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => Object.keys(r))).toEqual(
      Array(3).fill([
        "student",
        "stack",
        "exists",
        "power",
        "lastUpdate",
        "lastResult",
        "health",
        "expires",
      ]),
    );
    expect(rows.map((r) => [r.student, r.power, r.health])).toEqual([
      ["ada", "active", "healthy"],
      ["bob", "shelved", `paused since ${shelvedAt}`],
      ["cy", "active", "healthy"],
    ]);
    expect(json.stdout).not.toContain("token=");

    const withUrls = JSON.parse((await cli(["status", "--json", "--urls"])).stdout) as {
      url: string;
    }[];
    expect(withUrls.every((r) => /\/lab\?token=[0-9a-f]{32}$/.test(r.url))).toBe(true);
  });
});
