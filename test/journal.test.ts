/** A damaged down-journal.json is one clear problem naming the file, never a bare SyntaxError. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../lib/rules/problems";
import { Journal } from "../workshop/journal";

let dir = "";
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-journal-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([
  ["cut off mid-write", '{"version": 1, "stacks": {"intro-ada": {"stud'],
  ["stacks null", '{"version": 1, "stacks": null}'],
  ["stacks a list", '{"version": 1, "stacks": []}'],
  ["an entry that is not an object", '{"version": 1, "stacks": {"intro-ada": 5}}'],
  ["not an object", "null"],
])("%s", async (_what, text) => {
  const file = path.join(dir, "down-journal.json");
  fs.writeFileSync(file, text);
  const error = await Journal.open(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message).toBe(
    `${file} has 1 problem(s):\n  is not a down journal this version can read; move it aside (the stacks it lists are kept) and run the command again`,
  );
});

test("a missing journal is an empty one", async () => {
  const journal = await Journal.open(dir);
  expect(journal.get("intro-ada")).toBeUndefined();
});

describe("two writers of one journal", () => {
  // Two processes (a second workshop sharing the export folder, a run left over) each hold the
  // journal they opened; every write re-reads the file and merges, so neither loses the other's steps.
  test("entries and fields each writer recorded all survive", async () => {
    const first = await Journal.open(dir);
    const second = await Journal.open(dir);
    const exported = { at: "2030-06-30T10:00:00Z", files: 3, bytes: 42, archiveSha256: "ab" };
    await first.record("intro-ada", "ada", { exported });
    await second.record("intro-bob", "bob", { exportError: "engine unreachable" });
    await first.record("intro-cy", "cy", { forced: true });
    await second.record("intro-ada", "ada", { destroyed: "2030-06-30T10:05:00Z" });
    const after = await Journal.open(dir);
    expect(after.get("intro-ada")).toEqual({
      student: "ada",
      exported,
      destroyed: "2030-06-30T10:05:00Z",
    });
    expect(after.get("intro-bob")).toEqual({ student: "bob", exportError: "engine unreachable" });
    expect(after.get("intro-cy")).toEqual({ student: "cy", forced: true });
    // A writer sees what the other recorded once it has written again.
    expect(first.get("intro-bob")?.exportError).toBe("engine unreachable");
  });

  test("a journal damaged between writes is refused, not overwritten", async () => {
    const writer = await Journal.open(dir);
    await writer.record("intro-ada", "ada", { forced: true });
    const file = path.join(dir, "down-journal.json");
    fs.writeFileSync(file, '{"version": 1, "stacks": {"intro-ada": {"stud');
    await expect(writer.record("intro-bob", "bob", { forced: true })).rejects.toThrow(
      "is not a down journal this version can read",
    );
    expect(fs.readFileSync(file, "utf8")).toBe('{"version": 1, "stacks": {"intro-ada": {"stud');
  });
});
