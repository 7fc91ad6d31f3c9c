#!/usr/bin/env bash
# Benchmark (not a test): `k3s-bake cargo` against cargo-bitbake 0.3.16 on the same workspaces (benches/cargo-recipe/
# small: 17 locked packages; fetcher: tokio + reqwest, 120), first run (no k3s-bake cache; with cargo's home as it
# is, and with the archives only, as after `cargo fetch`) and rerun (cache warm), where k3s-bake's time goes
# (--timings), and what its own feature resolver replaces (`cargo tree` once per target). Also this repository's
# node recipe.
#
# Usage: bash benches/cargo-recipe.sh
#   needs hyperfine (apt-get install hyperfine) and, for the comparison, cargo-bitbake 0.3.16:
#   cargo install cargo-bitbake --version 0.3.16 --locked --root DIR; CARGO_BITBAKE=DIR/bin/cargo-bitbake
#   BENCH_DIR=DIR keeps the scratch files (workspace copies, cargo-bitbake's local registry, caches); RUNS=N runs.
# cargo-bitbake's built-in cargo cannot read crates.io's sparse index and this machine cannot reach the git index
# on github.com: it runs against a local registry built from cargo's caches (benches/cargo-recipe/local-registry.py).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
W=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$W"' EXIT
mkdir -p "$W"
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
cb=${CARGO_BITBAKE:-$(command -v cargo-bitbake || true)}

cargo build --quiet --locked --release -p k3s-bake
bake=$repo/target/release/k3s-bake
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cargo: $(cargo -V)"

# A cargo home with the .crate archives and index only, as after `cargo fetch` (no sources unpacked by a build):
# the license scan then inflates every linked archive.
fetched_home() {
    local real=${CARGO_HOME:-$HOME/.cargo} h=$W/home-fetched
    rm -rf "$h" && mkdir -p "$h/registry"
    ln -s "$real/registry/cache" "$h/registry/cache"
    ln -s "$real/registry/index" "$h/registry/index"
    [ -d "$real/git" ] && ln -s "$real/git" "$h/git"
    echo "$h"
}

