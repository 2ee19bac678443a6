/**
 * The notebook image on a real Docker engine, run the way the Pulumi stacks run it: a token from the
 * environment, a named volume on the notebook user's home, a port published on 127.0.0.1, all capabilities dropped and
 * no-new-privileges. Tests share one container and run in file order; the persistence test replaces
 * it with a second container on the same volume.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, ChildProcess } from "node:child_process";
import WebSocket from "ws";
import { notebookHome } from "../lib/notebookHome";
import { findChromium, headlessChromium } from "./support/browser";
import {
  describeWithDocker,
  docker,
  exec,
  freePort,
  healthStatus,
  notebookImage,
  removeContainer,
  removeVolume,
  testImageTag,
  uniqueName,
  waitFor,
  waitForHealthy,
  imageBuildTimeoutMs,
  testWithTool,
} from "./support/docker";
import {
  httpGet,
  jupyterApi,
  request,
  runInKernel,
  startKernel,
  waitForHttp,
} from "./support/jupyter";

const HARDENING = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"];
const VENV_PYTHON = "/opt/venv/bin/python";

describeWithDocker("notebook image", () => {
  const token = randomBytes(24).toString("hex");
  const volume = uniqueName("jn-img-work");
  const containers: string[] = [];
  let image = "";
  let container = "";
  let base = "";

  /** Starts a hardened container from the test image; returns its name and base URL. */
  async function start(
    env: Record<string, string>,
    opts: { volume?: string; containerPort?: number; command?: string[] } = {},
  ): Promise<{ name: string; url: string; port: number }> {
    const name = uniqueName("jn-img");
    const port = await freePort();
    containers.push(name);
    const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const volumeArgs = opts.volume ? ["-v", `${opts.volume}:${notebookHome}`] : [];
    await docker([
      "run",
      "--detach",
      "--name",
      name,
      ...HARDENING,
      ...envArgs,
      ...volumeArgs,
      "-p",
      `127.0.0.1:${port}:${opts.containerPort ?? 8888}`,
      image,
      ...(opts.command ?? []),
    ]);
    return { name, url: `http://127.0.0.1:${port}`, port };
  }

  beforeAll(async () => {
    image = await notebookImage();
    const started = await start({ JUPYTER_TOKEN: token }, { volume });
    container = started.name;
    base = started.url;
    await waitForHttp(`${base}/api`);
  }, imageBuildTimeoutMs);

  afterAll(async () => {
    for (const name of containers) await removeContainer(name);
    await removeVolume(volume);
  });

  test("stays within the 500 MB size budget", async () => {
    const size = Number(await docker(["image", "inspect", "--format", "{{.Size}}", image]));
    expect(size).toBeGreaterThan(100e6);
    expect(size).toBeLessThanOrEqual(500e6);
  });

  test("numpy.testing loads (SciPy and many course packages import it), test suites trimmed or not", async () => {
    const out = await docker([
      "run",
      "--rm",
      "--entrypoint",
      "python",
      image,
      "-c",
      "import numpy.testing, pandas; print('ok')",
    ]);
    expect(out.trim()).toBe("ok");
  });

  test("/lab with the token serves the JupyterLab page", async () => {
    const res = await httpGet(`${base}/lab?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain("<title>JupyterLab</title>");
    expect(res.body).toContain('id="jupyter-config-data"');
  });

  test("/api/status answers 403 without a token and with a wrong one, 200 with the right one", async () => {
    expect((await httpGet(`${base}/api/status`)).status).toBe(403);
    const wrong = await httpGet(`${base}/api/status`, { Authorization: `token ${token}x` });
    expect(wrong.status).toBe(403);
    const right = await httpGet(`${base}/api/status`, { Authorization: `token ${token}` });
    expect(right.status).toBe(200);
  });

  test("a Python kernel runs pandas and matplotlib from the user's venv, PDF font embedding included", async () => {
    const out = await runInKernel(
      base,
      token,
      [
        "import io, sys, pandas, matplotlib, numpy",
        "import matplotlib.pyplot as plt",
        "fig, ax = plt.subplots()",
        "ax.plot(pandas.Series([1, 4, 9]))",
        "ax.set_title('Σ notebooks')",
        "pdf = io.BytesIO(); fig.savefig(pdf, format='pdf')",
        "print(sys.executable, pandas.__version__, matplotlib.__version__, pdf.getvalue()[:5])",
      ].join("\n"),
    );
    const [executable, pandasVersion, mplVersion, pdfMagic] = out.trim().split(" ");
    expect(executable).toBe(VENV_PYTHON);
    expect(pandasVersion).toMatch(/^2\.2\./);
    expect(mplVersion).toMatch(/^3\.10\./);
    expect(pdfMagic).toBe("b'%PDF-'");
  });

  test("PID 1 is tini and nothing in the container runs as root", async () => {
    expect(await docker(["exec", container, "cat", "/proc/1/comm"])).toBe("tini");
    const top = await docker(["top", container, "-eo", "pid,uid,args"]);
    const processes = top.split("\n").slice(1);
    expect(processes.some((p) => p.includes("jupyterlab"))).toBe(true);
    for (const p of processes) expect(p.trim().split(/\s+/)[1]).toBe("1000");
  });

  test("the health status becomes healthy", async () => {
    await waitForHealthy(container, 30_000);
    expect(await healthStatus(container)).toBe("healthy");
  });

  test("a file saved into work/ survives docker rm -f and a new container on the same volume", async () => {
    // A new, empty named volume: the save only works if its first mount gave it to the user.
    const content = `saved ${new Date().toISOString()}`;
    await jupyterApi(base, token, "PUT", "/api/contents/work/kept.txt", {
      type: "file",
      format: "text",
      content,
    });
    await docker(["rm", "--force", container]);

    const again = await start({ JUPYTER_TOKEN: token }, { volume });
    container = again.name;
    base = again.url;
    await waitForHttp(`${base}/api`);
    const file = await jupyterApi<{ content: string }>(
      base,
      token,
      "GET",
      "/api/contents/work/kept.txt?content=1",
    );
    expect(file.content).toBe(content);
  });

  test("%pip install of a package built here (no network) works for the notebook user", async () => {
    // The package is written by the notebook user, the way a student would have one in their files.
    await docker([
      "exec",
      container,
      "bash",
      "-c",
      [
        "mkdir -p /tmp/jnpkg/jn_offline_pkg",
        'printf \'[build-system]\\nrequires = ["setuptools"]\\nbuild-backend = "setuptools.build_meta"\\n[project]\\nname = "jn-offline-pkg"\\nversion = "1.0"\\n\' > /tmp/jnpkg/pyproject.toml',
        "echo 'ANSWER = 42' > /tmp/jnpkg/jn_offline_pkg/__init__.py",
      ].join(" && "),
    ]);
    const out = await runInKernel(
      base,
      token,
      [
        "%pip install --quiet --no-index --no-build-isolation /tmp/jnpkg",
        "import importlib; importlib.invalidate_caches()",
        "import jn_offline_pkg",
        "print('ANSWER', jn_offline_pkg.ANSWER, jn_offline_pkg.__file__)",
      ].join("\n"),
    );
    expect(out).toContain("ANSWER 42 /opt/venv/lib/python3");
    // And from a terminal: the venv's pip is the one on PATH.
    const pip = await docker(["exec", container, "pip", "show", "jn-offline-pkg"]);
    expect(pip).toContain("Location: /opt/venv/lib/python3");
  });

  test("behind a proxy: a browser session on the public host name gets its kernel websocket, a foreign Origin does not", async () => {
    // What a reverse proxy that keeps the Host header hands on from a student's browser.
    const proxied = {
      Host: "notebook.example.test",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-For": "203.0.113.7",
    };
    const kernel = await startKernel(base, token, {
      headers: { ...proxied, Origin: "https://notebook.example.test" },
    });
    // The token in the URL logs the browser in with a cookie; from then on only the cookie goes
    // along, and a token-less request is where Jupyter checks Origin against Host.
    const login = await request(`${base}/lab?token=${token}`, { headers: proxied });
    expect(login.status).toBe(200);
    const cookie = (login.headers["set-cookie"] ?? [])
      .map((c) => c.split(";")[0])
      .filter((c) => c?.startsWith("username-"))
      .join("; ");
    expect(cookie).not.toBe("");
    const handshake = (origin: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          `${base.replace(/^http/, "ws")}/api/kernels/${kernel.id}/channels`,
          { headers: { ...proxied, Cookie: cookie }, origin, handshakeTimeout: 15_000 },
        );
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("unexpected-response", (_req, res) => {
          ws.terminate();
          resolve(res.statusCode ?? 0);
        });
        ws.on("error", reject);
      });
    try {
      expect(await handshake("https://notebook.example.test")).toBe(101);
      expect(await handshake("https://evil.example")).toBe(403);
    } finally {
      await jupyterApi(base, token, "DELETE", `/api/kernels/${kernel.id}`);
    }
  });

  testWithTool(
    "JupyterLab's app really boots in a headless browser",
    "chromium (apt-get install chromium)",
    findChromium() !== undefined,
    async () => {
      const dom = await headlessChromium(
        ["--virtual-time-budget=20000", "--dump-dom", `${base}/lab?token=${token}`],
        90_000,
      );
      expect(dom).toContain("jp-LabShell");
      expect(dom).toContain("jp-Launcher");
    },
  );

  test("docker stop ends the container in under 10 s, cleanly", async () => {
    const started = Date.now();
    await docker(["stop", container], { timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    expect(await docker(["inspect", "--format", "{{.State.ExitCode}}", container])).toBe("0");
  });

  test("with neither token nor password, the server makes a random token and logs it", async () => {
    const c = await start({});
    const logged = await waitFor(
      "a token in the log",
      async () => {
        const logs = await exec("docker", ["logs", c.name]);
        return /[?&]token=([0-9a-f]{48})/.exec(`${logs.stdout}${logs.stderr}`)?.[1];
      },
      60_000,
    );
    expect((await httpGet(`${c.url}/api/status`)).status).toBe(403);
    const res = await httpGet(`${c.url}/api/status`, { Authorization: `token ${logged}` });
    expect(res.status).toBe(200);
  });

  test("a hashed password from JUPYTER_PASSWORD_HASH logs in through the login form", async () => {
    const hash = await docker([
      "run",
      "--rm",
      image,
      "python",
      "-c",
      "from jupyter_server.auth import passwd; print(passwd('correct horse'))",
    ]);
    expect(hash).toMatch(/^argon2:\$argon2id\$/);
    const c = await start({ JUPYTER_PASSWORD_HASH: hash });
    await waitForHttp(`${c.url}/api`);

    const form = await httpGet(`${c.url}/login`);
    const xsrf = /_xsrf=([^;]+)/.exec(String(form.headers["set-cookie"] ?? ""))?.[1] ?? "";
    expect(xsrf).not.toBe("");
    const login = (password: string) =>
      request(`${c.url}/login`, {
        method: "POST",
        headers: {
          Cookie: `_xsrf=${xsrf}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ _xsrf: decodeURIComponent(xsrf), password }).toString(),
      });

    const refused = await login("wrong horse");
    expect(refused.status).not.toBe(302);
    const accepted = await login("correct horse");
    expect(accepted.status).toBe(302);
    const cookies = (accepted.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
    expect((await httpGet(`${c.url}/api/status`)).status).toBe(403);
    expect((await httpGet(`${c.url}/api/status`, { Cookie: cookies })).status).toBe(200);
  });

  test("JUPYTER_PORT and JUPYTER_BASE_URL move the server, and the health check follows", async () => {
    const c = await start(
      { JUPYTER_TOKEN: token, JUPYTER_PORT: "9999", JUPYTER_BASE_URL: "/user/ada/" },
      { containerPort: 9999 },
    );
    await waitForHealthy(c.name, 30_000);
    const res = await httpGet(`${c.url}/user/ada/api/status`, { Authorization: `token ${token}` });
    expect(res.status).toBe(200);
    expect((await httpGet(`${c.url}/api/status`)).status).toBe(404);
  });

  test.each([
    [
      "an argument emptying the token",
      {},
      ["start-notebook.sh", "--IdentityProvider.token="],
      "refusing to start without authentication: argument --IdentityProvider.token= sets an empty token",
    ],
    [
      "an empty token file",
      { JUPYTER_TOKEN_FILE: "/dev/null" },
      ["start-notebook.sh"],
      "refusing to start without authentication: JUPYTER_TOKEN_FILE (/dev/null is empty or unreadable)",
    ],
    [
      "a port that is not a number",
      { JUPYTER_PORT: "88a8" },
      ["start-notebook.sh"],
      "JUPYTER_PORT must be a port number from 1 to 65535, got '88a8'",
    ],
    [
      "a base URL without its leading slash",
      { JUPYTER_BASE_URL: "user/ada/" },
      ["start-notebook.sh"],
      "JUPYTER_BASE_URL must be a path starting with /, got 'user/ada/'",
    ],
    [
      "a password that is not a hash",
      { JUPYTER_PASSWORD_HASH: "hunter2" },
      ["start-notebook.sh"],
      "JUPYTER_PASSWORD_HASH must be a hash from 'jupyter server password'",
    ],
  ])("the start script refuses %s", async (_what, env, command, message) => {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const result = await exec(
      "docker",
      ["run", "--rm", ...HARDENING, ...envArgs, image, ...command],
      {
        timeoutMs: 60_000,
      },
    );
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(message);
  });

  test("runs as a JupyterHub single-user server under a Hub's prefix", async () => {
    // A stand-in for the Hub's API: the single-user server asks the Hub's version at start.
    const fakeHub = [
      "import http.server, json",
      "class H(http.server.BaseHTTPRequestHandler):",
      "    def do_GET(self):",
      "        self.send_response(200); self.send_header('Content-Type', 'application/json'); self.end_headers()",
      "        self.wfile.write(json.dumps({'version': '5.2.1'}).encode())",
      "    def log_message(self, *args): pass",
      "http.server.HTTPServer(('127.0.0.1', 8081), H).serve_forever()",
    ].join("\n");
    const c = await start(
      {
        FAKE_HUB: fakeHub,
        JUPYTERHUB_API_TOKEN: randomBytes(16).toString("hex"),
        JUPYTERHUB_API_URL: "http://127.0.0.1:8081/hub/api",
        JUPYTERHUB_BASE_URL: "/",
        JUPYTERHUB_CLIENT_ID: "jupyterhub-user-ada",
        JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/ada/oauth_callback",
        JUPYTERHUB_SERVICE_PREFIX: "/user/ada/",
        JUPYTERHUB_SERVICE_URL: "http://0.0.0.0:8888/user/ada/",
        JUPYTERHUB_USER: "ada",
      },
      { command: ["bash", "-c", 'python3 -c "$FAKE_HUB" & exec jupyterhub-singleuser'] },
    );
    await waitForHealthy(c.name, 60_000);
    const lab = await httpGet(`${c.url}/user/ada/lab`);
    expect(lab.status).toBe(302);
    expect(lab.headers.location).toContain(
      "/hub/api/oauth2/authorize?client_id=jupyterhub-user-ada",
    );
  });

  describe("a registry", () => {
    let registry: ChildProcess | undefined;
    let storage = "";

    afterAll(() => {
      registry?.kill("SIGTERM");
      if (storage) fs.rmSync(storage, { recursive: true, force: true });
    });

    test(
      "push to a real registry and pull back by digest gives the same image id",
      async () => {
        const port = await freePort();
        storage = fs.mkdtempSync(path.join(os.tmpdir(), "jn-img-registry-"));
        const config = path.join(storage, "config.yml");
        fs.writeFileSync(
          config,
          [
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            `    rootdirectory: ${path.join(storage, "data")}`,
            "http:",
            `  addr: 127.0.0.1:${port}`,
            "",
          ].join("\n"),
        );
        registry = spawn("/usr/bin/docker-registry", ["serve", config], { stdio: "ignore" });
        await waitForHttp(`http://127.0.0.1:${port}/v2/`);

        const repo = `127.0.0.1:${port}/${uniqueName("jn-img")}`;
        const tag = `${repo}:test`;
        await docker(["tag", testImageTag, tag]);
        let pushed = "";
        try {
          pushed = await docker(["push", tag], { timeoutMs: 10 * 60 * 1000 });
        } finally {
          await exec("docker", ["rmi", tag]);
        }
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
        expect(digest).toBeDefined();

        const byDigest = `${repo}@${digest}`;
        await docker(["pull", byDigest], { timeoutMs: 10 * 60 * 1000 });
        try {
          expect(await docker(["image", "inspect", "--format", "{{.Id}}", byDigest])).toBe(image);
        } finally {
          await exec("docker", ["rmi", byDigest]);
        }
        // A push and a pull of up to 10 minutes each.
      },
      20 * 60_000,
    );
  });
});
