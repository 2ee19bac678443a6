/**
 * Hand-made tar streams for the archive checks: any name, type, link or order, including the ones a
 * well-behaved writer never produces, so each refusal can be shown on its own.
 */

export interface RawEntry {
  name: string | Buffer;
  /** Tar type flag: "0" file, "5" folder, "2" symlink, "1" hard link, "x" pax header. */
  type?: string;
  body?: Buffer | string;
  linkname?: string;
  mode?: number;
}

function octalField(n: number, length: number): string {
  return `${n.toString(8).padStart(length - 1, "0")}\0`;
}

export function tarHeader(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const name = typeof e.name === "string" ? Buffer.from(e.name) : e.name;
  name.copy(h, 0, 0, 100);
  h.write(octalField(e.mode ?? 0o644, 8), 100, "latin1");
  h.write(octalField(1000, 8), 108, "latin1");
  h.write(octalField(100, 8), 116, "latin1");
  h.write(octalField(size, 12), 124, "latin1");
  h.write(octalField(0, 12), 136, "latin1");
  h.write(e.type ?? "0", 156, "latin1");
  if (e.linkname) h.write(e.linkname, 157, "latin1");
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

/** One entry: header, body, padding. */
export function tarEntry(e: RawEntry): Buffer {
  const body = typeof e.body === "string" ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([tarHeader(e, body.length), body, pad]);
}

/** A whole stream: the entries, then the two zero blocks. */
export function tarStream(entries: RawEntry[]): Buffer {
  return Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)]);
}
