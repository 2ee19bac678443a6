/**
 * Printable handout cards from a template the instructor can edit (templates/card.html): a fixed
 * number of cards per page on A4 or Letter, laid out as explicit pages so that a card never splits
 * across a page break whatever the browser's print engine decides. Each card carries the sentence that
 * matters most to a student: the date their notebook is deleted and that they should download their
 * work before it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import QRCode from "qrcode";

export type Paper = "a4" | "letter";

/** Printable area per paper, in millimetres, after an 8 mm margin on every side. */
const paperMm: Record<Paper, { width: number; height: number; css: string }> = {
  a4: { width: 210 - 16, height: 297 - 16, css: "A4" },
  letter: { width: 215.9 - 16, height: 279.4 - 16, css: "letter" },
};

/**
 * Cards per page the layout supports: two columns, one to four rows. More rows leave a card too
 * short for a QR code a phone reads at arm's length beside the text (the print test checks fit).
 */
export const cardsPerPageChoices = [2, 4, 6, 8] as const;
export type CardsPerPage = (typeof cardsPerPageChoices)[number];

export interface CardCourse {
  title: string;
  courseUrl?: string;
  contact?: string;
  wifi?: string;
  /** A PNG, JPEG or SVG file shown at the card's top left. */
  logoFile?: string;
}

export interface Card {
  id: string;
  name?: string;
  url: string;
}

export interface CardsOptions {
  template: string;
  course: CardCourse;
  /** When each notebook is deleted, as printed (e.g. 2030-06-30). */
  deletionDate: string;
  /** One line for every card about the course's files (their folder and the update rules). */
  materials?: string;
  /** HTML shown above the cards on screen and never printed (what the page holds, who is missing). */
  screenNote?: string;
  paper?: Paper;
  perPage?: CardsPerPage;
}

export class CardTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CardTemplateError";
  }
}

const placeholders = [
  "title",
  "courseUrl",
  "contact",
  "wifi",
  "logo",
  "name",
  "id",
  "qr",
  "url",
  "deletionDate",
  "deletion",
  "materials",
] as const;
type Placeholder = (typeof placeholders)[number];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The sentence every card carries, whatever the template around it says: the day the notebook and
 * its files go, and that the student must take their work home before it.
 */
export function deletionSentence(date: string): string {
  return `Your notebook and everything in it is deleted on <b>${escapeHtml(date)}</b>; download your work before then.`;
}

/**
 * Checks a template before any card is made: every {{name}} must be one the command fills, and the
 * deletion sentence, the QR code and the URL must be on the card.
 */
export function checkTemplate(template: string, source = "the card template"): void {
  const body = template.replace(/<!--[\s\S]*?-->/g, "");
  const unknown = [...body.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)]
    .map((m) => m[1])
    .filter((name) => !(placeholders as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new CardTemplateError(
      `${source}: unknown placeholder(s) ${[...new Set(unknown)].map((n) => `{{${n}}}`).join(", ")}; the ones filled in are ${placeholders.map((p) => `{{${p}}}`).join(" ")}`,
    );
  }
  for (const required of ["deletion", "qr", "url"] as const) {
    if (!new RegExp(`\\{\\{\\s*${required}\\s*\\}\\}`).test(body)) {
      throw new CardTemplateError(
        `${source}: a card must show {{${required}}}; put it back in the template`,
      );
    }
  }
}

function logoHtml(file: string | undefined): string {
  if (!file) return "";
  const types: Record<string, string> = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
  };
  const type = types[path.extname(file).toLowerCase()];
  if (!type) {
    throw new CardTemplateError(`cards.logo: ${file} must be a .png, .jpg or .svg file`);
  }
  const data = fs.readFileSync(file).toString("base64");
  return `<img class="logo" alt="" src="data:${type};base64,${data}">`;
}

