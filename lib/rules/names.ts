/**
 * Names the infrastructure is built from: DNS labels (workshop, student, allocation; they join into
 * the VM's name and its public hostname), DNS names (the certificate's site address) and email
 * addresses (the ACME contact, a roster's email column). One rule each, used by every parser.
 */

// Lowercase letters, digits and inner hyphens, starting with a letter: the VM is named
// `<workshop>-<student>` and a hostname label that starts with a digit is refused by some resolvers.
const dnsLabelPattern = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
// A label with "--" in its third and fourth characters is reserved (RFC 5890 "R-LDH", as in
// `xn--`): Let's Encrypt refuses a certificate for one that is not valid punycode.
const reservedLabel = /^..--/;
const dnsNamePattern =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
// Caddy's quote characters (", `) and block braces are excluded: the address goes into a Caddyfile.
const emailPattern = /^[^\s@{}"`]+@[^\s@{}"`]+\.[^\s@{}"`]+$/;

/** The longest DNS label. */
export const maxDnsLabel = 63;

/** True for a DNS label as this project writes them: see {@link dnsLabelProblem}. */
export function isDnsLabel(text: string): boolean {
  return dnsLabelProblem(text) === undefined;
}

/**
 * Why `text` is not a usable DNS label, as the end of a sentence ("must be ..."), or undefined.
 * @param text The candidate label, already trimmed.
 */
export function dnsLabelProblem(text: string): string | undefined {
  if (text.length > maxDnsLabel) return `at most ${maxDnsLabel} characters`;
  if (!dnsLabelPattern.test(text)) {
    return "DNS-safe (lowercase letters, digits and hyphens, starting with a letter)";
  }
  if (reservedLabel.test(text)) {
    return 'free of "--" in its third and fourth characters (reserved for internationalized names; Let\'s Encrypt refuses them)';
  }
  return undefined;
}

/** True for a lower-case DNS name of two or more labels, none of them reserved, not an IP address. */
export function isDnsName(name: string): boolean {
  return (
    dnsNamePattern.test(name) &&
    !/^[0-9.]+$/.test(name) &&
    !name.split(".").some((label) => reservedLabel.test(label) && !label.startsWith("xn--"))
  );
}

/** True for an email address that can also be written into a Caddyfile as is. */
export function isEmail(text: string): boolean {
  return emailPattern.test(text);
}
