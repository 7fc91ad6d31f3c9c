#!/usr/bin/env bash
# Units, node tools and each role's k3s config under a real systemd (PID 1): a Debian bookworm minbase root with
# systemd, booted with systemd-nspawn (--boot --private-network --register=no --keep-unit), driven through nsenter.
# The layer is installed by the recipes' own do_install (.ci/systemd/bbinstall.py: BitBake's parser and exec_func,
# packages split by FILES), with a STAND-IN for /usr/bin/k3s (tools/k3s-standin: k3s's config-file and flag
# handling, Type=notify, the node state k3s leaves; it never talks to a network). Every test name says "standin".
#
# Budget: under 5 minutes of CI. The root is debootstrapped once per CI run (~1 min, nearly all download) and kept
# in $K3S_CI_CACHE (default /var/tmp/meta-k3s-rs-ci); a boot takes about a second; the tests about a minute.
# Every container, cgroup and mount is removed at the end, pass or fail (trap).
set -euo pipefail
cd "$(dirname "$0")/../.."
LAYER=$PWD
. .ci/systemd/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "70-systemd: needs root (systemd-nspawn, namespaces)" >&2; exit 2; }
for tool in debootstrap systemd-nspawn nsenter; do
    command -v "$tool" >/dev/null || { echo "70-systemd: $tool missing (.ci/install.d/70-systemd.sh)" >&2; exit 2; }
done

CT_WORK=$(mktemp -d /var/tmp/k3s-systemd-suite.XXXXXX)
trap 'ct_cleanup_all; rm -rf "$CT_WORK"' EXIT
trap 'exit 130' INT TERM
CACHE=${K3S_CI_CACHE:-/var/tmp/meta-k3s-rs-ci}
PKGS=systemd,systemd-sysv,dbus,iproute2,iptables,kmod,procps,util-linux
BASE=$CACHE/bookworm-minbase

# --- the Debian root, once per run --------------------------------------------------------------------------------
if [ "$(cat "$BASE.stamp" 2>/dev/null)" != "$PKGS" ]; then
    ct_log "debootstrap bookworm minbase ($PKGS)"
    t0=$SECONDS
    rm -rf "$BASE" "$BASE.tmp"
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --include="$PKGS" bookworm "$BASE.tmp" http://deb.debian.org/debian \
        > "$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    echo node > "$BASE.tmp/etc/hostname"
    : > "$BASE.tmp/etc/machine-id"
    mkdir -p "$BASE.tmp/var/log/journal" # persistent journal: read after poweroff from the overlay's upper dir
    mv "$BASE.tmp" "$BASE"
    echo "$PKGS" > "$BASE.stamp"
    ct_log "debootstrap: $((SECONDS - t0)) s"
fi

