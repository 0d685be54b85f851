#!/usr/bin/env bash
# Quick start, first command: installs everything into .cache/, starts the
# whole stack with the demo data and prints the endpoint. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/lib/node.sh"
ensure_packages
build
exec node "$root/stack/dist/cli.js" up
