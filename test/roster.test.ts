import { InputError } from "../lib/rules/problems";
import { parseRoster } from "../workshop/roster";

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
      "no id column",
      "name,email\nAda,ada@example.org\n",
      [
        'line 1: the header has no id column; name one column "id" (or "student"), got "name", "email"',
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
      ['line 4: id "ada" is already used on line 2; ids must be unique'],
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
      'line 4: id "bob" is already used on line 3; ids must be unique',
    ]);
  });

  test("the error message names the file and counts the problems", () => {
    expect(() => parseRoster("id\nA\n", "class.csv")).toThrow(
      /^class\.csv has 1 problem\(s\):\n {2}line 2: id "A"/,
    );
  });
});