# --- the layer, installed by its recipes ----------------------------------------------------------------------
ct_log "building k3s-node and the k3s stand-in"
t0=$SECONDS
# k3s-node from its own workspace (meta-k3s-rs/, what the node recipe builds), the stand-in from the host tools'.
cargo build --quiet --locked -p k3s-standin
cargo build --quiet --locked -p k3s-node --manifest-path meta-k3s-rs/Cargo.toml
target_dir() { cargo metadata --format-version 1 --no-deps "$@" 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'; }
TARGET=$(target_dir)
NODE_TARGET=$(target_dir --manifest-path meta-k3s-rs/Cargo.toml)
IMAGE=$CT_WORK/image
mkdir -p "$IMAGE"
# A FABRICATED airgap archive (CI reaches no GitHub): fetched by BitBake's fetcher through a file:// PREMIRROR and
# checked against the sha256 in the recipe's SRC_URI flag (bbinstall.py --airgap-archive).
AIRGAP=$CT_WORK/fabricated-k3s-airgap-images-amd64.tar.zst
printf 'fabricated airgap archive for the systemd suite (stand-in k3s imports nothing)\n' > "$AIRGAP"
# A user's recipe inheriting k3s_workloads (manifests, a chart, an image archive, registries.yaml with credentials
# from a file): the one the recipe Python tests use (test_offline.write_workload).
WORKLOAD=$(python3 -c 'import sys; sys.path.insert(0, ".ci/systemd"); import test_offline as t; print(t.write_workload(sys.argv[1]))' "$CT_WORK/workload")
python3 .ci/systemd/bbinstall.py "$IMAGE" --work "$CT_WORK/bb" --k3s "$TARGET/debug/k3s-standin" \
    --node "$NODE_TARGET/debug/k3s-node" --airgap-archive "$AIRGAP" --workload "$WORKLOAD" > "$CT_WORK/bbinstall.log" \
    || { cat "$CT_WORK/bbinstall.log" >&2; exit 1; }
# The same layer for a read-only root with a persistent data partition (K3S_DATA_PARTITION = "/data").
IMAGE_RO=$CT_WORK/image-ro
mkdir -p "$IMAGE_RO"
python3 .ci/systemd/bbinstall.py "$IMAGE_RO" --work "$CT_WORK/bb-ro" --k3s "$TARGET/debug/k3s-standin" \
    --node "$NODE_TARGET/debug/k3s-node" --airgap-archive "$AIRGAP" --set K3S_DATA_PARTITION=/data \
    > "$CT_WORK/bbinstall-ro.log" || { cat "$CT_WORK/bbinstall-ro.log" >&2; exit 1; }
ct_log "build and install through the recipes: $((SECONDS - t0)) s"

# --- helpers ------------------------------------------------------------------------------------------------------
fail() { echo "FAIL: $*" >&2; exit 1; }

# boot NAME [ARGS FOR PID 1]: a fresh writable layer over the image (reboot NAME keeps it: a second boot).
boot() {
    local name=$1
    shift
    rm -rf "$CT_WORK/$name"
    reboot "$name" "$@"
}
reboot() {
    local name=$1
    shift
    UPPER=$CT_WORK/$name/upper
    ROOT=$CT_WORK/$name/root
    ct_overlay "$ROOT" "$UPPER" "${BOOT_IMAGE:-$IMAGE}" "$BASE"
    # BOOT_READ_ONLY: the root file system mounted read-only, as OE's read-only-rootfs boots it.
    if [ -n "${BOOT_READ_ONLY:-}" ]; then mount -o remount,ro "$ROOT"; fi
    ct_boot "$name" "$ROOT" "$CT_WORK/$name/console.log" "$@"
}
shutdown() {
    ct_poweroff || fail "poweroff"
    umount "$ROOT"
}
# The journal of the last boot(s), read from the host (also after poweroff).
journal() { journalctl -q -D "$UPPER/var/log/journal" --no-pager -o cat "$@" 2>/dev/null; }
wait_for() { # wait_for WHAT CMD...: CMD succeeds within 30 s
    local what=$1 i
    shift
    for i in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    fail "$what (30 s)"
}
active() { [ "$(ct systemctl is-active "$1")" = active ]; }
settled() { [ -z "$(ct systemctl list-jobs --no-legend)" ]; }
no_failed_units() {
    local failed
    failed=$(ct systemctl --failed --no-legend --plain)
    [ -z "$failed" ] || fail "failed units: $failed"
}
# What a running k3s leaves (the stand-in makes exactly this): present / absent. Outputs are captured before
# they are searched (grep -q closing a pipe early would fail the pipeline under pipefail).
node_state() {
    STATE_LINKS=$(ct ip -br link)
    STATE_NETNS=$(ct ip netns list)
    STATE_RULES=$(ct iptables-save | grep -E -- '(KUBE-|CNI-|FLANNEL)' || true)
    # (The state directories themselves are mount points with K3S_DATA_PARTITION: the binds, not k3s's mounts.)
    STATE_MOUNTS=$(ct findmnt -rn -o TARGET | grep -E '^/(run/k3s|var/lib/kubelet|var/lib/rancher)' \
        | grep -vxE '/var/lib/(kubelet|rancher)' || true)
    STATE_PROCS=$(ct ps -eo comm=,args= | grep -E '^(containerd-shim|sleep +sleep infinity)' || true)
}
node_state_present() {
    node_state
    grep -q '^cni0 ' <<<"$STATE_LINKS" || fail "no cni0: $STATE_LINKS"
    grep -q '^flannel.1 ' <<<"$STATE_LINKS" || fail "no flannel.1"
    grep -q '^veth' <<<"$STATE_LINKS" || fail "no pod veth"
    grep -q '^cni-' <<<"$STATE_NETNS" || fail "no cni- netns"
    grep -q '^:KUBE-FORWARD ' <<<"$STATE_RULES" || fail "no KUBE- chain: $STATE_RULES"
    grep -q '^:KUBE-POSTROUTING ' <<<"$STATE_RULES" || fail "no KUBE- nat chain"
    grep -q '^/run/k3s/' <<<"$STATE_MOUNTS" || fail "no /run/k3s mount"
    grep -q '^containerd-shim' <<<"$STATE_PROCS" || fail "no containerd-shim"
}
node_state_absent() {
    local what=$1
    node_state
    ! grep -qE '^(cni0|flannel\.1|veth)' <<<"$STATE_LINKS" || fail "$what: links left: $STATE_LINKS"
    [ -z "$STATE_NETNS" ] || fail "$what: netns left: $STATE_NETNS"
    [ -z "$STATE_RULES" ] || fail "$what: rules left: $STATE_RULES"
    [ -z "$STATE_MOUNTS" ] || fail "$what: mounts left: $STATE_MOUNTS"
    [ -z "$STATE_PROCS" ] || fail "$what: shim tree left: $STATE_PROCS"
    if [ -n "${CNI_DIR_KEPT:-}" ]; then # a mount point (K3S_DATA_PARTITION): emptied, kept for the mount
        [ -z "$(ct ls -A /var/lib/cni)" ] || fail "$what: /var/lib/cni not emptied"
    else
        ! ct test -e /var/lib/cni || fail "$what: /var/lib/cni left"
    fi
}
# cmp_bytes FILE_IN_CT EXPECTED: byte-identical.
cmp_bytes() { ct cat "$1" | cmp -s - <(printf '%s' "$2") || fail "$1: $(ct cat "$1" | od -c | head -3) != '$2'"; }
# Nothing a user other than root can read shows the secret.
not_visible_to_others() {
    local secret=$1
    shift
    local unit out
    for unit in "$@"; do
        out=$(ct runuser -u nobody -- systemctl show "$unit" 2>&1)
        case "$out" in *"$secret"*) fail "systemctl show $unit as nobody shows the secret" ;; esac
    done
    out=$(ct runuser -u nobody -- journalctl -b --no-pager 2>&1 || true)
    case "$out" in *"$secret"*) fail "journalctl as nobody shows the secret" ;; esac
    # Stronger: not in the journal at all (root reads every entry).
    out=$(ct journalctl -b --no-pager -o cat 2>&1)
    case "$out" in *"$secret"*) fail "the journal holds the secret" ;; esac
}
URL=https://10.0.0.1:6443

