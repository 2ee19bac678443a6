/**
 * The name a student's cloud resources carry (VM, key pair, port, security group) and with it the
 * VM's DNS label. `<workshop>-<student>` alone is ambiguous: workshop `intro-py` student `ada` and
 * workshop `intro` student `py-ada` are both `intro-py-ada`, and two workshops of the same name
 * under different stack prefixes share every name; on one allocation the second `up` would collide
 * with (or take the DNS name of) the first one's VM.
 *
 * The rule, for a stack whose config carries `stackPrefix` (the workshop command sets it on every
 * stack it creates):
 * - `<workshop>-<student>` when neither holds a hyphen and stackPrefix is the workshop: such a name
 *   has exactly one hyphen, so no other triple can form it;
 * - otherwise `<workshop>-<student>-<5 characters of a SHA-256 over all three>`: two or more hyphens,
 *   so never one of the names above, and two such names are equal only when their triples are (or
 *   the 25-bit hashes of triples with the same `<workshop>-<student>` happen to match).
 * A stack without stackPrefix (made before it existed, or by hand) keeps `<workshop>-<student>`:
 * a renamed key pair replaces the VM, and its disk with the student's work.
 */
import { createHash } from "node:crypto";

// RFC 4648's base32 alphabet, lowercased: 5 bits a character, no bias, DNS-safe.
const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
const suffixLength = 5;

/**
 * The resources' name; at most 63 characters for a workshop of up to 24 and a student of up to 32.
 * @param workshop The workshop's DNS label.
 * @param student The student's DNS label.
 * @param stackPrefix The workshop command's stack prefix, or undefined for a stack without one.
 */
export function physicalName(workshop: string, student: string, stackPrefix?: string): string {
  const base = `${workshop}-${student}`;
  if (stackPrefix === undefined) return base;
  if (stackPrefix === workshop && !workshop.includes("-") && !student.includes("-")) return base;
  // NUL cannot occur in any of the three, so the hashed text is unambiguous.
  const digest = createHash("sha256").update(`${stackPrefix}\0${workshop}\0${student}`).digest();
  let suffix = "";
  for (let i = 0; i < suffixLength; i++) suffix += alphabet[digest[i] & 31];
  return `${base}-${suffix}`;
}
