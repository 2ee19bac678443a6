/**
 * Files the docker provider's `ssh` needs to reach a VM without a prompt: the stack's private key
 * (mode 0600) and a known_hosts file holding the VM's host key, which the stack generated and
 * installed through the user data, so the host is verified rather than trusted on first use.
 *
 * They live in a per-user 0700 directory under the system temp folder, named by a hash of the
 * key, so the provider's `sshOpts` stay the same from run to run (no spurious provider diffs) and
 * every run rewrites them. After a reboot clears them, `pulumi refresh` needs a `pulumi preview`
 * (or `refresh --run-program`) first; `pulumi destroy` does not need them at all (the notebook's
 * Docker resources are deleted with the VM).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writePrivateFileSync } from "./privateFile";

export interface SshIdentityFiles {
  keyFile: string;
  knownHostsFile: string;
}

/**
 * The per-user directory, created 0700 and checked to be ours (not a planted symlink). On Windows
 * there are no POSIX modes to check (Node reports 0o666/0o777 whatever the ACL says): there the
 * folder is under the user's own temp folder, which Windows' default ACL keeps to that user.
 */
function privateDir(base: string, platform: NodeJS.Platform): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const dir = path.join(base, `jetstream-notebooks-ssh-${uid ?? os.userInfo().username}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const posixModeOk = platform === "win32" || (st.mode & 0o077) === 0;
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || !posixModeOk) {
    throw new Error(`${dir} must be a directory owned by this user with mode 0700`);
  }
  return dir;
}

/** Writes (or rewrites) the key and known_hosts files for one VM and returns their paths. */
export function writeSshIdentity(
  args: { privateKey: string; host: string; hostPublicKey: string },
  // TMPDIR as this process sees it (os.tmpdir() reads the real environment, which a test
  // harness's sandboxed process.env does not reach).
  base: string = process.env.TMPDIR || os.tmpdir(),
  platform: NodeJS.Platform = process.platform,
): SshIdentityFiles {
  const id = createHash("sha256").update(args.privateKey).digest("hex").slice(0, 16);
  const dir = path.join(privateDir(base, platform), id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, "id_ed25519");
  const knownHostsFile = path.join(dir, "known_hosts");
  writePrivateFileSync(
    keyFile,
    args.privateKey.endsWith("\n") ? args.privateKey : `${args.privateKey}\n`,
  );
  writePrivateFileSync(knownHostsFile, `${args.host} ${args.hostPublicKey.trim()}\n`);
  return { keyFile, knownHostsFile };
}

/**
 * ssh options for the docker provider: our key only, the host checked strictly against our
 * known_hosts (ed25519 only, the one key type the VM has), and never a question.
 */
export function sshOptions(files: SshIdentityFiles): string[] {
  return [
    // No config file: a Host block in ~/.ssh/config (ProxyJump, HostName) could redirect it.
    "-F",
    "none",
    "-i",
    files.keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${files.knownHostsFile}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "HostKeyAlgorithms=ssh-ed25519",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=30",
    "-o",
    "ServerAliveInterval=30",
  ];
}
