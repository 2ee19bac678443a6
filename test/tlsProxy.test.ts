/**
 * The TLS proxy for real: the container spec TlsProxy declares (recorded under mocks, not a second
 * copy written here) runs Caddy on the real engine in front of the real notebook image, on a private
 * network, in self-signed mode (Caddy's internal CA, which the client here trusts). Only what cannot
 * run here is swapped: the registry digest (the local caddy tag instead) and the host ports (free
 * ports on 127.0.0.1 instead of 80 and 443 on every address).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { dockerCreateArgs, type ContainerSpec } from "./support/dockerRun";
import { nodeReadinessDeps, waitForDns, waitForHttps } from "../lib/httpsReadiness";
import { caddyImage } from "./support/caddy";
import {
  describeWithDocker,
  docker,
  exec,
  freePort,
  notebookImage,
  removeContainer,
  removeNetwork,
  removeVolume,
  uniqueName,
  waitFor,
  waitForHealthy,
  imageBuildTimeoutMs,
} from "./support/docker";
import WebSocket from "ws";
import { jupyterApi, request, runInKernel, startKernel, waitForHttp } from "./support/jupyter";
import { registryDigest, type Recorded } from "./mocks";
import { answeringNetwork } from "./support/answeringNetwork";
import { recordTlsProxy } from "./support/tlsProxyHarness";

const hostname = "notebook.test";
const token = randomBytes(24).toString("hex");
const network = uniqueName("jn-tls-net");
const notebook = uniqueName("jn-tls-nb");
const volumes = { "/data": uniqueName("jn-tls-data"), "/config": uniqueName("jn-tls-config") };
const proxyNames: string[] = [];

interface RunningProxy {
  name: string;
  ports: Map<number, number>;
}

/**
 * The recorded spec with only what cannot run here swapped: the local name and image, the free
 * 127.0.0.1 ports for the host ports, and this test's volumes for the recorded ones. Every other
 * input goes to the translator as recorded, which refuses any it does not translate.
 */
function localSpec(
  recorded: Recorded,
  local: { name: string; image: string; ports: Map<number, number> },
): ContainerSpec {
  const spec = recorded.inputs as unknown as ContainerSpec;
  return {
    ...spec,
    name: local.name,
    image: local.image,
    ports: spec.ports?.map((p) => {
      const hostPort = local.ports.get(p.internal);
      if (hostPort === undefined) throw new Error(`no local port for ${p.internal}`);
      return { ...p, ip: "127.0.0.1", external: hostPort };
    }),
    volumes: spec.volumes?.map((v) => {
      const volumeName = (volumes as Record<string, string | undefined>)[v.containerPath];
      if (volumeName === undefined) throw new Error(`no local volume for ${v.containerPath}`);
      return { ...v, volumeName };
    }),
  };
}

async function startProxy(
  spec: Recorded,
  image: string,
  ports: Map<number, number>,
): Promise<RunningProxy> {
  const name = uniqueName("jn-tls-caddy");
  proxyNames.push(name);
  const { args, uploads } = dockerCreateArgs(localSpec(spec, { name, image, ports }));
  await docker(args);
  // What the provider's `uploads` does: copy into the created container before it starts.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-tls-upload-"));
  try {
    for (const u of uploads) {
      const local = path.join(dir, path.basename(u.file));
      fs.writeFileSync(local, u.content);
      await docker(["cp", local, `${name}:${u.file}`]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await docker(["start", name]);
  return { name, ports };
}

/** The leaf certificate's fingerprint as a TLS client sees it through the published port. */
function leafFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: hostname, ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** Opens a websocket through the proxy and says whether the handshake succeeded ("open") or its status. */
function wsHandshake(
  url: string,
  o: { cookie: string; origin: string; ca: string; port: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { Cookie: o.cookie },
      origin: o.origin,
      handshakeTimeout: 15_000,
      createConnection: (options: object) =>
        tls.connect({
          ...(options as tls.ConnectionOptions),
          host: "127.0.0.1",
          port: o.port,
          servername: hostname,
          ca: o.ca,
        }),
    });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(String(res.statusCode));
      res.resume();
    });
    ws.on("error", reject);
  });
}

