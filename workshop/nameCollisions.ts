/**
 * Stack names this workshop shares with another. `<stackPrefix>-<student>` is ambiguous: prefix
 * `intro-py` student `ada` and prefix `intro` student `py-ada` are one stack, `intro-py-ada`. `up`
 * refuses a stack whose config names another workshop or student (orchestrator.ts, ownerProblem);
 * `plan` says so beforehand, from the stack names alone (reading forty stacks' config would take
 * minutes), with the evidence it found. Physical names are unique for stacks the workshop command
 * creates (lib/physicalName.ts): what collides here is the stack, not a VM.
 */
import type { Student } from "./roster";
import { stackName, type WorkshopSettings } from "./settings";

/**
 * One warning per student whose stack name another workshop may hold:
 * - the stack exists, and splitting its name at another hyphen gives a stack prefix the backend
 *   shows in use (another of its stacks, not one of this roster's, starts with it);
 * - or an existing stack's name differs from the student's only in letter case (after
 *   normalisation they are one file of a file backend on a case-insensitive disk).
 * Pure.
 * @param existingStacks Every stack name the backend holds for this project.
 */
export function nameCollisions(
  settings: WorkshopSettings,
  students: readonly Student[],
  existingStacks: ReadonlySet<string>,
): string[] {
  const prefix = settings.stackPrefix;
  const ours = new Set(students.map((s) => stackName(settings, s.id)));
  const byCase = new Map<string, string[]>();
  for (const name of existingStacks) {
    const folded = name.toLowerCase();
    byCase.set(folded, [...(byCase.get(folded) ?? []), name]);
  }
  const out: string[] = [];
  for (const student of students) {
    const stack = stackName(settings, student.id);
    for (const other of byCase.get(stack.toLowerCase()) ?? []) {
      if (other === stack) continue;
      out.push(
        `student ${student.id}: stack ${stack} and the existing stack ${other} differ only in letter case: a file backend on a case-insensitive disk (macOS, Windows) keeps them in one file. Choose a stackPrefix no other workshop uses in any case.`,
      );
    }
    if (!existingStacks.has(stack)) continue;
    for (const [otherPrefix, otherStudent] of splits(stack)) {
      if (otherPrefix === prefix) continue;
      const evidence = [...existingStacks]
        .filter(
          (name) =>
            name.startsWith(`${otherPrefix}-`) &&
            !ours.has(name) &&
            // A shorter prefix than ours also begins this workshop's own stacks, past and present.
            !(otherPrefix.length < prefix.length && name.startsWith(`${prefix}-`)),
        )
        .sort();
      if (evidence.length === 0) continue;
      const shown = evidence.length > 5 ? [...evidence.slice(0, 5), "..."] : evidence;
      out.push(
        `student ${student.id}: stack ${stack} exists and may be stack prefix ${otherPrefix}'s student ${otherStudent} (the backend also holds ${shown.join(", ")}); \`up\` refuses it if its config names another workshop or student. Give this workshop a stackPrefix of its own if it is not yours.`,
      );
    }
  }
  return out;
}

/** Every way to read `stack` as `<prefix>-<student>`. */
function splits(stack: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = stack.indexOf("-"); i > 0; i = stack.indexOf("-", i + 1)) {
    if (i + 1 < stack.length) out.push([stack.slice(0, i), stack.slice(i + 1)]);
  }
  return out;
}
