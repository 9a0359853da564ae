#!/usr/bin/env bash
# Times `aws s3 cp` of one large object up to and down from a cofferd on
# 127.0.0.1. The AWS CLI downloads a large object in ranged GETs (8 MiB
# parts, 10 at a time by default), so the download time shows what a
# ranged read costs.
#
# Usage: test/bench/ranged-get.sh COFFERD_BINARY [SIZE_MIB]
# Prints the upload and download wall-clock times in seconds.
set -euo pipefail

cofferd=$1
size_mib=${2:-1024}
dir=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/ranged-get.XXXXXX")
pid=""
cleanup() {
	if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
oci_port=$(free_port)
s3_port=$(free_port)

COFFER_ROOT_USER=bench COFFER_ROOT_PASSWORD=bench-password-1 \
	"$cofferd" --data-dir "$dir/data" --listen "127.0.0.1:$oci_port" --s3-listen "127.0.0.1:$s3_port" \
	>"$dir/cofferd.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$oci_port/readyz" >/dev/null 2>&1 && break
	sleep 0.2
done

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-password-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$dir/aws-config" AWS_SHARED_CREDENTIALS_FILE="$dir/aws-credentials" AWS_EC2_METADATA_DISABLED=true
aws_s3() { aws --endpoint-url "http://127.0.0.1:$s3_port" s3 "$@"; }

head -c "$((size_mib << 20))" /dev/urandom >"$dir/upload"
aws_s3 mb s3://bench >/dev/null

start=$(date +%s.%N)
aws_s3 cp --only-show-errors "$dir/upload" s3://bench/object
mid=$(date +%s.%N)
aws_s3 cp --only-show-errors s3://bench/object "$dir/download"
end=$(date +%s.%N)

cmp "$dir/upload" "$dir/download"
printf 'object: %d MiB\nupload: %.1f s\ndownload: %.1f s\n' "$size_mib" \
	"$(echo "$mid - $start" | bc)" "$(echo "$end - $mid" | bc)"
