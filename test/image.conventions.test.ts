/**
 * The notebook image against what instructors and JupyterHub admins expect from jupyter/docker-stacks'
 * images (its own tests, run against ours, found these), on a real engine with the real image: the
 * health check finds the server wherever its arguments put it, the `jupyter` commands exist, the menu
 * offers only exports that work, IPv6, UTF-8, an arbitrary uid, a Hub without a command override, a
 * terminal with tools and widgets that render. And what we keep doing better than the stacks: a busy port fails loudly, the
 * single health probe is cheap and ignores proxy settings, and nothing runs as root.
 */
import { randomBytes } from "node:crypto";
import { withBrowserPage } from "./support/browserPage";
import {
  describeWithDocker,
  docker,
  exec,
  notebookImage,
  removeNetwork,
  uniqueName,
  waitFor,
  waitForHealthy,
} from "./support/docker";
import { httpGet, jupyterApi, runInKernel, waitForHttp } from "./support/jupyter";
import { HARDENING, logsOf, NotebookContainers, type Started } from "./support/notebookContainer";

/** A notebook with a heading, math, code and an output: what every exporter must handle. */
const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
  cells: [
    {
      id: "m1",
      cell_type: "markdown",
      metadata: {},
      source: "# Zoë's results\n\nThe mean is $\\bar{x} = \\frac{1}{n}\\sum x_i$.",
    },
    {
      id: "c1",
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source: "print(sum(range(10)))",
    },
  ],
};

