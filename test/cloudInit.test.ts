import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  metadataAddress,
  metadataBlockScriptPath,
  metadataBlockUnit,
  readyMarker,
  renderUserData,
  setupScriptPath,
  type UserDataArgs,
} from "../lib/cloudInit";
import { readinessScript } from "../lib/readiness";
import { describeWithTool, exec, hasCommand } from "./support/docker";
import { fakeKeyPair } from "./mocks";

const imageRef = `docker.io/instructor/jupyter-notebook@sha256:${"b".repeat(64)}`;
const hostKey = fakeKeyPair("host");
const args: UserDataArgs = {
  workshop: "hpc",
  student: "alice",
  expires: "2030-03-05",
  imageRef,
  hostKey,
  extraAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample instructor@laptop"],
};

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

function tmpFile(name: string, content: string): string {
  const dir = tmpDir("jn-stack-cloudinit-");
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe("renderUserData", () => {
  const text = renderUserData(args);

  test("is cloud-config that allows SSH keys only and installs the stack's host key", () => {
    const lines = text.split("\n");
    expect(lines[0]).toBe("#cloud-config");
    expect(lines).toContain("ssh_pwauth: false");
    expect(lines).toContain("disable_root: true");
    expect(lines).toContain("ssh_deletekeys: true");
    expect(lines).toContain("ssh_genkeytypes: [ed25519]");
    expect(text).toContain(
      `ssh_keys:\n  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    ${hostKey.privateKeyOpenssh.split("\n")[1]}\n    -----END OPENSSH PRIVATE KEY-----\n  ed25519_public: ${JSON.stringify(hostKey.publicKeyOpenssh.trim())}\n`,
    );
    expect(text).toContain(
      'ssh_authorized_keys:\n  - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample instructor@laptop"\n',
    );
  });

  test("runs one setup script that ends by writing the marker, after pulling by digest", () => {
    expect(text).toContain(`runcmd:\n  - [${setupScriptPath}]\n`);
    const setup = text.slice(
      text.indexOf(`  - path: ${setupScriptPath}`),
      text.indexOf("# One script, so that"),
    );
    expect(setup).toContain("      set -euo pipefail\n");
    expect(setup).toContain(`      image='${imageRef}'\n`);
    expect(setup).toContain('        docker pull -q "$image" && break\n');
    expect(setup).toContain("DPkg::Lock::Timeout=120 install -y -q docker.io");
    expect(setup).toContain("      usermod -aG docker ubuntu\n");
    expect(setup).toContain(`      systemctl enable --now ${metadataBlockUnit}\n`);
    // The marker is the last thing the script does.
    expect(setup.trimEnd().split("\n").slice(-2)).toEqual([
      '      mkdir -p "$(dirname "$marker")"',
      '      printf \'%s\\n\' "$image" >"$marker"',
    ]);
    expect(setup).toContain(`      marker='${readyMarker}'\n`);
  });

  test("blocks containers from the metadata service, again whenever docker starts", () => {
    expect(text).toContain(`  - path: ${metadataBlockScriptPath}\n`);
    expect(text).toContain(`      rule="-d ${metadataAddress}/32 -j REJECT"\n`);
    expect(text).toContain(
      "      iptables -C DOCKER-USER $rule 2>/dev/null || iptables -I DOCKER-USER 1 $rule\n",
    );
    const unit = text.slice(text.indexOf(`/etc/systemd/system/${metadataBlockUnit}`));
    for (const line of [
      "PartOf=docker.service",
      "After=docker.service",
      "WantedBy=docker.service",
    ]) {
      expect(unit).toContain(`      ${line}\n`);
    }
  });

  test("leaves out ssh_authorized_keys without extra keys", () => {
    expect(renderUserData({ ...args, extraAuthorizedKeys: [] })).not.toContain(
      "ssh_authorized_keys",
    );
  });

  test.each([
    ["an image by tag", { imageRef: "docker.io/x/y:1.0" }, /pinned by digest/],
    [
      "a shell-breaking image",
      { imageRef: `x'; rm -rf /;'@sha256:${"b".repeat(64)}` },
      /pinned by digest/,
    ],
    ["an RSA host key", { hostKey: { ...hostKey, publicKeyOpenssh: "ssh-rsa AAAA" } }, /ed25519/],
    [
      "a key with a newline",
      { extraAuthorizedKeys: ["ssh-ed25519 AAAA\nruncmd: [reboot]"] },
      /not an OpenSSH/,
    ],
  ])("refuses %s", (_what, change, message) => {
    expect(() => renderUserData({ ...args, ...change })).toThrow(message);
  });
});

const python = hasCommand("python3");

/** YAML parsed by PyYAML (cloud-init's own parser). */
async function parseYaml(text: string): Promise<Record<string, unknown>> {
  const file = tmpFile("user-data.yaml", text);
  const r = await exec(
    "python3",
    ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file],
    { check: true },
  );
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
describeWithTool(
  "the rendered user data, checked by cloud-init itself",
  "cloud-init (apt-get install cloud-init)",
  hasCommand("cloud-init") && python,
  () => {
    test("passes `cloud-init schema --config-file`", async () => {
      const file = tmpFile("user-data.yaml", renderUserData(args));
      const r = await exec("cloud-init", ["schema", "--config-file", file]);
      expect({ code: r.code, out: `${r.stdout}${r.stderr}`.trim() }).toEqual({
        code: 0,
        out: expect.stringContaining("Valid cloud-config") as string,
      });
    });

    test("fails the schema check for a broken document (the check is real)", async () => {
      const file = tmpFile("user-data.yaml", `${renderUserData(args)}ssh_pwauth: [1, 2]\n`);
      const r = await exec("cloud-init", ["schema", "--config-file", file]);
      expect(r.code).not.toBe(0);
    });

    test("parses to the intended structure", async () => {
      const doc = await parseYaml(renderUserData(args));
      expect(Object.keys(doc)).toEqual([
        "ssh_pwauth",
        "disable_root",
        "ssh_deletekeys",
        "ssh_genkeytypes",
        "ssh_keys",
        "ssh_authorized_keys",
        "write_files",
        "runcmd",
      ]);
      expect(doc.ssh_keys).toEqual({
        ed25519_private: hostKey.privateKeyOpenssh,
        ed25519_public: hostKey.publicKeyOpenssh.trim(),
      });
      const files = doc.write_files as { path: string; permissions: string; content: string }[];
      expect(files.map((f) => [f.path, f.permissions])).toEqual([
        [metadataBlockScriptPath, "0755"],
        [`/etc/systemd/system/${metadataBlockUnit}`, "0644"],
        [setupScriptPath, "0755"],
      ]);
      expect(doc.runcmd).toEqual([[setupScriptPath]]);
    });
  },
);

describeWithTool(
  "the shell the user data and the gate carry",
  "shellcheck and python3 (apt-get install shellcheck python3-yaml)",
  hasCommand("shellcheck") && python,
  () => {
    test("every script the user data writes is shellcheck-clean", async () => {
      const doc = await parseYaml(renderUserData(args));
      const files = doc.write_files as { path: string; content: string }[];
      const scripts = files.filter((f) => f.content.startsWith("#!"));
      expect(scripts.map((f) => f.path)).toEqual([metadataBlockScriptPath, setupScriptPath]);
      for (const f of scripts) {
        const r = await exec("shellcheck", ["-"], { input: f.content });
        expect({ script: f.path, out: r.stdout, code: r.code }).toEqual({
          script: f.path,
          out: "",
          code: 0,
        });
      }
    });

    test("the readiness script is shellcheck-clean", async () => {
      const r = await exec("shellcheck", ["--shell=bash", "-"], {
        input: readinessScript(),
      });
      expect({ out: r.stdout, code: r.code }).toEqual({ out: "", code: 0 });
    });
  },
);

/**
 * The gate's exit-code policy, run for real with bash against stand-ins for cloud-init, sudo and
 * docker on PATH: what each cloud-init outcome does to `pulumi up`.
 */
describe("the readiness gate", () => {
  function run(opts: { cloudInit: number; marker?: string; docker?: number }) {
    const dir = tmpDir("jn-stack-gate-");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) =>
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub(
      "cloud-init",
      `case "$2" in --wait) exit ${opts.cloudInit};; --long) echo "status: long details"; exit ${opts.cloudInit};; esac`,
    );
    stub("sudo", '[ "$1" = -n ] && shift; exec "$@"');
    stub("docker", `exit ${opts.docker ?? 0}`);
    stub("tail", "echo 'setup log tail'");
    const marker = path.join(dir, "ready");
    if (opts.marker !== undefined) {
      fs.writeFileSync(marker, opts.marker === "" ? "" : `${opts.marker}\n`);
    }
    return exec("bash", ["-c", readinessScript(marker)], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
  }

  test("passes when cloud-init succeeded and the setup finished", async () => {
    const r = await run({ cloudInit: 0, marker: imageRef });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`set up with ${imageRef}`);
  });

  test("passes exit 2 (recoverable errors) when our setup finished, printing the details", async () => {
    const r = await run({ cloudInit: 2, marker: imageRef });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("recoverable errors; the notebook setup completed");
    expect(r.stderr).toContain("status: long details");
  });

  test("fails exit 2 when the marker is missing", async () => {
    const r = await run({ cloudInit: 2 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("did not complete");
    expect(r.stderr).toContain("setup log tail");
  });

  test("passes when the VM was set up with an earlier image (a rebuilt one rolls later)", async () => {
    const earlier = "docker.io/instructor/jupyter-notebook@sha256:" + "c".repeat(64);
    const r = await run({ cloudInit: 0, marker: earlier });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`set up with ${earlier}`);
  });

  test("fails exit 2 when the marker is empty (the setup died while writing it)", async () => {
    const r = await run({ cloudInit: 2, marker: "" });
    expect(r.code).toBe(1);
  });

  test("fails exit 2 when docker does not answer", async () => {
    const r = await run({ cloudInit: 2, marker: imageRef, docker: 1 });
    expect(r.code).toBe(1);
  });

  test("fails on a cloud-init error, with its details", async () => {
    const r = await run({ cloudInit: 1, marker: imageRef });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cloud-init failed (exit 1)");
    expect(r.stderr).toContain("status: long details");
  });

  test("says it is still waiting while cloud-init runs, and stops saying so when it ends", async () => {
    const dir = tmpDir("jn-stack-gate-");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const flag = path.join(dir, "boot-done");
    const stub = (name: string, body: string) =>
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    // `status --wait` returns only once a second progress line has asked `cloud-init status`,
    // so the first one was printed in full, whatever the machine's speed.
    const asked = path.join(dir, "asked");
    stub(
      "cloud-init",
      `case "$2" in --wait) while [ ! -e '${flag}' ]; do sleep 0.1; done; exit 0;; "") if [ -e '${asked}' ]; then touch '${flag}'; else touch '${asked}'; fi; echo "status: running";; esac`,
    );
    stub("sudo", '[ "$1" = -n ] && shift; exec "$@"');
    stub("docker", "exit 0");
    const marker = path.join(dir, "ready");
    fs.writeFileSync(marker, `${imageRef}\n`);
    const r = await exec("bash", ["-c", readinessScript(marker, 1)], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^still waiting for cloud-init on \S+ \(1 s\): status: running $/m);
    expect(r.stdout).toContain(`set up with ${imageRef}`);
  });

  test("fails when cloud-init succeeded but the marker is missing", async () => {
    const r = await run({ cloudInit: 0 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("marker or Docker is missing");
  });
});
