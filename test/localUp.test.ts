/**
 * `npm start` finding the Pulumi CLI, run for real with bash, PATH and HOME stubbed: a CLI already
 * installed is used; without one, a failed download says where the CLI comes from, why it failed
 * and how to get it by hand. JN_DRY_RUN prints the commands instead of running them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exec } from "./support/docker";

const script = path.join(__dirname, "..", "scripts", "local-up.sh");
let dir: string;
let bin: string;
let home: string;

function stub(folder: string, name: string, body: string): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function start() {
  // Only the stubs and the system's own tools: not node_modules/.bin, which has the npm package.
  return exec("bash", [script], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, JN_DRY_RUN: "1" },
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-local-up-"));
  bin = path.join(dir, "bin");
  home = path.join(dir, "home");
  fs.mkdirSync(home);
  stub(bin, "npx", 'echo "npx $*" >&2; exit 97');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("uses a Pulumi CLI on PATH, without downloading one", async () => {
  stub(bin, "pulumi", "exit 0");
  const r = await start();
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("+ pulumi stack select --create dev\n+ pulumi up --yes --stack dev\n");
  expect(r.stderr).not.toContain("npx");
});

test("uses the CLI get.pulumi.com installed into ~/.pulumi/bin", async () => {
  stub(path.join(home, ".pulumi", "bin"), "pulumi", "exit 0");
  const r = await start();
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`+ ${home}/.pulumi/bin/pulumi up --yes --stack dev\n`);
});

test("a failed download names the source, the reason and the two ways to get the CLI", async () => {
  stub(
    bin,
    "npx",
    'echo "Downloading pulumi v3.265.0..." >&2; echo "pulumi: fetch failed" >&2; exit 1',
  );
  stub(bin, "getent", "exit 2");
  const r = await start();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    "The Pulumi CLI could not be downloaded from https://get.pulumi.com: pulumi: fetch failed (this machine cannot resolve get.pulumi.com: no network, or a DNS or proxy problem)\n",
  );
  expect(r.stderr).toContain(
    "  1. curl -fsSL https://get.pulumi.com | sh      (installs into ~/.pulumi/bin)\n",
  );
  expect(r.stderr).toContain("https://github.com/pulumi/pulumi/releases");
  expect(r.stderr).not.toContain("+ ");
});

test("under npm start, the npm package's pulumi in node_modules/.bin is not taken for an installed CLI", async () => {
  // npm puts the project's node_modules/.bin first on PATH: its pulumi is the downloader itself.
  const npmBin = path.join(dir, "project", "node_modules", ".bin");
  stub(npmBin, "pulumi", 'echo "pulumi: fetch failed" >&2; exit 1');
  stub(bin, "npx", 'echo "pulumi: fetch failed" >&2; exit 1');
  stub(bin, "getent", "exit 2");
  const r = await exec("bash", [script], {
    env: { PATH: `${npmBin}:${bin}:/usr/bin:/bin`, HOME: home, JN_DRY_RUN: "1" },
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("The Pulumi CLI could not be downloaded from https://get.pulumi.com");
  expect(r.stderr).not.toContain("+ pulumi");
});
