#!/usr/bin/env bash
# Linters and BitBake's fetchers, pinned: oelint-adv is the arbiter of recipe style; bitbake-setup ships the `bb`
# package whose fetchers the end-to-end tests drive. Both go into the CI virtual environment (.ci/lib.sh).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install git ca-certificates python3 python3-venv
[ -x "$ci_venv/bin/python3" ] || /usr/bin/python3 -m venv "$ci_venv"
"$ci_venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
    'oelint-adv==9.11.2' 'bitbake-setup==2.19.0'
rustup component add rustfmt clippy >/dev/null 2>&1 || true
