#!/usr/bin/env bash
# The kernel fragment through the kernel's own kconfig. Budget: 5 minutes on the 2-core CI machine. Measured here
# on a 2-core machine shared with other builds (load ~10): 2m45s CPU, 4 to 7.5 min wall; a cold cache adds the
# download of ~320 MB of Debian kernel sources and ~30 s to extract only what kconfig reads (cached under
# $K3S_CI_CACHE, else $TMPDIR).
#
# For each kernel — Debian's newest packaged 7.x (has the 6.17 netfilter split) and linux-source-6.12 (the older
# bound) — and each MACHINE (qemux86-64, qemuarm64, qemuarm):
#   linux-yocto: the MACHINE's recorded linux-yocto 6.18 inputs (recipes-kernel/linux/linux-yocto-6.18-config-inputs.tsv,
#                written out in kernel-yocto's order by `k3s-bake kernel inputs`) and then the fragment, merged by the
#                kernel's scripts/kconfig/merge_config.sh in alldefconfig mode, as do_kernel_configme does;
#   bsp:         the architecture's defconfig (x86_64_defconfig, arm64 defconfig, multi_v7_defconfig) + the fragment.
# `k3s-bake check-kernel --fragment --kconfig` then fails when any fragment line is not in the final .config as
# requested (=y that ended =m included) and names the dependency that dropped it. The linux-yocto merge also takes
# the qemu machines' k3s-qemu.cfg last (as KERNEL_FEATURES:append:qemuall does), and each of its lines must hold.
# A negative control merges the fragment where a SRC_URI .scc lands (before linux-yocto's netfilter.scc) and must
# fail.
# Stand-in, said so: Debian's 6.12 and 7.x Kconfig trees stand in for linux-yocto 6.18's (not packaged); the
# inputs are linux-yocto 6.18's own.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
cache=${K3S_CI_CACHE:-${TMPDIR:-/tmp}/k3s-ci-cache}/kconfig
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"

# The fragment reaches any kernel-yocto kernel through the README's bbappend line (BitBake's parser and fetcher).
python3 .ci/kernel-parse.py

cargo build --quiet --locked -p k3s-bake
bake=$root/target/debug/k3s-bake

# A private apt configuration: Debian's archive, without touching the system's sources or lists.
cat > "$cache/apt/sources.list" <<LIST
deb http://deb.debian.org/debian sid main
deb http://deb.debian.org/debian bookworm-backports main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
apt_opts=(-o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache"
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null -o APT::Architectures=amd64)
apt-get "${apt_opts[@]}" update -q >/dev/null
newest=$(apt-cache "${apt_opts[@]}" depends linux-source | grep -o 'linux-source-[0-9][0-9.]*' | sort -V | tail -1)
[[ $newest == linux-source-[7-9]* ]] || { echo "kconfig: newest packaged kernel is $newest, expected 7.x or later" >&2; exit 1; }

