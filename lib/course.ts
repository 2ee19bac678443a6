/**
 * A course: a folder (repo2docker's file names where they mean the same thing) built once into the
 * workshop's image. This file reads and checks the folder; lib/imageBuild.ts stages it into the
 * image's build context. See docs/course.md.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the image keeps the course's read-only data; every student sees it as ~/data. */
export const courseDataPath = "/opt/course/data";
/** Where the image keeps the materials each start copies into the student's folder. */
export const courseMaterialsPath = "/opt/course/materials";

/** The entries of a course folder this project reads. Anything else is left alone. */
export const courseEntries = {
  apt: "apt.txt",
  requirements: "requirements.txt",
  wheels: "wheels",
  postBuild: "postBuild",
  materials: "materials",
  data: "data",
} as const;

/**
 * Files repo2docker reads that this project does not: each is refused with what to use instead, so
 * an instructor's Binder repository never builds silently without its environment.
 */
export const refusedCourseEntries: Readonly<Record<string, string>> = {
  "environment.yml":
    "conda environments are not supported: list Debian packages in apt.txt and Python packages in requirements.txt",
  "install.R": "R is not supported: the image has a Python 3 kernel only",
  DESCRIPTION: "R packages are not supported: the image has a Python 3 kernel only",
  "runtime.txt":
    "the Python version is the image's (Debian's python3), not chosen per course: remove runtime.txt",
  "Project.toml": "Julia is not supported: the image has a Python 3 kernel only",
  "Manifest.toml": "Julia is not supported: the image has a Python 3 kernel only",
  REQUIRE: "Julia is not supported: the image has a Python 3 kernel only",
  "setup.py":
    "installing the course folder itself is not supported: build it into a wheel in wheels/ and name it in requirements.txt",
  "pyproject.toml":
    "installing the course folder itself is not supported: build it into a wheel in wheels/ and name it in requirements.txt",
  Pipfile: "Pipenv is not supported: list the packages in requirements.txt",
  "Pipfile.lock": "Pipenv is not supported: list the packages in requirements.txt",
  "default.nix": "Nix is not supported: list Debian packages in apt.txt",
  Dockerfile:
    "a course cannot replace the image: list Debian packages in apt.txt and put build steps in postBuild",
  start:
    "start scripts are not supported: the notebook's start is the image's; put build steps in postBuild",
  binder: "a binder/ folder is not read: put apt.txt, requirements.txt and postBuild at the top",
  ".binder":
    "a .binder/ folder is not read: put apt.txt, requirements.txt and postBuild at the top",
};

/** A Debian package name, optionally with an architecture or a version (`name=1.2-3`). */
const debianPackage = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$/;
const courseName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A course folder as read from disk: what the image build needs and what is wrong with it. */
export interface CourseFolder {
  /** Absolute path of the folder; undefined when no course is used (the base image alone). */
  dir?: string;
  /** The folder's name under each student's ~/work/. */
  name: string;
  /** Problems, each naming the file (and line) and the fix. Empty when the course builds. */
  problems: string[];
}

/** The entries of a list file (apt.txt, requirements.txt): comments and blank lines dropped. */
export function listEntries(text: string): { line: number; entry: string }[] {
  return text
    .split("\n")
    .map((raw, i) => ({ line: i + 1, entry: raw.replace(/#.*$/, "").trim() }))
    .filter((e) => e.entry !== "");
}

/** Problems in apt.txt's text: one package name per line. */
export function aptProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { line, entry } of listEntries(text)) {
    if (/\s/.test(entry)) {
      problems.push(
        `apt.txt line ${line}: one package per line, got ${JSON.stringify(entry)}; put each on its own line`,
      );
    } else if (!debianPackage.test(entry)) {
      problems.push(
        `apt.txt line ${line}: ${JSON.stringify(entry)} is not a Debian package name (lowercase letters, digits and + . -)`,
      );
    }
  }
  return problems;
}

/** Problems in requirements.txt's text that pip would misread in this build. */
export function requirementsProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { line, entry } of listEntries(text)) {
    if (/^(-i|--index-url|--extra-index-url)\b/.test(entry)) {
      problems.push(
        `requirements.txt line ${line}: the index is the build's PIP_INDEX_URL, not the course's; remove ${entry.split(/\s/)[0]}`,
      );
    } else if (/^(-r|--requirement|-c|--constraint|-e|--editable)\b/.test(entry)) {
      problems.push(
        `requirements.txt line ${line}: ${entry.split(/\s/)[0]} names a file the build cannot see; list the packages themselves`,
      );
    }
  }
  return problems;
}

