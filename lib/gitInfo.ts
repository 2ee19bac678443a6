/**
 * The commit the program runs from, for a pushed image's OCI labels (REVISION, CREATED). Both are
 * per commit, not per run, so an unchanged checkout never rebuilds. Undefined outside a git
 * checkout or without git: the labels are then left out.
 */
import { execFileSync } from "node:child_process";

export interface GitInfo {
  revision: string;
  /** The commit's date, ISO 8601. */
  created: string;
}

export function gitInfo(cwd: string): GitInfo | undefined {
  try {
    const out = execFileSync("git", ["log", "-1", "--format=%H %cI"], {
      cwd,
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    })
      .toString()
      .trim();
    const [revision, created] = out.split(" ");
    return revision && created ? { revision, created } : undefined;
  } catch {
    return undefined;
  }
}
