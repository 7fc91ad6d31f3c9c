#!/usr/bin/env bash
# k3s-bake setup and the kas files (.ci/test.d/80-setup.sh): kas (PyPI) for its schema, include handler and
# `kas checkout`, into the CI virtual environment 00-base.sh made; git for the stand-in upstreams; file for the
# cross-built binary (the cross toolchain and qemu-user come from 50-node.sh).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install git file python3-venv
[ -x "$ci_venv/bin/python3" ] || /usr/bin/python3 -m venv "$ci_venv"
"$ci_venv/bin/python3" -m pip install --quiet --disable-pip-version-check 'kas==5.5'
