/**
 * The `cards:` and `mail:` blocks of workshop.yaml: what every student's card says and looks like,
 * and whom their email comes from and through which server. Checked with the rest of the settings
 * (every problem names its key and the fix); the files they name (template, logo) are read only
 * when cards are made, so a moved logo never stops a teardown.
 */
import * as path from "node:path";
import { InputError, shown } from "../lib/rules/problems";
import { isEmail } from "../lib/rules/names";
import { cardsPerPageChoices, checkTemplate, CardTemplateError } from "./cards";
import type { CardCourse, CardsPerPage, Paper } from "./cards";
import { readInputFile, utf8Text } from "./inputFile";
import type { MailSettings } from "./mail";

/** The one place the SMTP password comes from; never the settings file or the command line. */
export const smtpPasswordEnv = "SMTP_PASSWORD";

/** The template shipped with the project, used when `cards.template` is not set. */
export const shippedTemplate = path.resolve(__dirname, "..", "templates", "card.html");

export interface CardSettings {
  /** The course's title on every card; the workshop name by default. */
  title: string;
  courseUrl?: string;
  contact?: string;
  wifi?: string;
  /** Absolute path of a .png, .jpg or .svg logo. */
  logoFile?: string;
  paper: Paper;
  perPage: CardsPerPage;
  /** Absolute path of the card template (templates/card.html by default). */
  templateFile: string;
}

export interface MailBlock extends MailSettings {
  /** A CA certificate (PEM) to trust for the mail server, for a campus relay with a private CA. */
  caFile?: string;
}

const cardKeys = [
  "title",
  "courseUrl",
  "contact",
  "wifi",
  "logo",
  "paper",
  "perPage",
  "template",
] as const;
// A host name of one or more labels (a relay may be `localhost` or `mail`), or an address.
const hostPattern =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const mailKeys = ["from", "host", "port", "user", "caFile"] as const;
/** A line longer than this does not fit a card at the card's font size. */
const maxLine = 200;
const logoTypes = [".png", ".jpg", ".jpeg", ".svg"];
/** Templates and logos are small; anything near this is the wrong file. */
const maxCardFileBytes = 2 * 1024 * 1024;

function mapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Validates the `cards:` block.
 * @param value The block as parsed (undefined when absent).
 * @param workshop The workshop name: the title when none is given.
 * @param dir The settings file's folder: relative paths are resolved against it.
 * @param problems Receives one sentence per problem.
 */
