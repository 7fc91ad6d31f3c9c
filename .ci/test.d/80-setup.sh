#!/usr/bin/env bash
# k3s-bake setup / build / qemu / cross and the kas files, end to end (issue 13). Budget: 3 minutes. Measured
# 2-9 s with target/cross warm (50-node-cross.sh runs first and builds the same aarch64 release k3s-node with the
# same toolchain, so cargo finds it current); a cold aarch64 build took 3 min 45 s on the shared 2-core machine.
#
# Real: git, k3s-bake, BitBake's own parser (bb from bitbake-setup) over the written bblayers.conf/local.conf and
# this layer's conf/layer.conf and k3s.inc, kas 5.5 (its schema, its include handler, and a whole `kas checkout`
# of kas/qemux86-64.yml), cargo with Debian's cross toolchain, file, qemu-user.
# STAND-INS, named so: the upstream repositories (standin-openembedded-core with a stand-in oe-init-build-env and
# runqemu, standin-bitbake whose bin/bitbake is a stand-in, standin-meta-openembedded), made here with git; kas
# reaches them through git's url.<base>.insteadOf and a kas lock file carrying their commits. Not here: the real
# OE-Core, BitBake builds and QEMU boots (no image can be built on this machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
py="$repo/.ci/.venv/bin/python3"
[ -x "$py" ] || { echo "80-setup: $py missing; run .ci/install.d/00-base.sh and 80-setup.sh" >&2; exit 1; }
cargo build --quiet --locked -p k3s-bake
bake="$repo/target/debug/k3s-bake"
standin="$repo/tools/k3s-setup/tests/standin"

t=$(mktemp -d /tmp/k3s-setup-suite.XXXXXX)
trap 'rm -rf "$t"' EXIT
fail() { echo "80-setup: FAIL: $*" >&2; exit 1; }
g() { git -c user.name=ci -c user.email=ci@localhost -c init.defaultBranch=main "$@"; }

echo "::: kas files through kas's own loader and JSON schema, includes resolved (kas_validate.py)"
"$py" .ci/setup/kas_validate.py "$repo"

echo "::: stand-in upstream repositories"
mk() { # name branch
    local d="$t/standin-$1"
    mkdir -p "$d"; g -C "$d" init -q -b "$2"
    case $1 in
        openembedded-core)
            cp "$standin/oe-init-build-env" "$d/"
            mkdir -p "$d/scripts" "$d/meta/conf"; cp "$standin/runqemu" "$d/scripts/"
            printf 'BBPATH .= ":${LAYERDIR}"\nBBFILE_COLLECTIONS += "core"\n' > "$d/meta/conf/layer.conf" ;;
        bitbake) mkdir -p "$d/bin"; cp "$standin/bitbake" "$d/bin/" ;;
        meta-openembedded)
            for l in meta-oe meta-python meta-networking; do
                mkdir -p "$d/$l/conf"; printf 'BBPATH .= ":${LAYERDIR}"\nBBFILE_COLLECTIONS += "%s"\n' "$l" > "$d/$l/conf/layer.conf"
            done ;;
    esac
    g -C "$d" add -A; g -C "$d" commit -q -m "stand-in $1"
    g -C "$d" rev-parse HEAD
}
oe=$(mk openembedded-core wrynose); bbc=$(mk bitbake 2.18); mo=$(mk meta-openembedded wrynose)

echo "::: a copy of the layer whose spec pins the stand-ins"
layer="$t/meta-k3s-rs"
mkdir -p "$layer"
cp -a conf classes lib kas recipes-* dynamic-layers k3s-spec.yaml "$layer/"
"$py" - "$layer/k3s-spec.yaml" "$t" "$oe" "$bbc" "$mo" <<'PY'
import re, sys
path, t, oe, bbc, mo = sys.argv[1:]
text = open(path).read()
head, layers = text.split("\nlayers:\n", 1)
for name, commit in (("openembedded-core", oe), ("bitbake", bbc), ("meta-openembedded", mo)):
    layers, n = re.subn(r"git: https://github.com/openembedded/%s\.git\n(\s+branch: .*\n\s+)commit: [0-9a-f]{40}" % name,
                        r"git: file://%s/standin-%s\n\g<1>commit: %s" % (t, name, commit), layers)
    assert n == 1, name
open(path, "w").write(head + "\nlayers:\n" + layers)
PY

