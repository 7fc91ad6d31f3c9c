#!/usr/bin/env bash
# Node tools (meta-k3s-rs/k3s-node): what their tests drive for real, and the arm cross toolchain.
# - namespace tests: iproute2 (builds the fake node), iptables (nft + legacy backends), util-linux (unshare,
#   nsenter), procps, gzip; systemd for `systemctl --root` (offline enable) and `systemd-analyze verify`.
# - arm: rustup cannot fetch targets here, so Debian's rustc-web/cargo-web 1.96 with Debian's arm64 std; armv7's std
#   is built from rust-web-src (-Zbuild-std) because Debian's armhf index cannot be relied on; qemu-user runs tests.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install iproute2 iptables util-linux procps gzip systemd
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt_update
fi
apt_install rustc-web cargo-web libstd-rust-web-dev:arm64 rust-web-src \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static
