/**
 * Reads the export container's tar stream as it passes on its way to the staging file, and checks
 * every entry before the archive is kept: only `home` and what is under it, then MANIFEST.json last;
 * no absolute path, no empty, `.` or `..` component, no entry under anything but a folder already
 * seen (so nothing can be placed through a link), no duplicate, no hard link or device, sizes and
 * header fields bounded. File bodies are hashed in passing (memory stays flat whatever their size).
 * At the end every entry is compared with the manifest the container computed, and every manifest
 * line with an entry. Nothing is ever extracted: the bytes only go to the staging file.
 *
 * Paths are kept as raw bytes (latin1 strings as map keys): a name that is not UTF-8 stays exact.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

const block = 512;
/** A pax extended header holds a few paths; more than this is not one we wrote. */
const maxPaxBytes = 1024 * 1024;
/** The manifest of a home with about 200,000 entries fits; it is held in memory to be parsed. */
export const maxManifestBytes = 64 * 1024 * 1024;

export type EntryType = "file" | "dir" | "symlink" | "fifo";

/** One line of the manifest the export container computed. */
export interface ManifestEntry {
  /** Path under the home, base64 of its bytes ("" is the home itself). */
  p: string;
  /** The same path for people: UTF-8, with invalid bytes escaped (`\xff`). */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  sha256?: string;
  /** Symlink target, base64 of its bytes, and for people. */
  target?: string;
  targetPath?: string;
}

export interface ManifestProblem {
  p: string;
  path: string;
  error: string;
}

export interface HelperManifest {
  version: 1;
  entries: ManifestEntry[];
  errors: ManifestProblem[];
  skipped: { p: string; path: string; kind: string }[];
}

interface Seen {
  type: EntryType;
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
}

export class ArchiveRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveRefused";
  }
}

function show(raw: Buffer): string {
  return JSON.stringify(raw.toString("utf8")).slice(1, -1);
}

function cstring(buf: Buffer, start: number, length: number): Buffer {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

function octal(buf: Buffer, start: number, length: number, what: string): number {
  const field = buf.subarray(start, start + length);
  if (field[0] & 0x80) {
    // GNU base-256 for values past the octal field's range.
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    if (!Number.isSafeInteger(n)) throw new ArchiveRefused(`${what} out of range`);
    return n;
  }
  const text = cstring(buf, start, length).toString("latin1").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new ArchiveRefused(`${what} is not a number: ${text}`);
  return parseInt(text, 8);
}

/** Parses pax records (`LEN key=value\n`), values as raw bytes. */
function paxRecords(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) throw new ArchiveRefused("malformed pax header");
    const len = Number(body.subarray(pos, space).toString("latin1"));
    if (!Number.isInteger(len) || len <= space - pos || pos + len > body.length) {
      throw new ArchiveRefused("malformed pax header");
    }
    const record = body.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new ArchiveRefused("malformed pax record");
    out.set(record.subarray(0, eq).toString("latin1"), record.subarray(eq + 1));
    pos += len;
  }
  return out;
}

type State =
  | { kind: "header" }
  | { kind: "skip"; left: number; pad: number }
  | { kind: "pax"; left: number; pad: number; parts: Buffer[] }
  | { kind: "manifest"; left: number; pad: number; parts: Buffer[] }
  | { kind: "body"; left: number; pad: number; hash: Hash; key: string }
  | { kind: "end" };

/**
 * A pass-through stream that refuses (errors) at the first entry it would not keep. Call
 * {@link TarVerifier.result} after the stream has finished.
 */
