/**
 * Each student's notebook link as their stack last recorded it (its `notebookUrl` output), read
 * without an update: what `workshop cards` and `workshop mail` print and send. A student without a
 * stack, or whose stack has no link, is returned without one and with the reason.
 */
import type { StackDriver } from "./driver";
import type { HandoutEntry } from "./handouts";
import type { Student } from "./roster";
import { stackName, type WorkshopSettings } from "./settings";

/**
 * @param driver The backend; stacks are selected one at a time (concurrent selects corrupt a
 *   workspace, pulumi/pulumi#8186).
 * @param redact Applied to every error text kept in an entry's detail.
 */
export async function readStudentLinks(
  driver: StackDriver,
  settings: WorkshopSettings,
  students: readonly Student[],
  redact: (text: string) => string,
): Promise<HandoutEntry[]> {
  const entries: HandoutEntry[] = [];
  for (const student of students) {
    const base = { id: student.id, name: student.name, email: student.email };
    const stack = stackName(settings, student.id);
    try {
      if (!(await driver.select(stack, { create: false }))) {
        entries.push({ ...base, status: "no stack", detail: "no stack yet: run up" });
        continue;
      }
      const outputs = await driver.outputs(stack);
      const url = outputs.notebookUrl;
      const hostname = typeof outputs.hostname === "string" ? outputs.hostname : undefined;
      entries.push(
        typeof url === "string" && url !== ""
          ? { ...base, status: "ready", url, hostname, detail: `from ${stack}'s outputs` }
          : {
              ...base,
              status: "no link",
              hostname,
              detail: `${stack} has no notebookUrl output: run up for this student`,
            },
      );
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      entries.push({ ...base, status: "failed", detail: redact(why.split("\n")[0]) });
    }
  }
  return entries;
}
