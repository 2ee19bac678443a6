/**
 * Cards and emails through the workshop command, over the simulated backend: `up` prints the
 * cards the settings describe, `cards` reprints them from the stacks' outputs without an update,
 * `mail` writes one owner-only .eml per student (or sends them through a real SMTP server on
 * 127.0.0.1 with `--send`) and never shows a token or the SMTP password.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SMTPServer } from "smtp-server";
import { useWorkshopCli } from "./support/workshopCli";
import { selfSignedCertificate } from "./support/certificates";

jest.setTimeout(60_000);

const ws = useWorkshopCli();
const { cli } = ws;

const cardsBlock = [
  "cards:",
  '  title: "Intro to Python"',
  '  wifi: "Wi-Fi: eduroam"',
  "  paper: letter",
  "  perPage: 6",
].join("\n");

function settingsWith(...blocks: string[]): void {
  ws.writeSettings();
  const file = path.join(ws.dir, "workshop.yaml");
  fs.writeFileSync(file, `${fs.readFileSync(file, "utf8")}\n${blocks.join("\n")}\n`);
}

const handouts = (...parts: string[]) => path.join(ws.dir, "handouts", ...parts);
const cardIds = (html: string) =>
  [...html.matchAll(/<article class="card" data-student="([^"]+)">/g)].map((m) => m[1]);
const tokenOf = (id: string): string => {
  const token = ws.sim.stacks.get(`intro-${id}`)?.token;
  if (!token) throw new Error(`${id} has no token`);
  return token;
};

beforeEach(() => {
  fs.writeFileSync(
    path.join(ws.dir, "roster.csv"),
    "id,name,email\nada,Ada,ada@example.org\nbob,Bob,bob@example.org\ncy,Cy,\n",
  );
});

describe("up prints the settings' cards", () => {
  test("handouts.html is the cards: title, Wi-Fi, paper, the deletion sentence; 0600", async () => {
    settingsWith(cardsBlock);
    const r = await cli(["up", "--skip-quota"]);
    expect(r.code).toBe(0);
    const html = fs.readFileSync(handouts("handouts.html"), "utf8");
    expect(cardIds(html)).toEqual(["ada", "bob", "cy"]);
    expect(html).toContain("@page { size: letter;");
    expect(html).toContain("grid-template-rows: repeat(3,");
    for (const card of html.split('<article class="card"').slice(1)) {
      expect(card).toContain("Intro to Python");
      expect(card).toContain("Wi-Fi: eduroam");
      expect(card).toContain(
        "Your notebook and everything in it is deleted on <b>2030-06-30</b>; download your work before then.",
      );
    }
    for (const f of ["handouts.html", "handouts.csv"]) {
      expect(fs.statSync(handouts(f)).mode & 0o777).toBe(0o600);
    }
  });

  test("a template that cannot be used stops up before any stack, naming the key", async () => {
    fs.writeFileSync(path.join(ws.dir, "card.html"), "<p>{{name}} {{qr}} {{url}}</p>");
    settingsWith("cards:", "  template: card.html");
    const r = await cli(["up", "--skip-quota"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `[cards.template] ${path.join(ws.dir, "card.html")}: a card must show {{deletion}}; put it back in the template`,
    );
    expect(ws.sim.stacks.size).toBe(0);
  });
});

describe("cards", () => {
  test("reprints every card from the stacks' outputs, without an update", async () => {
    settingsWith(cardsBlock);
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    fs.rmSync(handouts("handouts.html"));
    const ups = ws.sim.calls("up").length;
    const r = await cli(["cards"]);
    expect(r.code).toBe(0);
    expect(ws.sim.calls("up")).toHaveLength(ups);
    const html = fs.readFileSync(handouts("handouts.html"), "utf8");
    expect(cardIds(html)).toEqual(["ada", "bob", "cy"]);
    expect(html).toContain(tokenOf("bob"));
    expect(fs.statSync(handouts("handouts.html")).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain(handouts("handouts.html"));
    expect(r.stdout + r.stderr).not.toContain(tokenOf("bob"));
  });

  test("--student reprints one card into selected/, the class's page stays", async () => {
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    const before = fs.readFileSync(handouts("handouts.html"), "utf8");
    const r = await cli(["cards", "--student", "bob"]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(handouts("handouts.html"), "utf8")).toBe(before);
    const one = fs.readFileSync(handouts("selected", "handouts.html"), "utf8");
    expect(cardIds(one)).toEqual(["bob"]);
    expect(one).not.toContain(tokenOf("ada"));
  });

  test("a student without a stack gets no card and is named, exit 1", async () => {
    expect((await cli(["up", "--skip-quota", "--student", "ada"])).code).toBe(0);
    const r = await cli(["cards"]);
    expect(r.code).toBe(1);
    expect(cardIds(fs.readFileSync(handouts("handouts.html"), "utf8"))).toEqual(["ada"]);
    expect(r.stdout).toMatch(/bob: no stack yet: run up/);
    expect(ws.sim.stacks.has("intro-bob")).toBe(false);
  });

  test.each(["cards", "mail"])("%s --help says what it needs, writes and returns", async (c) => {
    const { code, stdout } = await cli([c, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^needs: {6}\S/m);
    expect(stdout).toMatch(/^writes: {5}\S/m);
    expect(stdout).toMatch(/^exit codes: 0 .*; 2 /m);
    expect(stdout).toMatch(/^docs: +docs\/workshop\.md, "Cards and emails"$/m);
    expect(stdout).toContain("--student ID");
  });
});

const mailBlock = (extra: string[] = []) =>
  ["mail:", '  from: "Ada Instructor <instructor@uni.example>"', ...extra].join("\n");

describe("mail, dry run", () => {
  test("one 0600 .eml per student with an address, each with only its own link", async () => {
    settingsWith(mailBlock());
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    const r = await cli(["mail"]);
    expect(r.code).toBe(0);
    const dir = handouts("mail");
    expect(fs.readdirSync(dir).sort()).toEqual(["ada.eml", "bob.eml"]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const [me, other] of [
      ["ada", "bob"],
      ["bob", "ada"],
    ]) {
      const file = path.join(dir, `${me}.eml`);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const eml = fs.readFileSync(file, "utf8").replace(/=\r?\n/g, "");
      expect(eml).toMatch(new RegExp(`^To: .*${me}@example\\.org>?\\r?$`, "m"));
      expect(eml).toContain(tokenOf(me));
      expect(eml).not.toContain(tokenOf(other));
      expect(eml).not.toContain(`${other}@example.org`);
      expect(eml).not.toContain(tokenOf("cy"));
      expect(eml).toContain("deleted on 2030-06-30");
    }
    expect(r.stdout).toContain("cy: no email on the roster; skipped");
    expect(r.stdout).toContain(dir);
    expect(r.stdout).toContain("nothing was sent");
    for (const id of ["ada", "bob", "cy"]) expect(r.stdout + r.stderr).not.toContain(tokenOf(id));
  });

  test("--student writes only that student's message", async () => {
    settingsWith(mailBlock());
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    expect((await cli(["mail", "--student", "bob"])).code).toBe(0);
    expect(fs.readdirSync(handouts("mail"))).toEqual(["bob.eml"]);
  });

  test("without a mail block: exit 2, naming the setting to add", async () => {
    const r = await cli(["mail"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[mail.from] is not set: add a mail block to");
    expect(fs.existsSync(handouts("mail"))).toBe(false);
  });
});

describe("mail --send", () => {
  let server: SMTPServer;
  let port = 0;
  const password = "s3cret-smtp-pw";
  const received: { to: string[]; data: string }[] = [];

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-smtp-cli-"));
    const pem = selfSignedCertificate("DNS:localhost");
    caPem = pem.cert;
    server = new SMTPServer({
      key: pem.key,
      cert: pem.cert,
      authMethods: ["PLAIN", "LOGIN"],
      onAuth(auth, _session, cb) {
        if (auth.username === "instructor" && auth.password === password)
          cb(null, { user: auth.username });
        else cb(new Error(`bad credentials for ${auth.username} with ${auth.password}`));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          received.push({
            to: session.envelope.rcptTo.map((x) => x.address),
            data: Buffer.concat(chunks).toString("utf8"),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.server.address() as { port: number }).port;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let caPem = "";

  function smtpSettings(): void {
    fs.writeFileSync(path.join(ws.dir, "ca.pem"), caPem);
    settingsWith(
      mailBlock(["  host: localhost", `  port: ${port}`, "  user: instructor", "  caFile: ca.pem"]),
    );
  }

  test("sends each student their own message over STARTTLS; no password or token shown", async () => {
    smtpSettings();
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    received.length = 0;
    const r = await cli(["mail", "--send"], { env: { SMTP_PASSWORD: password } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(received.map((m) => m.to)).toEqual([["ada@example.org"], ["bob@example.org"]]);
    expect(received[0].data.replace(/=\r?\n/g, "")).toContain(tokenOf("ada"));
    expect(received[1].data.replace(/=\r?\n/g, "")).not.toContain(tokenOf("ada"));
    expect(r.stdout).toContain("ada: sent to ada@example.org");
    expect(r.stdout).toContain("cy: no email on the roster; skipped");
    // No message is kept on disk when it is sent: only the record of who got which link.
    expect(fs.readdirSync(handouts("mail"))).toEqual(["sent.json"]);
    for (const secret of [password, tokenOf("ada"), tokenOf("bob")]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  test("a second --send skips who already has this link; a new link (reset --token) or --force sends again", async () => {
    smtpSettings();
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    received.length = 0;
    const env = { SMTP_PASSWORD: password };
    expect((await cli(["mail", "--send"], { env })).code).toBe(0);
    expect(received).toHaveLength(2);
    const again = await cli(["mail", "--send"], { env });
    expect(again.code).toBe(0);
    expect(received).toHaveLength(2);
    expect(again.stdout).toMatch(/^ada: this link was sent to ada@example\.org on .*; skipped/m);
    expect(fs.statSync(handouts("mail", "sent.json")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(handouts("mail", "sent.json"), "utf8")).not.toContain(tokenOf("ada"));

    expect((await cli(["reset", "--student", "bob", "--token"])).code).toBe(0);
    expect((await cli(["mail", "--send"], { env })).code).toBe(0);
    expect(received.slice(2).map((m) => m.to)).toEqual([["bob@example.org"]]);

    expect((await cli(["mail", "--send", "--force", "--student", "ada"], { env })).code).toBe(0);
    expect(received.slice(3).map((m) => m.to)).toEqual([["ada@example.org"]]);
  });

  test("a refused login fails each student without showing the password, exit 1", async () => {
    smtpSettings();
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    received.length = 0;
    const wrong = "wrong-password-123";
    const r = await cli(["mail", "--send", "--student", "ada"], { env: { SMTP_PASSWORD: wrong } });
    expect(r.code).toBe(1);
    expect(received).toHaveLength(0);
    expect(r.stdout).toMatch(/ada: not sent: /);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  test("a user without SMTP_PASSWORD, or no host: exit 2 before anything is sent", async () => {
    smtpSettings();
    expect((await cli(["up", "--skip-quota"])).code).toBe(0);
    received.length = 0;
    const noPassword = await cli(["mail", "--send"]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain(
      "[mail.user] is set, so the server wants a password: set SMTP_PASSWORD in the environment",
    );
    settingsWith(mailBlock());
    const noHost = await cli(["mail", "--send"], { env: { SMTP_PASSWORD: password } });
    expect(noHost.code).toBe(2);
    expect(noHost.stderr).toContain("[mail.host] is not set: name the mail server to send through");
    expect(received).toHaveLength(0);
  });
});
