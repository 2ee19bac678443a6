/**
 * `workshop add`: a late student. Unlike `up --student ID`, which converges students whether or not
 * they have a stack, add is for students who have none yet: it refuses an id that already has a
 * stack (that is `up` or `reset`) and an id the roster does not have (the roster stays the one
 * list of the class), so a typo never creates a stray stack. Without --student it takes the
 * roster's rows that have no stack. The rest is `up` for those students alone: the whole roster
 * is still read and validated, and on target local ports stay tied to ids (localPorts.ts).
 */
import type { StackDriver } from "./driver";
import type { Student } from "./roster";
import { stackName, type WorkshopSettings } from "./settings";

export interface AddSelection {
  /** The students to bring up, in roster order. */
  students: Student[];
  /** Why the command must stop (exit 2), one line each naming the fix; empty when it may go on. */
  problems: string[];
  /** Nothing to do, and why (exit 0). */
  nothing?: string;
}

/**
 * Picks the students to add from the roster and the backend's stacks.
 * @param wanted The --student ids, or undefined for every roster row without a stack.
 * @param invocation How the instructor runs the command, for the fixes.
 */
export async function addSelection(
  driver: StackDriver,
  settings: WorkshopSettings,
  roster: readonly Student[],
  wanted: readonly string[] | undefined,
  invocation: string,
): Promise<AddSelection> {
  const existing = new Set((await driver.list()).map((s) => s.name));
  const has = (id: string) => existing.has(stackName(settings, id));
  if (wanted === undefined) {
    if (!roster.some((s) => has(s.id))) {
      return {
        students: [],
        problems: [
          `no student has a stack yet: bring the class up with \`${invocation} up\`; add is for students who join later`,
        ],
      };
    }
    const students = roster.filter((s) => !has(s.id));
    return students.length === 0
      ? {
          students,
          problems: [],
          nothing: "every student on the roster has a stack: nobody to add",
        }
      : { students, problems: [] };
  }
  const problems: string[] = [];
  for (const id of wanted) {
    if (!roster.some((s) => s.id === id)) {
      problems.push(
        `--student ${id}: not on the roster; add a row for the student to the roster first (id,name,email), then run add again`,
      );
    } else if (has(id)) {
      problems.push(
        `--student ${id}: already has a stack (${stackName(settings, id)}); \`${invocation} up --student ${id}\` updates it, \`${invocation} reset --student ${id}\` gives it a fresh container`,
      );
    }
  }
  return { students: roster.filter((s) => wanted.includes(s.id)), problems };
}
