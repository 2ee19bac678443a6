/**
 * Saves a student's work before their notebook is destroyed: walks work/ through the Jupyter contents
 * API with the student's token (no SSH, so it works the same on a VM and locally), downloads every
 * file as base64 (exact bytes, notebooks included), checks each against the server's size (and the
 * server's sha256 where it offers one), packs DIR/<student>.tar.gz, then reads the archive back and
 * checks every entry against the manifest before reporting success. Hidden files (dotfiles,
 * .ipynb_checkpoints) are not served by the contents API and are not exported.
 */
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as tar from "tar";
import { runPool } from "./concurrency";
import { ensurePrivateDir, writePrivateFile } from "./files";
import { httpRequest } from "./http";
import { parseNotebookUrl } from "./notebook-url";

export interface ExportedFile {
  /** Path inside the archive, e.g. `work/week1/data.csv`. */
  path: string;
  size: number;
  sha256: string;
  lastModified?: string;
}

export interface ExportManifest {
  student: string;
  /** notebookUrl with its token redacted. */
  source: string;
  exportedAt: string;
  root: string;
  fileCount: number;
  totalBytes: number;
  files: ExportedFile[];
  archive: { file: string; bytes: number; sha256: string };
}

export interface ExportOptions {
  student: string;
  notebookUrl: string;
  outDir: string;
  /** Folder to export, relative to the server's root. */
  root?: string;
  insecure?: boolean;
  requestTimeoutMs?: number;
  now?: () => Date;
}

interface ContentsModel {
  name: string;
  path: string;
  type: "directory" | "file" | "notebook";
  size?: number | null;
  last_modified?: string;
  content?: unknown;
  format?: string | null;
  hash?: string;
  hash_algorithm?: string;
}

export class ExportError extends Error {
  constructor(student: string, message: string) {
    super(`export of ${student}: ${message}`);
    this.name = "ExportError";
  }
}

function contentsUrl(base: string, apiPath: string, query: string): string {
  const encoded = apiPath.split("/").map(encodeURIComponent).join("/");
  return `${base}/api/contents/${encoded}?${query}`;
}

