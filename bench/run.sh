#!/usr/bin/env bash
# Side-by-side benchmark of Sluice against HAProxy with the shared harness
# (../shared/bench, see its README). Extra arguments go to compare.sh, e.g.
#   bash bench/run.sh -s http-keepalive,http-close,tcp --rounds 3
# PGO=1 benchmarks the profile-guided build (bench/pgo-build.sh) instead of the plain one.
# Needs: haproxy nginx libnginx-mod-stream wrk nghttp2-client (apt), and llvm-19 for PGO=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-../shared/bench}
if [ -z "${SLUICE_BIN:-}" ]; then
  if [ "${PGO:-0}" = 1 ]; then
    SLUICE_BIN=$(bash bench/pgo-build.sh | tail -n 1)
  else
    cargo build --release --locked -p sluice --bin sluice
    SLUICE_BIN=$PWD/target/release/sluice
  fi
fi
exec bash "$bench/compare.sh" --candidate "sluice=$SLUICE_BIN -db -f {cfg} --threads {threads}" "$@"
