/**
 * The roster: one row per student, read from a CSV an instructor exports from a spreadsheet or a
 * learning management system. Only the id matters to the infrastructure (it names the student's stack
 * and host), so it is held to DNS rules; name and email only go on handouts. Every problem is
 * reported with its line, all at once, so a roster is fixed in one pass.
 */
import { dnsLabelProblem } from "../lib/rules/names";
import { isEmail } from "../lib/rules/names";
import { InputError } from "../lib/rules/problems";
import { hiddenCharacter } from "../lib/rules/text";
import { CsvError, parseCsv } from "./csv";
import { readInputFile, utf8Text } from "./inputFile";
import { claim, idFrom } from "./studentIds";
import { formatTable } from "./table";

export interface Student {
  /** DNS-safe id: the stack is `<prefix>-<id>`. */
  id: string;
  name?: string;
  email?: string;
  /** Line of the roster the student is on. */
  line: number;
  /** Set when the roster has no id column: the id was derived from this column (studentIds.ts). */
  idFrom?: "email" | "name";
}

export interface RosterOptions {
  /** The header of the column holding the ids, in any case; default `id` or `student`. */
  idColumn?: string;
  /** Where `idColumn` was given, for messages: `--id-column` (default) or the settings key. */
  idColumnFrom?: string;
}

// LMS exports name these columns in their own words; the first found is used.
const emailColumns = ["email", "e-mail", "email address"];
const nameColumns = ["name", "full name"];

/**
 * A DNS label starting with a letter (the stack names the VM `<workshop>-<student>` and hostnames
 * start with a letter), at most 32 characters so the workshop name still fits in 63.
 */
const idPattern = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
export const maxIdLength = 32;
/** A roster of thousands of students is a few hundred kilobytes; anything near this is the wrong path. */
const maxRosterBytes = 4 * 1024 * 1024;
// A quoted cell may hold line breaks (RFC 4180); nothing else hidden.
const lineBreaks = /\r\n|\r|\n/g;
const howToSave =
  'save it as "CSV UTF-8 (Comma delimited) (*.csv)" in Excel, or as "Text CSV" with character set UTF-8 in LibreOffice';
const howToResave =
  'save it again as CSV with commas: in Excel "CSV UTF-8 (Comma delimited) (*.csv)", in LibreOffice "Text CSV" with field delimiter "," and character set UTF-8';

/** `text` in double quotes, with any hidden character (a control, a bidi override) escaped. */
function quoted(text: string): string {
  const escaped = [...text]
    .map((c) =>
      hiddenCharacter(c) === undefined
        ? c
        : `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
    )
    .join("");
  return `"${escaped}"`;
}

/**
 * Why `id` is not a usable student id, or undefined when it is.
 * @param taken Ids already on the roster (and suggestions already made): a suggestion is never one
 *   of them, and is added to them so the next bad id gets another.
 */
export function idProblem(id: string, taken?: Set<string>): string | undefined {
  if (id.length > maxIdLength) {
    return `id "${id}" is ${id.length} characters; use at most ${maxIdLength}`;
  }
  if (!idPattern.test(id) || dnsLabelProblem(id) !== undefined) {
    const cleaned = id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^[^a-z]+|-+$/g, "")
      .replace(/-{2,}/g, "-");
    const suggestion = cleaned && taken ? claim(cleaned, taken) : cleaned;
    const hint = suggestion && suggestion !== id ? `, such as "${suggestion}"` : "";
    if (idPattern.test(id)) {
      return `id "${id}" has "--" in its third and fourth characters, which Let's Encrypt refuses; use another id${hint}`;
    }
    return `id "${id}" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter${hint}`;
  }
  return undefined;
}

/**
 * Parses roster CSV text. The header names an id column (`id` or `student`, or the one `idColumn`
 * picks) and optionally `name` and `email`, in any order and case; other columns are ignored so an
 * LMS export works as is. Without an id column, ids are derived from the email or name (the rule in
 * studentIds.ts). Throws `InputError` listing every problem with its line.
 * @param opts.idColumn The id column's header, as `--id-column` or the `idColumn` setting gives it.
 */