describeWithDocker("TLS proxy in front of the real notebook", () => {
  let container: Recorded;
  let proxy: RunningProxy;
  let ca: string;
  let httpsPort: number;
  let httpPort: number;
  let caddySource: string;
  const base = `https://${hostname}`;

  beforeAll(async () => {
    const recording = await recordTlsProxy(
      { network, upstreamHost: "notebook", hostname, mode: "self-signed" },
      // Not a preview, so the container's image is the pulled digest; the readiness waits are
      // answered here (this test's own checks below ask the real proxy).
      { preview: false, readinessDeps: answeringNetwork("127.0.0.1") },
    );
    const found = recording.ofType("docker:index/container:Container");
    expect(found).toHaveLength(1);
    container = found[0]!;
    // The digest the mocked registry gave; the engine here runs the same tag from a local image.
    expect(container.inputs.image).toBe(`caddy@${registryDigest("caddy:2.11.4")}`);

    const [notebookId, caddy] = await Promise.all([notebookImage(), caddyImage()]);
    caddySource = `${caddy.tag} (${caddy.source})`;
    await docker(["network", "create", network]);
    for (const v of Object.values(volumes)) await docker(["volume", "create", v]);
    // The notebook as NotebookServer runs it behind a proxy: on the network as `notebook`, no port.
    await docker([
      "run",
      "--detach",
      "--name",
      notebook,
      "--network",
      network,
      "--network-alias",
      "notebook",
      "--env",
      `JUPYTER_TOKEN=${token}`,
      notebookId,
    ]);
    httpsPort = await freePort();
    httpPort = await freePort();
    proxy = await startProxy(
      container,
      caddy.tag,
      new Map([
        [80, httpPort],
        [443, httpsPort],
      ]),
    );
    ca = await waitFor(
      "Caddy's internal root certificate",
      async () => {
        const r = await exec("docker", [
          "exec",
          proxy.name,
          "cat",
          "/data/caddy/pki/authorities/local/root.crt",
        ]);
        return r.code === 0 && r.stdout.includes("BEGIN CERTIFICATE") ? r.stdout : undefined;
      },
      60_000,
    );
    await waitForHealthy(notebook, 180_000);
  }, imageBuildTimeoutMs);

  afterAll(async () => {
    for (const name of [...proxyNames, notebook]) await removeContainer(name);
    for (const v of Object.values(volumes)) await removeVolume(v);
    await removeNetwork(network);
  });

  test("HTTPS /lab with the token answers 200 with JupyterLab, over a chain valid for the hostname", async () => {
    const res = await waitForHttp(
      `${base}/lab?token=${token}`,
      { ca, connectTo: { host: "127.0.0.1", port: httpsPort } },
      60_000,
    );
    expect(res.status).toBe(200);
    expect(res.body).toContain("JupyterLab");
    expect(res.headers["strict-transport-security"]).toBe("max-age=31536000");
    process.stderr.write(`[tlsProxy.test] proxy image: ${caddySource}\n`);
  });

  test("a client that does not trust the proxy's CA is refused (the chain is really checked)", async () => {
    await expect(
      request(`${base}/lab?token=${token}`, { connectTo: { host: "127.0.0.1", port: httpsPort } }),
    ).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  test("a kernel runs code over a websocket through the proxy", async () => {
    const out = await runInKernel(base, token, "print(6 * 7)", {
      ca,
      connectTo: { host: "127.0.0.1", port: httpsPort },
      headers: { Origin: base },
    });
    expect(out.trim()).toBe("42");
  });

  test("a browser's websocket (cookie login, no token) passes with its own Origin and not with another", async () => {
    // A browser opens /lab?token=..., gets a login cookie, then opens kernel websockets with that
    // cookie and its Origin; the server then compares Origin with Host (token-authenticated
    // requests skip that check, so runInKernel above cannot show it). Caddy keeps the Host header.
    const login = await request(`${base}/lab?token=${token}`, {
      ca,
      connectTo: { host: "127.0.0.1", port: httpsPort },
    });
    const cookie = (login.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
    expect(cookie).toMatch(/username-/);
    const kernel = await startKernel(base, token, {
      ca,
      connectTo: { host: "127.0.0.1", port: httpsPort },
    });
    try {
      const url = `wss://${hostname}/api/kernels/${kernel.id}/channels?session_id=${randomBytes(8).toString("hex")}`;
      expect(await wsHandshake(url, { cookie, origin: base, ca, port: httpsPort })).toBe("open");
      expect(
        await wsHandshake(url, {
          cookie,
          origin: "https://elsewhere.example",
          ca,
          port: httpsPort,
        }),
      ).toBe("403");
    } finally {
      await jupyterApi(base, token, "DELETE", `/api/kernels/${kernel.id}`, undefined, {
        ca,
        connectTo: { host: "127.0.0.1", port: httpsPort },
      });
    }
  });

  test("plain HTTP is redirected to HTTPS", async () => {
    const res = await request(`http://${hostname}/lab?token=${token}`, {
      connectTo: { host: "127.0.0.1", port: httpPort },
    });
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`https://${hostname}/lab?token=${token}`);
  });

  test("the notebook's port is published to no one", async () => {
    expect(await docker(["port", notebook])).toBe("");
    expect(
      await docker(["inspect", "--format", "{{json .HostConfig.PortBindings}}", notebook]),
    ).toBe("{}");
    // Something else on this machine may hold 8888; it must at least not be this notebook.
    const direct = await request(`http://127.0.0.1:8888/api/status`, {
      headers: { Authorization: `token ${token}` },
      timeoutMs: 3_000,
    }).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    expect(direct).not.toBe(200);
  });

  test("the readiness wait succeeds against it, and reports the issuer", async () => {
    const logs: string[] = [];
    const ready = await waitForHttps(
      {
        hostname,
        check: "trusted",
        ca,
        connectTo: { host: "127.0.0.1", port: httpsPort },
        timeoutMs: 60_000,
        intervalMs: 500,
      },
      nodeReadinessDeps((m) => logs.push(m)),
    );
    expect(ready).toMatchObject({ status: 200, hsts: "max-age=31536000" });
    expect(ready.issuer).toMatch(/Caddy Local Authority/);
  });

  test("readiness that requires a publicly trusted chain does not accept Caddy's internal CA", async () => {
    await expect(
      waitForHttps(
        {
          hostname,
          check: "trusted",
          connectTo: { host: "127.0.0.1", port: httpsPort },
          timeoutMs: 1_500,
          intervalMs: 500,
        },
        nodeReadinessDeps(() => undefined),
      ),
    ).rejects.toThrow(
      /was not ready after 2s; last seen: the certificate for notebook.test \(issuer .*Caddy.*\) does not verify/,
    );
  });

  test("a name that does not resolve is waited for with the DNS message (the real resolver)", async () => {
    const missing = "nb-ada.jn-tls.invalid"; // .invalid never resolves (RFC 6761)
    const logs: string[] = [];
    await expect(
      waitForDns(
        { hostname: missing, timeoutMs: 1_000, intervalMs: 250 },
        nodeReadinessDeps((m) => logs.push(m)),
      ),
    ).rejects.toThrow(
      `DNS name ${missing} was not ready after 1s: still waiting for DNS name ${missing} to appear`,
    );
    expect(logs[0]).toBe(
      `waiting for DNS name ${missing} to appear (Jetstream2 publishes it a minute or two after the floating IP is attached)`,
    );
  });

  test("a replaced proxy container keeps its certificate (the /data volume)", async () => {
    const before = await leafFingerprint(httpsPort, ca);
    await removeContainer(proxy.name);
    proxy = await startProxy(container, (await caddyImage()).tag, proxy.ports);
    await waitForHttp(
      `${base}/api`,
      { ca, connectTo: { host: "127.0.0.1", port: httpsPort } },
      60_000,
    );
    expect(await leafFingerprint(httpsPort, ca)).toBe(before);
  });
});
