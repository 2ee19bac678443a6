/**
 * The Caddy image for engine tests: the official image at the tag the proxy defaults to, when the
 * engine has it or the registry answers; otherwise a stand-in built from test/fixtures/caddy-standin
 * (Debian's caddy package). The stand-in carries a project-owned name, never the official tag, so
 * that on an engine shared with other projects `caddy:<version>` always means the real image.
 */
import * as path from "node:path";
import { defaultProxyImage } from "../../lib/tlsSettings";
import { docker, exec, repoRoot } from "./docker";

export const caddyStandinContext = path.join(repoRoot, "test", "fixtures", "caddy-standin");

/** The stand-in's tag: this project's name, then the version it stands in for. */
export const caddyStandinTag = `jetstream-notebooks-test/caddy-standin:${defaultProxyImage.split(":")[1]}`;

let provided: Promise<{ tag: string; source: "present" | "pulled" | "stand-in" }> | undefined;

/** A Caddy image on the engine, and where it came from (tests print it beside their results). */
export function caddyImage(): Promise<{ tag: string; source: "present" | "pulled" | "stand-in" }> {
  provided ??= (async () => {
    const tag = defaultProxyImage;
    if ((await exec("docker", ["image", "inspect", tag])).code === 0)
      return { tag, source: "present" };
    if ((await exec("docker", ["pull", "-q", tag], { timeoutMs: 60_000 })).code === 0) {
      return { tag, source: "pulled" };
    }
    await docker(["build", "--quiet", "--tag", caddyStandinTag, caddyStandinContext], {
      timeoutMs: 10 * 60_000,
    });
    return { tag: caddyStandinTag, source: "stand-in" };
  })();
  return provided;
}
