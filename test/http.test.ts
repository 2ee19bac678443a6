/**
 * workshop/http.ts against real local servers: plain HTTP, and HTTPS with certificates made here by
 * openssl (self-signed, signed by a CA nobody trusts as Let's Encrypt staging's are, for another
 * name, expired). What a lying or slow notebook server can do to the instructor's machine is bounded
 * by the deadline and the size cap.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { HttpError, httpRequest, type HttpOptions } from "../workshop/http";
import { describeWithTool, exec, hasCommand } from "./support/docker";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Served {
  url: string;
  /** Requests that reached the handler. */
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
}

const servers: (http.Server | https.Server)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler, tlsFiles?: { key: string; cert: string }): Promise<Served> {
  const requests: Served["requests"] = [];
  const listener: http.RequestListener = (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res);
    });
  };
  const server = tlsFiles ? https.createServer(tlsFiles, listener) : http.createServer(listener);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `${tlsFiles ? "https" : "http"}://127.0.0.1:${port}`, requests };
}

/** Resolves with the HttpError the request failed with; fails the test if it succeeded. */
async function failure(url: string, opts: HttpOptions): Promise<HttpError> {
  const outcome = await httpRequest(url, opts).then(
    (r) => r,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(HttpError);
  return outcome as HttpError;
}

/** Sends `chunk` every `everyMs` until the client goes away. */
function trickle(chunk: string, everyMs: number): Handler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    const timer = setInterval(() => res.write(chunk), everyMs);
    res.on("close", () => clearInterval(timer));
  };
}

describe("httpRequest over HTTP", () => {
  test("returns status, headers and the exact bytes, and sends method, headers and body", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const s = await serve((_req, res) => {
      res.writeHead(201, { "x-answer": "yes", "set-cookie": ["a=1", "b=2"] });
      res.end(bytes);
    });
    const r = await httpRequest(`${s.url}/api/x?token=t`, {
      method: "POST",
      headers: { Authorization: "token t" },
      body: '{"a":1}',
    });
    expect(r.status).toBe(201);
    expect(r.headers["x-answer"]).toBe("yes");
    expect(r.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(r.body.equals(bytes)).toBe(true);
    expect(s.requests).toEqual([
      expect.objectContaining({
        method: "POST",
        url: "/api/x?token=t",
        body: '{"a":1}',
        headers: expect.objectContaining({ authorization: "token t" }) as unknown,
      }),
    ]);
  });

  test("returns a redirect instead of following it", async () => {
    const elsewhere = await serve((_req, res) => res.end("followed"));
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/steal` });
      res.end();
    });
    const r = await httpRequest(`${s.url}/lab`, { headers: { Authorization: "token t" } });
    expect(r.status).toBe(302);
    expect(elsewhere.requests).toEqual([]);
  });

  test("refuses a body over the cap, naming the URL (not its query) and the cap", async () => {
    const s = await serve((_req, res) => res.end(Buffer.alloc(2 * 1024 * 1024, 1)));
    const e = await failure(`${s.url}/api/contents/big?token=secret-token`, {
      maxBodyBytes: 1024 * 1024,
    });
    expect(e.code).toBe("ERR_BODY_TOO_LARGE");
    expect(e.message).toBe(
      `${s.url}/api/contents/big answered with more than 1048576 bytes, the most accepted`,
    );
  });

  test("stops reading an endless body at the cap", async () => {
    const s = await serve(trickle("x".repeat(64 * 1024), 1));
    const e = await failure(`${s.url}/endless`, { maxBodyBytes: 1024 * 1024 });
    expect(e.code).toBe("ERR_BODY_TOO_LARGE");
  });

  test("counts a compressed body at its decoded size", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(bomb);
    });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const e = await failure(`${s.url}/bomb`, { maxBodyBytes: 1024 * 1024 });
    expect(e.code).toBe("ERR_BODY_TOO_LARGE");
  });

  test("gives up at the deadline on a server that trickles bytes faster than the idle timeout", async () => {
    const s = await serve(trickle(".", 20));
    const e = await failure(`${s.url}/lab?token=secret-token`, {
      timeoutMs: 60_000,
      deadlineMs: 500,
    });
    expect(e.code).toBe("ETIMEDOUT");
    expect(e.message).toBe(`${s.url}/lab did not answer completely within 0.5 s`);
  });

  test("gives up after the idle timeout on a server that accepts and never answers", async () => {
    const s = await serve(() => undefined);
    const e = await failure(`${s.url}/api/status`, { timeoutMs: 300, deadlineMs: 60_000 });
    expect(e.code).toBe("ETIMEDOUT");
    expect(e.message).toBe(`${s.url}/api/status: nothing received for 0.3 s`);
  });

  test("reports a refused connection by its code", async () => {
    const s = await serve(() => undefined);
    const port = new URL(s.url).port;
    for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
    const e = await failure(`http://127.0.0.1:${port}/api/status`, {});
    expect(e.code).toBe("ECONNREFUSED");
    expect(e.message).toContain(`http://127.0.0.1:${port}/api/status`);
  });
});

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

interface Pem {
  key: string;
  cert: string;
}

/**
 * A certificate made by openssl: self-signed, or signed by `issuer`; in date unless dates are given
 * (openssl's `YYYYMMDDHHMMSSZ`).
 */
