/**
 * A failure's kind, carried in its text. Errors from a Pulumi program reach the workshop command
 * only as the CLI's output (the Automation API hands over text, not error objects), so the program
 * marks a failure that another try would not fix with a tag that survives that trip, and the
 * workshop command's retry logic reads the tag instead of guessing from the words around it.
 */

/** The tag in a message: running the update again will not help until something is changed. */
export const permanentTag = "[permanent]";

/** `message` tagged as permanent (once). */
export function permanent(message: string): string {
  return message.startsWith(permanentTag) ? message : `${permanentTag} ${message}`;
}

/** True when `text` (a message, or a whole CLI output) carries the permanent tag. */
export function isPermanent(text: string): boolean {
  return text.includes(permanentTag);
}
