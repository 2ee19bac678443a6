import { messageOf } from "../lib/errorText";
/**
 * The one place that knows every secret in play and takes it out of text before the text reaches a
 * screen, a log file or a handout. Error messages are the usual leak: a failed child process repeats
 * its command line and its output, and a program error may quote its config.
 */

/** Environment variables whose values are credentials, wherever they are set. */
export const secretEnvNames: readonly string[] = [
  "DOCKER_HUB_TOKEN",
  "PULUMI_ACCESS_TOKEN",
  "PULUMI_CONFIG_PASSPHRASE",
  "OS_APPLICATION_CREDENTIAL_SECRET",
  "OS_PASSWORD",
  "OS_TOKEN",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AZURE_CLIENT_SECRET",
  "GOOGLE_CREDENTIALS",
];

/**
 * Values shorter than this are not redacted: replacing every "ab" in a log would make it unreadable
 * and a two-character secret protects nothing anyway.
 */
export const minSecretLength = 4;

export const redactedMark = "[redacted]";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The forms a secret takes in text: as is, JSON-escaped, URL-encoded. */
function forms(secret: string): string[] {
  const out = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return [...out].filter((s) => s.length >= minSecretLength);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern?: RegExp;

  /** @param secrets Values to take out of every text; blank or short ones are ignored. */
  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret learnt later (a value read from a stack, a token). */
  add(secret: string | undefined): void {
    if (secret === undefined) return;
    const value = secret.trim();
    if (value.length < minSecretLength || this.secrets.has(value)) return;
    this.secrets.add(value);
    // Also the untrimmed value, so a secret with a trailing newline is caught in full.
    if (value !== secret && secret.length >= minSecretLength) this.secrets.add(secret);
    const all = [...this.secrets].flatMap(forms);
    // Longest first, so a secret that contains another is replaced whole.
    all.sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(all.map(escapeRegExp).join("|"), "g");
  }

  get size(): number {
    return this.secrets.size;
  }

  /** `text` with every known secret replaced by [redacted]. */
  redact(text: string): string {
    return this.pattern ? text.replace(this.pattern, redactedMark) : text;
  }

  /** An error's text (message, or the value itself), redacted. */
  errorText(e: unknown): string {
    return this.redact(messageOf(e));
  }

  /**
   * A writer that redacts what it forwards. Text is held back until a line is complete, so a
   * secret split across two chunks of a child's output is still caught; `flush` sends the rest.
   */
  lineWriter(write: (text: string) => void): { write: (text: string) => void; flush: () => void } {
    let pending = "";
    return {
      write: (text) => {
        pending += text;
        const end = pending.lastIndexOf("\n");
        if (end < 0) return;
        write(this.redact(pending.slice(0, end + 1)));
        pending = pending.slice(end + 1);
      },
      flush: () => {
        if (pending) write(this.redact(pending));
        pending = "";
      },
    };
  }
}

/** A redactor that knows the credentials set in `env` (the process's own by default). */
export function redactorFromEnv(env: NodeJS.ProcessEnv = process.env): Redactor {
  return new Redactor(secretEnvNames.map((k) => env[k]));
}

/**
 * Makes every write to `stream` (stdout, stderr) go through `redactor`: the last line of defence
 * for a message that reaches the screen some other way (a stack trace, a library's warning).
 */
export function guardStream(stream: NodeJS.WriteStream, redactor: Redactor): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const guarded = (chunk: unknown, ...rest: unknown[]): boolean =>
    write(
      typeof chunk === "string"
        ? redactor.redact(chunk)
        : Buffer.isBuffer(chunk)
          ? redactor.redact(chunk.toString("utf8"))
          : chunk,
      ...rest,
    );
  stream.write = guarded;
}
