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

# The Pulumi CLI, in this order: one on PATH, one installed by get.pulumi.com (~/.pulumi/bin), one
# the `pulumi` npm package already downloaded (~/.pulumi/versions/*), and last the npm package,
# which downloads it now. Sets the array `pulumi`.
find_pulumi() {
  local home=${PULUMI_HOME:-$HOME/.pulumi} found output why onpath
  onpath=$(command -v pulumi 2>/dev/null || true)
  # `npm start` puts node_modules/.bin first on PATH: the pulumi there is the npm package's
  # downloader, tried last below, where its failure gets a message that says what to do.
  if [[ -n $onpath && $onpath != */node_modules/.bin/pulumi ]]; then
    pulumi=(pulumi)
    return
  fi
  if [[ -x $home/bin/pulumi ]]; then
    pulumi=("$home/bin/pulumi")
    return
  fi
  for found in "$home"/versions/*/bin/pulumi; do
    if [[ -x $found ]]; then
      pulumi=("$found")
      return
    fi
  done
  echo "No Pulumi CLI on PATH or in $home: the pulumi npm package downloads it from https://get.pulumi.com now..." >&2
  if output=$(npx --no-install pulumi version 2>&1); then
    pulumi=(npx --no-install pulumi)
    return
  fi
  why=$(printf '%s\n' "$output" | tail -n 1)
  if ! getent hosts get.pulumi.com >/dev/null 2>&1; then
    why="$why (this machine cannot resolve get.pulumi.com: no network, or a DNS or proxy problem)"
  fi
  cat >&2 <<EOF
The Pulumi CLI could not be downloaded from https://get.pulumi.com: $why
The pulumi npm package fetches the CLI from there on first use. Get it by hand, then run this
again (it uses a Pulumi CLI on PATH or in ~/.pulumi/bin):
  1. curl -fsSL https://get.pulumi.com | sh      (installs into ~/.pulumi/bin)
  2. or download the archive for your system from https://github.com/pulumi/pulumi/releases,
     unpack it, and put its pulumi folder on PATH (or copy its contents to ~/.pulumi/bin).
EOF
  exit 1
}

need_docker() {
  if [[ -z ${JN_DRY_RUN:-} ]] && ! docker info >/dev/null 2>&1; then
    echo "No Docker engine answers (docker info failed). Start Docker Desktop or dockerd, then try again." >&2
    exit 1
  fi
}

# shellcheck disable=SC2034 # set by find_pulumi, read by the scripts that source this file
pulumi=()

cd "$root" || exit 1
