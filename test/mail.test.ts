/**
 * Student emails: the dry run writes one owner-only .eml per student with an address, each holding
 * only its own student's link; a hostile display name cannot add a header; `--send` delivers the
 * same bytes over STARTTLS to a real SMTP server (smtp-server on 127.0.0.1) and never shows the
 * password.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SMTPServer } from "smtp-server";
import { composeMails, sendMails, writeMails, type StudentMail } from "../workshop/mail";
import { selfSignedCertificate, type Pem } from "./support/certificates";

const token = (c: string): string => c.repeat(32);
const students: StudentMail[] = [
  {
    id: "ada",
    name: "Ada Lovelace",
    email: "ada@example.org",
    url: `https://intro-ada.example.org/lab?token=${token("a")}`,
  },
  {
    id: "eve",
    name: "Eve\r\nBcc: everyone@example.net\u202E",
    email: "eve@example.org",
    url: `https://intro-eve.example.org/lab?token=${token("e")}`,
  },
  {
    id: "zoe",
    name: "Zoë Ñúñez",
    email: "zoe@example.org",
    url: `https://intro-zoe.example.org/lab?token=${token("f")}`,
  },
  { id: "nobody", url: `https://intro-nobody.example.org/lab?token=${token("b")}` },
];
const ctx = {
  title: "Intro to Python",
  deletionDate: "2030-06-30",
  lines: ["Slides: https://example.org/s"],
};
const settings = { from: "Ada Instructor <instructor@uni.example>" };

/** The message as a reader sees it: quoted-printable soft breaks joined and escapes decoded. */
function readable(eml: string): string {
  return Buffer.from(
    eml
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => `%${hex}`)
      .replace(/%(?![0-9A-F]{2})/g, "%25"),
    "utf8",
  )
    .toString("utf8")
    .replace(/(%[0-9A-F]{2})+/g, (seq) => decodeURIComponent(seq));
}

const lf = (text: string): string => text.replace(/\r\n/g, "\n").replace(/\n+$/, "");

function headers(eml: string): string {
  return eml.slice(0, eml.indexOf("\r\n\r\n"));
}

describe("student emails, dry run", () => {
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-mail-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("one owner-only .eml per student with an address, each with only its own link", async () => {
    const { mails, withoutEmail } = await composeMails(
      settings,
      students,
      ctx,
      new Date("2030-06-01T08:00:00Z"),
    );
    expect(withoutEmail).toEqual(["nobody"]);
    const files = await writeMails(path.join(dir, "mail"), mails);
    expect(files.map((f) => path.basename(f))).toEqual(["ada.eml", "eve.eml", "zoe.eml"]);
    expect(fs.statSync(path.join(dir, "mail")).mode & 0o777).toBe(0o700);
    for (const [i, file] of files.entries()) {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const eml = readable(fs.readFileSync(file, "utf8"));
      const me = students[i];
      expect(eml).toContain(me.url);
      expect(headers(eml)).toMatch(new RegExp(`^To: .*<?${me.email}>?$`, "m"));
      for (const other of students.filter((s) => s !== me)) {
        expect(eml).not.toContain(other.url.split("token=")[1]);
        if (other.email) expect(eml).not.toContain(other.email);
      }
      expect(eml).toContain("deleted on 2030-06-30");
      expect(eml).toContain("Slides: https://example.org/s");
    }
  });

  test("a display name with a line break and a bidi override adds no header", async () => {
    const { mails } = await composeMails(settings, students.slice(1, 2), ctx);
    const eml = mails[0].message.toString("utf8");
    expect(headers(eml)).not.toMatch(/^Bcc:/im);
    expect(readable(eml)).toContain("Hello Eve Bcc: everyone@example.net,");
    expect(readable(eml)).not.toMatch(/\u202E|Eve\r?\nBcc/);
    expect(
      headers(eml)
        .split("\r\n")
        .filter((l) => /^To:/.test(l)),
    ).toHaveLength(1);
  });

  test("a non-ASCII name is encoded, not mangled", async () => {
    const { mails } = await composeMails(settings, students.slice(2, 3), ctx);
    const to = /^To: (.*)$/m.exec(mails[0].message.toString("utf8"))?.[1] ?? "";
    expect(to).toMatch(/=\?UTF-8\?/i);
    expect(mails[0].message.toString("utf8")).toMatch(/Hello (Zo=C3=AB|Zoë)/);
  });
});

describe("student emails, --send", () => {
  let dir = "";
  let server: SMTPServer;
  let pem: Pem;
  let port = 0;
  const received: { from: string; to: string[]; data: string; user?: string }[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-smtp-"));
    pem = selfSignedCertificate("DNS:localhost");
    server = new SMTPServer({
      key: pem.key,
      cert: pem.cert,
      authMethods: ["PLAIN", "LOGIN"],
      onAuth(auth, _session, cb) {
        if (auth.username === "instructor" && auth.password === "s3cret-pw")
          cb(null, { user: auth.username });
        else cb(new Error(`bad credentials for ${auth.username} with ${auth.password}`));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString("utf8"),
            user: session.user as string | undefined,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const smtp = (): {
    from: string;
    smtp: { host: string; port: number; secure: boolean; user: string };
  } => ({
    from: settings.from,
    smtp: { host: "localhost", port, secure: false, user: "instructor" },
  });

  test("delivers each message to its own student only, over STARTTLS, as composed", async () => {
    const { mails } = await composeMails(settings, students, ctx);
    const ca = pem.cert;
    const results = await sendMails(smtp(), mails, "s3cret-pw", { ca });
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ["ada", true],
      ["eve", true],
      ["zoe", true],
    ]);
    expect(received.map((r) => [r.from, r.to, r.user])).toEqual([
      ["instructor@uni.example", ["ada@example.org"], "instructor"],
      ["instructor@uni.example", ["eve@example.org"], "instructor"],
      ["instructor@uni.example", ["zoe@example.org"], "instructor"],
    ]);
    expect(lf(received[0].data)).toBe(lf(mails[0].message.toString("utf8")));
  });

  test("a refused login is reported per student without the password", async () => {
    const { mails } = await composeMails(settings, students.slice(0, 1), ctx);
    const ca = pem.cert;
    const results = await sendMails(smtp(), mails, "wrong-pw-123", { ca });
    expect(results[0].ok).toBe(false);
    expect(results[0].detail).not.toContain("wrong-pw-123");
  });

  test("a server whose certificate is not trusted is refused, not used in clear", async () => {
    const { mails } = await composeMails(settings, students.slice(0, 1), ctx);
    const before = received.length;
    const results = await sendMails(smtp(), mails, "s3cret-pw");
    expect(results[0].ok).toBe(false);
    expect(results[0].detail).toMatch(/certificate/i);
    expect(received.length).toBe(before);
  });
});
