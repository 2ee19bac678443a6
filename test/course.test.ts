/**
 * The course folder without an engine: what is refused and why, the staged build context, the build
 * arguments every builder shares, `npm run image`'s arguments, and the materials merge's rules run
 * for real with bash on folders standing in for the image and the student's volume.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import {
  aptProblems,
  materialsRulesParagraph,
  readCourse,
  refusedCourseEntries,
  requirementsProblems,
} from "../lib/course";
import {
  dockerBuildArgv,
  imageBuildArgs,
  pipIndexFromEnv,
  stageBuildContext,
} from "../lib/imageBuild";
import { parseImageArgs } from "../scripts/image";
import { handoutHtml, materialsLine } from "../workshop/handouts";
import { exec, repoRoot } from "./support/docker";

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a course folder: file name to content (a trailing `/` makes an empty folder). */
function writeCourse(files: Record<string, string>, name = "astro101"): string {
  const dir = path.join(tmpDir("jn-course-"), name);
  fs.mkdirSync(dir);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    if (rel.endsWith("/")) {
      fs.mkdirSync(file, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: rel === "postBuild" ? 0o755 : 0o644 });
  }
  return dir;
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("a course folder", () => {
  test.each(Object.entries(refusedCourseEntries))(
    "%s, which repo2docker reads, is refused with what to use instead",
    (entry, why) => {
      const dir = writeCourse({ "apt.txt": "", [entry]: "x" });
      if (entry === "binder" || entry === ".binder") {
        fs.rmSync(path.join(dir, entry));
        fs.mkdirSync(path.join(dir, entry));
      }
      expect(readCourse(dir).problems).toEqual([`${entry}: ${why}`]);
      expect(() => stageBuildContext({ course: dir, stagingRoot: tmpDir("jn-stage-") })).toThrow(
        InputError,
      );
    },
  );

  test("the messages say what to use instead", () => {
    expect(refusedCourseEntries["environment.yml"]).toContain("apt.txt");
    expect(refusedCourseEntries["environment.yml"]).toContain("requirements.txt");
    expect(refusedCourseEntries["runtime.txt"]).toContain("remove runtime.txt");
  });

  test("apt.txt: comments and blank lines are fine; a bad name or two on a line are named by line", () => {
    expect(aptProblems("# tools\n\njq  # JSON\ngraphviz\r\nlibfoo1:amd64\nbar=1.2-3\n")).toEqual(
      [],
    );
    expect(aptProblems("jq\njq graphviz\nJQ\n")).toEqual([
      'apt.txt line 2: one package per line, got "jq graphviz"; put each on its own line',
      'apt.txt line 3: "JQ" is not a Debian package name (lowercase letters, digits and + . -)',
    ]);
  });

  test("requirements.txt: an index or another file is refused by line", () => {
    expect(
      requirementsProblems("numpy>=1.0\n# pin\nrequests==2.32.3 ; python_version>'3'\n"),
    ).toEqual([]);
    expect(requirementsProblems("-i https://example.org/simple\n-r other.txt\nscipy\n")).toEqual([
      "requirements.txt line 1: the index is the build's PIP_INDEX_URL, not the course's; remove -i",
      "requirements.txt line 2: -r names a file the build cannot see; list the packages themselves",
    ]);
  });

  test("a postBuild that is not executable, a missing folder, a name a folder cannot have", () => {
    const dir = writeCourse({ "apt.txt": "" });
    fs.writeFileSync(path.join(dir, "postBuild"), "#!/bin/sh\n", { mode: 0o644 });
    expect(readCourse(dir).problems).toEqual([
      "postBuild is not executable: chmod +x postBuild (and start it with #!)",
    ]);
    expect(readCourse(path.join(dir, "nope")).problems).toEqual([
      `${path.join(dir, "nope")} is not a folder: create it (see docs/course.md) or point [course] at one`,
    ]);
    const spaced = writeCourse({ "apt.txt": "" }, "my course");
    expect(readCourse(spaced).problems[0]).toContain('the course\'s name "my course"');
  });

  test("every problem of a course is reported at once, each under [course] with the folder", () => {
    const dir = writeCourse({ "environment.yml": "", "apt.txt": "a b\n" });
    let error: unknown;
    try {
      stageBuildContext({ course: dir, stagingRoot: tmpDir("jn-stage-") });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      `[course] ${dir}: environment.yml: ${refusedCourseEntries["environment.yml"]}`,
      `[course] ${dir}: apt.txt line 1: one package per line, got "a b"; put each on its own line`,
    ]);
  });

  test("the example course in course/ passes", () => {
    expect(readCourse(path.join(repoRoot, "course")).problems).toEqual([]);
  });

  test("the rules paragraph for students names their folder and every rule", () => {
    const text = materialsRulesParagraph("astro101");
    expect(text).toContain("work/astro101/");
    expect(text).toContain("never overwritten");
    expect(text).toContain(".course-update-");
    expect(text).toContain("stays deleted unless the course changes it");
    expect(text).not.toContain("\n");
  });
});

