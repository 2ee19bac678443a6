/**
 * Local target ports tied to the student id, not to the roster's row order: a late student inserted
 * anywhere in the roster moves no one. A port once given is kept (read back from the stack).
 */
import { createHash } from "node:crypto";

/** How many ports from localPortBase a class's notebooks may use. */
export const localPortSpan = 1000;

/** The port an id prefers: a stable hash of the id into the span (never past 65535). */
export function preferredPort(id: string, base: number): number {
  const span = Math.min(localPortSpan, 65536 - base);
  return base + (createHash("sha256").update(id).digest().readUInt32BE(0) % span);
}

/**
 * Gives each id without a port the first free port from its preferred one, wrapping in the span;
 * `taken` (id -> port) is kept as it is. Ids are served in sorted order, so the result does not
 * depend on the roster's order.
 */
export function assignPorts(
  ids: readonly string[],
  taken: ReadonlyMap<string, number>,
  base: number,
): Map<string, number> {
  const span = Math.min(localPortSpan, 65536 - base);
  const out = new Map(taken);
  const used = new Set(taken.values());
  for (const id of [...ids].sort()) {
    if (out.has(id)) continue;
    const first = preferredPort(id, base) - base;
    for (let i = 0; i < span; i++) {
      const port = base + ((first + i) % span);
      if (!used.has(port)) {
        out.set(id, port);
        used.add(port);
        break;
      }
    }
    if (!out.has(id)) throw new Error(`no free local port from ${base} to ${base + span - 1}`);
  }
  return out;
}
