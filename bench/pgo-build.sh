#!/usr/bin/env bash
# Profile-guided release build of Sluice: build an instrumented binary, run it through the
# bench's traffic shapes (bench/pgo-train.sh; configs in bench/pgo-train: those shapes plus
# logging and rules), merge the profile and build again with it. LLVM then lays hot code out
# densely and moves cold branches away, which is what the HTTP/2 path needed: its working set
# overflowed the L1 instruction cache (README, Performance). Prints the binary's path last.
#
#   bash bench/pgo-build.sh            # -> target/pgo/sluice
#
# Needs the load tools (apt-get install nginx wrk nghttp2-client openssl) and an llvm-profdata
# of LLVM 19 or newer: $LLVM_PROFDATA, rustup's llvm-tools, or Debian's llvm-19.
# Environment: PGO_SECONDS (per load, default 5), PGO_PORT (see bench/pgo-train.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
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

rm -rf "$out/raw" "$out/sluice.profdata"
mkdir -p "$out/raw"
# --target keeps the flags off build scripts and proc macros, so only Sluice is profiled.
RUSTFLAGS="-Cprofile-generate=$out/raw" \
  cargo build --release --locked -p sluice --bin sluice --target "$host" --target-dir "$out/gen"
bash bench/pgo-train.sh "$out/gen/$host/release/sluice"
"$profdata" merge -o "$out/sluice.profdata" "$out/raw"
RUSTFLAGS="-Cprofile-use=$out/sluice.profdata" \
  cargo build --release --locked -p sluice --bin sluice --target "$host" --target-dir "$out/use"
cp "$out/use/$host/release/sluice" "$out/sluice"
echo "$out/sluice"
