#!/usr/bin/env bash
# `k3s-bake cluster` under real QEMU (Debian's qemu-system-x86_64 7.2, software emulation: no KVM) with a Debian
# kernel (the cloud image from .ci/install.d/80-qemu-cluster.sh, never the host's /boot) and a tiny initramfs this
# suite builds as a STAND-IN FOR THE LAYER'S IMAGES (core-image-k3s / -agent cannot be built here): busybox, the
# virtio and qemu_fw_cfg modules, a static k3s-node (the real k3s-role-setup) and an init that reports what a node
# sees. Stand-ins, said so: the initramfs for the images, a busybox nc responder on the server's 6443 for k3s's API (agents
# "join" by an HTTP request over the cluster network and the stand-in kubectl lists who joined), a recording
# `systemctl` in the guest. Real: the plan and runner (every QEMU argument), QEMU's socket network, hub, slirp
# forward, fw_cfg and virtio-serial, the kernel's qemu_fw_cfg sysfs, k3s-role-setup, the teardown.
#
# Checks: the two VMs reach each other on the socket network (ping, HTTP); each sees its role arguments on
# /proc/cmdline; the token arrives through fw_cfg (root-only file, same bytes as the host's 0600 file) and is in
# neither the guest's /proc/cmdline nor QEMU's command line; k3s-role-setup reads it from there (live /proc/cmdline,
# live /sys/firmware/qemu_fw_cfg, an image root /target) and writes the agent token file 0600, the server's
# drop-in 0600; the kubeconfig comes out over virtio-serial and lands 0600 on the host pointing at the forward;
# k3s-bake waits for Ready and prints the nodes; SIGTERM tears down: no process left in any QEMU process group,
# the runtime directory with the token gone. Then a second cluster is killed with SIGKILL once its VMs run: every
# QEMU it started is gone within 10 s (the parent-death signal), its runtime directory and token stay, and the next
# run removes them and says so. All of it in a network namespace of its own (only its 127.0.0.1), runtime
# directories in the work directory ($XDG_RUNTIME_DIR), never the host's.
#
# Budget: 5 minutes on the 2-core CI machine. Measured here (2 cores shared): 32 s wall with warm cargo caches,
# 31 s of it the two clusters (boot, checks, teardown, the SIGKILL); a cold static k3s-node build adds ~1 min. The
# waits are bounded (Ready: 200 s, K3S_CI_CLUSTER_TIMEOUT; teardown: 10 s per VM; the killed cluster's VMs: 120 s to
# run, 10 s to be gone), so a broken run also ends within budget.
# K3S_CI_KEEP_WORK=1 keeps the work directory (initramfs, consoles of a failed run) for debugging.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
cache=${K3S_CI_CACHE:-${TMPDIR:-/tmp}/k3s-ci-cache}/qemu-kernel/current/root
kver=$(ls "$cache/lib/modules" 2>/dev/null | head -1)
if [ -z "$kver" ] || [ ! -f "$cache/boot/vmlinuz-$kver" ]; then
    echo "80-qemu-cluster: no Debian kernel in $cache; run .ci/install.d/80-qemu-cluster.sh" >&2
    exit 1
fi
kernel=$cache/boot/vmlinuz-$kver

