#!/usr/bin/env bash
# Node tools on arm: cross-compile k3s-node for aarch64 and armv7 with Debian's rustc 1.96 and run every test that
# needs no root under qemu-user (the namespace tests run natively as root in `cargo test`). Prints the stripped
# release size for aarch64 (goal: <= 1.5 MiB). Cargo settings come from the environment, not a committed
# .cargo/config, so ordinary builds are unaffected; a separate target dir keeps rustup's and Debian's artifacts apart.
set -euo pipefail
cd "$(dirname "$0")/../.."

export RUSTC=/usr/bin/rustc
export CARGO_TARGET_DIR="$PWD/target/cross"
CARGO=/usr/bin/cargo
# The node tools' own workspace (meta-k3s-rs/Cargo.lock, as the node recipe builds them).
PKGS=(--manifest-path meta-k3s-rs/Cargo.toml -p k3s-node -p k3s-model -p k3s-atomic -p k3s-kconfig)
# Under qemu-user /proc shows qemu's command line, not the emulated one, so the fake `k3s server` process of this
# test cannot be recognised there; it runs natively in `cargo test`.
SKIP=(--skip agent_and_clean_refuse_next_to_a_server_process_unless_forced)
export K3S_NODE_SKIP_ROOT_TESTS=1

echo "::: aarch64-unknown-linux-gnu"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# -L / (not /usr/aarch64-linux-gnu): Debian's multiarch arm64 libc; the cross prefix hangs threaded programs.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /"
K3S_NODE_TEST_RUNNER="$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER" \
    "$CARGO" test --locked --target aarch64-unknown-linux-gnu "${PKGS[@]}" --lib --bins --tests -- "${SKIP[@]}"
"$CARGO" build --locked --release --target aarch64-unknown-linux-gnu --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node
bin=target/cross/aarch64-unknown-linux-gnu/release/k3s-node
size=$(stat -c %s "$bin")
echo "k3s-node aarch64 release, stripped: $size bytes ($(file -b "$bin" 2>/dev/null | cut -d, -f1-2))"
qemu-aarch64-static -L / "$bin" check-config --help > /dev/null

echo "::: armv7-unknown-linux-gnueabihf (std built from source)"
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm-static -L /usr/arm-linux-gnueabihf"
K3S_NODE_TEST_RUNNER="$CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER" RUSTC_BOOTSTRAP=1 \
    "$CARGO" test --locked -Zbuild-std=std,panic_abort --target armv7-unknown-linux-gnueabihf "${PKGS[@]}" --lib --bins --tests -- "${SKIP[@]}"
