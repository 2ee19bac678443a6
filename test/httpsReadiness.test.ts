/**
 * The readiness waits with scripted network answers and a fake clock. The real network (DNS, a real
 * Caddy with a real certificate) is exercised in test/tlsProxy.test.ts.
 */
import {
  type CertificateSummary,
  formatDuration,
  judgeAnswer,
  type ProbeAnswer,
  type ReadinessDeps,
  waitForDns,
  waitForHttps,
} from "../lib/httpsReadiness";

const hostname = "nb-ada.abc123456.projects.jetstream-cloud.org";
const t0 = Date.parse("2026-09-01T12:00:00Z");

function dnsError(code: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code });
}

/** Deps whose answers come from scripts, one entry per call; the clock moves only when sleeping. */
function scripted(opts: {
  resolve?: (string[] | Error)[];
  probe?: (ProbeAnswer | Error)[];
}): ReadinessDeps & { messages: string[]; clock: { now: number }; probes: number } {
  const clock = { now: t0 };
  const resolveScript = [...(opts.resolve ?? [])];
  const probeScript = [...(opts.probe ?? [])];
  const deps = {
    messages: [] as string[],
    clock,
    probes: 0,
    resolve: () => {
      const next = resolveScript.length > 1 ? resolveScript.shift()! : resolveScript[0];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    probe: () => {
      deps.probes += 1;
      const next = probeScript.length > 1 ? probeScript.shift()! : probeScript[0];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    sleep: (ms: number) => {
      clock.now += ms;
      return Promise.resolve();
    },
    now: () => clock.now,
    log: (m: string) => deps.messages.push(m),
  };
  return deps;
}

function cert(overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    subject: { CN: hostname },
    issuer: { O: "Let's Encrypt", CN: "E7" },
    subjectaltname: `DNS:${hostname}`,
    valid_from: "Aug 30 00:00:00 2026 GMT",
    valid_to: "Nov 28 00:00:00 2026 GMT",
    ...overrides,
  };
}

function answer(overrides: Partial<ProbeAnswer> = {}): ProbeAnswer {
  return {
    status: 200,
    headers: { "strict-transport-security": "max-age=31536000" },
    certificate: cert(),
    authorized: true,
    ...overrides,
  };
}

describe("waitForDns", () => {
  test("reports the wait while the name does not exist, then returns its addresses", async () => {
    const deps = scripted({
      resolve: [
        dnsError("ENOTFOUND"),
        dnsError("ENOTFOUND"),
        dnsError("EAI_AGAIN"),
        ["192.0.2.10"],
      ],
    });
    await expect(waitForDns({ hostname, timeoutMs: 600_000 }, deps)).resolves.toEqual([
      "192.0.2.10",
    ]);
    // Said once, not once per attempt.
    expect(deps.messages).toEqual([
      `waiting for DNS name ${hostname} to appear (Jetstream2 publishes it a minute or two after the floating IP is attached)`,
    ]);
    expect(deps.clock.now - t0).toBe(15_000);
  });

  test("repeats the message with the time so far, every 30 s of a long wait", async () => {
    const deps = scripted({
      resolve: [...Array<Error>(13).fill(dnsError("ENOTFOUND")), ["192.0.2.10"]],
    });
    await waitForDns({ hostname, timeoutMs: 600_000 }, deps);
    expect(deps.messages.map((m) => m.replace(/.*\(([^)]*so far)\)$/, "$1"))).toEqual([
      expect.stringMatching(/^waiting for DNS name/),
      "30s so far",
      "1m so far",
    ]);
  });

  test("waits for the floating IP when the name still points elsewhere", async () => {
    const deps = scripted({ resolve: [["198.51.100.7"], ["198.51.100.7"], ["192.0.2.10"]] });
    await expect(
      waitForDns({ hostname, expectedAddress: "192.0.2.10", timeoutMs: 600_000 }, deps),
    ).resolves.toEqual(["192.0.2.10"]);
    expect(deps.messages).toEqual([
      `${hostname} resolves to 198.51.100.7, not yet to this instance's floating IP 192.0.2.10 (an earlier record, or one still cached): waiting`,
    ]);
  });

  test("fails at the deadline with what it waited for and what to check", async () => {
    const deps = scripted({ resolve: [dnsError("ENOTFOUND")] });
    await expect(
      waitForDns({ hostname, timeoutMs: 120_000, intervalMs: 10_000 }, deps),
    ).rejects.toThrow(
      `DNS name ${hostname} was not ready after 2m: still waiting for DNS name ${hostname} to appear ` +
        "(Jetstream2 publishes it a minute or two after the floating IP is attached). Check that the " +
        "floating IP is attached to the instance and that the instance and allocation names in the " +
        "stack config are right (the name is <instance>.<allocation>.projects.jetstream-cloud.org).",
    );
  });

  test("does not retry an error that is not about a missing name", async () => {
    const deps = scripted({ resolve: [Object.assign(new Error("boom"), { code: "EBADNAME" })] });
    await expect(waitForDns({ hostname, timeoutMs: 600_000 }, deps)).rejects.toThrow("boom");
    expect(deps.clock.now).toBe(t0);
  });
});