/** Every file under `dir`, as paths relative to it with `/`, sorted; symbolic links followed. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel)).sort()) {
      const child = rel === "" ? entry : `${rel}/${entry}`;
      const stat = fs.statSync(path.join(dir, child));
      if (stat.isDirectory()) walk(child);
      else if (stat.isFile()) out.push(child);
    }
  };
  walk("");
  return out;
}

/**
 * Reads a course folder and checks it: refused repo2docker files, list files, postBuild's mode,
 * materials' names. `name` defaults to the folder's own name.
 */
export function readCourse(dir: string, name?: string): CourseFolder {
  const abs = path.resolve(dir);
  const courseNameValue = name ?? courseNameOf(abs);
  const problems: string[] = [];
  if (!courseName.test(courseNameValue)) {
    problems.push(
      `the course's name ${JSON.stringify(courseNameValue)} (its folder's name) must be letters, digits, dots, hyphens and underscores: rename the folder`,
    );
  }
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    problems.push(
      `${dir} is not a folder: create it (see docs/course.md) or point [course] at one`,
    );
    return { dir: abs, name: courseNameValue, problems };
  }
  for (const entry of fs.readdirSync(abs).sort()) {
    const why = refusedCourseEntries[entry];
    if (why !== undefined) problems.push(`${entry}: ${why}`);
  }
  const read = (entry: string): string | undefined => {
    const file = path.join(abs, entry);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  };
  problems.push(...aptProblems(read(courseEntries.apt) ?? ""));
  problems.push(...requirementsProblems(read(courseEntries.requirements) ?? ""));
  const postBuild = path.join(abs, courseEntries.postBuild);
  if (fs.existsSync(postBuild)) {
    const stat = fs.statSync(postBuild);
    if (!stat.isFile()) problems.push("postBuild must be a file");
    else if ((stat.mode & 0o100) === 0) {
      problems.push("postBuild is not executable: chmod +x postBuild (and start it with #!)");
    }
  }
  for (const rel of filesUnder(path.join(abs, courseEntries.materials))) {
    // sha256sum escapes these in its manifest; the start-time merge reads it line by line.
    if (/[\\\n\r]/.test(rel)) {
      problems.push(`materials/${JSON.stringify(rel)}: rename it (no backslash or line break)`);
    }
  }
  return { dir: abs, name: courseNameValue, problems };
}

/**
 * The problem with a `dataUrl` for this course, if any: it is mounted at {@link courseDataPath},
 * over the course's own data/, which would then be hidden from every student. An absent or empty
 * data/ hides nothing.
 * @param dir The course folder.
 * @param url The `dataUrl` setting.
 */
export function dataUrlProblem(dir: string, url: string): string | undefined {
  const folder = path.join(path.resolve(dir), courseEntries.data);
  const count = filesUnder(folder).length;
  if (count === 0) return undefined;
  return `[dataUrl] ${url} would be mounted over the course's own data (${folder}/, ${count} ${count === 1 ? "file" : "files"}) at ${courseDataPath}, hiding it from every student: move those files to the dataUrl file, or unset dataUrl and dataSha256`;
}

/** The course's name for a folder path: its last component, as the image build names it. */
export function courseNameOf(dir: string): string {
  return path.basename(path.resolve(dir));
}

/**
 * The rules of the materials merge as a student reads them: docs/course.md and the handouts print
 * this paragraph.
 */
export function materialsRulesParagraph(name: string): string {
  return [
    `Your course files are in work/${name}/. They are yours: change them as you like.`,
    "When the instructor updates the course, your next start brings in new files and updates the ones you have not changed.",
    "A file you changed is never overwritten: the course's new version is put beside it, named with .course-update- and a code (analysis.course-update-1a2b3c4d.ipynb).",
    "A file you deleted stays deleted unless the course changes it.",
    `To start over, rename or delete the whole work/${name}/ folder: a fresh copy arrives on the next start. The course's data is in data/, read-only.`,
  ].join(" ");
}
