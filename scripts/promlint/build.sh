#!/usr/bin/env bash
# Builds scripts/promlint (the Prometheus metrics linter that `promtool check metrics` runs, from
# client_golang's testutil/promlint) with the machine's Go and prints the binary's path. Modules
# come from the Go module proxy; modules and the binary are cached in
# ${FW_CACHE:-~/.cache/featurewatch} (keyed by go.sum and main.go), so later runs only print the path.
#   scripts/promlint/build.sh              build if needed, print the path
#   some-exposition | "$(scripts/promlint/build.sh)"    lint; exit 1 with one line per problem
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v go >/dev/null || { echo "promlint: Go is not installed" >&2; exit 3; }
cache="${FW_CACHE:-$HOME/.cache/featurewatch}"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-12)"
bin="$cache/promlint-$key/promlint"
if [ ! -x "$bin" ]; then
  echo "building promlint into $bin" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$here" && GOMODCACHE="$cache/go-mod" GOFLAGS="-modcacherw -buildvcs=false -mod=readonly" go build -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
