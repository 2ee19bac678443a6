/**
 * The HTTPS settings of a stack (`tls`, `acmeEmail`, `acmeCa`, `proxyImage`), validated and
 * normalised by a pure function the config module calls once. It never throws: it returns every
 * problem (each naming its key and the fix) for the config module to report together with its own,
 * and the warnings to print when the settings are accepted but deserve attention.
 */
import { isDigestPinned, parseImageRef } from "./rules/imageRef";
import { isDnsName, isEmail } from "./rules/names";
import { shown } from "./rules/problems";
import type { Target } from "./rules/stack";

/** `letsencrypt`: a browser-trusted certificate. `self-signed`: Caddy's own CA. `off`: plain HTTP. */
export type TlsMode = "letsencrypt" | "self-signed" | "off";
export const tlsModes: readonly TlsMode[] = ["letsencrypt", "self-signed", "off"];

/**
 * The official Caddy image the proxy runs unless `proxyImage` says otherwise: a version tag, resolved
 * to its registry digest at deploy time so the container always runs a digest.
 */
export const defaultProxyImage = "caddy:2.11.4";

export const letsEncryptProductionCa = "https://acme-v02.api.letsencrypt.org/directory";
export const letsEncryptStagingCa = "https://acme-staging-v02.api.letsencrypt.org/directory";

export interface TlsSettingsInput {
  /** The stack's target: the local target never has a proxy. */
  target: Target;
  /** The raw config values; undefined when the key is not set. */
  tls?: string;
  acmeEmail?: string;
  acmeCa?: string;
  proxyImage?: string;
  /**
   * The instance's DNS name when the config makes one (Jetstream2's
   * `<instance>.<allocation>.projects.jetstream-cloud.org`), else undefined.
   */
  hostname?: string;
  /** The config key that provides the hostname, named in the message when it is missing. */
  hostnameKey?: string;
}

export interface TlsSettings {
  mode: TlsMode;
  /** Set only in `letsencrypt` mode. */
  acmeEmail?: string;
  /** Set only in `letsencrypt` mode. */
  acmeCa?: string;
  /**
   * Image reference for the proxy: a version tag (resolved to its digest at deploy time) or a
   * digest-pinned reference ({@link isDigestPinned}).
   */
  proxyImage: string;
}

/**
 * True when the certificate is expected to verify against the public roots browsers trust (Let's
 * Encrypt production, Caddy's default CAs). False for self-signed, staging or another CA: readiness
 * then checks that the certificate names the host and is in date, not who issued it.
 * @param mode The proxy's mode.
 * @param acmeCa The ACME directory, or undefined for Caddy's defaults.
 */
export function isPubliclyTrusted(mode: TlsMode, acmeCa: string | undefined): boolean {
  return mode === "letsencrypt" && (acmeCa === undefined || acmeCa === letsEncryptProductionCa);
}

export interface TlsSettingsResult {
  /** The normalised settings, or undefined when there are problems. */
  settings?: TlsSettings;
  /** One message per bad value, naming the key: the config module turns them into its error. */
  problems: string[];
  /** Messages to show on every `pulumi up` (via pulumi.log.warn), loud ones first. */
  warnings: string[];
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === "";
}

