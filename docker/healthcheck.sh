#!/usr/bin/env bash
# Docker health check: healthy when the notebook server answers its version endpoint, /api, which
# needs no token. It asks the running server where it is, from the runtime file the server writes
# (what `jupyter server list` reads), so a port or base URL given as a server argument, or a Hub's
# prefix, is followed; before that file exists it falls back to JUPYTER_PORT and JUPYTER_BASE_URL.
# Bash alone, no Python and no HTTP client: a probe every 2 s must cost almost nothing, and a
# connection over /dev/tcp never goes through an http_proxy from the environment.
set -euo pipefail
shopt -s nullglob

port=${JUPYTER_PORT:-8888}
base_url=${JUPYTER_BASE_URL:-${JUPYTERHUB_SERVICE_PREFIX:-/}}
secure=false

# The start script clears old runtime files, so a live pid here is this container's server.
for file in "${JUPYTER_RUNTIME_DIR:-$HOME/.local/share/jupyter/runtime}"/jpserver-*.json; do
  json=""
  IFS= read -r -d '' json <"$file" || true
  [[ $json =~ \"pid\":\ *([0-9]+) && -d /proc/${BASH_REMATCH[1]} ]] || continue
  [[ $json =~ \"port\":\ *([0-9]+) ]] && port=${BASH_REMATCH[1]}
  [[ $json =~ \"base_url\":\ *\"([^\"]*)\" ]] && base_url=${BASH_REMATCH[1]}
  [[ $json =~ \"secure\":\ *true ]] && secure=true
  break
done

exec 3<>"/dev/tcp/127.0.0.1/$port"
# Over TLS (a certfile given to the server) bash cannot speak HTTP: an accepted connection is the
# most it can check.
[[ $secure == true ]] && exit 0
path="${base_url%/}/api"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
IFS=' ' read -r -t 2 _ status _ <&3
[[ $status == 200 ]] || {
  printf 'GET %s answered %s\n' "$path" "${status:-nothing}" >&2
  exit 1
}