export function parseRoster(
  text: string,
  source = "roster.csv",
  opts: RosterOptions = {},
): Student[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvError) throw new InputError(source, [`line ${e.line}: ${e.message}`]);
    throw e;
  }
  // Blank lines (an empty single field) are spacing, not students.
  records = records.filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === ""));
  const header = records[0];
  if (!header) {
    throw new InputError(source, [
      "line 1: the roster is empty; the first line is a header such as id,name,email",
    ]);
  }
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const problems: string[] = [];
  // A spreadsheet saved with another delimiter gives one column holding the whole header.
  if (columns.length === 1) {
    const delimiter = [
      [";", "semicolons (;)"],
      ["\t", "tabs"],
      ["|", "vertical bars (|)"],
    ].find(([d]) => header.fields[0].includes(d));
    if (delimiter) {
      throw new InputError(source, [
        `line ${header.line}: the columns are separated by ${delimiter[1]}, not commas; ${howToResave}`,
      ]);
    }
  }
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    if (c !== "" && seen.has(c)) {
      problems.push(`line ${header.line}: column "${c}" appears twice in the header; keep one`);
    }
    seen.set(c, i);
  });
  const found = columns.map(quoted).join(", ");
  const nameIndex = seen.get(nameColumns.find((c) => seen.has(c)) ?? "");
  const emailIndex = seen.get(emailColumns.find((c) => seen.has(c)) ?? "");
  let idLabel = "id";
  let idIndex: number | undefined;
  if (opts.idColumn !== undefined) {
    idLabel = opts.idColumn.trim().toLowerCase();
    idIndex = seen.get(idLabel);
    if (idIndex === undefined) {
      problems.push(
        `line ${header.line}: ${opts.idColumnFrom ?? "--id-column"} ${quoted(opts.idColumn)} is not a column of the roster; the columns found are ${found}`,
      );
    }
  } else {
    const idCols = ["id", "student"].filter((c) => seen.has(c));
    if (idCols.length === 2) {
      problems.push(
        `line ${header.line}: the header has both "id" and "student" columns; keep one as the student id`,
      );
    } else if (idCols.length === 1) {
      idLabel = idCols[0];
      idIndex = seen.get(idLabel);
    } else if (nameIndex === undefined && emailIndex === undefined) {
      problems.push(
        `line ${header.line}: the header has no id column; name one column "id" (or "student"), pick one with --id-column (or idColumn in the settings), or give an "email" or "name" column to derive ids from; got ${found}`,
      );
    }
  }
  if (problems.length > 0) throw new InputError(source, problems);

  const students: Student[] = [];
  const lineOfId = new Map<string, number>();
  // Every id the roster holds, so that no suggestion for a bad one is an id another row has.
  const taken = new Set(
    idIndex === undefined ? [] : records.slice(1).map((r) => (r.fields[idIndex] ?? "").trim()),
  );
  // Derived ids, in roster order: the first "ada" keeps it, the next is "ada-2".
  const derived = new Set<string>();
  for (const record of records.slice(1)) {
    const at = `line ${record.line}`;
    if (record.fields.length !== columns.length) {
      problems.push(
        `${at}: has ${record.fields.length} field(s), the header has ${columns.length}; quote fields that contain commas`,
      );
      continue;
    }
    // Cells shown on handouts or used in names must show what they are: no controls, no bidi.
    const hidden = (["id", "name", "email"] as const)
      .map((c): [string, number | undefined] => [
        c,
        c === "id" ? idIndex : c === "name" ? nameIndex : emailIndex,
      ])
      .map(
        ([c, i]) =>
          [
            c,
            i === undefined
              ? undefined
              : hiddenCharacter(record.fields[i].replace(lineBreaks, " ")),
          ] as const,
      )
      .find(([, h]) => h !== undefined);
    if (hidden) {
      problems.push(`${at}: ${hidden[0]} contains ${hidden[1]}; retype it without that character`);
      continue;
    }
    const name = nameIndex === undefined ? "" : record.fields[nameIndex].trim();
    const email = emailIndex === undefined ? "" : record.fields[emailIndex].trim();
    if (email !== "" && !isEmail(email)) {
      problems.push(
        `${at}: email "${email}" is not an address like name@example.org; fix or leave it empty`,
      );
    }
    let id: string;
    let from: Student["idFrom"];
    if (idIndex === undefined) {
      const derivedId = deriveId(email, name);
      if ("problem" in derivedId) {
        problems.push(`${at}: ${derivedId.problem}`);
        continue;
      }
      from = derivedId.from;
      id = claim(derivedId.id, derived);
    } else {
      id = record.fields[idIndex].trim();
      if (id === "") {
        problems.push(`${at}: the ${idLabel} is empty; every student needs an id`);
        continue;
      }
      const idIssue = idProblem(id, taken);
      if (idIssue) problems.push(`${at}: ${idIssue}`);
      const earlier = lineOfId.get(id);
      if (earlier !== undefined) {
        const free = idIssue === undefined ? `, such as "${claim(id, taken)}"` : "";
        problems.push(
          `${at}: id "${id}" is already used on line ${earlier}; ids must be unique${free}`,
        );
      } else {
        lineOfId.set(id, record.line);
      }
    }
    students.push({
      id,
      line: record.line,
      ...(name ? { name } : {}),
      ...(email ? { email } : {}),
      ...(from ? { idFrom: from } : {}),
    });
  }
  if (problems.length === 0 && students.length === 0) {
    problems.push(
      `line ${header.line}: the roster has a header but no students; add one row per student`,
    );
  }
  if (problems.length > 0) throw new InputError(source, problems);
  return students;
}

