/**
 * Courses built into the image on the real engine, the way the stack builds them
 * (lib/imageBuild.ts), offline: PIP_INDEX_URL is empty and the course's Python package is a wheel
 * built here into its wheels/ folder. Containers run as the stacks run them: a token, a named volume
 * on work/, all capabilities dropped, no-new-privileges.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildImage,
  describeWithDocker,
  docker,
  exec,
  freePort,
  removeContainer,
  removeVolume,
  repoRoot,
  testImageTag,
  uniqueName,
} from "./support/docker";
import { jupyterApi, runInKernel, waitForHttp } from "./support/jupyter";

const HARDENING = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"];
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A minimal pure-Python wheel, zipped by hand (no index or build backend needed). */
async function writeWheel(
  dir: string,
  name: string,
  version: string,
  module: string,
): Promise<void> {
  const script = [
    "import base64, hashlib, sys, zipfile",
    "out, name, version, module = sys.argv[1:5]",
    "dist = name.replace('-', '_')",
    "files = {",
    "  f'{dist}/__init__.py': module,",
    "  f'{dist}-{version}.dist-info/METADATA': f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n',",
    "  f'{dist}-{version}.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',",
    "}",
    "record = []",
    "for path, text in files.items():",
    "  digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()",
    "  record.append(f'{path},sha256={digest},{len(text.encode())}')",
    "record.append(f'{dist}-{version}.dist-info/RECORD,,')",
    "files[f'{dist}-{version}.dist-info/RECORD'] = '\\n'.join(record) + '\\n'",
    "with zipfile.ZipFile(f'{out}/{dist}-{version}-py3-none-any.whl', 'w') as z:",
    "  for path, text in files.items(): z.writestr(path, text)",
  ].join("\n");
  await exec("python3", ["-c", script, dir, name, version, module], { check: true });
}

