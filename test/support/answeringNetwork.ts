/**
 * A stand-in for the network the HTTPS readiness waits ask (DNS and one HTTPS request), for
 * programs evaluated under mocks: the name resolves to the VM's address and the proxy answers with a
 * trusted certificate for it. The waits' own logic runs; only the network is answered. What a real
 * resolver and a real Caddy do is tested in test/tlsProxy.test.ts.
 */
import type { ReadinessDeps } from "../../lib/httpsReadiness";

export interface NetworkCall {
  kind: "resolve" | "probe";
  hostname: string;
}

/**
 * Answers every lookup with `address`; records each call into `calls`. With `trusted` false the
 * certificate names the host but its chain is not trusted (as with Caddy's internal CA).
 */
export function answeringNetwork(
  address: string,
  calls: NetworkCall[] = [],
  { trusted = true }: { trusted?: boolean } = {},
): ReadinessDeps {
  return {
    resolve: (hostname) => {
      calls.push({ kind: "resolve", hostname });
      return Promise.resolve([address]);
    },
    probe: (request) => {
      calls.push({ kind: "probe", hostname: request.hostname });
      return Promise.resolve({
        status: 200,
        headers: { "strict-transport-security": "max-age=31536000" },
        certificate: {
          subject: { CN: request.hostname },
          issuer: { CN: "E7", O: "Let's Encrypt" },
          subjectaltname: `DNS:${request.hostname}`,
          valid_from: "Jan  1 00:00:00 2020 GMT",
          valid_to: "Jan  1 00:00:00 2099 GMT",
        },
        authorized: trusted,
        ...(trusted ? {} : { authorizationError: "SELF_SIGNED_CERT_IN_CHAIN" }),
      });
    },
    sleep: () => Promise.resolve(),
    now: () => Date.now(),
    log: () => undefined,
  };
}
