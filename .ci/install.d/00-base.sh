#!/usr/bin/env bash
# Linters and BitBake's fetchers, pinned: oelint-adv is the arbiter of recipe style; bitbake-setup ships the `bb`
# package whose fetchers the end-to-end tests drive.
set -euo pipefail
apt-get install -y -q --no-install-recommends git ca-certificates python3 >/dev/null
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    'oelint-adv==9.11.2' 'bitbake-setup==2.19.0'
rustup component add rustfmt clippy >/dev/null 2>&1 || true
