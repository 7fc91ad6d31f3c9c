#!/bin/bash
# The live-node paths (root = /) of k3s-agent and k3s-killall.sh, inside private network, mount and PID namespaces
# (started by tests/namespaces.rs through `unshare`). tmpfs over /run and /var/lib and an overlay over /etc keep the
# host untouched (k3s-agent writes /etc/systemd/system/... and /etc/rancher/k3s/agent-token). systemd is not PID 1 here, so `systemctl` is a recording fake on PATH, the one seam the tools
# talk to systemd through; /run/systemd/system marks "booted with systemd" (sd_booted) so the tools consult it.
# Usage: live-node.sh K3S_NODE_BINARY
set -euo pipefail
BIN=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d /etc/systemd/system ] || fail "/etc/systemd/system missing (install systemd)"
mount -t tmpfs run /run && mkdir -p /run/systemd/system
etc_layer=$(mktemp -d -p /run)
mkdir "$etc_layer/upper" "$etc_layer/work"
mount -t overlay etc -o "lowerdir=/etc,upperdir=$etc_layer/upper,workdir=$etc_layer/work" /etc
mount -t tmpfs varlib /var/lib
ip link set lo up

fake=$(mktemp -d)
mkdir -p "$fake/bin" "$fake/active"
cat > "$fake/bin/systemctl" <<FAKE
#!/bin/sh
echo "\$*" >> "$fake/log"
case "\$1" in
    is-active) [ -e "$fake/active/\$3" ] && exit 0 || exit 3 ;;
    stop) rm -f "$fake/active/\$2" ;;
esac
exit 0
FAKE
chmod +x "$fake/bin/systemctl"
export PATH="$fake/bin:$PATH"

build_node() {
    ip link add cni0 type bridge && ip link set cni0 up
    ip netns add cni-1
    ip link add veth1 type veth peer name eth0 netns cni-1
    ip link set veth1 master cni0 up
    mkdir -p /var/lib/kubelet/pods/p1/volumes/v && mount -t tmpfs pod /var/lib/kubelet/pods/p1/volumes/v
    mkdir -p /var/lib/rancher/k3s/agent/containerd/snap && mount -t tmpfs snap /var/lib/rancher/k3s/agent/containerd/snap
    echo old > /var/lib/rancher/k3s/agent/client-kubelet.crt
    # What an image bakes in (the airgap archive): not state, k3s-agent keeps it.
    mkdir -p /var/lib/rancher/k3s/agent/images && echo baked > /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst
    iptables -N KUBE-FORWARD && iptables -A FORWARD -j KUBE-FORWARD
}
assert_clean() {
    ! ip link show cni0 > /dev/null 2>&1 || fail "$1: cni0 left"
    [ -z "$(ip netns list)" ] || fail "$1: netns left"
    ! grep -qE ' /var/lib/(kubelet|rancher)' /proc/self/mounts || fail "$1: mounts left"
    ! iptables-save | grep -q KUBE- || fail "$1: rules left"
}
DROPIN=/etc/systemd/system/k3s-agent.service.d/10-env.conf

# 1. k3s-agent with a running agent: stop it, clean, clear its state, reload, enable, restart.
build_node
touch "$fake/active/k3s-agent.service"
"$BIN" agent -t "s3cr%t" -s https://10.0.0.1:6443 --node-name node-1
assert_clean agent
[ "$(ls -A /var/lib/rancher/k3s/agent)" = images ] || fail "old agent state left: $(ls -A /var/lib/rancher/k3s/agent)"
[ "$(cat /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst)" = baked ] || fail "baked images removed"
[ "$(stat -c %a "$DROPIN")" = 600 ] || fail "drop-in mode $(stat -c %a "$DROPIN")"
grep -qx 'Environment="K3S_TOKEN_FILE=/etc/rancher/k3s/agent-token"' "$DROPIN" || fail "token line: $(cat "$DROPIN")"
! grep -q 's3cr' "$DROPIN" || fail "token in the unit: $(cat "$DROPIN")"
[ "$(cat /etc/rancher/k3s/agent-token)" = 's3cr%t' ] || fail "token file: $(cat /etc/rancher/k3s/agent-token)"
[ "$(stat -c %a /etc/rancher/k3s/agent-token)" = 600 ] || fail "token file mode"
calls() { sed 's/ --quiet//' "$fake/log"; }
expected="is-active k3s.service
is-active k3s-agent.service
stop k3s-agent.service
is-active k3s.service
daemon-reload
enable --no-reload k3s-agent.service
restart k3s-agent.service"
[ "$(calls)" = "$expected" ] || fail "systemctl calls: $(calls)"

# 2. k3s-agent next to an active server unit: refused, nothing written or cleaned.
rm -f "$fake/log" "$DROPIN"
build_node
touch "$fake/active/k3s.service"
if "$BIN" agent -t tok -s https://10.0.0.1:6443 2> "$fake/err"; then fail "agent ran next to a server"; fi
grep -q "refusing to configure an agent: k3s.service is active" "$fake/err" || fail "$(cat "$fake/err")"
[ ! -e "$DROPIN" ] || fail "drop-in written despite refusal"
ip link show cni0 > /dev/null || fail "cleaned despite refusal"
[ "$(calls)" = "is-active k3s.service" ] || fail "systemctl calls: $(calls)"

# 3. k3s-clean next to the server: refused. k3s-killall.sh: stops both units, then cleans.
if "$BIN" clean 2> "$fake/err"; then fail "clean ran next to a server"; fi
grep -q "refusing to clean up" "$fake/err" || fail "$(cat "$fake/err")"
touch "$fake/active/k3s-agent.service"
rm -f "$fake/log"
"$BIN" killall.sh > /dev/null
assert_clean killall
grep -qx "stop k3s-agent.service" "$fake/log" && grep -qx "stop k3s.service" "$fake/log" || fail "units not stopped: $(cat "$fake/log")"
echo "LIVE NODE: OK"
