/**
 * How the notebook image is built, in one place for every builder: the instructor's stack
 * (components/jupyterImage.ts), `npm run image` (scripts/image.ts), the tests and the benchmark.
 * They all stage the same build context and pass the same build arguments, so a course rehearsed
 * with `npm run image` is the image the workshop gets.
 *
 * The build context is docker/ with the course folder staged as course/, complete: every file the
 * Dockerfile copies is present (empty when the course does not use it), modes are normalised
 * (0644, or 0755 for executables) and the materials' manifest is written beside them. The staged
 * folder is named by a hash of its content, so the same course always stages to the same path (the
 * image resource sees no change) and two builds of different courses never share one. Each staging
 * marks its context as used and removes contexts nobody has staged for a day (no build takes that
 * long), so a course edited many times does not fill the temporary folder.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "./rules/problems";
import { courseEntries, filesUnder, readCourse } from "./course";

/** The Dockerfile's folder: docker/ at the repository's root. */
export const defaultDockerDir = path.resolve(__dirname, "..", "docker");
/** The course built when none is named: course/ at the repository's root. */
export const defaultCourseDir = path.resolve(__dirname, "..", "course");
/** The course's name when the image has none (the base image alone). */
export const noCourseName = "course";

/** One file of the staged context: where it goes, its mode, and where its bytes come from. */
interface StagedFile {
  rel: string;
  mode: number;
  source: { file: string } | { text: string };
}

export interface StagedContext {
  /** The build context: a folder holding the Dockerfile and course/. */
  context: string;
  /** The course's name: the folder under each student's ~/work/. */
  courseName: string;
  /** sha256 of everything staged (paths, modes, contents). */
  digest: string;
}

export interface StageOptions {
  /** The course folder; undefined builds the image without a course. */
  course?: string;
  /** The Dockerfile's folder; default docker/. */
  dockerDir?: string;
  /** Where staged contexts are kept; default the system's temporary folder. */
  stagingRoot?: string;
}

/** How long a staged context is kept after its last staging: far longer than any build. */
export const stagedContextMaxAgeMs = 24 * 60 * 60 * 1000;

const contextPrefix = "jetstream-notebooks-image-";
const stagingPrefix = "jetstream-notebooks-staging-";

/**
 * Removes staged contexts (and stagings torn by an interruption) in `root` last used longer than
 * {@link stagedContextMaxAgeMs} ago, except `keep`. Only this module's folders are touched: real
 * folders (never a link, whatever it points at) owned by this user, with this module's names. A
 * context's last use is its marker's time; a context being staged or built right now is younger.
 */
function pruneStagedContexts(root: string, keep: string): void {
  const cutoff = Date.now() - stagedContextMaxAgeMs;
  const uid = process.getuid?.();
  for (const name of fs.readdirSync(root)) {
    if (!name.startsWith(contextPrefix) && !name.startsWith(stagingPrefix)) continue;
    const dir = path.join(root, name);
    if (dir === keep) continue;
    try {
      const stat = fs.lstatSync(dir);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      const marker = path.join(dir, ".staged");
      const used = fs.existsSync(marker) ? fs.lstatSync(marker).mtimeMs : stat.mtimeMs;
      if (used < cutoff) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another builder pruned or renamed it first: nothing to do.
    }
  }
}

const executable = (file: string): number =>
  (fs.statSync(file).mode & 0o100) !== 0 ? 0o755 : 0o644;

function courseFiles(dir: string | undefined): StagedFile[] {
  const files: StagedFile[] = [];
  const single = (entry: string, mode?: number): void => {
    const file = dir === undefined ? undefined : path.join(dir, entry);
    files.push(
      file !== undefined && fs.existsSync(file)
        ? { rel: `course/${entry}`, mode: mode ?? executable(file), source: { file } }
        : { rel: `course/${entry}`, mode: mode ?? 0o644, source: { text: "" } },
    );
  };
  single(courseEntries.apt, 0o644);
  single(courseEntries.requirements, 0o644);
  single(courseEntries.postBuild, 0o755);
  for (const folder of [courseEntries.wheels, courseEntries.data, courseEntries.materials]) {
    const root = dir === undefined ? undefined : path.join(dir, folder);
    for (const rel of root === undefined ? [] : filesUnder(root)) {
      const file = path.join(root as string, rel);
      files.push({ rel: `course/${folder}/${rel}`, mode: executable(file), source: { file } });
    }
  }
  return files;
}

