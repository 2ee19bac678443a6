/**
 * How the export reaches a student's engine, from the stack's outputs: locally the docker CLI; on
 * Jetstream2 ssh with the stack's key and the VM's host key pinned, running docker there. No VM is
 * reachable from the test suite, so the ssh command is checked as far as it goes: its options, the
 * files it points at, and that the remote shell gets back exactly the words it was given (checked by
 * a real POSIX shell).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { dockerCommand, shellQuote } from "../workshop/engine";
import { exportRunArgs } from "../workshop/export-helper";
import { exportSource } from "../workshop/export-source";

const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheVm";
const image = `docker.io/instructor/jupyter-notebook@sha256:${"c".repeat(64)}`;

const jetstreamOutputs = {
  target: "jetstream",
  publicIp: "149.165.150.7",
  sshUser: "ubuntu",
  sshPrivateKey: key,
  sshHostPublicKey: hostKey,
  volumeName: "intro-ada-work",
  imageRef: image,
  workshop: "intro",
  student: "ada",
};

test("the local engine is the docker CLI, as the stack's provider uses it", () => {
  expect(dockerCommand({ kind: "local" }, ["volume", "ls"])).toEqual({
    file: "docker",
    args: ["volume", "ls"],
  });
});

test("a VM's engine is reached over ssh with the stack's key and the host key pinned", () => {
  const source = exportSource(jetstreamOutputs);
  expect(source.volume).toBe("intro-ada-work");
  const cmd = dockerCommand(source.engine, ["volume", "inspect", "intro-ada-work"]);
  expect(cmd.file).toBe("ssh");
  const opt = (name: string) => cmd.args[cmd.args.indexOf(name) + 1];
  expect(cmd.args).toEqual(
    expect.arrayContaining([
      "StrictHostKeyChecking=yes",
      "BatchMode=yes",
      "IdentitiesOnly=yes",
      "HostKeyAlgorithms=ssh-ed25519",
    ]),
  );
  expect(fs.readFileSync(opt("-i"), "utf8")).toBe(key);
  expect(fs.statSync(opt("-i")).mode & 0o777).toBe(0o600);
  const knownHosts = cmd.args
    .find((a) => a.startsWith("UserKnownHostsFile="))
    ?.slice("UserKnownHostsFile=".length);
  expect(fs.readFileSync(knownHosts ?? "", "utf8")).toBe(`149.165.150.7 ${hostKey}\n`);
  expect(cmd.args.slice(-4)).toEqual([
    "ubuntu",
    "--",
    "149.165.150.7",
    "docker volume inspect intro-ada-work",
  ]);
  // The key is in a file, never on the command line.
  expect(cmd.args.join(" ")).not.toContain("BEGIN OPENSSH");
});

test("the remote shell gets back exactly the export container's arguments", () => {
  const args = exportRunArgs({ name: "jn-export-ada-1", image, volume: "intro-ada-work" });
  const line = args.map(shellQuote).join(" ");
  const echoed = execFileSync("sh", ["-c", `for a in ${line}; do printf '%s\\0' "$a"; done`]);
  expect(echoed.toString("utf8").split("\0").slice(0, -1)).toEqual(args);
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
});

test.each<[string, Record<string, unknown>, string]>([
  ["no host key", { ...jetstreamOutputs, sshHostPublicKey: "" }, "sshHostPublicKey output"],
  [
    "no address or key",
    { ...jetstreamOutputs, publicIp: undefined, sshPrivateKey: "" },
    "the stack has no publicIp, sshPrivateKey outputs, needed to reach the VM's engine; run `workshop up` once with this version to add them",
  ],
  ["no image", { ...jetstreamOutputs, imageRef: undefined }, "the stack has no imageRef output"],
])("a stack with %s is refused with what helps", (_what, outputs, message) => {
  expect(() => exportSource(outputs)).toThrow(message);
});

test("a stack made before volumeName existed falls back to the name the program gives", () => {
  const older: Record<string, unknown> = { ...jetstreamOutputs };
  delete older.volumeName;
  delete older.sshUser;
  const source = exportSource(older);
  expect(source.volume).toBe("intro-ada-work");
  expect(source.engine).toMatchObject({ kind: "ssh", user: "ubuntu" });
  expect(exportSource({ target: "local", imageRef: image, volumeName: "v1" })).toEqual({
    engine: { kind: "local" },
    volume: "v1",
    image,
  });
});

test("the notebook's container comes from the stack's containerName output, only as a Docker name", () => {
  expect(exportSource({ ...jetstreamOutputs, containerName: "intro-ada-notebook" }).container).toBe(
    "intro-ada-notebook",
  );
  // Instructor-side state, but a value that is not a container name never reaches a command line.
  for (const bad of ["--rm", "-v/:/x", "a b", "", "x;rm -rf /"]) {
    expect(exportSource({ ...jetstreamOutputs, containerName: bad }).container).toBeUndefined();
  }
  expect(exportSource(jetstreamOutputs).container).toBeUndefined();
});
