/**
 * The TLS proxy's configuration, rendered as a Caddyfile by a pure function of its inputs, so the
 * exact text is tested and a change to it is a reviewed diff.
 *
 * What Caddy does by default and is therefore not spelled out: with a DNS name as the site address it
 * serves HTTPS on 443, answers ACME HTTP-01 challenges on 80 and redirects every other plain HTTP
 * request there to HTTPS (308); `reverse_proxy` passes WebSocket upgrades through (kernels, terminals)
 * and keeps the client's Host header, which the notebook server compares with Origin.
 */
import { isDnsName, isEmail } from "./rules/names";

/** How the proxy obtains its certificate. `off` has no proxy at all, so it is not a mode here. */
export type ProxyTlsMode = "letsencrypt" | "self-signed";

export interface CaddyfileInput {
  /** The DNS name students open, e.g. `nb-ada.abc123456.projects.jetstream-cloud.org`. */
  hostname: string;
  /** `letsencrypt`: an ACME certificate (HTTP-01 on port 80). `self-signed`: Caddy's internal CA. */
  mode: ProxyTlsMode;
  /** Where the notebook listens, as seen from the proxy on their private network. */
  upstream: { host: string; port: number };
  /** ACME account contact. With Caddy's default CA list it also enables the ZeroSSL fallback. */
  acmeEmail?: string;
  /** ACME directory URL (Let's Encrypt staging for rehearsals). Unset: Caddy's defaults. */
  acmeCa?: string;
  /** `Strict-Transport-Security` max-age in seconds. Default one year. */
  hstsMaxAgeSeconds?: number;
}

export const defaultHstsMaxAgeSeconds = 31_536_000;

/**
 * Renders the Caddyfile. Throws on a value that could not be written into the file safely (these are
 * validated with friendlier messages, naming the config key, before a program gets this far).
 */
export function renderCaddyfile(input: CaddyfileInput): string {
  const { hostname, mode, upstream } = input;
  if (!isDnsName(hostname)) {
    throw new Error(
      `renderCaddyfile: hostname must be a lower-case DNS name, got ${JSON.stringify(hostname)}`,
    );
  }
  if (mode !== "letsencrypt" && mode !== "self-signed") {
    throw new Error(
      `renderCaddyfile: mode must be letsencrypt or self-signed, got ${JSON.stringify(mode)}`,
    );
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(upstream.host)) {
    throw new Error(
      `renderCaddyfile: upstream host must be a container name or address, got ${JSON.stringify(upstream.host)}`,
    );
  }
  if (!Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65535) {
    throw new Error(`renderCaddyfile: upstream port must be 1-65535, got ${upstream.port}`);
  }
  const maxAge = input.hstsMaxAgeSeconds ?? defaultHstsMaxAgeSeconds;
  if (!Number.isInteger(maxAge) || maxAge < 0) {
    throw new Error(
      `renderCaddyfile: hstsMaxAgeSeconds must be a whole number >= 0, got ${maxAge}`,
    );
  }

  const global: string[] = [];
  if (mode === "letsencrypt") {
    if (input.acmeEmail !== undefined) {
      if (!isEmail(input.acmeEmail)) {
        throw new Error(
          `renderCaddyfile: acmeEmail is not an email address: ${JSON.stringify(input.acmeEmail)}`,
        );
      }
      global.push(`email ${input.acmeEmail}`);
    }
    if (input.acmeCa !== undefined) {
      if (!/^https:\/\/[^\s{}"`]+$/.test(input.acmeCa)) {
        throw new Error(
          `renderCaddyfile: acmeCa must be an https:// URL, got ${JSON.stringify(input.acmeCa)}`,
        );
      }
      global.push(`acme_ca ${input.acmeCa}`);
    }
  } else {
    // Caddy would try to add its root to the container's own trust store: pointless here.
    global.push("skip_install_trust");
  }
  // Reconfiguration replaces the container, so the admin endpoint has nothing to do.
  global.push("admin off");
  // No HTTP/3: it needs UDP 443, which the security group does not open; browsers would only try it.
  global.push("servers {", "\tprotocols h1 h2", "}");

  const site: string[] = [];
  if (mode === "self-signed") site.push("tls internal");
  site.push(`header Strict-Transport-Security "max-age=${maxAge}"`);
  // No access log: notebook URLs carry the token in their query string.
  site.push(`reverse_proxy ${upstream.host}:${upstream.port}`);

  const indent = (lines: string[]) => lines.map((l) => `\t${l}`).join("\n");
  return [
    "# Rendered by jetstream-notebooks: HTTPS in front of one notebook. Do not edit by hand.",
    "{",
    indent(global),
    "}",
    "",
    `${hostname} {`,
    indent(site),
    "}",
    "",
  ].join("\n");
}
