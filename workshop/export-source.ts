/**
 * Where a stack's student volume is, from the stack's own outputs (instructor-side state, never
 * anything the notebook says): the engine (the local one, or the VM over SSH with the stack's key
 * and pinned host key), the volume's name and the notebook image to read it with.
 */
import { instanceName } from "../lib/config";
import { vmUser } from "../lib/urls";
import type { EngineTarget } from "./engine";

export interface ExportSource {
  engine: EngineTarget;
  volume: string;
  image: string;
  /**
   * The notebook's container, when the stack names it (stacks made before the `containerName`
   * output do not); a name Docker would accept, nothing else.
   */
  container?: string;
}

// Docker's own rule for container names; anything else in the output is not used on a command line.
const containerNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Reads the outputs; throws naming the missing output and what helps. Stacks made before the
 * `volumeName`, `sshUser` and `sshHostPublicKey` outputs existed fall back to the names the program
 * has always used (`<workshop>-<student>-work`, the `ubuntu` login); the host key has no fallback:
 * without it the VM could not be told from an impostor.
 */
export function exportSource(outputs: Record<string, unknown>): ExportSource {
  const image = str(outputs.imageRef);
  if (!image) {
    throw new Error("the stack has no imageRef output (did its up ever succeed?)");
  }
  const workshop = str(outputs.workshop);
  const student = str(outputs.student);
  const volume =
    str(outputs.volumeName) ??
    (workshop && student ? `${instanceName(workshop, student)}-work` : undefined);
  if (!volume) throw new Error("the stack has no volumeName output (did its up ever succeed?)");
  const named = str(outputs.containerName);
  const container = named && containerNamePattern.test(named) ? named : undefined;
  const common = { volume, image, ...(container ? { container } : {}) };
  if (str(outputs.target) !== "jetstream") return { engine: { kind: "local" }, ...common };

  const host = str(outputs.publicIp);
  const privateKey = str(outputs.sshPrivateKey);
  const hostPublicKey = str(outputs.sshHostPublicKey);
  const missing = [
    host ? undefined : "publicIp",
    privateKey ? undefined : "sshPrivateKey",
    hostPublicKey ? undefined : "sshHostPublicKey",
  ].filter((x): x is string => x !== undefined);
  if (!host || !privateKey || !hostPublicKey) {
    throw new Error(
      `the stack has no ${missing.join(", ")} output${missing.length > 1 ? "s" : ""}, needed to reach the VM's engine; run \`workshop up\` once with this version to add ${missing.length > 1 ? "them" : "it"}`,
    );
  }
  return {
    engine: { kind: "ssh", host, user: str(outputs.sshUser) ?? vmUser, privateKey, hostPublicKey },
    ...common,
  };
}
