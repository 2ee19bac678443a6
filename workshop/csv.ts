/**
 * An RFC 4180 CSV reader that keeps the line number each record starts on, so every roster error can
 * point at the line an instructor sees in an editor. Tolerates what spreadsheets actually write: a
 * UTF-8 byte order mark, CRLF or LF line ends, and a missing final line end.
 */

export interface CsvRecord {
  /** 1-based line the record starts on (a quoted field may span several lines). */
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    public readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "CsvError";
  }
}

/** Splits CSV text into records. Throws `CsvError` for malformed quoting. */
export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // A field is "quoted" from its opening quote to its closing one; after the closing quote only a
  // separator or a line end may follow.
  let afterQuoted = false;

  const endRecord = (): void => {
    fields.push(field);
    records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    afterQuoted = false;
  };

  while (i < input.length) {
    const c = input[i];
    if (c === '"') {
      if (field !== "" || afterQuoted) {
        throw new CsvError(
          line,
          `a quote inside an unquoted field; quote the whole field and double the quote ("a ""b"" c")`,
        );
      }
      const openLine = line;
      i++;
      for (;;) {
        if (i >= input.length) {
          throw new CsvError(openLine, "a quoted field is never closed; add the closing quote");
        }
        const q = input[i];
        if (q === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      afterQuoted = true;
      continue;
    }
    if (c === ",") {
      fields.push(field);
      field = "";
      afterQuoted = false;
      i++;
      continue;
    }
    if (c === "\r" || c === "\n") {
      endRecord();
      i += c === "\r" && input[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    if (afterQuoted) {
      throw new CsvError(
        line,
        "text after a closing quote; put a comma after the quoted field or quote the whole field",
      );
    }
    field += c;
    i++;
  }
  if (field !== "" || fields.length > 0 || afterQuoted) endRecord();
  return records;
}