describeWithDocker("a course built into the image", () => {
  const token = randomBytes(24).toString("hex");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jn-course-img-"));
  const course = path.join(tmp, "astro101");
  const volume = uniqueName("jn-course-work");
  const containers: string[] = [];
  const images: string[] = [];
  const tag = (suffix: string): string => {
    const t = `${testImageTag}-${suffix}`;
    images.push(t);
    return t;
  };
  let base = "";
  let container = "";
  let first = "";

  const write = (rel: string, content: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(course, rel)), { recursive: true });
    fs.writeFileSync(path.join(course, rel), content, { mode });
  };

  async function start(image: string): Promise<void> {
    const name = uniqueName("jn-course");
    const port = await freePort();
    containers.push(name);
    await docker([
      "run",
      "--detach",
      "--name",
      name,
      ...HARDENING,
      "-e",
      `JUPYTER_TOKEN=${token}`,
      "-v",
      `${volume}:/home/jupyter/work`,
      "-p",
      `127.0.0.1:${port}:8888`,
      image,
    ]);
    container = name;
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api`);
  }

  const contents = (rel: string) =>
    jupyterApi<{ content: string }>(
      base,
      token,
      "GET",
      `/api/contents/${rel}?content=1&type=file&format=text`,
    );

  beforeAll(async () => {
    write("apt.txt", "# a command-line tool from Debian\njq\n");
    write("requirements.txt", "jn-course-greeting==1.0\n");
    fs.mkdirSync(path.join(course, "wheels"));
    await writeWheel(
      path.join(course, "wheels"),
      "jn-course-greeting",
      "1.0",
      "def hello():\n    return 'hello from the course wheel'\n",
    );
    write(
      "postBuild",
      '#!/bin/sh\nset -e\necho "built by $(id -u)" > "$VIRTUAL_ENV/course-postbuild-marker"\n',
      0o755,
    );
    write("materials/hello.ipynb", '{"version": 1}\n');
    write("materials/week1/notes.md", "# Week 1\n");
    write("data/numbers.csv", "n\n1\n2\n3\n");
    first = await buildImage(tag("tc1"), course);
    await start(first);
  }, 20 * 60_000);

  afterAll(async () => {
    for (const name of containers) await removeContainer(name);
    await removeVolume(volume);
    for (const image of images) await exec("docker", ["rmi", image]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("a kernel imports the course's wheel and runs the apt package's command", async () => {
    const out = await runInKernel(
      base,
      token,
      [
        "import subprocess, jn_course_greeting",
        "print(jn_course_greeting.hello(), jn_course_greeting.__file__)",
        "print(subprocess.run(['jq', '-n', '1 + 41'], capture_output=True, text=True, check=True).stdout)",
      ].join("\n"),
    );
    expect(out).toContain("hello from the course wheel /opt/venv/lib/python3");
    expect(out).toContain("42");
  });

  test("postBuild ran once, at build time, as the notebook user", async () => {
    expect(await docker(["exec", container, "cat", "/opt/venv/course-postbuild-marker"])).toBe(
      "built by 1000",
    );
  });

  test("the materials are in the student's folder, the student's to change", async () => {
    expect((await contents("work/astro101/hello.ipynb")).content).toBe('{"version": 1}\n');
    expect((await contents("work/astro101/week1/notes.md")).content).toBe("# Week 1\n");
    expect(
      await docker([
        "exec",
        container,
        "stat",
        "-c",
        "%u",
        "/home/jupyter/work/astro101/hello.ipynb",
      ]),
    ).toBe("1000");
  });

  test("the data is at ~/data, readable and read-only", async () => {
    const out = await runInKernel(
      base,
      token,
      [
        "import os",
        "path = os.path.expanduser('~/data/numbers.csv')",
        "print(repr(open(path).read()), os.path.realpath(path))",
        "for attempt in (lambda: open(path, 'a'), lambda: open(os.path.expanduser('~/data/new.csv'), 'w')):",
        "    try:",
        "        attempt(); print('WRITABLE')",
        "    except PermissionError:",
        "        print('refused')",
      ].join("\n"),
    );
    expect(out).toContain("'n\\n1\\n2\\n3\\n' /opt/course/data/numbers.csv");
    expect(out.match(/refused/g)).toHaveLength(2);
    expect(out).not.toContain("WRITABLE");
  });

  test(
    "a new material version: the student's edit and file are kept, the new version is beside it, a new material arrives, and only the materials layers were rebuilt",
    async () => {
      // The student edits a material and creates a file of their own.
      await jupyterApi(base, token, "PUT", "/api/contents/work/astro101/hello.ipynb", {
        type: "file",
        format: "text",
        content: "my answers",
      });
      await jupyterApi(base, token, "PUT", "/api/contents/work/astro101/mine.txt", {
        type: "file",
        format: "text",
        content: "my own file",
      });

      write("materials/hello.ipynb", '{"version": 2}\n');
      write("materials/week2.ipynb", '{"week": 2}\n');
      const second = await buildImage(tag("tc2"), course);
      expect(second).not.toBe(first);

      const layers = async (image: string): Promise<string[]> =>
        JSON.parse(
          await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]),
        ) as string[];
      const before = await layers(first);
      const after = await layers(second);
      expect(after).toHaveLength(before.length);
      const changed = after.map((l, i) => (l === before[i] ? -1 : i)).filter((i) => i >= 0);
      // The materials and their checksums: the last two layers, and nothing before them.
      expect(changed).toEqual([after.length - 2, after.length - 1]);

      await docker(["rm", "--force", container]);
      await start(second);
      expect((await contents("work/astro101/hello.ipynb")).content).toBe("my answers");
      expect((await contents("work/astro101/mine.txt")).content).toBe("my own file");
      const beside = `hello.course-update-${sha256('{"version": 2}\n').slice(0, 8)}.ipynb`;
      expect((await contents(`work/astro101/${beside}`)).content).toBe('{"version": 2}\n');
      expect((await contents("work/astro101/week2.ipynb")).content).toBe('{"week": 2}\n');
      const logs = await exec("docker", ["logs", container]);
      expect(`${logs.stdout}${logs.stderr}`).toContain(
        "course astro101: 1 new, 0 updated, 1 new versions beside your own edits",
      );
    },
    20 * 60_000,
  );

  test(
    "an apt package that does not exist fails the build naming it and its line",
    async () => {
      write("apt.txt", "jq\n\nno-such-package-jn\n");
      let error = "";
      try {
        await buildImage(tag("bad-apt"), course);
      } catch (e) {
        error = (e as Error).message;
      }
      write("apt.txt", "# a command-line tool from Debian\njq\n");
      expect(error).toContain(
        'course: apt.txt line 3: package "no-such-package-jn" cannot be installed from Debian',
      );
      expect(error).toContain("Unable to locate package no-such-package-jn");
    },
    10 * 60_000,
  );

  test(
    "a Python package that is not in wheels/ (and no index) fails the build naming it and its line",
    async () => {
      write("requirements.txt", "jn-course-greeting==1.0\nno-such-dist-jn==1.0\n");
      let error = "";
      try {
        await buildImage(tag("bad-pip"), course);
      } catch (e) {
        error = (e as Error).message;
      }
      write("requirements.txt", "jn-course-greeting==1.0\n");
      expect(error).toContain(
        'course: requirements.txt line 2: "no-such-dist-jn==1.0" is not available from course/wheels/ (no index: PIP_INDEX_URL is empty)',
      );
      expect(error).not.toContain("line 1:");
    },
    10 * 60_000,
  );
});

describeWithDocker("the example course in course/", () => {
  const token = randomBytes(24).toString("hex");
  const name = uniqueName("jn-example");
  const volume = uniqueName("jn-example-work");
  const image = `${testImageTag}-example`;
  let base = "";

  beforeAll(async () => {
    await buildImage(image, path.join(repoRoot, "course"));
    const port = await freePort();
    await docker([
      "run",
      "--detach",
      "--name",
      name,
      ...HARDENING,
      "-e",
      `JUPYTER_TOKEN=${token}`,
      "-v",
      `${volume}:/home/jupyter/work`,
      "-p",
      `127.0.0.1:${port}:8888`,
      image,
    ]);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api`);
  }, 20 * 60_000);

  afterAll(async () => {
    await removeContainer(name);
    await removeVolume(volume);
    await exec("docker", ["rmi", image]);
  });

  const notebooks = fs
    .readdirSync(path.join(repoRoot, "course", "materials"))
    .filter((f) => f.endsWith(".ipynb"));

  test("ships notebooks", () => {
    expect(notebooks.length).toBeGreaterThanOrEqual(2);
  });

  test.each(notebooks)(
    "%s is in the student's folder and every code cell runs",
    async (notebook) => {
      const listing = await jupyterApi<{ content: { name: string }[] }>(
        base,
        token,
        "GET",
        "/api/contents/work/course",
      );
      expect(listing.content.map((c) => c.name)).toContain(notebook);
      const nb = JSON.parse(
        fs.readFileSync(path.join(repoRoot, "course", "materials", notebook), "utf8"),
      ) as { cells: { cell_type: string; source: string | string[] }[] };
      const code = nb.cells
        .filter((c) => c.cell_type === "code")
        .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source))
        .join("\n");
      // The kernel reports an error in any cell as a failure.
      await runInKernel(
        base,
        token,
        `import matplotlib\nmatplotlib.use('agg')\n${code}\nprint('done')`,
      );
    },
    120_000,
  );
});