/** sha256sum's text output for the materials, as the start-time merge reads it. */
function materialsManifest(files: StagedFile[]): string {
  const prefix = `course/${courseEntries.materials}/`;
  return files
    .filter((f) => f.rel.startsWith(prefix))
    .map((f) => `${sha256(contentOf(f))}  ./${f.rel.slice(prefix.length)}\n`)
    .join("");
}

function contentOf(f: StagedFile): Buffer {
  return "file" in f.source ? fs.readFileSync(f.source.file) : Buffer.from(f.source.text);
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Stages the build context for a course (or none) and returns where it is. Throws a
 * {@link InputError} naming every problem of the course folder before anything is built.
 */
export function stageBuildContext(options: StageOptions = {}): StagedContext {
  const dockerDir = options.dockerDir ?? defaultDockerDir;
  let courseName = noCourseName;
  if (options.course !== undefined) {
    const course = readCourse(options.course);
    if (course.problems.length > 0) {
      throw new InputError(
        "the course folder",
        course.problems.map((p) => `[course] ${options.course}: ${p}`),
        `The course folder ${options.course} cannot be built:`,
      );
    }
    courseName = course.name;
  }
  const files: StagedFile[] = filesUnder(dockerDir).map((rel) => {
    const file = path.join(dockerDir, rel);
    return { rel, mode: executable(file), source: { file } };
  });
  const course = courseFiles(options.course && path.resolve(options.course));
  files.push(...course, {
    rel: "course/materials.sha256",
    mode: 0o644,
    source: { text: materialsManifest(course) },
  });

  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.rel}\0${f.mode.toString(8)}\0${sha256(contentOf(f))}\n`);
  const digest = hash.digest("hex");
  const root = options.stagingRoot ?? os.tmpdir();
  const context = path.join(root, `${contextPrefix}${digest.slice(0, 20)}`);
  const complete = path.join(context, ".staged");
  if (!fs.existsSync(complete)) {
    // Written aside and renamed into place, so a build never sees a half-staged context.
    const partial = fs.mkdtempSync(path.join(root, stagingPrefix));
    for (const folder of ["course/wheels", "course/data", "course/materials"]) {
      fs.mkdirSync(path.join(partial, folder), { recursive: true, mode: 0o755 });
    }
    for (const f of files) {
      const target = path.join(partial, f.rel);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      if ("file" in f.source) fs.copyFileSync(f.source.file, target);
      else fs.writeFileSync(target, f.source.text);
      fs.chmodSync(target, f.mode);
    }
    fs.writeFileSync(path.join(partial, ".staged"), `${digest}\n`);
    // A .dockerignore keeps the marker out of the context sent to the engine.
    fs.writeFileSync(path.join(partial, ".dockerignore"), ".staged\n");
    try {
      fs.renameSync(partial, context);
    } catch {
      // Another build staged the same content first: use it.
      fs.rmSync(partial, { recursive: true, force: true });
    }
    if (!fs.existsSync(complete))
      throw new Error(`could not stage the build context at ${context}`);
  }
  const now = new Date();
  fs.utimesSync(complete, now, now);
  pruneStagedContexts(root, context);
  return { context, courseName, digest };
}

/**
 * The build arguments every builder passes. Generic so the stack can pass Pulumi inputs and the
 * scripts plain strings. `pipIndexUrl` undefined keeps the Dockerfile's default (PyPI); "" builds
 * with no index at all.
 */
export function imageBuildArgs<T>(input: {
  version: T;
  revision?: T;
  created?: T;
  courseName: string;
  pipIndexUrl?: string;
}): Record<string, T | string> {
  const args: Record<string, T | string> = { VERSION: input.version };
  if (input.revision !== undefined) args.REVISION = input.revision;
  if (input.created !== undefined) args.CREATED = input.created;
  args.COURSE_NAME = input.courseName;
  if (input.pipIndexUrl !== undefined) args.PIP_INDEX_URL = input.pipIndexUrl;
  return args;
}

/** PIP_INDEX_URL from the builder's environment: set (even empty) it is passed on, unset it is not. */
export function pipIndexFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.PIP_INDEX_URL;
}

/** `docker build` arguments for a staged context, as the local engine runs them. */
export function dockerBuildArgv(
  staged: StagedContext,
  tag: string,
  args: Record<string, string>,
  extra: string[] = [],
): string[] {
  return [
    "build",
    ...extra,
    "--tag",
    tag,
    ...Object.entries(args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    "--file",
    path.join(staged.context, "Dockerfile"),
    staged.context,
  ];
}
