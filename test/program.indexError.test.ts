import * as pulumi from "@pulumi/pulumi";
import { runMocked } from "./mocks";

test("index.ts stops before declaring anything, with every config problem and no stack trace", async () => {
  const run = await runMocked(
    async () => {
      pulumi.runtime.setAllConfig({
        "jetstream-notebooks:target": "jetstream",
        "jetstream-notebooks:student": "Alice",
        "jetstream-notebooks:buildImage": "false",
        "jetstream-notebooks:sshCidr": "203.0.113.7",
        "jetstream-notebooks:flavour": "m3.small",
      });
      try {
        await import("../index");
      } catch (e) {
        return e;
      }
      return undefined;
    },
    { stack: "alice" },
  );
  const declared = run.resources.map((r) => `${r.type}::${r.name}`);
  const error = run.result;
  expect(declared).toEqual([]);
  // RunError: Pulumi prints its message alone, without the program's stack trace.
  expect(error).toBeInstanceOf(pulumi.RunError);
  expect((error as Error).message.split("\n")).toEqual([
    "Invalid jetstream-notebooks config:",
    expect.stringMatching(
      /^ {2}\[flavour\] is not a jetstream-notebooks setting; known settings: target, /,
    ) as string,
    '  [student] must be DNS-safe (lowercase letters, digits and hyphens, starting with a letter), got "Alice"',
    "  [expires] is required for target jetstream: the workshop's last day, YYYY-MM-DD",
    "  [image] is not set: set image (a digest-pinned reference), imageStack (the instructor's stack) or buildImage true",
    '  [sshCidr] must be an IPv4 CIDR such as 203.0.113.7/32, got "203.0.113.7" (for one address write 203.0.113.7/32)',
    "  [tls] letsencrypt needs the instance's DNS name, which Jetstream2 derives from the allocation: set [allocation] (e.g. pulumi config set allocation abc123456), or set tls to off",
  ]);
});
