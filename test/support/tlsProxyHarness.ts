/**
 * Runs the TlsProxy component under Pulumi mocks and records what it declares: every resource with
 * its resolved inputs, and, through a transformation, its parent, provider and options. Used by the
 * mock tests, and by the engine test, which runs the recorded container spec on the real engine.
 *
 * Call `recordTlsProxy` once per test file: mocks are process-wide for the Pulumi SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import type { TlsProxyArgs } from "../../components/tlsProxy";

/** The digest the mocked registry reports for any tag. */
export const mockDigest = `sha256:${"ab".repeat(32)}`;

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs as the provider would receive them, outputs resolved. */
  inputs: Record<string, unknown>;
  /** Whether the resource is the TlsProxy's child, and on the docker Provider given to it. */
  parentIsComponent?: boolean;
  usesEngineProvider?: boolean;
  deleteBeforeReplace?: boolean;
  deletedWith?: pulumi.Resource;
  dependsOn?: pulumi.CustomResourceOptions["dependsOn"];
  /** The replacementTrigger option as given (a plain value in these tests). */
  replacementTrigger?: unknown;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** The value, or undefined while it is unknown (a preview's computed values). */
export async function knownValueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  // `isKnown` is internal on Output but part of its runtime shape since Pulumi 1.0.
  const known = await (output as unknown as { isKnown: Promise<boolean> }).isKnown;
  return known ? promiseOf(output) : undefined;
}

/** Computed outputs a type really has, on top of its inputs. */
function mockState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, repoDigest: inputs.name, imageId: `sha256:${"cd".repeat(32)}` };
    case "docker:index/volume:Volume":
      return {
        ...inputs,
        name: inputs.name ?? `${name}-4f2a9c1`,
        mountpoint: `/var/lib/docker/volumes/${name}/_data`,
      };
    case "docker:index/container:Container":
      return { ...inputs, name: inputs.name ?? `${name}-7e1b3d0`, exitCode: 0 };
    case "command:local:Command":
      return { ...inputs, stdout: `${name} passed`, stderr: "" };
    default:
      return inputs;
  }
}

export interface TlsProxyRecording {
  resources: RecordedResource[];
  calls: RecordedCall[];
  /** Undefined where unknown (in a preview). */
  outputs: {
    url?: string;
    imageRef?: string;
    containerName?: string;
    dataVolumeName?: string;
  };
}

/**
 * Declares a docker Provider and a TlsProxy with `args` (the provider is filled in) under mocks and
 * returns what was registered. `preview` sets Pulumi's dry-run flag: the readiness waits are skipped
 * then, as in a real preview.
 */
export async function recordTlsProxy(
  args:
    | Omit<TlsProxyArgs, "provider">
    | ((docker: typeof import("@pulumi/docker")) => Omit<TlsProxyArgs, "provider">),
  opts: {
    preview: boolean;
    name?: string;
    /** What the registry lookup answers; null: no digest, as from an engine not created yet. */
    registryDigest?: string | null;
  },
): Promise<TlsProxyRecording> {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  const options = new Map<
    string,
    Pick<
      RecordedResource,
      | "parentIsComponent"
      | "usesEngineProvider"
      | "deleteBeforeReplace"
      | "deletedWith"
      | "dependsOn"
      | "replacementTrigger"
    >
  >();
  await pulumi.runtime.setMocks(
    {
      newResource(a: pulumi.runtime.MockResourceArgs) {
        const state = mockState(a.type, a.name, a.inputs as Record<string, unknown>);
        resources.push({ type: a.type, name: a.name, inputs: a.inputs as Record<string, unknown> });
        // A preview creates nothing: commands have not run, so they have no output yet.
        if (opts.preview && a.type === "command:local:Command") {
          return { id: undefined, state: a.inputs as Record<string, unknown> };
        }
        return { id: `${a.name}-id`, state };
      },
      call(a: pulumi.runtime.MockCallArgs) {
        calls.push({ token: a.token, inputs: a.inputs as Record<string, unknown> });
        if (a.token === "docker:index/getRegistryImage:getRegistryImage") {
          const name = (a.inputs as { name: string }).name;
          const digest = opts.registryDigest === undefined ? mockDigest : opts.registryDigest;
          return { id: name, name, ...(digest === null ? {} : { sha256Digest: digest }) };
        }
        throw new Error(`Mock not implemented: ${a.token}`);
      },
    },
    "jetstream-notebooks",
    "test",
    opts.preview,
  );
  const docker = await import("@pulumi/docker");
  const { TlsProxy } = await import("../../components/tlsProxy");
  const provider = new docker.Provider("engine", { host: "ssh://ubuntu@192.0.2.10" });
  const seen = new Map<string, pulumi.CustomResourceOptions>();
  const proxy = new TlsProxy(
    opts.name ?? "proxy",
    { ...(typeof args === "function" ? args(docker) : args), provider },
    {
      transformations: [
        (t) => {
          seen.set(`${t.type}::${t.name}`, t.opts);
          return undefined;
        },
      ],
    },
  );
  for (const [key, o] of seen) {
    options.set(key, {
      parentIsComponent: o.parent === proxy,
      usesEngineProvider: o.provider === provider,
      ...(o.deleteBeforeReplace !== undefined
        ? { deleteBeforeReplace: o.deleteBeforeReplace }
        : {}),
      ...(o.deletedWith !== undefined ? { deletedWith: o.deletedWith } : {}),
      ...(o.dependsOn !== undefined ? { dependsOn: o.dependsOn } : {}),
      ...(o.replacementTrigger !== undefined
        ? { replacementTrigger: o.replacementTrigger as unknown }
        : {}),
    });
  }
  const outputs = {
    url: await knownValueOf(proxy.url),
    imageRef: await knownValueOf(proxy.imageRef),
    containerName: await knownValueOf(proxy.containerName),
    dataVolumeName: await knownValueOf(proxy.dataVolumeName),
  };
  return {
    resources: resources.map((r) => ({ ...r, ...(options.get(`${r.type}::${r.name}`) ?? {}) })),
    calls,
    outputs,
  };
}
