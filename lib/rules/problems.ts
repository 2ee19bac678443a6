/**
 * Bad input, reported once: every problem found in one source (a settings file, a roster, a stack's
 * config, a command-line flag), one per line, each naming its key or line and the fix. The workshop
 * command exits with code 2 on it; the stack turns it into a run error without a stack trace.
 */
export class InputError extends Error {
  /** The problems, one sentence each, in the order found. */
  readonly problems: string[];

  /**
   * @param source What was read: a file path, or a description such as "jetstream-notebooks config".
   * @param problems One sentence per problem, each naming its key (`[key] ...`) or line (`line 3: ...`).
   * @param heading The first line of the message; default "`source` has N problem(s):".
   */
  constructor(
    readonly source: string,
    problems: string[],
    heading = `${source} has ${problems.length} problem(s):`,
  ) {
    super(`${heading}\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "InputError";
    this.problems = problems;
  }
}

/** How long a quoted value in a message may be before it is cut (a 1 MB value is not echoed). */
const maxShown = 60;

/**
 * A value as a message shows it after "got": strings JSON-quoted (so blanks and control characters
 * are visible) and cut when long, and what is not a single value named by its kind. Never throws,
 * even on a cyclic value (a recursive YAML alias).
 */
export function shown(value: unknown): string {
  if (value === undefined || value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return JSON.stringify(value.toISOString().slice(0, 10));
  if (typeof value === "object") return "a mapping";
  const text = String(value);
  const quoted = typeof value === "string" ? JSON.stringify(text) : text;
  if (text.length <= maxShown) return quoted;
  return `${JSON.stringify(text.slice(0, maxShown))}... (${text.length} characters)`;
}
