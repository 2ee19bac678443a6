/**
 * The `cards:` and `mail:` blocks of workshop.yaml: defaults, relative paths resolved against the
 * settings file, and every bad value refused with one problem naming its key and the fix. The SMTP
 * password never comes from the file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import { loadCards, smtpPasswordEnv } from "../workshop/cardSettings";
import { parseSettings, parseSettingsText } from "../workshop/settings";
import { repoRoot } from "./support/docker";
import { jetstreamSettings } from "./support/workshopFixtures";

const file = "/srv/class/workshop.yaml";

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("the input was accepted");
}

describe("cards settings", () => {
  test("without a cards block: the shipped template, A4, 8 a page, the workshop as title", () => {
    const s = parseSettings({ ...jetstreamSettings }, file);
    expect(s.cards).toEqual({
      title: "intro",
      paper: "a4",
      perPage: 8,
      templateFile: path.join(repoRoot, "templates", "card.html"),
    });
    expect(s.mail).toBeUndefined();
  });

  test("every key, relative paths against the settings file's folder", () => {
    const s = parseSettings(
      {
        ...jetstreamSettings,
        cards: {
          title: "Intro to Python",
          courseUrl: "https://example.org/intro",
          contact: "ada@example.org, room 2.14",
          wifi: "Wi-Fi: eduroam",
          logo: "art/logo.svg",
          paper: "Letter",
          perPage: 6,
          template: "my-card.html",
        },
      },
      file,
    );
    expect(s.cards).toEqual({
      title: "Intro to Python",
      courseUrl: "https://example.org/intro",
      contact: "ada@example.org, room 2.14",
      wifi: "Wi-Fi: eduroam",
      logoFile: "/srv/class/art/logo.svg",
      paper: "letter",
      perPage: 6,
      templateFile: "/srv/class/my-card.html",
    });
  });

  test.each([
    [
      { cards: "big" },
      '[cards] must be a mapping of card settings (title, courseUrl, contact, wifi, logo, paper, perPage, template), got "big"',
    ],
    [
      { cards: { colour: "red" } },
      "[cards.colour] is not a card setting; known: title, courseUrl, contact, wifi, logo, paper, perPage, template",
    ],
    [{ cards: { title: ["a"] } }, "[cards.title] must be one line of text, got a list"],
    [
      { cards: { title: "  " } },
      "[cards.title] is empty: remove the line (the workshop name is the default) or write the course's title",
    ],
    [
      { cards: { wifi: "x".repeat(201) } },
      "[cards.wifi] is 201 characters; a card has room for at most 200",
    ],
    [
      { cards: { courseUrl: "example.org/intro" } },
      '[cards.courseUrl] must be an http:// or https:// address such as https://example.org/course, got "example.org/intro"',
    ],
    [{ cards: { paper: "a5" } }, '[cards.paper] must be a4 or letter, got "a5"'],
    [
      { cards: { perPage: 10 } },
      "[cards.perPage] must be 2, 4, 6 or 8 (two columns; more rows leave no room for a readable QR code), got 10",
    ],
    [
      { cards: { perPage: "8x" } },
      '[cards.perPage] must be 2, 4, 6 or 8 (two columns; more rows leave no room for a readable QR code), got "8x"',
    ],
    [
      { cards: { logo: "logo.gif" } },
      '[cards.logo] must be a .png, .jpg, .jpeg or .svg file, got "logo.gif"',
    ],
    [
      { cards: { logo: 3 } },
      "[cards.logo] must be one file path (text), got 3: write logo: logo.png",
    ],
    [
      { cards: { template: "" } },
      "[cards.template] is empty: remove the line for the shipped templates/card.html, or name your copy of it",
    ],
  ])("%j is refused", (extra, problem) => {
    expect(problemsOf(() => parseSettings({ ...jetstreamSettings, ...extra }, file))).toEqual([
      problem,
    ]);
  });
});

describe("mail settings", () => {
  test("from, host, port and user; port 587 (STARTTLS) by default, 465 is TLS from the start", () => {
    const s = parseSettings(
      {
        ...jetstreamSettings,
        mail: { from: "Ada Instructor <ada@uni.example>", host: "smtp.uni.example", user: "ada" },
      },
      file,
    );
    expect(s.mail).toEqual({
      from: "Ada Instructor <ada@uni.example>",
      smtp: { host: "smtp.uni.example", port: 587, secure: false, user: "ada" },
    });
    const tls = parseSettings(
      {
        ...jetstreamSettings,
        mail: { from: "ada@uni.example", host: "smtp.uni.example", port: 465, caFile: "ca.pem" },
      },
      file,
    );
    expect(tls.mail).toEqual({
      from: "ada@uni.example",
      smtp: { host: "smtp.uni.example", port: 465, secure: true },
      caFile: "/srv/class/ca.pem",
    });
  });

  test.each([
    [
      { mail: { host: "smtp.uni.example" } },
      '[mail.from] is required: the sender students see, such as "Ada Instructor <ada@uni.example>"',
    ],
    [
      { mail: { from: "ada at uni" } },
      '[mail.from] must be an email address, optionally with a name: "Ada Instructor <ada@uni.example>", got "ada at uni"',
    ],
    [
      { mail: { from: "a@b.example", password: "hunter22" } },
      `[mail.password] is a secret and does not belong in this file; set ${"SMTP_PASSWORD"} in the environment`,
    ],
    [
      { mail: { from: "a@b.example", host: "smtp.uni.example", port: 0 } },
      "[mail.port] must be a whole number from 1 to 65535 (587 for STARTTLS, 465 for TLS), got 0",
    ],
    [
      { mail: { from: "a@b.example", host: "smtp://x" } },
      '[mail.host] must be a host name or address such as smtp.uni.example, got "smtp://x"',
    ],
    [
      { mail: { from: "a@b.example", user: "ada" } },
      "[mail.user] needs [mail.host]: name the mail server to send through",
    ],
    [
      { mail: { from: "a@b.example", relay: "x" } },
      "[mail.relay] is not a mail setting; known: from, host, port, user, caFile",
    ],
  ])("%j is refused", (extra, problem) => {
    expect(problemsOf(() => parseSettings({ ...jetstreamSettings, ...extra }, file))).toEqual([
      problem,
    ]);
  });

  test("the password's variable is named once, here", () => {
    expect(smtpPasswordEnv).toBe("SMTP_PASSWORD");
  });
});

describe("loading the card inputs", () => {
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-cardset-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const settingsIn = (cards: Record<string, unknown>) =>
    parseSettings({ ...jetstreamSettings, cards }, path.join(dir, "workshop.yaml")).cards;

  test("a template and a logo next to the settings are read", () => {
    fs.writeFileSync(path.join(dir, "card.html"), "<p>{{name}} {{qr}} {{url}} {{deletion}}</p>");
    fs.writeFileSync(path.join(dir, "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    const loaded = loadCards(settingsIn({ template: "card.html", logo: "logo.svg" }));
    expect(loaded.template).toBe("<p>{{name}} {{qr}} {{url}} {{deletion}}</p>");
    expect(loaded.course.logoFile).toBe(path.join(dir, "logo.svg"));
  });

  test("a missing template, a template without the deletion sentence and a missing logo: one problem each", () => {
    expect(problemsOf(() => loadCards(settingsIn({ template: "none.html" })))).toEqual([
      `[cards.template] ${path.join(dir, "none.html")} cannot be read (no such file): copy templates/card.html there and edit it, or remove the line`,
    ]);
    fs.writeFileSync(
      path.join(dir, "card.html"),
      "<p>{{name}} {{qr}} {{url}} {{deletionDate}}</p>",
    );
    expect(problemsOf(() => loadCards(settingsIn({ template: "card.html" })))).toEqual([
      `[cards.template] ${path.join(dir, "card.html")}: a card must show {{deletion}}; put it back in the template`,
    ]);
    expect(problemsOf(() => loadCards(settingsIn({ logo: "logo.png" })))).toEqual([
      `[cards.logo] ${path.join(dir, "logo.png")} cannot be read (no such file): put the logo there or remove the line`,
    ]);
  });
});

describe("the documented blocks", () => {
  const example = fs.readFileSync(path.join(repoRoot, "workshop.example.yaml"), "utf8");

  test("workshop.example.yaml is accepted, its mail block uncommented too", () => {
    const file = path.join(repoRoot, "workshop.example.yaml");
    expect(parseSettingsText(example, file).cards).toMatchObject({
      title: "Intro to Python",
      paper: "a4",
      perPage: 8,
    });
    const at = example.indexOf("# mail:");
    const withMail = example.slice(0, at) + example.slice(at).replace(/^# /gm, "");
    expect(withMail).not.toBe(example);
    expect(parseSettingsText(withMail, file).mail).toEqual({
      from: "Ada Instructor <ada@uni.example>",
      smtp: { host: "smtp.uni.example", port: 587, secure: false, user: "ada" },
    });
  });

  test("the cards and mail blocks of docs/workshop.md are accepted", () => {
    const doc = fs.readFileSync(path.join(repoRoot, "docs", "workshop.md"), "utf8");
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    const cards = blocks.find((b) => b.startsWith("cards:"));
    const mail = blocks.find((b) => b.startsWith("mail:"));
    expect(cards && mail).toBeTruthy();
    const s = parseSettingsText(
      `${Object.entries(jetstreamSettings)
        .map(([k, v]) => `${k}: "${v}"`)
        .join("\n")}\n${cards}${mail}`,
      "/srv/class/workshop.yaml",
    );
    expect(s.cards.templateFile).toBe("/srv/class/my-card.html");
    expect(s.mail?.smtp?.host).toBe("smtp.uni.example");
  });
});
