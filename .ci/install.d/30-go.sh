#!/usr/bin/env bash
# k3s-bake go end-to-end suite (.ci/test.d/30-go-e2e.sh): Debian's Go builds the test program, BitBake's gomod
# fetcher downloads with wget, openssl makes the test proxy's self-signed certificate.
set -euo pipefail
apt-get install -y -q --no-install-recommends golang-go git openssl wget ca-certificates python3 >/dev/null
