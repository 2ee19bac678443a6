/**
 * Handouts: a CSV for the instructor's records and a printable HTML page with one card per student
 * (cards.ts, from the settings' card template) to cut out and hand over. Both hold notebook tokens, so they are written
 * owner-only (0600) into a private folder.
 */
import * as path from "node:path";
import { renderCards } from "./cards";
import { loadCards, parseCardsBlock, type LoadedCards } from "./cardSettings";
import { writePrivateFile } from "../lib/privateFile";

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
  /** The settings' card template and lines, read and checked; the shipped template by default. */
  cards?: LoadedCards;
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
 * The course's folder and the update rules in one line, as much as a card has room for (the whole
 * paragraph, lib/course.ts's materialsRulesParagraph, is in docs/course.md).
 */
export function materialsLine(course: string): string {
  return `Course files: work/${course}/. Updates never overwrite your changes (they arrive as .course-update- files).`;
}

/**
 * The printable cards, one per student with a URL, made from the settings' card template; the
 * students without one are listed above the cards on screen only.
 */
export async function handoutHtml(
  info: HandoutInfo,
  entries: readonly HandoutEntry[],
): Promise<string> {
  const cards = info.cards ?? loadCards(parseCardsBlock(undefined, info.workshop, ".", []));
  const withUrl = entries.filter((e): e is HandoutEntry & { url: string } => e.url !== undefined);
  const missing = entries.filter((e) => e.url === undefined);
  const missingList = missing.length
    ? `<div class="missing"><h2>Not ready (${missing.length})</h2><ul>${missing
        .map(
          (e) => `<li>${escapeHtml(e.id)}: ${escapeHtml(e.status)} (${escapeHtml(e.detail)})</li>`,
        )
        .join("")}</ul><p>Run <code>workshop up</code> again to retry them.</p></div>`
    : "";
  const screenNote = `<h1>${escapeHtml(info.workshop)}</h1>
<p>${withUrl.length} notebook(s), until ${escapeHtml(info.expires)} (deleted after it, with every student's files: each card tells its student to download them); generated ${escapeHtml(info.generatedAt.toISOString())}. This page holds every student's token: print it, hand each card to its student, and do not share the file. This text is not printed.</p>
${missingList}`;
  return renderCards(
    withUrl.map((e) => ({ id: e.id, name: e.name, url: e.url })),
    {
      template: cards.template,
      course: cards.course,
      paper: cards.paper,
      perPage: cards.perPage,
      deletionDate: info.expires,
      materials: info.course === undefined ? undefined : materialsLine(info.course),
      screenNote,
    },
  );
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
