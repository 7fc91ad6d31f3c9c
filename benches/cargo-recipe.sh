#!/usr/bin/env bash
# Benchmark (not a test): whole-process time of generating this repository's node-tools recipe with
# `k3s-bake cargo`, and of cargo-bitbake 0.3.16 on the same workspace when it is installed (the peer to beat).
# Usage: bash benches/cargo-recipe.sh        (uses hyperfine when present: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked --release -p k3s-bake
bake=$PWD/target/release/k3s-bake
cargo fetch --locked --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/recipes-containers/k3s-node"
members=$(sed -n 's/^name = "\(k3s-[a-z]*\)"$/\1/p' meta-k3s-rs/*/Cargo.toml | sed 's/^/-p /' | tr '\n' ' ')
ours="$bake cargo --manifest-path $PWD/Cargo.toml $members --name k3s-node --local-sources --out $out/recipes-containers/k3s-node --require k3s-node.inc"
gen="$bake gen --check"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs 30 -N "$ours" "$gen"
else
    for cmd in "$ours" "$gen"; do
        start=$(date +%s%N)
        for _ in $(seq 30); do $cmd >/dev/null; done
        echo "$(( ($(date +%s%N) - start) / 30000 )) µs per run: $cmd"
    done
fi
if command -v cargo-bitbake >/dev/null; then
    # cargo-bitbake needs a package manifest (it refuses a virtual root) and the crates.io git index.
    (cd meta-k3s-rs/k3s-atomic && if command -v hyperfine >/dev/null; then
        hyperfine --runs 3 -i "cargo bitbake -R"; else time cargo bitbake -R; fi) || true
fi
