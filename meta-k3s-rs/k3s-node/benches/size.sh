#!/usr/bin/env bash
# Benchmark (not a test): size of the stripped k3s-node release binary for the boards' architectures (goal for
# aarch64: <= 1.5 MiB), built with Debian's rustc-web exactly as .ci/test.d/50-node-cross.sh does. Run from the
# repository root after .ci/install.d/50-node.sh:  bash meta-k3s-rs/k3s-node/benches/size.sh
set -euo pipefail
export RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$PWD/target/cross"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
/usr/bin/cargo build -q --locked --release --target aarch64-unknown-linux-gnu --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node
RUSTC_BOOTSTRAP=1 /usr/bin/cargo build -q --locked --release -Zbuild-std=std,panic_abort \
    --target armv7-unknown-linux-gnueabihf --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node
cargo build -q --locked --release --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node
for bin in target/cross/aarch64-unknown-linux-gnu/release/k3s-node \
    target/cross/armv7-unknown-linux-gnueabihf/release/k3s-node meta-k3s-rs/target/release/k3s-node; do
    size=$(stat -c %s "$bin")
    printf '%-62s %8d bytes  %5.2f MiB\n' "$bin" "$size" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')"
done
