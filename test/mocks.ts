/**
 * The mock harness: runs a Pulumi program against mocks and records every resource it declares.
 *
 * `setMocks` comes first and the program's modules are imported only afterwards (callers import
 * them inside the function they pass to {@link runMocked}). Each resource is recorded twice over:
 * the mocks see its resolved inputs; a stack transformation sees the inputs as Outputs (so
 * secrecy is visible) and the options (parent, dependsOn, provider, ignoreChanges...). What this
 * cannot prove: providers, the engine's own transforms and hooks, and Docker or OpenStack really
 * accepting these inputs. The local spec test runs the recorded container on a real engine.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export const project = "jetstream-notebooks";

/** The floating IP the mocks hand out (a documentation address, RFC 5737). */
export const mockFloatingIp = "198.51.100.23";

export interface Recorded {
  type: string;
  name: string;
  /** The id the mocks gave it (undefined in a preview, which creates nothing). */
  id?: string;
  /** Inputs as the mocks received them: resolved, secrets unwrapped. */
  inputs: Record<string, unknown>;
  /** Top-level input names whose value is (or contains) a secret Output. */
  secretInputs: Set<string>;
  /** The parent's `type::name`, or undefined for the stack's direct children. */
  parent?: string;
  /** `type::name` of every explicit dependsOn. */
  dependsOn: string[];
  /** `type::name` of the explicit provider, if any. */
  provider?: string;
  /** `type::name` of the deletedWith resource, if any. */
  deletedWith?: string;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
  /** The replacementTrigger option, resolved (undefined when not given). */
  replacementTrigger?: unknown;
}

export interface MockOptions {
  /** Run as `pulumi preview` of a new stack: no resource reports computed outputs (but see existingInPreview). */
  preview?: boolean;
  stack?: string;
  /** What docker.Image reports as repoDigest for a local build (default a fixed fake id). */
  localImageId?: string;
  /** Outputs other stacks expose to a StackReference, by stack name. */
  stackOutputs?: Record<string, Record<string, unknown>>;
  /**
   * In a preview, type prefixes whose resources already exist (the preview of an update): they
   * report their ids and outputs; every other resource is new and reports only its inputs.
   */
  existingInPreview?: string[];
  /** The registry lookup answers no digest, as an engine not created yet does in a preview. */
  registryWithoutDigest?: boolean;
}

export interface RecordedInvoke {
  token: string;
  inputs: Record<string, unknown>;
}

export interface MockRun<T> {
  resources: Recorded[];
  /** Invoke tokens the program called, in order. */
  calls: string[];
  /** The same invokes with their inputs. */
  invokes: RecordedInvoke[];
  result: T;
}

/** Resolves an Output to its value (undefined when unknown, as in a preview). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Resolves whether an Output is known (false for a preview's computed values). */
export function isKnown<T>(output: pulumi.Output<T>): Promise<boolean> {
  // `isKnown` is internal on Output but part of its runtime shape since Pulumi 1.0.
  return (output as unknown as { isKnown: Promise<boolean> }).isKnown;
}

/** The value, or "<unknown>" in a preview that does not know it yet. */
async function knownOrMarker<T>(output: pulumi.Output<T>): Promise<T | "<unknown>"> {
  return (await isKnown(output)) ? promiseOf(output) : "<unknown>";
}

