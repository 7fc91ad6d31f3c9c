#!/usr/bin/env bash
# End-to-end proof of `k3s-bake go`: Go modules this test creates (a proxy module with an upper-case path and a
# major-version suffix, a go.mod-only graph member, and two modules only in a local git repository: one at its
# root and one in a subdirectory with a /v2 suffix) → `go resolve` against a module proxy served on 127.0.0.1 and
# the git repository → `go render` → BitBake's real gomod:// / gomodgit:// fetchers download, verify and unpack
# every rendered SRC_URI (and refuse a wrong checksum) → Debian's Go builds the program offline from what BitBake
# unpacked (GOPROXY=off, GOFLAGS=-mod=mod, go.sum verified) and the binary runs. Traffic: 127.0.0.1 and files only.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
E2E=$REPO/.ci/go-e2e
W=$(mktemp -d /tmp/go-e2e.XXXXXX)
SERVER=
# GO_E2E_KEEP=1 keeps the work directory for inspection.
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    if [ -z "${GO_E2E_KEEP:-}" ]; then rm -rf "$W"; else echo "go-e2e: kept $W"; fi
}
trap cleanup EXIT INT TERM
say() { echo "go-e2e: $*"; }
# BitBake's fetchers are chatty (wget, git progress): keep their log, show it only when a step fails.
bbfetch() {
    python3 "$E2E/bbfetch.py" "$@" >"$W/bbfetch.log" 2>&1 || { cat "$W/bbfetch.log" >&2; return 1; }
    grep "^bbfetch:" "$W/bbfetch.log"
}

# `go resolve` is one of k3s-bake's online subcommands (feature `online`).
cargo build --quiet --locked -p k3s-bake --features online
BAKE=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/k3s-bake

export HOME=$W/home GOPATH=$W/gopath GOCACHE=$W/gocache GOSUMDB=off GOTOOLCHAIN=local GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name e2e && git config --global user.email e2e@example.invalid
go version

# --- 1. modules -------------------------------------------------------------------------------------------------
mit() { printf 'MIT License\n\nCopyright (c) 2026 %s\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software, to deal in the Software without restriction.\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n' "$1"; }
S=$W/src
mkdir -p "$S/greet-0.9" "$S/greet-1.0" "$S/upper"
printf 'module example.com/greet\n\ngo 1.19\n' > "$S/greet-0.9/go.mod"
printf 'package greet\n\nfunc Hello() string { return "old hello" }\n' > "$S/greet-0.9/greet.go"
printf 'module example.com/greet\n\ngo 1.19\n' > "$S/greet-1.0/go.mod"
printf 'package greet\n\nfunc Hello() string { return "hello" }\n' > "$S/greet-1.0/greet.go"
mit greet > "$S/greet-1.0/LICENSE"
# Requires greet v0.9.0, which MVS replaces by v1.0.0: greet v0.9.0 is a go.mod-only member of the graph.
# `go 1.16` (before graph pruning): the go command reads the go.mod of every version in its requirement graph.
printf 'module example.com/Upper/v3\n\ngo 1.16\n\nrequire example.com/greet v0.9.0\n' > "$S/upper/go.mod"
printf 'package upper\n\nimport "example.com/greet"\n\nfunc Shout() string { return greet.Hello() + " from Upper/v3" }\n' > "$S/upper/upper.go"
printf 'Copyright (c) 2026 upper\n\nPermission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted.\n' > "$S/upper/LICENSE"

# A git-only repository: root module (with a vendored package and a nested module the go command leaves out of the
# root's zip) and the nested module itself, in subdirectory sub/ with a major-version suffix (tag sub/v2.0.1).
G=$W/git/tool
mkdir -p "$G/sub" "$G/vendor/x.org/v"
printf 'module gitonly.test/tool.git\n\ngo 1.19\n' > "$G/go.mod"
printf 'package tool\n\nfunc Version() string { return "tool v1.2.0" }\n' > "$G/tool.go"
printf 'package v\n' > "$G/vendor/x.org/v/v.go"
mit tool > "$G/LICENSE"
printf 'module gitonly.test/tool.git/sub/v2\n\ngo 1.19\n' > "$G/sub/go.mod"
printf 'package sub\n\nfunc Answer() int { return 42 }\n' > "$G/sub/sub.go"
git -C "$G" init -q -b main && git -C "$G" add . && git -C "$G" commit -qm "tool v1.2.0"
git -C "$G" tag -a -m v1.2.0 v1.2.0 && git -C "$G" tag sub/v2.0.1
TOOL_COMMIT=$(git -C "$G" rev-parse HEAD)

# The module proxy: only the proxy modules. The git-only modules are not on it (404 → `direct`).
P=$W/proxy
python3 "$E2E/mkproxy.py" "$P" example.com/greet v0.9.0 "$S/greet-0.9"
python3 "$E2E/mkproxy.py" "$P" example.com/greet v1.0.0 "$S/greet-1.0"
python3 "$E2E/mkproxy.py" "$P" example.com/Upper/v3 v3.1.0 "$S/upper"

# The program. Its go.sum comes from the go command itself (proxy as file://, git through an insteadOf rewrite of
# the module's https URL to the local repository), as upstream's go.sum would.
A=$W/app
mkdir -p "$A"
printf 'module example.com/app\n\ngo 1.19\n\nrequire (\n\texample.com/Upper/v3 v3.1.0\n\texample.com/greet v1.0.0\n\tgitonly.test/tool.git v1.2.0\n\tgitonly.test/tool.git/sub/v2 v2.0.1\n)\n' > "$A/go.mod"
cat > "$A/main.go" <<'GO'
package main

