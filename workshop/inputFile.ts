/**
 * Reading an instructor's input file (settings, roster) safely: only a regular file, at most a size
 * that no real one reaches, and UTF-8 text. A device (/dev/zero) would fill memory and a FIFO would
 * wait forever for a writer; both are refused before a byte is read.
 */
import * as fs from "node:fs";
import { InputError } from "../lib/rules/problems";

export interface InputFileRules {
  /** What the file is, for messages: "settings file", "roster". */
  what: string;
  /** An example path, for the message when the path names something else. */
  example: string;
  /** Size cap in bytes. */
  maxBytes: number;
  /** What to do when the file is missing. */
  whenMissing: string;
}

const kinds: [(s: fs.Stats) => boolean, string][] = [
  [(s) => s.isDirectory(), "a folder"],
  [(s) => s.isCharacterDevice(), "a character device"],
  [(s) => s.isBlockDevice(), "a block device"],
  [(s) => s.isFIFO(), "a FIFO"],
  [(s) => s.isSocket(), "a socket"],
];

/**
 * The bytes of a regular file, or an {@link InputError} naming the file and the fix.
 * @param file The path as given.
 * @param rules What the file is and how large it may be.
 */
export function readInputFile(file: string, rules: InputFileRules): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise block here.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : (code ?? (e as Error).message);
    throw new InputError(file, [`cannot be read (${why}): ${rules.whenMissing}`]);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      const kind = kinds.find(([is]) => is(stats))?.[1] ?? "not a regular file";
      throw new InputError(file, [
        `is ${kind}, not a file: give the path of the ${rules.what}, such as ${rules.example}`,
      ]);
    }
    if (stats.size > rules.maxBytes) {
      throw new InputError(file, [
        `is ${stats.size} bytes, more than the ${rules.maxBytes} a ${rules.what} may have: check the path`,
      ]);
    }
    // Read at most one byte past the cap: a file that grows while being read is still bounded.
    const buffer = Buffer.alloc(rules.maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > rules.maxBytes) {
        throw new InputError(file, [
          `is more than the ${rules.maxBytes} bytes a ${rules.what} may have: check the path`,
        ]);
      }
    }
    return buffer.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The UTF-8 text of `bytes` (without a byte order mark), or the problem that names the encoding
 * found. `howToSave` says how to save the file as UTF-8.
 */
export function utf8Text(bytes: Buffer, howToSave: string): { text: string } | { problem: string } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return {
      problem: `line 1: the file is UTF-16 text (it starts with a UTF-16 byte order mark); ${howToSave}`,
    };
  }
  // UTF-16 without a byte order mark: ASCII text has a NUL beside every character.
  const sample = bytes.subarray(0, 200);
  const nuls = sample.filter((b) => b === 0).length;
  if (sample.length >= 4 && nuls >= sample.length / 4) {
    return { problem: `line 1: the file is UTF-16 text (every other byte is NUL); ${howToSave}` };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Decoded leniently, the first replacement character marks where the text stopped being UTF-8.
    const lenient = bytes.toString("utf8");
    const at = Math.max(0, lenient.indexOf("\uFFFD"));
    const line = lenient.slice(0, at).split("\n").length;
    return {
      problem: `line ${line}: the file is not UTF-8 text (a Latin-1 or "CSV (Windows)" export writes letters such as é that way); ${howToSave}`,
    };
  }
  return { text: text.startsWith("\uFEFF") ? text.slice(1) : text };
}
