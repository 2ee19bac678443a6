/**
 * Declares a docker Provider and a TlsProxy under the project's mock harness (test/mocks.ts) and
 * returns what was recorded, with the proxy's outputs. Used by the mock tests, and by the engine
 * test, which runs the recorded container spec on the real engine.
 */
import type { TlsProxyArgs } from "../../components/tlsProxy";
import { isKnown, promiseOf, runMocked, type MockRun } from "../mocks";
import type * as pulumi from "@pulumi/pulumi";

/** `type::name` of the provider every proxy here is given, as Recorded.provider names it. */
export const engineProvider = "pulumi:providers:docker::engine";

/** `type::name` of a proxy of that name, as Recorded.parent names it. */
export const proxyKey = (name: string): string => `jetstream-notebooks:tls:TlsProxy::${name}`;

export interface TlsProxyRecording extends Omit<MockRun<unknown>, "result"> {
  /** Undefined where unknown (in a preview). */
  outputs: {
    url?: string;
    imageRef?: string;
    containerName?: string;
    dataVolumeName?: string;
  };
}

async function knownValueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  return (await isKnown(output)) ? promiseOf(output) : undefined;
}

/**
 * Declares the proxy with `args` (the provider is filled in). `preview` runs it as a preview in
 * which the engine's resources exist but the readiness waits run anew: they have no output yet, so
 * the URL is unknown.
 */
export async function recordTlsProxy(
  args:
    | Omit<TlsProxyArgs, "provider">
    | ((docker: typeof import("@pulumi/docker")) => Omit<TlsProxyArgs, "provider">),
  opts: {
    preview: boolean;
    name?: string;
    /** The registry lookup answers no digest, as from an engine not created yet. */
    registryWithoutDigest?: boolean;
  },
): Promise<TlsProxyRecording> {
  const { result, ...run } = await runMocked(
    async () => {
      const docker = await import("@pulumi/docker");
      const { TlsProxy } = await import("../../components/tlsProxy");
      const provider = new docker.Provider("engine", { host: "ssh://ubuntu@192.0.2.10" });
      const proxy = new TlsProxy(opts.name ?? "proxy", {
        ...(typeof args === "function" ? args(docker) : args),
        provider,
      });
      return {
        url: await knownValueOf(proxy.url),
        imageRef: await knownValueOf(proxy.imageRef),
        containerName: await knownValueOf(proxy.containerName),
        dataVolumeName: await knownValueOf(proxy.dataVolumeName),
      };
    },
    {
      preview: opts.preview,
      existingInPreview: ["docker:", "pulumi:providers:"],
      registryWithoutDigest: opts.registryWithoutDigest,
    },
  );
  return { ...run, outputs: result };
}
