#!/usr/bin/env bash
# Copies one file up and down with `coffer cp` and with `aws s3 cp` against
# one cofferd on 127.0.0.1, and prints a Markdown table of the throughput.
#
# Builds cofferd and coffer into bin/ (make build), starts cofferd with a data
# dir under a temp dir, writes a random file, then for each client uploads it,
# downloads it, and checks the download's SHA-256. coffer downloads in one
# stream, or in 16 MiB ranges COFFER_DOWNLOAD_PARTS at a time when that is
# above 1. The AWS CLI uses its own defaults: multipart in 8 MiB parts, 10
# requests at a time.
#
# Environment:
#   BENCH_SIZE_MIB  size of the file in MiB (default 1024)
#   BENCH_TMPDIR    parent of the temp dir for data and files (default: $TMPDIR or /tmp)
#   BENCH_KEEP=1    keep the temp dir (data, server log)
#   COFFER_DOWNLOAD_PARTS  ranges of one object coffer fetches at once (default 1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

SIZE_MIB=${BENCH_SIZE_MIB:-1024}
ROOT_USER=bench-root
ROOT_PASSWORD=bench-root-password-7c2e
BUCKET=bench
WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/coffer-bench-cli.XXXXXX")
SERVER_PID=""

cleanup() {
	if [[ -n "$SERVER_PID" ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in aws curl python3 sha256sum; do
	command -v "$tool" >/dev/null || { echo "$tool not found on PATH" >&2; exit 1; }
done

# free_port prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# now prints the time in seconds with nanoseconds.
now() { date +%s.%N; }

# mbps BYTES START END prints the throughput in MB/s (10^6 bytes).
mbps() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.1f", b / 1e6 / (e - s) }'; }
seconds() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }

make -s build

OCI_PORT=$(free_port)
S3_PORT=$(free_port)
mkdir -p "$WORK/data"
COFFER_ROOT_USER=$ROOT_USER COFFER_ROOT_PASSWORD=$ROOT_PASSWORD COFFER_LOG_LEVEL=warn \
	"$ROOT/bin/cofferd" --listen "127.0.0.1:$OCI_PORT" --s3-listen "127.0.0.1:$S3_PORT" \
	--data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
tries=0
until curl -fsS -o /dev/null "http://127.0.0.1:$OCI_PORT/startupz" 2>/dev/null; do
	if ((++tries > 600)); then
		echo "cofferd did not start within 60 s; see $WORK/server.log" >&2
		BENCH_KEEP=1
		exit 1
	fi
	sleep 0.1
done

echo "writing a ${SIZE_MIB} MiB random file" >&2
SOURCE=$WORK/source.bin
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$SOURCE"
BYTES=$(stat -c %s "$SOURCE")
WANT=$(sha256sum "$SOURCE" | cut -d' ' -f1)

# The CLIs get their own config folders, so the run touches no user settings.
export XDG_CONFIG_HOME=$WORK/config XDG_STATE_HOME=$WORK/state
export COFFER_SERVER=http://127.0.0.1:$OCI_PORT COFFER_PROGRESS=never COFFER_CREDENTIALS_STORE=file
export AWS_ACCESS_KEY_ID=$ROOT_USER AWS_SECRET_ACCESS_KEY=$ROOT_PASSWORD AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials AWS_EC2_METADATA_DISABLED=true
COFFER=$ROOT/bin/coffer
AWS=(aws --endpoint-url "http://127.0.0.1:$S3_PORT")

echo "$ROOT_PASSWORD" | "$COFFER" login --username "$ROOT_USER" --password-stdin >/dev/null
"$COFFER" mb "s3://$BUCKET" >/dev/null

ROWS=()
# measure CLIENT DIRECTION DOWNLOADED_FILE COMMAND... runs the command, checks
# the downloaded file's digest (for downloads) and records a table row.
measure() {
	local client=$1 direction=$2 downloaded=$3
	shift 3
	sync
	local start end
	start=$(now)
	"$@" >/dev/null
	end=$(now)
	if [[ -n "$downloaded" ]]; then
		local got
		got=$(sha256sum "$downloaded" | cut -d' ' -f1)
		if [[ "$got" != "$WANT" ]]; then
			echo "$client $direction: the download's SHA-256 is $got, want $WANT" >&2
			exit 1
		fi
		rm -f "$downloaded"
	fi
	ROWS+=("| $client | $direction | $SIZE_MIB | $(seconds "$start" "$end") | $(mbps "$BYTES" "$start" "$end") |")
}

measure "coffer cp" upload "" "$COFFER" cp "$SOURCE" "s3://$BUCKET/coffer.bin"
measure "coffer cp" download "$WORK/coffer.out" "$COFFER" cp "s3://$BUCKET/coffer.bin" "$WORK/coffer.out"
measure "aws s3 cp" upload "" "${AWS[@]}" s3 cp --only-show-errors "$SOURCE" "s3://$BUCKET/aws.bin"
measure "aws s3 cp" download "$WORK/aws.out" "${AWS[@]}" s3 cp --only-show-errors "s3://$BUCKET/aws.bin" "$WORK/aws.out"

echo
echo "cofferd $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores, $(aws --version 2>&1 | cut -d' ' -f1), coffer download_parts ${COFFER_DOWNLOAD_PARTS:-1}"
echo
echo "| client | direction | MiB | seconds | MB/s |"
echo "|---|---|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
