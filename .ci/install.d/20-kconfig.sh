#!/usr/bin/env bash
# The kconfig suite (.ci/test.d/20-kconfig.sh): the kernel's own scripts/kconfig is built from source (flex, bison,
# make, gcc); the kernel sources come from Debian's archive inside the suite (cached), the arm cross compilers
# Kconfig probes ($(cc-option …)) from 50-node.sh, xz for the source tarballs.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
    flex bison bc make gcc libc6-dev xz-utils dpkg-dev >/dev/null