/**
 * What `plan` shows when ids were derived: each student's line, id and where it came from, so the
 * instructor sees what students will get before anything is created. Empty when the roster had ids.
 */
export function derivedIdLines(students: readonly Student[]): string[] {
  const rows = students
    .filter((s) => s.idFrom !== undefined)
    .map((s) => [
      `line ${s.line}`,
      s.id,
      `from ${s.idFrom} ${(s.idFrom === "email" ? s.email : s.name)?.replace(lineBreaks, " ")}`,
    ]);
  if (rows.length === 0) return [];
  return [
    'ids derived from the email (else the name) by the rule in docs/workshop.md, "Ids from emails or names"; the students get these:',
    ...formatTable(rows)
      .split("\n")
      .map((l) => `  ${l}`),
  ];
}

/** A row's id by the documented rule: the email's local part, else the name. */
function deriveId(
  email: string,
  name: string,
): { id: string; from: "email" | "name" } | { problem: string } {
  const fromEmail = email === "" ? "" : idFrom(email);
  if (fromEmail !== "") return { id: fromEmail, from: "email" };
  const fromName = name === "" ? "" : idFrom(name);
  if (fromName !== "") return { id: fromName, from: "name" };
  if (email === "" && name === "") {
    return {
      problem:
        'no email or name to derive an id from; fill one in, or add an "id" column to the roster',
    };
  }
  const what = [email && `the email "${email}"`, name && `the name "${name}"`]
    .filter(Boolean)
    .join(" or ");
  return {
    problem: `no id can be derived from ${what} (no letters or digits in ASCII); add an "id" column, or give this student an email`,
  };
}

/**
 * Reads and parses a roster file: a regular file of at most 4 MiB of UTF-8 text. A missing, special
 * or UTF-16 file is an `InputError` too (exit code 2), naming what was found and how to save it.
 */
export function readRoster(file: string, opts: RosterOptions = {}): Student[] {
  const bytes = readInputFile(file, {
    what: "roster",
    example: "roster.csv",
    maxBytes: maxRosterBytes,
    whenMissing: "check the path (roster in the settings, or --roster)",
  });
  const decoded = utf8Text(bytes, howToSave);
  if ("problem" in decoded) throw new InputError(file, [decoded.problem]);
  return parseRoster(decoded.text, file, opts);
}
