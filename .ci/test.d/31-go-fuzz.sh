#!/usr/bin/env bash
# Fuzzes the go.mod and go.sum parsers (tools/gomod/fuzz) for a short while, seeded with the real go.mod/go.sum
# pairs. cargo-fuzz is not installed here; this builds the targets exactly as it would (libFuzzer via
# libfuzzer-sys, SanitizerCoverage passes; RUSTC_BOOTSTRAP=1 because `--cfg fuzzing` builds need no nightly
# features but cargo-fuzz insists on nightly) without AddressSanitizer: the parsers are safe Rust, so panics and
# broken invariants (tools/gomod/src/fuzz.rs) are what is looked for. FUZZ_SECONDS per target (default 15).
set -euo pipefail
cd "$(dirname "$0")/../../tools/gomod/fuzz"
SECONDS_PER_TARGET=${FUZZ_SECONDS:-15}
TARGET=$(rustc -vV | sed -n 's/^host: //p')
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --quiet --locked --release --bins --target "$TARGET"
W=$(mktemp -d /tmp/go-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT
for kind in mod sum; do
    mkdir -p "$W/go_$kind"
    for p in ../tests/data/*/; do cp "$p/go.$kind" "$W/go_$kind/$(basename "$p").$kind"; done
    echo "fuzz: go_$kind for ${SECONDS_PER_TARGET}s"
    "target/$TARGET/release/go_$kind" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
        -artifact_prefix="$W/" "$W/go_$kind" 2>"$W/go_$kind.log" || { tail -40 "$W/go_$kind.log"; exit 1; }
    tail -1 "$W/go_$kind.log"
done
