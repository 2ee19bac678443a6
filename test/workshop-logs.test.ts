/**
 * Each student's Pulumi output goes to <handoutsDir>/logs/. A log that cannot be written (its folder
 * removed or made unwritable while forty updates run) must cost the log, never the run: a write
 * stream's error with no listener would end the whole workshop command.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Orchestrator } from "../workshop/orchestrator";
import { PlainReporter } from "../workshop/progress";
import { parseSettings } from "../workshop/settings";
import { SimulatedBackend } from "./support/simulated-driver";
import { Text } from "./support/workshopCli";
import { jetstreamSettings } from "./support/workshopFixtures";

test("a log folder that disappears during the run costs the logs, not the run", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-logs-"));
  const logDir = path.join(dir, "logs");
  const sim = new SimulatedBackend({
    // The folder goes while the first update runs, before its log file is opened for writing.
    latency: (op) => {
      if (op === "up") fs.rmSync(logDir, { recursive: true, force: true });
      return op === "up" ? 20 : 0;
    },
  });
  await sim.start();
  const crashes: unknown[] = [];
  const onError = (e: unknown) => crashes.push(e);
  process.on("uncaughtException", onError);
  try {
    const orch = new Orchestrator({
      driver: sim.driver,
      reporter: new PlainReporter(new Text(), () => new Date("2030-06-29T12:00:00Z")),
      probeIntervalMs: 20,
      probeTimeoutMs: 300,
      logDir,
    });
    const settings = parseSettings(jetstreamSettings, path.join(dir, "workshop.yaml"));
    const results = await orch.up(settings, [{ id: "ada", line: 2 }], { concurrency: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(results.map((r) => r.status)).toEqual(["ready"]);
    expect(crashes).toEqual([]);
  } finally {
    process.off("uncaughtException", onError);
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
