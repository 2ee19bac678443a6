/**
 * StackDriver over Pulumi's Automation API, running the project's own program (index.ts at the
 * repository root, the one `pulumi up` runs by hand) for each student's stack. Needs the Pulumi CLI
 * on PATH. Backend and secrets come from the environment as for the CLI: PULUMI_BACKEND_URL (or the
 * settings' backend.url), PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE(_FILE), AWS_* for S3.
 */
import {
  LocalWorkspace,
  StackNotFoundError,
  type ConfigMap,
  type PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { Mutex } from "./concurrency";
import type { ConfigValues, StackDriver, StackInfo, UpdateResult } from "./driver";
import { PulumiProcesses } from "./pulumi-process";
import type { UpdateRecord } from "./power";

export interface AutomationDriverOptions {
  /** The folder holding Pulumi.yaml and index.ts. */
  workDir: string;
  /** Backend URL unless the environment already sets PULUMI_BACKEND_URL. */
  backendUrl?: string;
  /** For new stacks: `passphrase` or a KMS URL; the backend's default when undefined. */
  secretsProvider?: string;
  /** Runs the CLI; one per workshop process, so signals reach every child it started. */
  processes?: PulumiProcesses;
}

export class AutomationDriver implements StackDriver {
  private readonly stacks = new Map<string, Stack>();
  // The orchestrator already serializes selects; this lock keeps the driver safe for any other caller.
  private readonly selectLock = new Mutex();
  private readonly envVars: Record<string, string>;
  private workspace?: Promise<LocalWorkspace>;
  private command?: Promise<PulumiCommand>;
  readonly processes: PulumiProcesses;

  constructor(private readonly opts: AutomationDriverOptions) {
    this.processes = opts.processes ?? new PulumiProcesses();
    this.envVars = {};
    if (!process.env.PULUMI_BACKEND_URL && opts.backendUrl) {
      this.envVars.PULUMI_BACKEND_URL = opts.backendUrl;
    }
  }

  private pulumiCommand(): Promise<PulumiCommand> {
    this.command ??= this.processes.pulumiCommand(this.opts.workDir);
    return this.command;
  }

  private ws(): Promise<LocalWorkspace> {
    this.workspace ??= this.pulumiCommand().then((pulumiCommand) =>
      LocalWorkspace.create({ workDir: this.opts.workDir, envVars: this.envVars, pulumiCommand }),
    );
    return this.workspace;
  }

  private stack(name: string): Stack {
    const s = this.stacks.get(name);
    if (!s)
      throw new Error(`stack ${name} used before it was selected (a bug in the workshop command)`);
    return s;
  }

  async list(): Promise<StackInfo[]> {
    const stacks = await (await this.ws()).listStacks();
    return stacks.map((s) => ({
      name: s.name,
      lastUpdate: s.lastUpdate,
      updateInProgress: s.updateInProgress ?? false,
      resourceCount: s.resourceCount,
    }));
  }

  select(name: string, { create }: { create: boolean }): Promise<boolean> {
    return this.selectLock.run(async () => {
      const args = { stackName: name, workDir: this.opts.workDir };
      const wsOpts = {
        envVars: this.envVars,
        secretsProvider: this.opts.secretsProvider,
        pulumiCommand: await this.pulumiCommand(),
      };
      try {
        const s = create
          ? await LocalWorkspace.createOrSelectStack(args, wsOpts)
          : await LocalWorkspace.selectStack(args, wsOpts);
        this.stacks.set(name, s);
        return true;
      } catch (e) {
        if (!create && e instanceof StackNotFoundError) return false;
        throw e;
      }
    });
  }

  async getConfig(name: string): Promise<ConfigValues> {
    const all = await this.stack(name).getAllConfig();
    const out: ConfigValues = {};
    for (const [k, v] of Object.entries(all))
      out[k] = { value: v.value, secret: v.secret ?? false };
    return out;
  }

  async setConfig(name: string, values: ConfigValues, remove: string[]): Promise<void> {
    const s = this.stack(name);
    const plain: ConfigMap = {};
    for (const [k, v] of Object.entries(values)) {
      if (v.secret) {
        // The Automation API puts every value on the command line (`config set-all --secret k=v`),
        // where any local user can read it; `config set --secret` without a value reads stdin.
        await this.processes.run(
          ["config", "set", k, "--secret", "--stack", name, "--non-interactive"],
          { cwd: this.opts.workDir, env: this.envVars, stdin: v.value },
        );
      } else {
        plain[k] = { value: v.value, secret: false };
      }
    }
    if (Object.keys(plain).length > 0) await s.setAllConfig(plain);
    if (remove.length > 0) await s.removeAllConfig(remove);
  }

  async lastResult(name: string): Promise<UpdateResult | undefined> {
    const [last] = await this.stack(name).history(1);
    return last?.result;
  }

  async updates(name: string, limit: number): Promise<UpdateRecord[]> {
    const history = await this.stack(name).history(limit);
    return history.map((u) => ({
      result: u.result,
      time: (u.endTime ?? u.startTime)?.toISOString(),
      power: u.config?.["jetstream-notebooks:power"]?.value,
      kind: u.kind,
      flavor: u.config?.["jetstream-notebooks:flavor"]?.value,
    }));
  }

  async up(name: string, log: (text: string) => void): Promise<void> {
    await this.stack(name).up({ onOutput: log, color: "never" });
  }

  async outputs(name: string): Promise<Record<string, unknown>> {
    const out = await this.stack(name).outputs();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value as unknown]));
  }

  async destroy(name: string, log: (text: string) => void): Promise<void> {
    await this.stack(name).destroy({ onOutput: log, color: "never" });
  }

  async remove(name: string): Promise<void> {
    await (await this.ws()).removeStack(name);
    this.stacks.delete(name);
  }
}
