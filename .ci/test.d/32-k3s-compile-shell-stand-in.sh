#!/usr/bin/env bash
# k3s do_compile's own shell, run by Debian's Go against a Go test module that mirrors what it depends on (k3s's
# source cannot be fetched in CI): the version lookups (`go list -m -e` over a module cache as BitBake's fetchers
# write it: .mod and .zip, no .info) and the embed staging (`//go:embed embed/*` in pkg/static and pkg/deploy,
# traefik's charts checked against manifests/traefik.yaml). The blocks between `# >>> k3s-…` and `# <<< k3s-…` are
# extracted from recipes-containers/k3s/k3s_git.bb, so test and recipe cannot drift. Stand-in: the module layout is
# ours, not k3s's. Budget: < 30 s (Debian's Go, a few tiny builds). Traffic: none (GOPROXY=off).
set -euo pipefail
cd "$(dirname "$0")/../.."
RECIPE=recipes-containers/k3s/k3s_git.bb
W=$(mktemp -d /tmp/k3s-compile-shell.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
say() { echo "k3s-compile-shell: $*"; }
extract() {  # the recipe's block NAME, BitBake variables replaced as the task would see them
    sed -n "/# >>> $1 /,/# <<< $1\$/p" "$RECIPE" | sed -e 's/\${GO}/go/g' -e 's/\${K3S_DEPLOY_TRAEFIK}/$K3S_DEPLOY_TRAEFIK/g' \
        -e 's/\${UNPACKDIR}/$UNPACKDIR/g'
}
for b in k3s-version-lookups k3s-embed; do
    [ -n "$(extract $b)" ] || { echo "k3s-compile-shell: no '# >>> $b' block in $RECIPE" >&2; exit 1; }
done
extract k3s-version-lookups > "$W/lookups.sh"
extract k3s-embed > "$W/embed.sh"
bbfatal() { echo "bbfatal: $*" >&2; exit 1; }
export -f bbfatal

export HOME=$W/home GOPATH=$W/gopath GOMODCACHE=$W/modcache GOCACHE=$W/gocache GOPROXY=off GOSUMDB=off \
    GOTOOLCHAIN=local GOFLAGS=-mod=mod GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"

# A module cache as BitBake's gomod:// fetcher unpacks it: <ver>.mod and <ver>.zip only.
dl=$GOMODCACHE/cache/download/example.com/dep/@v
mkdir -p "$dl"
printf 'module example.com/dep\n\ngo 1.19\n' > "$dl/v1.2.3.mod"
python3 - "$dl/v1.2.3.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("example.com/dep@v1.2.3/go.mod", "module example.com/dep\n\ngo 1.19\n")
    z.writestr("example.com/dep@v1.2.3/dep.go", "package dep\n\nconst Name = \"dep\"\n")
PY

M=$W/k3s
mkdir -p "$M/manifests" "$M/pkg/static" "$M/pkg/deploy" "$M/cmd/server" "$W/unpack/charts"
printf 'module github.com/k3s-io/k3s\n\ngo 1.19\n\nrequire example.com/dep v1.2.3\n' > "$M/go.mod"
printf 'package static\n\nimport "embed"\n\n//go:embed embed/*\nvar FS embed.FS\n' > "$M/pkg/static/static.go"
printf 'package deploy\n\nimport "embed"\n\n//go:embed embed/*\nvar FS embed.FS\n' > "$M/pkg/deploy/deploy.go"
cat > "$M/cmd/server/main.go" <<'GO'
package main

import (
	"fmt"
	"io/fs"

	"example.com/dep"
	"github.com/k3s-io/k3s/pkg/deploy"
	"github.com/k3s-io/k3s/pkg/static"
)

func main() {
	for _, f := range []fs.FS{static.FS, deploy.FS} {
		fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fmt.Println(p)
			}
			return err
		})
	}
	fmt.Println(dep.Name)
}
GO
printf 'apiVersion: v1\nkind: ConfigMap\n' > "$M/manifests/coredns.yaml"
cat > "$M/manifests/traefik.yaml" <<'Y'
spec:
  chart: https://%{KUBERNETES_API}%/static/charts/traefik-crd-1.0.0.tgz
---
spec:
  chart: https://%{KUBERNETES_API}%/static/charts/traefik-1.0.0.tgz
Y
cd "$M"
go mod download example.com/dep 2>/dev/null || true   # GOPROXY=off: only what the cache holds