async function certificate(opts: {
  cn: string;
  san: string;
  issuer?: Pem;
  ca?: boolean;
  dates?: [string, string];
}): Promise<Pem> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-http-cert-"));
  tmpDirs.push(dir);
  const file = (name: string) => path.join(dir, name);
  fs.writeFileSync(
    file("ca.cnf"),
    [
      "[ca]",
      "default_ca = d",
      "[d]",
      `database = ${file("index.txt")}`,
      `new_certs_dir = ${dir}`,
      `serial = ${file("serial")}`,
      "default_md = sha256",
      "policy = p",
      "copy_extensions = copy",
      "[p]",
      "commonName = supplied",
    ].join("\n"),
  );
  fs.writeFileSync(file("index.txt"), "");
  fs.writeFileSync(file("serial"), "01\n");
  const extensions = [`subjectAltName=${opts.san}`];
  if (opts.ca) extensions.push("basicConstraints=critical,CA:TRUE", "keyUsage=keyCertSign");
  await exec(
    "openssl",
    [
      ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", file("key.pem"), "-out", file("req.csr"), "-subj", `/CN=${opts.cn}`],
      ...extensions.flatMap((e) => ["-addext", e]),
    ],
    { check: true },
  );
  const signer = opts.issuer
    ? (fs.writeFileSync(file("issuer.pem"), opts.issuer.cert),
      fs.writeFileSync(file("issuer.key"), opts.issuer.key),
      ["-cert", file("issuer.pem"), "-keyfile", file("issuer.key")])
    : ["-selfsign", "-keyfile", file("key.pem")];
  const dates = opts.dates
    ? ["-startdate", opts.dates[0], "-enddate", opts.dates[1]]
    : ["-days", "2"];
  await exec(
    "openssl",
    [
      ...["ca", "-batch", "-notext", "-config", file("ca.cnf"), ...signer, ...dates],
      ...["-in", file("req.csr"), "-out", file("cert.pem")],
    ],
    { check: true },
  );
  return {
    key: fs.readFileSync(file("key.pem"), "utf8"),
    cert: fs.readFileSync(file("cert.pem"), "utf8"),
  };
}

describeWithTool(
  "httpRequest over HTTPS",
  "openssl (apt-get install openssl)",
  hasCommand("openssl"),
  () => {
    let selfSigned: Pem;
    let otherName: Pem;
    let expired: Pem;
    let stagingLike: Pem;
    beforeAll(async () => {
      selfSigned = await certificate({ cn: "notebook", san: "IP:127.0.0.1" });
      otherName = await certificate({ cn: "other", san: "DNS:other.example,IP:10.0.0.1" });
      expired = await certificate({
        cn: "old",
        san: "IP:127.0.0.1",
        dates: ["20200101000000Z", "20200102000000Z"],
      });
      // A leaf from a CA no client trusts, as Let's Encrypt staging hands out.
      const rehearsalCa = await certificate({
        cn: "Rehearsal CA",
        san: "DNS:ca.invalid",
        ca: true,
      });
      stagingLike = await certificate({ cn: "notebook", san: "IP:127.0.0.1", issuer: rehearsalCa });
    });

    const ok: Handler = (_req, res) => res.end("JupyterLab");

    test("public: refuses a self-signed certificate, before sending anything", async () => {
      const s = await serve(ok, selfSigned);
      const e = await failure(`${s.url}/api/status`, { headers: { Authorization: "token t" } });
      expect(e.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
      expect(s.requests).toEqual([]);
    });

    test("public: refuses a certificate from an untrusted CA (a staging rehearsal)", async () => {
      const s = await serve(ok, stagingLike);
      const e = await failure(`${s.url}/api/status`, { tls: "public" });
      expect(e.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    });

    test.each([
      ["self-signed", () => selfSigned],
      ["from an untrusted CA (a staging rehearsal)", () => stagingLike],
    ])("any-issuer-for-host: accepts a certificate %s that names the host", async (_what, pem) => {
      const s = await serve(ok, pem());
      const r = await httpRequest(`${s.url}/lab`, { tls: "any-issuer-for-host" });
      expect({ status: r.status, body: r.body.toString() }).toEqual({
        status: 200,
        body: "JupyterLab",
      });
    });

    test("any-issuer-for-host: refuses a certificate for another name, before sending anything", async () => {
      const s = await serve(ok, otherName);
      const e = await failure(`${s.url}/api/status`, {
        tls: "any-issuer-for-host",
        headers: { Authorization: "token secret-token" },
      });
      expect(e.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(e.message).toContain("127.0.0.1");
      expect(s.requests).toEqual([]);
    });

    test("any-issuer-for-host: refuses an expired certificate", async () => {
      const s = await serve(ok, expired);
      const e = await failure(`${s.url}/api/status`, { tls: "any-issuer-for-host" });
      expect(e.code).toBe("CERT_HAS_EXPIRED");
      expect(s.requests).toEqual([]);
    });

    test("any-issuer-for-host: the cap and the deadline hold over HTTPS too", async () => {
      const big = await serve((_req, res) => res.end(Buffer.alloc(2 * 1024 * 1024)), selfSigned);
      expect(
        (await failure(`${big.url}/f`, { tls: "any-issuer-for-host", maxBodyBytes: 1024 * 1024 }))
          .code,
      ).toBe("ERR_BODY_TOO_LARGE");
      const slow = await serve(trickle(".", 20), selfSigned);
      const e = await failure(`${slow.url}/f`, {
        tls: "any-issuer-for-host",
        timeoutMs: 60_000,
        deadlineMs: 500,
      });
      expect(e.message).toBe(`${slow.url}/f did not answer completely within 0.5 s`);
    });
  },
);
