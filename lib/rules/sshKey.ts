/**
 * An OpenSSH public key line (`ssh-ed25519 AAAA... you@laptop`), as authorized on a VM. The key's
 * base64 is decoded and must name the same type as the line: a key damaged in copying (a lost
 * character, a line break) is refused here rather than by sshd on the VM, where nobody sees it.
 */

const keyTypes = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
];
const linePattern = /^(?<type>\S+) (?<blob>[A-Za-z0-9+/]+={0,2})( \S.*)?$/;
const example =
  'must be one OpenSSH public key line such as "ssh-ed25519 AAAAC3... you@laptop" (the contents of ~/.ssh/id_ed25519.pub)';

/**
 * Why `line` is not one usable public key line, as a sentence that starts after the key name, or
 * undefined when it is one.
 * @param line The value as given, trimmed.
 */
export function sshPublicKeyProblem(line: string): string | undefined {
  const m = linePattern.exec(line);
  const type = m?.groups?.type ?? "";
  const blob = m?.groups?.blob ?? "";
  if (!m || !keyTypes.includes(type)) return example;
  const bytes = blob.length % 4 === 0 ? Buffer.from(blob, "base64") : undefined;
  const nameLength = bytes && bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  const named =
    bytes && nameLength > 0 && nameLength <= bytes.length - 4
      ? bytes.subarray(4, 4 + nameLength).toString("latin1")
      : undefined;
  if (named !== type || bytes === undefined || bytes.length < 4 + nameLength + 4) {
    return `holds a damaged ${type} key: its base64 text does not decode to one (a character lost or added in copying?); copy the whole line of your .pub file again`;
  }
  return undefined;
}
