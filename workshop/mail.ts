/**
 * One email per student with their notebook link, through the instructor's own mail server. The
 * default is a dry run that writes each message as an .eml file (owner-only: every message holds a
 * token) for the instructor to read or send by hand; nothing is sent without `--send`. Messages are
 * composed by nodemailer's composer, which encodes names and subjects (so a student's name with a
 * line break cannot add a header), and each is addressed to its own student only.
 */
import * as path from "node:path";
import type { ConnectionOptions } from "node:tls";
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer";
import { ensurePrivateDir, writePrivateFile } from "../lib/privateFile";
import { messageOf } from "../lib/errorText";

export interface MailSettings {
  /** The sender, e.g. `Ada Instructor <ada@uni.edu>`. */
  from: string;
  /** SMTP server for `--send`; the password comes from SMTP_PASSWORD, never from a file or flag. */
  smtp?: { host: string; port: number; secure: boolean; user?: string };
}

export interface StudentMail {
  id: string;
  name?: string;
  email?: string;
  url: string;
}

export interface MailContext {
  title: string;
  deletionDate: string;
  /** Extra lines for every student (course URL, contact, Wi-Fi), as the cards print them. */
  lines?: string[];
}

export interface ComposedMail {
  id: string;
  to: string;
  message: Buffer;
}

// Controls and invisible format characters (bidi overrides among them) have no place in a header.
const unsafeInHeader = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu;

function clean(text: string): string {
  return text.replace(unsafeInHeader, " ").trim();
}

/** The text a student reads. Plain text: it survives every mail client and quoting. */
export function mailText(student: StudentMail, ctx: MailContext): string {
  return [
    `Hello ${clean(student.name ?? student.id)},`,
    "",
    `your own Jupyter notebook for ${clean(ctx.title)} is ready:`,
    "",
    student.url,
    "",
    "Keep this link private: it is your password.",
    "",
    `Your notebook and everything in it is deleted on ${ctx.deletionDate}. Download your work before`,
    "then: in the notebook's file browser, right-click a file and choose Download.",
    ...(ctx.lines && ctx.lines.length > 0 ? ["", ...ctx.lines.map(clean)] : []),
    "",
  ].join("\n");
}

/** One message per student with an email address; the others are returned by id to report. */
export async function composeMails(
  settings: MailSettings,
  students: readonly StudentMail[],
  ctx: MailContext,
  now: Date = new Date(),
): Promise<{ mails: ComposedMail[]; withoutEmail: string[] }> {
  const mails: ComposedMail[] = [];
  const withoutEmail: string[] = [];
  for (const student of students) {
    if (!student.email) {
      withoutEmail.push(student.id);
      continue;
    }
    const composer = new MailComposer({
      from: settings.from,
      to: { name: clean(student.name ?? ""), address: student.email },
      subject: `Your notebook for ${clean(ctx.title)}`,
      text: mailText(student, ctx),
      date: now,
      // Keeps a student's link out of the clients that preview or index by default.
      headers: { "X-Auto-Response-Suppress": "All" },
    });
    const message = await new Promise<Buffer>((resolve, reject) =>
      composer.compile().build((err, data) => (err ? reject(err) : resolve(data))),
    );
    mails.push({ id: student.id, to: student.email, message });
  }
  return { mails, withoutEmail };
}

/** The dry run: `<dir>/<id>.eml`, 0600 in a 0700 folder. Returns the files written. */
export async function writeMails(dir: string, mails: readonly ComposedMail[]): Promise<string[]> {
  await ensurePrivateDir(dir);
  const files: string[] = [];
  for (const mail of mails) {
    const file = path.join(dir, `${mail.id}.eml`);
    await writePrivateFile(file, mail.message);
    files.push(file);
  }
  return files;
}

export interface SendResult {
  id: string;
  ok: boolean;
  detail: string;
}

/** Sends each composed message as it is, one at a time; one failure does not stop the rest. */
export async function sendMails(
  settings: MailSettings,
  mails: readonly ComposedMail[],
  password: string | undefined,
  /** Extra TLS options (a private CA for a campus relay, or a test's own). */
  tls?: ConnectionOptions,
  /** Called after each message the server accepted, before the next is sent. */
  onSent?: (mail: ComposedMail) => Promise<void>,
): Promise<SendResult[]> {
  if (!settings.smtp) throw new Error("mail.smtp is not set: name the mail server to send through");
  const transport = nodemailer.createTransport({
    host: settings.smtp.host,
    port: settings.smtp.port,
    secure: settings.smtp.secure,
    // Never fall back to plain text when the server offers STARTTLS.
    requireTLS: !settings.smtp.secure,
    auth: settings.smtp.user ? { user: settings.smtp.user, pass: password ?? "" } : undefined,
    tls,
  });
  const results: SendResult[] = [];
  try {
    for (const mail of mails) {
      try {
        await transport.sendMail({
          envelope: { from: envelopeFrom(settings.from), to: [mail.to] },
          raw: mail.message,
        });
        results.push({ id: mail.id, ok: true, detail: `sent to ${mail.to}` });
        await onSent?.(mail);
      } catch (e) {
        const why = messageOf(e);
        results.push({
          id: mail.id,
          ok: false,
          detail: password ? why.split(password).join("***") : why,
        });
      }
    }
  } finally {
    transport.close();
  }
  return results;
}

function envelopeFrom(from: string): string {
  const match = /<([^>]+)>\s*$/.exec(from);
  return (match ? match[1] : from).trim();
}
