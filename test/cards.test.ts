/**
 * Handout cards: the template's contract checked before anything is made, and the printed result
 * as a real browser prints it (Debian's chromium to PDF, poppler to text and pictures): cards per
 * page, no card split across pages, the deletion date on every card, every QR code decoding to its
 * own student's URL, on A4 and on Letter.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import {
  cardsPerPageChoices,
  checkTemplate,
  renderCards,
  type Card,
  type Paper,
} from "../workshop/cards";
import { materialsLine } from "../workshop/handouts";
import { findChromium, headlessChromium } from "./support/browser";
import { describeWithTool, exec, repoRoot } from "./support/docker";

jest.setTimeout(5 * 60 * 1000);

const template = fs.readFileSync(path.join(repoRoot, "templates", "card.html"), "utf8");
const course = {
  title: "Intro to Python",
  courseUrl: "https://example.org/intro",
  contact: "ada@example.org",
  wifi: "Wi-Fi: eduroam",
};
const cards: Card[] = Array.from({ length: 11 }, (_, i) => ({
  id: `student${String(i).padStart(2, "0")}`,
  name: i === 3 ? "Zoë <script>alert(1)</script>" : `Student ${i}`,
  url: `https://intro-s${i}.tra000000.projects.jetstream-cloud.org/lab?token=${"c0ffee".repeat(5)}${i}`,
}));

describe("the card template", () => {
  test("the shipped template passes its own check", () => {
    expect(() => checkTemplate(template)).not.toThrow();
  });

  test.each([
    [
      "<p>{{name}} {{qr}} {{url}} {{deletion}} {{room}}</p>",
      "the card template: unknown placeholder(s) {{room}}; the ones filled in are {{title}} {{courseUrl}} {{contact}} {{wifi}} {{logo}} {{name}} {{id}} {{qr}} {{url}} {{deletionDate}} {{deletion}} {{materials}}",
    ],
    [
      // The date alone is not the sentence: a student must read that their work goes with it.
      "<p>{{name}} {{qr}} {{url}} {{deletionDate}}</p>",
      "the card template: a card must show {{deletion}}; put it back in the template",
    ],
    [
      "<!-- {{deletion}} --><p>{{name}} {{qr}} {{url}}</p>",
      "the card template: a card must show {{deletion}}; put it back in the template",
    ],
  ])("%j is refused", (text, message) => {
    expect(() => checkTemplate(text)).toThrow(message);
  });

  test("student-supplied names are escaped, not markup", async () => {
    const html = await renderCards(cards.slice(3, 4), {
      template,
      course,
      deletionDate: "2030-06-30",
    });
    expect(html).toContain("Zoë &#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).not.toContain("<script>alert(1)");
  });
});

const chromium = findChromium();
let poppler = true;
try {
  execFileSync("pdftoppm", ["-v"], { stdio: "ignore" });
} catch {
  poppler = false;
}

/** Printable area and grid, as the layout defines them (8 mm margins). */
const geometry: Record<Paper, { widthMm: number; heightMm: number; pageName: string }> = {
  a4: { widthMm: 210, heightMm: 297, pageName: "A4" },
  letter: { widthMm: 215.9, heightMm: 279.4, pageName: "letter" },
};

