/**
 * Before any student: the Pulumi CLI runs and the state backend answers. Checked once, so a missing
 * CLI or an unreachable backend is one message and exit 2, not forty failures or a stack trace.
 */
import { messageOf } from "../lib/errorText";

/** Where the CLI comes from, said once here for every message that needs it. */
export const pulumiCliSources =
  "install it with `curl -fsSL https://get.pulumi.com | sh` (into ~/.pulumi/bin; put that on PATH), or unpack the archive for your system from https://github.com/pulumi/pulumi/releases onto PATH";

function firstLine(e: unknown): string {
  const text = messageOf(e);
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "no message"
  );
}

/**
 * Runs `listStacks` (which starts the Pulumi CLI against the backend) and turns a failure into one
 * message naming the fix; undefined when both answer.
 */
export async function pulumiPreflight(
  listStacks: () => Promise<unknown>,
): Promise<string | undefined> {
  try {
    await listStacks();
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const text = messageOf(e);
    if (
      code === "ENOENT" ||
      /ENOENT|command not found|could not find pulumi|failed to run pulumi/i.test(text)
    ) {
      return `The Pulumi CLI does not run on this machine (${firstLine(e)}): ${pulumiCliSources}. Nothing was created.`;
    }
    return (
      `The Pulumi CLI runs, but the state backend does not answer (${firstLine(e)}). Check ` +
      "PULUMI_BACKEND_URL or the settings' backend.url (or `pulumi login`), the network, and " +
      "PULUMI_CONFIG_PASSPHRASE_FILE or PULUMI_ACCESS_TOKEN. Nothing was created."
    );
  }
}