test("each handout card prints the rules for the course's folder; without a course, none", async () => {
  const info = { workshop: "astro", expires: "2030-06-30", generatedAt: new Date(0) };
  const entries = [
    { id: "ada", status: "ready", url: "https://a.example/lab?token=t1", detail: "" },
    { id: "bob", status: "ready", url: "https://b.example/lab?token=t2", detail: "" },
  ];
  const withCourse = await handoutHtml({ ...info, course: "astro101" }, entries);
  // A card has room for one line: the folder and the rule a student must know.
  const line = materialsLine("astro101");
  expect(line).toContain("work/astro101/");
  expect(line).toContain("Updates never overwrite your changes");
  expect(line).toContain(".course-update-");
  expect(withCourse.split(line.replace(/'/g, "&#39;"))).toHaveLength(3);
  expect(await handoutHtml(info, entries)).not.toContain("work/");
});

describe("the staged build context", () => {
  test("without a course: the Dockerfile's folder and an empty course, every entry present", () => {
    const staged = stageBuildContext({ stagingRoot: tmpDir("jn-stage-") });
    expect(staged.courseName).toBe("course");
    const files = (rel: string) => fs.readdirSync(path.join(staged.context, rel)).sort();
    expect(files(".")).toEqual(
      expect.arrayContaining([...fs.readdirSync(path.join(repoRoot, "docker")), "course"]),
    );
    expect(files("course")).toEqual([
      "apt.txt",
      "data",
      "materials",
      "materials.sha256",
      "postBuild",
      "requirements.txt",
      "wheels",
    ]);
    expect(fs.readFileSync(path.join(staged.context, "course/materials.sha256"), "utf8")).toBe("");
    expect(fs.statSync(path.join(staged.context, "course/postBuild")).mode & 0o777).toBe(0o755);
  });

  test("a course: its files with normalised modes and a manifest in sha256sum's format", async () => {
    const dir = writeCourse({
      "apt.txt": "jq\n",
      postBuild: "#!/bin/sh\ntrue\n",
      "materials/intro.ipynb": "{}\n",
      "materials/week 2/notes.md": "# notes\n",
      "data/numbers.csv": "1,2\n",
      "wheels/": "",
      "README.md": "for the instructor",
    });
    fs.chmodSync(path.join(dir, "data/numbers.csv"), 0o600);
    const staged = stageBuildContext({ course: dir, stagingRoot: tmpDir("jn-stage-") });
    expect(staged.courseName).toBe("astro101");
    const at = (rel: string) => path.join(staged.context, "course", rel);
    expect(fs.readFileSync(at("apt.txt"), "utf8")).toBe("jq\n");
    expect(fs.statSync(at("data/numbers.csv")).mode & 0o777).toBe(0o644);
    expect(fs.statSync(at("postBuild")).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(at("README.md"))).toBe(false);
    const manifest = fs.readFileSync(at("materials.sha256"), "utf8");
    expect(manifest).toBe(
      `${sha256("{}\n")}  ./intro.ipynb\n${sha256("# notes\n")}  ./week 2/notes.md\n`,
    );
    // The format sha256sum itself checks.
    const check = await exec("sh", [
      "-c",
      'cd "$1" && sha256sum --check --quiet "$2"',
      "sh",
      at("materials"),
      at("materials.sha256"),
    ]);
    expect(check.code).toBe(0);
  });

  test("the same course stages to the same folder; a changed material to another", () => {
    const root = tmpDir("jn-stage-");
    const dir = writeCourse({ "materials/a.ipynb": "1" });
    const first = stageBuildContext({ course: dir, stagingRoot: root });
    expect(stageBuildContext({ course: dir, stagingRoot: root }).context).toBe(first.context);
    fs.writeFileSync(path.join(dir, "materials/a.ipynb"), "2");
    const second = stageBuildContext({ course: dir, stagingRoot: root });
    expect(second.context).not.toBe(first.context);
    expect(fs.readFileSync(path.join(second.context, "course/materials/a.ipynb"), "utf8")).toBe(
      "2",
    );
  });
});

describe("staged contexts are pruned", () => {
  const day = 24 * 60 * 60 * 1000;
  const age = (file: string, ms: number): void => {
    const then = new Date(Date.now() - ms);
    fs.utimesSync(file, then, then);
  };
  /** A context as an earlier staging left it, last used `ms` ago. */
  const earlier = (root: string, name: string, ms: number): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, "course"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".staged"), "x\n");
    age(path.join(dir, ".staged"), ms);
    age(dir, ms);
    return dir;
  };

  test("old contexts and torn stagings go; the current one, one in use and anything else stay", () => {
    const root = tmpDir("jn-stage-");
    const dir = writeCourse({ "materials/a.ipynb": "1" });
    const current = stageBuildContext({ course: dir, stagingRoot: root });
    // The current context was last staged long ago: staging it again marks it as used now.
    age(path.join(current.context, ".staged"), 3 * day);
    const old = earlier(root, "jetstream-notebooks-image-0123456789abcdef0123", 3 * day);
    const torn = earlier(root, "jetstream-notebooks-staging-Ab12Cd", 3 * day);
    const inUse = earlier(root, "jetstream-notebooks-image-fedcba9876543210fedc", 60_000);
    const notOurs = earlier(root, "someone-elses-folder", 3 * day);
    const target = tmpDir("jn-target-");
    fs.writeFileSync(path.join(target, "keep"), "k");
    const link = path.join(root, "jetstream-notebooks-image-aaaaaaaaaaaaaaaaaaaa");
    fs.symlinkSync(target, link);
    const then = new Date(Date.now() - 3 * day);
    fs.lutimesSync(link, then, then);

    const again = stageBuildContext({ course: dir, stagingRoot: root });

    expect(again.context).toBe(current.context);
    expect(fs.existsSync(path.join(current.context, "course/materials/a.ipynb"))).toBe(true);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(torn)).toBe(false);
    expect(fs.existsSync(inUse)).toBe(true);
    expect(fs.existsSync(notOurs)).toBe(true);
    // A link under a context's name is not followed: what it points at stays.
    expect(fs.readFileSync(path.join(target, "keep"), "utf8")).toBe("k");
    // A later staging a day on keeps the current context: it was marked as used.
    expect(Date.now() - fs.statSync(path.join(current.context, ".staged")).mtimeMs).toBeLessThan(
      day,
    );
  });
});

