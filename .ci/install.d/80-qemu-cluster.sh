#!/usr/bin/env bash
# The QEMU cluster suite (.ci/test.d/80-qemu-cluster.sh): Debian's QEMU 7.2 (software emulation, no KVM),
# busybox-static for the stand-in initramfs, cpio to pack it, binutils to strip the static k3s-node in it, util-linux
# (setpriv: k3s-bake starts each QEMU with a parent-death signal through it; unshare), procps (pgrep), and a
# Debian kernel image (the cloud flavour: small, virtio drivers as modules) fetched with `apt-get download` and
# unpacked with `dpkg -x` into the CI cache — never the host's /boot.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install qemu-system-x86 busybox-static cpio binutils util-linux procps
cache=${K3S_CI_CACHE:-${TMPDIR:-/tmp}/k3s-ci-cache}/qemu-kernel
mkdir -p "$cache"
# The metapackage names the current ABI's image package.
pkg=$(apt-cache depends --no-recommends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { echo "80-qemu-cluster: no linux-image-*-cloud-amd64 behind linux-image-cloud-amd64" >&2; exit 1; }
if [ ! -e "$cache/$pkg/ok" ]; then
    rm -rf "${cache:?}/$pkg" && mkdir -p "$cache/$pkg"
    (cd "$cache/$pkg" && apt-get "${apt_opts[@]}" download -q "$pkg" >/dev/null 2>&1 && dpkg -x ./*.deb root && rm -f ./*.deb)
    touch "$cache/$pkg/ok"
fi
ln -sfn "$pkg" "$cache/current"
