#!/usr/bin/env bash
# Side-by-side benchmark of CNCF Distribution and cofferd (see docs/benchmarks.md).
#
# Builds Distribution v3.1.2 (once, into bin/bench/), cofferd and the load
# generator, then starts each server in turn on 127.0.0.1 with a data dir under
# one temp dir, runs test/bench/loadgen against it, stops it, and prints a
# Markdown table.
#
# Environment:
#   BENCH_SERVERS   "distribution coffer" (default), or any list of distribution,
#                   coffer (SQLite metadata) and coffer-postgres (PostgreSQL metadata)
#   BENCH_POSTGRES_SERVER  PostgreSQL server for coffer-postgres, as a URL without a
#                   database (default postgres://postgres@127.0.0.1:5432); the script
#                   creates a fresh database on it and drops it at the end
#   BENCH_TMPDIR    parent of the temp dir for data and reports (default: $TMPDIR or /tmp)
#   BENCH_KEEP=1    keep the temp dir (data, server logs, JSON reports)
#   LOADGEN_FLAGS   extra flags for `loadgen run`, such as "-big-size 268435456"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

DISTRIBUTION_VERSION=v3.1.2
BENCH_BIN=$ROOT/bin/bench
REGISTRY=$BENCH_BIN/registry
LOADGEN=$BENCH_BIN/loadgen
COFFERD=$ROOT/bin/cofferd
SERVERS=${BENCH_SERVERS:-distribution coffer}
POSTGRES_SERVER=${BENCH_POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}
POSTGRES_DATABASE=""

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/coffer-bench.XXXXXX")
SERVER_PID=""

# stop_server stops the server this script started, by PID, and waits for it.
stop_server() {
	if [[ -n "$SERVER_PID" ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}

cleanup() {
	stop_server
	if [[ -n "$POSTGRES_DATABASE" ]]; then
		psql -q "$POSTGRES_SERVER/postgres?sslmode=disable" -c "DROP DATABASE $POSTGRES_DATABASE WITH (FORCE)" || true
	fi
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build() {
	mkdir -p "$BENCH_BIN"
	if [[ " $SERVERS " != *" distribution "* ]]; then
		: # Distribution is not benchmarked
	elif [[ -x "$REGISTRY" ]] && "$REGISTRY" --version | grep -q " $DISTRIBUTION_VERSION"; then
		echo "using $REGISTRY ($DISTRIBUTION_VERSION)" >&2
	else
		echo "building Distribution $DISTRIBUTION_VERSION (about 2 minutes cold)" >&2
		(cd bench && go build -o "$REGISTRY" github.com/distribution/distribution/v3/cmd/registry)
	fi
	if [[ " $SERVERS " == *" coffer"* ]]; then
		make -s build
	fi
	go build -o "$LOADGEN" ./test/bench/loadgen
}

# start_distribution DIR PORT starts Distribution with its filesystem driver,
# its in-memory blob descriptor cache and no auth. Access logs are off and
# OTEL_TRACES_EXPORTER=none stops its default attempt to export traces to an
# OTLP collector, so it spends no time on either.
start_distribution() {
	local dir=$1 port=$2
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
EOF
	OTEL_TRACES_EXPORTER=none "$REGISTRY" serve "$dir/config.yml" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
}

# start_coffer DIR PORT [VAR=VALUE...] starts cofferd with HTTP Basic auth for
# the root user and the extra COFFER_* settings given. Its S3 API gets a free
# port of its own (it would take 9000 by default), and log level warn turns off
# its per-request log lines, as for Distribution.
start_coffer() {
	local dir=$1 port=$2 s3_port
	shift 2
	s3_port=$("$LOADGEN" freeport)
	mkdir -p "$dir/data"
	env "$@" COFFER_ROOT_USER="$BENCH_USER" COFFER_ROOT_PASSWORD="$BENCH_PASSWORD" COFFER_LOG_LEVEL=warn \
		"$COFFERD" --listen "127.0.0.1:$port" --s3-listen "127.0.0.1:$s3_port" \
		--data-dir "$dir/data" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
}

# bench_server NAME LABEL runs the workloads against one server and writes
# $WORK/NAME.json.
bench_server() {
	local name=$1 label=$2 dir=$WORK/$1 port
	port=$("$LOADGEN" freeport)
	mkdir -p "$dir"

	# Flush what earlier steps wrote so it is not written back during this run.
	sync -f "$WORK"

	local username="" password="" database=""
	case $name in
	distribution) start_distribution "$dir" "$port" ;;
	coffer)
		start_coffer "$dir" "$port"
		username=$BENCH_USER password=$BENCH_PASSWORD
		;;
	coffer-postgres)
		POSTGRES_DATABASE=coffer_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
		psql -q "$POSTGRES_SERVER/postgres?sslmode=disable" -c "CREATE DATABASE $POSTGRES_DATABASE"
		start_coffer "$dir" "$port" COFFER_METADATA_DRIVER=postgres \
			COFFER_METADATA_POSTGRES_URL="$POSTGRES_SERVER/$POSTGRES_DATABASE?sslmode=disable"
		username=$BENCH_USER password=$BENCH_PASSWORD database=$POSTGRES_DATABASE
		;;
	esac
	echo "benchmarking $label (pid $SERVER_PID, 127.0.0.1:$port, data in $dir/data)" >&2

	# shellcheck disable=SC2086 # LOADGEN_FLAGS is a list of flags
	if ! LOADGEN_USERNAME=$username LOADGEN_PASSWORD=$password timeout 40m "$LOADGEN" run \
		-url "http://127.0.0.1:$port" -pid "$SERVER_PID" -server "$label" \
		-out "$WORK/$name.json" -postgres-database "$database" ${LOADGEN_FLAGS:-}; then
		echo "benchmark of $label failed; last lines of its log:" >&2
		tail -n 20 "$dir/server.log" >&2
		return 1
	fi
	stop_server

	# Free the disk space before the next server runs.
	rm -rf "$dir/data"
}

build

BENCH_USER=bench
BENCH_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

reports=()
for name in $SERVERS; do
	case $name in
	distribution) bench_server distribution "Distribution $DISTRIBUTION_VERSION" ;;
	coffer) bench_server coffer "Coffer" ;;
	coffer-postgres) bench_server coffer-postgres "Coffer on PostgreSQL" ;;
	*)
		echo "unknown server $name in BENCH_SERVERS: expected distribution, coffer or coffer-postgres" >&2
		exit 2
		;;
	esac
	reports+=("$WORK/$name.json")
done

echo
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
echo "ratio = second column ÷ first; for CPU and RSS rows, lower is better"
echo
"$LOADGEN" table "${reports[@]}"