export class TarVerifier extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private state: State = { kind: "header" };
  private pax?: Map<string, Buffer>;
  private readonly seen = new Map<string, Seen>();
  private readonly folders = new Set<string>();
  private manifestText?: Buffer;
  private zeroBlocks = 0;
  /** Bytes of the uncompressed stream, for the size report. */
  bytes = 0;

  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.bytes += chunk.length;
      this.consume(chunk);
      done(null, chunk);
    } catch (e) {
      done(e as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      const s = this.state;
      if (s.kind === "end") return; // Padding to the record size after the two zero blocks.
      if (s.kind === "header") {
        if (data.length < block) {
          this.pending = Buffer.from(data);
          return;
        }
        this.header(data.subarray(0, block));
        data = data.subarray(block);
        continue;
      }
      const take = Math.min(s.left, data.length);
      const part = data.subarray(0, take);
      if (s.kind === "body") s.hash.update(part);
      else if (s.kind === "pax" || s.kind === "manifest") s.parts.push(Buffer.from(part));
      s.left -= take;
      data = data.subarray(take);
      if (s.left === 0) {
        if (s.pad > 0) {
          this.state = { kind: "skip", left: s.pad, pad: 0 };
        } else this.state = { kind: "header" };
        this.finishEntry(s);
      }
    }
  }

  private finishEntry(s: State): void {
    if (s.kind === "body") {
      const got = this.seen.get(s.key);
      if (got) got.sha256 = s.hash.digest("hex");
    } else if (s.kind === "pax") {
      this.pax = paxRecords(Buffer.concat(s.parts));
    } else if (s.kind === "manifest") {
      this.manifestText = Buffer.concat(s.parts);
    }
  }

  private enterBody(size: number, kind: "skip" | "pax" | "manifest" | "body", key = ""): void {
    const pad = (block - (size % block)) % block;
    if (size === 0) {
      this.state = { kind: "header" };
      if (kind === "body")
        this.finishEntry({ kind, left: 0, pad, hash: createHash("sha256"), key });
      if (kind === "manifest") this.manifestText = Buffer.alloc(0);
      return;
    }
    if (kind === "body") this.state = { kind, left: size, pad, hash: createHash("sha256"), key };
    else if (kind === "pax" || kind === "manifest")
      this.state = { kind, left: size, pad, parts: [] };
    else this.state = { kind, left: size, pad };
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) {
        if (this.pax) throw new ArchiveRefused("the archive ends after a pax header");
        this.state = { kind: "end" };
      }
      return;
    }
    if (this.zeroBlocks > 0) throw new ArchiveRefused("an entry after the end marker");
    if (this.manifestText !== undefined) {
      throw new ArchiveRefused("an entry after MANIFEST.json");
    }
    let sum = 0;
    for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (octal(h, 148, 8, "header checksum") !== sum) {
      throw new ArchiveRefused("a header with a wrong checksum (not a tar stream?)");
    }
    const type = String.fromCharCode(h[156] || 0x30);
    let size = octal(h, 124, 12, "size");
    if (type === "x") {
      if (this.pax) throw new ArchiveRefused("two pax headers in a row");
      if (size > maxPaxBytes) throw new ArchiveRefused(`a pax header of ${size} bytes`);
      this.enterBody(size, "pax");
      return;
    }
    const pax = this.pax;
    this.pax = undefined;
    let raw = cstring(h, 0, 100);
    const ustar = h.subarray(257, 263).toString("latin1") === "ustar\0";
    const prefix = ustar ? cstring(h, 345, 155) : Buffer.alloc(0);
    if (prefix.length > 0) raw = Buffer.concat([prefix, Buffer.from("/"), raw]);
    if (pax?.has("path")) raw = pax.get("path") ?? raw;
    if (pax?.has("size")) {
      size = Number(pax.get("size")?.toString("latin1"));
      if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveRefused("a bad pax size");
    }
    let link = cstring(h, 157, 100);
    if (pax?.has("linkpath")) link = pax.get("linkpath") ?? link;
    const mode = octal(h, 100, 8, "mode") & 0o7777;

    if (raw.toString("latin1") === "MANIFEST.json" && type === "0") {
      if (size > maxManifestBytes) {
        throw new ArchiveRefused(`a manifest of ${size} bytes (limit ${maxManifestBytes})`);
      }
      this.enterBody(size, "manifest");
      return;
    }
    const name = show(raw);
    if (raw.includes(0)) throw new ArchiveRefused(`a path with a NUL byte: ${name}`);
    if (raw[0] === 0x2f) throw new ArchiveRefused(`an absolute path: ${name}`);
    let rel = raw;
    if (type === "5" && rel.length > 1 && rel[rel.length - 1] === 0x2f) {
      rel = rel.subarray(0, rel.length - 1);
    }
    const parts = rel.toString("latin1").split("/");
    if (parts[0] !== "home") throw new ArchiveRefused(`an entry outside home/: ${name}`);
    for (const p of parts) {
      if (p === "" || p === "." || p === "..") {
        throw new ArchiveRefused(`a path with an empty, "." or ".." part: ${name}`);
      }
    }
    const key = parts.slice(1).join("/");
    const kind: EntryType | undefined =
      type === "0" ? "file" : type === "5" ? "dir" : type === "2" ? "symlink" : undefined;
    const entryType: EntryType | undefined = kind ?? (type === "6" ? "fifo" : undefined);
    if (!entryType) throw new ArchiveRefused(`an entry of tar type '${type}': ${name}`);
    if (key === "") {
      if (entryType !== "dir" || this.seen.size > 0) {
        throw new ArchiveRefused("the archive does not start with the home folder");
      }
    } else {
      const parent = parts.slice(1, -1).join("/");
      if (!this.folders.has(parent)) {
        throw new ArchiveRefused(`an entry whose folder was not a folder before it: ${name}`);
      }
    }
    if (this.seen.has(key)) throw new ArchiveRefused(`a path twice: ${name}`);
    if (entryType !== "file" && size !== 0) {
      throw new ArchiveRefused(`a ${entryType} with a body: ${name}`);
    }
    this.seen.set(key, {
      type: entryType,
      mode,
      size,
      target: entryType === "symlink" ? link.toString("latin1") : undefined,
    });
    if (entryType === "dir") this.folders.add(key);
    this.enterBody(size, entryType === "file" ? "body" : "skip", key);
  }

  /**
   * After the stream has ended: the container's manifest, once every entry matched it. Throws
   * {@link ArchiveRefused} naming each difference.
   */
  result(): HelperManifest {
    if (this.state.kind !== "end") throw new ArchiveRefused("the archive ended early");
    if (this.manifestText === undefined) throw new ArchiveRefused("the archive has no manifest");
    let manifest: HelperManifest;
    try {
      manifest = JSON.parse(this.manifestText.toString("utf8")) as HelperManifest;
    } catch {
      throw new ArchiveRefused("the manifest is not JSON");
    }
    if (manifest.version !== 1 || !Array.isArray(manifest.entries)) {
      throw new ArchiveRefused("the manifest is not one this version understands");
    }
    const problems: string[] = [];
    const listed = new Set<string>();
    for (const e of manifest.entries) {
      const key = Buffer.from(e.p, "base64").toString("latin1");
      listed.add(key);
      const got = this.seen.get(key);
      const name = e.path === "" ? "(home)" : e.path;
      if (!got) problems.push(`${name} is in the manifest but not the archive`);
      else if (
        got.type !== e.type ||
        got.mode !== e.mode ||
        (e.type === "file" && (got.size !== e.size || got.sha256 !== e.sha256)) ||
        (e.type === "symlink" &&
          got.target !== Buffer.from(e.target ?? "", "base64").toString("latin1"))
      ) {
        problems.push(`${name} differs between the archive and the manifest`);
      }
    }
    for (const key of this.seen.keys()) {
      if (!listed.has(key)) {
        problems.push(`${show(Buffer.from(key, "latin1"))} is in the archive but not the manifest`);
      }
    }
    if (problems.length > 0) {
      throw new ArchiveRefused(
        `archive check failed: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}`,
      );
    }
    return manifest;
  }
}