echo "::: k3s-bake setup from nothing (networking, sstate mirror, hash-equivalence server)"
s="$t/setup"
args=(--root "$layer" setup --dir "$s" --machine qemuarm64 --networking
      --sstate-mirror https://sstate.example/wrynose --hashserv hashserv.example:8686)
"$bake" "${args[@]}" > "$t/first.out"
cat "$t/first.out"
grep -q "openembedded-core: cloned" "$t/first.out" || fail "first run cloned nothing"
[ "$(git -C "$s/layers/bitbake" rev-parse --is-shallow-repository)" = true ] || fail "bitbake clone is not shallow"

echo "::: the written configuration through BitBake's parser"
"$py" .ci/setup/bbconf.py "$s/build" BBLAYERS MACHINE DISTRO DL_DIR SSTATE_DIR SSTATE_MIRRORS BB_HASHSERVE \
    BB_SIGNATURE_HANDLER INIT_MANAGER DISTRO_FEATURES K3S_SRCREV CONF_VERSION LCONF_VERSION > "$t/vars"
cat "$t/vars"
want() { grep -qxF -- "$1" "$t/vars" || fail "BitBake reads no '$1'"; }
want "BBLAYERS+=$s/layers/openembedded-core/meta"
want "BBLAYERS+=$s/layers/meta-openembedded/meta-oe"
want "BBLAYERS+=$s/layers/meta-openembedded/meta-python"
want "BBLAYERS+=$s/layers/meta-openembedded/meta-networking"
want "BBLAYERS+=$(readlink -f "$layer")"
want "MACHINE=qemuarm64"
want "DL_DIR=$s/downloads"
want "SSTATE_DIR=$s/sstate-cache"
want "SSTATE_MIRRORS=file://.* https://sstate.example/wrynose/PATH;downloadfilename=PATH"
want "BB_HASHSERVE=hashserv.example:8686"
want "BB_SIGNATURE_HANDLER=OEEquivHash"
want "INIT_MANAGER=systemd"
want "CONF_VERSION=2"
want "LCONF_VERSION=7"
grep -qE '^DISTRO_FEATURES=.*\bk3s-rs\b' "$t/vars" || fail "k3s.inc's DISTRO_FEATURES did not arrive"
grep -qE '^K3S_SRCREV=[0-9a-f]{40}$' "$t/vars" || fail "k3s-spec.inc (required by k3s.inc) did not arrive"

echo "::: second run changes nothing; offline reuses it; offline without meta-openembedded names it"
"$bake" "${args[@]}" | tee "$t/second.out"
grep -q "^nothing changed" "$t/second.out" || fail "second run changed something"
"$bake" "${args[@]}" --offline > "$t/offline.out"
grep -q "^nothing changed" "$t/offline.out" || fail "offline re-run: $(cat "$t/offline.out")"
if "$bake" --root "$layer" setup --dir "$t/fresh" --offline --networking 2> "$t/offline.err"; then fail "offline from nothing succeeded"; fi
grep -q "offline, and these are missing" "$t/offline.err" && grep -q "standin-meta-openembedded" "$t/offline.err" || fail "offline: $(cat "$t/offline.err")"

echo "::: hostile values are refused and nothing is created"
hostile() { # option value: refused by k3s-bake (its message names the option), nothing created
    local dir=(--dir "$t/hostile")
    [ "$1" = --dir ] && dir=()
    if "$bake" --root "$layer" setup "${dir[@]}" "$1" "$2" 2> "$t/bad.err"; then fail "accepted $1 $2"; fi
    cat "$t/bad.err"
    grep -q "^k3s-bake: $1: " "$t/bad.err" || fail "$1 $2: refused for another reason"
    [ ! -e "$t/hostile" ] && [ ! -e "$t/my build" ] && [ ! -e "$t/it\"s" ] || fail "$1 $2 left files behind"
}
hostile --dir "$t/my build"
hostile --dir "$t/it\"s"
hostile --sstate-mirror 'https://x/"'
hostile --sstate-mirror "https://x/\${@os.system('id')}"
hostile --hashserv '${@x}:1'
hostile --release scarthgap
hostile --machine qemux86

echo "::: k3s-bake build / qemu with stand-in bitbake and runqemu: argv, environment, exit status"
"$bake" --root "$layer" build --dir "$s" | tee "$t/build.out"
grep -qF "$s/build/tmp/deploy/images/qemuarm64/core-image-k3s-qemuarm64.rootfs.ext4" "$t/build.out" || fail "image path not printed"
grep -qxF "bitbake core-image-k3s | cwd=$s/build BUILDDIR=$s/build" "$s/build/standin.log" || fail "bitbake argv/env: $(cat "$s/build/standin.log")"
echo 42 > "$s/build/standin.exit"
set +e; "$bake" --root "$layer" build --dir "$s" --agent > /dev/null; rc=$?; set -e
[ "$rc" = 42 ] || fail "build exit status $rc, bitbake's was 42"
rm "$s/build/standin.exit"
"$bake" --root "$layer" build --dir "$s" --agent > /dev/null
echo "-m 1024" > "$s/build/standin.qbmem"; echo 7 > "$s/build/standin.exit"
set +e; "$bake" --root "$layer" qemu --dir "$s" --agent 2> "$t/qemu.err"; rc=$?; set -e
cat "$t/qemu.err"
[ "$rc" = 7 ] || fail "qemu exit status $rc, runqemu's was 7"
grep -q "warning: core-image-k3s-agent boots with 1024 MiB" "$t/qemu.err" || fail "no low-memory warning"
tail -n1 "$s/build/standin.log" | grep -qxF "runqemu qemuarm64 core-image-k3s-agent nographic slirp | cwd=$s/build BUILDDIR=$s/build" \
    || fail "runqemu argv: $(tail -n1 "$s/build/standin.log")"
rm "$s/build/standin.exit" "$s/build/standin.qbmem"
"$bake" --root "$layer" qemu --dir "$s" --kvm 2> "$t/qemu.err" || fail "qemu --kvm: $(cat "$t/qemu.err")"
grep -q warning "$t/qemu.err" && fail "warned with 2048 MiB and extra space: $(cat "$t/qemu.err")"
tail -n1 "$s/build/standin.log" | grep -qxF "runqemu qemuarm64 core-image-k3s nographic slirp kvm | cwd=$s/build BUILDDIR=$s/build" \
    || fail "runqemu --kvm argv: $(tail -n1 "$s/build/standin.log")"

echo "::: real kas: kas checkout kas/qemux86-64.yml against the stand-ins (insteadOf + lock file), offline"
kl="$t/kas-layer"
mkdir -p "$kl"; cp -a conf classes lib kas recipes-* dynamic-layers k3s-spec.yaml "$kl/"
cat > "$kl/kas/qemux86-64.lock.yml" <<LOCK
header:
  version: 16
overrides:
  repos:
    openembedded-core:
      commit: $oe
    bitbake:
      commit: $bbc
LOCK
g -C "$kl" init -q; g -C "$kl" add -A; g -C "$kl" commit -q -m layer
home="$t/home"; mkdir -p "$home" "$t/kaswork"
for r in openembedded-core bitbake meta-openembedded; do
    HOME=$home git config --global "url.file://$t/standin-$r.insteadOf" "https://github.com/openembedded/$r.git"
done
(cd "$kl" && HOME=$home GITCONFIG_FILE="$home/.gitconfig" KAS_WORK_DIR="$t/kaswork" "$repo/.ci/.venv/bin/kas" checkout kas/qemux86-64.yml) > "$t/kas.out" 2>&1 \
    || { cat "$t/kas.out"; fail "kas checkout"; }
"$py" .ci/setup/bbconf.py "$t/kaswork/build" BBLAYERS MACHINE DISTRO INIT_MANAGER DISTRO_FEATURES > "$t/vars"
cat "$t/vars"
want "BBLAYERS+=$t/kaswork/openembedded-core/meta"
want "BBLAYERS+=$kl"
want "MACHINE=qemux86-64"
want "DISTRO=nodistro"
want "INIT_MANAGER=systemd"
grep -q '^BBLAYERS+=.*/bitbake$' "$t/vars" && fail "kas added bitbake as a layer"
[ "$(git -C "$t/kaswork/bitbake" rev-parse HEAD)" = "$bbc" ] || fail "kas checked out another bitbake"

echo "::: k3s-bake cross --target aarch64 (Debian's cross toolchain), checked with file and qemu-user"
"$bake" cross --target aarch64 | tee "$t/cross.out"
bin=$(sed -n 's/^\(\/.*k3s-node\) ([0-9]* bytes)$/\1/p' "$t/cross.out")
[ -n "$bin" ] && [ -x "$bin" ] || fail "cross printed no binary"
file -b "$bin" > "$t/file.out"; cat "$t/file.out"
grep -q "ARM aarch64" "$t/file.out" || fail "not an aarch64 binary"
qemu-aarch64-static -L / "$bin" check-config --help > /dev/null || fail "the aarch64 binary does not run under qemu-user"
if "$bake" cross --target riscv64 2> "$t/cross.err"; then fail "unknown target accepted"; fi

echo "80-setup: all passed"