# --- tests --------------------------------------------------------------------------------------------------------
test_server_active_and_stop_cleanup_leaves_nothing__standin_k3s() {
    boot server
    wait_for "k3s.service active" active k3s.service
    node_state_present
    # The server config of the k3s-server package reached k3s (config.yaml → flags).
    local argv
    argv=$(ct cat /run/k3s-standin/server/argv | tr '\0' ' ')
    case "$argv" in *"--write-kubeconfig-mode=0600 --flannel-backend=vxlan --cluster-cidr=10.42.0.0/16"*) ;;
        *) fail "server argv: $argv" ;; esac
    [ "$(ct stat -c %a /etc/rancher/k3s/k3s.yaml)" = 600 ] || fail "kubeconfig mode"
    ct systemctl stop k3s.service
    node_state_absent "after systemctl stop k3s"
    no_failed_units
    shutdown
}

test_poweroff_with_k3s_active__standin_k3s() {
    boot poweroff
    wait_for "k3s.service active" active k3s.service
    node_state_present
    shutdown # fails unless systemd powers off (the stop and its cleanup finish, no stop timeout)
    local j
    j=$(journal -u k3s.service)
    case "$j" in *"timed out"*|*"Killing process"*) fail "k3s stop at poweroff: $j" ;; esac
    case "$j" in *"delete link cni0"*) ;; *) fail "cleanup did not run at poweroff: $j" ;; esac
}

