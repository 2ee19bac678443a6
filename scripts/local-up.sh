#!/usr/bin/env bash
# `npm start`: the notebook on this computer's Docker engine. Builds docker/, runs it with a work
# volume, and prints the notebook's URL. It uses the Pulumi CLI on PATH or in ~/.pulumi, else the
# `pulumi` npm package's, which downloads it on first use. Extra arguments go to `pulumi up`,
# e.g. `npm start -- --refresh`.
#
# `--yes`: this is the person's own machine and the dev stack only touches its local engine, so
# the preview is printed and applied without a question; `npm run down` undoes it.
set -euo pipefail
# shellcheck source=scripts/local-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"

need_docker
find_pulumi
run "${pulumi[@]}" stack select --create "$stack"
run "${pulumi[@]}" up --yes --stack "$stack" "$@"
echo
echo "Open your notebook at:"
run "${pulumi[@]}" stack output notebookUrl --show-secrets --stack "$stack"
