#!/usr/bin/env bash
# Side-by-side S3 benchmark of versitygw and cofferd (see docs/benchmarks.md).
#
# Builds versitygw v1.8.0 (once, into bin/bench/), cofferd and the load
# generator, then starts each server in turn on 127.0.0.1 with a data dir under
# one temp dir, runs test/bench/s3load against it, stops it, and prints a
# Markdown table.
#
# Environment:
#   BENCH_SERVERS   "versitygw coffer" (default), or any of versitygw, coffer and
#                   coffer-s3driver (cofferd with storage.driver s3 on a versitygw
#                   of its own; see run-s3driver.sh)
#   BENCH_TMPDIR    parent of the temp dir for data and reports (default: $TMPDIR or /tmp)
#   BENCH_KEEP=1    keep the temp dir (data, server logs, JSON reports)
#   BENCH_LOG_LEVEL cofferd's log level (default warn; info logs every request
#                   with its duration, with BENCH_KEEP=1 to read them)
#   S3LOAD_FLAGS    extra flags for `s3load run`, such as "-list-large-keys 100000"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_VERSION=v1.8.0
BENCH_BIN=$ROOT/bin/bench
VERSITYGW=$BENCH_BIN/versitygw
S3LOAD=$BENCH_BIN/s3load
COFFERD=$ROOT/bin/cofferd
SERVERS=${BENCH_SERVERS:-versitygw coffer}

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/coffer-bench-s3.XXXXXX")
SERVER_PID=""
BACKEND_PID=""
# OCI_ENDPOINT is the OCI API of the cofferd under test, empty for versitygw.
OCI_ENDPOINT=""

# stop_server stops the server this script started, and the versitygw behind
# it if any, by PID, and waits for them.
stop_server() {
	local pid
	for pid in "$SERVER_PID" "$BACKEND_PID"; do
		if [[ -n "$pid" ]]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	SERVER_PID=""
	BACKEND_PID=""
}

cleanup() {
	stop_server
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# versitygw_version prints the module version recorded in the versitygw
# binary. Its --version flag prints "git" for builds from the module proxy.
versitygw_version() {
	go version -m "$VERSITYGW" 2>/dev/null | awk -v mod="$VERSITYGW_MODULE" '$1 == "mod" && $2 == mod { print $3 }'
}

build() {
	mkdir -p "$BENCH_BIN"
	if [[ " $SERVERS " == *" versitygw "* || " $SERVERS " == *" coffer-s3driver "* ]]; then
		if [[ -x "$VERSITYGW" && "$(versitygw_version)" == "$VERSITYGW_VERSION" ]]; then
			echo "using $VERSITYGW ($VERSITYGW_VERSION)" >&2
		else
			echo "building versitygw $VERSITYGW_VERSION (about 2 minutes cold)" >&2
			(cd bench && go build -o "$VERSITYGW" "$VERSITYGW_MODULE/cmd/versitygw")
		fi
	fi
	if [[ " $SERVERS " == *" coffer "* || " $SERVERS " == *" coffer-s3driver "* ]]; then
		make -s build
	fi
	go build -o "$S3LOAD" ./test/bench/s3load
}

# start_versitygw DIR PORT starts versitygw with its posix backend in DIR/data.
# --keep-alive turns on HTTP keep-alive, which versitygw v1.8.0 leaves off by
# default and cofferd always has on, so both servers reuse the client's
# connections. --quiet turns off its per-request log lines on stdout.
start_versitygw() {
	local dir=$1 port=$2
	mkdir -p "$dir/data"
	"$VERSITYGW" --port "127.0.0.1:$port" --access "$BENCH_ACCESS_KEY" --secret "$BENCH_SECRET_KEY" \
		--keep-alive --quiet posix "$dir/data" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
}

# start_coffer DIR PORT starts cofferd with its S3 API on PORT. Its OCI API
# gets a free port of its own (it would take 5000 by default), and log level
# warn, the default of BENCH_LOG_LEVEL, turns off its per-request log lines.
start_coffer() {
	local dir=$1 port=$2 oci_port
	oci_port=$("$S3LOAD" freeport)
	mkdir -p "$dir/data"
	COFFER_ROOT_USER=$BENCH_ACCESS_KEY COFFER_ROOT_PASSWORD=$BENCH_SECRET_KEY COFFER_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} \
		"$COFFERD" --listen "127.0.0.1:$oci_port" --s3-listen "127.0.0.1:$port" \
		--data-dir "$dir/data" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	OCI_ENDPOINT="http://127.0.0.1:$oci_port"
}