test_agent_join_hostile_tokens_byte_identical_and_hidden__standin_k3s() {
    boot agent
    ct systemctl disable --now k3s.service >/dev/null 2>&1
    local tok tokens=('%n%H%%' 'a "double" and '"'single'"' quotes' 'spaces  inside it' '$HOME ${PATH} $(id)'
        'back\slash\\ \"x\"' 'semi;colon #hash' 'K10abc::server:%%$\;#"'"'"' mix')
    for tok in "${tokens[@]}"; do
        ct k3s-agent -t "$tok" -s "$URL" --node-name agent-1 >/dev/null
        wait_for "k3s-agent active ($tok)" active k3s-agent.service
        cmp_bytes /run/k3s-standin/agent/token "$tok"
        local pid env
        pid=$(ct systemctl show -p MainPID --value k3s-agent.service)
        env=$(ct cat "/proc/$pid/environ" | tr '\0' '\n')
        grep -qx "K3S_URL=$URL" <<<"$env" || fail "K3S_URL not in the agent's environment"
        grep -qx "K3S_TOKEN_FILE=/etc/rancher/k3s/agent-token" <<<"$env" || fail "no K3S_TOKEN_FILE"
        grep -qx "K3S_CONFIG_FILE=/etc/rancher/k3s/agent.yaml" <<<"$env" || fail "no K3S_CONFIG_FILE"
        ! grep -q '^K3S_TOKEN=' <<<"$env" || fail "the token is in the unit's environment"
        [ "$(ct stat -c %a /etc/rancher/k3s/agent-token)" = 600 ] || fail "token file mode"
        not_visible_to_others "$tok" k3s-agent.service
        node_state_present
    done
    no_failed_units
    shutdown
}

test_agent_refused_next_to_live_server_unless_forced__standin_k3s() {
    boot refusal
    wait_for "k3s.service active" active k3s.service
    local err
    if err=$(ct k3s-agent -t tok -s "$URL" 2>&1); then fail "k3s-agent ran next to a live server"; fi
    case "$err" in *"refusing to configure an agent: k3s.service is active"*) ;; *) fail "$err" ;; esac
    ! ct test -e /etc/systemd/system/k3s-agent.service.d/10-env.conf || fail "drop-in written despite refusal"
    active k3s.service || fail "server disturbed by a refused run"
    node_state_present
    ct k3s-agent --force -t tok -s "$URL" >/dev/null || fail "--force refused"
    wait_for "k3s-agent active after --force" active k3s-agent.service
    no_failed_units
    shutdown
}

test_role_setup_server_from_cmdline_and_second_boot__standin_k3s() {
    local tok='shared "tok" $X %n;#' argv
    boot roleserver k3s.role=server "k3s.token=$tok" k3s.node-name=srv-1
    wait_for "k3s.service active" active k3s.service
    [ "$(ct systemctl is-active k3s-role-setup.service)" = active ] || fail "role setup did not run"
    local cfg=/etc/rancher/k3s/config.yaml.d/50-role-setup.yaml
    [ "$(ct stat -c %a $cfg)" = 600 ] || fail "$cfg mode"
    cmp_bytes /run/k3s-standin/server/token "$tok"
    argv=$(ct cat /run/k3s-standin/server/argv | tr '\0' '\n')
    grep -qx -- '--node-name=srv-1' <<<"$argv" || fail "node-name lost: $argv"
    not_visible_to_others "$tok" k3s.service k3s-role-setup.service
    no_failed_units
    local before
    before=$(ct stat -c '%i %Y' $cfg)
    shutdown
    reboot roleserver k3s.role=server "k3s.token=$tok" k3s.node-name=srv-1
    wait_for "k3s.service active (second boot)" active k3s.service
    [ "$(ct systemctl is-active k3s-role-setup.service)" = active ] || fail "role setup failed at the second boot"
    [ "$(ct stat -c '%i %Y' $cfg)" = "$before" ] || fail "$cfg rewritten at the second boot"
    no_failed_units
    shutdown
}

