/**
 * `workshop mail`: each student's link by email. The settings and the password are checked before
 * any stack is read; a dry run writes `<handoutsDir>/mail/<id>.eml` (owner-only: each holds a
 * token), `--send` delivers through the settings' SMTP server. What is printed names students and
 * addresses only, never a link, and passes through the redactor.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConnectionOptions } from "node:tls";
import { writePrivateFile } from "../lib/privateFile";
import { InputError } from "../lib/rules/problems";
import { smtpPasswordEnv, type MailBlock } from "./cardSettings";
import type { HandoutEntry } from "./handouts";
import { composeMails, sendMails, writeMails } from "./mail";
import type { Redactor } from "./redaction";
import type { WorkshopSettings } from "./settings";

export interface MailPlan {
  mail: MailBlock;
  send: boolean;
  password?: string;
  tls?: ConnectionOptions;
}

/**
 * What `mail` needs from the settings and the environment, checked before anything else.
 * @param send Whether `--send` was given.
 * @param env Where the SMTP password is read ({@link smtpPasswordEnv}).
 * @throws InputError naming the setting or the variable to set.
 */
export function checkMail(
  settings: WorkshopSettings,
  send: boolean,
  env: NodeJS.ProcessEnv,
): MailPlan {
  const mail = settings.mail;
  const fail = (problem: string): never => {
    throw new InputError(settings.file, [problem]);
  };
  if (mail === undefined) {
    return fail(
      `[mail.from] is not set: add a mail block to ${settings.file} with at least from (docs/workshop.md, "Cards and emails")`,
    );
  }
  if (!send) return { mail, send };
  if (mail.smtp === undefined) {
    return fail("[mail.host] is not set: name the mail server to send through");
  }
  const password = env[smtpPasswordEnv] || undefined;
  if (mail.smtp.user !== undefined && password === undefined) {
    fail(
      `[mail.user] is set, so the server wants a password: set ${smtpPasswordEnv} in the environment`,
    );
  }
  let tls: ConnectionOptions | undefined;
  if (mail.caFile !== undefined) {
    try {
      tls = { ca: fs.readFileSync(mail.caFile) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
      fail(
        `[mail.caFile] ${mail.caFile} cannot be read (${code}): put the server's CA certificate (PEM) there or remove the line`,
      );
    }
  }
  return { mail, send, password, tls };
}

export interface MailRun {
  plan: MailPlan;
  settings: WorkshopSettings;
  /** The selected students, with their links as the stacks hold them. */
  entries: readonly HandoutEntry[];
  /** The course's lines (course URL, contact, Wi-Fi), as the cards print them. */
  lines: string[];
  title: string;
  now: Date;
  redactor: Redactor;
  print: (line: string) => void;
  /** Send even to students who were already sent the same link at the same address. */
  force?: boolean;
}

interface SentEntry {
  to: string;
  /** SHA-256 of the link: the file says whether the link changed, never what it is. */
  link: string;
  at: string;
}

/** Who was sent which link, in `<handoutsDir>/mail/sent.json` (mode 0600). */
class SentLog {
  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, SentEntry>,
  ) {}

  static async open(file: string): Promise<SentLog> {
    let text: string;
    try {
      text = await fs.promises.readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return new SentLog(file, {});
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
      return new SentLog(file, parsed as Record<string, SentEntry>);
    } catch {
      throw new InputError(file, [
        "is not the record of sent messages this command writes: move it away to send to everyone again",
      ]);
    }
  }

  /** When this link went to this address, or undefined. */
  earlier(id: string, to: string, link: string): string | undefined {
    const e = this.entries[id];
    return e && e.to === to && e.link === digest(link) ? e.at : undefined;
  }

  async record(id: string, to: string, link: string, now: Date): Promise<void> {
    this.entries[id] = { to, link: digest(link), at: now.toISOString() };
    await writePrivateFile(this.file, `${JSON.stringify(this.entries, null, 2)}\n`);
  }
}

const digest = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Writes or sends the messages; resolves to the number of students not reached. */
export async function runMail(run: MailRun): Promise<number> {
  const { plan, print, redactor } = run;
  let failed = 0;
  const withLink = run.entries.filter(
    (e): e is HandoutEntry & { url: string } => e.url !== undefined,
  );
  for (const e of run.entries.filter((x) => x.url === undefined)) {
    print(redactor.redact(`${e.id}: ${e.detail}; skipped`));
    failed++;
  }
  for (const e of withLink) {
    // A link is its student's password: nothing printed may carry it, even an error's echo.
    if (URL.canParse(e.url)) redactor.add(new URL(e.url).searchParams.get("token") ?? undefined);
  }
  const { mails, withoutEmail } = await composeMails(
    plan.mail,
    withLink.map((e) => ({ id: e.id, name: e.name, email: e.email, url: e.url })),
    { title: run.title, deletionDate: run.settings.expires, lines: run.lines },
    run.now,
  );
  for (const id of withoutEmail) print(`${id}: no email on the roster; skipped`);
  if (!plan.send) {
    const dir = path.join(run.settings.handoutsDir, "mail");
    const files = await writeMails(dir, mails);
    print(
      `wrote ${files.length} message(s) to ${dir} (they hold tokens: mode 0600); nothing was sent: read them, then run mail --send`,
    );
    return failed;
  }
  const log = await SentLog.open(path.join(run.settings.handoutsDir, "mail", "sent.json"));
  const linkOf = new Map(withLink.map((e) => [e.id, e.url]));
  const toSend = mails.filter((m) => {
    const earlier = run.force ? undefined : log.earlier(m.id, m.to, linkOf.get(m.id) ?? "");
    if (earlier) {
      print(
        `${m.id}: this link was sent to ${m.to} on ${earlier}; skipped (--force sends it again; reset --token makes a new link)`,
      );
    }
    return earlier === undefined;
  });
  const results = await sendMails(plan.mail, toSend, plan.password, plan.tls, (m) =>
    // Recorded one by one: a run cut short by Ctrl-C does not send twice when run again.
    log.record(m.id, m.to, linkOf.get(m.id) ?? "", run.now),
  );
  for (const r of results) {
    print(redactor.redact(r.ok ? `${r.id}: ${r.detail}` : `${r.id}: not sent: ${r.detail}`));
    if (!r.ok) failed++;
  }
  print(`${results.filter((r) => r.ok).length} of ${results.length} message(s) sent`);
  return failed;
}
