/** Writing files that hold tokens or student work: owner-only, atomically (no half-written file). */
import * as fs from "node:fs/promises";
import * as path from "node:path";

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Writes `data` to `file` with mode 0600 through a temporary file and a rename. */
export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fs.writeFile(tmp, data, { mode: 0o600 });
  // writeFile's mode is filtered by the umask and ignored for an existing file; chmod makes it exact.
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}
