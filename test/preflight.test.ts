import { pulumiPreflight } from "../workshop/preflight";

test("a CLI and a backend that answer: nothing to say", async () => {
  await expect(pulumiPreflight(() => Promise.resolve([]))).resolves.toBeUndefined();
});

test("no CLI: one message saying where it comes from", async () => {
  const missing = Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
  await expect(pulumiPreflight(() => Promise.reject(missing))).resolves.toBe(
    "The Pulumi CLI does not run on this machine (spawn pulumi ENOENT): install it with `curl -fsSL https://get.pulumi.com | sh` (into ~/.pulumi/bin; put that on PATH), or unpack the archive for your system from https://github.com/pulumi/pulumi/releases onto PATH. Nothing was created.",
  );
});

test("a backend that does not answer: its first line and what to check, no stack trace", async () => {
  const refused = new Error(
    '\n  error: failed to load checkpoint: blob (key ".pulumi/meta.yaml") (code=Unknown): dial tcp: lookup js2.example: no such host\n    at LocalWorkspace.listStacks (automation.js:1)',
  );
  const message = await pulumiPreflight(() => Promise.reject(refused));
  expect(message).toBe(
    'The Pulumi CLI runs, but the state backend does not answer (error: failed to load checkpoint: blob (key ".pulumi/meta.yaml") (code=Unknown): dial tcp: lookup js2.example: no such host). Check PULUMI_BACKEND_URL or the settings\' backend.url (or `pulumi login`), the network, and PULUMI_CONFIG_PASSPHRASE_FILE or PULUMI_ACCESS_TOKEN. Nothing was created.',
  );
  expect(message).not.toContain(" at ");
});
