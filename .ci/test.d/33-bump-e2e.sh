#!/usr/bin/env bash
# End-to-end proof of `k3s-bake bump`, offline (budget: 3 minutes; the k3s-bake build is shared with 30-go-e2e).
# A small k3s-like Go repository this suite builds (tags v1.36.2+k3s1 and an annotated v1.36.3+k3s1 on
# release-1.36 whose tip is one commit past the tag; go.mod with a replace to a containerd fork that holds the
# shim; go.sum written by Debian's go command; scripts/version.sh; manifests/traefik.yaml; cmd/server; a file
# importing a module only without the build tag urfave_cli_no_docs), a module proxy and a chart server on
# 127.0.0.1 (serve.py: HTTP for bump and the charts, HTTPS for gomod://), git repositories for runc and the CNI
# plugins (each tag placed so that only one branch holds it), the release's assets (sha256sum-<arch>.txt,
# k3s-images.txt), and a git-only fork module in a subdirectory (a replace, like k3s's k8s.io/* staging modules)
# that bump's offline go list reads from a zip made from git and BitBake fetches with gomodgit://.
# Then: `k3s-bake bump k3s v1.36.3+k3s1` into a copy of the layer (a failing run first: the copy is unchanged),
# `gen --check` on the result, the new traefik chart version and sha256 rendered into k3s-charts.inc and fetched
# by BitBake's real parser and wget fetcher from the chart server (and refused once the served archive differs),
# the branch= bump chose for runc / the CNI plugins / flannel's plugin fetched with SRCREV by BitBake's real git
# fetcher from the local repositories (and the old choice for runc, a release branch without the tag, refused),
# BitBake's real gomod:// fetchers on the rendered includes (licence files extracted and md5-checked), and Debian's
# Go building the fake k3s and the shim with GOPROXY=off from what BitBake unpacked.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
E2E=$REPO/.ci/go-e2e
W=$(mktemp -d /tmp/bump-e2e.XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    chmod -R u+w "$W" 2>/dev/null || true
    if [ -z "${BUMP_E2E_KEEP:-}" ]; then rm -rf "$W"; else echo "bump-e2e: kept $W"; fi
}
trap cleanup EXIT INT TERM
say() { echo "bump-e2e: $*"; }
bbfetch() {
    python3 "$E2E/bbfetch.py" "$@" >"$W/bbfetch.log" 2>&1 || { cat "$W/bbfetch.log" >&2; return 1; }
    grep "^bbfetch:" "$W/bbfetch.log"
}

cargo build --quiet --locked -p k3s-bake --features online
BAKE=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/k3s-bake

# gen (run by bump) asks cargo for the node recipe's crates: keep rustup's and cargo's homes when HOME moves.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export HOME=$W/home GOPATH=$W/gopath GOCACHE=$W/gocache GOSUMDB=off GOTOOLCHAIN=local GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name e2e && git config --global user.email e2e@example.invalid
git config --global init.defaultBranch main
git config --global advice.detachedHead false

