#!/usr/bin/env bash
# Installs the third-party OCI and S3 clients that the end-to-end tests drive:
#   - crane, oras, regctl and the OCI conformance suite, built from the versions pinned in
#     tools/go.mod into bin/tools/ (or $COFFER_TOOLS_BIN when it is set);
#   - cosign v2 and v3 (as cosign-v2 and cosign-v3) and notation, each built from its own module
#     (tools/cosign2, tools/cosign3, tools/notation), because their dependency graphs cannot
#     share one go.mod;
#   - skopeo, the S3 clients rclone and s3cmd, pytest (with requests, for the Python client's
#     tests) and zsh (for the CLI's completion test) from Debian's packages, linked into the
#     same folder. The AWS CLI and boto3 that the S3 tests also run come with the machine image;
#   - the JavaScript client's test dependencies (playwright-core, typescript) with npm ci, and
#     Chromium from Debian for its browser test.
# Running it again is cheap: a binary newer than the go.mod and go.sum it was built from is kept.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools_bin="${COFFER_TOOLS_BIN:-$repo_root/bin/tools}"

# Binary name and Go package of each tool in tools/go.mod. The binary name is the last path
# element of the package, which is what `go build -o DIR/` writes.
go_tools=(
	"crane github.com/google/go-containerregistry/cmd/crane"
	"oras oras.land/oras/cmd/oras"
	"regctl github.com/regclient/regclient/cmd/regctl"
	"conformance github.com/opencontainers/distribution-spec/conformance"
)

log() {
	printf 'install-tools: %s\n' "$*" >&2
}

# Succeed when the binary exists and is newer than the go.mod and go.sum in the module folder.
is_current() {
	local binary="$1" module_dir="$2"
	[[ -x "$binary" && "$binary" -nt "$module_dir/go.mod" && "$binary" -nt "$module_dir/go.sum" ]]
}

# Print the Go packages whose binary is missing or older than the tools module files.
stale_go_packages() {
	local entry name pkg binary
	for entry in "${go_tools[@]}"; do
		name="${entry%% *}"
		pkg="${entry#* }"
		binary="$tools_bin/$name"
		if is_current "$binary" "$repo_root/tools"; then
			log "$name is up to date"
		else
			printf '%s\n' "$pkg"
		fi
	done
}

build_go_tools() {
	local packages=()
	mapfile -t packages < <(stale_go_packages)
	if ((${#packages[@]} == 0)); then
		return
	fi
	log "building ${packages[*]}"
	# One `go build` for all packages shares the dependency compilation between them.
	(cd "$repo_root" && go build -modfile=tools/go.mod -o "$tools_bin/" "${packages[@]}")
}

# Binary name, module folder and Go package of each tool with a go.mod of its own: cosign v2
# and v3 pin conflicting versions of shared dependencies, and notation pins an older oras-go
# than oras needs.
module_tools=(
	"cosign-v2 tools/cosign2 github.com/sigstore/cosign/v2/cmd/cosign"
	"cosign-v3 tools/cosign3 github.com/sigstore/cosign/v3/cmd/cosign"
	"notation tools/notation github.com/notaryproject/notation/cmd/notation"
)

build_module_tools() {
	local entry name module_dir pkg binary
	for entry in "${module_tools[@]}"; do
		read -r name module_dir pkg <<<"$entry"
		binary="$tools_bin/$name"
		if is_current "$binary" "$repo_root/$module_dir"; then
			log "$name is up to date"
			continue
		fi
		log "building $name"
		(cd "$repo_root/$module_dir" && go build -o "$binary" "$pkg")
	done
}

# Build versitygw, the S3 server that tests keep blobs in, from the pinned version in
# bench/go.mod, which also holds the benchmark peers.
build_versitygw() {
	local binary="$tools_bin/versitygw"
	if [[ -x "$binary" && "$binary" -nt "$repo_root/bench/go.mod" ]]; then
		log "versitygw is up to date"
		return
	fi
	log "building versitygw"
	(cd "$repo_root/bench" && go build -o "$binary" github.com/versity/versitygw/cmd/versitygw)
}

# Command name and Debian packages of each tool installed with apt-get.
debian_tools=(
	"skopeo skopeo"
	"rclone rclone"
	"s3cmd s3cmd"
	"pytest-3 python3-pytest python3-requests"
	"chromium chromium"
	"zsh zsh"
)

# Install the Debian packages whose command is missing, with one `apt-get update` for all of
# them, and link every command into the tools folder, where the tests look for it.
install_debian_tools() {
	local entry name packages missing=()
	for entry in "${debian_tools[@]}"; do
		name="${entry%% *}"
		if ! command -v "$name" >/dev/null 2>&1; then
			read -ra packages <<<"${entry#* }"
			missing+=("${packages[@]}")
		fi
	done

	if ((${#missing[@]} > 0)); then
		local sudo=()
		if ((EUID != 0)); then
			sudo=(sudo -n)
		fi
		log "installing ${missing[*]} with apt-get"
		"${sudo[@]}" apt-get update -qq
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
	fi

	for entry in "${debian_tools[@]}"; do
		name="${entry%% *}"
		ln -sfn "$(command -v "$name")" "$tools_bin/$name"
		log "$name is $(command -v "$name")"
	done
}

# Install the JavaScript client's locked development dependencies unless they are current.
install_js_dependencies() {
	local dir="$repo_root/clients/js"
	if [[ -d "$dir/node_modules" && "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
		log "clients/js dependencies are up to date"
		return
	fi
	log "installing clients/js dependencies with npm ci"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

mkdir -p "$tools_bin"
build_go_tools
build_module_tools
build_versitygw
install_debian_tools
install_js_dependencies
log "tools are in $tools_bin"
