/**
 * The engine project runs its suites one at a time; a suite that drives the real Docker engine but
 * is left in the parallel unit project builds images and starts containers beside the others, and
 * its timing assertions fail under the load. Every such suite must be listed as an engine suite.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./support/docker";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's own config is CommonJS
const config = require(path.join(repoRoot, "jest.config.js")) as {
  projects: { displayName: string; testMatch: string[] }[];
};

test("every suite that drives the Docker engine runs in the engine project", () => {
  const engine = config.projects.find((p) => p.displayName === "engine");
  const listed = new Set(engine?.testMatch.map((m) => path.basename(m)));
  const testDir = path.join(repoRoot, "test");
  const driving = fs
    .readdirSync(testDir)
    // This file names the markers it looks for, so it is not one of them.
    .filter((f) => f.endsWith(".test.ts") && f !== path.basename(__filename))
    .filter((f) =>
      /describeWithDocker|notebookImage\(\)/.test(fs.readFileSync(path.join(testDir, f), "utf8")),
    );
  expect(driving.length).toBeGreaterThan(0);
  expect(driving.filter((f) => !listed.has(f))).toEqual([]);
});
