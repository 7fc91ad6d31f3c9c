#!/bin/bash
# A fake k3s node inside private network, mount and PID namespaces (started by tests/namespaces.rs through
# `unshare`), then cleanup, then checks that everything k3s owns is gone and every decoy survived.
# Usage: fake-node.sh K3S_NODE_BINARY ROOT
set -euo pipefail
BIN=$1
ROOT=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

ip link set lo up
# --- decoys: must survive -----------------------------------------------------------------------------------
ip link add decoy0 type veth peer name decoy1
mkdir -p "$ROOT/mnt/decoy" && mount -t tmpfs decoy "$ROOT/mnt/decoy"
mkdir -p "$ROOT/run/netns" && touch "$ROOT/run/netns/decoyns" && unshare --net="$ROOT/run/netns/decoyns" true
iptables -N DECOY
iptables -A DECOY -m comment --comment "not MYKUBE-thing" -j RETURN
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
sleep 300 &
DECOY_PID=$!

# --- what k3s leaves on a node ------------------------------------------------------------------------------
ip link add cni0 type bridge && ip link set cni0 up
ip link add flannel.1 type vxlan id 1 dstport 8472 nolearning
for i in 1 2 3; do
    ns="$ROOT/run/netns/cni-0000000$i-aaaa-bbbb"
    touch "$ns" && unshare --net="$ns" true
    nsenter --net="$ns" ip link add eth0 type veth peer name veth$i netns $$
    ip link set veth$i master cni0 up
done
touch "$ROOT/run/netns/cni-stale"
for d in run/k3s run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs \
    run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs/proc \
    "var/lib/kubelet/pods/uid1/volumes/kubernetes.io~empty-dir/data dir" var/lib/kubelet/plugins/csi \
    var/lib/rancher/k3s/agent/containerd/snap; do
    mkdir -p "$ROOT/$d" && mount -t tmpfs k3s "$ROOT/$d"
done
mount -t tmpfs stacked "$ROOT/var/lib/kubelet/plugins/csi"
mkdir -p "$ROOT/var/lib/cni/networks/cbr0" && echo 10.42.0.5 > "$ROOT/var/lib/cni/networks/cbr0/10.42.0.5"
iptables -N KUBE-SERVICES
iptables -A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables -A KUBE-SERVICES -d 10.43.0.1/32 -p tcp -m statistic --mode random --probability 0.5 -j RETURN
iptables -t nat -N KUBE-POSTROUTING
iptables -t nat -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
iptables -t nat -A KUBE-POSTROUTING -j MASQUERADE
iptables -N CNI-FORWARD
iptables -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
iptables -t nat -N FLANNEL-POSTRTG
iptables -t nat -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
iptables -t mangle -N KUBE-IPTABLES-HINT
ip6tables -N KUBE-FIREWALL
# Rules left in the backend that is not selected (after an iptables-nft/legacy switch) must go too.
iptables-legacy -t nat -N KUBE-MARK-MASQ
iptables-legacy -t nat -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
ip6tables -A INPUT -j KUBE-FIREWALL
shim_dir=$(mktemp -d)
cp /bin/sh "$shim_dir/containerd-shim-runc-v2"
"$shim_dir/containerd-shim-runc-v2" -c 'sleep 300 & sleep 300 & wait' &
SHIM=$!
for _ in $(seq 100); do
    KIDS=$(cat /proc/$SHIM/task/$SHIM/children 2>/dev/null || true)
    [ "$(echo $KIDS | wc -w)" = 2 ] && break
    sleep 0.02
done
[ "$(echo $KIDS | wc -w)" = 2 ] || fail "shim children did not start"

k3s_mounts() { awk -v r="$ROOT/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort; }
before=$(k3s_mounts | wc -l)

# --- dry run changes nothing ----------------------------------------------------------------------------------
"$BIN" clean --dry-run --root "$ROOT" > "$shim_dir/plan"
cat "$shim_dir/plan"
grep -q "^would kill $SHIM (containerd-shim)" "$shim_dir/plan" || fail "plan lacks the shim"
grep -q "^would delete link veth1 (veth on cni0)" "$shim_dir/plan" || fail "plan lacks veth1"
[ "$(k3s_mounts | wc -l)" = "$before" ] || fail "dry run unmounted something"
ip link show cni0 > /dev/null || fail "dry run deleted cni0"

# --- clean ----------------------------------------------------------------------------------------------------
"$BIN" clean --root "$ROOT"

# --- all k3s state gone ---------------------------------------------------------------------------------------
if ip -o link show | grep -E ' (cni0|veth[0-9]+@|flannel\.1)'; then fail "links left"; fi
expected_mounts=$(printf '%s\n' "$ROOT/mnt/decoy" "$ROOT/run/netns/decoyns" | sort)
[ "$(k3s_mounts)" = "$expected_mounts" ] || fail "mounts left: $(k3s_mounts | tr '\n' ' ')"
[ "$(ls "$ROOT/run/netns")" = decoyns ] || fail "netns left: $(ls "$ROOT/run/netns")"
if iptables-save | grep -E '(^:|[ "])(KUBE-|CNI-)|FLANNEL|flannel'; then fail "iptables rules left"; fi
if ip6tables-save | grep -E '(^:|[ "])KUBE-'; then fail "ip6tables rules left"; fi
if iptables-legacy-save | grep -E '(^:|[ "])KUBE-'; then fail "legacy iptables rules left"; fi
[ ! -e "$ROOT/var/lib/cni" ] || fail "/var/lib/cni left"
for p in $SHIM $KIDS; do
    state=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null || true)
    [ -z "$state" ] || [ "$state" = Z ] || fail "process $p survived (state $state)"
done

# --- decoys intact --------------------------------------------------------------------------------------------
ip link show decoy0 > /dev/null && ip link show decoy1 > /dev/null || fail "decoy veth deleted"
iptables-save | grep -q -- '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT' || fail "decoy rule deleted"
iptables-save | grep -q -- '-A DECOY -m comment --comment "not MYKUBE-thing" -j RETURN' || fail "decoy chain deleted"
kill -0 $DECOY_PID || fail "decoy process killed"

# --- idempotent, also through the killall name -----------------------------------------------------------------
"$BIN" killall.sh --root "$ROOT" | tee "$shim_dir/again"
grep -qx "nothing to clean" "$shim_dir/again" || fail "second run was not a no-op"
echo "FAKE NODE CLEAN: OK"
