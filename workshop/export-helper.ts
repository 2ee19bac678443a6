/**
 * The throwaway containers that read and restore a student's volume on the student's own engine.
 *
 * The image is the stack's notebook image by digest (or, locally, the image id the stack built). It
 * is the instructor's: built or pinned by the instructor and already on that engine, and nothing a
 * student does reaches it (a student changes only their container's writable layer and their
 * volume). Its Python reads the volume; the script itself comes from this checkout, on the command
 * line, and Python runs isolated (-I -S: no environment, no user or site packages), from `/`.
 *
 * Reading: the volume read-only, no network, every capability dropped but DAC_READ_SEARCH (root
 * reads a student's mode-000 file or folder only through it: root without DAC_OVERRIDE is refused
 * like anyone else), no-new-privileges, a read-only root, bounded memory and processes, and no
 * log driver (the tar would otherwise be kept a second time in the engine's container log).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the student's volume is mounted inside the export container. */
export const helperMount = "/export/home";

let script: string | undefined;
function helperScript(): string {
  script ??= fs.readFileSync(path.join(__dirname, "export-helper.py"), "utf8");
  return script;
}

/** The image must be the instructor's, pinned: a digest reference or a local image id. */
export function checkHelperImage(image: string): string {
  if (/^sha256:[0-9a-f]{64}$/.test(image) || /^[^\s@]+@sha256:[0-9a-f]{64}$/.test(image)) {
    return image;
  }
  throw new Error(
    `the stack's imageRef ${JSON.stringify(image)} is not pinned (repo@sha256:... or sha256:...)`,
  );
}

const confined = [
  "--rm",
  "--network",
  "none",
  "--security-opt",
  "no-new-privileges:true",
  "--read-only",
  "--log-driver",
  "none",
  "--user",
  "0:0",
  "--memory",
  "256m",
  "--pids-limit",
  "64",
  // The notebook image's HEALTHCHECK asks a Jupyter server that is not running here.
  "--no-healthcheck",
];

/** `docker run` arguments of the container that streams the volume as tar + manifest to stdout. */
export function exportRunArgs(opts: { name: string; image: string; volume: string }): string[] {
  return [
    "run",
    ...confined,
    "--name",
    opts.name,
    "--label",
    "org.jetstream-notebooks.role=export",
    "--cap-drop",
    "ALL",
    "--cap-add",
    "DAC_READ_SEARCH",
    "--mount",
    `type=volume,src=${opts.volume},dst=${helperMount},readonly,volume-nocopy`,
    "--workdir",
    "/",
    "--entrypoint",
    "python3",
    checkHelperImage(opts.image),
    "-I",
    "-S",
    "-c",
    helperScript(),
  ];
}

/**
 * `docker run` arguments of the container that unpacks an export (on stdin) into a volume: GNU tar
 * as root, with the capabilities it needs to give files back their owners, modes and times and to
 * fill folders of mode 000 (CHOWN, DAC_OVERRIDE, FOWNER, FSETID), only `home/` of the archive; then
 * the volume's own folder gets the home's owner, mode and time (tar's entry for it is stripped).
 */
export function restoreRunArgs(opts: {
  name: string;
  image: string;
  volume: string;
  root: { uid: number; gid: number; mode: number; mtime: number };
}): string[] {
  const { uid, gid, mode, mtime } = opts.root;
  if (![uid, gid, mode, mtime].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new Error("restore: the manifest's home entry has a bad owner, mode or time");
  }
  const tar = [
    "tar",
    "--extract",
    "--gzip",
    "--file=-",
    "--directory=/restore",
    "--same-owner",
    "--same-permissions",
    "--numeric-owner",
    // The export lists a folder's entry before it gets to its contents (breadth first within a
    // folder): folders' times and modes are set once everything is in.
    "--delay-directory-restore",
    "--strip-components=1",
    "home",
  ].join(" ");
  const script = `${tar} && chown ${uid}:${gid} /restore && chmod ${mode.toString(8)} /restore && touch -m -d @${mtime} /restore`;
  return [
    "run",
    "-i",
    ...confined,
    "--name",
    opts.name,
    "--label",
    "org.jetstream-notebooks.role=restore",
    "--cap-drop",
    "ALL",
    ...["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"].flatMap((c) => ["--cap-add", c]),
    "--mount",
    `type=volume,src=${opts.volume},dst=/restore,volume-nocopy`,
    "--workdir",
    "/",
    "--entrypoint",
    "sh",
    checkHelperImage(opts.image),
    "-c",
    script,
  ];
}
