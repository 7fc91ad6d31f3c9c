#!/usr/bin/env bash
# The k3s recipe's Python for real (BitBake's parser over k3s_git.bb with local.conf-style settings; its
# do_install postfunc into a scratch ${D}): knob checks at parse time, per-role config files, K3S_EXTRA_CONFIG as
# data. The rendered server config is read back by the stand-in k3s with k3s's merge rules. Budget: ~10 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --locked -p k3s-standin
TARGET=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
K3S_STANDIN="$TARGET/debug/k3s-standin" python3 .ci/systemd/test_k3s_recipe.py
K3S_STANDIN="$TARGET/debug/k3s-standin" python3 .ci/systemd/test_offline.py
