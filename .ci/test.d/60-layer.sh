#!/usr/bin/env bash
# Layer consistency checks that need no BitBake (units, file:// sources, distro-feature gate, kernel gate, node tool
# names, oeqa syntax, patch Upstream-Status, file clashes with meta-virtualization's recorded packaging). Budget: a
# second. The real BitBake checks run outside CI: scripts/k3s-bitbake-check (README: Checking with real BitBake).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 .ci/layer-checks.py
