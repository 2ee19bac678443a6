/**
 * `workshop reset`: a fresh notebook container for a student whose notebook is wedged, through the
 * stack itself. The stack's `resetGeneration` is counted up (the container's replacement trigger in
 * the program), and with `--token` its `tokenGeneration` (the token's keeper): `pulumi up` then
 * replaces the container, and the token, and nothing else; the volume with the student's files is
 * a resource of its own and stays.
 */
import type { ConfigValues, StackDriver } from "./driver";
import { configNamespace } from "../lib/rules/stack";
import { stackName, type WorkshopSettings } from "./settings";
import type { Student } from "./roster";

/** The full config keys of the reset counters. */
export const generationKeys = {
  container: `${configNamespace}:resetGeneration`,
  token: `${configNamespace}:tokenGeneration`,
} as const;

/** The counters a stack has: kept as they are by every update that is not a reset. */
export function keptGenerations(current: ConfigValues): ConfigValues {
  const out: ConfigValues = {};
  for (const key of Object.values(generationKeys)) {
    const value = current[key]?.value;
    if (value !== undefined) out[key] = { value, secret: false };
  }
  return out;
}

/**
 * The counters after a reset: the container's always one up, the token's too with `token`. A value
 * that is not a count (edited by hand) starts again from 1, which is still a change.
 */
export function nextGenerations(current: ConfigValues, token: boolean): ConfigValues {
  const next = (key: string): string => {
    const n = Number(current[key]?.value ?? "0");
    return String(Number.isSafeInteger(n) && n >= 0 ? n + 1 : 1);
  };
  return {
    ...keptGenerations(current),
    [generationKeys.container]: { value: next(generationKeys.container), secret: false },
    ...(token
      ? { [generationKeys.token]: { value: next(generationKeys.token), secret: false } }
      : {}),
  };
}

/**
 * Why each of `students` cannot be reset (no stack yet, or paused), one line each naming the fix;
 * empty when all can. Reads the backend only (selects are one at a time, see driver.ts).
 * @param invocation How the instructor runs the command, for the fixes.
 */
export async function resetProblems(
  driver: StackDriver,
  settings: WorkshopSettings,
  students: readonly Student[],
  invocation: string,
): Promise<string[]> {
  const existing = new Set((await driver.list()).map((s) => s.name));
  const problems: string[] = [];
  for (const s of students) {
    const stack = stackName(settings, s.id);
    if (!existing.has(stack) || !(await driver.select(stack, { create: false }))) {
      problems.push(
        `--student ${s.id}: has no stack yet, so nothing to reset; bring it up with \`${invocation} add --student ${s.id}\``,
      );
      continue;
    }
    const config = await driver.getConfig(stack);
    if (config[`${configNamespace}:power`]?.value === "shelved") {
      // The docker provider cannot reach a shelved VM's engine.
      problems.push(
        `--student ${s.id}: is paused (its VM is shelved); \`${invocation} resume --student ${s.id}\` first`,
      );
    }
  }
  return problems;
}
