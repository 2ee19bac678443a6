/**
 * Secrets on the instructor's disk: the files that hold them are never committed, and the commands
 * the docs give for saving a key or a passphrase never leave it readable by others, not even for a
 * moment (a `> file && chmod 600 file` does, between the two).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repo = path.resolve(__dirname, "..");

test.each(["workshop.yaml", "roster.csv", "intro-ada.key", "sub/dir/any.key"])(
  "git ignores %s",
  (file) => {
    // check-ignore exits 0 and prints the path when it is ignored.
    const out = execFileSync("git", ["check-ignore", "--no-index", file], { cwd: repo });
    expect(out.toString().trim()).toBe(file);
  },
);

const docs = ["docs/config.md", "docs/state-backends.md", "docs/workshop.md", "README.md"];

test("no documented command writes a secret first and restricts it afterwards", () => {
  const offenders = docs.flatMap((doc) =>
    fs
      .readFileSync(path.join(repo, doc), "utf8")
      .split("\n")
      .filter((line) => /(--show-secrets|openssl rand)[^`]*>[^`]*chmod/.test(line))
      .map((line) => `${doc}: ${line.trim().slice(0, 120)}`),
  );
  expect(offenders).toEqual([]);
});

test("the documented way to save the SSH key creates it owner-only", () => {
  const text = fs.readFileSync(path.join(repo, "docs/config.md"), "utf8");
  const command =
    /`(\(umask 077; pulumi stack output sshPrivateKey --show-secrets > [^`]+\))`/.exec(text)?.[1];
  expect(command).toBeDefined();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-keyfile-"));
  try {
    // A stand-in pulumi prints a key; the shell's umask is the usual 022.
    const script = `umask 022; pulumi() { echo "-----BEGIN OPENSSH PRIVATE KEY-----"; }; ${command!.replace(/<workshop>-<student>/g, "intro-ada")}`;
    execFileSync("bash", ["-c", script], { cwd: dir });
    const file = path.join(dir, "intro-ada.key");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