describeWithTool(
  "cards printed by a real browser",
  "chromium and poppler-utils (apt-get install chromium poppler-utils)",
  chromium !== undefined && poppler,
  () => {
    let dir = "";
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-cards-"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function printed(paper: Paper, perPage: 2 | 4 | 6 | 8): Promise<string> {
      const html = path.join(dir, `${paper}-${perPage}.html`);
      fs.writeFileSync(
        html,
        await renderCards(cards, { template, course, deletionDate: "2030-06-30", paper, perPage }),
      );
      const pdf = path.join(dir, `${paper}-${perPage}.pdf`);
      await headlessChromium(["--no-pdf-header-footer", `--print-to-pdf=${pdf}`, `file://${html}`]);
      return pdf;
    }

    async function pageText(pdf: string, page: number): Promise<string> {
      const r = await exec("pdftotext", ["-layout", "-f", `${page}`, "-l", `${page}`, pdf, "-"], {
        check: true,
      });
      return r.stdout;
    }

    test.each(["a4", "letter"] as const)(
      "%s: 8 cards a page, none split, each with its deletion date and its own QR code",
      async (paper) => {
        const pdf = await printed(paper, 8);
        const info = (await exec("pdfinfo", [pdf], { check: true })).stdout;
        expect(info).toMatch(/^Pages:\s+2$/m);
        expect(info).toMatch(new RegExp(`Page size:.*\\(${geometry[paper].pageName}\\)`, "i"));

        const pages = [await pageText(pdf, 1), await pageText(pdf, 2)];
        const idsOn = pages.map((t) => [...t.matchAll(/student\d\d/g)].map((m) => m[0]));
        expect(idsOn[0]).toEqual(cards.slice(0, 8).map((c) => c.id));
        expect(idsOn[1]).toEqual(cards.slice(8).map((c) => c.id));
        for (const [i, text] of pages.entries()) {
          // Every card's closing sentence is on the same page as its id: nothing split.
          expect(text.match(/deleted on 2030-06-30/g)?.length).toBe(idsOn[i].length);
        }

        // The first page as a picture, cut into the grid's cells: each decodes to its card's URL.
        const prefix = path.join(dir, `${paper}-page`);
        await exec("pdftoppm", ["-r", "200", "-png", "-f", "1", "-l", "1", pdf, prefix], {
          check: true,
        });
        const pngFile = fs.readdirSync(dir).find((f) => f.startsWith(`${paper}-page`));
        const image = PNG.sync.read(fs.readFileSync(path.join(dir, pngFile as string)));
        const pxPerMm = image.width / geometry[paper].widthMm;
        const cellW = ((geometry[paper].widthMm - 16) / 2) * pxPerMm;
        const cellH = ((geometry[paper].heightMm - 16) / 4) * pxPerMm;
        const decoded: (string | undefined)[] = [];
        for (let i = 0; i < 8; i++) {
          const x0 = Math.round(8 * pxPerMm + (i % 2) * cellW);
          const y0 = Math.round(8 * pxPerMm + Math.floor(i / 2) * cellH);
          const cell = new PNG({ width: Math.floor(cellW), height: Math.floor(cellH) });
          PNG.bitblt(image, cell, x0, y0, cell.width, cell.height, 0, 0);
          decoded.push(jsQR(new Uint8ClampedArray(cell.data), cell.width, cell.height)?.data);
        }
        expect(decoded).toEqual(cards.slice(0, 8).map((c) => c.url));
      },
    );

    test.each(
      (["a4", "letter"] as const).flatMap((paper) => cardsPerPageChoices.map((n) => [paper, n])),
    )(
      "%s with %i cards a page: every card's content fits, the course's line included",
      async (paper, perPage) => {
        const html = path.join(dir, `fit-${paper}-${perPage}.html`);
        fs.writeFileSync(
          html,
          await renderCards(cards, {
            template,
            course,
            deletionDate: "2030-06-30",
            paper: paper as Paper,
            perPage: perPage as 2 | 4 | 6 | 8,
            // The longest card the workshop makes: with a course, its line about the course's files.
            materials: materialsLine("astro101-python"),
          }),
        );
        const dom = await headlessChromium(["--dump-dom", `file://${html}`]);
        expect(dom.match(/<article class="card"/g)?.length).toBe(cards.length);
        // The attribute as the page sets it, not the stylesheet and script that mention it.
        expect(dom).not.toContain('data-overflow=""');
      },
    );

    test("an edited template whose content does not fit is marked on screen", async () => {
      const html = path.join(dir, "overflow.html");
      const tall = template.replace(
        '<div class="qr">{{qr}}</div>',
        `<div class="qr">{{qr}}</div>${"<p>more</p>".repeat(40)}`,
      );
      expect(tall).not.toBe(template);
      fs.writeFileSync(
        html,
        await renderCards(cards.slice(0, 2), {
          template: tall,
          course,
          deletionDate: "2030-06-30",
        }),
      );
      const dom = await headlessChromium(["--dump-dom", `file://${html}`]);
      expect(dom.match(/data-overflow=""/g)?.length).toBe(2);
    });
  },
);
