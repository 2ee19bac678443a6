/**
 * HTTPS in front of one notebook: Caddy in its own container on the notebook's Docker engine, on 80
 * and 443 of the host, reaching the notebook over a private Docker network, with a certificate for the
 * instance's DNS name. The URL is reported only once HTTPS answers with that certificate.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type ProxyTlsMode, renderCaddyfile } from "../lib/caddyfile";
import {
  nodeReadinessDeps,
  type ReadinessDeps,
  waitForDns,
  waitForHttps,
} from "../lib/httpsReadiness";
import { imageRepository, isDigestPinned } from "../lib/rules/imageRef";
import { jupyterPort } from "../lib/rules/stack";
import { defaultProxyImage, isPubliclyTrusted } from "../lib/tlsSettings";

export interface TlsProxyArgs {
  /**
   * The Docker engine the notebook runs on (the instance's, over SSH). The proxy's image, volumes
   * and container are created there; the image's tag is resolved to a digest through it too.
   */
  provider: docker.Provider;
  /**
   * Name (or id) of the user-defined Docker network the notebook container is attached to. The
   * proxy joins it and reaches the notebook by container name; the notebook publishes no port.
   */
  network: pulumi.Input<string>;
  /** The notebook's address on that network: its container name. */
  upstreamHost: pulumi.Input<string>;
  /** The notebook's port inside its container. Default 8888. */
  upstreamPort?: pulumi.Input<number>;
  /**
   * The DNS name students open, `<instance>.<allocation>.projects.jetstream-cloud.org` on
   * Jetstream2. The certificate is issued for it; it must resolve to this host.
   */
  hostname: pulumi.Input<string>;
  /**
   * `letsencrypt` (default): a browser-trusted ACME certificate, validated over HTTP-01 on port 80.
   * `self-signed`: a certificate from Caddy's internal CA; browsers warn. (`tls: off` has no proxy.)
   */
  mode?: pulumi.Input<ProxyTlsMode>;
  /** ACME account email; with the default CA it also enables Caddy's ZeroSSL fallback. letsencrypt only. */
  acmeEmail?: pulumi.Input<string>;
  /**
   * ACME directory URL, e.g. Let's Encrypt staging for rehearsals. Default: Caddy's CAs (Let's
   * Encrypt, then ZeroSSL when `acmeEmail` is set). letsencrypt only.
   */
  acmeCa?: pulumi.Input<string>;
  /**
   * Caddy image: a version tag (default `caddy:2.11.4`, the official image), resolved to its registry
   * digest at deploy time, or a digest-pinned reference (`caddy@sha256:...`) used as given. The
   * container always runs a digest.
   */
  image?: pulumi.Input<string>;
  /**
   * The address the hostname must resolve to (the floating IP) before the proxy starts. Unset: any
   * address will do.
   */
  expectedAddress?: pulumi.Input<string>;
  /** How long to wait for DNS, and then for HTTPS with a valid certificate. Default 15 minutes each. */
  readinessTimeoutMinutes?: pulumi.Input<number>;
  /**
   * How the readiness waits reach the network: the system resolver and an HTTPS client by default.
   * A benchmark evaluating many stacks without a network passes answers here instead.
   */
  readinessDeps?: ReadinessDeps;
  /**
   * Resources every Docker resource here waits for (a VM's readiness gate, the notebook container):
   * nothing touches the engine before they are done.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * The resource whose deletion takes the engine with it (the VM): the proxy's Docker resources are
   * `deletedWith` it, so a destroy does not reach over SSH into a VM that is going away.
   */
  deletedWith?: pulumi.Resource;
}

export class TlsProxy extends pulumi.ComponentResource {
  /** `https://<hostname>/`, known only once HTTPS answers there with a valid certificate. */
  public readonly url: pulumi.Output<string>;
  /** The digest-pinned image reference the proxy container runs. */
  public readonly imageRef: pulumi.Output<string>;
  /** The proxy container's name on the engine (for `docker logs`). */
  public readonly containerName: pulumi.Output<string>;
  /** The volume holding Caddy's certificates and ACME account (`/data`). */
  public readonly dataVolumeName: pulumi.Output<string>;

