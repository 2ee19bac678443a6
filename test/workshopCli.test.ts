/**
 * The workshop command as an instructor types it: `run(argv, ...)` in-process, with the simulated
 * backend behind the driver, a clock of our choosing and streams we read. One smoke test starts the
 * real entry point, to show the self-start passes argv in and the exit code out.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { preferredPort } from "../workshop/localPorts";
import { SimulatedBackend } from "./support/simulated-driver";
import { useWorkshopCli } from "./support/workshopCli";
import { standInExporter } from "./support/standInExporter";
import { repoRoot } from "./support/docker";

jest.setTimeout(30_000);

const ws = useWorkshopCli({
  // Stacks report the image they run, as the program's do: the export's container runs it.
  backend: () => ({ extraOutputs: () => ({ imageRef: `sha256:${"b".repeat(64)}` }) }),
  // The simulated backend has no volumes to read; the real export is tested on the engine.
  runOptions: () => ({ exporter: standInExporter() }),
});
const { cli, writeSettings } = ws;
beforeEach(() => fs.writeFileSync(path.join(ws.dir, "bad.csv"), "id\nada\nAda\n"));

/** Every roster student's stack up in the simulated backend. */
async function everyoneUp(): Promise<void> {
  const r = await cli(["up", "--skip-quota"]);
  expect(r.code).toBe(0);
  expect([...ws.sim.stacks.keys()].sort()).toEqual(["intro-ada", "intro-bob", "intro-cy"]);
}

const destroyed = () => ws.sim.calls("destroy").map((e) => e.stack);

