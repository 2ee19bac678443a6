/**
 * Shared data (`dataUrl` + `dataSha256`) against a real HTTP server on 127.0.0.1: the fetch script
 * both targets run (with bash here, and in the notebook image on the real engine for the local
 * target), the readiness gate a VM's wrong checksum fails, and the settings.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseStackConfig, type RawConfig } from "../lib/config";
import { InputError } from "../lib/rules/problems";
import { renderUserData } from "../lib/cloudInit";
import { dataFetchScript, dataFileName } from "../lib/courseData";
import { readinessScript } from "../lib/readiness";
import {
  describeWithDocker,
  describeWithTool,
  exec,
  hasCommand,
  notebookImage,
  removeContainer,
  removeVolume,
  uniqueName,
} from "./support/docker";
import { fakeKeyPair, only, runMocked } from "./mocks";

const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");
const csv = "station,temp\nA,12.5\nB,13.1\n";
const wrong = "0".repeat(64);

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

/** A course folder holding these files and (empty) folders. */
function courseWith(files: Record<string, string>, folders: string[] = []): string {
  const dir = path.join(tmpDir("jn-course-"), "course");
  for (const folder of folders) fs.mkdirSync(path.join(dir, folder), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** A file server on 127.0.0.1 that counts requests and can fail the first few. */
let server: http.Server;
let base = "";
const served = new Map<string, Buffer>();
let requests = 0;
let failNext = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    const body = served.get(req.url ?? "");
    if (failNext > 0) {
      failNext--;
      res.writeHead(503).end("busy");
    } else if (body === undefined) res.writeHead(404).end("no");
    else res.writeHead(200, { "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  served.set("/stations.csv", Buffer.from(csv));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the settings", () => {
  const ctx = { stackName: "dev", now: new Date("2030-01-01") };
  const problems = (raw: RawConfig): string[] => {
    try {
      parseStackConfig({ buildImage: "true", ...raw }, ctx);
      return [];
    } catch (e) {
      if (e instanceof InputError) return e.problems;
      throw e;
    }
  };

  test("a URL with its checksum is accepted, the checksum in lowercase", () => {
    const cfg = parseStackConfig(
      {
        buildImage: "true",
        dataUrl: "https://data.example.org/a.tgz",
        dataSha256: "AB".repeat(32),
      },
      ctx,
    );
    expect(cfg.data).toEqual({ url: "https://data.example.org/a.tgz", sha256: "ab".repeat(32) });
    expect(cfg.course).toBe("course/");
  });

  test.each([
    [
      { dataUrl: "https://x.example/a" },
      "[dataSha256] is required with [dataUrl]: the file's sha256 (`sha256sum FILE`), 64 hex digits",
    ],
    [{ dataSha256: "a".repeat(64) }, "[dataSha256] is set without [dataUrl]: set both, or neither"],
    [
      { dataUrl: "ftp://x.example/a", dataSha256: "a".repeat(64) },
      '[dataUrl] must be an http:// or https:// URL of one file, got "ftp://x.example/a"',
    ],
    [
      { dataUrl: "https://x.example/a'$(reboot)", dataSha256: "a".repeat(64) },
      `[dataUrl] must be an http:// or https:// URL of one file, got "https://x.example/a'$(reboot)"`,
    ],
    [
      { dataUrl: "https://x.example/a", dataSha256: "abc" },
      '[dataSha256] must be 64 hex digits (`sha256sum FILE`), got "abc"',
    ],
  ])("%j is refused", (raw, message) => {
    expect(problems(raw)).toEqual([message]);
  });

  test("the file's name comes from the URL, or is `data`", () => {
    expect(dataFileName("https://x.example/d/set.tar.gz?x=1")).toBe("set.tar.gz");
    expect(dataFileName("https://x.example/")).toBe("data");
  });
});

describe("a dataUrl and the course's own data/", () => {
  /** The local program for a course folder and a dataUrl: the error it stops with, and what it declared. */
  async function programFor(course: string) {
    const run = await runMocked(
      async () => {
        const { notebookStack } = await import("../program");
        const cfg = parseStackConfig(
          {
            target: "local",
            student: "dev",
            buildImage: "true",
            course,
            dataUrl: "https://data.example.org/stations.csv",
            dataSha256: "a".repeat(64),
          },
          { stackName: "dev", now: new Date("2030-01-01") },
        );
        try {
          notebookStack(cfg, {});
        } catch (e) {
          return e as Error;
        }
        return undefined;
      },
      { localImageId: `sha256:${"d".repeat(64)}`, stack: "dev" },
    );
    return { error: run.result, declared: run.resources.length };
  }

  test("a course with files in data/ is refused before anything is declared, naming both", async () => {
    const course = courseWith({ "data/seedlings.csv": csv, "materials/a.ipynb": "{}" });
    const { error, declared } = await programFor(course);
    expect(declared).toBe(0);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      `[dataUrl] https://data.example.org/stations.csv would be mounted over the course's own data (${course}/data/, 1 file) at /opt/course/data, hiding it from every student: move those files to the dataUrl file, or unset dataUrl and dataSha256`,
    ]);
  });

  test("a course without data/, or with an empty one, takes the dataUrl", async () => {
    for (const course of [courseWith({ "apt.txt": "" }), courseWith({}, ["data/empty"])]) {
      const { error, declared } = await programFor(course);
      expect(error).toBeUndefined();
      expect(declared).toBeGreaterThan(0);
    }
  });
});

describe("the fetch script, run with bash", () => {
  const run = (sha: string, dest: string, errorFile?: string, url = `${base}/stations.csv`) =>
    exec("bash", ["-c", dataFetchScript({ url, sha256: sha }, dest, errorFile)]);

  test("a good checksum: fetched once, readable; a second run does not download again", async () => {
    const dest = path.join(tmpDir("jn-data-"), "data");
    const before = requests;
    const r = await run(sha256(csv), dest);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, "stations.csv"), "utf8")).toBe(csv);
    expect(requests - before).toBe(1);
    const again = await run(sha256(csv), dest);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already fetched");
    expect(requests - before).toBe(1);
  });

  test("a server that fails once is retried", async () => {
    const dest = path.join(tmpDir("jn-data-"), "data");
    failNext = 1;
    const r = await run(sha256(csv), dest);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("download failed (attempt 1 of 5)");
    expect(fs.readFileSync(path.join(dest, "stations.csv"), "utf8")).toBe(csv);
  }, 30_000);

  test("a wrong checksum: nothing kept, the URL and both sums in the message and the error file", async () => {
    const root = tmpDir("jn-data-");
    const dest = path.join(root, "data");
    const errorFile = path.join(root, "data-error");
    const r = await run(wrong, dest, errorFile);
    const message = `dataUrl ${base}/stations.csv: sha256 is ${sha256(csv)}, expected ${wrong} (dataSha256): fix the setting or the file`;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(message);
    expect(fs.readFileSync(errorFile, "utf8").trim()).toBe(message);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test("a tar archive is unpacked", async () => {
    const src = tmpDir("jn-data-src-");
    fs.mkdirSync(path.join(src, "set"));
    fs.writeFileSync(path.join(src, "set", "a.csv"), "a\n");
    const archive = path.join(src, "set.tar.gz");
    await exec("tar", ["-czf", archive, "-C", src, "set"], { check: true });
    const bytes = fs.readFileSync(archive);
    served.set("/set.tar.gz", bytes);
    const dest = path.join(tmpDir("jn-data-"), "data");
    const r = await run(sha256(bytes), dest, undefined, `${base}/set.tar.gz`);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, "set", "a.csv"), "utf8")).toBe("a\n");
  });
});

