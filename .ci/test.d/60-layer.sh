#!/usr/bin/env bash
# Layer consistency checks that need no BitBake (units, file:// sources, distro-feature gate, kernel gate, node tool
# names, oeqa syntax, patch Upstream-Status). The real BitBake parse runs outside CI (README: Runtime tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 .ci/layer-checks.py
