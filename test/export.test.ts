/**
 * The export against the real engine and the real image: a student home made of every kind of
 * thing students leave behind (a Launcher notebook in the home's root, dotfiles, .git, compiled and
 * backup files, a virtualenv, links of every sort, a fifo, a socket, mode-000 file and folder, a
 * name that is not UTF-8), read by the confined export container, checked, restored into a fresh
 * volume and read again: every entry the same. Large homes run in a process of their own to measure
 * its peak memory. The probe is checked against a real notebook container too.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  describeWithDocker,
  docker,
  exec,
  freePort,
  notebookImage,
  removeContainer,
  repoRoot,
  testImageTag,
  uniqueName,
  waitForHealthy,
} from "./support/docker";
import { waitForHttp } from "./support/jupyter";
import { createStudentVolume, fillVolume, removeVolume, treeDigest } from "./support/volumes";
import {
  exportStudent,
  restoreArchive,
  verifyArchiveFile,
  type ExportManifest,
} from "../workshop/export";
import type { ManifestEntry } from "../workshop/tar-verify";
import { probeNotebook } from "../workshop/probe";
import { spawnDocker } from "../workshop/engine";

const local = { kind: "local" } as const;

/** What a student's home holds after a term: one line per kind, made as the student would. */
const studentHome = `
printf '{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}\\n' > Untitled.ipynb
echo 'export EDITOR=nano' > .bashrc
mkdir -p .git/objects/ab work/week1 emptydir
echo '[core]' > .git/config
head -c 300 /dev/urandom > .git/objects/ab/cdef
head -c 1000 /dev/urandom > work/week1/mod.cpython-313.pyc
head -c 5000 /dev/urandom > work/week1/lib.so
echo backup > 'work/week1/notes.txt~'
ln work/week1/lib.so hardlink.so
python3 -m venv --without-pip venv
ln -s work/week1 link-to-week1
ln -s does-not-exist broken-link
ln -s loop-b loop-a
ln -s loop-a loop-b
ln -s / rootfs
ln -s .. up
mkfifo pipe
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('agent.sock')"
printf 'latin-1 name' > "$(printf 'caf\\351.txt')"
mkdir locked-dir
echo inside > locked-dir/inside.txt
echo secret > locked.txt
`;

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

function byPath(m: { entries: ManifestEntry[] }): Map<string, ManifestEntry> {
  return new Map(m.entries.map((e) => [e.path, e]));
}

/** Every path under the volume as the engine sees it (raw bytes, base64), sockets left out. */
async function pathsOnEngine(image: string, volume: string): Promise<string[]> {
  const r = await new Promise<Buffer>((resolve, reject) =>
    execFile(
      "docker",
      [
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        "0:0",
        "--mount",
        `type=volume,src=${volume},dst=/data,readonly`,
        "--entrypoint",
        "find",
        image,
        "/data",
        "-mindepth",
        "1",
        "!",
        "-type",
        "s",
        "-printf",
        "%P\\0",
      ],
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (e, stdout) => (e ? reject(new Error(e.message)) : resolve(stdout)),
    ),
  );
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < r.length; i++) {
    if (r[i] === 0) {
      out.push(r.subarray(start, i).toString("base64"));
      start = i + 1;
    }
  }
  return out.sort();
}

/** Runs one export in a child process; its figures and peak memory. */
function exportInChild(
  student: string,
  volume: string,
  image: string,
  outDir: string,
): Promise<{ fileCount: number; totalBytes: number; seconds: number; maxRssMb: number }> {
  return new Promise((resolve, reject) =>
    execFile(
      path.join(repoRoot, "node_modules", ".bin", "tsx"),
      [path.join(repoRoot, "test", "support", "export-child.ts"), student, volume, image, outDir],
      { cwd: repoRoot, timeout: 15 * 60_000 },
      (e, stdout, stderr) =>
        e
          ? reject(new Error(`${e.message}\n${stderr}`))
          : resolve(
              JSON.parse(stdout) as {
                fileCount: number;
                totalBytes: number;
                seconds: number;
                maxRssMb: number;
              },
            ),
    ),
  );
}

