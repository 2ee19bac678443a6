import { pausedSince, type UpdateRecord } from "../workshop/power";

const u = (time: string, power?: string, result = "succeeded"): UpdateRecord => ({
  result,
  time,
  power,
});

test.each<[string, UpdateRecord[], boolean, string | undefined]>([
  ["never paused", [u("t3", "active"), u("t2")], true, undefined],
  ["shelved by the newest update", [u("t3", "shelved"), u("t2", "active")], false, "t3"],
  [
    "kept shelved by later ups",
    [u("t5", "shelved"), u("t4", "shelved"), u("t3", "shelved"), u("t2")],
    false,
    "t3",
  ],
  [
    "a failed shelving attempt does not date the pause",
    [u("t4", "shelved"), u("t3", "shelved", "failed"), u("t2", "active")],
    false,
    "t4",
  ],
  [
    "the history read does not reach the pause",
    [u("t5", "shelved"), u("t4", "shelved")],
    false,
    undefined,
  ],
  ["the whole history is paused", [u("t5", "shelved"), u("t4", "shelved")], true, "t4"],
])("%s", (_label, history, complete, expected) => {
  expect(pausedSince(history, complete)).toBe(expected);
});
