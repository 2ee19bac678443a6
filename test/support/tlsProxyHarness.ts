/**
 * Declares a docker Provider and one TlsProxy under the project's mock harness (test/mocks.ts) and
 * returns what was recorded. Used by the mock tests, and by the engine test, which runs the recorded
 * container spec on the real engine. The readiness waits reach the network only through
 * `readinessDeps`, which the caller passes in (test/support/answeringNetwork.ts answers them).
 */
import type { ReadinessDeps } from "../../lib/httpsReadiness";
import type { TlsProxyArgs } from "../../components/tlsProxy";
import * as pulumi from "@pulumi/pulumi";
import { isKnown, promiseOf, runMocked, type MockRun, type Recorded } from "../mocks";

/** An Output's value, or undefined when it is unknown (a preview of a new stack). */
async function valueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  return (await isKnown(output)) ? promiseOf(output) : undefined;
}

/** The engine provider's and component's keys as `Recorded` names them (`type::name`). */
export const engineProvider = "pulumi:providers:docker::engine";
export const componentKey = (name: string) => `jetstream-notebooks:tls:TlsProxy::${name}`;

export interface TlsProxyRecording extends MockRun<{
  url?: string;
  imageRef?: string;
  containerName?: string;
  dataVolumeName?: string;
}> {
  /** The recorded resources of one type. */
  ofType(type: string): Recorded[];
}

type ProxyArgs = Omit<TlsProxyArgs, "provider" | "readinessDeps">;

/**
 * Records a TlsProxy named `opts.name` (default `proxy`) with `args`, on a docker Provider named
 * `engine`. `args` may be a function of the docker SDK, to declare resources the proxy orders
 * against. `preview` sets Pulumi's dry-run flag: the readiness waits are skipped then, as in a real
 * preview.
 */
export async function recordTlsProxy(
  args: ProxyArgs | ((docker: typeof import("@pulumi/docker")) => ProxyArgs),
  opts: { preview: boolean; name?: string; readinessDeps?: ReadinessDeps },
): Promise<TlsProxyRecording> {
  const run = await runMocked(
    async () => {
      const docker = await import("@pulumi/docker");
      const { TlsProxy } = await import("../../components/tlsProxy");
      const provider = new docker.Provider("engine", { host: "ssh://ubuntu@192.0.2.10" });
      const proxy = new TlsProxy(opts.name ?? "proxy", {
        ...(typeof args === "function" ? args(docker) : args),
        provider,
        ...(opts.readinessDeps ? { readinessDeps: opts.readinessDeps } : {}),
      });
      return {
        url: await valueOf(proxy.url),
        imageRef: await valueOf(proxy.imageRef),
        containerName: await valueOf(proxy.containerName),
        dataVolumeName: await valueOf(proxy.dataVolumeName),
      };
    },
    { preview: opts.preview },
  );
  return { ...run, ofType: (type) => run.resources.filter((r) => r.type === type) };
}
