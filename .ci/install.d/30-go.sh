#!/usr/bin/env bash
# k3s-bake go end-to-end suite (.ci/test.d/30-go-e2e.sh): Debian's Go builds the test program, BitBake's gomod
# fetcher downloads with wget, openssl makes the test proxy's self-signed certificate.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
apt_install golang-go git openssl wget ca-certificates python3