describe("the build arguments every builder passes", () => {
  test("the stack's and the script's: version, labels when given, course name, index when set", () => {
    expect(imageBuildArgs({ version: "0.1.0", courseName: "course" })).toEqual({
      VERSION: "0.1.0",
      COURSE_NAME: "course",
    });
    expect(
      imageBuildArgs({
        version: "1",
        revision: "abc",
        created: "2030-01-01T00:00:00Z",
        courseName: "astro101",
        pipIndexUrl: "",
      }),
    ).toEqual({
      VERSION: "1",
      REVISION: "abc",
      CREATED: "2030-01-01T00:00:00Z",
      COURSE_NAME: "astro101",
      PIP_INDEX_URL: "",
    });
  });

  test("PIP_INDEX_URL from the environment: unset is not passed, empty is (offline)", () => {
    expect(pipIndexFromEnv({})).toBeUndefined();
    expect(pipIndexFromEnv({ PIP_INDEX_URL: "" })).toBe("");
    expect(pipIndexFromEnv({ PIP_INDEX_URL: "https://mirror.example/simple" })).toBe(
      "https://mirror.example/simple",
    );
  });

  test("docker build's argument list", () => {
    const staged = { context: "/ctx", courseName: "c", digest: "d" };
    expect(dockerBuildArgv(staged, "t:1", { VERSION: "1", PIP_INDEX_URL: "" })).toEqual([
      "build",
      "--tag",
      "t:1",
      "--build-arg",
      "VERSION=1",
      "--build-arg",
      "PIP_INDEX_URL=",
      "--file",
      "/ctx/Dockerfile",
      "/ctx",
    ]);
  });

  test("npm run image's arguments: defaults, --course, --tag, --no-course, and mistakes", () => {
    expect(parseImageArgs([])).toEqual({
      course: path.join(repoRoot, "course"),
      tag: expect.stringMatching(/^jupyter-notebook:\d+\.\d+\.\d+/) as unknown,
    });
    expect(parseImageArgs(["--course", "x/y", "--tag", "astro:2030.1"])).toEqual({
      course: path.resolve("x/y"),
      tag: "astro:2030.1",
    });
    expect(parseImageArgs(["--no-course"]).course).toBeUndefined();
    expect(() => parseImageArgs(["--course"])).toThrow("--course needs a value");
    expect(() => parseImageArgs(["--tag", "Astro"])).toThrow("--tag must be an image name");
    expect(() => parseImageArgs(["--tag", "astro:latest"])).toThrow('must not be ":latest"');
    expect(() => parseImageArgs(["--cours", "x"])).toThrow('unknown argument "--cours"');
  });
});

