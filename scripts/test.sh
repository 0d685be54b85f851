#!/usr/bin/env bash
# Quick start, second command: the whole test suite against real services.
# Extra arguments go to jest (e.g. `npm test -- tests/e2e`).
set -euo pipefail
source "$(dirname "$0")/lib/node.sh"
ensure_packages
build

step "type check of the tests"
# jest compiles each file alone (isolatedModules) and checks no types: this does, tests included.
(cd "$root" && npx tsc -p tsconfig.test.json --noEmit) || die "the tests do not type-check: see above"

step "format and markers"
(cd "$root" && npx prettier --check --log-level warn .) || die "files are not formatted: run \`npm run format\`"
if grep -rn --include='*.ts' --include='*.py' --include='*.java' 'FIXME' \
    "$root"/{kit,stack,supergraph,subgraphs,mesh,neo4j,tests} 2>/dev/null | grep -v node_modules | grep -v /dist/; then
  die "FIXME marks are not allowed: fix them or turn them into TODO(#issue)"
fi

# `docker-compose config` checks docker-compose.yml without an engine (Debian's
# docker-compose 1.29; the docker client here has no compose plugin).
if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "docker-compose (Debian package, to validate docker-compose.yml)"
    (apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null) \
      || die "could not install docker-compose: install Debian's docker-compose package"
  else
    die "docker-compose is missing: install Debian's docker-compose package (sudo apt-get install docker-compose)"
  fi
fi

step "provisioning the real services"
node "$root/stack/dist/cli.js" provision --deploy-tools --redis

step "tests"
cd "$root"
# Two workers for two cores; each test file starts its own services on free ports.
exec npx jest --maxWorkers=2 "$@"