describe("judgeAnswer", () => {
  const now = Date.parse("2026-09-01T12:00:00Z");
  test("a trusted certificate for the name with the notebook answering is ready", () => {
    expect(judgeAnswer({ hostname, check: "trusted" }, answer(), now)).toBeUndefined();
  });
  test.each<[string, Partial<ProbeAnswer>, "trusted" | "names-host", string]>([
    [
      "another name",
      {
        certificate: cert({
          subjectaltname: "DNS:other.example.org",
          subject: { CN: "other.example.org" },
        }),
      },
      "trusted",
      "cert-name",
    ],
    [
      "expired",
      { certificate: cert({ valid_to: "Aug 31 00:00:00 2026 GMT" }) },
      "names-host",
      "cert-dates",
    ],
    [
      "untrusted chain",
      { authorized: false, authorizationError: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" },
      "trusted",
      "cert-untrusted",
    ],
    ["the notebook not up", { status: 502 }, "trusted", "upstream"],
  ])("%s is not ready", (_what, override, check, kind) => {
    expect(judgeAnswer({ hostname, check }, answer(override), now)?.kind).toBe(kind);
  });
  test("names-host accepts an untrusted issuer (self-signed, staging)", () => {
    expect(
      judgeAnswer(
        { hostname, check: "names-host" },
        answer({ authorized: false, authorizationError: "SELF_SIGNED_CERT_IN_CHAIN" }),
        now,
      ),
    ).toBeUndefined();
  });
});

describe("waitForHttps", () => {
  test("goes through connection refused, no certificate yet and a 502 to ready", async () => {
    const deps = scripted({
      probe: [
        Object.assign(new Error("connect ECONNREFUSED 192.0.2.10:443"), { code: "ECONNREFUSED" }),
        Object.assign(new Error("tlsv1 alert internal error"), {
          code: "ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR",
        }),
        answer({ status: 502 }),
        answer(),
      ],
    });
    const ready = await waitForHttps({ hostname, check: "trusted", timeoutMs: 600_000 }, deps);
    expect(ready).toEqual({
      url: `https://${hostname}/api`,
      status: 200,
      issuer: "Let's Encrypt / E7",
      validTo: "Nov 28 00:00:00 2026 GMT",
      hsts: "max-age=31536000",
      elapsedMs: 15_000,
    });
    expect(deps.messages).toEqual([
      `waiting for the proxy on ${hostname}:443 to accept connections (connect ECONNREFUSED 192.0.2.10:443)`,
      `the proxy on ${hostname}:443 accepts connections but has no certificate for ${hostname} yet (ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: tlsv1 alert internal error): the CA is being asked`,
      `HTTPS on ${hostname} has a valid certificate, but the notebook behind the proxy does not answer yet (HTTP 502)`,
    ]);
  });

  test("a DNS failure during the HTTPS wait is waited out with the DNS message", async () => {
    const deps = scripted({ probe: [dnsError("ENOTFOUND"), answer()] });
    await waitForHttps({ hostname, check: "trusted", timeoutMs: 600_000 }, deps);
    expect(deps.messages[0]).toMatch(
      /^waiting for DNS name .* to appear \(Jetstream2 publishes it/,
    );
  });

  test("fails at the deadline naming the last state and where to look", async () => {
    const deps = scripted({
      probe: [
        Object.assign(new Error("tlsv1 alert internal error"), {
          code: "ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR",
        }),
      ],
    });
    await expect(
      waitForHttps({ hostname, check: "trusted", timeoutMs: 90_000, intervalMs: 10_000 }, deps),
    ).rejects.toThrow(
      `HTTPS on ${hostname} was not ready after 1m30s; last seen: the proxy on ${hostname}:443 accepts ` +
        `connections but has no certificate for ${hostname} yet (ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: ` +
        "tlsv1 alert internal error): the CA is being asked. The proxy could not obtain a certificate. " +
        "Its log (docker logs on the instance) says why: usually port 80 not reachable from the " +
        "internet, or a Let's Encrypt rate limit (docs/https.md).",
    );
    expect(deps.probes).toBe(10);
  });

  test("an untrusted certificate is not ready when trust is required", async () => {
    const deps = scripted({
      probe: [answer({ authorized: false, authorizationError: "CERT_UNTRUSTED" })],
    });
    await expect(
      waitForHttps({ hostname, check: "trusted", timeoutMs: 10_000 }, deps),
    ).rejects.toThrow(
      /last seen: the certificate for .* \(issuer Let's Encrypt \/ E7\) does not verify: CERT_UNTRUSTED/,
    );
  });
});

test.each([
  [0, "0s"],
  [59_400, "59s"],
  [60_000, "1m"],
  [90_000, "1m30s"],
  [900_000, "15m"],
])("formatDuration(%d) is %s", (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});