describeWithDocker("export from the student's engine", () => {
  let image = "";
  let root = "";
  const volumes: string[] = [];
  const volume = uniqueName("jn-export-kinds");
  let manifest: ExportManifest;
  let before = "";
  const outDir = () => path.join(root, "checkout", "exports");
  const figures: string[] = [];

  const newVolume = async (prefix: string, student: string) => {
    const name = uniqueName(prefix);
    volumes.push(name);
    await createStudentVolume(name, student);
    return name;
  };

  beforeAll(async () => {
    image = await notebookImage();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "jn-export-"));
    fs.mkdirSync(path.join(root, "checkout"));
    fs.writeFileSync(path.join(root, "checkout", "index.ts"), "export const safe = true;\n");
    volumes.push(volume);
    await createStudentVolume(volume, "ada");
    await fillVolume(image, volume, studentHome, { afterChown: "chmod 000 locked.txt locked-dir" });
    before = treeDigest(root, (rel) => rel === "checkout/exports");
    manifest = await exportStudent({
      student: "ada",
      engine: local,
      volume,
      image,
      outDir: outDir(),
    });
  });

  afterAll(async () => {
    for (const v of volumes) await removeVolume(v);
    if (root) fs.rmSync(root, { recursive: true, force: true });
    if (figures.length > 0) process.stdout.write(`${figures.join("\n")}\n`);
  });

  test("every path of the home is in the manifest, and nothing else", async () => {
    const listed = manifest.entries.filter((e) => e.p !== "").map((e) => e.p);
    expect(listed.sort()).toEqual(await pathsOnEngine(image, volume));
  });

  test.each<[string, string, Partial<ManifestEntry>]>([
    ["a Launcher notebook in the home's root", "Untitled.ipynb", { type: "file" }],
    ["a dotfile", ".bashrc", { type: "file", sha256: sha("export EDITOR=nano\n") }],
    [".git", ".git/objects/ab/cdef", { type: "file", size: 300 }],
    ["a .pyc", "work/week1/mod.cpython-313.pyc", { type: "file", size: 1000 }],
    ["a .so", "work/week1/lib.so", { type: "file", size: 5000 }],
    ["a backup~", "work/week1/notes.txt~", { type: "file", sha256: sha("backup\n") }],
    ["a hard link (as a file)", "hardlink.so", { type: "file", size: 5000 }],
    ["a venv's config", "venv/pyvenv.cfg", { type: "file" }],
    ["a venv's interpreter link", "venv/bin/python3", { type: "symlink" }],
    ["a symlink", "link-to-week1", { type: "symlink", targetPath: "work/week1" }],
    ["a broken link", "broken-link", { type: "symlink", targetPath: "does-not-exist" }],
    ["a link loop", "loop-a", { type: "symlink", targetPath: "loop-b" }],
    ["ln -s / rootfs", "rootfs", { type: "symlink", targetPath: "/" }],
    ["a link to ..", "up", { type: "symlink", targetPath: ".." }],
    ["a fifo", "pipe", { type: "fifo" }],
    ["a non-UTF-8 name", "caf\\xe9.txt", { type: "file", sha256: sha("latin-1 name") }],
    ["an empty folder", "emptydir", { type: "dir" }],
    ["a mode-000 file", "locked.txt", { type: "file", mode: 0, sha256: sha("secret\n") }],
    ["a mode-000 folder", "locked-dir", { type: "dir", mode: 0 }],
    ["a file in a mode-000 folder", "locked-dir/inside.txt", { type: "file", size: 7 }],
  ])("%s comes through (%s)", (_kind, p, expected) => {
    expect(byPath(manifest).get(p)).toMatchObject({ uid: 1000, gid: 100, ...expected });
  });

  test("a socket is not data: listed as skipped, not exported", () => {
    expect(manifest.skipped).toEqual([{ path: "agent.sock", kind: "socket" }]);
  });

  test("the archive and its manifest are private, and the instructor's tree is untouched", () => {
    expect(fs.statSync(path.join(outDir(), "ada.tar.gz")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(outDir(), "ada.manifest.json")).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(outDir()).sort()).toEqual(["ada.manifest.json", "ada.tar.gz"]);
    expect(treeDigest(root, (rel) => rel === "checkout/exports")).toBe(before);
    expect(manifest.archive.sha256).toBe(sha(fs.readFileSync(path.join(outDir(), "ada.tar.gz"))));
  });

  test("the archive restores into a fresh volume with every entry the same", async () => {
    const fresh = uniqueName("jn-export-restored");
    volumes.push(fresh);
    await restoreArchive({
      engine: local,
      archive: path.join(outDir(), "ada.tar.gz"),
      volume: fresh,
      image,
      labels: { "org.jetstream-notebooks.student": "ada" },
    });
    const again = await exportStudent({
      student: "ada",
      engine: local,
      volume: fresh,
      image,
      outDir: path.join(root, "again"),
    });
    expect(again.entries).toEqual(manifest.entries);
  });

  test("the archive read back passes the same checks", async () => {
    const m = await verifyArchiveFile(path.join(outDir(), "ada.tar.gz"));
    expect(m.entries).toEqual(manifest.entries);
  });

  test("a volume that does not exist is refused by name, and none is created", async () => {
    const missing = uniqueName("jn-export-missing");
    await expect(
      exportStudent({ student: "bob", engine: local, volume: missing, image, outDir: outDir() }),
    ).rejects.toThrow(
      `export of bob: the volume ${missing} does not exist on the local Docker engine: there is nothing to export`,
    );
    expect((await exec("docker", ["volume", "inspect", missing])).code).not.toBe(0);
    expect(fs.existsSync(path.join(outDir(), "bob.tar.gz"))).toBe(false);
  });

  test("before a teardown the notebook is stopped first, so its last write is in the archive; a failed export starts it again", async () => {
    const v = await newVolume("jn-export-stop", "cy");
    const writer = uniqueName("jn-export-writer");
    const running = async () =>
      (
        await exec("docker", ["container", "inspect", "--format", "{{.State.Running}}", writer])
      ).stdout.trim();
    // A student still at work: a counter written twenty times a second until the container stops.
    await docker([
      "run",
      "--detach",
      "--name",
      writer,
      "--network",
      "none",
      "--user",
      "0:0",
      "--entrypoint",
      "sh",
      "--mount",
      `type=volume,src=${v},dst=/home/jupyter`,
      image,
      "-c",
      "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i > /home/jupyter/clock; sleep 0.05; done",
    ]);
    // An export that cannot finish in time: the stack would be kept.
    const failingExport = () =>
      exportStudent({
        student: "cy",
        engine: local,
        volume: v,
        image,
        outDir: outDir(),
        stopContainer: writer,
        deadlineMs: 1,
      });
    try {
      const m = await exportStudent({
        student: "cy",
        engine: local,
        volume: v,
        image,
        outDir: outDir(),
        stopContainer: writer,
      });
      expect(await running()).toBe("false");
      const last = await exec("docker", [
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "cat",
        "--mount",
        `type=volume,src=${v},dst=/data,readonly`,
        image,
        "/data/clock",
      ]);
      expect(Number(last.stdout)).toBeGreaterThan(0);
      expect(byPath(m).get("clock")?.sha256).toBe(sha(last.stdout));

      await docker(["start", writer]);
      await expect(failingExport()).rejects.toThrow(`(the notebook ${writer} was started again)`);
      expect(await running()).toBe("true");

      // Stopped by a run that was interrupted: a failed export of the rerun starts it too.
      await docker(["stop", "--time", "5", writer]);
      await expect(failingExport()).rejects.toThrow(`(the notebook ${writer} was started again)`);
      expect(await running()).toBe("true");
    } finally {
      await removeContainer(writer);
    }
  });

  test("docker runs in a process group of its own: a terminal's Ctrl-C does not reach a stop or an export half-way", () => {
    const child = spawnDocker(local, ["events"]);
    try {
      const pid = child.pid ?? 0;
      // Field 5 of /proc/PID/stat is the process group; its leader's pid is the group's id.
      const group = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      expect(group(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))).toBe(pid);
      expect(group(fs.readFileSync("/proc/self/stat", "utf8"))).not.toBe(pid);
    } finally {
      child.kill();
    }
  });

  test("a folder swapped for a link while the walk goes on never leads the export out of the volume", async () => {
    const v = await newVolume("jn-export-swap", "dee");
    // Many entries after d, so the walk lists d's children well after it saw d as a folder.
    await fillVolume(
      image,
      v,
      "mkdir d && for i in $(seq 20); do echo $i > d/f$i; done && for i in $(seq 600); do : > e$i; done",
    );
    const student = uniqueName("jn-export-swapper");
    // The student's shell, swapping d for a link to / and back, each state held for a moment.
    await docker([
      "run",
      "--detach",
      "--name",
      student,
      "--network",
      "none",
      "--user",
      "1000:100",
      "--entrypoint",
      "bash",
      "--mount",
      `type=volume,src=${v},dst=/home/jupyter`,
      image,
      "-c",
      "cd /home/jupyter; while :; do mv d d.x; ln -s / d; sleep 0.05; rm -f d; mv d.x d; sleep 0.05; done 2>/dev/null",
    ]);
    const outside: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        let seen: string[];
        try {
          const m = await exportStudent({
            student: "dee",
            engine: local,
            volume: v,
            image,
            outDir: path.join(root, `swap${i}`),
          });
          seen = m.entries.map((e) => e.path);
        } catch (e) {
          // Refused (a folder that changed under it): what it names must be inside the volume too.
          seen = [...(e as Error).message.matchAll(/\b(d(?:\.x)?\/[^ ;()]+)/g)].map((x) => x[1]);
        }
        outside.push(...seen.filter((p) => /^d(\.x)?\//.test(p) && !/^d(\.x)?\/f\d+$/.test(p)));
      }
    } finally {
      await removeContainer(student);
    }
    expect(outside).toEqual([]);
  }, 600_000);

  test("another student's volume is refused", async () => {
    await expect(
      exportStudent({ student: "bob", engine: local, volume, image, outDir: outDir() }),
    ).rejects.toThrow(`the volume ${volume} on the local Docker engine belongs to student ada`);
  });

  test("an image not pinned by digest is refused", async () => {
    await expect(
      exportStudent({
        student: "ada",
        engine: local,
        volume,
        image: testImageTag,
        outDir: outDir(),
      }),
    ).rejects.toThrow("is not pinned");
  });

  test("a 1 GB file is streamed: bounded memory", async () => {
    const big = await newVolume("jn-export-1g", "big");
    await fillVolume(image, big, "truncate -s 1G big.bin");
    const r = await exportInChild("big", big, image, path.join(root, "big"));
    figures.push(
      `export of a 1 GB file: ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
    expect(r.totalBytes).toBe(1024 ** 3);
    expect(r.maxRssMb).toBeLessThan(256);
  }, 600_000);

  test("5,000 small files: bounded memory", async () => {
    const many = await newVolume("jn-export-many", "many");
    await fillVolume(
      image,
      many,
      'mkdir many && cd many && for i in $(seq 1 5000); do echo "file $i" > f$i.txt; done',
    );
    const r = await exportInChild("many", many, image, path.join(root, "many"));
    figures.push(
      `export of 5,000 small files: ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
    expect(r.fileCount).toBe(5000);
    expect(r.maxRssMb).toBeLessThan(256);
  }, 600_000);
});

