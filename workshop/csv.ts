/**
 * The roster's CSV reader: csv-parse (RFC 4180, a UTF-8 byte order mark, CRLF or LF line ends, a
 * missing final line end), with the line each record STARTS on, so every roster error points at the
 * line an instructor sees in an editor. csv-parse reports a record's last line; a record starts on
 * the line after the previous one ends (blank lines are kept as records for that reason).
 */
import { CsvError as ParseError, parse } from "csv-parse/sync";

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

/** csv-parse's error codes, in the words an instructor fixing a spreadsheet export needs. */
const messages: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field is never closed; add the closing quote",
  INVALID_OPENING_QUOTE: `a quote inside an unquoted field; quote the whole field and double the quote ("a ""b"" c")`,
  CSV_INVALID_CLOSING_QUOTE:
    "text after a closing quote; put a comma after the quoted field or quote the whole field",
};

/** Splits CSV text into records. Throws `CsvError` for malformed quoting. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let lastLine = 0;
  try {
    parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: false,
      record_delimiter: ["\r\n", "\n", "\r"],
      raw: true,
      // csv-parse counts CR and LF of a CRLF inside a quoted field as two lines: the line breaks of
      // the record's own text are counted here instead.
      on_record: (record) => {
        // With `raw`, csv-parse hands over { record, raw } although its types still say string[].
        const { record: fields, raw } = record as unknown as { record: string[]; raw: string };
        records.push({ line: lastLine + 1, fields });
        lastLine += raw.match(/\r\n|\r|\n/g)?.length ?? 0;
        return null;
      },
    });
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const code = e.code as string;
    // An unclosed quote is found at the end of the file: its record starts after the last good one.
    const line =
      code === "CSV_QUOTE_NOT_CLOSED"
        ? lastLine + 1
        : ((e as { lines?: number }).lines ?? lastLine + 1);
    throw new CsvError(line, messages[code] ?? e.message);
  }
  return records;
}
