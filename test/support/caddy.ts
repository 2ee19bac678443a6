/**
 * The Caddy image for engine tests: the tag the proxy defaults to, pulled when the registry answers,
 * otherwise built from test/fixtures/caddy-standin (Debian's caddy package) under that same tag, as
 * .ci/base-image does for the notebook's base image.
 */
import * as path from "node:path";
import { defaultProxyImage } from "../../lib/tlsSettings";
import { docker, exec, repoRoot } from "./docker";

export const caddyStandinContext = path.join(repoRoot, "test", "fixtures", "caddy-standin");

let provided: Promise<{ tag: string; source: "present" | "pulled" | "stand-in" }> | undefined;

/** Makes `caddy:<default version>` available on the engine and says where it came from. */
export function caddyImage(): Promise<{ tag: string; source: "present" | "pulled" | "stand-in" }> {
  provided ??= (async () => {
    const tag = defaultProxyImage;
    if ((await exec("docker", ["image", "inspect", tag])).code === 0)
      return { tag, source: "present" };
    if ((await exec("docker", ["pull", "-q", tag], { timeoutMs: 60_000 })).code === 0) {
      return { tag, source: "pulled" };
    }
    await docker(["build", "--quiet", "--tag", tag, caddyStandinContext], {
      timeoutMs: 10 * 60_000,
    });
    return { tag, source: "stand-in" };
  })();
  return provided;
}