describeWithDocker("notebook image: docker-stacks' expectations", () => {
  const token = randomBytes(24).toString("hex");
  let image = "";
  const run = new NotebookContainers(() => image);
  const networks: string[] = [];
  let main: Started;

  beforeAll(async () => {
    image = await notebookImage();
    main = await run.start({ JUPYTER_TOKEN: token }, { volume: run.volume() });
    await waitForHttp(`${main.url}/api`, {}, 120_000);
  });

  afterAll(async () => {
    await run.cleanup();
    for (const n of networks) await removeNetwork(n);
  });

  test("1. the health check follows a base URL and port given as server arguments", async () => {
    const c = await run.start(
      { JUPYTER_TOKEN: token },
      {
        containerPort: 9000,
        command: ["start-notebook.sh", "--ServerApp.base_url=/test/", "--ServerApp.port=9000"],
      },
    );
    await waitForHealthy(c.name, 120_000);
    const res = await httpGet(`${c.url}/test/api/status`, { Authorization: `token ${token}` });
    expect(res.status).toBe(200);
  });

  test("2. jupyter kernelspec, server and nbconvert exist in a terminal, and export works from the menu", async () => {
    const specs = JSON.parse(
      await docker(["exec", main.name, "jupyter", "kernelspec", "list", "--json"]),
    ) as { kernelspecs: Record<string, { resource_dir: string }> };
    expect(specs.kernelspecs.python3?.resource_dir).toBe("/opt/venv/share/jupyter/kernels/python3");

    const servers = await docker(["exec", main.name, "jupyter", "server", "list", "--json"]);
    expect(JSON.parse(servers.split("\n")[0] ?? "")).toMatchObject({ port: 8888, base_url: "/" });

    await jupyterApi(main.url, token, "PUT", "/api/contents/export.ipynb", {
      type: "notebook",
      content: NOTEBOOK,
    });
    await docker([
      "exec",
      main.name,
      "bash",
      "-c",
      "cd ~ && jupyter nbconvert --to html export.ipynb && jupyter nbconvert --to markdown export.ipynb" +
        " && jupyter nbconvert --execute --to notebook --output executed.ipynb export.ipynb",
    ]);
    const listing = await docker(["exec", main.name, "ls", "/home/jupyter"]);
    expect(listing.split("\n")).toEqual(
      expect.arrayContaining(["export.html", "export.md", "executed.ipynb"]),
    );
    // Read as JSON: nbconvert's indentation is not part of the contract.
    const executed = JSON.parse(
      await docker(["exec", main.name, "cat", "/home/jupyter/executed.ipynb"]),
    ) as { cells: { cell_type: string; outputs?: { text?: string | string[] }[] }[] };
    const outputs = executed.cells
      .filter((cell) => cell.cell_type === "code")
      .flatMap((cell) => cell.outputs ?? [])
      .map((output) => [output.text ?? ""].flat().join(""));
    expect(outputs).toEqual(["45\n"]);

    // JupyterLab's File > Save and Export Notebook As asks these URLs.
    const auth = { Authorization: `token ${token}` };
    const html = await httpGet(`${main.url}/nbconvert/html/export.ipynb?download=true`, auth);
    expect(html.status).toBe(200);
    expect(html.body).toContain("Zoë's results");
    const md = await httpGet(`${main.url}/nbconvert/markdown/export.ipynb?download=true`, auth);
    expect(md.status).toBe(200);
    expect(md.body).toContain("# Zoë's results");
  });

  test("3. every export the menu offers works, and PDF is not offered without TeX", async () => {
    await jupyterApi(main.url, token, "PUT", "/api/contents/offered.ipynb", {
      type: "notebook",
      content: NOTEBOOK,
    });
    const offered = Object.keys(
      await jupyterApi<Record<string, unknown>>(main.url, token, "GET", "/api/nbconvert"),
    );
    expect(offered).toEqual(expect.arrayContaining(["html", "markdown", "notebook", "python"]));
    expect(offered).not.toContain("pdf");
    const failing: string[] = [];
    for (const format of offered) {
      const res = await httpGet(`${main.url}/nbconvert/${format}/offered.ipynb?download=true`, {
        Authorization: `token ${token}`,
      });
      if (res.status !== 200) failing.push(`${format}: ${res.status}`);
    }
    expect(failing).toEqual([]);
  });

  test("4. the server answers on IPv6 as well as IPv4", async () => {
    const network = uniqueName("jn-img-v6");
    // A subnet of this run's own: a network left by an interrupted run keeps its subnet.
    const subnet = `fd00:6a6e:${(process.pid % 0xffff).toString(16)}::/64`;
    await docker(["network", "create", "--ipv6", "--subnet", subnet, network]);
    networks.push(network);
    const c = await run.start({ JUPYTER_TOKEN: token }, { network });
    await waitForHealthy(c.name, 120_000);
    const ask = (host: string) =>
      docker([
        "exec",
        c.name,
        "bash",
        "-c",
        `exec 3<>/dev/tcp/${host}/8888; printf 'GET /api HTTP/1.0\\r\\n\\r\\n' >&3; read -r line <&3; echo "$line"`,
      ]);
    expect(await ask("::1")).toMatch(/^HTTP\/1\.[01] 200/);
    expect(await ask("127.0.0.1")).toMatch(/^HTTP\/1\.[01] 200/);
  });

  test("5. docker exec shells, terminals and kernels are UTF-8, so Zoë.csv is one name everywhere", async () => {
    const shell = await docker([
      "exec",
      main.name,
      "bash",
      "-c",
      "locale charmap; n=Zoë; echo ${#n}; cd /tmp && touch Zoë.csv && ls -b Zoë.csv",
    ]);
    expect(shell.split("\n")).toEqual(["UTF-8", "3", "Zoë.csv"]);
    const kernel = await runInKernel(
      main.url,
      token,
      "import locale, os; print(locale.getpreferredencoding(), os.environ.get('LANG'))",
    );
    expect(kernel.trim()).toBe("UTF-8 C.UTF-8");
  });

  test("6. an arbitrary uid in group 100 starts the server, saves files and runs a kernel", async () => {
    const c = await run.start({ JUPYTER_TOKEN: token }, { user: "4242:100", volume: run.volume() });
    await waitForHealthy(c.name, 120_000);
    await jupyterApi(c.url, token, "PUT", "/api/contents/mine.txt", {
      type: "file",
      format: "text",
      content: "saved by uid 4242",
    });
    const out = await runInKernel(c.url, token, "import os; print(os.getuid(), os.getgid())");
    expect(out.trim()).toBe("4242 100");
    expect(await docker(["exec", c.name, "stat", "-c", "%u %n", "/home/jupyter/mine.txt"])).toBe(
      "4242 /home/jupyter/mine.txt",
    );
  });

  test("7. with JUPYTERHUB_API_TOKEN set, the image starts jupyterhub-singleuser by itself", async () => {
    // A stand-in for the Hub's API in its own container: the single-user server asks its version.
    const network = uniqueName("jn-img-hub");
    await docker(["network", "create", network]);
    networks.push(network);
    const fakeHub = [
      "import http.server, json",
      "class H(http.server.BaseHTTPRequestHandler):",
      "    def do_GET(self):",
      "        self.send_response(200); self.send_header('Content-Type', 'application/json'); self.end_headers()",
      "        self.wfile.write(json.dumps({'version': '5.2.1'}).encode())",
      "    def log_message(self, *args): pass",
      "http.server.HTTPServer(('0.0.0.0', 8081), H).serve_forever()",
    ].join("\n");
    await run.start(
      {},
      { network, alias: "hub", command: ["python3", "-c", fakeHub], containerPort: 8081 },
    );
    const c = await run.start(
      {
        JUPYTERHUB_API_TOKEN: randomBytes(16).toString("hex"),
        JUPYTERHUB_API_URL: "http://hub:8081/hub/api",
        JUPYTERHUB_BASE_URL: "/",
        JUPYTERHUB_CLIENT_ID: "jupyterhub-user-ada",
        JUPYTERHUB_OAUTH_CALLBACK_URL: "/user/ada/oauth_callback",
        JUPYTERHUB_SERVICE_PREFIX: "/user/ada/",
        JUPYTERHUB_SERVICE_URL: "http://0.0.0.0:8888/user/ada/",
        JUPYTERHUB_USER: "ada",
      },
      { network },
    );
    await waitForHealthy(c.name, 120_000);
    const lab = await httpGet(`${c.url}/user/ada/lab`);
    expect(lab.status).toBe(302);
    expect(lab.headers.location).toContain(
      "/hub/api/oauth2/authorize?client_id=jupyterhub-user-ada",
    );
  });

  test("8. a student's terminal has git, curl, unzip, less and nano, and each does its job", async () => {
    // What a first session does: clone a repository, commit, fetch a file, unpack an archive, page
    // and edit. The clone is of a local repository (no network here), through the same git.
    const script = [
      "set -euo pipefail",
      "cd $(mktemp -d)",
      "git init -q -b main origin",
      "git -C origin -c user.name=T -c user.email=t@e commit -q --allow-empty -m first",
      "git clone -q origin clone",
      "git -C clone log --format=%s",
      'v=$(curl -fsS http://127.0.0.1:8888/api) && echo "${v:0:11}"',
      "curl -fsS -o api.json http://127.0.0.1:8888/api && head -c 12 api.json; echo",
      "python3 -c \"import zipfile; zipfile.ZipFile('d.zip','w').writestr('data.csv','a,b\\n')\"",
      "unzip -q d.zip && cat data.csv",
      "less -F data.csv",
      "nano --version | head -n 1",
    ].join("\n");
    const out = await docker(["exec", main.name, "bash", "-c", script]);
    const lines = out.split("\n");
    expect(lines[0]).toBe("first");
    expect(lines.slice(1, 3).map((l) => l.trimEnd())).toEqual(['{"version":', '{"version":']);
    expect(lines.slice(3, 5)).toEqual(["a,b", "a,b"]);
    expect(lines[5]).toMatch(/GNU nano/);
  });

  test("9. an ipywidgets slider made by a running kernel renders in JupyterLab in a headless browser", async () => {
    // A student opens a notebook and runs its cell: the kernel makes the widget, the page's widget
    // manager receives its model over the kernel's comm channel and the extension draws the view.
    await jupyterApi(main.url, token, "PUT", "/api/contents/widget.ipynb", {
      type: "notebook",
      content: {
        ...NOTEBOOK,
        cells: [
          {
            id: "w1",
            cell_type: "code",
            metadata: {},
            execution_count: null,
            outputs: [],
            source: "import ipywidgets as w\nw.IntSlider(value=7, description='answer')",
          },
        ],
      },
    });
    const slider = await withBrowserPage(
      // reset: this notebook alone, whatever an earlier page left open in the workspace.
      `${main.url}/lab/tree/widget.ipynb?reset&token=${token}`,
      async (page) => {
        // The toolbar's run button, once the notebook's kernel is up and idle.
        const run = await page.waitFor<{ x: number; y: number }>(
          "the notebook's kernel to be idle",
          `(() => {
            const bar = document.querySelector(
              ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar",
            );
            const status = bar?.querySelector(".jp-Notebook-ExecutionIndicator")?.textContent ?? "";
            const kernel = bar?.querySelector(".jp-KernelName")?.textContent ?? "";
            const button = bar?.querySelector('[data-command="notebook:run-cell-and-select-next"]');
            if (!button || !kernel.includes("ipykernel") || !/idle/i.test(status)) return null;
            const r = button.getBoundingClientRect();
            return r.width > 0 ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null;
          })()`,
          120_000,
        );
        await page.click(run.x, run.y);
        return page.waitFor<{ label: string; readout: string; handle: boolean }>(
          "the slider in the cell's output",
          `(() => {
            const s = document.querySelector(
              ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output .widget-slider",
            );
            if (!s) return null;
            return {
              label: s.querySelector(".widget-label")?.textContent ?? "",
              readout: s.querySelector(".widget-readout")?.textContent ?? "",
              handle: s.querySelector(".noUi-handle") !== null,
            };
          })()`,
        );
      },
    );
    expect(slider).toEqual({ label: "answer", readout: "7", handle: true });
  });

  test("keeps: a busy port fails loudly instead of moving to the next one", async () => {
    // The port is taken before the start script runs: a listening socket inherited across exec.
    const hold = [
      "import os, socket",
      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "s.bind(('0.0.0.0', 8888)); s.listen(); os.set_inheritable(s.fileno(), True)",
      "os.execvp('start-notebook.sh', ['start-notebook.sh'])",
    ].join("\n");
    const result = await exec(
      "docker",
      ["run", "--rm", ...HARDENING, "-e", `JUPYTER_TOKEN=${token}`, image, "python3", "-c", hold],
      { timeoutMs: 120_000 },
    );
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/already in use/);
  });

  test("keeps: the single health probe is bash alone and ignores proxy settings", async () => {
    const inspect = JSON.parse(
      await docker(["image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image]),
    ) as string[];
    expect(inspect).toEqual(["CMD", "healthcheck.sh"]);
    // A proxy that answers nothing: a probe that honoured it would never see the server.
    const proxy = "http://127.0.0.1:9";
    const c = await run.start({
      JUPYTER_TOKEN: token,
      http_proxy: proxy,
      HTTP_PROXY: proxy,
      all_proxy: proxy,
      no_proxy: "",
    });
    await waitForHealthy(c.name, 120_000);
    // With nothing but bash on PATH (no python, no curl, not even cat) the probe still passes.
    const r = await exec("docker", [
      "exec",
      c.name,
      "bash",
      "-c",
      "d=$(mktemp -d) && ln -s /bin/bash $d/bash && PATH=$d /usr/local/bin/healthcheck.sh; echo rc=$?",
    ]);
    expect(r.stdout.trim()).toBe("rc=0");
    expect(r.stderr).toBe("");
  });

  test("keeps: nothing in the container runs as root, whichever way it was started", async () => {
    const ids = await docker(["exec", main.name, "id", "-u"]);
    expect(ids).toBe("1000");
    const top = await docker(["top", main.name, "-eo", "pid,uid,args"]);
    for (const p of top.split("\n").slice(1)) expect(p.trim().split(/\s+/)[1]).toBe("1000");
    const logs = await waitFor(
      "the server's start in the log",
      async () => {
        const l = await logsOf(main.name);
        return /Jupyter Server .* is running at/.test(l) ? l : undefined;
      },
      30_000,
    );
    expect(logs).not.toMatch(/running as root/i);
  });
});
