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