# --- version lookups ---------------------------------------------------------------------------------------------
. "$W/lookups.sh"
[ "$(modver example.com/dep)" = v1.2.3 ] || { echo "modver example.com/dep gave '$(modver example.com/dep)', want v1.2.3" >&2; exit 1; }
[ "$(modver sigs.k8s.io/cri-tools)" = v0.0.0 ] || { echo "a module outside the graph must give v0.0.0" >&2; exit 1; }
[ "$(modpath example.com/dep)" = example.com/dep ] || { echo "modpath example.com/dep wrong" >&2; exit 1; }
say "version lookups: example.com/dep -> v1.2.3 offline without .info; missing module -> v0.0.0"
# scripts/version.sh names klipper-helm's version on a line of its own (k3s v1.3x: VERSION_HELM_JOB="v…").
mkdir -p scripts
printf '#!/bin/bash\nVERSION_ROOT="v0.15.0"\n\nVERSION_HELM_JOB="v0.11.1-build20260615"\n\nif [[ -n "$GIT_TAG" ]]; then :; fi\n' > scripts/version.sh
[ "$(helmjobver)" = v0.11.1-build20260615 ] || { echo "helmjobver gave '$(helmjobver)'" >&2; exit 1; }
say "klipper-helm for DefaultJobImage from scripts/version.sh: $(helmjobver)"
# The defect this guards: without -e, `go list -m` needs the .info the fetchers never write.
sed 's/ list -m -e / list -m /' "$W/lookups.sh" > "$W/lookups-no-e.sh"
( . "$W/lookups-no-e.sh"; [ "$(modver example.com/dep)" = v0.0.0 ] ) \
    || { echo "k3s-compile-shell: expected the variant without -e to lose the version (stand-in no longer faithful)" >&2; exit 1; }
say "without -e the same lookup gives v0.0.0 (the old recipe's defect)"

# --- embed staging ------------------------------------------------------------------------------------------------
stage() {  # $1 = K3S_DEPLOY_TRAEFIK
    rm -rf pkg/static/embed pkg/deploy/embed
    ( K3S_DEPLOY_TRAEFIK=$1 UNPACKDIR=$W/unpack; . "$W/embed.sh" )
}
stage 0
go build -o "$W/server" ./cmd/server
# Output first, then grep: with pipefail, `grep -q` closing the pipe early makes the writer die of SIGPIPE.
listing=$("$W/server")
grep -qx 'embed/coredns.yaml' <<<"$listing" || { echo "manifests not embedded" >&2; exit 1; }
say "K3S_DEPLOY_TRAEFIK=0: //go:embed embed/* builds with the placeholder ($("$W/server" | head -n1))"
# The defect this guards: a hidden .keep does not satisfy `embed/*` (patterns skip names starting with '.').
rm -rf pkg/static/embed && mkdir -p pkg/static/embed/charts && : > pkg/static/embed/charts/.keep
if go build -o "$W/server" ./cmd/server 2>"$W/keep.err"; then
    echo "k3s-compile-shell: a .keep-only embed dir built; the placeholder check proves nothing" >&2; exit 1
fi
say "the old .keep fallback fails as expected: $(grep -m1 -o 'pattern embed/\*: .*' "$W/keep.err" || head -n1 "$W/keep.err")"
: > "$W/unpack/charts/traefik-crd-1.0.0.tgz"; : > "$W/unpack/charts/traefik-1.0.0.tgz"
stage 1
go build -o "$W/server" ./cmd/server
listing=$("$W/server")
grep -qx 'embed/charts/traefik-1.0.0.tgz' <<<"$listing" || { echo "charts not embedded" >&2; exit 1; }
say "K3S_DEPLOY_TRAEFIK=1: the charts manifests/traefik.yaml references are embedded"
rm "$W/unpack/charts/traefik-1.0.0.tgz"; : > "$W/unpack/charts/traefik-2.0.0.tgz"
if (stage 1) 2>"$W/mismatch.err"; then
    echo "k3s-compile-shell: charts other than the manifest's were embedded without an error" >&2; exit 1
fi
grep -q "references charts 'traefik-1.0.0.tgz traefik-crd-1.0.0.tgz ' but 'traefik-2.0.0.tgz traefik-crd-1.0.0.tgz '" "$W/mismatch.err" \
    || { cat "$W/mismatch.err" >&2; exit 1; }
say "charts that differ from manifests/traefik.yaml stop do_compile: $(cat "$W/mismatch.err")"
say "ok"
