/**
 * Certificates made by openssl for tests that stand up a TLS server of their own (SMTP, a notebook
 * behind HTTPS): self-signed, so no public root vouches for them.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Pem {
  key: string;
  cert: string;
}

/** A self-signed EC certificate for `subjectAltName` (`DNS:localhost`), in date for `days`. */
export function selfSignedCertificate(subjectAltName: string, cn = "localhost", days = 2): Pem {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jn-cert-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", key, "-out", cert, "-subj", `/CN=${cn}`, "-days", String(days)],
        ...["-addext", `subjectAltName=${subjectAltName}`],
      ],
      { stdio: "ignore" },
    );
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
