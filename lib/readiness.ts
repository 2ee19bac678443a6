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
 * How often the gate says it is still waiting: `cloud-init status --wait` prints nothing for up to
 * 25 minutes, and the SSH session carries no keepalives, so a silent `pulumi up` looks hung.
 */
export const gateProgressSeconds = 60;

/**
 * The script; `marker` is the setup's completion marker, `progressSeconds` the interval of its
 * progress lines and `dataError` the file a failed shared data fetch leaves (parameters so tests
 * can move them).
 */
export function readinessScript(
  marker: string = readyMarker,
  progressSeconds: number = gateProgressSeconds,
  dataError: string = dataErrorFile,
): string {
  return [
    "set -u",
    `marker='${marker}'`,
    "status=0",
    // A ticker in the background; one-second sleeps so that killing it leaves no sleep behind
    // holding the session's output open.
    "(",
    "  elapsed=0",
    "  while :; do",
    `    for _ in $(seq 1 ${progressSeconds}); do sleep 1; done`,
    `    elapsed=$((elapsed + ${progressSeconds}))`,
    '    echo "still waiting for cloud-init on $(hostname) (${elapsed} s): $(cloud-init status 2>/dev/null | tr -s "\n" " ")"',
    "  done",
    ") &",
    "ticker=$!",
    `timeout ${cloudInitTimeoutSeconds} cloud-init status --wait >/dev/null || status=$?`,
    'kill "$ticker" 2>/dev/null || true',
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

/**
 * The flavor guard's create step: records `<flavor> <root disk GB>` (its stdout, kept in the
 * stack's state) from JN_FLAVOR and JN_DISK_GB.
 */
export function flavorRecordScript(): string {
  return 'printf "%s %s\\n" "$JN_FLAVOR" "$JN_DISK_GB"';
}

/**
 * The flavor guard's update step, run before the instance is resized: refuses a flavor whose root
 * disk is smaller than the recorded one's (Nova cannot shrink a disk, and the resize would fail
 * halfway with the VM rebooted), naming both flavors; otherwise records the new flavor.
 */
export function flavorChangeScript(): string {
  return [
    "set -eu",
    'previous="${PULUMI_COMMAND_STDOUT:-}"',
    'old_flavor="${previous%% *}"',
    'old_disk="${previous##* }"',
    'case "$old_disk" in',
    "  '' | *[!0-9]*) old_disk=0 ;;",
    "esac",
    'if [ "$JN_DISK_GB" -lt "$old_disk" ]; then',
    '  echo "[flavor] cannot change from $old_flavor ($old_disk GB root disk) to $JN_FLAVOR ($JN_DISK_GB GB): a root disk cannot shrink. Choose a flavor with at least $old_disk GB, or export the work and replace the VM." >&2',
    "  exit 1",
    "fi",
    'printf "%s %s\\n" "$JN_FLAVOR" "$JN_DISK_GB"',
  ].join("\n");
}
