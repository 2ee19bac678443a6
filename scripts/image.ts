/**
 * `npm run image -- [--course DIR] [--tag TAG] [--no-course]`: builds the notebook image on the
 * local engine exactly as the instructor's stack does (the same staged context and build arguments,
 * lib/imageBuild.ts), to rehearse a course before a workshop. PIP_INDEX_URL in the environment is
 * passed on as the stack passes it ("" builds offline, from the course's wheels/ only).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import {
  defaultCourseDir,
  dockerBuildArgv,
  imageBuildArgs,
  pipIndexFromEnv,
  stageBuildContext,
} from "../lib/imageBuild";
import { version } from "../package.json";

const usage =
  "usage: npm run image -- [--course DIR] [--tag REPOSITORY:TAG] [--no-course]\n" +
  "  --course DIR   the course folder (default course/)\n" +
  "  --tag TAG      the image's name (default jupyter-notebook:<version>)\n" +
  "  --no-course    the image without a course";

export interface ImageCommand {
  course?: string;
  tag: string;
}

/** Parses the command line; throws a message naming the argument and the fix. */
export function parseImageArgs(argv: string[]): ImageCommand {
  let course: string | undefined = defaultCourseDir;
  let tag = `jupyter-notebook:${version}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value\n${usage}`);
      return v;
    };
    if (arg === "--course") course = path.resolve(value());
    else if (arg === "--tag") tag = value();
    else if (arg === "--no-course") course = undefined;
    else if (arg === "--help" || arg === "-h") throw new Error(usage);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
  }
  if (!/^[a-z0-9]+([._/:-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(tag)) {
    throw new Error(
      `--tag must be an image name such as jupyter-notebook:0.1.0, got ${JSON.stringify(tag)}`,
    );
  }
  if (tag.endsWith(":latest")) {
    throw new Error('--tag must not be ":latest": use a version such as jupyter-notebook:0.1.0');
  }
  return { course, tag };
}

async function main(): Promise<void> {
  const command = parseImageArgs(process.argv.slice(2));
  const staged = stageBuildContext({ course: command.course });
  const args = imageBuildArgs<string>({
    version: command.tag.split(":").pop() ?? version,
    courseName: staged.courseName,
    pipIndexUrl: pipIndexFromEnv(),
  });
  const argv = dockerBuildArgv(staged, command.tag, args);
  process.stderr.write(
    `building ${command.tag} with the course ${command.course ?? "(none)"} as ~/work/${staged.courseName}\n`,
  );
  const code = await new Promise<number>((resolve) => {
    const child = spawn("docker", argv, { stdio: "inherit" });
    child.on("exit", (c) => resolve(c ?? 1));
    child.on("error", () => resolve(127));
  });
  if (code !== 0) {
    throw new Error(
      `docker build failed (exit ${code}); the lines starting "course:" name the file and line to fix`,
    );
  }
  process.stderr.write(
    `built ${command.tag}: try it with npm start, or docker run -p 127.0.0.1:8888:8888 ${command.tag}\n`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