export function parseCardsBlock(
  value: unknown,
  workshop: string,
  dir: string,
  problems: string[],
): CardSettings {
  const cards: CardSettings = {
    title: workshop,
    paper: "a4",
    perPage: 8,
    templateFile: shippedTemplate,
  };
  if (!given(value)) return cards;
  if (!mapping(value)) {
    problems.push(
      `[cards] must be a mapping of card settings (${cardKeys.join(", ")}), got ${shown(value)}`,
    );
    return cards;
  }
  for (const key of Object.keys(value)) {
    if (!(cardKeys as readonly string[]).includes(key)) {
      problems.push(
        `[cards.${shown(key).slice(1, -1)}] is not a card setting; known: ${cardKeys.join(", ")}`,
      );
    }
  }
  const line = (key: "title" | "courseUrl" | "contact" | "wifi", empty: string) => {
    const raw = value[key];
    if (!given(raw)) return undefined;
    if (typeof raw !== "string" && typeof raw !== "number") {
      problems.push(`[cards.${key}] must be one line of text, got ${shown(raw)}`);
      return undefined;
    }
    const text = String(raw).trim();
    if (text === "") {
      problems.push(`[cards.${key}] is empty: ${empty}`);
      return undefined;
    }
    if (text.length > maxLine) {
      problems.push(
        `[cards.${key}] is ${text.length} characters; a card has room for at most ${maxLine}`,
      );
      return undefined;
    }
    return text;
  };
  const noLine = "remove the line, or write what the card should say";
  const title = line(
    "title",
    "remove the line (the workshop name is the default) or write the course's title",
  );
  if (title !== undefined) cards.title = title;
  const courseUrl = line("courseUrl", noLine);
  if (courseUrl !== undefined) {
    if (/^https?:\/\/[^\s/]+/.test(courseUrl) && URL.canParse(courseUrl))
      cards.courseUrl = courseUrl;
    else {
      problems.push(
        `[cards.courseUrl] must be an http:// or https:// address such as https://example.org/course, got ${shown(courseUrl)}`,
      );
    }
  }
  const contact = line("contact", noLine);
  if (contact !== undefined) cards.contact = contact;
  const wifi = line("wifi", noLine);
  if (wifi !== undefined) cards.wifi = wifi;

  if (given(value.paper)) {
    const paper = typeof value.paper === "string" ? value.paper.trim().toLowerCase() : "";
    if (paper === "a4" || paper === "letter") cards.paper = paper;
    else problems.push(`[cards.paper] must be a4 or letter, got ${shown(value.paper)}`);
  }
  if (given(value.perPage)) {
    const n =
      typeof value.perPage === "number"
        ? value.perPage
        : typeof value.perPage === "string" && /^[0-9]$/.test(value.perPage)
          ? Number(value.perPage)
          : NaN;
    if ((cardsPerPageChoices as readonly number[]).includes(n)) cards.perPage = n as CardsPerPage;
    else {
      problems.push(
        `[cards.perPage] must be 2, 4, 6 or 8 (two columns; more rows leave no room for a readable QR code), got ${shown(value.perPage)}`,
      );
    }
  }
  const file = (key: "logo" | "template", example: string, empty: string) => {
    const raw = value[key];
    if (!given(raw)) return undefined;
    if (typeof raw !== "string") {
      problems.push(
        `[cards.${key}] must be one file path (text), got ${shown(raw)}: write ${key}: ${example}`,
      );
      return undefined;
    }
    if (raw.trim() === "") {
      problems.push(`[cards.${key}] is empty: ${empty}`);
      return undefined;
    }
    return path.resolve(dir, raw);
  };
  const logo = file(
    "logo",
    "logo.png",
    "remove the line for a card without a logo, or name the file",
  );
  if (logo !== undefined) {
    if (logoTypes.includes(path.extname(logo).toLowerCase())) cards.logoFile = logo;
    else {
      problems.push(
        `[cards.logo] must be a .png, .jpg, .jpeg or .svg file, got ${shown(value.logo)}`,
      );
    }
  }
  const template = file(
    "template",
    "my-card.html",
    "remove the line for the shipped templates/card.html, or name your copy of it",
  );
  if (template !== undefined) cards.templateFile = template;
  return cards;
}

/**
 * Validates the `mail:` block; undefined when there is none (then `workshop mail` says to add it).
 * @param value The block as parsed.
 * @param dir The settings file's folder: `caFile` is resolved against it.
 * @param problems Receives one sentence per problem.
 */
