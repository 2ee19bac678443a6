#!/usr/bin/env bash
# Starts JupyterLab for the notebook user. Configuration comes from the environment (see
# jupyter_server_config.py); this script checks it first and refuses to start a server that anyone
# could use without a token or password.
#
#   JUPYTER_TOKEN          token for the server (Jupyter's own variable); a random one is logged if unset
#   JUPYTER_PASSWORD_HASH  password hash as `jupyter server password` writes it (argon2:... or sha1:...)
#   JUPYTER_PORT           port to listen on inside the container (default 8888)
#   JUPYTER_BASE_URL       path prefix the server answers under, for a proxy in front (default /)
#   JUPYTERHUB_API_TOKEN   set by a JupyterHub spawner: start `jupyterhub-singleuser` instead, which
#                          authenticates through the Hub and takes its port and prefix from it
#
# Before the server starts, seed-home.sh gets the home (the student's volume) ready. Extra arguments
# are passed to the server.
set -euo pipefail

die() {
  printf 'start-notebook: %s\n' "$*" >&2
  exit 64
}

hub=${JUPYTERHUB_API_TOKEN:+yes}

port=${JUPYTER_PORT:-8888}
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
  die "JUPYTER_PORT must be a port number from 1 to 65535, got '$port'"
fi

base_url=${JUPYTER_BASE_URL:-/}
if [[ $base_url != /* || $base_url == *[[:space:]]* ]]; then
  die "JUPYTER_BASE_URL must be a path starting with /, got '$base_url'"
fi

password_hash=${JUPYTER_PASSWORD_HASH:-}
if [[ -n $password_hash ]] &&
  ! [[ $password_hash =~ ^argon2:\$argon2(id|i|d)\$ || $password_hash =~ ^[a-z0-9_]+:[0-9a-f]+:[0-9a-f]+$ ]]; then
  die "JUPYTER_PASSWORD_HASH must be a hash from 'jupyter server password' (argon2:\$argon2id\$... or sha1:<salt>:<hash>)"
fi

# A token set to the empty string, by argument or by an empty JUPYTER_TOKEN_FILE, turns
# authentication off unless a password is set: refuse that rather than serve an open notebook.
token_emptied=""
previous=""
for arg in "$@"; do
  case $arg in
    --*.token= | --*.token=\"\" | --*.token=\'\') token_emptied="argument $arg" ;;
  esac
  if [[ $previous == --*.token && -z $arg ]]; then
    token_emptied="argument $previous ''"
  fi
  previous=$arg
done
if [[ -z ${JUPYTER_TOKEN:-} && -n ${JUPYTER_TOKEN_FILE:-} ]] && ! grep -q '[^[:space:]]' "$JUPYTER_TOKEN_FILE" 2>/dev/null; then
  token_emptied="JUPYTER_TOKEN_FILE ($JUPYTER_TOKEN_FILE is empty or unreadable)"
fi
if [[ -n $token_emptied && -z $password_hash && -z $hub ]]; then
  die "refusing to start without authentication: $token_emptied sets an empty token and JUPYTER_PASSWORD_HASH is not set"
fi

seed-home.sh

# A runtime file left by a server that was killed (the container restarted) would send the health
# check to a pid that may be reused; the server writes its own on start.
runtime=${JUPYTER_RUNTIME_DIR:-$HOME/.local/share/jupyter/runtime}
rm -f -- "$runtime"/jpserver-*.json "$runtime"/jpserver-*-open.html

# The course's materials into the student's folder; a failure there must not keep the notebook down.
merge-materials.sh || printf 'start-notebook: the course materials were not merged (see above)\n' >&2

# exec, so that tini signals the server directly and `docker stop` is quick.
if [[ -n $hub ]]; then
  # The Hub gives the port and prefix; ours apply only when set explicitly.
  exec jupyterhub-singleuser "$@"
fi
export JUPYTER_PORT=$port JUPYTER_BASE_URL=$base_url
exec python -m jupyterlab "$@"
