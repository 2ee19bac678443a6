/**
 * The notebook's last activity, read from a server the student controls: a real local HTTP server
 * plays an honest Jupyter and a lying one. Whatever it says, status gets a plain ISO time or nothing.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parseLastActivity, readLastActivity } from "../workshop/lastActivity";

describe("parseLastActivity", () => {
  test.each([
    [
      "Jupyter's own answer",
      { started: "x", last_activity: "2030-06-29T11:45:00.123456Z" },
      "2030-06-29T11:45:00.123Z",
    ],
    ["an offset", { last_activity: "2030-06-29T13:45:00+02:00" }, "2030-06-29T11:45:00.000Z"],
    ["no last_activity", { started: "2030-06-29T11:45:00Z" }, undefined],
    ["a number", { last_activity: 1893000000 }, undefined],
    ["a table-breaking string", { last_activity: "2030-06-29T11:45:00Z\n| evil | row" }, undefined],
    ["a date-ish string", { last_activity: "yesterday" }, undefined],
    ["an impossible date", { last_activity: "2030-02-30T11:45:00Z" }, undefined],
    ["a list", [{ last_activity: "2030-06-29T11:45:00Z" }], undefined],
    ["null", null, undefined],
  ])("%s", (_what, body, expected) => {
    expect(parseLastActivity(Buffer.from(JSON.stringify(body)))).toBe(expected);
  });

  test("text that is not JSON, and a very long value", () => {
    expect(parseLastActivity(Buffer.from("<html>"))).toBeUndefined();
    expect(
      parseLastActivity(Buffer.from(JSON.stringify({ last_activity: "2".repeat(10_000) }))),
    ).toBeUndefined();
  });
});

describe("readLastActivity against a real server", () => {
  let server: http.Server;
  let base = "";
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => {};
  beforeAll(async () => {
    server = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const url = () => `${base}/lab?token=abc123`;

  test("asks /api/status with the token in a header, not the URL", async () => {
    const seen: { url?: string; auth?: string }[] = [];
    handler = (req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ last_activity: "2030-06-29T11:45:00.000000Z" }));
    };
    expect(await readLastActivity(url(), {})).toBe("2030-06-29T11:45:00.000Z");
    expect(seen).toEqual([{ url: "/api/status", auth: "token abc123" }]);
  });

  test("a refusal, a huge body or a server that never finishes gives nothing, quickly", async () => {
    handler = (_req, res) => {
      res.writeHead(403);
      res.end("{}");
    };
    expect(await readLastActivity(url(), {})).toBeUndefined();
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`{"last_activity":"2030-06-29T11:45:00Z","pad":"${"x".repeat(200_000)}"}`);
    };
    expect(await readLastActivity(url(), {})).toBeUndefined();
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"last_activity":');
      // never ends
    };
    expect(await readLastActivity(url(), { timeoutMs: 300 })).toBeUndefined();
  });
});
