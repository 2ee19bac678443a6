/**
 * Teardown against hostile students and wrong backends, on the real engine: the orchestrator's
 * `down` with the simulated backend for the stacks (the only double), real volumes, the real export
 * helper, and a hostile notebook server that lies in its listing or never ends its answer. Nothing
 * the student controls may write outside the export folder, and a journal never outranks what the
 * backend says exists.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { Orchestrator, type DownTarget } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import type { RetryPolicy } from "../workshop/retry";
import { parseSettings, type WorkshopSettings } from "../workshop/settings";
import { SimulatedBackend, type SimOptions } from "./support/simulated-driver";
import { describeWithDocker, notebookImage, uniqueName } from "./support/docker";
import { createStudentVolume, fillVolume, removeVolume, treeDigest } from "./support/volumes";
import { listArchive } from "./support/archive";

const settings: WorkshopSettings = parseSettings(
  { workshop: "intro", target: "local", expires: "2030-06-30", image: "jetstream-notebooks:x" },
  path.join(os.tmpdir(), "workshop.yaml"),
);

class Lines extends Writable {
  readonly lines: string[] = [];
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  }
}

const retry: RetryPolicy = {
  attempts: 2,
  baseDelayMs: 1,
  maxDelayMs: 1,
  random: () => 0.5,
  sleep: () => Promise.resolve(),
};

/** A notebook server the student rewrote: it lists a path that climbs out, or never ends its body. */
async function hostileServer(
  mode: "climb" | "endless",
): Promise<{ url: string; close: () => Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    if (u.pathname === "/api/status") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
      return;
    }
    if (mode === "endless") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"type":"directory","content":[');
      const t = setInterval(() => res.write(Buffer.alloc(64 * 1024, 0x20)), 20);
      timers.add(t);
      res.on("close", () => clearInterval(t));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    if (u.searchParams.get("type") === "file") {
      res.end(
        JSON.stringify({
          type: "file",
          format: "base64",
          content: Buffer.from("owned\n").toString("base64"),
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        name: "work",
        path: "work",
        type: "directory",
        content: [{ name: "x", path: "work/../../../planted.ts", type: "file", size: 6 }],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/lab?token=t`,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describeWithDocker("down against hostile students and wrong backends", () => {
  let image = "";
  let root = "";
  const volumes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    image = await notebookImage();
  });
  beforeEach(() => {
    // The instructor's tree: a checkout with a file that must never change, and the export folder.
    root = fs.mkdtempSync(path.join(os.tmpdir(), "jn-down-safety-"));
    fs.mkdirSync(path.join(root, "checkout"));
    fs.writeFileSync(path.join(root, "checkout", "index.ts"), "export const safe = true;\n");
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    fs.rmSync(root, { recursive: true, force: true });
  });
  afterAll(async () => {
    for (const v of volumes) await removeVolume(v);
  });

  const outDir = () => path.join(root, "checkout", "exports", "latest");
  const outsideExports = (rel: string) => rel === "checkout/exports";

  async function studentVolume(student: string, script: string): Promise<string> {
    const name = uniqueName(`jn-down-${student}`);
    volumes.push(name);
    await createStudentVolume(name, student);
    await fillVolume(image, name, script);
    return name;
  }

  function orchestrator(sim: SimulatedBackend) {
    const out = new Lines();
    return {
      out,
      orch: new Orchestrator({
        driver: sim.driver,
        reporter: new PlainReporter(out, () => new Date("2031-01-05T12:00:00Z")),
        retry,
        now: () => new Date("2031-01-05T12:00:00Z"),
      }),
    };
  }

  async function backend(opts: SimOptions): Promise<SimulatedBackend> {
    const sim = new SimulatedBackend(opts);
    await sim.start();
    cleanups.push(() => sim.stop());
    return sim;
  }

  const up = (sim: SimulatedBackend, ids: string[]) =>
    orchestrator(sim).orch.up(
      settings,
      ids.map((id, i) => ({ id, line: i + 2 })),
      { concurrency: 2 },
    );
  const targets = (ids: string[]): DownTarget[] =>
    ids.map((student) => ({ student, stack: `intro-${student}` }));

  test.each(["climb", "endless"] as const)(
    "a student's own server (%s) decides nothing: the tree is untouched and the volume is exported",
    async (mode) => {
      const server = await hostileServer(mode);
      cleanups.push(server.close);
      const volume = await studentVolume("s01", "mkdir -p work && echo kept > work/kept.txt");
      // The student takes the server over after it came up (a config file and `kill 1`).
      let hostile = false;
      const sim = await backend({
        extraOutputs: () => ({
          ...(hostile ? { notebookUrl: server.url } : {}),
          volumeName: volume,
          imageRef: image,
        }),
      });
      await up(sim, ["s01"]);
      hostile = true;
      const before = treeDigest(root, outsideExports);
      const [r] = await orchestrator(sim).orch.down(settings, targets(["s01"]), {
        outDir: outDir(),
        concurrency: 1,
        force: false,
      });
      expect(treeDigest(root, outsideExports)).toBe(before);
      expect(fs.existsSync(path.join(root, "planted.ts"))).toBe(false);
      expect(r).toMatchObject({ student: "s01", status: "removed" });
      const entries = await listArchive(path.join(outDir(), "s01.tar.gz"));
      expect(entries).toContain("home/work/kept.txt");
    },
    120_000,
  );

  test("a down against an empty backend, then against the right one, tears every live stack down", async () => {
    const empty = await backend({});
    const first = await orchestrator(empty).orch.down(settings, targets(["s01", "s02"]), {
      outDir: outDir(),
      concurrency: 2,
      force: false,
    });
    expect(first.map((r) => r.status)).toEqual(["absent", "absent"]);
    expect(first[0].detail).toContain("PULUMI_BACKEND_URL");

    const vols: Record<string, string> = {};
    for (const s of ["s01", "s02"]) vols[`intro-${s}`] = await studentVolume(s, `echo ${s} > a`);
    const right = await backend({
      extraOutputs: (stack) => ({ volumeName: vols[stack], imageRef: image }),
    });
    await up(right, ["s01", "s02"]);
    const second = await orchestrator(right).orch.down(settings, targets(["s01", "s02"]), {
      outDir: outDir(),
      concurrency: 2,
      force: false,
    });
    expect(second.map((r) => [r.student, r.status])).toEqual([
      ["s01", "removed"],
      ["s02", "removed"],
    ]);
    expect(right.calls("destroy")).toHaveLength(2);
    expect(right.stacks.size).toBe(0);
    expect(await listArchive(path.join(outDir(), "s02.tar.gz"))).toContain("home/a");
  }, 120_000);

  test("work saved after a failed destroy is in the re-run's archive", async () => {
    const volume = await studentVolume("s01", "echo first > first.txt");
    let failed = false;
    const sim = await backend({
      extraOutputs: () => ({ volumeName: volume, imageRef: image }),
      fail: (op) => {
        if (op === "destroy" && !failed) {
          failed = true;
          return new Error("Error: 409 Conflict: instance is locked");
        }
        return undefined;
      },
    });
    await up(sim, ["s01"]);
    const [first] = await orchestrator(sim).orch.down(settings, targets(["s01"]), {
      outDir: outDir(),
      concurrency: 1,
      force: false,
    });
    expect(first.status).toBe("failed");
    // The student keeps working while the instructor looks into it.
    await fillVolume(image, volume, "echo later > later.txt");
    const [second] = await orchestrator(sim).orch.down(settings, targets(["s01"]), {
      outDir: outDir(),
      concurrency: 1,
      force: false,
    });
    expect(second.status).toBe("removed");
    expect(await listArchive(path.join(outDir(), "s01.tar.gz"))).toEqual(
      expect.arrayContaining(["home/first.txt", "home/later.txt"]),
    );
  }, 120_000);

  test("a file nobody may read is exported, not blamed on the token", async () => {
    const volume = await studentVolume("s01", "echo secret > locked.txt");
    await fillVolume(image, volume, "chmod 000 locked.txt");
    const sim = await backend({ extraOutputs: () => ({ volumeName: volume, imageRef: image }) });
    await up(sim, ["s01"]);
    const [r] = await orchestrator(sim).orch.down(settings, targets(["s01"]), {
      outDir: outDir(),
      concurrency: 1,
      force: false,
    });
    expect(r.detail).not.toContain("token");
    expect(r.status).toBe("removed");
    expect(await listArchive(path.join(outDir(), "s01.tar.gz"))).toContain("home/locked.txt");
  }, 120_000);

  test("a volume that is gone is named, and no 'run it again' is promised", async () => {
    const sim = await backend({
      extraOutputs: () => ({ volumeName: "jn-no-such-volume-x1", imageRef: image }),
    });
    await up(sim, ["s01"]);
    const [r] = await orchestrator(sim).orch.down(settings, targets(["s01"]), {
      outDir: outDir(),
      concurrency: 1,
      force: false,
    });
    expect(r.status).toBe("kept");
    expect(r.detail).toContain("s01");
    expect(r.detail).toContain("jn-no-such-volume-x1");
    expect(r.detail).not.toMatch(/run (it|down) again/);
    expect(sim.calls("destroy")).toHaveLength(0);
  }, 120_000);
});
