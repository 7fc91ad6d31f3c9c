#!/usr/bin/env bash
# The real urfave/cli for bump's offline tests (tools/k3s-bump/tests/bump_offline.rs, .ci/test.d/33-bump-e2e.sh):
# the fake k3s's pkg/cli/cmds is built over it, as k3s's is. Debian packages its source under /usr/share/gocode/src
# (v2 2.3.0 and v1 1.22.9, with go-md2man and blackfriday, which urfave/cli's docs.go imports); the tests turn
# that source into module zips their 127.0.0.1 proxy serves.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install golang-github-urfave-cli-v2-dev golang-github-urfave-cli-dev
