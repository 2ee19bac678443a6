import {
  defaultProxyImage,
  isPubliclyTrusted,
  letsEncryptProductionCa,
  letsEncryptStagingCa,
  parseTlsSettings,
  type TlsSettingsInput,
} from "../lib/tlsSettings";

const hostname = "nb-ada.abc123456.projects.jetstream-cloud.org";
const jetstream: TlsSettingsInput = { target: "jetstream", hostname, hostnameKey: "allocation" };
const digest = `sha256:${"0f".repeat(32)}`;

describe("parseTlsSettings: accepted settings", () => {
  test("Jetstream2 defaults to letsencrypt with the official caddy tag", () => {
    const r = parseTlsSettings(jetstream);
    expect(r.problems).toEqual([]);
    expect(r.settings).toEqual({
      mode: "letsencrypt",
      proxyImage: defaultProxyImage,
    });
    expect(r.warnings).toEqual([
      "[acmeEmail] is not set: the proxy asks Let's Encrypt only. With an email address it falls back to ZeroSSL when Let's Encrypt refuses, for instance once the weekly limit that all of jetstream-cloud.org shares has run out (see docs/https.md).",
    ]);
  });

  test("the local target defaults to off, silently", () => {
    expect(parseTlsSettings({ target: "local" })).toEqual({
      settings: {
        mode: "off",
        proxyImage: defaultProxyImage,
      },
      problems: [],
      warnings: [],
    });
  });

  test("letsencrypt with an email and the staging CA: a rehearsal, said so", () => {
    const r = parseTlsSettings({
      ...jetstream,
      tls: " LetsEncrypt ",
      acmeEmail: " instructor@example.edu ",
      acmeCa: letsEncryptStagingCa,
    });
    expect(r.settings).toEqual({
      mode: "letsencrypt",
      acmeEmail: "instructor@example.edu",
      acmeCa: letsEncryptStagingCa,
      proxyImage: defaultProxyImage,
    });
    expect(r.warnings).toEqual([
      "[acmeCa] is Let's Encrypt's staging CA: good for rehearsals (its limits are far higher), but browsers do not trust its certificates. Remove acmeCa before the workshop (pulumi config rm acmeCa).",
    ]);
  });

  test("the production CA named explicitly is still publicly trusted, and needs no warning", () => {
    const r = parseTlsSettings({
      ...jetstream,
      acmeEmail: "i@example.edu",
      acmeCa: letsEncryptProductionCa,
    });
    expect(isPubliclyTrusted(r.settings!.mode, r.settings!.acmeCa)).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  test("another ACME CA is used alone, with a reminder", () => {
    const r = parseTlsSettings({ ...jetstream, acmeCa: "https://acme.example.edu/directory" });
    expect(r.settings?.acmeCa).toBe("https://acme.example.edu/directory");
    expect(isPubliclyTrusted(r.settings!.mode, r.settings!.acmeCa)).toBe(false);
    expect(r.warnings).toEqual([
      "[acmeCa] is https://acme.example.edu/directory: the proxy uses only that CA. Make sure browsers trust its certificates.",
    ]);
  });

  test("a digest-pinned proxy image is taken as given", () => {
    const r = parseTlsSettings({
      ...jetstream,
      acmeEmail: "i@example.edu",
      proxyImage: `caddy:2.11.4@${digest}`,
    });
    expect(r.settings).toMatchObject({
      proxyImage: `caddy:2.11.4@${digest}`,
    });
    expect(
      parseTlsSettings({
        ...jetstream,
        proxyImage: `registry.example.edu:5000/ops/caddy@${digest}`,
      }).problems,
    ).toEqual([]);
  });

  test("self-signed explains the browser prompt and ignores the ACME settings", () => {
    const r = parseTlsSettings({
      ...jetstream,
      tls: "self-signed",
      acmeEmail: "instructor@example.edu",
      acmeCa: letsEncryptStagingCa,
    });
    expect(r.settings).toEqual({
      mode: "self-signed",
      proxyImage: defaultProxyImage,
    });
    expect(r.warnings).toEqual([
      "[acmeEmail] is ignored: it is only used when tls is letsencrypt (tls is self-signed).",
      "[acmeCa] is ignored: it is only used when tls is letsencrypt (tls is self-signed).",
      "[tls] is self-signed: the connection is encrypted, but browsers do not know the proxy's own certificate authority, so each student first sees a warning page ('Your connection is not private' / 'Warning: Potential Security Risk Ahead') and must choose Advanced, then Proceed/Accept the risk. Nothing proves to the student that the server is theirs; prefer letsencrypt when the instance has its Jetstream2 DNS name.",
    ]);
  });

  test("off on Jetstream2 is loud, first, and needs no hostname", () => {
    const r = parseTlsSettings({ target: "jetstream", tls: "off", acmeEmail: "i@example.edu" });
    expect(r.settings?.mode).toBe("off");
    expect(r.warnings).toEqual([
      "[tls] is off: every notebook is served over plain HTTP on its public IP. The token in the URL, and everything students type and run, cross the network in clear text where anyone on the path can read them and take over the notebook. Use this only on a network you trust.",
      "[acmeEmail] is ignored: it is only used when tls is letsencrypt (tls is off).",
    ]);
  });
});

describe("parseTlsSettings: problems, each naming its key", () => {
  test.each<[string, Partial<TlsSettingsInput>, string[]]>([
    [
      "an unknown mode",
      { tls: "https" },
      ['[tls] must be one of letsencrypt, self-signed, off, got "https"'],
    ],
    [
      "letsencrypt on the local target",
      { target: "local", tls: "letsencrypt", hostname: undefined },
      [
        "[tls] letsencrypt applies to the jetstream target only: the local target serves plain HTTP on 127.0.0.1, where nothing crosses a network. Remove tls from this stack's config (pulumi config rm tls) or set it to off",
      ],
    ],
    [
      "no hostname on Jetstream2",
      { hostname: undefined },
      [
        "[tls] letsencrypt needs the instance's DNS name, which Jetstream2 derives from the allocation: set [allocation] (e.g. pulumi config set allocation abc123456), or set tls to off",
      ],
    ],
    [
      "a hostname a certificate cannot name",
      { hostname: "NB_Ada.abc123456.projects.jetstream-cloud.org" },
      [
        '[allocation] gives the hostname "NB_Ada.abc123456.projects.jetstream-cloud.org", which is not a lower-case DNS name a certificate can be issued for: check the instance and allocation names',
      ],
    ],
    [
      "a bad email",
      { acmeEmail: "instructor at example.edu" },
      [
        '[acmeEmail] must be an email address such as instructor@example.edu, got "instructor at example.edu"',
      ],
    ],
    [
      "a CA over plain HTTP",
      { acmeCa: "http://acme-staging-v02.api.letsencrypt.org/directory" },
      [
        `[acmeCa] must be the https:// URL of an ACME directory, such as Let's Encrypt's staging ${letsEncryptStagingCa}, got "http://acme-staging-v02.api.letsencrypt.org/directory"`,
      ],
    ],
    [
      "a CA that is not a URL",
      { acmeCa: "staging" },
      [
        `[acmeCa] must be the https:// URL of an ACME directory, such as Let's Encrypt's staging ${letsEncryptStagingCa}, got "staging"`,
      ],
    ],
    [
      "a proxy image without a version",
      { proxyImage: "caddy" },
      [
        '[proxyImage] must name a version (caddy:2.11.4) or a digest (caddy@sha256:...), not a moving tag: got "caddy"',
      ],
    ],
    [
      "a proxy image on latest",
      { proxyImage: "caddy:latest" },
      [
        '[proxyImage] must name a version (caddy:2.11.4) or a digest (caddy@sha256:...), not a moving tag: got "caddy:latest"',
      ],
    ],
    [
      "a malformed proxy image",
      { proxyImage: "Caddy:2.11 " },
      [
        '[proxyImage] must be an image reference such as caddy:2.11.4 or caddy@sha256:<64 hex digits>, got "Caddy:2.11 "',
      ],
    ],
    [
      "several at once",
      { tls: "self-signed", hostname: undefined, hostnameKey: "allocationName", acmeEmail: "x" },
      [
        "[tls] self-signed needs the instance's DNS name, which Jetstream2 derives from the allocation: set [allocationName] (e.g. pulumi config set allocationName abc123456), or set tls to off",
        '[acmeEmail] must be an email address such as instructor@example.edu, got "x"',
      ],
    ],
  ])("%s", (_what, override, problems) => {
    const r = parseTlsSettings({ ...jetstream, ...override });
    expect(r.problems).toEqual(problems);
    expect(r.settings).toBeUndefined();
  });
});
