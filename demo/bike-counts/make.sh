#!/usr/bin/env bash
# Makes demo/bike-counts/ again with the real renku CLI (2.9, provisioned into .cache/renku-venv
# by the lineage tests): a renku 2.x project whose history the demo ships as a git bundle, and
# its `renku graph export`. Commit ids, activity ids and times change with every run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
renku_bin="$here/../../.cache/renku-venv/bin"
[ -x "$renku_bin/renku" ] || { echo "no renku CLI in $renku_bin: run the lineage tests once" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" PATH="$renku_bin:$PATH"
mkdir -p "$HOME" "$work/bike-counts"
git config --global user.name 'Ada Analyst'
git config --global user.email 'ada.analyst@example.org'
git config --global init.defaultBranch master
cd "$work/bike-counts"

renku init --template-id minimal . >/dev/null
mkdir data
printf 'station,bikes\nBellerive,1800\nLimmatquai,2650\nMythenquai,1210\nHardbruecke,3020\nSihlpost,940\n' \
  > data/counts.csv
git add data && git commit -q -m 'Counts of March'
# -S: no git-LFS here; stdout into a file of the project is recorded as the run's output.
renku -S run --name rank -- sort -t , -k 2 -n -r data/counts.csv > ranked.csv
renku -S run --name top -- head -n 3 ranked.csv > top.csv
printf 'Langstrasse,2890\nQuaibruecke,3410\n' >> data/counts.csv
git commit -q -a -m 'Counts of two more stations'
# Both runs again, as new activities in one commit: ranked.csv and top.csv get new producers.
renku -S update --all >/dev/null

git bundle create -q "$here/repository.bundle" master
renku graph export --format jsonld --full > "$here/graph.jsonld"
