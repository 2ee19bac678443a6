import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import { parseRoster, readRoster } from "../workshop/roster";

function problemsOf(text: string): string[] {
  try {
    parseRoster(text);
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("expected a InputError");
}

describe("parseRoster", () => {
  test("reads ids, names and emails in any column order", () => {
    const students = parseRoster("Email,Name,ID\nada@example.org,Ada Lovelace,ada\n,,bob\n");
    expect(students).toEqual([
      { id: "ada", name: "Ada Lovelace", email: "ada@example.org", line: 2 },
      { id: "bob", line: 3 },
    ]);
  });

  test("tolerates a byte order mark, CRLF, blank lines and no final line end", () => {
    const students = parseRoster("\uFEFFstudent,name\r\nada,Ada\r\n\r\nbob,Bob");
    expect(students.map((s) => [s.id, s.name, s.line])).toEqual([
      ["ada", "Ada", 2],
      ["bob", "Bob", 4],
    ]);
  });

  test("RFC 4180 quoting: commas, doubled quotes and line breaks inside a field", () => {
    const students = parseRoster(
      'id,name\nada,"Lovelace, Ada"\nbob,"Robert ""Bob"" Tables"\ncy,"two\nlines"\ndee,Dee\n',
    );
    expect(students.map((s) => [s.id, s.name, s.line])).toEqual([
      ["ada", "Lovelace, Ada", 2],
      ["bob", 'Robert "Bob" Tables', 3],
      ["cy", "two\nlines", 4],
      ["dee", "Dee", 6],
    ]);
  });

  test("ignores columns it does not use", () => {
    expect(parseRoster("id,section,name\nada,A1,Ada\n")).toEqual([
      { id: "ada", name: "Ada", line: 2 },
    ]);
  });

  test.each([
    [
      "an empty file",
      "",
      ["line 1: the roster is empty; the first line is a header such as id,name,email"],
    ],
    [
      "a header without students",
      "id,name\n",
      ["line 1: the roster has a header but no students; add one row per student"],
    ],
    [
      "no id column, and no email or name to derive ids from",
      "section,grade\nA,1\n",
      [
        'line 1: the header has no id column; name one column "id" (or "student"), pick one with --id-column (or idColumn in the settings), or give an "email" or "name" column to derive ids from; got "section", "grade"',
      ],
    ],
    [
      "both id and student columns",
      "id,student\nada,ada\n",
      ['line 1: the header has both "id" and "student" columns; keep one as the student id'],
    ],
    [
      "a repeated column",
      "id,name,Name\nada,A,B\n",
      ['line 1: column "name" appears twice in the header; keep one'],
    ],
    [
      "an uppercase id",
      "id\nada\nBob\n",
      [
        'line 3: id "Bob" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "bob"',
      ],
    ],
    [
      "an id with spaces and dots",
      "id\nada.l  jones\n",
      [
        'line 2: id "ada.l  jones" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada-l-jones"',
      ],
    ],
    [
      "an id ending in a hyphen",
      "id\nada-\n",
      [
        'line 2: id "ada-" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada"',
      ],
    ],
    [
      "an id starting with a digit",
      "id\n7ada\n",
      [
        'line 2: id "7ada" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada"',
      ],
    ],
    [
      "an id of digits only",
      "id\n2024\n",
      [
        'line 2: id "2024" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter',
      ],
    ],
    [
      "an id that is too long",
      `id\n${"a".repeat(33)}\n`,
      [`line 2: id "${"a".repeat(33)}" is 33 characters; use at most 32`],
    ],
    [
      "a duplicate id",
      "id\nada\nbob\nada\n",
      ['line 4: id "ada" is already used on line 2; ids must be unique, such as "ada-2"'],
    ],
    ["an empty id", "id,name\n,Ada\n", ["line 2: the id is empty; every student needs an id"]],
    [
      "an empty student column",
      "student,name\n  ,Ada\n",
      ["line 2: the student is empty; every student needs an id"],
    ],
    [
      "too many fields",
      "id,name\nada,Lovelace, Ada\n",
      ["line 2: has 3 field(s), the header has 2; quote fields that contain commas"],
    ],
    [
      "too few fields",
      "id,name,email\nada,Ada\n",
      ["line 2: has 2 field(s), the header has 3; quote fields that contain commas"],
    ],
    [
      "a bad email",
      "id,email\nada,ada at example.org\n",
      [
        'line 2: email "ada at example.org" is not an address like name@example.org; fix or leave it empty',
      ],
    ],
    [
      "an unclosed quote (reported where it opens)",
      'id,name\nada,Ada\nbob,"Bob\ncy,Cy\n',
      ["line 3: a quoted field is never closed; add the closing quote"],
    ],
    [
      "a quote inside an unquoted field",
      'id,name\nada,Ada "the first"\n',
      [
        'line 2: a quote inside an unquoted field; quote the whole field and double the quote ("a ""b"" c")',
      ],
    ],
    [
      "text after a closing quote",
      'id,name\nada,"Ada" L\n',
      [
        "line 2: text after a closing quote; put a comma after the quoted field or quote the whole field",
      ],
    ],
    [
      "a line number after a multi-line field and CRLF",
      'id,name\r\nada,"A\r\nda"\r\nBAD_ID,x\r\n',
      [
        'line 4: id "BAD_ID" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "bad-id"',
      ],
    ],
  ])("%s", (_what, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  test("reports every problem at once, in line order", () => {
    expect(problemsOf("id,email\nAda,\nbob,nope\nbob,\n")).toEqual([
      'line 2: id "Ada" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada"',
      'line 3: email "nope" is not an address like name@example.org; fix or leave it empty',
      'line 4: id "bob" is already used on line 3; ids must be unique, such as "bob-2"',
    ]);
  });

  test("the error message names the file and counts the problems", () => {
    expect(() => parseRoster("id\nA\n", "class.csv")).toThrow(
      /^class\.csv has 1 problem\(s\):\n {2}line 2: id "A"/,
    );
  });
});

describe("rosters that were accepted wrongly or read badly before", () => {
  const spreadsheet =
    'save it again as CSV with commas: in Excel "CSV UTF-8 (Comma delimited) (*.csv)", in LibreOffice "Text CSV" with field delimiter "," and character set UTF-8';
  test.each([
    [
      "semicolon-separated (a spreadsheet in a comma-decimal locale)",
      "id;name;email\nada;Ada;ada@example.org\n",
      [`line 1: the columns are separated by semicolons (;), not commas; ${spreadsheet}`],
    ],
    [
      "tab-separated",
      "id\tname\nada\tAda\n",
      [`line 1: the columns are separated by tabs, not commas; ${spreadsheet}`],
    ],
    [
      "a bidi override in a name",
      "id,name\nada,Ada\nbob,\u202eBob\n",
      [
        "line 3: name contains U+202E (a bidi override, which reverses how text is shown); retype it without that character",
      ],
    ],
    [
      "NUL in a name",
      "id,name\nada,A\u0000da\n",
      ["line 2: name contains U+0000 (NUL); retype it without that character"],
    ],
    [
      "a control character in an email",
      "id,email\nada,ada@exam\u0007ple.org\n",
      ["line 2: email contains U+0007 (a control character); retype it without that character"],
    ],
    [
      "an R-LDH id (Let's Encrypt refuses the hostname)",
      "id\nab--cd\n",
      [
        'line 2: id "ab--cd" has "--" in its third and fourth characters, which Let\'s Encrypt refuses; use another id, such as "ab-cd"',
      ],
    ],
    [
      "an unclosed quote after a multi-line field (the line where its record starts)",
      'id,name\nada,"A\nda"\nbob,"Bob\ncy,Cy\n',
      ["line 4: a quoted field is never closed; add the closing quote"],
    ],
  ])("%s", (_what, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });
});

describe("readRoster reads only a regular UTF-8 file of sensible size", () => {
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-roster-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fileProblems = (file: string): string[] => {
    try {
      readRoster(file);
    } catch (e) {
      if (e instanceof InputError) return e.problems;
      throw e;
    }
    throw new Error("expected an InputError");
  };
  const howToSave =
    'save it as "CSV UTF-8 (Comma delimited) (*.csv)" in Excel, or as "Text CSV" with character set UTF-8 in LibreOffice';

  test("UTF-16 with a byte order mark (Excel's 'Unicode Text')", () => {
    const f = path.join(dir, "utf16.csv");
    fs.writeFileSync(
      f,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("id\nada\n", "utf16le")]),
    );
    expect(fileProblems(f)).toEqual([
      `line 1: the file is UTF-16 text (it starts with a UTF-16 byte order mark); ${howToSave}`,
    ]);
  });

  test("UTF-16 without a byte order mark", () => {
    const f = path.join(dir, "utf16-nobom.csv");
    fs.writeFileSync(f, Buffer.from("id,name\nada,Ada\n", "utf16le"));
    expect(fileProblems(f)).toEqual([
      `line 1: the file is UTF-16 text (every other byte is NUL); ${howToSave}`,
    ]);
  });

  test("Latin-1, with the line of the first letter that is not UTF-8", () => {
    const f = path.join(dir, "latin1.csv");
    fs.writeFileSync(f, Buffer.from("id,name\nada,Ada\nzoe,Zo\u00eb\n", "latin1"));
    expect(fileProblems(f)).toEqual([
      `line 3: the file is not UTF-8 text (a Latin-1 or "CSV (Windows)" export writes letters such as é that way); ${howToSave}`,
    ]);
  });

  test("a FIFO is refused without waiting for a writer", () => {
    const fifo = path.join(dir, "fifo.csv");
    execFileSync("mkfifo", [fifo]);
    expect(fileProblems(fifo)).toEqual([
      "is a FIFO, not a file: give the path of the roster, such as roster.csv",
    ]);
  });

  test("/dev/zero is refused at once", () => {
    expect(fileProblems("/dev/zero")).toEqual([
      "is a character device, not a file: give the path of the roster, such as roster.csv",
    ]);
  });

  test("a file over the cap is refused", () => {
    const f = path.join(dir, "big.csv");
    fs.writeFileSync(f, `id\n${"a\n".repeat(3 * 1024 * 1024)}`);
    expect(fileProblems(f)).toEqual([
      "is 6291459 bytes, more than the 4194304 a roster may have: check the path",
    ]);
  });
});

describe("rosters exported from an LMS", () => {
  const lms =
    "Username,Full Name,Email Address,Section\n" +
    "u1001,Zoë Ñúñez,zoe.nunez@uni.edu,A\n" +
    "u1002,Ada Lovelace,,B\n" +
    "u1003,Ada Lovelace,ada.lovelace@other.edu,B\n";

  test("--id-column picks the id column, in any case", () => {
    expect(parseRoster("Login,Name\nada,Ada\nbob,Bob\n", "lms.csv", { idColumn: "LOGIN" })).toEqual(
      [
        { id: "ada", name: "Ada", line: 2 },
        { id: "bob", name: "Bob", line: 3 },
      ],
    );
  });

  test("an unknown --id-column names every column found", () => {
    expect(() =>
      parseRoster(lms, "lms.csv", { idColumn: "netid", idColumnFrom: "--id-column" }),
    ).toThrow(
      'line 1: --id-column "netid" is not a column of the roster; the columns found are "username", "full name", "email address", "section"',
    );
  });

  test("hidden characters in the header or the flag are shown escaped, never as they are", () => {
    expect(() =>
      parseRoster("name,\u202egrade\nAda,1\n", "lms.csv", { idColumn: "x\u0007y" }),
    ).toThrow(
      'line 1: --id-column "x\\u0007y" is not a column of the roster; the columns found are "name", "\\u202egrade"',
    );
  });

  test("without an id column, ids come from the email, else the name, numbered on collision", () => {
    const students = parseRoster("name,email\nZoë Ñúñez,zoe@uni.edu\nAda,\nada,ada@x.org\n");
    expect(students.map((s) => [s.id, s.idFrom])).toEqual([
      ["zoe", "email"],
      ["ada", "name"],
      ["ada-2", "email"],
    ]);
  });

  test("an LMS header (Email Address, Full Name) is recognised for deriving ids", () => {
    const students = parseRoster(lms, "lms.csv", { idColumn: undefined });
    // "Username" is not an id column by itself: only --id-column makes it one.
    expect(students.map((s) => [s.id, s.name, s.email])).toEqual([
      ["zoe-nunez", "Zoë Ñúñez", "zoe.nunez@uni.edu"],
      ["ada-lovelace", "Ada Lovelace", undefined],
      ["ada-lovelace-2", "Ada Lovelace", "ada.lovelace@other.edu"],
    ]);
  });

  test("a row with nothing to derive an id from is reported with its line", () => {
    expect(problemsOf("name,email\nAda,\n李雷,\n")).toEqual([
      'line 3: no id can be derived from the name "李雷" (no letters or digits in ASCII); add an "id" column, or give this student an email',
    ]);
  });

  test("a suggestion for a bad id is never an id already taken", () => {
    expect(problemsOf("id\nada\nAda\nada-2\nADA\n")).toEqual([
      'line 3: id "Ada" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada-3"',
      'line 5: id "ADA" is not DNS-safe: use lowercase letters, digits and inner hyphens, starting with a letter, such as "ada-4"',
    ]);
  });

  test("a repeated id is told a free one", () => {
    expect(problemsOf("id\nbob\nbob-2\nbob\n")).toEqual([
      'line 4: id "bob" is already used on line 2; ids must be unique, such as "bob-3"',
    ]);
  });
});