/** The whole printable page: every card, `perPage` to a sheet. */
export async function renderCards(cards: readonly Card[], opts: CardsOptions): Promise<string> {
  checkTemplate(opts.template);
  const paper = paperMm[opts.paper ?? "a4"];
  const perPage = opts.perPage ?? 8;
  const rows = perPage / 2;
  const cardHeight = paper.height / rows;
  // The QR takes what the card's height leaves after the text lines; never so small a phone fails.
  // The materials line takes two lines of small print more.
  const qrMm = Math.max(20, Math.min(60, cardHeight - 46 - (opts.materials ? 6 : 0)));
  const logo = logoHtml(opts.course.logoFile);
  const filled = await Promise.all(
    cards.map(async (card) => {
      const qr = await QRCode.toString(card.url, {
        type: "svg",
        errorCorrectionLevel: "M",
        margin: 1,
      });
      const values: Record<Placeholder, string> = {
        title: escapeHtml(opts.course.title),
        courseUrl: escapeHtml(opts.course.courseUrl ?? ""),
        contact: escapeHtml(opts.course.contact ?? ""),
        wifi: escapeHtml(opts.course.wifi ?? ""),
        logo,
        name: escapeHtml(card.name ?? card.id),
        id: escapeHtml(card.id),
        qr,
        url: escapeHtml(card.url),
        deletionDate: escapeHtml(opts.deletionDate),
        deletion: deletionSentence(opts.deletionDate),
        materials: escapeHtml(opts.materials ?? ""),
      };
      const body = opts.template
        .replace(/<!--[\s\S]*?-->/g, "")
        .replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, name: Placeholder) => values[name]);
      return `<article class="card" data-student="${escapeHtml(card.id)}">${body}</article>`;
    }),
  );
  const pages: string[] = [];
  for (let i = 0; i < filled.length; i += perPage) {
    pages.push(`<section class="page">\n${filled.slice(i, i + perPage).join("\n")}\n</section>`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>${escapeHtml(opts.course.title)}: notebook cards</title>
<style>
  @page { size: ${paper.css}; margin: 8mm; }
  * { box-sizing: border-box; }
  html, body { margin: 0; padding: 0; font-family: system-ui, sans-serif; color: #111; }
  .page {
    width: ${paper.width}mm; height: ${paper.height}mm; display: grid;
    grid-template-columns: 1fr 1fr; grid-template-rows: repeat(${rows}, ${cardHeight}mm);
    break-after: page; page-break-after: always; overflow: hidden;
  }
  .page:last-child { break-after: auto; page-break-after: auto; }
  .card {
    border: 0.3mm dashed #888; padding: 2mm; overflow: hidden; display: flex; flex-direction: column;
    align-items: center; text-align: center; font-size: 2.8mm; line-height: 1.25;
    break-inside: avoid; page-break-inside: avoid;
  }
  .card header { display: flex; gap: 2mm; align-items: center; font-size: 3.2mm; }
  .card .logo { height: 6mm; }
  .card .name { font-size: 4mm; font-weight: bold; }
  .card .id { font-family: monospace; color: #444; }
  .card .qr svg { width: ${qrMm}mm; height: ${qrMm}mm; display: block; }
  .card .url { font-family: monospace; font-size: 2.2mm; word-break: break-all; margin: 1mm 0; }
  .card p { margin: 0.3mm 0; }
  .card .info { color: #444; }
  .card .materials { font-size: 2.2mm; color: #444; }
  .card[data-overflow] { outline: 1mm solid #c00; }
  .screen { margin: 4mm 0; max-width: ${paper.width}mm; }
  .screen .missing { color: #a00; }
  @media print { .screen { display: none; } }
</style>
</head>
<body>
${opts.screenNote ? `<div class="screen">${opts.screenNote}</div>\n` : ""}${pages.join("\n")}
<script>
  // A card whose content does not fit is cut off on paper: mark it, so an edited template shows
  // its problem on screen before anything is printed.
  for (const card of document.querySelectorAll(".card")) {
    if (card.scrollHeight > card.clientHeight + 1) card.setAttribute("data-overflow", "");
  }
</script>
</body>
</html>
`;
}
