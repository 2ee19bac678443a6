#!/usr/bin/env bash
# `npm start`: the notebook on this computer's Docker engine. Builds docker/, runs it with a work
# volume, and prints the notebook's URL. The Pulumi CLI comes from the `pulumi` npm package (it
# downloads itself on first use). Extra arguments go to `pulumi up`, e.g. `npm start -- --refresh`.
#
# `--yes`: this is the person's own machine and the dev stack only touches its local engine, so
# the preview is printed and applied without a question; `npm run down` undoes it.
set -euo pipefail
# shellcheck source=scripts/local-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"

need_docker
run npx --no-install pulumi stack select --create "$stack"
run npx --no-install pulumi up --yes --stack "$stack" "$@"
echo
echo "Open your notebook at:"
run npx --no-install pulumi stack output notebookUrl --show-secrets --stack "$stack"
