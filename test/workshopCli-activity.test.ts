/**
 * `workshop status` shows each notebook's last activity (its Jupyter server's `/api/status`
 * `last_activity`), in the table and in `--json`; a server that lies cannot break either.
 */
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

const ws = useWorkshopCli();
const { cli } = ws;

test("status shows each notebook's last activity; a lying server shows nothing", async () => {
  expect((await cli(["up", "--skip-quota"])).code).toBe(0);
  ws.sim.statusBody.set("intro-ada", { last_activity: "2030-06-29T11:45:00.123456Z" });
  ws.sim.statusBody.set("intro-bob", {
    last_activity: "2030-06-29T11:45:00Z\nmallory  intro-x  yes",
  });
  ws.sim.statusBody.set("intro-cy", "not json at all");

  const json = await cli(["status", "--json"]);
  expect(json.code).toBe(0);
  const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
  expect(rows.map((r) => [r.student, r.lastActivity])).toEqual([
    ["ada", "2030-06-29T11:45:00.123Z"],
    ["bob", null],
    ["cy", null],
  ]);

  const table = await cli(["status"]);
  expect(table.code).toBe(0);
  const lines = table.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/ notebook +last activity +expires +power/);
  expect(lines[1]).toMatch(/^ada .* healthy +2030-06-29 11:45 UTC \(15 min ago\) +2030-06-30/);
  expect(lines[2]).toMatch(/^bob .* healthy +- +2030-06-30/);
  expect(table.stdout).not.toContain("mallory");
});

test("a paused notebook is not asked", async () => {
  expect((await cli(["up", "--skip-quota", "--student", "ada"])).code).toBe(0);
  expect((await cli(["pause", "--student", "ada"])).code).toBe(0);
  const rows = JSON.parse((await cli(["status", "--json", "--student", "ada"])).stdout) as {
    lastActivity: unknown;
  }[];
  expect(rows[0].lastActivity).toBeNull();
});
