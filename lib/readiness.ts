/**
 * The readiness gate's script: run over SSH on the VM before any Docker resource touches it.
 *
 * `cloud-init status --wait` exits 0 when boot finished cleanly, 1 on an error and (cloud-init
 * 23.4 and later) 2 on "recoverable errors": a module warned, a key was deprecated, a datasource
 * was slow. Exit 2 is accepted only when our own setup script reached its end (its marker exists)
 * and Docker answers; the details are printed either way, so a warning shows in
 * `pulumi up` without failing a classroom of VMs over it. Anything else fails the gate with
 * `cloud-init status --long` and the tail of the setup log. Docker is asked through sudo: this SSH
 * session began before the setup script added the login user to the docker group.
 *
 * The script does not name the notebook image: the user data that pre-pulls an image is applied
 * only when the VM is created, so a later image (a rebuilt one rolled to running VMs) must neither
 * re-run the gate nor fail it. The marker records which image the VM was first set up with.
 */
import { readyMarker } from "./cloudInit";
import { dataErrorFile } from "./courseData";

/** How long the gate waits for cloud-init before giving up (first boots pull a 1 GB image). */
export const cloudInitTimeoutSeconds = 25 * 60;

/**
 * The script; `marker` is the setup's completion marker and `dataError` the file a failed shared
 * data fetch leaves (parameters so tests can move them).
 */
export function readinessScript(
  marker: string = readyMarker,
  dataError: string = dataErrorFile,
): string {
  return [
    "set -u",
    `marker='${marker}'`,
    "status=0",
    `timeout ${cloudInitTimeoutSeconds} cloud-init status --wait >/dev/null || status=$?`,
    "# The shared data's own message (the URL and both checksums) first, not a log to dig through.",
    `if [ -s '${dataError}' ]; then`,
    `  echo "the course's shared data failed: $(cat '${dataError}')" >&2`,
    "  exit 1",
    "fi",
    "details() {",
    "  cloud-init status --long >&2 || true",
    "  sudo tail -n 40 /var/log/cloud-init-output.log >&2 || true",
    "}",
    "setup_done() {",
    '  [ -s "$marker" ] && sudo -n docker info >/dev/null 2>&1',
    "}",
    'case "$status" in',
    "  0) ;;",
    "  2)",
    "    if setup_done; then",
    '      echo "cloud-init finished with recoverable errors; the notebook setup completed, continuing:" >&2',
    "      details",
    "    else",
    '      echo "cloud-init finished with recoverable errors and the notebook setup did not complete:" >&2',
    "      details",
    "      exit 1",
    "    fi",
    "    ;;",
    "  124)",
    `    echo "cloud-init did not finish within ${cloudInitTimeoutSeconds} s:" >&2`,
    "    details",
    "    exit 1",
    "    ;;",
    "  *)",
    '    echo "cloud-init failed (exit $status):" >&2',
    "    details",
    "    exit 1",
    "    ;;",
    "esac",
    "if ! setup_done; then",
    '  echo "cloud-init finished but the notebook setup marker or Docker is missing:" >&2',
    "  details",
    "  exit 1",
    "fi",
    'echo "ready: $(hostname) runs Docker $(sudo -n docker version --format "{{.Server.Version}}"), set up with $(cat "$marker")"',
  ].join("\n");
}