# --- One fixture: its own workspace (a copy, so nothing is written into the repository).
bench_fixture() {
    local name=$1 ws=$W/$1 cache=$W/k3s-bake-cache-$1
    rm -rf "$ws" && cp -r "benches/cargo-recipe/$name" "$ws"
    (cd "$ws" && cargo fetch --locked --quiet)
    local pkgs run tree home_f unpacked linked
    pkgs=$(grep -c '^name = ' "$ws/Cargo.lock")
    run="$bake cargo --manifest-path $ws/Cargo.toml --local-sources --out $W/out-$name"
    home_f=$(fetched_home)
    echo
    echo "== $name: $pkgs locked packages"
    K3S_BAKE_CACHE_DIR=$cache $run --no-cache --timings 2>&1 >/dev/null | sed 's/^/first run            /'
    CARGO_HOME=$home_f K3S_BAKE_CACHE_DIR=$cache $run --no-cache --timings 2>&1 >/dev/null \
        | sed 's/^/first run, fetched   /'
    rm -rf "$cache"; K3S_BAKE_CACHE_DIR=$cache $run >/dev/null
    K3S_BAKE_CACHE_DIR=$cache $run --timings 2>&1 >/dev/null | sed 's/^/rerun                /'
    # How many of the linked crates cargo has unpacked here (a build unpacks them; `cargo fetch` does not).
    linked=$(grep -oE 'cargo_home/bitbake/[^/ ]+' "$W/out-$name/$name-licenses.inc" | sort -u | sed 's|.*/||')
    unpacked=0
    for c in $linked; do
        ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$c"/.cargo-ok >/dev/null 2>&1 && unpacked=$((unpacked + 1))
    done
    echo "linked registry crates: $(echo "$linked" | wc -w), unpacked by cargo on this machine: $unpacked"
    tree="cargo tree --offline --locked -q -e normal,no-proc-macro --prefix=none --format={p} --manifest-path $ws/Cargo.toml"
    # hyperfine pairs the --prepare options with the commands in order: only the first two empty the cache.
    local cmds=(-n "k3s-bake first run (empty cache)" --prepare "rm -rf $cache" "env K3S_BAKE_CACHE_DIR=$cache $run"
        -n "k3s-bake first run (empty cache, archives only)" --prepare "rm -rf $cache"
        "env CARGO_HOME=$home_f K3S_BAKE_CACHE_DIR=$cache $run"
        -n "k3s-bake rerun (cache warm)" --prepare true "env K3S_BAKE_CACHE_DIR=$cache $run"
        -n "cargo tree x3 targets (what the resolver replaces)" --prepare true
        "sh -c '$tree --target x86_64-unknown-linux-gnu >/dev/null && $tree --target aarch64-unknown-linux-gnu >/dev/null && $tree --target armv7-unknown-linux-gnueabihf'")
    if [ -n "$cb" ]; then
        # cargo-bitbake's copy: lockfile v3 (its cargo predates v4; identical for crates.io-only locks), the local
        # registry as crates.io's replacement, a git repository with an origin (it reads one for SRC_URI).
        local cbws=$W/$name-cb
        rm -rf "$cbws" "$W/registry-$name" && cp -r "$ws" "$cbws" && rm -rf "$cbws/target"
        python3 benches/cargo-recipe/local-registry.py "$cbws/Cargo.lock" "$W/registry-$name" >/dev/null
        sed -i 's/^version = 4$/version = 3/' "$cbws/Cargo.lock"
        mkdir -p "$cbws/.cargo"
        printf '[source.crates-io]\nreplace-with = "local"\n\n[source.local]\nlocal-registry = "%s"\n' \
            "$W/registry-$name" > "$cbws/.cargo/config.toml"
        (cd "$cbws" && git init -q && git add -A && git -c user.name=b -c user.email=b@localhost commit -qm b \
            && git remote add origin "https://example.com/$name.git")
        (cd "$cbws" && "$cb" bitbake -q >/dev/null 2>&1) || { echo "cargo-bitbake failed on $name" >&2; exit 1; }
        cmds+=(-n "cargo-bitbake 0.3.16" --prepare true "sh -c 'cd $cbws && exec $cb bitbake -q 2>/dev/null'")
    fi
    hyperfine -N --warmup 3 --runs "${RUNS:-30}" "${cmds[@]}" | grep -vE '^\s*$'
}

bench_fixture small
bench_fixture fetcher

# --- This repository's node recipe (cargo-bitbake cannot read this workspace: resolver 3, inherited fields).
echo
echo "== this repository: k3s-node recipe ($(grep -c '^name = ' meta-k3s-rs/Cargo.lock) locked packages)"
cache=$W/k3s-bake-cache-node
cargo fetch --locked --quiet --manifest-path meta-k3s-rs/Cargo.toml
mkdir -p "$W/layer/recipes-containers/k3s-node"
node="$bake cargo --manifest-path $repo/meta-k3s-rs/Cargo.toml -p k3s-node --name k3s-node --local-sources --out $W/layer/recipes-containers/k3s-node --require k3s-node.inc"
K3S_BAKE_CACHE_DIR=$cache $node --no-cache --timings 2>&1 >/dev/null | sed 's/^/first run  /'
hyperfine -N --warmup 3 --runs "${RUNS:-30}" \
    -n "k3s-bake first run (empty cache)" --prepare "rm -rf $cache" "env K3S_BAKE_CACHE_DIR=$cache $node" \
    -n "k3s-bake rerun (cache warm)" --prepare true "env K3S_BAKE_CACHE_DIR=$cache $node" \
    -n "k3s-bake gen --check (whole layer, cache warm)" --prepare true \
    "env K3S_BAKE_CACHE_DIR=$cache $bake --root $repo gen --check" \
    | grep -vE '^\s*$'