work=$(mktemp -d)
# Runtime directories k3s-bake makes by default (and scans for stale ones) live here, never in the host's.
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 0700 "$XDG_RUNTIME_DIR"
bpid=
groups=()
cleanup() {
    if [ -n "$bpid" ] && kill -0 "$bpid" 2>/dev/null; then
        kill -TERM "$bpid" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$bpid" 2>/dev/null || true
    fi
    for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    [ -n "${K3S_CI_KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet --locked -p k3s-bake
bake=$root/target/debug/k3s-bake
# The real k3s-role-setup, static (the initramfs has no libc).
# From its own workspace (meta-k3s-rs/, what the node recipe builds).
RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --locked --manifest-path meta-k3s-rs/Cargo.toml \
    -p k3s-node --target x86_64-unknown-linux-gnu
node_target=$(cargo metadata --format-version 1 --no-deps --manifest-path meta-k3s-rs/Cargo.toml |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

# --- the stand-in image ---------------------------------------------------------------------------------------
ir=$work/initramfs
mkdir -p "$ir"/{bin,proc,sys,dev,run,tmp,mods,www,target/usr/lib/systemd/system}
cp /bin/busybox "$ir/bin/busybox"
strip -o "$ir/bin/k3s-node" "$node_target/x86_64-unknown-linux-gnu/debug/k3s-node"
ln -s k3s-node "$ir/bin/k3s-role-setup"
mods=(drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
    drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover drivers/net/net_failover
    drivers/net/virtio_net drivers/char/virtio_console drivers/firmware/qemu_fw_cfg)
for m in "${mods[@]}"; do
    cp "$cache/lib/modules/$kver/kernel/$m.ko" "$ir/mods/"
    echo "${m##*/}" >> "$ir/mods/order"
done
# Unit files as the recipes install them, so `systemctl --root` has something to enable; the systemctl is a
# recording stand-in (no systemd in an initramfs).
for u in k3s.service k3s-agent.service; do
    printf '[Service]\nExecStart=/usr/bin/k3s\n[Install]\nWantedBy=multi-user.target\n' > "$ir/target/usr/lib/systemd/system/$u"
done
cat > "$ir/bin/systemctl" <<'EOF'
#!/bin/sh
echo "STANDIN systemctl $*"
EOF
# The stand-in API: one request per connection (busybox nc -ll -e); `GET /join?NAME` records an agent,
# anything else lists the nodes.
cat > "$ir/bin/standin-api" <<'EOF'
#!/bin/sh
read -r _ path _
case "$path" in
/join\?*)
    n=${path#/join?}
    case "$n" in ''|*[!a-z0-9-]*) body="bad name" ;; *) echo "$n   Ready   <none>   1s   standin" >> /www/nodes; body="joined $n" ;; esac ;;
*) body=$(cat /www/nodes) ;;
esac
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n' "$body"
EOF
cat > "$ir/kubeconfig" <<'EOF'
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: c3RhbmQtaW4=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: c3RhbmQtaW4=
    client-key-data: c3RhbmQtaW4ta2V5
EOF
cat > "$ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod "/mods/$m.ko" || echo "STANDIN insmod $m failed"; done
line=" $(cat /proc/cmdline) "
param() { echo "$line" | sed -n "s/.* $1=\([^ ]*\) .*/\1/p"; }
role=$(param k3s.role); name=$(param k3s.node-name); server=$(param k3s.server); ip=$(param ip)
echo "STANDIN cmdline:$line"
echo "STANDIN args role=$role name=$name server=$server node-ip=$(param k3s.node-ip) iface=$(param k3s.iface)"
# ip=CLIENT::GATEWAY:NETMASK:HOSTNAME:DEVICE:off:DNS, as the plan writes it (Debian's kernel has no IP_PNP).
addr=${ip%%:*}; dev=$(echo "$ip" | cut -d: -f6); gw=$(echo "$ip" | cut -d: -f3)
hostname "$name"; ip link set lo up; ip link set "$dev" up; ip addr add "$addr/24" dev "$dev"
[ -n "$gw" ] && ip route add default via "$gw"
# What the node tools' 60-k3s-cluster-host.network has networkd do (a stand-in, no systemd here): DHCP on the NIC
# with the plan's host MAC.
for n in /sys/class/net/*; do
    if [ "$(cat "$n/address")" = "@HOST_NIC_MAC@" ]; then
        ip link set "${n##*/}" up
        udhcpc -q -n -i "${n##*/}" -s /bin/udhcpc-script >/dev/null 2>&1 && echo "STANDIN host-nic ${n##*/} $(ip -4 -o addr show "${n##*/}" | awk '{print $4}')"
    fi
done
raw=/sys/firmware/qemu_fw_cfg/by_name/opt/k3s/token/raw
if [ -f "$raw" ]; then
    echo "STANDIN fwcfg mode=$(stat -c %a "$raw") owner=$(stat -c %u "$raw") sha=$(sha256sum < "$raw" | cut -d' ' -f1)"
    if grep -qF "$(cat "$raw")" /proc/cmdline; then echo "STANDIN token-in-cmdline yes"; else echo "STANDIN token-in-cmdline no"; fi
else
    echo "STANDIN fwcfg missing"
fi
k3s-role-setup --root /target 2>&1 | sed 's/^/STANDIN role-setup: /'
echo "STANDIN role-setup-done"
case "$role" in
server)
    echo "$name   Ready   control-plane   1s   standin" > /www/nodes
    (nc -ll -p 6443 -e /bin/standin-api </dev/null; echo "STANDIN api exited $?") &
    sleep 1; echo "STANDIN api listening: $(netstat -ltn | grep -c ":6443 ")"
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = org.k3s-rs.kubeconfig ] && cat /kubeconfig > "/dev/${d##*/}" && echo "STANDIN kubeconfig written"
    done
    f=/target/etc/rancher/k3s/config.yaml.d/50-role-setup.yaml
    echo "STANDIN server-dropin mode=$(stat -c %a "$f") token-lines=$(grep -c '^token: ' "$f")"
    ;;