export function isSecret<T>(output: pulumi.Output<T>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** A stable fake digest derived from a name. */
export function fakeDigest(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

/** The digest the mocked registry reports for an image reference (such as the proxy's tag). */
export function registryDigest(reference: string): string {
  return `sha256:${fakeDigest(`registry:${reference}`)}`;
}

/** Well-formed OpenSSH key material (not a usable key), stable per resource name. */
export function fakeKeyPair(seed: string): { privateKeyOpenssh: string; publicKeyOpenssh: string } {
  const blob = Buffer.from(`fake-ed25519-${seed}`).toString("base64");
  return {
    privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${blob}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${blob}\n`,
  };
}

function computedOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  opts: MockOptions,
): Record<string, unknown> {
  switch (type) {
    case "openstack:compute/instance:Instance":
      return { accessIpV4: "10.0.0.15", name: inputs.name };
    case "openstack:networking/floatingIp:FloatingIp":
      return { address: mockFloatingIp };
    case "openstack:networking/port:Port":
      return { allFixedIps: ["10.0.0.15"], macAddress: "fa:16:3e:00:00:01" };
    case "openstack:compute/keypair:Keypair":
      return { fingerprint: "SHA256:fake" };
    case "tls:index/privateKey:PrivateKey":
      return { ...fakeKeyPair(name), privateKeyPem: "fake", publicKeyPem: "fake" };
    case "random:index/randomPassword:RandomPassword":
      // New keepers make a new password, as the provider replaces it.
      return {
        result: fakeDigest(
          inputs.keepers === undefined ? name : `${name} ${JSON.stringify(inputs.keepers)}`,
        ).slice(0, Number(inputs.length ?? 32)),
      };
    case "docker:index/image:Image": {
      const imageName = String(inputs.imageName);
      if (inputs.skipPush) {
        return { repoDigest: opts.localImageId ?? `sha256:${fakeDigest(imageName)}`, imageName };
      }
      const repo = imageName.replace(/:[^:/]+$/, "");
      return { repoDigest: `${repo}@sha256:${fakeDigest(imageName)}`, imageName };
    }
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:${fakeDigest(String(inputs.name))}`, repoDigest: inputs.name };
    case "docker:index/volume:Volume": {
      // Without a name the provider auto-names the volume, as Pulumi does: `<name>-<7 hex>`.
      const volume =
        typeof inputs.name === "string" ? inputs.name : `${name}-${fakeDigest(name).slice(0, 7)}`;
      return { name: volume, mountpoint: `/var/lib/docker/volumes/${volume}/_data` };
    }
    case "docker:index/container:Container":
      // Auto-named as the volumes are when the program gives no name.
      return {
        name:
          typeof inputs.name === "string" ? inputs.name : `${name}-${fakeDigest(name).slice(0, 7)}`,
        exitCode: undefined,
        networkDatas: [],
      };
    case "command:remote:Command":
      return { stdout: "ready", stderr: "" };
    case "command:local:Command":
      return { stdout: `${name} done`, stderr: "" };
    case "pulumi:pulumi:StackReference": {
      const stackName = String(inputs.name);
      const outputs = opts.stackOutputs?.[stackName];
      if (!outputs) throw new Error(`Mock not implemented: StackReference to ${stackName}`);
      return { outputs, secretOutputNames: [] };
    }
    default:
      return {};
  }
}

/** Outputs each provider SDK passes as additionalSecretOutputs (see their constructors). */
const secretOutputs: Record<string, string[]> = {
  "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
  "tls:index/privateKey:PrivateKey": ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"],
};

const key = (r: pulumi.Resource | undefined): Promise<string | undefined> =>
  r === undefined
    ? Promise.resolve(undefined)
    : promiseOf(r.urn).then((urn) => {
        // urn:pulumi:stack::project::parentType$type::name
        const [typePath, name] = urn.split("::").slice(2);
        return `${typePath.split("$").pop()}::${name}`;
      });

// How a secret value travels in serialized properties (the SDK's rpc.specialSigKey / secretSig).
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

/** The inputs with secret wrappers removed (secrecy is recorded separately, in secretInputs). */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[sigKey] === secretSig) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

async function containsSecret(value: unknown): Promise<boolean> {
  if (value === undefined) return false;
  // output() lifts nested Outputs, carrying their secrecy to the whole value.
  return pulumi.isSecret(pulumi.output(value));
}

function asResources(value: unknown): pulumi.Resource[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r));
}

/**
 * Runs `program` (which imports the project's modules itself, after the mocks are in place) as a
 * Pulumi stack under mocks, and returns what it declared.
 */