  constructor(name: string, args: TlsProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("jetstream-notebooks:tls:TlsProxy", name, {}, opts);
    const provider = args.provider;
    const child: pulumi.CustomResourceOptions = {
      parent: this,
      provider,
      ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}),
      ...(args.deletedWith ? { deletedWith: args.deletedWith } : {}),
    };
    const mode = pulumi.output(args.mode ?? "letsencrypt");
    const timeoutMs = pulumi
      .output(args.readinessTimeoutMinutes ?? 15)
      .apply((minutes) => Math.round(minutes * 60_000));
    const log = (message: string) => void pulumi.log.info(message, this);
    const deps = args.readinessDeps ?? nodeReadinessDeps(log);

    // The image by digest: a tag is looked up in its registry now, so every container runs a digest
    // and an unchanged tag never rolls the proxy.
    this.imageRef = pulumi
      .output(args.image ?? defaultProxyImage)
      .apply((reference) =>
        isDigestPinned(reference)
          ? pulumi.output(reference)
          : docker
              .getRegistryImageOutput({ name: reference }, { parent: this, provider })
              .apply((found) => `${imageRepository(reference)}@${found.sha256Digest}`),
      );
    const image = new docker.RemoteImage(
      `${name}-image`,
      { name: this.imageRef, keepLocally: true },
      child,
    );

    // Certificates and the ACME account live in /data: kept across container replacements, since
    // every new certificate counts against Let's Encrypt's limits.
    const data = new docker.Volume(`${name}-data`, {}, child);
    const config = new docker.Volume(`${name}-config`, {}, child);

    // The proxy starts once the name resolves: Caddy asks the CA at once, and each failed validation
    // of a name that does not resolve yet uses up Let's Encrypt's allowance of 5 per hour.
    const resolvedHostname = pulumi
      .all([args.hostname, args.expectedAddress, timeoutMs])
      .apply(async ([hostname, expectedAddress, timeout]) => {
        if (pulumi.runtime.isDryRun()) return hostname;
        await waitForDns(
          { hostname, ...(expectedAddress ? { expectedAddress } : {}), timeoutMs: timeout },
          deps,
        );
        return hostname;
      });

    const caddyfile = pulumi
      .all([
        resolvedHostname,
        mode,
        args.upstreamHost,
        args.upstreamPort ?? jupyterPort,
        args.acmeEmail,
        args.acmeCa,
      ])
      .apply(([hostname, tlsMode, upstreamHost, upstreamPort, acmeEmail, acmeCa]) =>
        renderCaddyfile({
          hostname,
          mode: tlsMode,
          upstream: { host: upstreamHost, port: upstreamPort },
          ...(tlsMode === "letsencrypt" && acmeEmail ? { acmeEmail } : {}),
          ...(tlsMode === "letsencrypt" && acmeCa ? { acmeCa } : {}),
        }),
      );

    const container = new docker.Container(
      name,
      {
        name,
        image: image.repoDigest,
        command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
        // Uploaded before the container starts; works on a remote engine, unlike a bind mount.
        uploads: [{ file: "/etc/caddy/Caddyfile", content: caddyfile }],
        networksAdvanced: [{ name: args.network }],
        ports: [
          { internal: 80, external: 80 },
          { internal: 443, external: 443 },
        ],
        volumes: [
          { volumeName: data.name, containerPath: "/data" },
          { volumeName: config.name, containerPath: "/config" },
        ],
        restart: "unless-stopped",
        mustRun: true,
        capabilities: { drops: ["ALL"], adds: ["NET_BIND_SERVICE"] },
        securityOpts: ["no-new-privileges:true"],
        memory: 256,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
      },
      // Host ports 80 and 443 are fixed: the old container must go before the new one starts.
      { ...child, deleteBeforeReplace: true },
    );

    this.containerName = container.name;
    this.dataVolumeName = data.name;

    // Readiness: the URL resolves only when HTTPS answers with a certificate for the hostname (one
    // that browsers trust, for Let's Encrypt production) and the notebook answers behind it.
    this.url = pulumi
      .all([container.id, resolvedHostname, mode, args.acmeCa, timeoutMs])
      .apply(async ([, hostname, tlsMode, acmeCa, timeout]) => {
        const url = `https://${hostname}/`;
        if (pulumi.runtime.isDryRun()) return url;
        const trusted = isPubliclyTrusted(tlsMode, acmeCa || undefined);
        const ready = await waitForHttps(
          { hostname, check: trusted ? "trusted" : "names-host", timeoutMs: timeout },
          deps,
        );
        log(
          `HTTPS on ${hostname} is ready: certificate from ${ready.issuer}, valid until ` +
            `${ready.validTo} (${Math.round(ready.elapsedMs / 1000)} s)`,
        );
        return url;
      });

    this.registerOutputs({
      url: this.url,
      imageRef: this.imageRef,
      containerName: this.containerName,
      dataVolumeName: this.dataVolumeName,
    });
  }
}