/**
 * merge-materials.sh run with bash on this machine: a folder stands in for the image's materials
 * (with the manifest the staging writes), another for the student's home.
 */
describe("the materials merge's rules", () => {
  const script = path.join(repoRoot, "docker", "merge-materials.sh");

  function setup() {
    const root = tmpDir("jn-merge-");
    const home = path.join(root, "home");
    fs.mkdirSync(path.join(home, "work"), { recursive: true });
    const image = path.join(root, "image");
    return {
      home,
      course: path.join(home, "work", "astro101"),
      /** Puts a course version "in the image": the materials and their manifest. */
      release(files: Record<string, string>) {
        fs.rmSync(image, { recursive: true, force: true });
        const materials = path.join(image, "materials");
        fs.mkdirSync(materials, { recursive: true });
        const lines: string[] = [];
        for (const [rel, content] of Object.entries(files).sort()) {
          fs.mkdirSync(path.dirname(path.join(materials, rel)), { recursive: true });
          fs.writeFileSync(path.join(materials, rel), content);
          lines.push(`${sha256(content)}  ./${rel}\n`);
        }
        fs.writeFileSync(path.join(image, "materials.sha256"), lines.join(""));
      },
      async start() {
        const r = await exec("bash", [script], {
          env: {
            ...process.env,
            HOME: home,
            COURSE_NAME: "astro101",
            COURSE_MATERIALS: path.join(image, "materials"),
            COURSE_DATA: path.join(image, "data"),
          },
        });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        return r.stdout;
      },
      read(rel: string): string | undefined {
        const file = path.join(home, "work", "astro101", rel);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      },
      write(rel: string, content: string) {
        fs.writeFileSync(path.join(home, "work", "astro101", rel), content);
      },
      list(): string[] {
        return fs.readdirSync(path.join(home, "work", "astro101")).sort();
      },
    };
  }

  test("first start copies everything; a second start with the same course changes nothing", async () => {
    const s = setup();
    s.release({ "a.ipynb": "a1", "week2/b.ipynb": "b1" });
    expect(await s.start()).toContain("2 new, 0 updated");
    expect(s.read("a.ipynb")).toBe("a1");
    expect(s.read("week2/b.ipynb")).toBe("b1");
    expect(await s.start()).toContain("0 new, 0 updated, 0 new versions");
  });

  test("the student's edit wins; the course's new version goes beside it, named so", async () => {
    const s = setup();
    s.release({ "a.ipynb": "a1", "b.ipynb": "b1" });
    await s.start();
    s.write("a.ipynb", "my answer");
    s.release({ "a.ipynb": "a2", "b.ipynb": "b2", "c.ipynb": "c1" });
    expect(await s.start()).toContain("1 new, 1 updated, 1 new versions");
    expect(s.read("a.ipynb")).toBe("my answer");
    expect(s.read(`a.course-update-${sha256("a2").slice(0, 8)}.ipynb`)).toBe("a2");
    // Not edited by the student: updated in place.
    expect(s.read("b.ipynb")).toBe("b2");
    expect(s.read("c.ipynb")).toBe("c1");
    // Starting again does not pile up copies.
    await s.start();
    expect(s.list()).toEqual([
      ".course-delivered",
      `a.course-update-${sha256("a2").slice(0, 8)}.ipynb`,
      "a.ipynb",
      "b.ipynb",
      "c.ipynb",
    ]);
  });

  test("a deleted material stays deleted, unless the course's version changes", async () => {
    const s = setup();
    s.release({ "a.ipynb": "a1", "b.ipynb": "b1" });
    await s.start();
    fs.rmSync(path.join(s.course, "a.ipynb"));
    fs.rmSync(path.join(s.course, "b.ipynb"));
    s.release({ "a.ipynb": "a1", "b.ipynb": "b2" });
    await s.start();
    expect(s.read("a.ipynb")).toBeUndefined();
    expect(s.read("b.ipynb")).toBe("b2");
  });

  test("a file the student made under a material's name is kept; so is anything else of theirs", async () => {
    const s = setup();
    fs.mkdirSync(s.course, { recursive: true });
    s.write("a.ipynb", "mine before the course had one");
    s.write("notes.txt", "mine");
    s.release({ "a.ipynb": "a1", Makefile: "m1" });
    await s.start();
    expect(s.read("a.ipynb")).toBe("mine before the course had one");
    expect(s.read(`a.course-update-${sha256("a1").slice(0, 8)}.ipynb`)).toBe("a1");
    expect(s.read("notes.txt")).toBe("mine");
    expect(s.read("Makefile")).toBe("m1");
  });

  test("deleting the whole folder starts over with a fresh copy", async () => {
    const s = setup();
    s.release({ "a.ipynb": "a1" });
    await s.start();
    fs.rmSync(path.join(s.course, "a.ipynb"));
    await s.start();
    expect(s.read("a.ipynb")).toBeUndefined();
    fs.rmSync(s.course, { recursive: true });
    await s.start();
    expect(s.read("a.ipynb")).toBe("a1");
  });

  test("a record the student mangled is read for what it says and no more", async () => {
    const s = setup();
    s.release({ "a.ipynb": "a1" });
    await s.start();
    s.write(".course-delivered", `garbage\n../../etc/passwd\n${"f".repeat(64)}  ./../../x\n`);
    s.write("a.ipynb", "mine");
    await s.start();
    expect(s.read("a.ipynb")).toBe("mine");
    expect(s.list()).toContain(`a.course-update-${sha256("a1").slice(0, 8)}.ipynb`);
    expect(fs.existsSync(path.join(s.home, "x"))).toBe(false);
  });

  test("data is linked as ~/data, unless the student has something there", async () => {
    const s = setup();
    s.release({});
    const data = path.join(path.dirname(s.home), "image", "data");
    fs.mkdirSync(data);
    await s.start();
    expect(fs.readlinkSync(path.join(s.home, "data"))).toBe(data);
    fs.rmSync(path.join(s.home, "data"));
    fs.mkdirSync(path.join(s.home, "data"));
    await s.start();
    expect(fs.lstatSync(path.join(s.home, "data")).isDirectory()).toBe(true);
  });
});

test("a course with a problem stops the program before it declares anything", async () => {
  const dir = writeCourse({ "environment.yml": "", "materials/a.ipynb": "{}" });
  const { parseStackConfig } = await import("../lib/config");
  const { notebookStack } = await import("../program");
  const cfg = parseStackConfig(
    { target: "local", buildImage: "true", course: dir },
    { stackName: "dev", now: new Date("2030-01-01") },
  );
  // The course is staged first: the error comes before any resource is constructed.
  expect(() => notebookStack(cfg, {})).toThrow(
    `[course] ${dir}: environment.yml: ${refusedCourseEntries["environment.yml"]}`,
  );
});
