#!/usr/bin/env bash
# Side-by-side benchmark of Sluice against HAProxy with the shared harness
# (../shared/bench, see its README). Extra arguments go to compare.sh, e.g.
#   bash bench/run.sh -s http-keepalive,http-close,tcp --rounds 3
# Needs: haproxy nginx libnginx-mod-stream wrk nghttp2-client (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-../shared/bench}
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release --locked -p sluice --bin sluice
  SLUICE_BIN=$PWD/target/release/sluice
fi
exec bash "$bench/compare.sh" --candidate "sluice=$SLUICE_BIN -db -f {cfg} --threads {threads}" "$@"