# start_coffer_s3driver DIR PORT starts versitygw over DIR/backend, with one
# bucket, and cofferd with its S3 API on PORT and storage.driver s3 on that
# bucket. Only cofferd's CPU time and RSS are measured.
start_coffer_s3driver() {
	local dir=$1 port=$2 oci_port backend_port
	oci_port=$("$S3LOAD" freeport)
	backend_port=$("$S3LOAD" freeport)
	mkdir -p "$dir/backend/coffer-blobs" "$dir/data"
	"$VERSITYGW" --port "127.0.0.1:$backend_port" --access "$BENCH_ACCESS_KEY" --secret "$BENCH_SECRET_KEY" \
		--keep-alive --quiet posix "$dir/backend" >"$dir/backend.log" 2>&1 &
	BACKEND_PID=$!
	# cofferd checks the bucket when it starts, so versitygw must listen first.
	local tries=0
	until (: >"/dev/tcp/127.0.0.1/$backend_port") 2>/dev/null; do
		if ((++tries > 600)); then
			echo "versitygw did not listen on 127.0.0.1:$backend_port within 60 s" >&2
			return 1
		fi
		sleep 0.1
	done
	COFFER_ROOT_USER=$BENCH_ACCESS_KEY COFFER_ROOT_PASSWORD=$BENCH_SECRET_KEY COFFER_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} \
		COFFER_STORAGE_DRIVER=s3 COFFER_STORAGE_S3_ENDPOINT="http://127.0.0.1:$backend_port" \
		COFFER_STORAGE_S3_BUCKET=coffer-blobs COFFER_STORAGE_S3_PATH_STYLE=true \
		COFFER_STORAGE_S3_ACCESS_KEY=$BENCH_ACCESS_KEY COFFER_STORAGE_S3_SECRET_KEY=$BENCH_SECRET_KEY \
		"$COFFERD" --listen "127.0.0.1:$oci_port" --s3-listen "127.0.0.1:$port" \
		--data-dir "$dir/data" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	OCI_ENDPOINT="http://127.0.0.1:$oci_port"
}

# bench_server NAME LABEL runs the workloads against one server and writes
# $WORK/NAME.json.
bench_server() {
	local name=$1 label=$2 dir=$WORK/$1 port
	port=$("$S3LOAD" freeport)
	mkdir -p "$dir"

	# Flush what earlier steps wrote so it is not written back during this run.
	sync -f "$WORK"

	OCI_ENDPOINT=""
	case $name in
	versitygw) start_versitygw "$dir" "$port" ;;
	coffer) start_coffer "$dir" "$port" ;;
	coffer-s3driver) start_coffer_s3driver "$dir" "$port" ;;
	esac
	echo "benchmarking $label (pid $SERVER_PID, 127.0.0.1:$port, data in $dir/data)" >&2

	# shellcheck disable=SC2086 # S3LOAD_FLAGS is a list of flags
	if ! S3LOAD_ACCESS_KEY=$BENCH_ACCESS_KEY S3LOAD_SECRET_KEY=$BENCH_SECRET_KEY timeout 190m "$S3LOAD" run \
		-endpoint "http://127.0.0.1:$port" -oci-endpoint "$OCI_ENDPOINT" -pid "$SERVER_PID" -server "$label" \
		-out "$WORK/$name.json" ${S3LOAD_FLAGS:-}; then
		echo "benchmark of $label failed; last lines of its log:" >&2
		tail -n 20 "$dir/server.log" >&2
		return 1
	fi
	stop_server

	# Free the disk space and inodes before the next server runs.
	rm -rf "$dir/data" "$dir/backend"
}

build

BENCH_ACCESS_KEY=bench
BENCH_SECRET_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

reports=()
for name in $SERVERS; do
	case $name in
	versitygw) bench_server versitygw "versitygw $VERSITYGW_VERSION" ;;
	coffer) bench_server coffer "Coffer" ;;
	coffer-s3driver) bench_server coffer-s3driver "Coffer, S3 driver on versitygw" ;;
	*)
		echo "unknown server $name in BENCH_SERVERS: expected versitygw, coffer or coffer-s3driver" >&2
		exit 2
		;;
	esac
	reports+=("$WORK/$name.json")
done

echo
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
echo "ratio = second column ÷ first; for latency, seconds, CPU and RSS rows, lower is better"
echo
"$S3LOAD" table "${reports[@]}"