describeWithDocker("probe against a real notebook", () => {
  const token = randomBytes(24).toString("hex");
  const container = uniqueName("jn-ws-probe");
  let base = "";

  beforeAll(async () => {
    await notebookImage();
    const port = await freePort();
    await docker([
      "run",
      "-d",
      "--name",
      container,
      "-e",
      `JUPYTER_TOKEN=${token}`,
      "-p",
      `127.0.0.1:${port}:8888`,
      testImageTag,
    ]);
    await waitForHealthy(container, 120_000);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api/status`, { headers: { Authorization: `token ${token}` } });
  });

  afterAll(async () => {
    await removeContainer(container);
  });

  test("the probe is healthy with the right token", async () => {
    const result = await probeNotebook(`${base}/lab?token=${token}`, {
      deadline: Date.now() + 30_000,
      intervalMs: 500,
    });
    expect(result).toMatchObject({ healthy: true, detail: "200 JupyterLab" });
  });

  test("the probe is unhealthy with a wrong token, and says so", async () => {
    const result = await probeNotebook(`${base}/lab?token=not-${token}`, { deadline: 0 });
    expect(result).toEqual({
      healthy: false,
      detail: "403 on /api/status (wrong token?)",
      attempts: 1,
    });
  });

  test("the probe is unhealthy when nothing listens", async () => {
    const port = await freePort();
    const result = await probeNotebook(`http://127.0.0.1:${port}/lab?token=${token}`, {
      deadline: 0,
    });
    expect(result).toEqual({ healthy: false, detail: "ECONNREFUSED", attempts: 1 });
  });
});