export function parseMailBlock(
  value: unknown,
  dir: string,
  problems: string[],
): MailBlock | undefined {
  if (!given(value)) return undefined;
  if (!mapping(value)) {
    problems.push(
      `[mail] must be a mapping of mail settings (${mailKeys.join(", ")}), got ${shown(value)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === "password" || /pass|secret|token/i.test(key)) {
      problems.push(
        `[mail.${key}] is a secret and does not belong in this file; set ${smtpPasswordEnv} in the environment`,
      );
    } else if (!(mailKeys as readonly string[]).includes(key)) {
      problems.push(
        `[mail.${shown(key).slice(1, -1)}] is not a mail setting; known: ${mailKeys.join(", ")}`,
      );
    }
  }
  const text = (key: (typeof mailKeys)[number]): string | undefined => {
    const raw = value[key];
    if (!given(raw)) return undefined;
    if (typeof raw !== "string" || raw.trim() === "") {
      problems.push(`[mail.${key}] must be one value (text), got ${shown(raw)}`);
      return undefined;
    }
    return raw.trim();
  };
  const from = text("from");
  if (from === undefined) {
    if (!given(value.from)) {
      problems.push(
        '[mail.from] is required: the sender students see, such as "Ada Instructor <ada@uni.example>"',
      );
    }
  } else {
    const address = /<([^<>]*)>$/.exec(from)?.[1] ?? from;
    if (!isEmail(address) || /[<>]/.test(address)) {
      problems.push(
        `[mail.from] must be an email address, optionally with a name: "Ada Instructor <ada@uni.example>", got ${shown(from)}`,
      );
    }
  }
  const host = text("host");
  if (host !== undefined && !hostPattern.test(host) && !/^\[?[0-9a-f:.]+\]?$/i.test(host)) {
    problems.push(
      `[mail.host] must be a host name or address such as smtp.uni.example, got ${shown(host)}`,
    );
  }
  let port = 587;
  if (given(value.port)) {
    const n =
      typeof value.port === "number"
        ? value.port
        : typeof value.port === "string" && /^[1-9][0-9]{0,4}$/.test(value.port)
          ? Number(value.port)
          : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 65535) port = n;
    else {
      problems.push(
        `[mail.port] must be a whole number from 1 to 65535 (587 for STARTTLS, 465 for TLS), got ${shown(value.port)}`,
      );
    }
  }
  const user = text("user");
  const caFileText = text("caFile");
  if (host === undefined) {
    for (const key of ["port", "user", "caFile"] as const) {
      if (given(value[key])) {
        problems.push(`[mail.${key}] needs [mail.host]: name the mail server to send through`);
      }
    }
  }
  if (from === undefined) return undefined;
  return {
    from,
    ...(host === undefined
      ? {}
      : {
          // 465 is TLS from the first byte; every other port must upgrade with STARTTLS.
          smtp: { host, port, secure: port === 465, ...(user === undefined ? {} : { user }) },
        }),
    ...(caFileText === undefined ? {} : { caFile: path.resolve(dir, caFileText) }),
  };
}

/** What renderCards needs from the settings, with the template and logo read and checked. */
export interface LoadedCards {
  template: string;
  course: CardCourse;
  paper: Paper;
  perPage: CardsPerPage;
}

function readCardFile(key: string, file: string, fix: string): Buffer {
  try {
    return readInputFile(file, {
      what: key === "logo" ? "logo" : "card template",
      example: key === "logo" ? "logo.png" : "templates/card.html",
      maxBytes: maxCardFileBytes,
      whenMissing: fix,
    });
  } catch (e) {
    if (e instanceof InputError) {
      throw new InputError(
        file,
        e.problems.map((p) => `[cards.${key}] ${file} ${p}`),
      );
    }
    throw e;
  }
}

/**
 * Reads and checks the template and the logo the settings name, before any student is touched.
 * @throws InputError naming `cards.template` or `cards.logo`, the file and the fix.
 */
export function loadCards(cards: CardSettings): LoadedCards {
  const bytes = readCardFile(
    "template",
    cards.templateFile,
    "copy templates/card.html there and edit it, or remove the line",
  );
  const decoded = utf8Text(bytes, "save it as UTF-8 text");
  if ("problem" in decoded) {
    throw new InputError(cards.templateFile, [
      `[cards.template] ${cards.templateFile}: ${decoded.problem}`,
    ]);
  }
  try {
    checkTemplate(decoded.text, cards.templateFile);
  } catch (e) {
    if (e instanceof CardTemplateError) {
      throw new InputError(cards.templateFile, [`[cards.template] ${e.message}`]);
    }
    throw e;
  }
  if (cards.logoFile !== undefined) {
    readCardFile("logo", cards.logoFile, "put the logo there or remove the line");
  }
  const { title, courseUrl, contact, wifi, logoFile } = cards;
  return {
    template: decoded.text,
    course: { title, courseUrl, contact, wifi, logoFile },
    paper: cards.paper,
    perPage: cards.perPage,
  };
}
