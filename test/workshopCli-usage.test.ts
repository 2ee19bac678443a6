/**
 * `workshop usage` as an instructor types it, over the simulated backend whose updates carry the
 * times the test sets: SUs spent so far, per student and in total, against a table worked by hand.
 */
import { useWorkshopCli } from "./support/workshopCli";

jest.setTimeout(30_000);

let clock = "2030-06-28T09:00:00.000Z";
const ws = useWorkshopCli({ backend: () => ({ clock: () => clock }) });
const { cli } = ws;

beforeEach(() => {
  clock = "2030-06-28T09:00:00.000Z";
});

// Worked by hand; m3.small (the settings' default flavor) is 2 SU/h; now is 2030-06-29 12:00.
//   ada: up 06-28 09:00, paused 17:00          8 h active x 2 = 16, 19 h shelved x 0 = 0 ->  16
//   bob: up 06-28 09:00, active until now      27 h active x 2                          ->  54
//   cy:  up 06-29 06:00, active until now       6 h active x 2                          ->  12
//   total                                                                                    82
// plan's forecast from now: ceil(35.99 h to the end of 06-30) = 36 h x 2 SU/h x 3 = 216.
async function week(): Promise<void> {
  expect((await cli(["up", "--skip-quota", "--student", "ada", "--student", "bob"])).code).toBe(0);
  clock = "2030-06-28T17:00:00.000Z";
  expect((await cli(["pause", "--student", "ada"])).code).toBe(0);
  clock = "2030-06-29T06:00:00.000Z";
  expect((await cli(["up", "--skip-quota", "--student", "cy"])).code).toBe(0);
}

test("usage is in the command table with its help", async () => {
  expect((await cli(["help"])).stdout).toMatch(/^ {2}usage +\S/m);
  const { code, stdout } = await cli(["usage", "--help"]);
  expect(code).toBe(0);
  expect(stdout).toContain("--json");
  expect(stdout).toMatch(/^writes: +nothing/m);
});

test("--json: SUs per student and in total match the hand-computed table", async () => {
  await week();
  const { code, stdout, stderr } = await cli(["usage", "--json"]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  const report = JSON.parse(stdout) as {
    students: { student: string; su: number; activeHours: number; shelvedHours: number }[];
    totalSu: number;
    forecast: { hours: number; suPerHour: number; students: number; su: number };
  };
  expect(report.students.map((s) => [s.student, s.su, s.activeHours, s.shelvedHours])).toEqual([
    ["ada", 16, 8, 19],
    ["bob", 54, 27, 0],
    ["cy", 12, 6, 0],
  ]);
  expect(report.totalSu).toBe(82);
  expect(report.forecast).toEqual({ hours: 36, suPerHour: 2, students: 3, su: 216 });
});

test("the table prints each student, the total and plan's forecast beside it", async () => {
  await week();
  const { code, stdout } = await cli(["usage"]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^ada +intro-ada +16 +8 +19 +shelved/m);
  expect(stdout).toMatch(/^bob +intro-bob +54 +27 +0 +active/m);
  expect(stdout).toContain("spent so far: 82 SUs");
  expect(stdout).toContain(
    "plan's forecast for the rest: 2 SU/hour x 3 students x 36 hours until the end of 2030-06-30 = 216 SUs (every VM active)",
  );
});

test("a student without a stack has spent nothing; --student picks one", async () => {
  expect((await cli(["up", "--skip-quota", "--student", "ada"])).code).toBe(0);
  const all = JSON.parse((await cli(["usage", "--json"])).stdout) as {
    students: { student: string; su: number; exists: boolean }[];
  };
  expect(all.students.map((s) => [s.student, s.exists, s.su])).toEqual([
    ["ada", true, 54],
    ["bob", false, 0],
    ["cy", false, 0],
  ]);
  const one = JSON.parse((await cli(["usage", "--json", "--student", "bob"])).stdout) as {
    students: unknown[];
    totalSu: number;
  };
  expect(one.students).toHaveLength(1);
  expect(one.totalSu).toBe(0);
});

test("on target local nothing is charged and the backend is not read", async () => {
  ws.writeSettings({ target: "local" });
  const r = await cli(["usage"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("target local runs on this machine: it spends no SUs");
  expect(ws.sim.calls("updates")).toHaveLength(0);
});
