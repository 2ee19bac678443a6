/**
 * Student ids derived from what an LMS export has (an email or a name) when the roster has no id
 * column of its own. The rule, as documented for instructors in docs/workshop.md:
 * - an email's local part (before the @), otherwise the name;
 * - lowercase, accents folded to ASCII (Zoë -> zoe, Łukasz -> lukasz, Straße -> strasse);
 * - every run of other characters becomes one hyphen, no hyphen at either end, no double hyphen
 *   (Let's Encrypt refuses `ab--cd`);
 * - an id that would start with a digit gets `s` in front, as ids start with a letter;
 * - at most 32 characters;
 * - a collision is numbered in roster order: ada, ada-2, ada-3.
 */

/** The longest id a roster may hold: the workshop's name must still fit in a 63-character label. */
export const maxIdLength = 32;

// Letters NFKD does not decompose into a base letter plus a mark.
const folds: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ø: "o",
  ł: "l",
  đ: "d",
  ð: "d",
  þ: "th",
  ı: "i",
};

/** The id `source` (an email or a name) yields, before collisions; "" when nothing usable is left. */
export function idFrom(source: string): string {
  const at = source.indexOf("@");
  const base = at > 0 ? source.slice(0, at) : source;
  let id = base
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (c) => folds[c] ?? c)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (/^[0-9]/.test(id)) id = `s${id}`;
  return trimToLength(id, maxIdLength);
}

function trimToLength(id: string, max: number): string {
  return id.length <= max ? id : id.slice(0, max).replace(/-+$/, "");
}

/**
 * Ids for `sources` in order, each unique and none in `taken` (ids the roster already uses):
 * the first `ada` keeps its name, the next becomes `ada-2`. An empty result means the source had
 * nothing usable in it; the caller reports that line.
 */
export function uniqueIds(sources: readonly string[], taken: Iterable<string> = []): string[] {
  const used = new Set(taken);
  return sources.map((source) => {
    const id = idFrom(source);
    if (id === "") return "";
    return claim(id, used);
  });
}

/** `id`, or the first `id-N` (N from 2) not in `used`; adds the answer to `used`. */
export function claim(id: string, used: Set<string>): string {
  let candidate = id;
  for (let n = 2; used.has(candidate); n++) {
    const suffix = `-${n}`;
    candidate = `${trimToLength(id, maxIdLength - suffix.length)}${suffix}`;
  }
  used.add(candidate);
  return candidate;
}
