/**
 * Which existing stack the workshop command may update, and what it keeps of the stack's own
 * config: a stack's stackPrefix names its VM, so changing it would replace the VM and its disk.
 */
import { ownerProblem, stackPrefixConfig } from "../workshop/orchestrator";

const ns = "jetstream-notebooks";
const config = (values: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(values).map(([k, v]) => [`${ns}:${k}`, { value: v, secret: false }]),
  );

describe("stackPrefix of an existing stack", () => {
  test("a new stack gets the settings' stackPrefix", () => {
    expect(stackPrefixConfig({}, "fall")).toEqual(config({ stackPrefix: "fall" }));
  });

  test("a stack made before stackPrefix existed is left without one", () => {
    expect(stackPrefixConfig(config({ workshop: "intro", student: "ada" }), "fall")).toEqual({});
  });

  test("a stack's own stackPrefix is kept, never rewritten to the settings' value", () => {
    const current = config({ workshop: "intro", student: "ada", stackPrefix: "Intro" });
    expect(stackPrefixConfig(current, "intro")).toEqual(config({ stackPrefix: "Intro" }));
  });

  test("a stack whose stackPrefix is not the settings' is another workshop's: refused, with the fix", () => {
    const current = config({ workshop: "intro", student: "ada", stackPrefix: "spring" });
    expect(ownerProblem(current, "intro", "ada", "intro-ada", "fall")).toMatch(
      /stackPrefix spring, not fall: refusing to take it over/,
    );
    expect(ownerProblem(current, "intro", "ada", "intro-ada", "spring")).toBeUndefined();
    // Made before stackPrefix: nothing to compare, the workshop and student decide.
    const older = config({ workshop: "intro", student: "ada" });
    expect(ownerProblem(older, "intro", "ada", "intro-ada", "fall")).toBeUndefined();
  });
});
