import * as pulumi from "@pulumi/pulumi";

test("index.ts refuses a DOCKER_CONTEXT for a jetstream stack before declaring anything", async () => {
  const declared: string[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        declared.push(`${args.type}::${args.name}`);
        return { id: args.name, state: args.inputs as Record<string, unknown> };
      },
      call(args) {
        throw new Error(`Mock not implemented: ${args.token}`);
      },
    },
    "jetstream-notebooks",
    "alice",
    false,
  );
  pulumi.runtime.setAllConfig({
    "jetstream-notebooks:target": "jetstream",
    "jetstream-notebooks:expires": "2099-12-31",
    "jetstream-notebooks:image": `docker.io/a/b@sha256:${"a".repeat(64)}`,
    "jetstream-notebooks:sshCidr": "203.0.113.7/32",
    "jetstream-notebooks:tls": "off",
  });
  const saved = { context: process.env.DOCKER_CONTEXT, agent: process.env.SSH_AUTH_SOCK };
  process.env.DOCKER_CONTEXT = "laptop";
  delete process.env.SSH_AUTH_SOCK;
  let error: unknown;
  try {
    await import("../index");
  } catch (e) {
    error = e;
  } finally {
    if (saved.context === undefined) delete process.env.DOCKER_CONTEXT;
    else process.env.DOCKER_CONTEXT = saved.context;
    if (saved.agent !== undefined) process.env.SSH_AUTH_SOCK = saved.agent;
  }
  expect(declared).toEqual([]);
  expect(error).toBeInstanceOf(pulumi.RunError);
  expect((error as Error).message.split("\n")).toEqual([
    "This machine's environment would misdirect the stack:",
    "  [DOCKER_CONTEXT] is set (laptop): it would point the Docker provider at another engine instead of the student's VM. Unset it for this command (env -u DOCKER_CONTEXT pulumi up, or unset DOCKER_CONTEXT).",
  ]);
});