# --- 1. modules and charts on the proxy -----------------------------------------------------------------------
mit() { printf 'MIT License\n\nCopyright (c) 2026 %s\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software, to deal in the Software without restriction.\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n' "$1"; }
apache() { printf '                                 Apache License\n                           Version 2.0, January 2004\n'; }
bsd3() { printf 'Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met. Neither the name of the copyright holder nor the names of its contributors may be used to endorse or promote products derived from this software.\n'; }
P=$W/proxy S=$W/src
mod() { # MODULE VERSION GOMOD_MODULE LICENCE_FN [FILE BODY]...
    local m=$1 v=$2 gm=$3 lic=$4 d=$S/$1@$2; shift 4
    mkdir -p "$d"; printf 'module %s\n\ngo 1.19\n' "$gm" > "$d/go.mod"; $lic x > "$d/LICENSE"
    while [ $# -gt 0 ]; do mkdir -p "$(dirname "$d/$1")"; printf '%s' "$2" > "$d/$1"; shift 2; done
    python3 "$E2E/mkproxy.py" "$P" "$m" "$v" "$d"
}
mod example.com/dep v1.0.0 example.com/dep mit dep.go $'package dep\n\nfunc Hello() string { return "hello" }\n'
mod example.com/docs v1.0.0 example.com/docs bsd3 docs.go $'package docs\n'
mod github.com/opencontainers/runc v1.4.3 github.com/opencontainers/runc apache runc.go $'package runc\n'
mod github.com/containernetworking/plugins v1.9.2 github.com/containernetworking/plugins apache p.go $'package plugins\n'
# The fork keeps upstream's module line, as k3s-io's forks do.
mod example.com/k3s-io/containerd/v2 v2.0.0-k3s1 github.com/containerd/containerd/v2 apache \
    cmd/containerd-shim-runc-v2/main.go $'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("shim") }\n'
# The real urfave/cli v2 (Debian's 2.3.0, .ci/install.d/33-urfave-cli.sh) for the fake k3s's pkg/cli/cmds, with what
# its go.mod requires: md2man and blackfriday real (its docs.go imports md2man), toml and yaml.v2 stand-in modules
# holding only their module line (only urfave's altsrc, which nothing here imports, uses them). Debian's -dev packages
# drop LICENSE files: each module gets the licence text of its package's copyright file.
debmod() { # MODULE VERSION DEBIAN_PACKAGE
    local m=$1 v=$2 d=$S/$1@$2
    mkdir -p "$d"
    (cd "/usr/share/gocode/src/$m" && find . -type f ! -name '*_test.go' ! -path '*/testdata/*' ! -path './v[0-9]*/*' -print0 |
        xargs -0 cp --parents -t "$d")
    rm -f "$d/go.sum"
    python3 - "/usr/share/doc/$3/copyright" > "$d/LICENSE" <<'PY'
import sys
para = [p for p in open(sys.argv[1]).read().split("\n\n") if p.startswith("License:")][-1]
print("\n".join("" if l == " ." else l[1:] for l in para.splitlines()[1:]))
PY
    python3 "$E2E/mkproxy.py" "$P" "$m" "$v" "$d"
}
debmod github.com/urfave/cli/v2 v2.3.0 golang-github-urfave-cli-v2-dev
debmod github.com/cpuguy83/go-md2man/v2 v2.0.1 golang-github-cpuguy83-go-md2man-v2-dev
debmod github.com/russross/blackfriday/v2 v2.1.0 golang-github-russross-blackfriday-v2-dev
mod github.com/BurntSushi/toml v0.3.1 github.com/BurntSushi/toml mit
mod gopkg.in/yaml.v2 v2.2.3 gopkg.in/yaml.v2 mit
mkdir -p "$P/charts/traefik" "$P/charts/traefik-crd"
echo chart > "$P/charts/traefik/traefik-40.0.0+up40.0.0.tgz"
echo crd > "$P/charts/traefik-crd/traefik-crd-40.0.0+up40.0.0.tgz"
# The release's assets, as k3s publishes them (http.server decodes the %2B of the URL to this '+').
R=$P/releases/v1.36.3+k3s1
mkdir -p "$R"
for a in amd64:1 arm64:2 arm:3; do
    printf '%s  k3s-airgap-images-%s.tar.zst\n' "$(printf "${a#*:}%.0s" $(seq 64))" "${a%%:*}" > "$R/sha256sum-${a%%:*}.txt"
done
printf 'docker.io/rancher/mirrored-pause:3.6\n' > "$R/k3s-images.txt"

# --- 2. the fake k3s and the other pins' repositories ------------------------------------------------------------
K=$W/git/k3s
mkdir -p "$K/cmd/server" "$K/scripts" "$K/manifests" "$K/pkg/cli/cmds" "$K/contrib/util"
printf 'module github.com/k3s-io/k3s\n\ngo 1.19\n' > "$K/go.mod"
printf 'package main\n\nfunc main() {}\n' > "$K/cmd/server/main.go"
for f in scripts/version.sh manifests/traefik.yaml pkg/cli/cmds/agent.go pkg/cli/cmds/server.go contrib/util/check-config.sh; do
    echo > "$K/$f"
done
git -C "$K" init -q && git -C "$K" add . && git -C "$K" commit -qm "v1.36.2" && git -C "$K" tag v1.36.2+k3s1
OLD=$(git -C "$K" rev-parse HEAD)
git -C "$K" checkout -q -b release-1.36
printf 'module github.com/k3s-io/k3s\n\ngo 1.19\n\nrequire (\n\texample.com/dep v1.0.0\n\texample.com/docs v1.0.0\n\tgithub.com/containerd/containerd/v2 v2.0.0\n\tgithub.com/containernetworking/plugins v1.9.2\n\tgithub.com/opencontainers/runc v1.4.3\n)\n\nreplace github.com/containerd/containerd/v2 => example.com/k3s-io/containerd/v2 v2.0.0-k3s1\n' > "$K/go.mod"
cat > "$K/cmd/server/main.go" <<'GO'
package main

import (
	"fmt"

	"example.com/dep"
	_ "github.com/containernetworking/plugins"
	"github.com/k3s-io/k3s/pkg/cli/cmds"
	_ "github.com/opencontainers/runc"
)

func main() { fmt.Println("k3s says", dep.Hello(), len(cmds.NewAgentCommand(nil).Flags)) }
GO
printf '//go:build !urfave_cli_no_docs\n\npackage main\n\nimport _ "example.com/docs"\n' > "$K/cmd/server/docs.go"
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"\n' > "$K/tools.go"
printf '#!/bin/bash\nVERSION_RUNC=$(get-module-version github.com/opencontainers/runc)\nVERSION_CNIPLUGINS="v1.9.2-k3s1"\nVERSION_FLANNEL_PLUGIN="v1.9.2-flannel1"\nVERSION_HELM_JOB="v0.9.11-build20260601"\n' > "$K/scripts/version.sh"
printf 'spec:\n  chart: https://%%{KUBERNETES_API}%%/static/charts/traefik-40.0.0+up40.0.0.tgz\n---\nspec:\n  chart: https://%%{KUBERNETES_API}%%/static/charts/traefik-crd-40.0.0+up40.0.0.tgz\n' > "$K/manifests/traefik.yaml"
# pkg/cli/cmds over urfave/cli v2 as k3s 1.36's (very likely): a hidden agent flag new in this release, a server-only one.
cat > "$K/pkg/cli/cmds/agent.go" <<'GO'
package cmds

import "github.com/urfave/cli/v2"

var ConfigFlag = &cli.StringFlag{Name: "config", Aliases: []string{"c"}}

func NewAgentCommand(action func(ctx *cli.Context) error) *cli.Command {
	return &cli.Command{Name: "agent", Action: action, Flags: []cli.Flag{
		ConfigFlag,
		&cli.StringFlag{Name: "token", Aliases: []string{"t"}},
		&cli.StringSliceFlag{Name: "node-label"},
		&cli.StringFlag{Name: "brand-new-flag", Hidden: true},
		&cli.BoolFlag{Name: "with-node-id"},
	}}
}
GO
cat > "$K/pkg/cli/cmds/server.go" <<'GO'
package cmds

import "github.com/urfave/cli/v2"

func NewServerCommand(action func(*cli.Context) error) *cli.Command {
	return &cli.Command{Name: "server", Action: action, Flags: []cli.Flag{
		ConfigFlag,
		&cli.StringFlag{Name: "token", Aliases: []string{"t"}},
		&cli.StringSliceFlag{Name: "disable"},
		&cli.DurationFlag{Name: "etcd-s3-timeout"},
		// The keys the layer's server config writes (lib/k3s_config/knobs.py): a bumped k3s without one of them
		// makes the recipe refuse to parse ("the layer would write …, which `k3s server` does not define").
		&cli.StringFlag{Name: "write-kubeconfig", Aliases: []string{"o"}},
		&cli.StringFlag{Name: "write-kubeconfig-mode"},
		&cli.StringFlag{Name: "flannel-backend"},
		&cli.StringSliceFlag{Name: "cluster-cidr"},
		&cli.StringSliceFlag{Name: "service-cidr"},
		&cli.BoolFlag{Name: "with-node-id"},
	}}
}
GO
printf 'check_flags NAMESPACES NET_NS PID_NS\n' > "$K/contrib/util/check-config.sh"
mkdir -p "$K/scripts/airgap" && printf 'docker.io/rancher/mirrored-pause:3.6\n' > "$K/scripts/airgap/image-list.txt"
# A module only available from git, as k3s's k8s.io/* staging modules replaced to the k3s-io/kubernetes fork: no
# proxy has it, its directory has no LICENSE (the root's goes into the zip) and holds a nested module, a vendor
# directory and a symlink the go command leaves out. The go command fetches the VCS-qualified path with git itself
# (GIT_CONFIG_GLOBAL: a temporary file with an insteadOf rewrite to the local repository, never the user's).
KUBE=$W/git/kubernetes.git
mkdir -p "$KUBE/staging/src/k8s.io/api/nested" "$KUBE/staging/src/k8s.io/api/vendor/example.org/v"
printf 'module k8s.io/kubernetes\n\ngo 1.19\n' > "$KUBE/go.mod"; apache > "$KUBE/LICENSE"
printf 'module k8s.io/api\n\ngo 1.19\n' > "$KUBE/staging/src/k8s.io/api/go.mod"
printf 'package api\n\nconst Version = "v1"\n' > "$KUBE/staging/src/k8s.io/api/api.go"
printf 'module k8s.io/api/nested\n' > "$KUBE/staging/src/k8s.io/api/nested/go.mod"
printf 'package nested\n' > "$KUBE/staging/src/k8s.io/api/nested/n.go"
printf 'package v\n' > "$KUBE/staging/src/k8s.io/api/vendor/example.org/v/v.go"
ln -s api.go "$KUBE/staging/src/k8s.io/api/link.go"
git -C "$KUBE" init -q && git -C "$KUBE" add -A && git -C "$KUBE" commit -qm v1.36.2-k3s1
git -C "$KUBE" tag -a -m api staging/src/k8s.io/api/v1.36.2-k3s1
printf 'package main\n\nimport (\n\t"fmt"\n\n\t"k8s.io/api"\n)\n\nfunc init() { fmt.Println("api", api.Version) }\n' > "$K/cmd/server/kube.go"
printf '\nrequire k8s.io/api v0.36.2\n\nreplace k8s.io/api => gitonly.test/k3s-io/kubernetes.git/staging/src/k8s.io/api v1.36.2-k3s1\n' >> "$K/go.mod"
printf '[url "file://%s"]\n\tinsteadOf = https://gitonly.test/k3s-io/kubernetes\n' "$KUBE" > "$W/insteadof.gitconfig"
(cd "$K" && GOPATH=$W/tidy GOFLAGS=-mod=mod GOPROXY="file://$P,direct" GOPRIVATE=gitonly.test \
    GIT_CONFIG_GLOBAL=$W/insteadof.gitconfig GIT_CONFIG_NOSYSTEM=1 go mod tidy)
git -C "$K" add . && git -C "$K" commit -qm "bump deps" && git -C "$K" tag -a -m v1.36.3+k3s1 v1.36.3+k3s1
TAG_COMMIT=$(git -C "$K" rev-parse HEAD)
echo past > "$K/after" && git -C "$K" add . && git -C "$K" commit -qm "after the tag"
# Where each tag is decides the branch bump must name (BitBake's git fetcher needs a branch= holding SRCREV):
# runc's tag on main behind a release-1.4 cut before it (the spec's branch: a branch that merely exists is not
# enough), the CNI plugins' on release-1.9 only (main went on without it), flannel's on main.
for p in runc:v1.4.3:stale-release-1.4 cni:v1.9.2:on-release-1.9 flannel:v1.9.2-flannel1:main; do
    IFS=: read -r name tag layout <<<"$p"
    d=$W/git/$name; mkdir -p "$d"; echo base > "$d/README"
    git -C "$d" init -q && git -C "$d" add . && git -C "$d" commit -qm base
    case $layout in
        stale-release-1.4) git -C "$d" branch release-1.4 ;;
        on-release-1.9) git -C "$d" checkout -q -b release-1.9 ;;
    esac
    echo "$tag" > "$d/README" && git -C "$d" commit -qam release && git -C "$d" tag -a -m "$tag" "$tag"
    if [ "$layout" = on-release-1.9 ]; then git -C "$d" checkout -q main && git -C "$d" commit -q --allow-empty -m later; fi
