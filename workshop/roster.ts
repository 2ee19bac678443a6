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

export interface Student {
  /** DNS-safe id: the stack is `<prefix>-<id>`. */
  id: string;
  name?: string;
  email?: string;
  /** Line of the roster the student is on. */
  line: number;
}

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

/** Why `id` is not a usable student id, or undefined when it is. */
export function idProblem(id: string): string | undefined {
  if (id.length > maxIdLength) {
    return `id "${id}" is ${id.length} characters; use at most ${maxIdLength}`;
  }
  if (!idPattern.test(id) || dnsLabelProblem(id) !== undefined) {
    const suggestion = id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^[^a-z]+|-+$/g, "")
      .replace(/-{2,}/g, "-");
    const hint = suggestion && suggestion !== id ? `, such as "${suggestion}"` : "";
    if (idPattern.test(id)) {
      return `id "${id}" has "--" in its third and fourth characters, which Let's Encrypt refuses; use another id${hint}`;
    }
    return `id "${id}" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter${hint}`;
  }
  return undefined;
}

/**
 * Parses roster CSV text. The header names an id column (`id` or `student`) and optionally `name` and
 * `email`, in any order and case; other columns are ignored so an LMS export works as is.
 * Throws `InputError` listing every problem with its line.
 */
export function parseRoster(text: string, source = "roster.csv"): Student[] {
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
  const idCols = ["id", "student"].filter((c) => seen.has(c));
  if (idCols.length === 0) {
    problems.push(
      `line ${header.line}: the header has no id column; name one column "id" (or "student"), got ${columns
        .map((c) => `"${c}"`)
        .join(", ")}`,
    );
  } else if (idCols.length === 2) {
    problems.push(
      `line ${header.line}: the header has both "id" and "student" columns; keep one as the student id`,
    );
  }
  if (problems.length > 0) throw new InputError(source, problems);

  const idIndex = seen.get(idCols[0]) as number;
  const nameIndex = seen.get("name");
  const emailIndex = seen.get("email");
  const students: Student[] = [];
  const lineOfId = new Map<string, number>();
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
    const id = record.fields[idIndex].trim();
    if (id === "") {
      problems.push(`${at}: the ${idCols[0]} is empty; every student needs an id`);
      continue;
    }
    const idIssue = idProblem(id);
    if (idIssue) problems.push(`${at}: ${idIssue}`);
    const earlier = lineOfId.get(id);
    if (earlier !== undefined) {
      problems.push(`${at}: id "${id}" is already used on line ${earlier}; ids must be unique`);
    } else {
      lineOfId.set(id, record.line);
    }
    const name = nameIndex === undefined ? "" : record.fields[nameIndex].trim();
    const email = emailIndex === undefined ? "" : record.fields[emailIndex].trim();
    if (email !== "" && !isEmail(email)) {
      problems.push(
        `${at}: email "${email}" is not an address like name@example.org; fix or leave it empty`,
      );
    }
    students.push({
      id,
      line: record.line,
      ...(name ? { name } : {}),
      ...(email ? { email } : {}),
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
 * Reads and parses a roster file: a regular file of at most 4 MiB of UTF-8 text. A missing, special
 * or UTF-16 file is an `InputError` too (exit code 2), naming what was found and how to save it.
 */
export function readRoster(file: string): Student[] {
  const bytes = readInputFile(file, {
    what: "roster",
    example: "roster.csv",
    maxBytes: maxRosterBytes,
    whenMissing: "check the path (roster in the settings, or --roster)",
  });
  const decoded = utf8Text(bytes, howToSave);
  if ("problem" in decoded) throw new InputError(file, [decoded.problem]);
  return parseRoster(decoded.text, file);
}
