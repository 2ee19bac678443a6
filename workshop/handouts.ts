/**
 * Handouts: a CSV for the instructor's records and a printable HTML page with one card per student
 * (name, URL, QR code) to cut out and hand over. Both hold notebook tokens, so they are written
 * owner-only (0600) into a private folder.
 */
import * as path from "node:path";
import QRCode from "qrcode";
import { writePrivateFile } from "../lib/privateFile";
import { materialsRulesParagraph } from "../lib/course";

export interface HandoutEntry {
  id: string;
  name?: string;
  email?: string;
  /** ready/unchanged students have a URL; others are listed with why not. */
  status: string;
  url?: string;
  hostname?: string;
  detail: string;
}

export interface HandoutInfo {
  workshop: string;
  expires: string;
  generatedAt: Date;
  /** The course's name (its folder under ~/work/): each card then says how course updates work. */
  course?: string;
}

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (starting with =, +, -, @, tab or CR)
 * gets a leading apostrophe, which spreadsheets show as text: names come from an LMS where students
 * often choose them, and `=HYPERLINK(...&E3)` in one row could carry another row's token away.
 */
export function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function handoutCsv(entries: readonly HandoutEntry[]): string {
  const rows = [
    ["id", "name", "email", "status", "url", "hostname", "detail"],
    ...entries.map((e) => [
      e.id,
      e.name ?? "",
      e.email ?? "",
      e.status,
      e.url ?? "",
      e.hostname ?? "",
      e.detail,
    ]),
  ];
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * What each student is told about the end: the day their notebook and its files are deleted, and
 * how to take everything home before it (a file at a time from the file browser, or the whole home
 * as one archive from a terminal).
 */
export function deletionNotice(expires: string): string {
  return `Your notebook and every file in it are deleted after ${escapeHtml(expires)}. Before then, download what you want to keep: right-click a file in JupyterLab's file browser and choose Download, or, for everything at once, open a Terminal and run <code>tar czf /tmp/my-work.tar.gz -C ~ . &amp;&amp; mv /tmp/my-work.tar.gz ~/</code>, then download my-work.tar.gz.`;
}

export async function handoutHtml(
  info: HandoutInfo,
  entries: readonly HandoutEntry[],
): Promise<string> {
  const withUrl = entries.filter((e): e is HandoutEntry & { url: string } => e.url !== undefined);
  const missing = entries.filter((e) => e.url === undefined);
  const cards = await Promise.all(
    withUrl.map(async (e) => {
      // Medium error correction survives a crease; the SVG scales crisply on paper.
      const svg = await QRCode.toString(e.url, {
        type: "svg",
        errorCorrectionLevel: "M",
        margin: 2,
      });
      return `<section class="card" data-student="${escapeHtml(e.id)}">
  <h2>${escapeHtml(e.name ?? e.id)}</h2>
  <p class="id">${escapeHtml(e.id)}</p>
  <div class="qr">${svg}</div>
  <p class="url"><a href="${escapeHtml(e.url)}">${escapeHtml(e.url)}</a></p>
  <p class="note">Your own notebook, until ${escapeHtml(info.expires)}. Keep this link private: it is your password.</p>
  <p class="deletion">${deletionNotice(info.expires)}</p>
${info.course === undefined ? "" : `  <p class="note">${escapeHtml(materialsRulesParagraph(info.course))}</p>\n`}</section>`;
    }),
  );
  const missingList = missing.length
    ? `<div class="missing"><h2>Not ready (${missing.length})</h2><ul>${missing
        .map(
          (e) => `<li>${escapeHtml(e.id)}: ${escapeHtml(e.status)} (${escapeHtml(e.detail)})</li>`,
        )
        .join("")}</ul><p>Run <code>workshop up</code> again to retry them.</p></div>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>${escapeHtml(info.workshop)}: notebook handouts</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
  header p { color: #555; }
  .cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: 1rem; }
  .card { border: 1px dashed #888; padding: 1rem; break-inside: avoid; page-break-inside: avoid; }
  .card h2 { margin: 0; font-size: 1.3rem; }
  .card .id { margin: 0.2rem 0; color: #555; font-family: monospace; }
  .qr svg { width: 220px; height: 220px; display: block; }
  .url { font-family: monospace; font-size: 0.8rem; word-break: break-all; }
  .note { font-size: 0.8rem; color: #555; }
  .deletion { font-size: 0.75rem; color: #333; }
  .missing { margin-top: 2rem; color: #a00; }
  @media print { header p, .missing { display: none; } body { margin: 0; } }
</style>
</head>
<body>
<header>
<h1>${escapeHtml(info.workshop)}</h1>
<p>${withUrl.length} notebook(s), until ${escapeHtml(info.expires)} (deleted after it, with every student's files: each card tells its student how to download them); generated ${escapeHtml(info.generatedAt.toISOString())}. This page holds every student's token: print it, hand each card to its student, and do not share the file.</p>
</header>
<main class="cards">
${cards.join("\n")}
</main>
${missingList}
</body>
</html>
`;
}

export interface HandoutFiles {
  csv: string;
  html: string;
}

/**
 * Writes handouts.csv and handouts.html into `dir` (0700), each 0600.
 * @param redact Applied to every status and detail (error texts), so no secret reaches a handout.
 */
export async function writeHandouts(
  dir: string,
  info: HandoutInfo,
  given: readonly HandoutEntry[],
  redact: (text: string) => string = (t) => t,
): Promise<HandoutFiles> {
  const entries = given.map((e) => ({ ...e, status: redact(e.status), detail: redact(e.detail) }));
  const files = { csv: path.join(dir, "handouts.csv"), html: path.join(dir, "handouts.html") };
  await writePrivateFile(files.csv, handoutCsv(entries));
  await writePrivateFile(files.html, await handoutHtml(info, entries));
  return files;
}
