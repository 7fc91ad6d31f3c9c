#!/usr/bin/env bash
# Prints src/target-cfgs.txt: the cfg facts of the default target triples as the installed rustc reports them
# (`rustc --print cfg --target T`, what cargo evaluates `[target.'cfg(…)'.dependencies]` against when no rustflags
# are set). tests/target_cfgs.rs fails when the committed file differs from this output.
# Usage: bash tools/cargo-recipe/target-cfgs.sh > tools/cargo-recipe/src/target-cfgs.txt
set -euo pipefail
rustc=${RUSTC:-rustc}
echo "# Target cfg facts: \`rustc --print cfg --target <triple>\` of $("$rustc" -V)."
echo "# Regenerate with: bash tools/cargo-recipe/target-cfgs.sh > tools/cargo-recipe/src/target-cfgs.txt"
for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    echo "[$t]"
    "$rustc" --print cfg --target "$t"
done