agent)
    f=/target/etc/rancher/k3s/agent-token
    echo "STANDIN agent-token mode=$(stat -c %a "$f") sha=$(sha256sum < "$f" | cut -d' ' -f1)"
    for _ in $(seq 60); do ping -c 1 -W 2 "$server" >/dev/null 2>&1 && { echo "STANDIN ping $server ok"; break; }; done
    for _ in $(seq 60); do
        r=$(printf 'GET /join?%s HTTP/1.0\r\n\r\n' "$name" | nc -w 3 "$server" 6443 | grep '^joined ') && { echo "STANDIN $r"; break; }
        sleep 1
    done
    ;;
esac
echo "STANDIN done"
while :; do sleep 3600; done
EOF
cat > "$ir/bin/udhcpc-script" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
for r in $router; do ip route add default via "$r" dev "$interface"; break; done
EOF
host_mac=$(sed -n 's/^MACAddress=//p' meta-k3s-rs/k3s-node/systemd/60-k3s-cluster-host.network)
sed -i "s/@HOST_NIC_MAC@/$host_mac/" "$ir/init"
chmod +x "$ir/init" "$ir/bin/systemctl" "$ir/bin/standin-api" "$ir/bin/udhcpc-script"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

# A stand-in kubectl: `get nodes` lists who joined, from the server's stand-in API through the forwarded port the
# kubeconfig names.
cat > "$work/kubectl" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
port=$(sed -n 's|^ *server: https://127.0.0.1:\([0-9]*\)$|\1|p' "$KUBECONFIG")
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /nodes HTTP/1.0\r\n\r\n' >&3
body=$(sed '1,/^\r$/d' <&3)
[[ " $* " == *" -o wide "* ]] && echo "NAME   STATUS   ROLES   AGE   VERSION"
echo "$body"
EOF
chmod +x "$work/kubectl"

