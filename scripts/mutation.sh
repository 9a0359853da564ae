#!/usr/bin/env bash
# Runs mutation testing with gremlins on the policy engine and fails when the
# test efficacy (killed / (killed + lived) mutants) is below the threshold.
# gremlins is installed into a temporary GOBIN, so the module's go.mod does
# not depend on it.
#
# Usage: scripts/mutation.sh [package ...]   (default ./internal/authz)
# Environment: MUTATION_THRESHOLD (percent, default 85),
#   MUTATION_TIMEOUT_COEFFICIENT (multiple of the plain test run that a
#   mutant may take before it counts as timed out, default 20; a loaded
#   machine needs a high value, or slow compiles show up as timeouts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=v0.6.0
threshold="${MUTATION_THRESHOLD:-85}"
coefficient="${MUTATION_TIMEOUT_COEFFICIENT:-20}"
packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
	packages=(./internal/authz)
fi

gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
(cd "$gobin" && GOBIN="$gobin" GOFLAGS= go install "github.com/go-gremlins/gremlins/cmd/gremlins@${version}")

for pkg in "${packages[@]}"; do
	echo "== gremlins unleash $pkg"
	"$gobin/gremlins" unleash --timeout-coefficient "$coefficient" --threshold-efficacy "$threshold" "$pkg"
done
