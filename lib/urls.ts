/**
 * The strings a stack outputs, built from plain values so they are tested without Pulumi. The
 * program applies these to resolved outputs.
 */

/** Where a browser opens the notebook; the token makes it a secret. */
export function notebookUrl(host: string, port: number, token: string): string {
  return `http://${host}:${port}/lab?token=${encodeURIComponent(token)}`;
}

/** The notebook behind the HTTPS proxy: `base` is the proxy's `https://<hostname>/`. */
export function httpsNotebookUrl(base: string, token: string): string {
  return `${base.replace(/\/$/, "")}/lab?token=${encodeURIComponent(token)}`;
}

/** Jetstream2's DNS name for an instance: `<instance>.<allocation>.projects.jetstream-cloud.org`. */
export function jetstreamHostname(instanceName: string, allocation: string | undefined): string {
  return allocation ? `${instanceName}.${allocation}.projects.jetstream-cloud.org` : "";
}

/** The VM's login user on Jetstream2's Ubuntu images. */
export const vmUser = "ubuntu";

/**
 * How a person logs in to the VM. With the stack's own key, the key file is the one the docs say
 * to save from the `sshPrivateKey` output; with an extra key of theirs, their own SSH setup applies.
 */
export function sshCommand(ip: string, keyFile: string | undefined): string {
  return keyFile ? `ssh -i ${keyFile} ${vmUser}@${ip}` : `ssh ${vmUser}@${ip}`;
}
