/**
 * When a student's notebook was last used: the Jupyter server's `GET /api/status` `last_activity`,
 * asked with the student's token as the probe asks. The server is the student's (they have a shell
 * there), so its answer is read with a small size cap and a short deadline, and only a well-formed
 * ISO time comes out, re-written by us: nothing it sends reaches the status table as it was sent.
 */
import { httpRequest, type TlsTrust } from "./http";
import { parseNotebookUrl } from "./notebook-url";

/** Jupyter's answer is about 150 bytes; anything much larger is not an answer. */
const maxStatusBytes = 16 * 1024;
/** `2030-06-29T11:45:00.123456Z` or with an offset; at most nanoseconds. */
const isoTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The `last_activity` of an `/api/status` body as an ISO time in UTC, or undefined for anything
 * else (not JSON, not an object, not a real time).
 */
export function parseLastActivity(body: Buffer): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const value = (doc as Record<string, unknown>).last_activity;
  if (typeof value !== "string" || value.length > 40) return undefined;
  const m = isoTime.exec(value);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/**
 * Asks the notebook at `url` (the student's `/lab?token=...` URL) for its last activity; undefined
 * when it does not answer, refuses, or answers with anything but a time. Never throws.
 * @param opts.timeoutMs Longest wait without progress; the whole request gets twice that.
 * @param opts.tls Which certificates are accepted, as the probe's (probeTrust); default `public`.
 */
export async function readLastActivity(
  url: string,
  opts: { timeoutMs?: number; tls?: TlsTrust },
): Promise<string | undefined> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  try {
    const { base, token } = parseNotebookUrl(url);
    const res = await httpRequest(`${base}/api/status`, {
      headers: { Authorization: `token ${token}` },
      timeoutMs,
      deadlineMs: 2 * timeoutMs,
      maxBodyBytes: maxStatusBytes,
      tls: opts.tls ?? "public",
    });
    return res.status === 200 ? parseLastActivity(res.body) : undefined;
  } catch {
    // A notebook that cannot say is shown as "-"; status reports its health separately.
    return undefined;
  }
}

/**
 * A last activity for the status table: the minute in UTC and how long ago, such as
 * "2030-06-29 11:45 UTC (15 min ago)"; "-" when unknown.
 */
export function describeActivity(iso: string | undefined, now: Date): string {
  if (iso === undefined) return "-";
  const at = new Date(iso);
  const minutes = Math.round((now.getTime() - at.getTime()) / 60_000);
  const ago =
    minutes < 0
      ? "ahead of this clock"
      : minutes < 1
        ? "just now"
        : minutes < 120
          ? `${minutes} min ago`
          : minutes < 48 * 60
            ? `${Math.round(minutes / 60)} h ago`
            : `${Math.round(minutes / 1440)} days ago`;
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC (${ago})`;
}
