/**
 * Shared data too big for the image (`dataUrl` with `dataSha256`): one file fetched once per machine
 * and mounted read-only into the notebook where the course's data/ would be. The same fetch script
 * runs in the VM's first-boot setup (cloud-init) and, on the local target, in a one-off container
 * that fills a Docker volume; both are rendered here so the tests run the real thing.
 */

/** Where a VM keeps the fetched data; mounted read-only into the notebook. */
export const vmDataDir = "/var/lib/jetstream-notebooks/data";
/** Written by a failed fetch on a VM; the readiness gate prints it. */
export const dataErrorFile = "/var/lib/jetstream-notebooks/data-error";

export interface DataSource {
  url: string;
  /** Lowercase hex sha256 of the file. */
  sha256: string;
}

// Config validation allows only these, so the values are safe inside single quotes.
const safeUrl = /^https?:\/\/[^\s'"`$\\]+$/;

/** The file's name in the data folder: the URL path's last part, or `data`. */
export function dataFileName(url: string): string {
  const last = new URL(url).pathname.split("/").pop() ?? "";
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(last) ? last : "data";
}

/**
 * A bash script that fetches `source` into `dest` once: a later run with the same checksum does
 * nothing. Retries the download; a file whose sha256 differs is not kept, and the script exits 1
 * with "dataUrl URL: sha256 is ACTUAL, expected EXPECTED" on stderr (and in `errorFile`, if given).
 * A tar archive is unpacked into `dest`; any other file is kept under its name.
 */
export function dataFetchScript(source: DataSource, dest: string, errorFile?: string): string {
  if (!safeUrl.test(source.url)) throw new Error(`unsafe data URL ${JSON.stringify(source.url)}`);
  if (!/^[0-9a-f]{64}$/.test(source.sha256))
    throw new Error("the data sha256 must be 64 hex digits");
  if (!/^\/[A-Za-z0-9/._-]+$/.test(dest))
    throw new Error(`bad data folder ${JSON.stringify(dest)}`);
  const name = dataFileName(source.url);
  const archive = /\.(tar|tar\.gz|tgz)$/.test(name);
  return [
    "set -euo pipefail",
    `url='${source.url}'`,
    `expected='${source.sha256}'`,
    `dest='${dest}'`,
    `error_file='${errorFile ?? ""}'`,
    'fail() { echo "$1" >&2; if [ -n "$error_file" ]; then mkdir -p "$(dirname "$error_file")"; echo "$1" >"$error_file"; fi; exit 1; }',
    'if [ -f "$dest/.sha256" ] && [ "$(cat "$dest/.sha256")" = "$expected" ]; then',
    '  echo "dataUrl $url: already fetched"',
    "  exit 0",
    "fi",
    'mkdir -p "$dest"',
    'tmp=$(mktemp "$dest/.fetch.XXXXXX")',
    "trap 'rm -f \"$tmp\"' EXIT",
    "fetched=''",
    "for attempt in 1 2 3 4 5; do",
    '  if curl --fail --silent --show-error --location --connect-timeout 20 --max-time 3600 -o "$tmp" "$url"; then',
    "    fetched=1",
    "    break",
    "  fi",
    '  echo "dataUrl $url: download failed (attempt $attempt of 5)" >&2',
    "  sleep $((attempt * 3))",
    "done",
    '[ -n "$fetched" ] || fail "dataUrl $url: could not be downloaded (5 attempts)"',
    'actual=$(sha256sum "$tmp" | cut -d" " -f1)',
    'if [ "$actual" != "$expected" ]; then',
    '  fail "dataUrl $url: sha256 is $actual, expected $expected (dataSha256): fix the setting or the file"',
    "fi",
    archive
      ? 'tar -xf "$tmp" -C "$dest" --no-same-owner --no-same-permissions'
      : `mv -f "$tmp" "$dest/${name}"`,
    'chmod -R a+rX "$dest"',
    'echo "$expected" >"$dest/.sha256"',
    'if [ -n "$error_file" ]; then rm -f "$error_file"; fi',
    'echo "dataUrl $url: fetched, sha256 $expected"',
  ].join("\n");
}
