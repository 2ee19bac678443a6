import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
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

/** The user data as cloud-init reads it: YAML 1.1, as PyYAML resolves scalars (`0755`, `yes`). */
function parseUserData(text: string): Record<string, unknown> {
  return parse(text, { version: "1.1" }) as Record<string, unknown>;
}

/**
 * The document the first renderer (hand-indented lines) produced for `args`, parsed: recorded once
 * from it, so any renderer must give cloud-init exactly the same keys, files, commands and keys.
 */
const recordedDocument = JSON.parse(
  fs.readFileSync(path.join(__dirname, "fixtures", "cloudInit.user-data.json"), "utf8"),
) as Record<string, unknown>;

describe("renderUserData", () => {
  const text = renderUserData(args);

  test("parses to the recorded document, key for key", () => {
    expect(parseUserData(text)).toEqual(recordedDocument);
  });

  const doc = parseUserData(text);
  const files = doc.write_files as { path: string; permissions: string; content: string }[];
  const file = (p: string): string => {
    const found = files.filter((f) => f.path === p);
    expect(found).toHaveLength(1);
    return found[0].content;
  };

  test("is cloud-config that allows SSH keys only and installs the stack's host key", () => {
    expect(text.split("\n")[0]).toBe("#cloud-config");
    expect(doc).toMatchObject({
      ssh_pwauth: false,
      disable_root: true,
      ssh_deletekeys: true,
      ssh_genkeytypes: ["ed25519"],
    });
    expect(doc.ssh_keys).toEqual({
      ed25519_private: hostKey.privateKeyOpenssh,
      ed25519_public: hostKey.publicKeyOpenssh.trim(),
    });
    expect(doc.ssh_authorized_keys).toEqual([
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample instructor@laptop",
    ]);
  });

  test("writes exactly its three files, scripts executable and the unit not", () => {
    expect(files.map((f) => [f.path, f.permissions])).toEqual([
      [metadataBlockScriptPath, "0755"],
      [`/etc/systemd/system/${metadataBlockUnit}`, "0644"],
      [setupScriptPath, "0755"],
    ]);
    for (const f of files) expect(f.content.endsWith("\n")).toBe(true);
  });

  test("runs one setup script that ends by writing the marker, after pulling by digest", () => {
    expect(doc.runcmd).toEqual([[setupScriptPath]]);
    const setup = file(setupScriptPath).split("\n");
    expect(setup[0]).toBe("#!/bin/bash");
    expect(setup).toContain("set -euo pipefail");
    expect(setup).toContain(`image='${imageRef}'`);
    expect(setup).toContain(`marker='${readyMarker}'`);
    expect(setup).toContain('  docker pull -q "$image" && break');
    expect(setup.join("\n")).toContain("DPkg::Lock::Timeout=120 install -y -q docker.io");
    expect(setup).toContain("usermod -aG docker ubuntu");
    expect(setup).toContain(`systemctl enable --now ${metadataBlockUnit}`);
    // The marker is the last thing the script does.
    expect(setup.slice(-3)).toEqual([
      'mkdir -p "$(dirname "$marker")"',
      'printf \'%s\\n\' "$image" >"$marker"',
      "",
    ]);
  });

  test("blocks containers from the metadata service, again whenever docker starts", () => {
    const script = file(metadataBlockScriptPath).split("\n");
    expect(script).toContain(`rule="-d ${metadataAddress}/32 -j REJECT"`);
    expect(script).toContain(
      "iptables -C DOCKER-USER $rule 2>/dev/null || iptables -I DOCKER-USER 1 $rule",
    );
    const unit = file(`/etc/systemd/system/${metadataBlockUnit}`).split("\n");
    for (const line of [
      "PartOf=docker.service",
      "After=docker.service",
      "WantedBy=docker.service",
      `ExecStart=${metadataBlockScriptPath}`,
    ]) {
      expect(unit).toContain(line);
    }
  });

  test("a login user other than ubuntu joins the docker group", () => {
    const other = parseUserData(renderUserData({ ...args, loginUser: "rocky" }));
    const setup = (other.write_files as { path: string; content: string }[]).find(
      (f) => f.path === setupScriptPath,
    );
    expect(setup?.content.split("\n")).toContain("usermod -aG docker rocky");
  });

  test("leaves out ssh_authorized_keys without extra keys", () => {
    const without = parseUserData(renderUserData({ ...args, extraAuthorizedKeys: [] }));
    expect(Object.keys(without)).not.toContain("ssh_authorized_keys");
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

/**
 * Strings that change a YAML document's shape when pasted into it: line breaks (PyYAML, YAML 1.1,
 * also ends a line at CR, NEL, LS and PS), `: ` and `#`, quotes and indicators, and characters
 * PyYAML refuses to read at all (C0/C1 controls, DEL, a BOM, a non-character).
 */
const hostileStrings = [
  "x\nruncmd: [reboot]",
  "x\r\nruncmd: [reboot]",
  "x\rruncmd: [reboot]",
  "x\u0085runcmd: [reboot]",
  "x\u2028runcmd: [reboot]",
  "x\u2029runcmd: [reboot]",
  "a: b",
  "a # b",
  "#c",
  "- x",
  "'\"|>&*!%@`{[",
  "x\u0000y\u0007z\u001b[31m",
  "x\u007fy\u0080z\u009f",
  "\ufeffx\uffffy",
  "x\u202ey",
];

/** What the renderer refuses in a key line rather than write it (PyYAML breaks or refuses them). */
const unprintable = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\uFFFE\uFFFF]/u;

/** A test title that shows every character, escaped where it is not printable ASCII. */
function visible(value: string): string {
  return JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Renders `args` with one hostile string in one field; the document cloud-init reads must not change. */
function hostileCases(): { field: string; value: string; text: string; expected: unknown }[] {
  const cases: { field: string; value: string; text: string; expected: unknown }[] = [];
  for (const value of hostileStrings) {
    for (const field of ["workshop", "student", "expires"] as const) {
      cases.push({
        field,
        value,
        text: renderUserData({ ...args, [field]: value }),
        expected: recordedDocument,
      });
    }
    // A key's comment arrives exactly as given, or the key is refused (test below).
    if (!unprintable.test(value)) {
      const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample ${value}`;
      cases.push({
        field: "extraAuthorizedKeys",
        value,
        text: renderUserData({ ...args, extraAuthorizedKeys: [key] }),
        expected: { ...recordedDocument, ssh_authorized_keys: [key] },
      });
    }
  }
  return cases;
}

describe("hostile values in the user data", () => {
  test.each(hostileCases().map((c) => [c.field, visible(c.value), c]))(
    "%s = %s leaves the document as it was",
    (_field, _value, c) => {
      expect(c.text.split("\n")[0]).toBe("#cloud-config");
      expect(parseUserData(c.text)).toEqual(c.expected);
    },
  );

  test.each(hostileStrings.filter((v) => unprintable.test(v)).map((v) => [visible(v), v]))(
    "a key whose comment holds %s is refused",
    (_shown, value) => {
      expect(() =>
        renderUserData({
          ...args,
          extraAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample x ${value}`],
        }),
      ).toThrow(/not an OpenSSH public key line/);
    },
  );

  test("a key damaged in copying is refused by the same rule as the settings' sshPublicKey", () => {
    expect(() =>
      renderUserData({ ...args, extraAuthorizedKeys: ["ssh-ed25519 AAAAC3Nza you@laptop"] }),
    ).toThrow(/not an OpenSSH public key line/);
  });

  test("the comment shows a hostile value escaped, on its own line", () => {
    const lines = renderUserData({ ...args, workshop: "a\nb\u0085c", student: "#d" }).split("\n");
    expect(lines[1]).toBe("# jetstream-notebooks: a\\u{000a}b\\u{0085}c/#d, expires 2030-03-05.");
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

    test("PyYAML reads every hostile rendering as the same document", async () => {
      const cases = hostileCases();
      const file = tmpFile("cases.json", JSON.stringify(cases.map((c) => c.text)));
      const r = await exec(
        "python3",
        [
          "-c",
          "import json,sys,yaml\n" +
            "out=[]\n" +
            "for t in json.load(open(sys.argv[1])):\n" +
            "  try: out.append(yaml.safe_load(t))\n" +
            "  except yaml.YAMLError as e: out.append({'error': str(e)})\n" +
            "print(json.dumps(out))",
          file,
        ],
        { check: true },
      );
      const parsed = JSON.parse(r.stdout) as unknown[];
      expect(parsed.map((doc, i) => ({ ...cases[i], text: undefined, doc }))).toEqual(
        cases.map((c) => ({ ...c, text: undefined, doc: c.expected })),
      );
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
