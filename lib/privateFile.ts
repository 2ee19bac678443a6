/**
 * Writing files that hold keys, tokens or student work: owner-only, atomically (a reader never sees
 * half a file), in a folder only the owner can list. Side effects: this module writes files.
 */
import * as fs from "node:fs";
import * as path from "node:path";

// Unique per writer, so two processes (or two writes in one) never share a temporary file.
function temporaryBeside(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Writes `data` to `file` with mode 0600 through a temporary file and a rename. */
export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const tmp = temporaryBeside(file);
  await fs.promises.writeFile(tmp, data, { mode: 0o600 });
  // writeFile's mode is filtered by the umask and ignored for an existing file; chmod makes it exact.
  await fs.promises.chmod(tmp, 0o600);
  await fs.promises.rename(tmp, file);
}

/** {@link writePrivateFile} for callers that cannot wait (a Pulumi program's synchronous setup). */
export function writePrivateFileSync(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = temporaryBeside(file);
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
