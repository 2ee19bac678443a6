/**
 * Characters that have no place in a name, a setting or a roster cell: C0 and C1 controls (NUL among
 * them), and the Unicode marks that reorder or hide text (bidi overrides and isolates, zero-width
 * characters), with which a handout or a terminal shows something other than what was written.
 */

const hidden =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

/** The first hidden character in `text`, named for a message (`U+202E`), or undefined. */
export function hiddenCharacter(text: string): string | undefined {
  const m = hidden.exec(text);
  if (!m) return undefined;
  const code = m[0].codePointAt(0) as number;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}${describe(code)}`;
}

function describe(code: number): string {
  if (code === 0) return " (NUL)";
  if (code === 0x09) return " (a tab)";
  if (code === 0x0a || code === 0x0d) return " (a line break)";
  if (code >= 0x202a && code <= 0x202e)
    return " (a bidi override, which reverses how text is shown)";
  if (code >= 0x2066 && code <= 0x2069)
    return " (a bidi isolate, which reorders how text is shown)";
  if (code === 0x200e || code === 0x200f) return " (a direction mark)";
  if (code === 0x200b || code === 0xfeff || (code >= 0x2060 && code <= 0x2064))
    return " (an invisible character)";
  return " (a control character)";
}