test_role_setup_agent_from_cmdline_and_second_boot__standin_k3s() {
    local tok='K10x::server:a b "c" %%$'
    local args=(k3s.role=agent k3s.server=10.0.0.1 "k3s.token=$tok" k3s.node-ip=10.0.0.5)
    boot roleagent "${args[@]}"
    wait_for "k3s-agent active" active k3s-agent.service
    ! active k3s.service || fail "the server runs on an agent node"
    cmp_bytes /run/k3s-standin/agent/token "$tok"
    local argv
    argv=$(ct cat /run/k3s-standin/agent/argv | tr '\0' '\n')
    grep -qx -- '--node-ip=10.0.0.5' <<<"$argv" || fail "node-ip lost: $argv"
    ct test -e /etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml || fail "agent drop-in missing"
    not_visible_to_others "$tok" k3s-agent.service k3s-role-setup.service
    no_failed_units
    local files=(/etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml /etc/rancher/k3s/agent-token
        /etc/systemd/system/k3s-agent.service.d/10-env.conf) before f
    before=$(for f in "${files[@]}"; do ct stat -c '%n %i %Y' "$f"; done)
    ct sh -c 'echo registered > /var/lib/rancher/k3s/agent/standin-registration'
    shutdown
    reboot roleagent "${args[@]}"
    wait_for "k3s-agent active (second boot)" active k3s-agent.service
    [ "$(ct systemctl is-active k3s-role-setup.service)" = active ] || fail "role setup failed at the second boot"
    [ "$(for f in "${files[@]}"; do ct stat -c '%n %i %Y' "$f"; done)" = "$before" ] || fail "rewritten at boot 2"
    ct test -e /var/lib/rancher/k3s/agent/standin-registration || fail "agent state cleared at the second boot"
    no_failed_units
    shutdown
}

test_role_switch_cleanup_finishes_before_the_other_starts__standin_k3s() {
    boot race
    ct systemctl disable --now k3s.service >/dev/null 2>&1
    ct k3s-agent -t tok -s "$URL" >/dev/null
    local round
    for round in 1 2 3; do
        wait_for "agent active ($round)" active k3s-agent.service
        ct systemctl start k3s.service # Conflicts= stops the agent, whose cleanup must not hit the server
        wait_for "settled ($round)" settled
        active k3s.service || fail "server not active ($round)"
        node_state_present
        ct systemctl start k3s-agent.service
        wait_for "settled ($round, back)" settled
        active k3s-agent.service || fail "agent not active ($round)"
        node_state_present
    done
    no_failed_units
    shutdown
}

test_k3s_agent_rerun_is_idempotent__standin_k3s() {
    boot rerun
    ct systemctl disable --now k3s.service >/dev/null 2>&1
    ct k3s-agent -t tok -s "$URL" >/dev/null
    wait_for "agent active" active k3s-agent.service
    local pid cursor out
    pid=$(ct systemctl show -p MainPID --value k3s-agent.service)
    cursor=$(ct journalctl -n0 --show-cursor | sed -n 's/^-- cursor: //p')
    out=$(ct k3s-agent -t tok -s "$URL" 2>&1)
    case "$out" in *"changed on disk"*) fail "same settings: $out" ;; esac
    reloads() { local j; j=$(ct journalctl --after-cursor="$1" -o cat); grep -c '^Reloading' <<<"$j" || true; }
    [ "$(reloads "$cursor")" = 0 ] || fail "same settings reloaded systemd $(reloads "$cursor") times"
    [ "$(ct systemctl show -p MainPID --value k3s-agent.service)" = "$pid" ] || fail "same settings restarted k3s"
    cursor=$(ct journalctl -n0 --show-cursor | sed -n 's/^-- cursor: //p')
    out=$(ct k3s-agent -t tok2 -s "$URL" 2>&1)
    case "$out" in *"changed on disk"*) fail "new settings: $out" ;; esac
    wait_for "agent active (new token)" active k3s-agent.service
    [ "$(reloads "$cursor")" = 1 ] || fail "new settings: $(reloads "$cursor") reloads, not one"
    cmp_bytes /run/k3s-standin/agent/token tok2
    no_failed_units
    shutdown
}

