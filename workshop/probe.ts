/**
 * Is a student's notebook really there? A URL is only reported ready once the server answers with
 * the student's own token: `GET /api/status` with the token must be 200 (a wrong token gets 403, so
 * this proves the token), then `GET /lab?token=...` must be 200 with JupyterLab's page (the URL the
 * student is handed). Retried until a deadline, since a new VM takes minutes to boot and pull.
 */
import { httpRequest } from "./http";
import { parseNotebookUrl } from "./notebook-url";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProbeResult {
  healthy: boolean;
  /** What the last try saw: "200 JupyterLab", "403 on /api/status (wrong token?)", "ECONNREFUSED". */
  detail: string;
  attempts: number;
}

export interface ProbeOptions {
  /** Epoch ms after which no new try starts; one try when already past. */
  deadline?: number;
  intervalMs?: number;
  requestTimeoutMs?: number;
  insecure?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

async function probeOnce(
  url: string,
  opts: ProbeOptions,
): Promise<{ ok: boolean; detail: string }> {
  const { base, token } = parseNotebookUrl(url);
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const status = await httpRequest(`${base}/api/status`, {
    headers: { Authorization: `token ${token}` },
    timeoutMs,
    tls: opts.insecure ? "any-issuer-for-host" : "public",
  });
  if (status.status !== 200) {
    const why = status.status === 403 || status.status === 401 ? " (wrong token?)" : "";
    return { ok: false, detail: `${status.status} on /api/status${why}` };
  }
  const lab = await httpRequest(`${base}/lab?token=${encodeURIComponent(token)}`, {
    timeoutMs,
    tls: opts.insecure ? "any-issuer-for-host" : "public",
  });
  if (lab.status !== 200) return { ok: false, detail: `${lab.status} on /lab` };
  if (!lab.body.toString("utf8").includes("JupyterLab")) {
    return { ok: false, detail: "200 on /lab but not JupyterLab's page" };
  }
  return { ok: true, detail: "200 JupyterLab" };
}

export async function probeNotebook(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const wait = opts.sleep ?? ((ms: number) => sleep(ms));
  const deadline = opts.deadline ?? 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await probeOnce(url, opts);
    } catch (e) {
      const code = (e as { code?: string }).code;
      outcome = { ok: false, detail: code ?? (e as Error).message };
    }
    if (outcome.ok || Date.now() + (opts.intervalMs ?? 5_000) > deadline) {
      return { healthy: outcome.ok, detail: outcome.detail, attempts };
    }
    await wait(opts.intervalMs ?? 5_000);
  }
}
