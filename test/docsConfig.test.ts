/**
 * Every stack the docs set up with `pulumi config set` goes through the program under mocks, so a
 * walk-through the program would refuse cannot be published. A block's stack starts at
 * `pulumi stack init <name>`; placeholders such as `<you>` get a value from the table below, and a
 * placeholder the table does not know fails the test (add it there, with a value the docs mean).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RawConfig } from "../lib/config";
import { fakeDigest, runMocked } from "./mocks";

const documents = ["README.md", "docs/workshop.md"];

/** What a reader types for each placeholder. */
const placeholders: Record<string, string> = {
  "<you>": "instructor",
  "<your-allocation>": "cis230000",
  '"$(curl -s https://checkip.amazonaws.com)/32"': "203.0.113.7/32",
};

export interface DocStack {
  document: string;
  line: number;
  stack: string;
  config: RawConfig;
}

/** The stacks a Markdown document sets up in its ```sh blocks. */
export function docStacks(document: string, text: string): DocStack[] {
  const stacks: DocStack[] = [];
  let inShell = false;
  let current: DocStack | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith("```")) {
      inShell = !inShell && /^```(sh|bash|shell)$/.test(line);
      current = undefined;
      return;
    }
    if (!inShell) return;
    // A comment starts at " #" (two or more spaces before it in these docs).
    const command = line.replace(/\s{2,}#.*$/, "").trim();
    const init = /^pulumi stack init (\S+)$/.exec(command);
    if (init) {
      current = { document, line: index + 1, stack: init[1], config: {} };
      stacks.push(current);
      return;
    }
    const set = /^pulumi config set (--secret )?(\S+)(?: (.+))?$/.exec(command);
    if (!set) return;
    if (current === undefined) {
      throw new Error(`${document}:${index + 1}: pulumi config set outside a stack's block`);
    }
    const [, secret, key, rawValue] = set;
    if (secret !== undefined) {
      current.config[key] = "[secret]";
      return;
    }
    let value = rawValue ?? "";
    for (const [placeholder, replacement] of Object.entries(placeholders)) {
      value = value.split(placeholder).join(replacement);
    }
    if (/[<>$]/.test(value)) {
      throw new Error(`${document}:${index + 1}: unknown placeholder in ${JSON.stringify(value)}`);
    }
    current.config[key] = value.replace(/^"(.*)"$/, "$1");
  });
  return stacks;
}

const root = path.join(__dirname, "..");
const stacks = documents.flatMap((d) => docStacks(d, fs.readFileSync(path.join(root, d), "utf8")));
const imageRef = `docker.io/instructor/jupyter-notebook@sha256:${fakeDigest("docs")}`;

test("the docs set up at least the instructor's stack and one student's", () => {
  expect(stacks.map((s) => `${s.document} ${s.stack}`)).toEqual(
    expect.arrayContaining(["README.md instructor", "README.md ada"]),
  );
});

test.each(stacks.map((s) => [`${s.document}:${s.line} ${s.stack}`, s] as const))(
  "%s: the program accepts it and declares its resources",
  async (_, doc) => {
    const run = await runMocked(
      async () => {
        const pulumiSdk = await import("@pulumi/pulumi");
        const { parseStackConfig } = await import("../lib/config");
        const { notebookStack } = await import("../program");
        // Any day before the docs' expiry dates: the docs are not wrong for being read early.
        const cfg = parseStackConfig(doc.config, { stackName: doc.stack, now: new Date(0) });
        return notebookStack(cfg, {
          dockerHubToken:
            doc.config.dockerHubToken === undefined ? undefined : pulumiSdk.secret("dckr_pat_x"),
        });
      },
      {
        stack: doc.stack,
        stackOutputs: { instructor: { imageRef, securityGroupId: "sg-workshop" } },
      },
    );
    expect(run.resources.length).toBeGreaterThan(0);
  },
);

test("the instructor's stack builds and pushes without a VM, an address or a certificate", async () => {
  const instructor = stacks.find((s) => s.document === "README.md" && s.stack === "instructor");
  expect(instructor?.config.target).toBe("image");
  const run = await runMocked(
    async () => {
      const pulumiSdk = await import("@pulumi/pulumi");
      const { parseStackConfig } = await import("../lib/config");
      const { notebookStack } = await import("../program");
      const cfg = parseStackConfig(instructor!.config, {
        stackName: "instructor",
        now: new Date(0),
      });
      return notebookStack(cfg, { dockerHubToken: pulumiSdk.secret("dckr_pat_x") });
    },
    { stack: "instructor" },
  );
  expect(run.resources.map((r) => r.type).sort()).toEqual([
    "docker:index/image:Image",
    "jetstream-notebooks:image:JupyterImage",
    "jetstream-notebooks:vm:WorkshopSecurityGroup",
    "openstack:networking/secGroup:SecGroup",
    "openstack:networking/secGroupRule:SecGroupRule",
    "openstack:networking/secGroupRule:SecGroupRule",
    "openstack:networking/secGroupRule:SecGroupRule",
  ]);
});