done

# --- 3. serve on 127.0.0.1 --------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
python3 "$E2E/serve.py" "$P" "$W/cert.pem" "$W/key.pem" "$W" & SERVER=$!
for _ in $(seq 50); do [ -s "$W/https.port" ] && [ -s "$W/http.port" ] && break; sleep 0.1; done
HTTP=127.0.0.1:$(cat "$W/http.port"); HTTPS=127.0.0.1:$(cat "$W/https.port")

# --- 4. bump a copy of the layer --------------------------------------------------------------------------------
L=$W/layer
mkdir -p "$L"
git ls-files -z --cached --others --exclude-standard | grep -zv '^target/' | xargs -0 cp --parents -t "$L"
sed -i "s/commit: 2390b65e1ae38c786b150e6f4113b55d1c3a9492/commit: $OLD/" "$L/k3s-spec.yaml"
# The layer's real facts hold toml v0.3.1 and blackfriday v2.1.0 (real zips' sha256), which the fake serves from
# Debian's source: drop those records from the copy so bump resolves the served ones (kept, they would stop the bump:
# the served zips are not the bytes the facts were recorded from).
sed -i -e $'/^[a-z]*\tgithub.com\/BurntSushi\/toml\tv0.3.1\t/d' -e $'/^[a-z]*\tgithub.com\/russross\/blackfriday\/v2\tv2.1.0\t/d' \
    "$L/recipes-containers/k3s/k3s-go-facts.tsv"