export async function exportStudent(opts: ExportOptions): Promise<ExportManifest> {
  const { base, token, redacted } = parseNotebookUrl(opts.notebookUrl);
  const root = (opts.root ?? "work").replace(/^\/+|\/+$/g, "");
  const fail = (message: string): never => {
    throw new ExportError(opts.student, message);
  };
  const get = async (url: string): Promise<ContentsModel> => {
    const res = await httpRequest(url, {
      headers: { Authorization: `token ${token}` },
      timeoutMs: opts.requestTimeoutMs ?? 120_000,
      tls: opts.insecure ? "any-issuer-for-host" : "public",
      // A file comes back as base64 in one JSON string, and V8 holds no string past about 512 MiB.
      maxBodyBytes: 512 * 1024 * 1024,
    });
    if (res.status === 404) fail(`${new URL(url).pathname} does not exist on the server`);
    if (res.status === 403 || res.status === 401)
      fail(`the server refused the token (${res.status})`);
    if (res.status !== 200) fail(`GET ${new URL(url).pathname} answered ${res.status}`);
    return JSON.parse(res.body.toString("utf8")) as ContentsModel;
  };

  // 1. The listing: every file under root, with the size the server reports.
  const listed: ContentsModel[] = [];
  const dirs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const model = await get(contentsUrl(base, dir, "content=1"));
    if (model.type !== "directory") fail(`${dir} is a ${model.type}, not a folder`);
    dirs.push(dir);
    for (const child of (model.content as ContentsModel[] | null) ?? []) {
      if (child.type === "directory") await walk(child.path);
      else listed.push(child);
    }
  };
  await walk(root);

  // 2. Download into a private staging folder next to the archive, checking each file.
  await ensurePrivateDir(opts.outDir);
  const staging = await fsp.mkdtemp(path.join(opts.outDir, `.export-${opts.student}-`));
  try {
    for (const dir of dirs) await fsp.mkdir(path.join(staging, dir), { recursive: true });
    const files = await runPool(listed, 4, async (entry): Promise<ExportedFile> => {
      // type=file serves notebooks as their exact bytes instead of a re-serialized model.
      const model = await get(
        contentsUrl(base, entry.path, "type=file&format=base64&content=1&hash=1"),
      );
      if (typeof model.content !== "string" || model.format !== "base64") {
        fail(`${entry.path} came back without base64 content`);
      }
      const bytes = Buffer.from(model.content as string, "base64");
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      if (typeof entry.size === "number" && entry.size !== bytes.length) {
        fail(
          `${entry.path}: listed as ${entry.size} bytes, downloaded ${bytes.length} (changed while exporting? run it again)`,
        );
      }
      if (model.hash && model.hash_algorithm === "sha256" && model.hash !== sha256) {
        fail(`${entry.path}: sha256 ${sha256} differs from the server's ${model.hash}`);
      }
      const target = path.join(staging, entry.path);
      await fsp.writeFile(target, bytes, { mode: 0o600 });
      if (model.last_modified) {
        const when = new Date(model.last_modified);
        if (!Number.isNaN(when.getTime())) await fsp.utimes(target, when, when);
      }
      return { path: entry.path, size: bytes.length, sha256, lastModified: model.last_modified };
    });
    if (files.length !== listed.length)
      fail(`downloaded ${files.length} of ${listed.length} files`);
    files.sort((a, b) => a.path.localeCompare(b.path));

    // 3. Pack, then read the archive back: what is on disk is what gets verified.
    const archiveName = `${opts.student}.tar.gz`;
    const archive = path.join(opts.outDir, archiveName);
    const tmpArchive = path.join(staging, archiveName);
    await tar.create({ gzip: true, file: tmpArchive, cwd: staging, portable: true }, [root]);
    await verifyArchive(tmpArchive, files).catch((e: Error) => fail(e.message));
    const archiveBytes = await fsp.readFile(tmpArchive);
    await fsp.chmod(tmpArchive, 0o600);
    await fsp.rename(tmpArchive, archive);

    const manifest: ExportManifest = {
      student: opts.student,
      source: redacted,
      exportedAt: (opts.now?.() ?? new Date()).toISOString(),
      root,
      fileCount: files.length,
      totalBytes: files.reduce((n, f) => n + f.size, 0),
      files,
      archive: {
        file: archiveName,
        bytes: archiveBytes.length,
        sha256: createHash("sha256").update(archiveBytes).digest("hex"),
      },
    };
    await writePrivateFile(
      manifestPath(opts.outDir, opts.student),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    return manifest;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

export function manifestPath(outDir: string, student: string): string {
  return path.join(outDir, `${student}.manifest.json`);
}

/** Checks that every file of the manifest is in the archive with its size and sha256, and nothing else. */
export async function verifyArchive(archive: string, files: ExportedFile[]): Promise<void> {
  const found = new Map<string, { size: number; sha256: string }>();
  const pending: Promise<void>[] = [];
  await tar.list({
    file: archive,
    onReadEntry: (entry) => {
      if (entry.type !== "File") return;
      const hash = createHash("sha256");
      let size = 0;
      pending.push(
        new Promise<void>((resolve) => {
          entry.on("data", (c: Buffer) => {
            hash.update(c);
            size += c.length;
          });
          entry.on("end", () => {
            found.set(entry.path, { size, sha256: hash.digest("hex") });
            resolve();
          });
        }),
      );
    },
  });
  await Promise.all(pending);
  const problems: string[] = [];
  for (const f of files) {
    const got = found.get(f.path);
    if (!got) problems.push(`${f.path} is missing from the archive`);
    else if (got.size !== f.size || got.sha256 !== f.sha256)
      problems.push(`${f.path} differs in the archive`);
    found.delete(f.path);
  }
  for (const extra of found.keys())
    problems.push(`${extra} is in the archive but not the manifest`);
  if (problems.length > 0) throw new Error(`archive check failed: ${problems.join("; ")}`);
}

/** True when a previous export's archive is still there and matches its manifest's checksum. */
export async function exportStillValid(
  outDir: string,
  student: string,
): Promise<ExportManifest | undefined> {
  try {
    const manifest = JSON.parse(
      await fsp.readFile(manifestPath(outDir, student), "utf8"),
    ) as ExportManifest;
    const bytes = await fsp.readFile(path.join(outDir, manifest.archive.file));
    const sha = createHash("sha256").update(bytes).digest("hex");
    return sha === manifest.archive.sha256 ? manifest : undefined;
  } catch {
    return undefined;
  }
}
