/**
 * What the program declares for one stack config, under mocks, by `type::name`; and the private
 * TMPDIR each test gets, since a jetstream stack writes its SSH identity files under it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseStackConfig, type RawConfig } from "../../lib/config";
import { runMocked, type Recorded } from "../mocks";

/** Registers a `beforeEach` that points TMPDIR at a fresh folder and an `afterEach` that removes it. */
export function usePrivateTmpdir(prefix: string): void {
  let tmp = "";
  const saved = process.env.TMPDIR;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    process.env.TMPDIR = tmp;
  });
  afterEach(() => {
    process.env.TMPDIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
}

/** Every resource the program declares for `raw` (stack `alice`, the clock at `now`). */
export async function declared(raw: RawConfig, now: Date): Promise<Map<string, Recorded>> {
  const run = await runMocked(async () => {
    const { notebookStack } = await import("../../program");
    return notebookStack(parseStackConfig(raw, { stackName: "alice", now }));
  });
  return new Map(run.resources.map((r) => [`${r.type}::${r.name}`, r]));
}