/** The VM's side: the gate fails with the fetch's own message, from a real failed fetch. */
describe("on a VM", () => {
  test("a wrong checksum fails the readiness gate naming the URL and both sums", async () => {
    const dir = tmpDir("jn-data-gate-");
    const errorFile = path.join(dir, "data-error");
    const fetch = await exec("bash", [
      "-c",
      dataFetchScript(
        { url: `${base}/stations.csv`, sha256: wrong },
        path.join(dir, "data"),
        errorFile,
      ),
    ]);
    expect(fetch.code).toBe(1);
    // Stand-ins for cloud-init (which reports the setup's failure), sudo and docker.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) =>
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub("cloud-init", 'case "$2" in --wait) exit 1;; esac; echo "status: error"');
    stub("sudo", '[ "$1" = -n ] && shift; exec "$@"');
    stub("docker", "exit 0");
    const gate = await exec(
      "bash",
      ["-c", readinessScript(path.join(dir, "ready"), 60, errorFile)],
      {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      },
    );
    expect(gate.code).toBe(1);
    expect(gate.stderr).toContain(
      `dataUrl ${base}/stations.csv: sha256 is ${sha256(csv)}, expected ${wrong}`,
    );

    // The same VM once the data is right: the error file is gone and the gate passes.
    const good = await exec("bash", [
      "-c",
      dataFetchScript(
        { url: `${base}/stations.csv`, sha256: sha256(csv) },
        path.join(dir, "data"),
        errorFile,
      ),
    ]);
    expect(good.code).toBe(0);
    expect(fs.existsSync(errorFile)).toBe(false);
    stub("cloud-init", 'case "$2" in --wait) exit 0;; esac; echo "status: done"');
    fs.writeFileSync(path.join(dir, "ready"), "img\n");
    const passed = await exec(
      "bash",
      ["-c", readinessScript(path.join(dir, "ready"), 60, errorFile)],
      {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      },
    );
    expect(passed.stderr).toBe("");
    expect(passed.code).toBe(0);
  });

  const args = {
    workshop: "w",
    student: "s",
    expires: "2030-01-01",
    imageRef: `docker.io/a/b@sha256:${"b".repeat(64)}`,
    hostKey: fakeKeyPair("host"),
    data: { url: "https://data.example.org/set.tar.gz", sha256: "c".repeat(64) },
  };

  test("the user data fetches the data before the setup's marker", () => {
    const text = renderUserData(args);
    const setup = text.indexOf("/usr/local/sbin/jetstream-notebooks-fetch-data\n");
    expect(setup).toBeGreaterThan(0);
    expect(text.indexOf('printf \'%s\\n\' "$image" >"$marker"')).toBeGreaterThan(setup);
    expect(text).toContain("      url='https://data.example.org/set.tar.gz'");
    expect(renderUserData({ ...args, data: undefined })).not.toContain("fetch-data");
  });

  describeWithTool("cloud-init's schema", "cloud-init", hasCommand("cloud-init"), () => {
    test("passes with the data fetch", async () => {
      const file = path.join(tmpDir("jn-data-ci-"), "user-data");
      fs.writeFileSync(file, renderUserData(args));
      const r = await exec("cloud-init", ["schema", "--config-file", file]);
      expect(`${r.stdout}${r.stderr}`).toContain("Valid cloud-config");
    });
  });
});

