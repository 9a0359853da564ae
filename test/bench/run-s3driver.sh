#!/usr/bin/env bash
# Side-by-side benchmark of the s3 storage driver (see docs/benchmarks.md):
# the 1 GiB workloads of s3load, first straight against versitygw with
# aws-sdk-go-v2, then through cofferd's S3 API with storage.driver s3 on a
# versitygw of its own, in one run of run-s3.sh.
#
# Environment: BENCH_TMPDIR and BENCH_KEEP as in run-s3.sh.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_SERVERS="versitygw coffer-s3driver" S3LOAD_FLAGS="-workloads large,blob ${S3LOAD_FLAGS:-}" \
	exec bash "$DIR/run-s3.sh"