import (
	"fmt"

	"example.com/Upper/v3"
	"gitonly.test/tool.git"
	"gitonly.test/tool.git/sub/v2"
)

func main() { fmt.Println(upper.Shout(), tool.Version(), sub.Answer()) }
GO
git config --global url."file://$G".insteadOf "https://gitonly.test/tool"
(cd "$A" && GOPATH=$W/tidy GOFLAGS=-mod=mod GOPROXY="file://$P" GOPRIVATE=gitonly.test go mod tidy)
grep -q 'example.com/greet v0.9.0/go.mod' "$A/go.sum" && ! grep -q 'example.com/greet v0.9.0 h1' "$A/go.sum"
git config --global --unset url."file://$G".insteadOf
say "go.sum from the go command: $(wc -l < "$A/go.sum") lines"

# --- 2. serve the proxy on 127.0.0.1 (HTTP for resolve, HTTPS for BitBake) ----------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
python3 "$E2E/serve.py" "$P" "$W/cert.pem" "$W/key.pem" "$W" & SERVER=$!
for _ in $(seq 50); do [ -s "$W/https.port" ] && [ -s "$W/http.port" ] && break; sleep 0.1; done
HTTP=127.0.0.1:$(cat "$W/http.port"); HTTPS=127.0.0.1:$(cat "$W/https.port")

# --- 3. resolve + render ----------------------------------------------------------------------------------------
F=$W/facts.tsv
resolve() {
    "$BAKE" --root "$REPO" go resolve --facts "$F" --go-mod "$A/go.mod" --go-sum "$A/go.sum" \
        --goproxy "http://$HTTP/missing,http://$HTTP,direct" --repo "gitonly.test/tool.git=file://$G" \
        --cache "$W/cache" --jobs 4
}
resolve
# The module line of sub/go.mod, read at the commit, is recorded with where it was read.
grep -qP "^git\tgitonly.test/tool.git/sub/v2\tv2.0.1\tfile://$G\t$TOOL_COMMIT\trefs/tags/sub/v2.0.1\tsub\tgitonly.test/tool.git/sub/v2\tfile://$G@$TOOL_COMMIT$" "$F"
grep -qP "^mod\texample.com/greet\tv0.9.0\t" "$F"
grep -qP "^license\texample.com/Upper/v3\tv3.1.0\tLICENSE\t[0-9a-f]*\tISC$" "$F"
# A rerun costs nothing: no request reaches the proxy.
before=$(wc -l < "$W/access.log")
resolve
[ "$(wc -l < "$W/access.log")" = "$before" ] || { say "rerun contacted the proxy"; exit 1; }

O=$W/out
mkdir -p "$O"
"$BAKE" --root "$REPO" go render --facts "$F" --decisions /dev/null --go-sum "$A/go.sum" \
    --go-mods "$O/app-go-mods.inc" --licenses "$O/app-licenses.inc"
cat "$O/app-go-mods.inc" "$O/app-licenses.inc"
grep -q "gomod://example.com/greet;version=v0.9.0;mod=1;sha256sum=" "$O/app-go-mods.inc"
grep -q "gomodgit://gitonly.test/tool.git/sub/v2;version=v2.0.1;repo=$G;srcrev=$TOOL_COMMIT;protocol=file;subdir=sub" "$O/app-go-mods.inc"
grep -q 'LICENSE += "& ISC & MIT"' "$O/app-licenses.inc"

# --- 4. BitBake's fetchers ----------------------------------------------------------------------------------------
ALLOWED="127.0.0.1 gitonly.test"   # gomodgit checks the module's host; the repository itself is a local path
bbfetch "$O/app-go-mods.inc" "$HTTPS" "$W/dl" "$W/unpack" "$ALLOWED" --licenses "$O/app-licenses.inc"
# Licence files are in place before any go command ran (go_mod_licenses), outside the module cache proper.
[ ! -e "$W/unpack/pkg/mod/example.com/greet@v1.0.0" ] || { say "the module cache was populated before go ran"; exit 1; }
grep -q "file://pkg/mod-licenses/" "$O/app-licenses.inc"
# A wrong checksum is refused (own DL_DIR: BitBake renames bad downloads).
sed 's/\(gomod:\/\/example.com\/greet;version=v1.0.0;sha256sum=\)[0-9a-f]*/\10000000000000000000000000000000000000000000000000000000000000000/' \
    "$O/app-go-mods.inc" > "$W/bad.inc"
! cmp -s "$W/bad.inc" "$O/app-go-mods.inc"
bbfetch "$W/bad.inc" "$HTTPS" "$W/dl-bad" "$W/unpack-bad" "$ALLOWED" --expect-failure

# --- 5. Debian's Go builds offline from what BitBake unpacked ------------------------------------------------------
build() {
    (cd "$A" && GOMODCACHE="$1/pkg/mod" GOPROXY=off GOFLAGS=-mod=mod GOPATH=$W/gopath-build go build -o "$2" .)
}
build "$W/unpack" "$W/app-bin"
out=$("$W/app-bin")
say "program says: $out"
[ "$out" = "hello from Upper/v3 tool v1.2.0 42" ]

# Without the layer's gomodgit_rezip step, BitBake's own gomodgit zips do not build (why the class exists).
bbfetch "$O/app-go-mods.inc" "$HTTPS" "$W/dl" "$W/unpack-raw" "$ALLOWED" --no-rezip
if build "$W/unpack-raw" "$W/app-raw" 2>"$W/raw.err"; then
    say "expected the unfixed gomodgit zips to fail"; exit 1
fi
say "unfixed gomodgit zips fail as expected: $(grep -m1 -E 'mismatch|no required module|cannot find|not find' "$W/raw.err" || head -1 "$W/raw.err")"
say "ok"
