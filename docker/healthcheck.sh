#!/usr/bin/env bash
# Docker health check: healthy when the notebook server answers its version endpoint, /api, which
# needs no token. Uses bash's /dev/tcp so the image needs no HTTP client and a probe costs almost
# nothing. Under JupyterHub the server's prefix is the Hub's, not JUPYTER_BASE_URL.
set -euo pipefail

port=${JUPYTER_PORT:-8888}
base_url=${JUPYTER_BASE_URL:-${JUPYTERHUB_SERVICE_PREFIX:-/}}
path="${base_url%/}/api"

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
IFS=' ' read -r -t 2 _ status _ <&3
[[ $status == 200 ]] || {
  printf 'GET %s answered %s\n' "$path" "${status:-nothing}" >&2
  exit 1
}