# Extracts only what kconfig reads: Kconfig files, Makefiles, scripts/, arch/*/configs, kernel/configs.
source_tree() {
    local pkg=$1 ver dir
    ver=$(apt-cache "${apt_opts[@]}" show "$pkg" | awk '/^Version:/ { print $2; exit }')
    dir=$cache/$pkg-$ver
    if [ ! -e "$dir/.complete" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        (cd "$cache" && apt-get "${apt_opts[@]}" download "$pkg" >/dev/null)
        local deb
        deb=$(ls "$cache"/"${pkg}"_*.deb | head -1)
        dpkg-deb --fsys-tarfile "$deb" | tar -x -O --wildcards './usr/src/*.tar.xz' \
            | tar -xJ -C "$dir" --strip-components=1 --wildcards '*Kconfig*' '*Makefile*' '*/scripts/*' \
                '*/arch/*/configs/*' '*/kernel/configs/*'
        rm -f "$deb"
        touch "$dir/.complete"
    fi
    echo "$dir"
}

# machine:ARCH:SRCARCH:CROSS_COMPILE:defconfig
machines=(qemux86-64:x86_64:x86::defconfig qemuarm64:arm64:arm64:aarch64-linux-gnu-:defconfig
    qemuarm:arm:arm:arm-linux-gnueabihf-:multi_v7_defconfig)
frag=$root/recipes-kernel/linux/files/k3s-kmeta/features/k3s-rs/k3s.cfg
# The qemu machines' own fragment (KERNEL_FEATURES:append:qemuall, after k3s.scc): every line must hold too.
qemu_frag=$root/recipes-kernel/linux/files/k3s-kmeta/features/k3s-rs/k3s-qemu.cfg

# One build directory per kernel: scripts/kconfig is compiled once, each merge's .config is copied out.
merge() {  # merge SRC OUT FILES...
    local src=$1 out=$2 build=$work/build-${1##*/}
    shift 2
    mkdir -p "$out" "$build"
    (cd "$src" && ARCH=$arch CROSS_COMPILE=$cross scripts/kconfig/merge_config.sh -O "$build" "$@" >"$out/merge.log" 2>&1) \
        || { cat "$out/merge.log" >&2; return 1; }
    cp "$build/.config" "$out/.config"
}

check() {  # check NAME SRC CONFIG
    local name=$1 src=$2 config=$3 rc=0
    echo "--- $name"
    "$bake" check-kernel "$config" --fragment --kconfig "$src" --arch "$srcarch" >"$config.check" || rc=$?
    tail -n 80 "$config.check"
    [ "$rc" -eq 0 ] || echo "$name" >>"$work/failed"
}

kernel() {  # kernel SRC: every machine, linux-yocto and BSP
    local src=$1 kver m machine arch srcarch cross defconfig w
    kver=$(awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 } END { print v "." p }' "$src/Makefile")
    for m in "${machines[@]}"; do
        IFS=: read -r machine arch srcarch cross defconfig <<<"$m"
        w=$work/$kver-$machine
        "$bake" kernel inputs --machine "$machine" --out "$w/in" >/dev/null
        merge "$src" "$w/yocto" "$w"/in/* "$qemu_frag"
        check "linux-$kver $machine linux-yocto 6.18 inputs + fragment" "$src" "$w/yocto/.config"
        grep -v '^#' "$qemu_frag" | while read -r line; do
            grep -qx "$line" "$w/yocto/.config" && echo "$machine: $line (k3s-qemu.cfg) holds" \
                || { echo "linux-$kver $machine: $line (k3s-qemu.cfg) not in the merged .config" | tee -a "$work/failed"; }
        done
        (cd "$src" && make -s ARCH=$arch CROSS_COMPILE=$cross O="$work/build-${src##*/}" "$defconfig" >/dev/null)
        mkdir -p "$w/bsp" && cp "$work/build-${src##*/}/.config" "$w/bsp/.config"
        merge "$src" "$w/bsp-merged" "$w/bsp/.config" "$frag"
        check "linux-$kver $machine $defconfig + fragment" "$src" "$w/bsp-merged/.config"
    done
}

# The sources first (downloads and extraction are cached), then both kernels at once: merge_config.sh is a shell
# loop over ~110 fragments, so the two cores each take one kernel.
srcs=("$(source_tree "$newest")" "$(source_tree linux-source-6.12)")
pids=()
for i in 0 1; do
    kernel "${srcs[$i]}" >"$work/kernel-$i.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
cat "$work/kernel-0.log" "$work/kernel-1.log"
[ "$status" -eq 0 ] || { echo "kconfig: a merge failed" >&2; exit 1; }

# Negative control: the fragment where a SRC_URI .scc lands is capped at =m by netfilter.scc, and must fail.
src=${srcs[0]}
IFS=: read -r machine arch srcarch cross defconfig <<<"${machines[0]}"
"$bake" kernel inputs --machine "$machine" --at src-uri --out "$work/control/in" >/dev/null
merge "$src" "$work/control/out" "$work"/control/in/*
if "$bake" check-kernel "$work/control/out/.config" --fragment --kconfig "$src" --arch "$srcarch" >"$work/control.txt"; then
    echo "kconfig: the negative control (fragment as a SRC_URI .scc) passed; the check cannot see =y turned =m" >&2
    exit 1
fi
grep -q '=m: a module' "$work/control.txt" || { cat "$work/control.txt" >&2; exit 1; }
echo "negative control (fragment at the SRC_URI place) fails as it must: $(grep -c '=m: a module' "$work/control.txt") options capped at =m"

if [ -s "$work/failed" ]; then
    sed 's/^/kconfig: fragment lines not as requested in: /' "$work/failed" >&2
    exit 1
fi
echo "kconfig: every fragment line holds on every kernel and machine"
