#!/bin/bash
# A fake k3s node inside private network, mount and PID namespaces (started by tests/namespaces.rs through
# `unshare`), at the node's real paths (tmpfs over /run and /var/lib keep the host's untouched). First
# `k3s-clean --root IMAGE` and `k3s-killall.sh --root IMAGE` must clean only the image's files and leave every
# live thing alone (processes, mounts, links, iptables, systemd); then the live cleanup must remove everything
# k3s owns and keep every decoy. systemd is not PID 1 here: `systemctl` is a recording fake on PATH.
# Usage: fake-node.sh K3S_NODE_BINARY IMAGE_ROOT
set -euo pipefail
BIN=$1
IMAGE=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

mount -t tmpfs run /run && mkdir -p /run/systemd/system
mount -t tmpfs varlib /var/lib
ip link set lo up
fake=$(mktemp -d -p /run)
mkdir -p "$fake/bin" "$fake/active"
cat > "$fake/bin/systemctl" <<FAKE
#!/bin/sh
echo "\$*" >> "$fake/log"
case "\$1" in
    is-active) [ -e "$fake/active/\$3" ] && exit 0 || exit 3 ;;
esac
exit 0
FAKE
chmod +x "$fake/bin/systemctl"
export PATH="$fake/bin:$PATH"
# --- decoys: must survive -----------------------------------------------------------------------------------
ip link add decoy0 type veth peer name decoy1
mkdir -p /var/lib/decoy && mount -t tmpfs decoy /var/lib/decoy
mkdir -p "/run/netns" && touch "/run/netns/decoyns" && unshare --net="/run/netns/decoyns" true
iptables -N DECOY
iptables -A DECOY -m comment --comment "not MYKUBE-thing" -j RETURN
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
sleep 300 &
DECOY_PID=$!

# --- what k3s leaves on a node ------------------------------------------------------------------------------
ip link add cni0 type bridge && ip link set cni0 up
ip link add flannel.1 type vxlan id 1 dstport 8472 nolearning
for i in 1 2 3; do
    ns="/run/netns/cni-0000000$i-aaaa-bbbb"
    touch "$ns" && unshare --net="$ns" true
    nsenter --net="$ns" ip link add eth0 type veth peer name veth$i netns $$
    ip link set veth$i master cni0 up
done
touch "/run/netns/cni-stale"
for d in run/k3s run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs \
    run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs/proc \
    "var/lib/kubelet/pods/uid1/volumes/kubernetes.io~empty-dir/data dir" var/lib/kubelet/plugins/csi \
    var/lib/rancher/k3s/agent/containerd/snap; do
    mkdir -p "/$d" && mount -t tmpfs k3s "/$d"
done
mount -t tmpfs stacked "/var/lib/kubelet/plugins/csi"
mkdir -p "/var/lib/cni/networks/cbr0" && echo 10.42.0.5 > "/var/lib/cni/networks/cbr0/10.42.0.5"
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

# The mounts this script made (the tmpfs sources it named, its namespace files): the host's mounts are listed in
# this mount namespace too, and are no business of the checks.
k3s_mounts() {
    awk '{ for (i = 7; $i != "-"; i++); t = $(i + 1); s = $(i + 2)
           if ((t == "tmpfs" && (s == "k3s" || s == "decoy" || s == "stacked")) ||
               (t == "nsfs" && $5 ~ /^\/run\/netns\/(decoyns|cni-0000000)/)) print $5 }' /proc/self/mountinfo | sort
}
before=$(k3s_mounts | wc -l)
[ "$before" -ge 10 ] || fail "fake node has only $before mounts: $(k3s_mounts | tr '\n' ' ')"

# --- an image root: its files go, nothing live is touched ------------------------------------------------------
mkdir -p "$IMAGE/run/netns" "$IMAGE/var/lib/cni/networks/cbr0" "$IMAGE/run/k3s/keep"
touch "$IMAGE/run/netns/cni-image" "$IMAGE/run/netns/other" "$IMAGE/var/lib/cni/networks/cbr0/10.42.0.9"
mount -t tmpfs k3s "$IMAGE/run/k3s/keep"
touch "$fake/active/k3s.service"  # a server "on the build host": no reason for an image root to refuse
iptables_before=$(iptables-save | grep -v '^#')
"$BIN" clean --root "$IMAGE" > "$fake/image-clean"
"$BIN" killall.sh --root "$IMAGE" > "$fake/image-killall"
cat "$fake/image-clean" "$fake/image-killall"
[ ! -e "$IMAGE/run/netns/cni-image" ] || fail "image: pod netns file left"
[ -e "$IMAGE/run/netns/other" ] || fail "image: other netns file removed"
[ ! -e "$IMAGE/var/lib/cni" ] || fail "image: /var/lib/cni left"
grep -qx "nothing to clean" "$fake/image-killall" || fail "image: second run was not a no-op"
[ ! -e "$fake/log" ] || fail "image: systemctl called: $(cat "$fake/log")"
grep -q " $IMAGE/run/k3s/keep " /proc/self/mountinfo || fail "image: a mount below the image root was unmounted"
umount "$IMAGE/run/k3s/keep"
kill -0 $SHIM || fail "image: shim killed"
ip link show cni0 > /dev/null && ip link show veth1 > /dev/null && ip link show flannel.1 > /dev/null \
    || fail "image: links deleted"
[ "$(iptables-save | grep -v '^#')" = "$iptables_before" ] || fail "image: iptables changed"
[ "$(k3s_mounts | wc -l)" = "$before" ] || fail "image: live mounts changed"
rm -f "$fake/active/k3s.service"

# --- dry run changes nothing ----------------------------------------------------------------------------------
"$BIN" clean --dry-run > "$shim_dir/plan"
cat "$shim_dir/plan"
grep -q "^would kill $SHIM (containerd-shim)" "$shim_dir/plan" || fail "plan lacks the shim"
grep -q "^would delete link veth1 (veth on cni0)" "$shim_dir/plan" || fail "plan lacks veth1"
[ "$(k3s_mounts | wc -l)" = "$before" ] || fail "dry run unmounted something"
ip link show cni0 > /dev/null || fail "dry run deleted cni0"

# --- clean ----------------------------------------------------------------------------------------------------
"$BIN" clean

# --- all k3s state gone ---------------------------------------------------------------------------------------
if ip -o link show | grep -E ' (cni0|veth[0-9]+@|flannel\.1)'; then fail "links left"; fi
expected_mounts=$(printf '%s\n' /var/lib/decoy /run/netns/decoyns | sort)
[ "$(k3s_mounts)" = "$expected_mounts" ] || fail "mounts left: $(k3s_mounts | tr '\n' ' ')"
[ "$(ls "/run/netns")" = decoyns ] || fail "netns left: $(ls "/run/netns")"
if iptables-save | grep -E '(^:|[ "])(KUBE-|CNI-)|FLANNEL|flannel'; then fail "iptables rules left"; fi
if ip6tables-save | grep -E '(^:|[ "])KUBE-'; then fail "ip6tables rules left"; fi
if iptables-legacy-save | grep -E '(^:|[ "])KUBE-'; then fail "legacy iptables rules left"; fi
[ ! -e "/var/lib/cni" ] || fail "/var/lib/cni left"
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
"$BIN" killall.sh | tee "$shim_dir/again"
grep -qx "nothing to clean" "$shim_dir/again" || fail "second run was not a no-op"
echo "FAKE NODE CLEAN: OK"