snapshot() { (cd "$L" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
snapshot > "$W/before.sum"
bump() {
    "$BAKE" --root "$L" bump k3s "$@" --mirror "k3s=file://$K" --mirror "runc=file://$W/git/runc" \
        --mirror "cni-plugins=file://$W/git/cni" --mirror "flannel-cni-plugin=file://$W/git/flannel" \
        --goproxy "http://$HTTP,direct" --repo "gitonly.test/k3s-io/kubernetes.git=file://$KUBE" \
        --cache "$W/cache" --scratch "$W/scratch" --quiet
}
"$BAKE" --root "$L" bump --check --mirror "k3s=file://$K" --mirror "runc=file://$W/git/runc" \
    --mirror "cni-plugins=file://$W/git/cni" --mirror "flannel-cni-plugin=file://$W/git/flannel" | tee "$W/check.out"
grep -q 'newer on its minor: v1.36.3+k3s1' "$W/check.out"
grep -q '^runc: v1.4.2, newer upstream: v1.4.3' "$W/check.out"
# A late failure (the chart server lacks the archives) and a bad tag leave the layer exactly as it was.
if bump v1.36.3+k3s1 --chart-base "http://$HTTP/no-charts" 2>"$W/fail.err"; then say "expected a failure"; exit 1; fi
grep -q "downloading chart" "$W/fail.err"
if bump v1.36.9+k3s1 --chart-base "http://$HTTP/charts" 2>>"$W/fail.err"; then say "expected a failure"; exit 1; fi
snapshot | cmp -s - "$W/before.sum" || { say "a failed bump changed the layer"; exit 1; }
[ -z "$(ls -A "$W/scratch")" ] || { say "a failed bump left scratch files"; exit 1; }
start=$(date +%s.%N)
bump v1.36.3+k3s1 --chart-base "http://$HTTP/charts" --release-base "http://$HTTP/releases" | tee "$W/bump.out"
say "bump took $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s (warm resolve cache)"
grep -q "^    commit: $TAG_COMMIT$" "$L/k3s-spec.yaml"
grep -q '^    version: v1.36.3+k3s1$' "$L/k3s-spec.yaml"
grep -q "^K3S_SRCREV = \"$TAG_COMMIT\"" "$L/conf/include/k3s-spec.inc" || grep -q "$TAG_COMMIT" "$L/conf/include/k3s-spec.inc"
grep -q 'bump deps' "$W/bump.out" && ! grep -q 'after the tag' "$W/bump.out"
"$BAKE" --root "$L" gen --check
# The airgap facts are the new release's, and gen rendered them for the recipe.
A=$L/recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.inc
grep -q "^K3S_AIRGAP_CHECKED_SRCREV = \"$TAG_COMMIT\"$" "$A" && grep -q '^K3S_AIRGAP_IMAGE_LIST = "compared"$' "$A"
grep -q "^SRC_URI\[arm.sha256sum\] = \"$(printf '3%.0s' $(seq 64))\"$" "$A"
I=$L/recipes-containers/k3s
cat "$I/k3s-go-mods.inc" "$I/k3s-licenses.inc"
grep -q 'gomod://example.com/docs;version=v1.0.0;sha256sum=' "$I/k3s-go-mods.inc"
if grep -q 'example.com/docs' "$I/k3s-licenses.inc"; then say "docs is linked only without urfave_cli_no_docs"; exit 1; fi
grep -q 'BSD-3-Clause' "$I/k3s-licenses.inc" && { say "BSD-3-Clause listed"; exit 1; }
# The flags: read by running pkg/cli/cmds, written to the facts, rendered by gen into k3s_model's table (which
# compiles) and the recipe's config facts, each command's flags under its own variable only.
flags_fail() { say "flags: $*"; exit 1; }
grep -q $'^agent\tbrand-new-flag\t-\tstring$' "$I/k3s-cli-flags.tsv" || flags_fail "brand-new-flag not in the facts"
grep -q $'^server\tetcd-s3-timeout\t-\tduration$' "$I/k3s-cli-flags.tsv" || flags_fail "etcd-s3-timeout not a duration"
grep -q "from k3s v1.36.3+k3s1 (commit $TAG_COMMIT)" "$I/k3s-cli-flags.tsv" || flags_fail "no provenance"
grep -q 'Flag { name: "brand-new-flag", aliases: &\[\], kind: Kind::String },' "$L/meta-k3s-rs/k3s-model/src/flags_table.rs" ||
    flags_fail "brand-new-flag not in the rendered k3s_model table"
agent_flags=$(sed -n '/^K3S_AGENT_FLAGS/,/"$/p' "$I/k3s-config-facts.inc")
server_flags=$(sed -n '/^K3S_SERVER_FLAGS/,/"$/p' "$I/k3s-config-facts.inc")
grep -q '^    brand-new-flag=string' <<<"$agent_flags" || flags_fail "brand-new-flag not in K3S_AGENT_FLAGS"
if grep -q 'brand-new-flag' <<<"$server_flags"; then flags_fail "an agent flag leaked into K3S_SERVER_FLAGS"; fi
grep -q 'agent: 5 flags; added \["brand-new-flag"\]' "$W/bump.out" || flags_fail "not in the summary"
CARGO_TARGET_DIR=$W/model-target cargo build --quiet --offline --locked --manifest-path "$L/meta-k3s-rs/Cargo.toml" -p k3s-model

# The git-only module went through bump's offline go list (a zip made from git, checked against go.sum): a
# gomodgit source with its subdir, licensed by the root's LICENSE.
grep -q "gomodgit://gitonly.test/k3s-io/kubernetes.git/staging/src/k8s.io/api;version=v1.36.2-k3s1;repo=$KUBE;srcrev=$(git -C "$KUBE" rev-parse HEAD);protocol=file;subdir=staging/src/k8s.io/api" "$I/k3s-go-mods.inc"
grep -q 'gitonly.test/k3s-io/kubernetes.git/staging/src/k8s.io/api@v1.36.2-k3s1/LICENSE' "$I/k3s-licenses.inc"

# --- 5a. traefik's charts: the bump's chart facts rendered into k3s-charts.inc, fetched by BitBake's wget fetcher ----
CHART_SHA=$(sha256sum "$P/charts/traefik/traefik-40.0.0+up40.0.0.tgz" | cut -d' ' -f1)
grep -q "  traefik: 39.0.501+up39.0.5 → 40.0.0+up40.0.0 (sha256 888de9d09876 → ${CHART_SHA:0:12})" "$W/bump.out"
grep -q "^chart	traefik	40.0.0+up40.0.0	$CHART_SHA$" "$I/k3s-upstream-facts.tsv"
grep -q "^K3S_TRAEFIK_CHART_VERSION\[traefik\] = \"40.0.0+up40.0.0\"$" "$I/k3s-charts.inc"
grep -q "^SRC_URI\[traefik.sha256sum\] = \"$CHART_SHA\"$" "$I/k3s-charts.inc"
if grep -q '39.0.501' "$I/k3s-charts.inc"; then say "the old chart version is still rendered"; exit 1; fi
git -C "$K" show "$TAG_COMMIT:manifests/traefik.yaml" > "$W/traefik.yaml"
# BitBake's PREMIRRORS layout: one flat directory of archives (the chart server's copy of k3s-charts' assets).
mkdir -p "$P/chart-mirror" && cp "$P"/charts/*/*.tgz "$P/chart-mirror/"
bbcharts() {
    python3 "$E2E/bbcharts.py" "$L" "http://$HTTP/chart-mirror" "$@" >"$W/bbcharts.log" 2>&1 ||
        { cat "$W/bbcharts.log" >&2; return 1; }
    grep "^bbcharts:" "$W/bbcharts.log"
}
bbcharts "$W/bbcharts-ok" "$W/traefik.yaml"
grep -qE 'GET /chart-mirror/traefik-crd-40[.]0[.]0[^ ]*[.]tgz HTTP/1[.][01]" 200' "$W/access.log" || { cat "$W/access.log"; exit 1; }
# The chart server now serves another traefik archive under the same name (republished upstream): BitBake refuses
# it against the rendered sha256 (a fresh DL_DIR, so nothing cached passes).
echo republished > "$P/chart-mirror/traefik-40.0.0+up40.0.0.tgz"
bbcharts "$W/bbcharts-bad" "$W/traefik.yaml" --expect-checksum-failure

# --- 5b. the other pins' branch= and SRCREV through BitBake's git fetcher (PREMIRRORS to the local repositories) -----
grep -q '^RUNC_GIT_URI = "git://github.com/opencontainers/runc.git;protocol=https;branch=main"$' "$L/conf/include/k3s-spec.inc"
grep -q '^CNI_PLUGINS_GIT_URI = ".*;branch=release-1.9"$' "$L/conf/include/k3s-spec.inc"
bbpins() {
    python3 "$E2E/bbpins.py" "$L" "$@" "git://github.com/opencontainers/runc.git=$W/git/runc" \
        "git://github.com/containernetworking/plugins.git=$W/git/cni" \
        "git://github.com/flannel-io/cni-plugin.git=$W/git/flannel" >"$W/bbpins.log" 2>&1 ||
        { cat "$W/bbpins.log" >&2; return 1; }
    grep "^bbpins:" "$W/bbpins.log"
}
bbpins "$W/bbpins-ok"
# The branch the old bump named for runc (release-1.4: on the remote, without the tag) is refused by BitBake.
cp -a "$L" "$W/layer-old-branch"
sed -i 's|^RUNC_GIT_URI = "\(.*\);branch=main"$|RUNC_GIT_URI = "\1;branch=release-1.4"|' "$W/layer-old-branch/conf/include/k3s-spec.inc"
L=$W/layer-old-branch bbpins "$W/bbpins-bad" --expect-failure

# --- 5c. BitBake's gomod fetchers, then Debian's Go builds the fake k3s from what they unpacked ---------------------
# gomodgit checks the module's host (gitonly.test); the repository itself is a local path.
bbfetch "$I/k3s-go-mods.inc" "$HTTPS" "$W/dl" "$W/unpack" "127.0.0.1 gitonly.test" --licenses "$I/k3s-licenses.inc"
git -C "$K" checkout -q "$TAG_COMMIT"
TAGS=$(sed -n 's/^K3S_GO_TAGS ?= "\(.*\)"/\1/p' "$L/recipes-containers/k3s/k3s_git.bb")
(cd "$K" && GOMODCACHE="$W/unpack/pkg/mod" GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -tags "$TAGS" -o "$W/k3s" ./cmd/server &&
    GOMODCACHE="$W/unpack/pkg/mod" GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -tags "$TAGS" -o "$W/shim" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)
[ "$("$W/k3s")" = "$(printf 'api v1\nk3s says hello 5')" ] && [ "$("$W/shim")" = "shim" ]
say "ok"
