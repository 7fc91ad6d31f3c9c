#!/usr/bin/env bash
# End-to-end proof of `k3s-bake cargo` (issue 4): rendered recipes are fetched by BitBake's real fetchers through a
# file:// PREMIRROR built from the cargo cache (no network), checksums are verified (a wrong one fails), the tree is
# laid out as OE-Core's cargo classes do, and `cargo build --frozen --offline` succeeds; the test binary runs.
# Covers this repository's node-tools recipe and a test workspace with a virtual root, inherited package fields and
# dependencies, a git dependency in a local repository (in a subdirectory), `MIT OR Apache-2.0`, `WITH`, a custom
# `license-file`, a proc-macro, a member asking for more features of a shared dependency, and lockfile v3 and v4;
# the declared licenses are compared with the crates the real build compiled as target units. See
# tools/cargo-recipe/e2e/bbfetch.py for what is emulated (NO_GENERIC_LICENSE: a stand-in for license.bbclass).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
harness=$repo/tools/cargo-recipe/e2e/bbfetch.py
ok() { echo "ok: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

cargo build -q --locked -p k3s-bake
bake=$repo/target/debug/k3s-bake
# Every platform's crates of both lock files: the node recipe vendors all of meta-k3s-rs/Cargo.lock's, the test
# workspace below uses the root's; cargo build only fetched the host's.
cargo fetch --locked -q
cargo fetch --locked -q --manifest-path meta-k3s-rs/Cargo.toml
cache=${CARGO_HOME:-$HOME/.cargo}/registry/cache
mkdir "$T/mirror"
cp "$cache"/*/*.crate "$T/mirror/"

# --- 0. The resolver (cargo-recipe::features) against `cargo tree` per target on the tokio + reqwest bench fixture,
# whose crates are fetched from crates.io here (this repository's own workspaces are compared in `cargo test`).
cargo fetch --locked -q --manifest-path benches/cargo-recipe/fetcher/Cargo.toml
cargo test -q --locked -p cargo-recipe --test differential -- --ignored
ok "the resolver equals cargo tree on each triple for a tokio + reqwest client (120 locked packages)"

# --- 1. This repository's node-tools recipe, exactly as committed.
node_bb=$(ls recipes-containers/k3s-node/k3s-node_*.bb)
python3 "$harness" "$node_bb" --mirror "$T/mirror" --work "$T/node" --linked-out "$T/node.linked"
ok "node-tools recipe: fetched, verified, built with --frozen --offline"
node_lic=$(dirname "$node_bb")/k3s-node-licenses.inc
diff <(grep -oE 'cargo_home/bitbake/[^/ ]+' "$node_lic" | sort -u) <(grep '^cargo_home/bitbake/' "$T/node.linked") \
    || die "the node recipe's licenses differ from the crates k3s-node's build linked (< declared, > built)"
ok "node-tools recipe: the licenses cover exactly the $(grep -c '^cargo_home/bitbake/' "$T/node.linked") crates k3s-node links"

# --- 2. A test workspace.
lockver() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock; }
cfgif=$(lockver cfg-if)
thiserror=$(lockver thiserror)
clap=$(lockver clap)
git_() { git -c user.email=e2e@localhost -c user.name=e2e -c init.defaultBranch=main "$@"; }

mkdir -p "$T/gitdep/crates/gitdep/src"
cat > "$T/gitdep/Cargo.toml" <<TOML
[workspace]
members = ["crates/*"]
TOML
cat > "$T/gitdep/crates/gitdep/Cargo.toml" <<TOML
[package]
name = "gitdep"
version = "0.3.0"
edition = "2021"
license = "Apache-2.0 WITH LLVM-exception OR MIT"
TOML
echo 'pub fn seven() -> u32 { 7 }' > "$T/gitdep/crates/gitdep/src/lib.rs"
echo "gitdep may be used under the MIT license." > "$T/gitdep/crates/gitdep/LICENSE-MIT"
(cd "$T/gitdep" && git_ init -q && git_ add -A && git_ commit -qm gitdep)
gitrev=$(git -C "$T/gitdep" rev-parse HEAD)

ws=$T/ws
mkdir -p "$ws/crates/app/src" "$ws/crates/helper/src"
cat > "$ws/Cargo.toml" <<TOML
[workspace]
members = ["crates/*"]
resolver = "3"

[workspace.package]
version = "1.2.3"
edition = "2024"
license = "MIT OR Apache-2.0"
description = "End-to-end test application of k3s-bake cargo"
repository = "https://example.com/app"

[workspace.dependencies]
helper = { path = "crates/helper" }
gitdep = { git = "file://$T/gitdep", branch = "main" }
cfg-if = "=$cfgif"
thiserror = "=$thiserror"
clap = { version = "=$clap", default-features = false, features = ["std"] }
TOML
echo "app: MIT license text" > "$ws/LICENSE-MIT"
echo "app: Apache-2.0 license text" > "$ws/LICENSE-APACHE"
cat > "$ws/crates/app/Cargo.toml" <<TOML
[package]
name = "app"
version.workspace = true
edition.workspace = true
license.workspace = true
description.workspace = true
repository.workspace = true

[dependencies]
helper.workspace = true
gitdep = { workspace = true }
cfg-if.workspace = true
thiserror.workspace = true
clap.workspace = true
TOML
# Another member asks for clap's default features (anstream, strsim, …): Cargo.lock holds them, app links none.
mkdir -p "$ws/crates/other/src"
cat > "$ws/crates/other/Cargo.toml" <<TOML
[package]
name = "other"
version.workspace = true
edition.workspace = true
license = "MIT"

[dependencies]
clap = { workspace = true, default-features = true }
TOML
echo 'fn main() { let _ = clap::Command::new("other"); }' > "$ws/crates/other/src/main.rs"
cat > "$ws/crates/app/src/main.rs" <<'RS'
#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

cfg_if::cfg_if! {
    if #[cfg(unix)] { const OS: &str = "unix"; } else { const OS: &str = "other"; }
}

fn main() {
    let _ = Never;
    let _ = clap::Command::new("app");
    println!("app {}: helper={} gitdep={} os={OS}", env!("CARGO_PKG_VERSION"), helper::answer(), gitdep::seven());
}
RS
cat > "$ws/crates/helper/Cargo.toml" <<TOML
[package]
name = "helper"
version.workspace = true
edition.workspace = true
license-file = "COPYING.helper"
TOML
echo 'pub fn answer() -> u32 { 42 }' > "$ws/crates/helper/src/lib.rs"
echo "helper: a custom license, all rights reserved by the e2e test." > "$ws/crates/helper/COPYING.helper"
# Seeded with this repository's lockfile, resolution keeps the versions already locked (and cached) there; only
# crates.io's index is contacted. The mirror is refreshed afterwards in case anything new was fetched.
(cd "$ws" && cp "$repo/Cargo.lock" Cargo.lock && cargo fetch -q)
cp -n "$cache"/*/*.crate "$T/mirror/"
grep -q '^version = 4$' "$ws/Cargo.lock" || die "test lockfile is not v4"

layer=$T/layer
mkdir -p "$layer/recipes-test/app"
echo 'SECTION = "devel"' > "$layer/recipes-test/app/app-extra.inc"
"$bake" cargo --manifest-path "$ws/Cargo.toml" -p app --local-sources --out "$layer/recipes-test/app" --require app-extra.inc
out=$layer/recipes-test/app
bb=$out/app_1.2.3.bb
crates=$out/app-crates.inc
lic=$out/app-licenses.inc

want() { grep -qF -- "$2" "$1" || die "$(basename "$1") lacks: $2"; }
wantnot() { ! grep -qF -- "$2" "$1" || die "$(basename "$1") must not contain: $2"; }
cs=$(awk -v n="cfg-if" '$0 == "name = \"" n "\"" { f=1 } f && /^checksum/ { gsub(/checksum = |"/, ""); print; exit }' "$ws/Cargo.lock")
want "$crates" "crate://crates.io/cfg-if/$cfgif;name=cfg-if-$cfgif"
want "$crates" "SRC_URI[cfg-if-$cfgif.sha256sum] = \"$cs\""
want "$crates" "git://$T/gitdep;protocol=file;branch=main;name=gitdep;destsuffix=cargo-git/gitdep;subpath=crates/gitdep;type=git-dependency"
want "$crates" "SRCREV_gitdep = \"$gitrev\""
want "$bb" 'LICENSE = "LicenseRef-helper & (MIT | Apache-2.0)"'
want "$bb" 'NO_GENERIC_LICENSE[LicenseRef-helper] = "crates/helper/COPYING.helper"'
want "$bb" 'CARGO_SRC_DIR = "crates/app"'
want "$bb" 'require app-extra.inc'
want "$lic" "Apache-2.0-with-LLVM-exception | MIT"
want "$lic" "file://../cargo_home/bitbake/thiserror-$thiserror/"
want "$lic" "file://../cargo-git/gitdep/LICENSE-MIT;md5="
for notlinked in thiserror-impl syn- quote- proc-macro2- anstream- strsim- clap_derive-; do wantnot "$lic" "bitbake/$notlinked"; done
want "$crates" "crate://crates.io/anstream/"   # vendored all the same: --frozen needs every locked crate
for f in "$bb" "$crates" "$lic"; do
    wantnot "$f" AUTOREV
    wantnot "$f" 'WORKDIR}/git'
done
ok "rendered recipe has the expected sources, checksums, commit and licenses"

oelint-adv --quiet "$bb" "$crates" "$lic"
ok "oelint-adv (the layer's .oelint.cfg) is clean on the rendered test recipe"

python3 "$harness" "$bb" --mirror "$T/mirror" --work "$T/app" --run app --expect "app 1.2.3: helper=42 gitdep=7 os=unix" \
    --linked-out "$T/app.linked"
ok "test workspace: fetched, verified, [patch]ed, built with --frozen --offline, binary ran"
# The crates whose licenses the recipe declares are exactly those cargo compiled as target units (the test
# workspace has no architecture-specific dependency, so the union over the three triples is the host's set).
grep -oE '(cargo_home/bitbake|cargo-git)/[^/ ]+' "$lic" | sort -u > "$T/app.declared"
grep -E '^(cargo_home/bitbake|cargo-git)/' "$T/app.linked" | sort -u > "$T/app.built"
diff "$T/app.declared" "$T/app.built" || die "declared licenses differ from the crates the build linked (< declared, > built)"
ok "the licenses cover exactly the $(wc -l < "$T/app.built") crates the real build linked, no more"

# Default sources: the workspace's own git repository (remote origin, checked-out commit).
(cd "$ws" && git_ init -q && git_ add -A && git_ commit -qm app && git clone -q --bare . "$T/ws-origin.git" \
    && git remote add origin "file://$T/ws-origin.git")
wsrev=$(git -C "$ws" rev-parse HEAD)
mkdir -p "$T/gitlayer/recipes-test/app"
"$bake" cargo --manifest-path "$ws/crates/app/Cargo.toml" -p app --out "$T/gitlayer/recipes-test/app" >/dev/null
gbb=$T/gitlayer/recipes-test/app/app_1.2.3.bb
want "$gbb" "SRC_URI = \"git://$T/ws-origin.git;protocol=file;branch=main\""
want "$gbb" "SRCREV = \"$wsrev\""
wantnot "$gbb" "S = "
want "$gbb" "CARGO_SRC_DIR = \"crates/app\""   # a member manifest still finds the workspace root
oelint-adv --quiet "$gbb" "$T/gitlayer/recipes-test/app/app-crates.inc" "$T/gitlayer/recipes-test/app/app-licenses.inc"
python3 "$harness" "$gbb" --mirror "$T/mirror" --work "$T/gitapp" --run app --expect "app 1.2.3: helper=42 gitdep=7 os=unix"
ok "git-sourced recipe (default): oelint clean, fetched at SRCREV, built, binary ran"

# Lockfile v3 renders the same crate list.
mkdir -p "$T/v3/recipes-test/app"
cp -r "$ws" "$T/v3/ws"
sed -i 's/^version = 4$/version = 3/' "$T/v3/ws/Cargo.lock"
"$bake" cargo --manifest-path "$T/v3/ws/Cargo.toml" -p app --local-sources --out "$T/v3/recipes-test/app" >/dev/null
diff <(tail -n +3 "$crates") <(tail -n +3 "$T/v3/recipes-test/app/app-crates.inc") || die "lockfile v3 renders differently"
ok "lockfile v3 and v4 give the same crate list"

# --- 3. Negative cases: each must fail. Each works on its own copy of the recipe, at the same depth in the layer
# (the sources are found relative to the recipe).
cp -r "$out" "$layer/recipes-test/badsum"
sed -i "s/\(SRC_URI\[cfg-if-$cfgif.sha256sum\] = \"\)[0-9a-f]*/\1$(printf '0%.0s' {1..64})/" "$layer/recipes-test/badsum/app-crates.inc"
cp -r "$T/mirror" "$T/mirror-badsum"   # a mismatch renames the mirror file: never touch the shared mirror
set +e
python3 "$harness" "$layer/recipes-test/badsum/app_1.2.3.bb" --mirror "$T/mirror-badsum" --work "$T/w-badsum" --fetch-only 2>"$T/err"
rc=$?
set -e
# BitBake rejects the mirror file (renaming it *_bad-checksum_*) and, with the network off, cannot fall back.
{ [ "$rc" -eq 3 ] && grep -qi "checksum" "$T/err" && ls "$T/mirror-badsum/cfg-if-$cfgif.crate_bad-checksum_"* >/dev/null; } || { cat "$T/err"; die "a wrong sha256sum did not fail the fetch (rc=$rc)"; }
ok "a wrong crate checksum fails the fetch"

cp -r "$out" "$layer/recipes-test/badrev"
sed -i "s/SRCREV_gitdep = \"$gitrev\"/SRCREV_gitdep = \"$(printf 'a%.0s' {1..40})\"/" "$layer/recipes-test/badrev/app-crates.inc"
set +e
python3 "$harness" "$layer/recipes-test/badrev/app_1.2.3.bb" --mirror "$T/mirror" --work "$T/w-badrev" --fetch-only 2>"$T/err"
rc=$?
set -e
{ [ "$rc" -eq 3 ] && grep -q "gitdep" "$T/err"; } || { cat "$T/err"; die "an unknown git commit did not fail the fetch (rc=$rc)"; }
ok "a wrong git commit fails the fetch"

cp -r "$out" "$layer/recipes-test/badlic"
sed -i 's/\(LICENSE-MIT;md5=\)[0-9a-f]*/\1ffffffffffffffffffffffffffffffff/' "$layer/recipes-test/badlic/app_1.2.3.bb"
if python3 "$harness" "$layer/recipes-test/badlic/app_1.2.3.bb" --mirror "$T/mirror" --work "$T/w-badlic" 2>"$T/err"; then
    die "a wrong LIC_FILES_CHKSUM md5 passed"
fi
grep -q "LIC_FILES_CHKSUM" "$T/err" || { cat "$T/err"; die "wrong md5: unexpected error"; }
ok "a wrong license md5 fails"

cp -r "$out" "$layer/recipes-test/nogeneric"
sed -i '/^NO_GENERIC_LICENSE\[LicenseRef-helper\]/d' "$layer/recipes-test/nogeneric/app_1.2.3.bb"
if python3 "$harness" "$layer/recipes-test/nogeneric/app_1.2.3.bb" --mirror "$T/mirror" --work "$T/w-nogeneric" 2>"$T/err"; then
    die "a license without text and without NO_GENERIC_LICENSE passed"
fi
grep -q "LicenseRef-helper: no generic license text" "$T/err" || { cat "$T/err"; die "missing NO_GENERIC_LICENSE: unexpected error"; }
ok "a license OE-Core has no text for needs NO_GENERIC_LICENSE at a checksummed file (license.bbclass stand-in)"

if CARGO_HOME="$T/empty-cargo-home" "$bake" cargo --manifest-path "$ws/Cargo.toml" -p app --local-sources \
    --out "$T/nocache" 2>"$T/err"; then
    die "rendering without the crates in the cargo cache succeeded"
fi
grep -q 'cargo fetch --locked' "$T/err" || { cat "$T/err"; die "missing-crate error does not name cargo fetch"; }
ok "a crate missing from the cargo cache is an error naming cargo fetch"

echo 'SRC_URI += "file://edited"' >> "$crates"
if "$bake" cargo --manifest-path "$ws/Cargo.toml" -p app --local-sources --out "$out" --require app-extra.inc --check \
    2>"$T/err"; then
    die "--check missed a hand edit"
fi
grep -q -- '-SRC_URI += "file://edited"' "$T/err" || { cat "$T/err"; die "--check printed no diff"; }
ok "--check fails with a diff on a hand edit"
echo "cargo e2e: all passed"
