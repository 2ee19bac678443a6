import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { configKeys, parseStackConfig, type RawConfig } from "../lib/config";
import { InputError } from "../lib/rules/problems";
import { version } from "../package.json";

const ctx = { stackName: "alice", now: new Date("2030-03-01T12:00:00Z") };
const digest = "a".repeat(64);
const jetstream: RawConfig = {
  target: "jetstream",
  expires: "2030-03-05",
  image: `docker.io/instructor/jupyter-notebook@sha256:${digest}`,
  sshCidr: "203.0.113.7/32",
  // HTTPS is the default on jetstream, and its certificate is for the allocation's DNS name.
  allocation: "cis230000",
};

function problems(raw: RawConfig, stackName = ctx.stackName): string[] {
  try {
    parseStackConfig(raw, { ...ctx, stackName });
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error("config was accepted");
}

describe("parseStackConfig accepts", () => {
  test("a local stack that builds, with every default", () => {
    expect(parseStackConfig({ buildImage: "true" }, ctx)).toEqual({
      target: "local",
      student: "alice",
      workshop: "workshop",
      physicalName: "workshop-alice",
      expires: undefined,
      image: { kind: "build", repository: "jupyter-notebook", tag: version },
      flavor: { name: "m3.small", vcpus: 2, ramGb: 6, diskGb: 20, suPerHour: 2 },
      notebookPort: 8888,
      warnings: [],
      course: "course/",
      data: undefined,
      power: "active",
    });
  });

  test("a jetstream student with a digest-pinned image, defaults filled in", () => {
    expect(
      parseStackConfig({ ...jetstream, student: "bob-2", allocation: "cis230000" }, ctx),
    ).toEqual({
      target: "jetstream",
      student: "bob-2",
      workshop: "workshop",
      physicalName: "workshop-bob-2",
      expires: "2030-03-05",
      image: { kind: "ref", ref: jetstream.image },
      flavor: { name: "m3.small", vcpus: 2, ramGb: 6, diskGb: 20, suPerHour: 2 },
      notebookPort: 8888,
      course: "course/",
      data: undefined,
      power: "active",
      vmImage: "Featured-Ubuntu24",
      network: "auto_allocated_network",
      floatingIpPool: "public",
      sshCidr: "203.0.113.7/32",
      notebookCidr: "0.0.0.0/0",
      sshPublicKey: undefined,
      readinessTimeouts: { dnsMinutes: 60, httpsMinutes: 15 },
      allocation: "cis230000",
      tls: {
        mode: "letsencrypt",
        proxyImage: "caddy:2.11.4",
      },
      hostname: "workshop-bob-2.cis230000.projects.jetstream-cloud.org",
      warnings: [expect.stringMatching(/^\[acmeEmail\] is not set/) as unknown],
    });
  });

  test("the empty values Pulumi.yaml declares as defaults, as unset", () => {
    const cfg = parseStackConfig(
      {
        ...jetstream,
        student: "",
        imageStack: "",
        buildImage: "false",
        imageTag: "",
        sshPublicKey: "",
      },
      ctx,
    );
    expect(cfg.student).toBe("alice");
    expect(cfg.image).toEqual({ kind: "ref", ref: jetstream.image });
  });

  test("an instructor stack that builds and pushes", () => {
    const cfg = parseStackConfig(
      {
        ...jetstream,
        image: undefined,
        buildImage: "true",
        dockerHubUser: "instructor",
        dockerHubToken: "[secret]",
        imageTag: "2030.3",
      },
      ctx,
    );
    expect(cfg.image).toEqual({
      kind: "build",
      repository: "jupyter-notebook",
      tag: "2030.3",
      push: { dockerHubUser: "instructor" },
    });
  });

  test("expires today (the last day is still a workshop day)", () => {
    expect(parseStackConfig({ ...jetstream, expires: "2030-03-01" }, ctx).expires).toBe(
      "2030-03-01",
    );
  });

  test("tls off, with the loud warning first", () => {
    const cfg = parseStackConfig({ ...jetstream, tls: "off" }, ctx);
    expect(cfg.target === "jetstream" && cfg.tls.mode).toBe("off");
    expect(cfg.warnings[0]).toMatch(/^\[tls\] is off: every notebook is served over plain HTTP/);
  });

  test("SSH open to the world, when asked for explicitly", () => {
    const cfg = parseStackConfig({ ...jetstream, sshCidr: "0.0.0.0/0" }, ctx);
    expect(cfg.target === "jetstream" && cfg.sshCidr).toBe("0.0.0.0/0");
  });
});

const bad: [string, RawConfig, string][] = [
  [
    "letsencrypt on a network without Jetstream2 DNS names",
    { ...jetstream, allocation: "cis230000", network: "my-net" },
    '[network] is "my-net": Jetstream2 gives DNS names only to instances on auto_allocated_network, and [tls] letsencrypt needs one. Use auto_allocated_network, or set tls to self-signed or off',
  ],
  [
    "a readiness timeout that is not whole minutes",
    { ...jetstream, allocation: "cis230000", dnsTimeoutMinutes: "0.5" },
    '[dnsTimeoutMinutes] must be a whole number of minutes from 1 to 240, got "0.5"',
  ],
  [
    "an image stack that does not build",
    { target: "image", image: `docker.io/a/b@sha256:${"a".repeat(64)}` },
    "[target] image builds and pushes the notebook image: set buildImage true, dockerHubUser and dockerHubToken (and no image or imageStack)",
  ],
  [
    "an unknown key",
    { ...jetstream, sshCIDR: "1.2.3.4/32" },
    `[sshCIDR] is not a jetstream-notebooks setting; known settings: ${configKeys.join(", ")}`,
  ],
  [
    "an unknown target",
    { ...jetstream, target: "aws" },
    '[target] must be "local", "jetstream" or "image", got "aws"',
  ],
  [
    "a student name with capitals",
    { ...jetstream, student: "Alice" },
    '[student] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "Alice"',
  ],
  [
    "a student name with an underscore",
    { ...jetstream, student: "al_ice" },
    '[student] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "al_ice"',
  ],
  [
    "a student name ending in a hyphen",
    { ...jetstream, student: "alice-" },
    '[student] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "alice-"',
  ],
  [
    "a workshop name with a dot",
    { ...jetstream, workshop: "hpc.2030" },
    '[workshop] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "hpc.2030"',
  ],
  [
    "a VM name longer than a DNS label",
    { ...jetstream, workshop: "w".repeat(40), student: "s".repeat(23) },
    `[student] and [workshop] join into the VM name "${"w".repeat(40)}-${"s".repeat(23)}" (64 characters), which must be at most 63: shorten one of them`,
  ],
  [
    "expires missing for jetstream",
    { ...jetstream, expires: undefined },
    "[expires] is required for target jetstream: the workshop's last day, YYYY-MM-DD",
  ],
  [
    "expires in another format",
    { ...jetstream, expires: "03/05/2030" },
    '[expires] must be a date YYYY-MM-DD such as 2030-06-30, got "03/05/2030"',
  ],
  [
    "expires on a day that does not exist",
    { ...jetstream, expires: "2030-02-30" },
    '[expires] must be a date YYYY-MM-DD such as 2030-06-30, got "2030-02-30"',
  ],
  [
    "expires in the past",
    { ...jetstream, expires: "2030-02-28" },
    "[expires] is in the past (2030-02-28): set the workshop's last day",
  ],
  [
    "an image by tag",
    { ...jetstream, image: "docker.io/instructor/jupyter-notebook:1.0" },
    '[image] must be pinned by digest, such as docker.io/instructor/jupyter-notebook@sha256:<64 hex digits> (the instructor stack\'s imageRef output), got "docker.io/instructor/jupyter-notebook:1.0"',
  ],
  [
    "an image with a short digest",
    { ...jetstream, image: "x/y@sha256:abc" },
    '[image] must be pinned by digest, such as docker.io/instructor/jupyter-notebook@sha256:<64 hex digits> (the instructor stack\'s imageRef output), got "x/y@sha256:abc"',
  ],
  [
    "both image and a build",
    { ...jetstream, buildImage: "true" },
    "[image] cannot be combined with [buildImage]: the image comes from exactly one of image, imageStack or buildImage",
  ],
  [
    "image, imageStack and a build",
    { ...jetstream, imageStack: "instructor", buildImage: "true" },
    "[image] cannot be combined with [imageStack] and [buildImage]: the image comes from exactly one of image, imageStack or buildImage",
  ],
  [
    "no image at all",
    { ...jetstream, image: undefined },
    "[image] is not set: set image (a digest-pinned reference), imageStack (the instructor's stack) or buildImage true",
  ],
  [
    "no image for a local stack",
    { buildImage: "false" },
    "[image] is not set: set image (a digest-pinned reference), imageStack (the instructor's stack) or buildImage true",
  ],
  [
    "buildImage not a boolean",
    { buildImage: "yes" },
    '[buildImage] must be true or false, got "yes"',
  ],
  [
    "a bad imageStack",
    { ...jetstream, image: undefined, imageStack: "a b" },
    '[imageStack] must be a stack name such as "instructor" or "org/jetstream-notebooks/instructor", got "a b"',
  ],
  [
    "a build for jetstream without a Docker Hub user",
    { ...jetstream, image: undefined, buildImage: "true", dockerHubToken: "[secret]" },
    "[dockerHubUser] is required to build for target jetstream: the Docker Hub account the image is pushed to",
  ],
  [
    "a Docker Hub user with capitals",
    {
      ...jetstream,
      image: undefined,
      buildImage: "true",
      dockerHubUser: "Instructor",
      dockerHubToken: "[secret]",
    },
    '[dockerHubUser] must be a Docker Hub user name (4 to 30 lowercase letters and digits), got "Instructor"',
  ],
  [
    "a build for jetstream without a token",
    { ...jetstream, image: undefined, buildImage: "true", dockerHubUser: "instructor" },
    "[dockerHubToken] is required to build for target jetstream: `pulumi config set --secret dockerHubToken <a Docker Hub access token>`",
  ],
  [
    "the latest tag",
    { buildImage: "true", imageTag: "latest" },
    '[imageTag] must not be "latest": use a version such as "0.1.0" so every build is traceable',
  ],
  [
    "a tag with a slash",
    { buildImage: "true", imageTag: "a/b" },
    '[imageTag] must be a Docker tag such as "0.1.0", got "a/b"',
  ],
  [
    "a repository with capitals",
    { buildImage: "true", imageRepository: "Jupyter" },
    '[imageRepository] must be a lowercase repository name such as "jupyter-notebook", got "Jupyter"',
  ],
  [
    "an unknown flavor",
    { ...jetstream, flavor: "m3.huge" },
    '[flavor] must be a Jetstream2 flavor (m3.tiny, m3.small, m3.quad, m3.medium, m3.large, m3.xl, m3.2xl, r3.large, r3.xl), got "m3.huge"',
  ],
  [
    "a port below 1024",
    { ...jetstream, notebookPort: "80" },
    '[notebookPort] must be a port number from 1024 to 65535 (lower ports are kept for SSH and the HTTPS proxy), got "80"',
  ],
  [
    "a port above 65535",
    { ...jetstream, notebookPort: "70000" },
    '[notebookPort] must be a port number from 1024 to 65535 (lower ports are kept for SSH and the HTTPS proxy), got "70000"',
  ],
  [
    "a port that is not a number",
    { ...jetstream, notebookPort: "88x8" },
    '[notebookPort] must be a port number from 1024 to 65535 (lower ports are kept for SSH and the HTTPS proxy), got "88x8"',
  ],
  [
    "sshCidr missing for jetstream",
    { ...jetstream, sshCidr: undefined },
    "[sshCidr] is required for target jetstream: the address allowed to SSH to the VM, such as 203.0.113.7/32 (your own address)",
  ],
  [
    "sshCidr with an octet over 255",
    { ...jetstream, sshCidr: "10.0.0.300/8" },
    '[sshCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "10.0.0.300/8"',
  ],
  [
    "sshCidr without a prefix",
    { ...jetstream, sshCidr: "203.0.113.7" },
    '[sshCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "203.0.113.7" (for one address write 203.0.113.7/32)',
  ],
  [
    "sshCidr with a prefix over 32",
    { ...jetstream, sshCidr: "203.0.113.7/33" },
    '[sshCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "203.0.113.7/33"',
  ],
  [
    "sshCidr with host bits set",
    { ...jetstream, sshCidr: "203.0.113.7/24" },
    "[sshCidr] has host bits set (203.0.113.7/24): write the network, 203.0.113.0/24, or the address/32",
  ],
  [
    "notebookCidr as a hostname",
    { ...jetstream, notebookCidr: "campus.example.edu" },
    '[notebookCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "campus.example.edu"',
  ],
  [
    "an sshPublicKey that is a private key",
    { ...jetstream, sshPublicKey: "-----BEGIN OPENSSH PRIVATE KEY-----" },
    '[sshPublicKey] must be one OpenSSH public key line such as "ssh-ed25519 AAAAC3... you@laptop" (the contents of ~/.ssh/id_ed25519.pub)',
  ],
  [
    "an allocation in capitals",
    { ...jetstream, allocation: "CIS230000" },
    '[allocation] must be the allocation name in lowercase, such as "cis230000", got "CIS230000"',
  ],
  [
    "an unknown tls mode",
    { ...jetstream, tls: "on" },
    '[tls] must be one of letsencrypt, self-signed, off, got "on"',
  ],
  [
    "HTTPS without the allocation that names the host",
    { ...jetstream, allocation: undefined },
    "[tls] letsencrypt needs the instance's DNS name, which Jetstream2 derives from the allocation: set [allocation] (e.g. pulumi config set allocation abc123456), or set tls to off",
  ],
  [
    "HTTPS asked of the local target",
    { buildImage: "true", tls: "self-signed" },
    "[tls] self-signed applies to the jetstream target only: the local target serves plain HTTP on 127.0.0.1, where nothing crosses a network. Remove tls from this stack's config (pulumi config rm tls) or set it to off",
  ],
  [
    "an ACME directory over plain HTTP",
    { ...jetstream, acmeCa: "http://acme.example/directory" },
    `[acmeCa] must be the https:// URL of an ACME directory, such as Let's Encrypt's staging https://acme-staging-v02.api.letsencrypt.org/directory, got "http://acme.example/directory"`,
  ],
  [
    "a proxy image on a moving tag",
    { ...jetstream, proxyImage: "caddy:latest" },
    '[proxyImage] must name a version (caddy:2.11.4) or a digest (caddy@sha256:...), not a moving tag: got "caddy:latest"',
  ],
];

test("Pulumi.yaml declares exactly the keys the program reads, each with a description", () => {
  const project = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { type: string; description?: string }>;
  };
  expect(Object.keys(project.config).sort()).toEqual([...configKeys].sort());
  for (const [key, decl] of Object.entries(project.config)) {
    expect({ key, described: (decl.description ?? "").length > 20 }).toEqual({
      key,
      described: true,
    });
  }
});

describe("parseStackConfig rejects", () => {
  test.each(bad)("%s", (_what, raw, message) => {
    expect(problems(raw)).toEqual([message]);
  });

  test("a stack name that is not DNS-safe, saying how to set the student", () => {
    expect(problems({ buildImage: "true" }, "Alice_Dev")).toEqual([
      '[student] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "Alice_Dev" (the stack name); set it with `pulumi config set student <name>`',
    ]);
  });

  test("every problem at once, one per line of the message", () => {
    const raw = { target: "jetstream", student: "Bob", notebookPort: "22", flavor: "big" };
    let error: unknown;
    try {
      parseStackConfig(raw, ctx);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const { problems: found, message } = error as InputError;
    expect(found.map((p) => p.slice(0, p.indexOf("]") + 1))).toEqual([
      "[student]",
      "[expires]",
      "[image]",
      "[flavor]",
      "[notebookPort]",
      "[sshCidr]",
      // HTTPS, the default, needs the allocation's DNS name.
      "[tls]",
    ]);
    expect(message).toBe(
      `Invalid jetstream-notebooks config:\n${found.map((p) => `  ${p}`).join("\n")}`,
    );
  });
});
