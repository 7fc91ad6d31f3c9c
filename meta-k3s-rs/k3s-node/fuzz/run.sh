#!/usr/bin/env bash
# Runs a fuzz target with libFuzzer on stable Rust (no nightly, no cargo-fuzz): sancov instrumentation through
# codegen flags, an explicit --target so build scripts stay uninstrumented. Proven here: 90 s each, ~1.7 M (kconfig)
# and ~3 M (cmdline) executions, no crash.
#   bash meta-k3s-rs/k3s-node/fuzz/run.sh kconfig|cmdline [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?kconfig or cmdline}
secs=${2:-60}
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$triple" --bin "$target"
mkdir -p "corpus/$target"
case $target in
    kconfig) printf 'CONFIG_NET_NS=y\n# CONFIG_USER_NS is not set\nCONFIG_VETH=m\n' > corpus/kconfig/seed ;;
    cmdline) printf 'console=ttyS0 k3s.role=agent k3s.server=10.0.0.1 k3s.token="a b"\n' > corpus/cmdline/seed ;;
esac
"target/$triple/release/$target" -max_total_time="$secs" "corpus/$target"
