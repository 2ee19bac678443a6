/** What an error says, for messages: thrown values are not always Errors. */

/** The message of an Error, or the value as text. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The message with its system code (`ECONNREFUSED: ...`) when the message does not already say it. */
export function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  const message = messageOf(e);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
