/**
 * IPv4 CIDRs for the security group rules (`sshCidr`, `notebookCidr`), parsed by ipaddr.js and held
 * to what a person means: four plain decimal octets (a leading zero reads as octal in some tools), no
 * host bits set (OpenStack would silently widen or refuse the rule).
 */
import * as ipaddr from "ipaddr.js";

/**
 * Why `text` is not an IPv4 network in CIDR form, as a sentence that starts after the key, or
 * undefined when it is one.
 * @param text The value as given, trimmed.
 */
export function cidrProblem(text: string): string | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? "" : text.slice(slash + 1);
  const wrong = `must be an IPv4 CIDR such as 203.0.113.7/32, got ${JSON.stringify(text)}`;
  if (slash < 0 || !/^\d{1,2}$/.test(prefixText) || !ipaddr.IPv4.isIPv4(address)) {
    const hint = /^[\d.]+$/.test(text) ? ` (for one address write ${text}/32)` : "";
    return `${wrong}${hint}`;
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address) || !ipaddr.IPv4.isValidFourPartDecimal(address)) {
    const plain = /^\d{1,3}(\.\d{1,3}){3}$/.test(address)
      ? address
          .split(".")
          .map((o) => String(Number(o)))
          .join(".")
      : undefined;
    if (plain !== undefined && plain.split(".").every((o) => Number(o) <= 255)) {
      return `${wrong} (an octet with a leading zero, which some tools read as octal: write ${plain}/${Number(prefixText)})`;
    }
    return wrong;
  }
  const prefix = Number(prefixText);
  if (prefixText.length > 1 && prefixText.startsWith("0")) {
    return `${wrong} (write the prefix without a leading zero: ${address}/${prefix})`;
  }
  if (prefix > 32) return wrong;
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  if (network !== address) {
    return `has host bits set (${text}): write the network, ${network}/${prefix}, or the address/32`;
  }
  return undefined;
}

/** True for a valid CIDR that lets every address in (`0.0.0.0/0`). */
export function isWorldOpen(cidr: string): boolean {
  return cidrProblem(cidr) === undefined && cidr.endsWith("/0");
}
