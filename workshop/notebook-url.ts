/** The pieces of a stack's `notebookUrl` output (`http(s)://host[:port][/prefix]/lab?token=...`). */

export interface NotebookEndpoint {
  /** Server root, without a trailing slash: API calls go to `${base}/api/...`. */
  base: string;
  token: string;
  /** The URL with the token replaced, safe for logs and messages. */
  redacted: string;
}

export function parseNotebookUrl(url: string): NotebookEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error("notebookUrl output is not a URL; check the stack's outputs");
  }
  const token = u.searchParams.get("token");
  if (!token) throw new Error(`notebookUrl output ${u.origin}${u.pathname} carries no token`);
  const prefix = u.pathname.replace(/\/lab\/?.*$/, "").replace(/\/+$/, "");
  const redactedUrl = new URL(u.toString());
  redactedUrl.searchParams.set("token", "***");
  return { base: `${u.origin}${prefix}`, token, redacted: redactedUrl.toString() };
}
