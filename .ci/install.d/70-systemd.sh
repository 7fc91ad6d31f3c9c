#!/usr/bin/env bash
# The systemd (PID 1) suite (.ci/test.d/70-systemd.sh): debootstrap builds the Debian root it boots,
# systemd-container provides systemd-nspawn, util-linux nsenter; python3 runs BitBake's parser (bitbake-setup, from
# 00-base.sh) over the recipes.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
    debootstrap systemd-container util-linux iproute2 ca-certificates python3 >/dev/null
