/**
 * The archive checks on hand-made streams: each way a stream could try to place something outside
 * the student's home, or smuggle in what the manifest does not list, is refused on its own; a
 * well-formed stream passes and yields its manifest. Streams go through in small chunks, as they
 * arrive from a pipe.
 */
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TarVerifier, type HelperManifest, type ManifestEntry } from "../workshop/tar-verify";
import { tarEntry, tarStream, type RawEntry } from "./support/tarBuilder";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function line(p: string | Buffer, type: ManifestEntry["type"], extra: Partial<ManifestEntry> = {}) {
  return {
    p: b64(p),
    path: Buffer.from(p).toString("utf8"),
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    uid: 1000,
    gid: 100,
    mtime: 0,
    ...extra,
  } satisfies ManifestEntry;
}

function manifestEntry(m: Partial<HelperManifest> & { entries: ManifestEntry[] }): RawEntry {
  return {
    name: "MANIFEST.json",
    body: JSON.stringify({ version: 1, errors: [], skipped: [], ...m }),
    mode: 0o600,
  };
}

const goodEntries: RawEntry[] = [
  { name: "home/", type: "5", mode: 0o755 },
  { name: "home/a.txt", body: "hello", mode: 0o644 },
  { name: "home/sub/", type: "5", mode: 0o755 },
  { name: "home/sub/link", type: "2", linkname: "/", mode: 0o644 },
];
const goodManifest = [
  line("", "dir"),
  line("a.txt", "file", { size: 5, sha256: sha("hello") }),
  line("sub", "dir"),
  line("sub/link", "symlink", { target: b64("/") }),
];

async function verify(stream: Buffer): Promise<HelperManifest> {
  const v = new TarVerifier();
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 300) chunks.push(stream.subarray(i, i + 300));
  await pipeline(
    Readable.from(chunks),
    v,
    new Writable({
      write: (_c, _e, done) => done(),
    }),
  );
  return v.result();
}

test("a well-formed stream passes, symlinks kept as links whatever they point at", async () => {
  const m = await verify(tarStream([...goodEntries, manifestEntry({ entries: goodManifest })]));
  expect(m.entries.map((e) => e.path)).toEqual(["", "a.txt", "sub", "sub/link"]);
});

test("a name that is not UTF-8 is compared byte for byte", async () => {
  const raw = Buffer.concat([Buffer.from("home/caf"), Buffer.from([0xe9])]);
  const entries = [
    ...goodEntries,
    { name: raw, body: "x" },
    manifestEntry({
      entries: [
        ...goodManifest,
        line(Buffer.from([0x63, 0x61, 0x66, 0xe9]), "file", { size: 1, sha256: sha("x") }),
      ],
    }),
  ];
  await expect(verify(tarStream(entries))).resolves.toBeDefined();
});

test.each<[string, RawEntry[], string]>([
  ["an absolute path", [{ name: "/etc/passwd", body: "x" }], "an absolute path: /etc/passwd"],
  [
    "a climbing path",
    [{ name: "home/../../index.ts", body: "x" }],
    'a path with an empty, "." or ".." part: home/../../index.ts',
  ],
  ["an entry outside home/", [{ name: "other/x", body: "x" }], "an entry outside home/: other/x"],
  [
    "an entry through a symlink",
    [{ name: "home/sub/link/etc/x", body: "x" }],
    "an entry whose folder was not a folder before it: home/sub/link/etc/x",
  ],
  [
    "a hard link",
    [{ name: "home/h", type: "1", linkname: "/etc/shadow" }],
    "an entry of tar type '1': home/h",
  ],
  ["a device", [{ name: "home/dev", type: "3" }], "an entry of tar type '3': home/dev"],
  ["a duplicate", [{ name: "home/a.txt", body: "again" }], "a path twice: home/a.txt"],
])("%s is refused", async (_what, extra, message) => {
  const stream = tarStream([...goodEntries, ...extra, manifestEntry({ entries: goodManifest })]);
  await expect(verify(stream)).rejects.toThrow(message);
});

test("an entry the manifest does not list is refused, and a listed one that is missing", async () => {
  const stream = tarStream([
    ...goodEntries,
    { name: "home/extra", body: "x" },
    manifestEntry({ entries: [...goodManifest, line("gone", "file", { size: 0 })] }),
  ]);
  await expect(verify(stream)).rejects.toThrow(
    "archive check failed: gone is in the manifest but not the archive; extra is in the archive but not the manifest",
  );
});

test("a file whose bytes differ from the manifest is refused", async () => {
  const lying = goodManifest.map((e) => (e.path === "a.txt" ? { ...e, sha256: sha("hullo") } : e));
  await expect(
    verify(tarStream([...goodEntries, manifestEntry({ entries: lying })])),
  ).rejects.toThrow("archive check failed: a.txt differs between the archive and the manifest");
});

test("anything after the manifest, a missing manifest or a cut stream is refused", async () => {
  const m = manifestEntry({ entries: goodManifest });
  await expect(
    verify(tarStream([...goodEntries, m, { name: "home/late", body: "x" }])),
  ).rejects.toThrow("an entry after MANIFEST.json");
  await expect(verify(tarStream(goodEntries))).rejects.toThrow("the archive has no manifest");
  const whole = Buffer.concat([...goodEntries, m].map(tarEntry));
  await expect(verify(whole)).rejects.toThrow("the archive ended early");
});

test("a header with a wrong checksum is refused", async () => {
  const stream = tarStream([...goodEntries, manifestEntry({ entries: goodManifest })]);
  stream[512 + 10] ^= 1;
  await expect(verify(stream)).rejects.toThrow("wrong checksum");
});
