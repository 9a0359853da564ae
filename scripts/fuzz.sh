#!/usr/bin/env bash
# Runs every Go fuzz target of the module for the given time each (default 20s).
# `go test` runs the seed corpora of the same targets on every test run.
set -euo pipefail
fuzztime="${1:-20s}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for pkg in $(go list ./... | grep -v /test/e2e); do
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "== $pkg $target"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done
