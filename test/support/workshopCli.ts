/**
 * The workshop command as an instructor types it, for tests: `run(argv, ...)` in-process in a fresh
 * folder holding workshop.yaml and roster.csv, with the simulated backend behind the driver, the
 * clock at {@link dayBeforeEnd} and streams the test reads.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { run, type RunOptions } from "../../workshop/cli";
import { SimulatedBackend, type SimOptions } from "./simulated-driver";
import { dayBeforeEnd, jetstreamSettings } from "./workshopFixtures";

/** A stream that keeps what is written to it; `isTTY` says whether it pretends to be a terminal. */
export class Text extends Writable {
  text = "";
  constructor(readonly isTTY = false) {
    super();
  }
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface WorkshopCliOptions {
  /** The simulated backend's options (a new backend per test). */
  backend?: () => SimOptions;
  /** Options every `cli()` call passes to `run`, before the call's own. */
  runOptions?: () => Partial<RunOptions>;
}

/**
 * Registers a `beforeEach` that makes a folder with the settings and a three-student roster (ada,
 * bob, cy) and starts a simulated backend, and an `afterEach` that removes both.
 */
export function useWorkshopCli(options: WorkshopCliOptions = {}) {
  const h = {
    dir: "",
    sim: undefined as unknown as SimulatedBackend,
    /** Writes workshop.yaml: the jetstream settings with `extra` over them. */
    writeSettings: (extra: Record<string, string> = {}): void => {
      fs.writeFileSync(
        path.join(h.dir, "workshop.yaml"),
        Object.entries({ ...jetstreamSettings, ...extra })
          .map(([k, v]) => `${k}: "${v}"`)
          .join("\n"),
      );
    },
    cli: async (argv: string[], opts: Partial<RunOptions> = {}): Promise<CliResult> => {
      const stdout = new Text();
      const stderr = new Text();
      const code = await run(argv, {
        stdout,
        stderr,
        env: {},
        cwd: h.dir,
        now: () => dayBeforeEnd,
        driverFactory: () => h.sim.driver,
        ...options.runOptions?.(),
        ...opts,
      });
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
  };
  beforeEach(async () => {
    h.dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-ws-cli-"));
    h.writeSettings();
    fs.writeFileSync(path.join(h.dir, "roster.csv"), "id,name\nada,Ada\nbob,Bob\ncy,Cy\n");
    h.sim = new SimulatedBackend(options.backend?.());
    await h.sim.start();
  });
  afterEach(async () => {
    await h.sim.stop();
    fs.rmSync(h.dir, { recursive: true, force: true });
  });
  return h;
}
