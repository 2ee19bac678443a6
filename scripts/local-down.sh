#!/usr/bin/env bash
# `npm run down`: removes the local notebook (container, network, provider state). The work volume
# is kept (the stack retains it on delete), so the next `npm start` finds the work again.
set -euo pipefail
# shellcheck source=scripts/local-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"

need_docker
find_pulumi
run "${pulumi[@]}" destroy --yes --stack "$stack" "$@"
echo
echo "Your work is kept in the Docker volume workshop-$stack-work."
echo "To delete it for good: docker volume rm workshop-$stack-work"
