/**
 * Student volumes on the real engine for the export and teardown tests: created with the labels the
 * stack gives them, filled by a shell script run as root in a throwaway container of the test image,
 * and always removable by name.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { docker, removeVolume } from "./docker";

/** Creates a volume labelled as the stack labels a student's volume. */
export async function createStudentVolume(name: string, student: string): Promise<void> {
  await docker([
    "volume",
    "create",
    "--label",
    `org.jetstream-notebooks.student=${student}`,
    "--label",
    "org.jetstream-notebooks.workshop=intro",
    name,
  ]);
}

/**
 * Runs `script` (bash) as root with the volume at /data, then hands everything to uid 1000, as if
 * the student had made it; `script` runs after the chown when `afterChown` is set.
 */
export async function fillVolume(
  image: string,
  volume: string,
  script: string,
  opts: { afterChown?: string; timeoutMs?: number } = {},
): Promise<void> {
  await docker(
    [
      "run",
      "--rm",
      "--network",
      "none",
      "--user",
      "0:0",
      "--entrypoint",
      "bash",
      "--mount",
      `type=volume,src=${volume},dst=/data`,
      "-w",
      "/data",
      image,
      "-euo",
      "pipefail",
      "-c",
      `${script}\nchown -hR 1000:100 /data\n${opts.afterChown ?? ""}`,
    ],
    { timeoutMs: opts.timeoutMs ?? 300_000 },
  );
}

export { removeVolume };

/**
 * A digest of every path, type, mode, size, link target and content under `dir` (not following
 * links): equal before and after means nothing in the tree was written, added or removed.
 */
export function treeDigest(dir: string, skip: (rel: string) => boolean = () => false): string {
  const hash = createHash("sha256");
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    hash.update(`${rel}\0${st.mode}\0${st.size}\0`);
    if (st.isSymbolicLink()) hash.update(fs.readlinkSync(full));
    else if (st.isFile()) hash.update(fs.readFileSync(full));
    else if (st.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (!skip(child)) walk(child);
      }
    }
  };
  walk("");
  return hash.digest("hex");
}
