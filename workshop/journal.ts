/**
 * What `down` has done so far, per stack, kept next to the exports: an interrupted teardown (Ctrl-C, a
 * lost laptop lid, a crash) is finished by running the same command again, without forgetting that
 * an export failed or was forced. It records, it never decides: whether a stack exists is asked of
 * the backend on every run, and a stack that exists is exported again before it is destroyed.
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import { writePrivateFile } from "../lib/privateFile";

export interface JournalEntry {
  student: string;
  exported?: { at: string; files: number; bytes: number; archiveSha256: string };
  exportError?: string;
  /** Destroyed although the export failed, because --force was given. */
  forced?: boolean;
  destroyed?: string;
  removed?: string;
  /**
   * When a run last found no such stack in its backend. Only an observation: a later run that
   * finds the stack exports and destroys it like any other (the earlier run may have looked at an
   * empty or wrong backend).
   */
  absent?: string;
}

interface JournalFile {
  version: 1;
  stacks: Record<string, JournalEntry>;
}

export class Journal {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly data: JournalFile,
  ) {}

  static async open(dir: string): Promise<Journal> {
    const file = path.join(dir, "down-journal.json");
    let text: string;
    try {
      text = await fsp.readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT")
        return new Journal(file, { version: 1, stacks: {} });
      throw e;
    }
    const data = readJournal(text);
    if (data === undefined) {
      throw new InputError(file, [
        "is not a down journal this version can read; move it aside (the stacks it lists are kept) and run the command again",
      ]);
    }
    return new Journal(file, data);
  }

  get(stack: string): JournalEntry | undefined {
    return this.data.stacks[stack];
  }

  /** Records a step and writes the journal before returning (writes are serialized). */
  async record(stack: string, student: string, patch: Partial<JournalEntry>): Promise<void> {
    this.data.stacks[stack] = { ...(this.data.stacks[stack] ?? { student }), ...patch };
    const text = `${JSON.stringify(this.data, null, 2)}\n`;
    this.writes = this.writes.then(() => writePrivateFile(this.file, text));
    await this.writes;
  }
}

/** The journal in `text`, or undefined when it is damaged (cut off, or not the shape written). */
function readJournal(text: string): JournalFile | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(data) || data.version !== 1 || !isObject(data.stacks)) return undefined;
  const entries = Object.values(data.stacks);
  if (!entries.every((e) => isObject(e) && typeof e.student === "string")) return undefined;
  return data as unknown as JournalFile;
}