/**
 * The local target: the program's fetch command, taken from what it declares under mocks, run for
 * real on the engine with the notebook image; then a notebook mounted as declared.
 */
describeWithDocker("on the local target", () => {
  let image = "";
  const volumes: string[] = [];
  const containers: string[] = [];
  beforeAll(async () => {
    image = await notebookImage();
  }, 30 * 60_000);
  afterAll(async () => {
    for (const c of containers) await removeContainer(c);
    for (const v of volumes) await removeVolume(v);
  });

  async function declared(sha: string) {
    const student = uniqueName("d")
      .replace(/[^a-z0-9]/g, "")
      .slice(0, 20);
    const run = await runMocked(
      async () => {
        const { notebookStack } = await import("../program");
        const cfg = parseStackConfig(
          {
            target: "local",
            student: `s${student}`,
            buildImage: "true",
            // The example course has its own data/, which a dataUrl may not hide.
            course: courseWith({ "materials/README.md": "hi" }),
            dataUrl: `${base}/stations.csv`,
            dataSha256: sha,
          },
          { stackName: "dev", now: new Date("2030-01-01") },
        );
        return notebookStack(cfg, {});
      },
      { localImageId: image, stack: "dev" },
    );
    const fetch = only(run.resources, "command:local:Command");
    const volume = only(run.resources, "docker:index/volume:Volume", `workshop-s${student}-data`);
    const container = only(run.resources, "docker:index/container:Container");
    volumes.push(volume.inputs.name as string);
    return { fetch, volume, container };
  }

  test("declares a data volume, fills it by a fetch the notebook waits for, and mounts it read-only", async () => {
    const { fetch, volume, container } = await declared(sha256(csv));
    expect(container.inputs.mounts).toContainEqual({
      type: "volume",
      source: volume.inputs.name,
      target: "/opt/course/data",
      readOnly: true,
    });
    expect(container.dependsOn).toContain(`command:local:Command::${fetch.name}`);
  });

  test("a good checksum: the declared fetch fills the volume and the notebook reads it, read-only", async () => {
    const { fetch, volume } = await declared(sha256(csv));
    const env = fetch.inputs.environment as Record<string, string>;
    const r = await exec("bash", ["-c", fetch.inputs.create as string], {
      env: { ...process.env, ...env },
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(0);
    const name = uniqueName("jn-data-nb");
    containers.push(name);
    const out = await exec("docker", [
      "run",
      "--rm",
      "--name",
      name,
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges:true",
      "-v",
      `${volume.inputs.name as string}:/opt/course/data:ro`,
      "--entrypoint",
      "bash",
      image,
      "-c",
      "cat /opt/course/data/stations.csv; touch /opt/course/data/x 2>/dev/null && echo WRITABLE || echo refused",
    ]);
    expect(out.stdout).toBe(`${csv}refused\n`);
  }, 180_000);

  test("a wrong checksum fails the fetch, and so `pulumi up`, naming the URL and both sums", async () => {
    const { fetch } = await declared(wrong);
    const env = fetch.inputs.environment as Record<string, string>;
    const r = await exec("bash", ["-c", fetch.inputs.create as string], {
      env: { ...process.env, ...env },
      timeoutMs: 120_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `dataUrl ${base}/stations.csv: sha256 is ${sha256(csv)}, expected ${wrong}`,
    );
  }, 180_000);
});
