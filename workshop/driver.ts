/**
 * The narrow interface between the workshop orchestration and Pulumi. The Automation API implements
 * it (automation.ts); tests and the benchmark put a simulated backend behind it
 * (simulated-driver.ts in test/support). Everything the orchestrator decides (what to create, retry,
 * export, destroy) is above this line, so it is tested without a cloud.
 */

import type { UpdateRecord } from "./power";

export type UpdateResult = "not-started" | "in-progress" | "succeeded" | "failed";

export interface StackInfo {
  name: string;
  /** ISO time of the last update, if any. */
  lastUpdate?: string;
  updateInProgress: boolean;
  resourceCount?: number;
}

/** Config values by full key (`jetstream-notebooks:student`). */
export type ConfigValues = Record<string, { value: string; secret: boolean }>;

export interface StackDriver {
  /** Every stack of the project in the backend. */
  list(): Promise<StackInfo[]>;
  /**
   * Selects the stack, creating it first when `create` is set; false when it does not exist and
   * `create` is not set. Not safe to run concurrently with another select on the same workspace
   * (pulumi/pulumi#8186): callers serialize it. Every other call needs the stack selected first.
   */
  select(stack: string, opts: { create: boolean }): Promise<boolean>;
  getConfig(stack: string): Promise<ConfigValues>;
  /** Sets `values` and removes `remove` (full keys). */
  setConfig(stack: string, values: ConfigValues, remove: string[]): Promise<void>;
  /** The result of the stack's last update, undefined when it never had one. */
  lastResult(stack: string): Promise<UpdateResult | undefined>;
  /**
   * Up to `limit` updates, newest first, with the `power` each ran with (status: "paused since").
   * Optional: without it status says only "paused".
   */
  updates?(stack: string, limit: number): Promise<UpdateRecord[]>;
  /** `pulumi up`; `log` receives the engine's output text as it comes. */
  up(stack: string, log: (line: string) => void): Promise<void>;
  /** Output values (secrets in plain text: the caller writes them only to 0600 files). */
  outputs(stack: string): Promise<Record<string, unknown>>;
  destroy(stack: string, log: (line: string) => void): Promise<void>;
  /** Removes the stack and its history from the backend; only after destroy. */
  remove(stack: string): Promise<void>;
}
