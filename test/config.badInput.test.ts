/** Stack config values that were accepted before and are refused (or warned about) now. */
import { parseStackConfig, type RawConfig } from "../lib/config";
import { InputError } from "../lib/rules/problems";

const ctx = { stackName: "alice", now: new Date("2030-03-01T12:00:00Z") };
const jetstream: RawConfig = {
  target: "jetstream",
  expires: "2030-03-05",
  image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
  sshCidr: "203.0.113.7/32",
  allocation: "cis230000",
};
const key =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExTW0LKPIlQufOQ54WwxqWOnyjRkAmgJ9ftIve2sqpH you@laptop";

function problems(raw: RawConfig): string[] {
  try {
    parseStackConfig(raw, ctx);
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("config was accepted");
}

test.each([
  [
    "an R-LDH workshop label",
    { workshop: "ab--cd" },
    '[workshop] must be free of "--" in its third and fourth characters (reserved for internationalized names; Let\'s Encrypt refuses them), got "ab--cd"',
  ],
  [
    "a leading zero in an address",
    { sshCidr: "203.0.113.07/32" },
    '[sshCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "203.0.113.07/32" (an octet with a leading zero, which some tools read as octal: write 203.0.113.7/32)',
  ],
  [
    "an ssh key whose base64 was damaged in copying",
    { sshPublicKey: key.replace("AAAAC3Nz", "AAAAC3N") },
    "[sshPublicKey] holds a damaged ssh-ed25519 key: its base64 text does not decode to one (a character lost or added in copying?); copy the whole line of your .pub file again",
  ],
  [
    "an ssh key of another type than its line says",
    { sshPublicKey: key.replace("ssh-ed25519", "ssh-rsa") },
    "[sshPublicKey] holds a damaged ssh-rsa key: its base64 text does not decode to one (a character lost or added in copying?); copy the whole line of your .pub file again",
  ],
  [
    "NUL in a value",
    { network: "net\u0000" },
    "[network] contains U+0000 (NUL): retype the value without it",
  ],
  [
    "a 1 MB network name",
    { network: "n".repeat(1024 * 1024) },
    `[network] must be an OpenStack name of at most 255 characters, got "${"n".repeat(60)}"... (1048576 characters)`,
  ],
  [
    "a backtick in acmeEmail",
    { acmeEmail: "i`@example.edu" },
    '[acmeEmail] must be an email address such as instructor@example.edu, got "i`@example.edu"',
  ],
])("%s", (_what, change, message) => {
  expect(problems({ ...jetstream, ...change })).toEqual([message]);
});

test("a good ssh key is accepted", () => {
  expect(parseStackConfig({ ...jetstream, sshPublicKey: key }, ctx).target).toBe("jetstream");
});

test("sshCidr 0.0.0.0/0 is accepted with a loud warning, first", () => {
  const cfg = parseStackConfig({ ...jetstream, sshCidr: "0.0.0.0/0" }, ctx);
  expect(cfg.warnings[0]).toMatch(
    /^\[sshCidr\] is 0\.0\.0\.0\/0: every address on the internet may try to log in to every VM over SSH\./,
  );
});