describe("help", () => {
  test("`help` lists every command, and `help <command>` explains one", async () => {
    const all = await cli(["help"]);
    expect(all.code).toBe(0);
    for (const c of ["plan", "up", "status", "export", "down", "reap"]) {
      expect(all.stdout).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
    }
    const down = await cli(["help", "down"]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^usage: npm run workshop -- down .*\[--student ID\]\.\.\./);
    expect(await cli(["down", "--help"])).toEqual(down);
    expect(await cli(["down", "-h"])).toEqual(down);
  });

  test.each(["plan", "up", "status", "export", "down", "reap"])(
    "%s --help says what it needs, writes and returns, and where the docs are",
    async (command) => {
      const { code, stdout } = await cli([command, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^needs: {6}\S/m);
      expect(stdout).toMatch(/^writes: {5}\S/m);
      expect(stdout).toMatch(/^exit codes: 0 .*; 2 /m);
      const docs = /^docs: +docs\/workshop\.md, "(.+)"$/m.exec(stdout);
      // The section it names exists (its title, without the markdown's backquotes).
      const headings = fs
        .readFileSync(path.join(repoRoot, "docs", "workshop.md"), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("## "))
        .map((l) => l.slice(3).replace(/`/g, ""));
      expect(headings).toContain(docs?.[1]);
      expect(stdout).toContain("--student ID");
    },
  );

  test("the backend and cloud variables are named where they are needed", async () => {
    expect((await cli(["help", "down"])).stdout).toMatch(
      /PULUMI_BACKEND_URL.*OS_APPLICATION_CREDENTIAL_SECRET/s,
    );
    expect((await cli(["help", "plan"])).stdout).toContain("OS_AUTH_URL");
    expect((await cli(["help", "status"])).stdout).not.toContain("OS_AUTH_URL");
  });

  test("help about a command that does not exist exits 2", async () => {
    const r = await cli(["help", "launch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no command "launch" to explain');
  });
});

describe("bad input exits 2 before anything is created", () => {
  test("a bad roster names the line", async () => {
    const r = await cli(["up", "--roster", "bad.csv"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 3: id "Ada" is not DNS-safe');
    expect(r.stderr).toContain("nothing was created");
    expect(ws.sim.calls("select")).toEqual([]);
  });

  test("plan without OpenStack credentials says what to set", async () => {
    const r = await cli(["plan"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("quota: OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID");
  });

  test("an unknown command, with the nearest one", async () => {
    const r = await cli(["launch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "launch"');
    expect((await cli(["dwon"])).stderr).toContain('unknown command "dwon"; did you mean down?');
  });

  test("an option the command does not use", async () => {
    const r = await cli(["up", "--force"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--force does not apply to up (only to down, mail, reap)");
  });

  test.each([["0"], ["65"], ["two"], ["0x8"], ["1e1"]])("--concurrency %s", async (n) => {
    const r = await cli(["status", "--concurrency", n]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--concurrency must be a whole number from 1 to 64, got ${JSON.stringify(n)}`,
    );
  });
});

describe("plan", () => {
  test("a good roster exits 0 with the SU estimate up to the end of the expiry day", async () => {
    const r = await cli(["plan", "--skip-quota"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "SU estimate: 2 SU/hour x 3 students x 36 hours until the end of 2030-06-30 = 216 SUs",
    );
  });

  test("--student plans for those students only", async () => {
    const r = await cli(["plan", "--skip-quota", "--student", "ada", "--student", "cy"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("workshop intro: 2 students");
  });
});

describe("a destructive command says exactly what it will destroy", () => {
  test("`down ada` is refused, not a teardown of the whole roster", async () => {
    await everyoneUp();
    const r = await cli(["down", "ada", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unexpected argument "ada": did you mean --student ada?');
    expect(r.stderr).toContain("options go after `--`");
    expect(destroyed()).toEqual([]);
    expect(ws.sim.stacks.size).toBe(3);
  });

  test("options npm kept for itself (no `--`) are refused", async () => {
    await everyoneUp();
    // `npm run workshop down --student ada` runs `cli.ts down ada` with npm_config_student=true.
    const r = await cli(["down", "ada"], {
      env: { npm_lifecycle_event: "workshop", npm_config_student: "true", npm_config_yes: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^npm took --student for itself \(npm_config_student is set\)/);
    expect(r.stderr).toContain("npm run workshop -- <command> --student ID");
    // npm's own empty default for --yes is not mistaken for a kept option.
    expect(r.stderr.split("\n")[0]).not.toContain("--yes");
    expect(destroyed()).toEqual([]);
  });

  test("--student (repeatable) destroys only those students", async () => {
    await everyoneUp();
    const r = await cli(["down", "--student", "ada", "--student", "cy", "--yes"]);
    expect(r.code).toBe(0);
    expect(destroyed().sort()).toEqual(["intro-ada", "intro-cy"]);
    expect([...ws.sim.stacks.keys()]).toEqual(["intro-bob"]);
    expect(r.stdout).toContain("2 of 2 torn down");
  });

  test("an unknown --student is an error naming the nearest id, and nothing happens", async () => {
    await everyoneUp();
    const r = await cli(["down", "--student", "adda", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--student adda: no such student on the roster; did you mean ada?");
    expect(destroyed()).toEqual([]);
  });

  test("without a terminal and without --yes, down refuses and lists what it would destroy", async () => {
    await everyoneUp();
    const r = await cli(["down"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "destroy and remove 3 stack(s): intro-ada, intro-bob, intro-cy\nnot on a terminal",
    );
    expect(r.stderr).toContain("pass --yes to go ahead");
    expect(destroyed()).toEqual([]);
  });

  test.each([
    ["yes", 0, ["intro-ada", "intro-bob", "intro-cy"]],
    ["YES", 0, ["intro-ada", "intro-bob", "intro-cy"]],
    ["y", 2, []],
    ["no", 2, []],
  ])("on a terminal, down asks; answering %s", async (answer, code, gone) => {
    await everyoneUp();
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    stdin.end(`${answer}\n`);
    const r = await cli(["down"], { stdin });
    expect(r.stderr).toContain(
      "destroy and remove 3 stack(s): intro-ada, intro-bob, intro-cy\ntype yes to go on: ",
    );
    expect(r.code).toBe(code);
    expect(destroyed().sort()).toEqual(gone);
    if (code === 2) expect(r.stderr).toContain("not confirmed: nothing was destroyed");
  });

  test("a terminal closed without an answer destroys nothing", async () => {
    await everyoneUp();
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    stdin.end();
    const r = await cli(["down"], { stdin });
    expect(r.code).toBe(2);
    expect(destroyed()).toEqual([]);
  });
});

describe("reap", () => {
  const cfg = (student: string, expires: string) => ({
    "jetstream-notebooks:workshop": "intro",
    "jetstream-notebooks:student": student,
    "jetstream-notebooks:expires": expires,
  });

  async function withStacks(): Promise<void> {
    await ws.sim.stop();
    ws.sim = new SimulatedBackend({
      existing: {
        "intro-ada": cfg("ada", "2030-06-01"),
        "intro-bob": cfg("bob", "2030-06-01"),
        "intro-cy": cfg("cy", "2030-07-30"),
      },
    });
    await ws.sim.start();
  }

  test("lists the expired stacks and needs --yes off a terminal", async () => {
    await withStacks();
    const r = await cli(["reap"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("kept intro-cy: expires 2030-07-30");
    expect(r.stderr).toContain("destroy and remove 2 stack(s): intro-ada, intro-bob");
    expect(destroyed()).toEqual([]);
  });

  test("--student narrows it; a student without a stack is an error", async () => {
    await withStacks();
    const one = await cli(["reap", "--student", "bob", "--yes", "--force"]);
    expect(one.stderr).toBe("");
    expect(destroyed()).toEqual(["intro-bob"]);
    const none = await cli(["reap", "--student", "zed", "--yes"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--student zed: the backend has no stack of that student");
  });
});

describe("up and status for some students", () => {
  test("up --student brings up only them, and keeps the class's handouts", async () => {
    await everyoneUp();
    const handouts = path.join(ws.dir, "handouts", "handouts.csv");
    const before = fs.readFileSync(handouts, "utf8");
    const ups = ws.sim.calls("up").length;
    const r = await cli(["up", "--skip-quota", "--force-update", "--student", "bob"]);
    expect(r.code).toBe(0);
    expect(
      ws.sim
        .calls("up")
        .slice(ups)
        .map((e) => e.stack),
    ).toEqual(["intro-bob"]);
    expect(fs.readFileSync(handouts, "utf8")).toBe(before);
    const selected = fs.readFileSync(
      path.join(ws.dir, "handouts", "selected", "handouts.csv"),
      "utf8",
    );
    expect(selected).toContain("bob");
    expect(selected).not.toContain("ada");
  });

  test("on target local, a student brought up alone gets the port of their id", async () => {
    writeSettings({ target: "local", localPortBase: "9000" });
    const r = await cli(["up", "--student", "cy"]);
    expect(r.code).toBe(0);
    expect([...ws.sim.stacks.keys()]).toEqual(["intro-cy"]);
    expect(ws.sim.stacks.get("intro-cy")?.config["jetstream-notebooks:notebookPort"]?.value).toBe(
      String(preferredPort("cy", 9000)),
    );
  });

  test("status --student shows only them", async () => {
    await everyoneUp();
    const r = await cli(["status", "--student", "cy"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cy +intro-cy +yes/m);
    expect(r.stdout).not.toContain("intro-ada");
  });
});

test("the real entry point passes argv in and the exit code out", async () => {
  const r = await promisify(execFile)(
    path.join(repoRoot, "node_modules", ".bin", "tsx"),
    [path.join(repoRoot, "workshop", "cli.ts"), "down", "ada"],
    { cwd: ws.dir },
  ).catch((e: { code: number; stderr: string }) => e);
  expect("code" in r && r.code).toBe(2);
  expect(r.stderr).toContain("did you mean --student ada?");
  // Starting tsx on a busy machine takes seconds; the in-process tests above take milliseconds.
}, 120_000);