export async function runMocked<T>(
  program: () => Promise<T>,
  opts: MockOptions = {},
): Promise<MockRun<T>> {
  const inputsByKey = new Map<string, Record<string, unknown>>();
  const idsByKey = new Map<string, string>();
  const calls: string[] = [];
  const invokes: RecordedInvoke[] = [];
  const preview = opts.preview ?? false;
  let ids = 0;

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = args.inputs as Record<string, unknown>;
        inputsByKey.set(
          `${args.type}::${args.name}`,
          unwrapSecrets(inputs) as Record<string, unknown>,
        );
        const computed = computedOutputs(args.type, args.name, inputs, opts);
        // A preview of a new stack knows only what the program gave: no ids, no computed outputs.
        const exists =
          args.type === "pulumi:pulumi:StackReference" ||
          (opts.existingInPreview ?? []).some((prefix) => args.type.startsWith(prefix));
        if (preview && !exists) {
          return { id: undefined, state: inputs };
        }
        // The engine marks what a resource's SDK lists in additionalSecretOutputs as secret; the
        // mock monitor does not, so the mocks do it for the types that have such outputs.
        for (const k of secretOutputs[args.type] ?? []) {
          if (computed[k] !== undefined) computed[k] = pulumi.secret(computed[k]);
        }
        const id = `${args.name}-id-${++ids}`;
        idsByKey.set(`${args.type}::${args.name}`, id);
        return { id, state: { ...inputs, ...computed } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push(args.token);
        invokes.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        if (args.token === "openstack:networking/getNetwork:getNetwork") {
          const inputs = args.inputs as { name?: string };
          return { id: `net-${inputs.name}`, name: inputs.name, external: false };
        }
        if (args.token === "docker:index/getRegistryImage:getRegistryImage") {
          const inputs = args.inputs as { name: string };
          return {
            id: inputs.name,
            name: inputs.name,
            ...(opts.registryWithoutDigest ? {} : { sha256Digest: registryDigest(inputs.name) }),
          };
        }
        throw new Error(`Mock not implemented: ${args.token}`);
      },
    },
    project,
    opts.stack ?? "test",
    preview,
  );

  const pending: Promise<Recorded>[] = [];
  let result: T | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const o = args.opts as pulumi.CustomResourceOptions;
      pending.push(
        (async (): Promise<Recorded> => {
          const secretInputs = new Set<string>();
          for (const [k, v] of Object.entries(args.props)) {
            if (await containsSecret(v)) secretInputs.add(k);
          }
          const dependsOn = await Promise.all(asResources(await o.dependsOn).map((r) => key(r)));
          await promiseOf(args.resource.urn);
          return {
            type: args.type,
            name: args.name,
            inputs: {},
            secretInputs,
            parent: await key(o.parent),
            dependsOn: dependsOn.filter((d): d is string => d !== undefined),
            provider: await key(o.provider),
            deletedWith: await key(o.deletedWith),
            ignoreChanges: o.ignoreChanges ?? [],
            additionalSecretOutputs: o.additionalSecretOutputs ?? [],
            deleteBeforeReplace: o.deleteBeforeReplace ?? false,
            retainOnDelete: o.retainOnDelete ?? false,
            ...(o.replacementTrigger === undefined
              ? {}
              : { replacementTrigger: await knownOrMarker(pulumi.output(o.replacementTrigger)) }),
          };
        })(),
      );
      return undefined;
    });
    result = await program();
    return {};
  });

  const resources = await Promise.all(pending);
  // Let in-flight RPCs (components' registerOutputs) finish against these mocks, not the next run's.
  await pulumi.runtime.disconnect();
  for (const r of resources) {
    r.inputs = inputsByKey.get(`${r.type}::${r.name}`) ?? {};
    const id = idsByKey.get(`${r.type}::${r.name}`);
    if (id !== undefined) r.id = id;
  }
  return { resources, calls, invokes, result: result as T };
}

/** The one recorded resource of a type (and name, if given); throws unless exactly one. */
export function only(resources: Recorded[], type: string, name?: string): Recorded {
  const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  }
  return found[0];
}

/** Count of recorded resources by type, for exact inventory assertions. */
export function inventory(resources: Recorded[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}
