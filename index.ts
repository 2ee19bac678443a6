/**
 * Entry point: reads the stack's config once, validates it before any resource is declared, runs
 * the composition (program.ts) and exports its outputs. Nothing else lives here.
 */
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, secretConfigKeys, type RawConfig } from "./lib/config";
import { InputError } from "./lib/rules/problems";
import { configNamespace as namespace } from "./lib/rules/stack";
import { gitInfo } from "./lib/gitInfo";
import { notebookStack } from "./program";

const config = new pulumi.Config(namespace);

/** Every `jetstream-notebooks:` key set on the stack, misspelt ones included (so they are reported). */
function rawConfig(): RawConfig {
  const raw: RawConfig = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    // Only a secret's presence is validated; its value is read later through requireSecret, so
    // it stays a secret Output. Pulumi.yaml declares it with an empty default: empty is unset.
    raw[key] = secretConfigKeys.has(key) ? (value ? "[secret]" : undefined) : value;
  }
  return raw;
}

function loadConfig() {
  try {
    return parseStackConfig(rawConfig(), { stackName: pulumi.getStack(), now: new Date() });
  } catch (e) {
    if (e instanceof InputError) {
      // RunError ends the program with this message alone, not a stack trace.
      throw new pulumi.RunError(e.message);
    }
    throw e;
  }
}

const cfg = loadConfig();
// Accepted settings that deserve attention (tls off, a self-signed certificate, the staging CA):
// shown on every preview and up, not only once.
for (const warning of cfg.warnings) void pulumi.log.warn(warning);
const pushes = cfg.image.kind === "build" && cfg.image.push !== undefined;
const outputs = notebookStack(cfg, {
  dockerHubToken: pushes ? config.requireSecret("dockerHubToken") : undefined,
  imageLabels: pushes ? gitInfo(__dirname) : undefined,
  localCpus: os.availableParallelism(),
});

export const notebookUrl = outputs.notebookUrl;
export const publicIp = outputs.publicIp;
export const hostname = outputs.hostname;
export const sshCommand = outputs.sshCommand;
export const sshPrivateKey = outputs.sshPrivateKey;
export const imageRef = outputs.imageRef;
export const student = outputs.student;
export const workshop = outputs.workshop;
export const expires = outputs.expires;
export const target = outputs.target;