/** Validates and normalises the HTTPS settings. Pure: the same input always gives the same result. */
export function parseTlsSettings(input: TlsSettingsInput): TlsSettingsResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const hostnameKey = input.hostnameKey ?? "allocation";

  // tls
  let mode: TlsMode;
  const rawMode = blank(input.tls) ? undefined : input.tls!.trim().toLowerCase();
  if (rawMode === undefined) {
    mode = input.target === "local" ? "off" : "letsencrypt";
  } else if ((tlsModes as readonly string[]).includes(rawMode)) {
    mode = rawMode as TlsMode;
  } else {
    problems.push(`[tls] must be one of letsencrypt, self-signed, off, got ${shown(input.tls)}`);
    mode = "letsencrypt";
  }
  if (input.target === "local" && mode !== "off") {
    problems.push(
      `[tls] ${mode} applies to the jetstream target only: the local target serves plain HTTP on ` +
        `127.0.0.1, where nothing crosses a network. Remove tls from this stack's config ` +
        `(pulumi config rm tls) or set it to off`,
    );
  }

  // The hostname the certificate is for.
  if (input.target === "jetstream" && mode !== "off") {
    if (blank(input.hostname)) {
      problems.push(
        `[tls] ${mode} needs the instance's DNS name, which Jetstream2 derives from the allocation: ` +
          `set [${hostnameKey}] (e.g. pulumi config set ${hostnameKey} abc123456), ` +
          `or set tls to off`,
      );
    } else if (!isDnsName(input.hostname!)) {
      problems.push(
        `[${hostnameKey}] gives the hostname ${shown(input.hostname)}, which is not a ` +
          `lower-case DNS name a certificate can be issued for: check the instance and allocation names`,
      );
    }
  }

  // acmeEmail
  let acmeEmail: string | undefined;
  if (!blank(input.acmeEmail)) {
    const value = input.acmeEmail!.trim();
    if (!isEmail(value)) {
      problems.push(
        `[acmeEmail] must be an email address such as instructor@example.edu, got ${shown(input.acmeEmail)}`,
      );
    } else if (mode === "letsencrypt") {
      acmeEmail = value;
    } else if (input.target === "jetstream") {
      warnings.push(
        `[acmeEmail] is ignored: it is only used when tls is letsencrypt (tls is ${mode}).`,
      );
    }
  }

  // acmeCa
  let acmeCa: string | undefined;
  if (!blank(input.acmeCa)) {
    const value = input.acmeCa!.trim();
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    // Caddy's quote characters and braces would end the directive early or open a block.
    if (!url || url.protocol !== "https:" || /[\s{}"`]/.test(value)) {
      problems.push(
        `[acmeCa] must be the https:// URL of an ACME directory, such as Let's Encrypt's staging ` +
          `${letsEncryptStagingCa}, got ${shown(input.acmeCa)}`,
      );
    } else if (mode === "letsencrypt") {
      acmeCa = value;
    } else if (input.target === "jetstream") {
      warnings.push(
        `[acmeCa] is ignored: it is only used when tls is letsencrypt (tls is ${mode}).`,
      );
    }
  }

  // proxyImage
  const proxyImage = blank(input.proxyImage) ? defaultProxyImage : input.proxyImage!.trim();
  const image = parseImageRef(proxyImage);
  if (!image) {
    problems.push(
      `[proxyImage] must be an image reference such as ${defaultProxyImage} or ` +
        `caddy@sha256:<64 hex digits>, got ${shown(input.proxyImage)}`,
    );
  } else if (!isDigestPinned(proxyImage) && (!image.tag || image.tag === "latest")) {
    problems.push(
      `[proxyImage] must name a version (${defaultProxyImage}) or a digest (caddy@sha256:...), ` +
        `not a moving tag: got ${shown(proxyImage)}`,
    );
  }

  // Warnings for accepted settings, loud ones first.
  if (mode === "off" && input.target === "jetstream") {
    warnings.unshift(
      "[tls] is off: every notebook is served over plain HTTP on its public IP. The token in the " +
        "URL, and everything students type and run, cross the network in clear text where anyone " +
        "on the path can read them and take over the notebook. Use this only on a network you trust.",
    );
  }
  if (mode === "self-signed") {
    warnings.push(
      "[tls] is self-signed: the connection is encrypted, but browsers do not know the proxy's own " +
        "certificate authority, so each student first sees a warning page ('Your connection is not " +
        "private' / 'Warning: Potential Security Risk Ahead') and must choose Advanced, then " +
        "Proceed/Accept the risk. Nothing proves to the student that the server is theirs; prefer " +
        "letsencrypt when the instance has its Jetstream2 DNS name.",
    );
  }
  const staging = acmeCa !== undefined && acmeCa === letsEncryptStagingCa;
  if (staging) {
    warnings.push(
      "[acmeCa] is Let's Encrypt's staging CA: good for rehearsals (its limits are far higher), but " +
        "browsers do not trust its certificates. Remove acmeCa before the workshop " +
        "(pulumi config rm acmeCa).",
    );
  } else if (acmeCa !== undefined && acmeCa !== letsEncryptProductionCa) {
    warnings.push(
      `[acmeCa] is ${acmeCa}: the proxy uses only that CA. Make sure browsers trust its certificates.`,
    );
  }
  if (
    mode === "letsencrypt" &&
    input.target === "jetstream" &&
    acmeEmail === undefined &&
    acmeCa === undefined
  ) {
    warnings.push(
      "[acmeEmail] is not set: the proxy asks Let's Encrypt only. With an email address it falls " +
        "back to ZeroSSL when Let's Encrypt refuses, for instance once the weekly limit that all of " +
        "jetstream-cloud.org shares has run out (see docs/https.md).",
    );
  }

  if (problems.length > 0) return { problems, warnings };
  return {
    settings: {
      mode,
      ...(acmeEmail !== undefined ? { acmeEmail } : {}),
      ...(acmeCa !== undefined ? { acmeCa } : {}),
      proxyImage,
    },
    problems,
    warnings,
  };
}