test_agent_refuses_server_keys_with_k3s_error_text__standin_k3s() {
    # The stand-in is faithful where the old layer failed (k3s-io/k3s#6565): a server-only key in the agent's
    # config stops `k3s agent` with k3s's own error, and systemd keeps restarting it.
    boot serverkeys
    ct systemctl disable --now k3s.service >/dev/null 2>&1
    ct sh -c 'printf "disable:\n  - traefik\n" > /etc/rancher/k3s/agent.yaml.d/90-server-key.yaml'
    ct k3s-agent -t tok -s "$URL" >/dev/null
    wait_for "the refusal in the journal" sh -c \
        "journalctl -q -D '$UPPER/var/log/journal' -u k3s-agent.service -o cat | grep -q 'flag provided but not defined: -disable'"
    ! active k3s-agent.service || fail "k3s agent accepted a server-only key"
    ct rm /etc/rancher/k3s/agent.yaml.d/90-server-key.yaml
    ct systemctl restart k3s-agent.service
    wait_for "agent active without the server key" active k3s-agent.service
    shutdown
}

test_systemd_analyze_verify_in_the_booted_system__standin_k3s() {
    boot verify
    wait_for "boot settled" settled
    local out
    out=$(ct systemd-analyze verify k3s.service k3s-agent.service k3s-role-setup.service 2>&1) || fail "verify: $out"
    out=$(grep -E 'k3s|role-setup|cleanup' <<<"$out" || true)
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    no_failed_units
    shutdown
}

# --- offline, flash-once nodes (issue 15) -------------------------------------------------------------------------
IMAGES_DIR=/var/lib/rancher/k3s/agent/images
# On a read-only root Debian's own systemd-logind fails (not a unit of the layer's): only the layer's are asserted,
# and poweroff goes to PID 1 directly (CT_POWEROFF_CMD; through logind it waits 2 x 25 s for the failed logind).
no_failed_layer_units() {
    local failed
    failed=$(ct systemctl --failed --no-legend --plain | grep -E 'k3s|var-lib-|etc-rancher' || true)
    [ -z "$failed" ] || fail "failed units: $failed"
}
ARCHIVE=k3s-airgap-images-amd64.tar.zst

test_airgap_archive_where_k3s_imports_with_the_checked_sha256__standin_k3s() {
    boot airgap
    wait_for "k3s.service active" active k3s.service
    local want have
    want=$(cat "$CT_WORK/bb/airgap/checked.sha256")
    have=$(ct sha256sum "$IMAGES_DIR/$ARCHIVE" | cut -d' ' -f1)
    [ "$have" = "$want" ] || fail "$IMAGES_DIR/$ARCHIVE: sha256 $have, the recipe checked $want"
    # The stand-in lists what k3s would import from <data-dir>/agent/images.
    grep -q "^$ARCHIVE " <(ct cat /run/k3s-standin/server/images) || fail "not where k3s imports: $(ct cat /run/k3s-standin/server/images)"
    # Joining as an agent clears the old agent state, not what the image baked into agent/images.
    ct systemctl disable --now k3s.service >/dev/null 2>&1
    ct k3s-agent -t tok -s "$URL" >/dev/null
    wait_for "k3s-agent active" active k3s-agent.service
    grep -q "^$ARCHIVE " <(ct cat /run/k3s-standin/agent/images) || fail "the join removed the airgap archive"
    no_failed_units
    shutdown
}

