/**
 * HTTPS in front of one notebook: Caddy in its own container on the notebook's Docker engine, on 80
 * and 443 of the host, reaching the notebook over a private Docker network, with a certificate for the
 * instance's DNS name. The URL is reported only once HTTPS answers with that certificate.
 */
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type ProxyTlsMode, renderCaddyfile } from "../lib/caddyfile";
import { imageRepository, isDigestPinned } from "../lib/rules/imageRef";
import { jupyterPort } from "../lib/rules/stack";
import { readinessEnv } from "../lib/readinessMain";
import { defaultProxyImage, isPubliclyTrusted } from "../lib/tlsSettings";

/**
 * How the readiness resources run lib/readinessMain.ts: relative to the project's root, where
 * Pulumi runs the program and its providers, so another checkout runs the same command.
 */
export const readinessCommand = "npx --no-install tsx lib/readinessMain.ts";

/** Default minutes for each wait (DNS, then HTTPS); Jetstream2 warns a new record can take an hour. */
export const defaultDnsTimeoutMinutes = 60;
export const defaultHttpsTimeoutMinutes = 15;

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
   * The floating IP: the hostname must resolve to it (at the zone's authoritative servers) before
   * the proxy starts, and the HTTPS probe connects to it. Unset: any address, and the probe
   * resolves the name.
   */
  expectedAddress?: pulumi.Input<string>;
  /** Minutes to wait for the DNS name. Default {@link defaultDnsTimeoutMinutes}. */
  dnsTimeoutMinutes?: pulumi.Input<number>;
  /** Minutes to wait for HTTPS with a valid certificate. Default {@link defaultHttpsTimeoutMinutes}. */
  httpsTimeoutMinutes?: pulumi.Input<number>;
  /**
   * Validate over HTTP-01 only (letsencrypt): set when 443 is open to fewer addresses than the
   * internet, where TLS-ALPN validation cannot succeed. Default false.
   */
  httpChallengeOnly?: boolean;
  /**
   * Identifies the machine (the VM's instance id). When it changes, the VM was replaced and the
   * proxy's image, volumes and container are created again on the new one, and the waits run again.
   */
  machineId?: pulumi.Input<string>;
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

/**
 * `repository@digest` from a tag's registry answer; unknown (in a preview of an engine that does not
 * exist yet) when the answer has no digest.
 */
export function pinnedReference(
  reference: string,
  digest: string | undefined,
): pulumi.Output<string> {
  return digest
    ? pulumi.output(`${imageRepository(reference)}@${digest}`)
    : (pulumi.output(pulumi.unknown) as pulumi.Output<string>);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
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
    const machine = args.machineId;
    const machineLabels =
      machine === undefined ? [] : [{ label: "org.jetstream-notebooks.machine", value: machine }];

    // The image by digest: a tag is looked up in its registry now, so every container runs a digest
    // and an unchanged tag never rolls the proxy. A preview of a new VM cannot ask its engine: the
    // digest is then unknown, never `undefined` in a string.
    this.imageRef = pulumi
      .output(args.image ?? defaultProxyImage)
      .apply((reference) =>
        isDigestPinned(reference)
          ? pulumi.output(reference)
          : docker
              .getRegistryImageOutput({ name: reference }, { parent: this, provider })
              .apply((found) => pinnedReference(reference, found.sha256Digest)),
      );
    const image = new docker.RemoteImage(
      `${name}-image`,
      {
        name: this.imageRef,
        keepLocally: true,
        ...(machine === undefined ? {} : { triggers: { machine } }),
      },
      child,
    );

    // Certificates and the ACME account live in /data: kept across container replacements, since
    // every new certificate counts against Let's Encrypt's limits. A new machine starts them anew.
    const volumeOpts = {
      ...child,
      ...(machine === undefined ? {} : { replacementTrigger: machine }),
    };
    const data = new docker.Volume(`${name}-data`, {}, volumeOpts);
    const config = new docker.Volume(`${name}-config`, {}, volumeOpts);

    const address = args.expectedAddress ?? "";
    // The proxy starts once the name resolves at the zone's own servers: Caddy asks the CA at once,
    // and each failed validation of a name that does not resolve yet uses up Let's Encrypt's
    // allowance of 5 per hour. A resource, so it runs only when the machine or address is new.
    const dnsWait = new command.local.Command(
      `${name}-dns`,
      {
        create: readinessCommand,
        environment: {
          [readinessEnv.wait]: "dns",
          [readinessEnv.hostname]: args.hostname,
          [readinessEnv.address]: address,
          [readinessEnv.timeoutMinutes]: pulumi
            .output(args.dnsTimeoutMinutes ?? defaultDnsTimeoutMinutes)
            .apply(String),
        },
        triggers: [machine ?? "", address, args.hostname],
      },
      { parent: this, ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}) },
    );

    const caddyfile = pulumi
      .all([
        args.hostname,
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
          ...(tlsMode === "letsencrypt" && args.httpChallengeOnly
            ? { httpChallengeOnly: true }
            : {}),
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
        labels: machineLabels,
      },
      // Host ports 80 and 443 are fixed: the old container must go before the new one starts.
      {
        ...child,
        dependsOn: [...(args.dependsOn ?? []), dnsWait],
        deleteBeforeReplace: true,
      },
    );

    this.containerName = container.name;
    this.dataVolumeName = data.name;

    // Readiness: HTTPS answers with a certificate for the hostname (one that browsers trust, for
    // Let's Encrypt production) and the notebook answers behind it. Run again whenever the
    // container or its Caddyfile is new, and only then.
    const trusted = pulumi
      .all([mode, args.acmeCa])
      .apply(([tlsMode, acmeCa]) =>
        isPubliclyTrusted(tlsMode, acmeCa || undefined) ? "trusted" : "names-host",
      );
    const httpsWait = new command.local.Command(
      `${name}-ready`,
      {
        create: readinessCommand,
        environment: {
          [readinessEnv.wait]: "https",
          [readinessEnv.hostname]: args.hostname,
          [readinessEnv.address]: address,
          [readinessEnv.timeoutMinutes]: pulumi
            .output(args.httpsTimeoutMinutes ?? defaultHttpsTimeoutMinutes)
            .apply(String),
          [readinessEnv.check]: trusted,
        },
        triggers: [container.id, caddyfile.apply(sha256)],
      },
      { parent: this, dependsOn: [container] },
    );

    // Known only once the wait has passed (unknown in a preview that creates it).
    this.url = pulumi
      .all([httpsWait.stdout, args.hostname])
      .apply(([, hostname]) => `https://${hostname}/`);

    this.registerOutputs({
      url: this.url,
      imageRef: this.imageRef,
      containerName: this.containerName,
      dataVolumeName: this.dataVolumeName,
    });
  }
}
