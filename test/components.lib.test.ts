/**
 * The pure helpers the components use: limits from a flavor, the output strings, and the SSH files
 * the docker provider reads.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { flavors, type Flavor } from "../lib/flavors";
import { containerLimits, minMemoryHeadroomMb } from "../lib/limits";
import { sshOptions, writeSshIdentity } from "../lib/sshIdentity";
import { jetstreamHostname, notebookUrl, sshCommand } from "../lib/urls";

const flavor = (name: string): Flavor => flavors.get(name)!;

describe("containerLimits", () => {
  test.each([
    ["m3.tiny", { memoryMb: 2048, cpus: 0.9, processes: 1280 }],
    ["m3.small", { memoryMb: 5120, cpus: 1.5, processes: 1536 }],
    ["m3.quad", { memoryMb: 13824, cpus: 3.5, processes: 2048 }],
    ["m3.xl", { memoryMb: 115200, cpus: 31.5, processes: 9216 }],
    ["r3.xl", { memoryMb: 921600, cpus: 127.5, processes: 16384 }],
  ])("%s", (name, limits) => {
    expect(containerLimits(flavor(name))).toEqual(limits);
  });

  test.each([...flavors.keys()])("%s leaves the host headroom", (name) => {
    const f = flavor(name);
    const l = containerLimits(f);
    expect(f.ramGb * 1024 - l.memoryMb).toBeGreaterThanOrEqual(minMemoryHeadroomMb);
    expect(l.memoryMb).toBeGreaterThan(f.ramGb * 1024 * 0.6);
    expect(l.cpus).toBeLessThan(f.vcpus);
    expect(l.cpus).toBeGreaterThan(0);
  });
});

describe("output strings", () => {
  test("notebookUrl encodes the token", () => {
    expect(notebookUrl("198.51.100.1", 8888, "abc")).toBe("http://198.51.100.1:8888/lab?token=abc");
    expect(notebookUrl("h", 1, "a+b/c")).toBe("http://h:1/lab?token=a%2Bb%2Fc");
  });
  test("hostname only with an allocation", () => {
    expect(jetstreamHostname("ws-alice", "cis230000")).toBe(
      "ws-alice.cis230000.projects.jetstream-cloud.org",
    );
    expect(jetstreamHostname("ws-alice", undefined)).toBe("");
  });
  test("sshCommand with and without the stack's key file", () => {
    expect(sshCommand("198.51.100.1", "ws-alice.key")).toBe(
      "ssh -i ws-alice.key ubuntu@198.51.100.1",
    );
    expect(sshCommand("198.51.100.1", undefined)).toBe("ssh ubuntu@198.51.100.1");
  });
});

describe("writeSshIdentity", () => {
  let base: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "jn-stack-ssh-"));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  const args = {
    privateKey: "KEY-A",
    host: "198.51.100.9",
    hostPublicKey: "ssh-ed25519 AAAAhost\n",
  };

  test("writes a 0600 key and a known_hosts line in 0700 folders, at a path stable per key", () => {
    const files = writeSshIdentity(args, base);
    expect(fs.readFileSync(files.keyFile, "utf8")).toBe("KEY-A\n");
    expect(fs.readFileSync(files.knownHostsFile, "utf8")).toBe(
      "198.51.100.9 ssh-ed25519 AAAAhost\n",
    );
    expect(fs.statSync(files.keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.knownHostsFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(files.keyFile)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(path.dirname(files.keyFile))).mode & 0o777).toBe(0o700);
    // Same key, same paths (no provider diff from run to run); a new address is rewritten.
    const again = writeSshIdentity({ ...args, host: "198.51.100.10" }, base);
    expect(again).toEqual(files);
    expect(fs.readFileSync(files.knownHostsFile, "utf8")).toBe(
      "198.51.100.10 ssh-ed25519 AAAAhost\n",
    );
    expect(writeSshIdentity({ ...args, privateKey: "KEY-B" }, base).keyFile).not.toBe(
      files.keyFile,
    );
  });

  test("sshOptions: this key only, this known_hosts only, strict host checking, never a prompt", () => {
    const opts = sshOptions({ keyFile: "/k/id_ed25519", knownHostsFile: "/k/known_hosts" });
    // ssh reads `-i FILE` and `-o Key=Value` pairs; these are the ones the connection's safety needs.
    const pairs = opts.flatMap((o, i) => (i % 2 === 0 ? [[o, opts[i + 1]]] : []));
    expect(pairs).toContainEqual(["-i", "/k/id_ed25519"]);
    const o = Object.fromEntries(
      pairs.filter(([flag]) => flag === "-o").map(([, kv]) => kv.split("=") as [string, string]),
    );
    expect(o).toMatchObject({
      IdentitiesOnly: "yes",
      UserKnownHostsFile: "/k/known_hosts",
      StrictHostKeyChecking: "yes",
      BatchMode: "yes",
    });
  });

  test("refuses a shared folder others can write to (a planted folder in /tmp)", () => {
    const uid = process.getuid?.() ?? 0;
    const planted = path.join(base, `jetstream-notebooks-ssh-${uid}`);
    fs.mkdirSync(planted, { mode: 0o777 });
    fs.chmodSync(planted, 0o777);
    expect(() => writeSshIdentity(args, base)).toThrow(
      "must be a directory owned by this user with mode 0700",
    );
  });

  test("refuses a symlink in place of the folder", () => {
    const uid = process.getuid?.() ?? 0;
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "jn-stack-elsewhere-"));
    fs.chmodSync(elsewhere, 0o700);
    fs.symlinkSync(elsewhere, path.join(base, `jetstream-notebooks-ssh-${uid}`));
    try {
      expect(() => writeSshIdentity(args, base)).toThrow("must be a directory owned by this user");
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
