#!/usr/bin/env bash
# Run every fuzz target: ./run.sh [RUNS] [SECONDS per target]. Without cargo-fuzz this builds the
# targets with the same flags `cargo fuzz build --sanitizer none` uses; with it, use
# `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET --sanitizer none -- -runs=N`.
set -uo pipefail
cd "$(dirname "$0")"
runs=${1:-1000000}; secs=${2:-600}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
triple=x86_64-unknown-linux-gnu
cargo build --release --bins --target $triple
[ -d corpus ] || ./seed.sh
mkdir -p artifacts logs
for t in spec_parser claim_parser safetensors npz npy json_weights csv import; do
  mkdir -p "artifacts/$t"
  "$CARGO_TARGET_DIR/$triple/release/$t" "corpus/$t" -runs="$runs" -max_total_time="$secs" \
    -rss_limit_mb=2048 -timeout=10 -max_len=65536 -artifact_prefix="artifacts/$t/" \
    > "logs/$t.log" 2>&1
  echo "$t: exit $? $(grep -E '^Done [0-9]+ runs' "logs/$t.log" || tail -1 "logs/$t.log")"
done