# --- the cluster ------------------------------------------------------------------------------------------------
fails=0
check() { # NAME, then a command that must succeed
    local name=$1; shift
    if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
run=$work/run
# The image in a directory whose name has a comma (as a deploy directory may): -kernel and -initrd take the path as
# it is, where a doubled comma names another file ("could not open kernel file").
mkdir -p "$work/boot,x" && cp "$kernel" "$work/boot,x/vmlinuz" && cp "$work/initrd.gz" "$work/boot,x/initrd.gz"
start=$(date +%s)
unshare --net bash -c 'ip link set lo up && exec "$@"' _ "$bake" cluster --agents 1 --kernel "$work/boot,x/vmlinuz" \
    --initrd "$work/boot,x/initrd.gz" --memory 256 --agent-memory 256 --restrict --run-dir "$run" \
    --kubectl "$work/kubectl" --timeout ${K3S_CI_CLUSTER_TIMEOUT:-200} > "$work/out" 2> "$work/err" &
bpid=$!
for _ in $(seq 100); do
    grep -q '^QEMU process groups:' "$work/out" 2>/dev/null && break
    sleep 0.1
done
read -r -a groups <<< "$(sed -n 's/^QEMU process groups: \[\(.*\)\]$/\1/p' "$work/out" | tr -d ,)"
ready=no
for _ in $(seq 240); do
    grep -q '^running; Ctrl-C' "$work/out" && { ready=yes; break; }
    kill -0 "$bpid" 2>/dev/null || break
    sleep 1
done
for f in "$run"/*.console; do grep -q 'STANDIN done' "$f" 2>/dev/null || sleep 5; done
# QEMU's command lines while it runs (what `ps` shows every user), for the token check below.
for g in "${groups[@]}"; do
    for p in $(pgrep -g "$g"); do tr '\0' ' ' < "/proc/$p/cmdline" && echo; done
done > "$work/qemu-cmdlines" 2>/dev/null || true
echo "k3s-bake cluster after $(( $(date +%s) - start )) s:"; cat "$work/out"; sed 's/^/stderr: /' "$work/err"
con_s=$run/k3s-server.console con_a=$run/k3s-agent-1.console
token=$(cat "$run/token" 2>/dev/null || true)
token_sha=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
agent_file_sha=$(printf '%s\n' "$token" | sha256sum | cut -d' ' -f1)
grep -h '^STANDIN' "$con_s" "$con_a" 2>/dev/null | sed 's/^/guest: /' || true

check "qemu-cluster-stand-in-image: k3s-bake saw two VMs in two process groups" test "${#groups[@]}" -eq 2
check "qemu-cluster-stand-in-image: every node Ready (stand-in kubectl), nodes printed" \
    bash -c '[ "$1" = yes ] && grep -q "^k3s-agent-1 *Ready" "$2"' _ "$ready" "$work/out"
check "qemu-cluster-stand-in-image: agent reaches the server on the socket network (ping)" \
    grep -q "STANDIN ping 192.168.76.10 ok" "$con_a"
check "qemu-cluster-stand-in-image: agent reaches the server's 6443 on the socket network (HTTP join)" \
    grep -q "STANDIN joined k3s-agent-1" "$con_a"
check "qemu-cluster-stand-in-image: the server's host NIC got its address from slirp (agents have none)" \
    bash -c 'grep -q "STANDIN host-nic eth1 10.0.2.15/24" "$1" && ! grep -q "STANDIN host-nic" "$2"' _ "$con_s" "$con_a"
check "qemu-cluster-stand-in-image: the host reaches the server's 6443 through the 127.0.0.1 forward only" \
    bash -c 'port=$(sed -n "s|^ *server: https://127.0.0.1:\([0-9]*\)$|\1|p" "$1/kubeconfig")
        nsenter --net=/proc/$2/ns/net bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf \"GET /nodes HTTP/1.0\r\n\r\n\" >&3; grep -q k3s-server <&3"' _ "$run" "$bpid"
check "qemu-cluster-stand-in-image: server sees its role arguments" \
    grep -q "STANDIN args role=server name=k3s-server server= node-ip=192.168.76.10 iface=eth0" "$con_s"
check "qemu-cluster-stand-in-image: agent sees its role arguments" \
    grep -q "STANDIN args role=agent name=k3s-agent-1 server=192.168.76.10 node-ip=192.168.76.11 iface=eth0" "$con_a"
check "qemu-cluster-stand-in-image: the runtime directory records its k3s-bake (pid, start time), 0600" \
    bash -c '[ "$(stat -c %a "$1/owner")" = 600 ] && grep -q "^k3s-bake pid=$2 start=[0-9]*$" "$1/owner"' _ "$run" "$bpid"
check "qemu-cluster-stand-in-image: host token file 0600 in a 0700 runtime directory" \
    bash -c '[ "$(stat -c %a "$1")" = 700 ] && [ "$(stat -c %a "$1/token")" = 600 ] && [ ${#2} -eq 64 ]' _ "$run" "$token"
for c in "$con_s" "$con_a"; do
    n=$(basename "$c" .console)
    check "qemu-cluster-stand-in-image: $n gets the token through fw_cfg (root-only, the host's bytes)" \
        grep -q "STANDIN fwcfg mode=400 owner=0 sha=$token_sha" "$c"
    check "qemu-cluster-stand-in-image: the token is not on $n's /proc/cmdline" \
        bash -c 'grep -q "STANDIN token-in-cmdline no" "$1" && grep "STANDIN cmdline:" "$1" | grep -qvF "$2"' _ "$c" "$token"
    check "qemu-cluster-stand-in-image: k3s-role-setup on $n read the token from fw_cfg" \
        grep -q "STANDIN role-setup: token from fw_cfg (/sys/firmware/qemu_fw_cfg/by_name/opt/k3s/token/raw)" "$c"
done
check "qemu-cluster-stand-in-image: the token is not on any QEMU command line" \
    bash -c '[ "$(grep -c qemu-system "$2")" -eq 2 ] && ! grep -qF "$1" "$2"' _ "$token" "$work/qemu-cmdlines"
check "qemu-cluster-stand-in-image: k3s-role-setup wrote the agent token file 0600 with the token" \
    grep -q "STANDIN agent-token mode=600 sha=$agent_file_sha" "$con_a"
check "qemu-cluster-stand-in-image: k3s-role-setup wrote the server's drop-in 0600 with the token" \
    grep -q "STANDIN server-dropin mode=600 token-lines=1" "$con_s"
check "qemu-cluster-stand-in-image: kubeconfig over virtio-serial, 0600 on the host, pointing at the forward" \
    bash -c '[ "$(stat -c %a "$1/kubeconfig")" = 600 ] && grep -q "^    server: https://127.0.0.1:[0-9]*$" "$1/kubeconfig" \
        && ! grep -q ":6443$" "$1/kubeconfig" && grep -q "client-key-data: c3RhbmQtaW4ta2V5" "$1/kubeconfig"' _ "$run"
check "qemu-cluster-stand-in-image: memory warning for a server under 2048 MiB" \
    grep -q "warning: the server has 256 MiB" "$work/err"

if [ "$fails" -ne 0 ]; then
    for c in "$run"/*.console; do [ -f "$c" ] && { echo "== $c"; tail -60 "$c"; }; done
fi

# --- teardown ---------------------------------------------------------------------------------------------------
kill -TERM "$bpid" 2>/dev/null || true
rc=0
wait "$bpid" || rc=$?
bpid=
check "qemu-cluster-stand-in-image: SIGTERM stops k3s-bake cluster cleanly" \
    bash -c '[ "$1" = 0 ] && grep -q "^cluster stopped (signal)" "$2"' _ "$rc" "$work/out"
check "qemu-cluster-stand-in-image: no process left in any QEMU process group" \
    bash -c 'for g in "$@"; do kill -0 -- "-$g" 2>/dev/null && { ps -o pid,pgid,args -g "$g"; exit 1; }; done; exit 0' _ "${groups[@]}"
check "qemu-cluster-stand-in-image: the runtime directory (token, sockets) is removed" test ! -e "$run"

# --- SIGKILL: nothing outlives k3s-bake ---------------------------------------------------------------------------
# k3s-bake killed where it cannot tear down (as by the OOM killer or a CI timeout): the parent-death signal ends
# every QEMU it started, and the next run removes the runtime directory (token) the killed one left.
live_members() { # GROUP...: members of the groups that have not ended (a zombie has ended; pid 1 may reap late)
    local g p st
    for g in "$@"; do
        for p in $(pgrep -g "$g"); do
            st=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null) || continue
            [ "$st" = Z ] || echo "$p"
        done
    done
}
unshare --net bash -c 'ip link set lo up && exec "$@"' _ "$bake" cluster --agents 1 --kernel "$kernel" \
    --initrd "$work/initrd.gz" --memory 256 --agent-memory 256 --restrict --no-wait \
    --kubectl "$work/kubectl" > "$work/out-kill" 2> "$work/err-kill" &
bpid=$!
kgroups=()
for _ in $(seq 100); do
    grep -q '^QEMU process groups:' "$work/out-kill" 2>/dev/null && break
    sleep 0.1
done
read -r -a kgroups <<< "$(sed -n 's/^QEMU process groups: \[\(.*\)\]$/\1/p' "$work/out-kill" | tr -d ,)"
groups+=("${kgroups[@]}")
krun=$(sed -n 's/^runtime directory \(.*\) (mode 0700).*/\1/p' "$work/out-kill")
# Its VMs run: each QEMU wrote its pid file and each guest's init reports its role arguments (bounded: 120 s).
vms_run=no
for _ in $(seq 240); do
    n=0
    for node in k3s-server k3s-agent-1; do
        [ -s "$krun/$node.pid" ] && grep -q 'STANDIN args' "$krun/$node.console" 2>/dev/null && n=$((n + 1))
    done
    [ "$n" -eq 2 ] && { vms_run=yes; break; }
    kill -0 "$bpid" 2>/dev/null || break
    sleep 0.5
done
qemu_pids=$(cat "$krun"/*.pid 2>/dev/null | tr '\n' ' ')
check "qemu-cluster-stand-in-image: before the SIGKILL, both VMs run (pid files, guests' init) in two groups" \
    bash -c '[ "$1" = yes ] && [ "$2" -eq 2 ] && [ "$(echo $3 | wc -w)" -eq 2 ]' _ "$vms_run" "${#kgroups[@]}" "$qemu_pids"
kpid=$bpid
kill -KILL "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true
bpid=
# Bounded poll: gone within 10 s (the signal is immediate; the bound only covers a loaded machine).
left=
polls=0
for _ in $(seq 100); do
    left=$(live_members "${kgroups[@]}")
    [ -z "$left" ] && break
    polls=$((polls + 1))
    sleep 0.1
done
echo "after kill -KILL of k3s-bake, QEMU processes still running: ${left:-none} (after $polls polls of 0.1 s)" | tr '\n' ' '
echo
check "qemu-cluster-stand-in-image: k3s-bake killed with SIGKILL: every QEMU it started is gone within 10 s" \
    test -z "$left"
check "qemu-cluster-stand-in-image: the killed run left its runtime directory with the token (nothing removed it yet)" \
    bash -c '[ -n "$1" ] && [ -s "$1/token" ] && grep -q "^k3s-bake pid=$2 start=[0-9]*$" "$1/owner"' _ "$krun" "$kpid"
# The next run (a dry run: it starts as any run does, prints the plan instead of booting).
unshare --net "$bake" cluster --agents 1 --kernel "$kernel" --initrd "$work/initrd.gz" --dry-run > "$work/out-next" 2>&1 || true
sed 's/^/next run: /' "$work/out-next" | grep -v -- '-nodefaults' || true
check "qemu-cluster-stand-in-image: the next run removes the killed run's runtime directory and token, and says so" \
    bash -c '[ ! -e "$1" ] && grep -qF "removed stale runtime directory $1 (its k3s-bake, pid " "$2" \
        && grep -q "token removed" "$2"' _ "$krun" "$work/out-next"
check "qemu-cluster-stand-in-image: the next run left no QEMU of the killed one running" \
    bash -c 'for p in $1; do [ -d /proc/$p ] && grep -q "^[^(]*([^)]*) [^Z]" /proc/$p/stat && grep -qF "$2" /proc/$p/cmdline && exit 1; done; exit 0' \
    _ "$qemu_pids" "$krun"
"$bake" cluster --clean > "$work/out-clean" 2>&1 || true
check "qemu-cluster-stand-in-image: cluster --clean then finds nothing stale" \
    grep -qx "no stale runtime directory in $XDG_RUNTIME_DIR" "$work/out-clean"

if [ "$fails" -ne 0 ]; then
    echo "80-qemu-cluster: $fails check(s) failed"
    exit 1
fi
echo "80-qemu-cluster: all checks passed in $(( $(date +%s) - start )) s"