test_baked_workload_lands_where_k3s_reads_it__standin_k3s() {
    boot workload
    wait_for "k3s.service active" active k3s.service
    local rec=/run/k3s-standin/server
    grep -qx 'hello.yaml [0-9]*' <(ct cat $rec/manifests) || fail "manifest not applied: $(ct cat $rec/manifests)"
    grep -qx 'helmchart.yaml [0-9]*' <(ct cat $rec/manifests) || fail "HelmChart not applied"
    grep -qx 'hello-image.tar [0-9]*' <(ct cat $rec/images) || fail "image archive not imported: $(ct cat $rec/images)"
    ct test -s /var/lib/rancher/k3s/server/static/charts/hello-0.1.0.tgz || fail "chart not in static/charts"
    grep -q '^/etc/rancher/k3s/registries.yaml [0-9]' <(ct cat $rec/registries) || fail "registries.yaml not read"
    [ "$(ct stat -c %a /etc/rancher/k3s/registries.yaml)" = 600 ] || fail "registries.yaml with credentials not 0600"
    ! ct runuser -u nobody -- cat /etc/rancher/k3s/registries.yaml >/dev/null 2>&1 || fail "nobody reads the credentials"
    no_failed_units
    shutdown
}

# Two devices flashed from one image: each makes its own node id and node password on first boot.
test_two_flashed_copies_boot_with_distinct_node_names_and_passwords__standin_k3s() {
    local f
    for f in /etc/rancher/node/password /etc/rancher/node/id; do
        [ ! -e "$IMAGE$f" ] && [ ! -e "$BASE$f" ] || fail "$f is in the image"
    done
    [ ! -s "$BASE/etc/machine-id" ] || fail "the image has a machine-id"
    # (The container's machine-id comes from systemd-nspawn, not from a first-boot generation: not compared here;
    # that OE-Core leaves it empty in the image is a real-BitBake row, machine-id-empty.)
    local -A name pass
    for dev in flash1 flash2; do
        boot $dev
        wait_for "k3s.service active ($dev)" active k3s.service
        grep -qx -- '--with-node-id=true' <(ct cat /run/k3s-standin/server/argv | tr '\0' '\n') || fail "no --with-node-id"
        name[$dev]=$(ct cat /run/k3s-standin/server/node-name)
        pass[$dev]=$(ct cat /etc/rancher/node/password)
        [ "$(ct stat -c %a /etc/rancher/node/password)" = 600 ] || fail "password mode"
        [[ ${name[$dev]} =~ ^node-[0-9a-f]{8}$ ]] || fail "node name ${name[$dev]}: not <hostname>-<id>"
        no_failed_units
        shutdown
    done
    [ "${name[flash1]}" != "${name[flash2]}" ] || fail "both copies are ${name[flash1]}"
    [ "${pass[flash1]}" != "${pass[flash2]}" ] || fail "both copies have one node password"
    # The identity is the device's: the same name after a reboot.
    reboot flash1
    wait_for "k3s.service active (flash1, second boot)" active k3s.service
    [ "$(ct cat /run/k3s-standin/server/node-name)" = "${name[flash1]}" ] || fail "node name changed at reboot"
    shutdown
}

test_read_only_root_without_data_partition_fails__standin_k3s() {
    export BOOT_READ_ONLY=1
    CT_POWEROFF_CMD=(systemctl start poweroff.target --job-mode=replace-irreversibly --no-block)
    boot rofail
    wait_for "k3s.service fails on a read-only /etc" sh -c \
        "nsenter -t $CT_PID1 -a journalctl -u k3s.service -o cat | grep -q 'Read-only file system'"
    ! active k3s.service || fail "k3s started on a read-only root without a data partition"
    shutdown
}

