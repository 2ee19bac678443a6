import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderCaddyfile } from "../lib/caddyfile";
import { isDnsName } from "../lib/rules/names";
import { describeWithTool, hasCommand } from "./support/docker";

const host = "nb-ada.abc123456.projects.jetstream-cloud.org";
const upstream = { host: "nb-ada", port: 8888 };

describe("renderCaddyfile", () => {
  // The one exact text, kept so a change to it shows in review; what it means to Caddy is asserted
  // below by adapting it (and its variants) with the real caddy.
  test("the golden Caddyfile: letsencrypt with an email and the staging CA", () => {
    expect(
      renderCaddyfile({
        hostname: host,
        mode: "letsencrypt",
        upstream,
        acmeEmail: "instructor@example.edu",
        acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory",
      }),
    ).toMatchInlineSnapshot(`
      "# Rendered by jetstream-notebooks: HTTPS in front of one notebook. Do not edit by hand.
      {
      	email instructor@example.edu
      	acme_ca https://acme-staging-v02.api.letsencrypt.org/directory
      	admin off
      	servers {
      		protocols h1 h2
      	}
      }

      nb-ada.abc123456.projects.jetstream-cloud.org {
      	header Strict-Transport-Security "max-age=31536000"
      	reverse_proxy nb-ada:8888
      }
      "
    `);
  });

  test.each([
    [
      { hostname: "NB.example.org" },
      /hostname must be a lower-case DNS name, got "NB.example.org"/,
    ],
    [{ hostname: "localhost" }, /hostname must be a lower-case DNS name/],
    [{ hostname: "192.0.2.10" }, /hostname must be a lower-case DNS name/],
    [{ hostname: "a.example.org {\n\trespond hi\n}" }, /hostname must be a lower-case DNS name/],
    [{ mode: "off" }, /mode must be letsencrypt or self-signed, got "off"/],
    [
      { upstream: { host: "nb ada", port: 8888 } },
      /upstream host must be a container name or address, got "nb ada"/,
    ],
    [{ upstream: { host: "nb", port: 0 } }, /upstream port must be 1-65535, got 0/],
    [{ acmeEmail: "me at example.edu" }, /acmeEmail is not an email address: "me at example.edu"/],
    [
      { acmeCa: "http://ca.example/dir" },
      /acmeCa must be an https:\/\/ URL, got "http:\/\/ca.example\/dir"/,
    ],
    [{ hstsMaxAgeSeconds: -1 }, /hstsMaxAgeSeconds must be a whole number >= 0, got -1/],
  ])("refuses %j", (override, message) => {
    expect(() =>
      renderCaddyfile({ hostname: host, mode: "letsencrypt", upstream, ...override } as Parameters<
        typeof renderCaddyfile
      >[0]),
    ).toThrow(message);
  });

  test.each([
    ["nb-ada.abc123456.projects.jetstream-cloud.org", true],
    ["notebook.test", true],
    ["a.b", true],
    ["-a.example.org", false],
    ["a-.example.org", false],
    ["a..example.org", false],
    ["single", false],
    ["10.0.0.1", false],
    [`${"a".repeat(64)}.example.org`, false],
  ])("isDnsName(%s) is %s", (name, expected) => {
    expect(isDnsName(name)).toBe(expected);
  });
});

// The text above is only worth exact tests if Caddy reads it as meant: adapt it with the real Caddy
// (Debian's package, an older release than the image) and check the JSON it becomes.
describeWithTool(
  "renderCaddyfile with the real caddy adapt",
  "caddy (Debian's package)",
  hasCommand("caddy"),
  () => {
    function adapt(text: string): Record<string, unknown> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-tls-caddyfile-"));
      try {
        const file = path.join(dir, "Caddyfile");
        fs.writeFileSync(file, text);
        const out = execFileSync("caddy", ["adapt", "--config", file, "--adapter", "caddyfile"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
        return JSON.parse(out) as Record<string, unknown>;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    test("letsencrypt: one HTTPS server, HSTS then the proxy, the staging CA as the only issuer", () => {
      const json = adapt(
        renderCaddyfile({
          hostname: host,
          mode: "letsencrypt",
          upstream,
          acmeEmail: "instructor@example.edu",
          acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory",
        }),
      );
      expect(json).toEqual({
        admin: { disabled: true },
        apps: {
          http: {
            servers: {
              srv0: {
                listen: [":443"],
                protocols: ["h1", "h2"],
                routes: [
                  {
                    match: [{ host: [host] }],
                    handle: [
                      {
                        handler: "subroute",
                        routes: [
                          {
                            handle: [
                              {
                                handler: "headers",
                                response: {
                                  set: { "Strict-Transport-Security": ["max-age=31536000"] },
                                },
                              },
                              { handler: "reverse_proxy", upstreams: [{ dial: "nb-ada:8888" }] },
                            ],
                          },
                        ],
                      },
                    ],
                    terminal: true,
                  },
                ],
              },
            },
          },
          tls: {
            automation: {
              policies: [
                {
                  subjects: [host],
                  issuers: [
                    {
                      module: "acme",
                      ca: "https://acme-staging-v02.api.letsencrypt.org/directory",
                      email: "instructor@example.edu",
                    },
                  ],
                },
              ],
            },
          },
        },
      });
    });

    test("letsencrypt without email or CA leaves the issuers to Caddy's defaults", () => {
      const json = adapt(renderCaddyfile({ hostname: host, mode: "letsencrypt", upstream })) as {
        apps: Record<string, unknown>;
      };
      expect(Object.keys(json.apps)).toEqual(["http"]);
    });

    test("self-signed: the internal issuer only (ACME settings ignored), no local trust install, its own HSTS and upstream", () => {
      const json = adapt(
        renderCaddyfile({
          hostname: "notebook.test",
          mode: "self-signed",
          upstream: { host: "jn-nb", port: 9000 },
          acmeEmail: "instructor@example.edu",
          acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory",
          hstsMaxAgeSeconds: 300,
        }),
      ) as {
        apps: { pki: unknown; tls: unknown; http: unknown };
      };
      expect(json.apps.pki).toEqual({
        certificate_authorities: { local: { install_trust: false } },
      });
      expect(json.apps.tls).toEqual({
        automation: {
          policies: [{ subjects: ["notebook.test"], issuers: [{ module: "internal" }] }],
        },
      });
      const route = JSON.stringify(json.apps.http);
      expect(route).toContain('"Strict-Transport-Security":["max-age=300"]');
      expect(route).toContain('"upstreams":[{"dial":"jn-nb:9000"}]');
    });

    test("caddy fmt leaves the rendered text unchanged", () => {
      const text = renderCaddyfile({
        hostname: host,
        mode: "letsencrypt",
        upstream,
        acmeEmail: "a@b.org",
      });
      const formatted = execFileSync("caddy", ["fmt", "-"], { input: text, encoding: "utf8" });
      expect(formatted).toBe(text);
    });
  },
);
