#!/usr/bin/env bash
# Benchmark (not a test): cleanup of a node with N pods (network namespace + veth on cni0 + one volume mount and
# the netns mount each, plus KUBE-/CNI- chains), `k3s-node clean` against a shell baseline that does what
# k3s-killall.sh does with ip/umount/iptables loops. Run as root from the repository root:
#     cargo build --release --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node && bash meta-k3s-rs/k3s-node/benches/cleanup.sh [PODS] [ROUNDS]
# Everything happens inside private network, mount and PID namespaces (tmpfs over /run and /var/lib there), so
# the host is never touched. Prints per-round times and the median ratio (goal: >= 10x).
set -euo pipefail
PODS=${1:-100}
ROUNDS=${2:-3}
BIN=$(realpath "${K3S_NODE_BIN:-meta-k3s-rs/target/release/k3s-node}")
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
[ -x "$BIN" ] || { echo "$BIN missing: cargo build --release --manifest-path meta-k3s-rs/Cargo.toml -p k3s-node" >&2; exit 2; }

inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
set -euo pipefail
PODS=$1 ROUNDS=$2 BIN=$3
mount -t tmpfs run /run
mount -t tmpfs varlib /var/lib
ip link set lo up

build_node() {
    ip link add cni0 type bridge && ip link set cni0 up
    ip link add flannel.1 type vxlan id 1 dstport 8472 nolearning
    for i in $(seq "$PODS"); do
        ip netns add "cni-$i"
        ip link add "veth$i" type veth peer name eth0 netns "cni-$i"
        ip link set "veth$i" master cni0 up
        d="/var/lib/kubelet/pods/uid-$i/volumes/kubernetes.io~empty-dir/data"
        mkdir -p "$d" && mount -t tmpfs pod "$d"
    done
    mkdir -p /run/k3s/containerd && mount -t tmpfs k3s /run/k3s/containerd
    mkdir -p /var/lib/cni/networks/cbr0 && touch /var/lib/cni/networks/cbr0/10.42.0.{1..50}
    {
        echo "*filter"
        for i in $(seq "$PODS"); do echo ":KUBE-SVC-$i - [0:0]"; echo ":CNI-$i - [0:0]"; done
        for i in $(seq "$PODS"); do echo "-A KUBE-SVC-$i -j RETURN"; echo "-A FORWARD -j CNI-$i"; done
        echo "-A INPUT -p tcp --dport 22 -j ACCEPT"
        echo "COMMIT"
    } | iptables-restore
}

# What k3s-killall.sh does, with the programs it uses (and, like it, without errexit: empty greps are fine).
baseline() {
    set +e +o pipefail
    for prefix in /run/k3s /var/lib/kubelet/pods /var/lib/kubelet/plugins /run/netns/cni-; do
        while read -r _ path _; do
            case "$path" in "$prefix"*) echo "$path" ;; esac
        done < /proc/self/mounts | sort -r | xargs -r -n 1 sh -c 'umount -f "$0" && rm -rf "$0"'
    done
    ip netns show 2>/dev/null | grep cni- | awk '{ print $1 }' | xargs -r -n 1 ip netns delete
    ip link show 2>/dev/null | grep 'master cni0' | while read -r _ iface _; do
        iface=${iface%%@*}
        [ -z "$iface" ] || ip link delete "$iface"
    done
    ip link delete cni0
    ip link delete flannel.1
    rm -rf /var/lib/cni/
    iptables-save | grep -v KUBE- | grep -v CNI- | grep -iv flannel | iptables-restore
    ip6tables-save | grep -v KUBE- | grep -v CNI- | grep -iv flannel | ip6tables-restore
}

check_clean() {
    ! ip link show cni0 > /dev/null 2>&1 || { echo "cni0 left" >&2; exit 1; }
    [ -z "$(ls /run/netns 2>/dev/null)" ] || { echo "netns left" >&2; exit 1; }
    ! grep -q ' /var/lib/kubelet/pods/' /proc/self/mounts || { echo "mounts left" >&2; exit 1; }
    ! iptables-save | grep -q KUBE- || { echo "rules left" >&2; exit 1; }
}

ms() { echo $(( ($2 - $1) / 1000000 )); }
tool=() shell=()
for r in $(seq "$ROUNDS"); do
    build_node
    t0=$(date +%s%N); "$BIN" clean > /dev/null; t1=$(date +%s%N)
    check_clean
    tool+=("$(ms "$t0" "$t1")")
    build_node
    t0=$(date +%s%N); baseline > /dev/null 2>&1; t1=$(date +%s%N)
    check_clean
    shell+=("$(ms "$t0" "$t1")")
    echo "round $r: k3s-node clean ${tool[-1]} ms, shell baseline ${shell[-1]} ms ($PODS pods)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mt=$(median "${tool[@]}") ms_=$(median "${shell[@]}")
echo "median: k3s-node clean $mt ms, shell baseline $ms_ ms, speed-up $(awk -v a="$ms_" -v b="$mt" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }')x"
INNER
unshare --net --mount --pid --fork --mount-proc --propagation private bash "$inner" "$PODS" "$ROUNDS" "$BIN"