test_read_only_root_with_bound_data_dir_starts_the_units__standin_k3s() {
    local data=$CT_WORK/rodata-partition
    mkdir -p "$data"
    CT_NSPAWN_EXTRA=("--bind=$data:/data")
    export BOOT_READ_ONLY=1
    CT_POWEROFF_CMD=(systemctl start poweroff.target --job-mode=replace-irreversibly --no-block)
    BOOT_IMAGE=$IMAGE_RO boot rodata
    wait_for "k3s.service active" active k3s.service
    ! ct touch /etc/rancher/k3s/probe 2>/dev/null || fail "the root is writable"
    local out
    out=$(ct systemd-analyze verify k3s-data-prepare.service var-lib-rancher.mount etc-rancher-node.mount \
        var-lib-kubelet.mount var-lib-cni.mount 2>&1) || fail "verify: $out"
    out=$(grep -E 'k3s|var-lib|etc-rancher' <<<"$out" || true)
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    local m
    for m in var-lib-rancher etc-rancher-node var-lib-kubelet var-lib-cni; do
        active $m.mount || fail "$m.mount not active"
    done
    [ "$(ct findmnt -n -o TARGET --target /var/lib/rancher/k3s/agent)" = /var/lib/rancher ] || fail "agent state not on the bind"
    # The archive the image ships was copied onto the partition before the bind hid it, and k3s finds it there.
    local want
    want=$(cat "$CT_WORK/bb-ro/airgap/checked.sha256")
    [ "$(sha256sum "$data/k3s-state/var-lib-rancher/k3s/agent/images/$ARCHIVE" | cut -d' ' -f1)" = "$want" ] \
        || fail "archive not seeded onto the data partition"
    grep -q "^$ARCHIVE " <(ct cat /run/k3s-standin/server/images) || fail "k3s does not see the archive"
    [ -s "$data/k3s-state/etc-rancher-node/password" ] || fail "node password not on the data partition"
    ct test -s /var/lib/rancher/k3s/k3s.yaml || fail "kubeconfig not under the state"
    local name
    name=$(ct cat /run/k3s-standin/server/node-name)
    node_state_present
    ct systemctl stop k3s.service
    CNI_DIR_KEPT=1 node_state_absent "after systemctl stop k3s (read-only root)"
    # k3s-clean's failures are logged, not fatal (ExecStopPost=-): a mounted /var/lib/cni must not be one.
    case "$(ct journalctl -u k3s.service -o cat)" in *"remove /var/lib/cni: "*) fail "k3s-clean: $(ct journalctl -u k3s.service -o cat | grep 'remove /var/lib/cni: ')" ;; esac
    no_failed_layer_units
    shutdown
    # A fresh (read-only) root over the same partition: an A/B switch keeps the node.
    BOOT_IMAGE=$IMAGE_RO boot rodata2
    wait_for "k3s.service active (second root)" active k3s.service
    [ "$(ct cat /run/k3s-standin/server/node-name)" = "$name" ] || fail "node name changed with the root"
    case "$(ct journalctl -u k3s-data-prepare.service -o cat)" in *copied*) fail "seeded again" ;; esac
    no_failed_layer_units
    shutdown
}

# --- run ----------------------------------------------------------------------------------------------------------
passed=0
failed=()
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
    if [ -n "${K3S_SYSTEMD_TESTS:-}" ] && ! grep -qw -- "${t#test_}" <<<"$K3S_SYSTEMD_TESTS"; then continue; fi
    start=$SECONDS
    if ( set -euo pipefail; "$t" ) > "$CT_WORK/$t.log" 2>&1; then
        echo "ok   ${t#test_} ($((SECONDS - start)) s)"
        passed=$((passed + 1))
    else
        echo "FAIL ${t#test_} ($((SECONDS - start)) s)"
        sed 's/^/    /' "$CT_WORK/$t.log" | tail -40
        failed+=("${t#test_}")
    fi
    ct_cleanup_all
done
echo "systemd suite: $passed passed, ${#failed[@]} failed ($SECONDS s in all)"
[ ${#failed[@]} -eq 0 ]
