# Sourced by local-up.sh and local-down.sh: the local stack's backend and passphrase, inside the
# project, so `npm start` needs no Pulumi account and never prompts.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="$root/.pulumi-local"
passphrase_file="$state/passphrase"
# shellcheck disable=SC2034 # read by the scripts that source this file
stack=dev

# State and passphrase stay private to this user. The passphrase is generated once; losing it
# loses the stack's state (`npm run down` first, or delete .pulumi-local/ and the containers).
mkdir -p "$state"
chmod 700 "$state"
if [[ ! -s $passphrase_file ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$passphrase_file")
fi

# The environment, not `pulumi login`: logging in would change the user's global backend.
export PULUMI_BACKEND_URL="file://$state"
export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
export PULUMI_SKIP_UPDATE_CHECK=true

# Prints a command, then runs it unless JN_DRY_RUN is set (to see exactly what would run).
run() {
  printf '+ %s\n' "$*" >&2
  if [[ -z ${JN_DRY_RUN:-} ]]; then
    "$@"
  fi
}

need_docker() {
  if [[ -z ${JN_DRY_RUN:-} ]] && ! docker info >/dev/null 2>&1; then
    echo "No Docker engine answers (docker info failed). Start Docker Desktop or dockerd, then try again." >&2
    exit 1
  fi
}

cd "$root" || exit 1
