#!/usr/bin/env bash
# Profile-guided release build of Sluice: build an instrumented binary, run it through every
# bench scenario (configs in bench/pgo-train: the bench's shapes plus logging and rules), merge
# the profile and build again with it. LLVM then lays hot code out densely and moves cold
# branches away, which is what the HTTP/2 path needed: its working set overflowed the L1
# instruction cache (README, Performance). Prints the binary's path on the last line.
#
#   bash bench/pgo-build.sh            # -> target/pgo/sluice
#
# Needs the bench tools (apt-get install nginx wrk nghttp2-client) and an llvm-profdata of
# LLVM 19 or newer: $LLVM_PROFDATA, rustup's llvm-tools, or Debian's llvm-19.
# Environment: BENCH_DIR (default ../shared/bench), PGO_SECONDS (per scenario, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-../shared/bench}
out=$PWD/target/pgo
host=$(rustc -vV | sed -n 's/^host: //p')

find_profdata() {
  if [ -n "${LLVM_PROFDATA:-}" ]; then echo "$LLVM_PROFDATA"; return; fi
  local tool
  tool="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
  if [ -x "$tool" ]; then echo "$tool"; return; fi
  for v in 22 21 20 19; do
    if command -v "llvm-profdata-$v" > /dev/null; then command -v "llvm-profdata-$v"; return; fi
  done
  echo "pgo-build: no llvm-profdata of LLVM 19 or newer (apt-get install llvm-19," \
    "or rustup component add llvm-tools, or set LLVM_PROFDATA)" >&2
  exit 1
}
profdata=$(find_profdata)

rm -rf "$out/raw" "$out/train-run" "$out/sluice.profdata"
mkdir -p "$out/raw"
# --target keeps the flags off build scripts and proc macros, so only Sluice is profiled.
RUSTFLAGS="-Cprofile-generate=$out/raw" \
  cargo build --release --locked -p sluice --bin sluice --target "$host" --target-dir "$out/gen"
bash "$bench/compare.sh" \
  --reference "train=$out/gen/$host/release/sluice -db -f {cfg} --threads {threads}" \
  --config "train=$PWD/bench/pgo-train" \
  -s all -r 1 -d "${PGO_SECONDS:-5}" -w 1 --out "$out/train-run"
"$profdata" merge -o "$out/sluice.profdata" "$out/raw"
RUSTFLAGS="-Cprofile-use=$out/sluice.profdata" \
  cargo build --release --locked -p sluice --bin sluice --target "$host" --target-dir "$out/use"
cp "$out/use/$host/release/sluice" "$out/sluice"
echo "$out/sluice"
