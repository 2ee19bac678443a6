/**
 * Export and probe against a real notebook container from the project's image: a work/ with nested
 * folders, a notebook and a binary file, uploaded through the contents API; exported to a tar.gz,
 * restored, and every file compared by sha256 with what was uploaded.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar";
import {
  describeWithDocker,
  docker,
  freePort,
  notebookImage,
  removeContainer,
  removeVolume,
  testImageTag,
  uniqueName,
  waitForHealthy,
  imageBuildTimeoutMs,
} from "./support/docker";
import { jupyterApi, waitForHttp } from "./support/jupyter";
import { exportStudent, verifyArchive, type ExportManifest } from "../workshop/export";
import { probeNotebook } from "../workshop/probe";

describeWithDocker("export and probe against a real notebook", () => {
  const token = randomBytes(24).toString("hex");
  const container = uniqueName("jn-ws-export");
  const volume = `${container}-work`;
  let base = "";
  let outDir = "";
  const uploaded = new Map<string, Buffer>();

  const put = async (apiPath: string, model: Record<string, unknown>) =>
    jupyterApi(base, token, "PUT", `/api/contents/${apiPath}`, model);

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
      "-v",
      `${volume}:/home/jupyter/work`,
      testImageTag,
    ]);
    await waitForHealthy(container, 120_000);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api/status`, { headers: { Authorization: `token ${token}` } });

    for (const dir of ["work/week1", "work/week1/data", "work/week2", "work/empty"]) {
      await put(dir, { type: "directory" });
    }
    const notebook = {
      cells: [
        { cell_type: "markdown", metadata: {}, source: ["# Week 1 \u2013 caf\u00e9 \u{1F600}"] },
        {
          cell_type: "code",
          execution_count: 1,
          metadata: {},
          outputs: [],
          source: ["print(6 * 7)"],
        },
      ],
      metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const binary = randomBytes(300_000);
    const files: [string, Buffer][] = [
      ["work/week1/data/measurements.bin", binary],
      ["work/week1/notes.txt", Buffer.from("line one\r\nline two\n\u00fcnicode\n")],
      ["work/week2/empty.txt", Buffer.alloc(0)],
      ["work/top level with spaces.csv", Buffer.from("a,b\n1,2\n")],
    ];
    for (const [p, bytes] of files) {
      await put(p.split("/").map(encodeURIComponent).join("/"), {
        type: "file",
        format: "base64",
        content: bytes.toString("base64"),
      });
      uploaded.set(p, bytes);
    }
    await put("work/week1/analysis.ipynb", { type: "notebook", content: notebook });
    // The server writes the notebook in its own JSON layout; what counts is the bytes on its disk.
    const saved = await docker([
      "exec",
      container,
      "cat",
      "/home/jupyter/work/week1/analysis.ipynb",
    ]);
    uploaded.set("work/week1/analysis.ipynb", Buffer.from(`${saved}\n`));
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-export-"));
  }, imageBuildTimeoutMs);

  afterAll(async () => {
    await removeContainer(container);
    await removeVolume(volume);
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  const url = () => `${base}/lab?token=${token}`;

  test("the probe is healthy with the right token", async () => {
    const result = await probeNotebook(url(), { deadline: Date.now() + 30_000, intervalMs: 500 });
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

  test("export, restore, and every file has the sha256 of what was uploaded", async () => {
    const manifest: ExportManifest = await exportStudent({
      student: "ada",
      notebookUrl: url(),
      outDir,
    });
    const archive = path.join(outDir, "ada.tar.gz");
    expect(fs.statSync(archive).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(outDir, "ada.manifest.json")).mode & 0o777).toBe(0o600);
    expect(manifest.source).not.toContain(token);
    expect(fs.readFileSync(path.join(outDir, "ada.manifest.json"), "utf8")).not.toContain(token);
    expect(manifest.fileCount).toBe(uploaded.size);
    expect(manifest.files.map((f) => f.path).sort()).toEqual([...uploaded.keys()].sort());

    const restored = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-restore-"));
    try {
      await tar.extract({ file: archive, cwd: restored });
      for (const [p, bytes] of uploaded) {
        const got = fs.readFileSync(path.join(restored, p));
        expect({ p, sha: createHash("sha256").update(got).digest("hex") }).toEqual({
          p,
          sha: createHash("sha256").update(bytes).digest("hex"),
        });
      }
      // Empty folders survive too: a student's structure is part of their work.
      expect(fs.statSync(path.join(restored, "work/empty")).isDirectory()).toBe(true);
      const sha = createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
      expect(manifest.archive.sha256).toBe(sha);
    } finally {
      fs.rmSync(restored, { recursive: true, force: true });
    }
  });

  test("the archive check catches a file that differs from the manifest", async () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(outDir, "ada.manifest.json"), "utf8"),
    ) as ExportManifest;
    const tampered = manifest.files.map((f) =>
      f.path.endsWith("notes.txt") ? { ...f, sha256: "0".repeat(64) } : f,
    );
    await expect(verifyArchive(path.join(outDir, "ada.tar.gz"), tampered)).rejects.toThrow(
      "archive check failed: work/week1/notes.txt differs in the archive",
    );
  });

  test("an export with a wrong token fails and writes no archive", async () => {
    await expect(
      exportStudent({ student: "bob", notebookUrl: `${base}/lab?token=wrong`, outDir }),
    ).rejects.toThrow("export of bob: the server refused the token (403)");
    expect(fs.existsSync(path.join(outDir, "bob.tar.gz"))).toBe(false);
    expect(fs.readdirSync(outDir).filter((f) => f.startsWith(".export-"))).toEqual([]);
  });
});
