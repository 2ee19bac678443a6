/** Reading an export archive back in tests: the entry names, in archive order. */
import * as tar from "tar";

export async function listArchive(file: string): Promise<string[]> {
  const names: string[] = [];
  await tar.list({ file, onReadEntry: (e) => names.push(e.path.replace(/\/$/, "")) });
  return names;
}
