# Helpers of the systemd (PID 1) suite (.ci/test.d/70-systemd.sh): boot a root file system with systemd-nspawn,
# run commands in it through nsenter, shut it down, and remove every process and cgroup the suite made.
#
# systemd-nspawn without D-Bus on the host needs --register=no --keep-unit (no machined); commands go through
# nsenter into the container's namespaces (no machinectl). Each boot runs in cgroups of its own, which
# `ct_cleanup_all` empties and removes: under /sys/fs/cgroup/{systemd,unified}/ on a hybrid host (the CI machines),
# under /sys/fs/cgroup/ on a unified (cgroup v2 only) one.
ct_hierarchies() {
    if [ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/systemd ]; then
        echo /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
    elif [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        echo /sys/fs/cgroup
    else
        ct_log "no usable cgroup hierarchy under /sys/fs/cgroup"
        return 1
    fi
}

# CT_WORK: the suite's work directory (mounts below it are removed by ct_cleanup_all).
# CT_NSPAWN_EXTRA: more systemd-nspawn options for the next ct_boot (e.g. --read-only, --bind=SRC:DEST).
CT_NSPAWN_EXTRA=()

ct_log() { echo "[systemd-suite] $*" >&2; }

# ct_boot NAME ROOT LOG [ARGS FOR PID 1...]: boots ROOT; sets CT_PID1 and CT_NSPAWN.
ct_boot() {
    local name=$1 root=$2 log=$3
    shift 3
    local cg="k3s-suite-$$-$name-$RANDOM"
    local h hierarchies
    hierarchies=$(ct_hierarchies)
    for h in $hierarchies; do
        mkdir -p "$h/$cg"
    done
    (
        for h in $hierarchies; do echo "$BASHPID" > "$h/$cg/cgroup.procs"; done
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec setsid systemd-nspawn -q -D "$root" --boot --register=no \
            --keep-unit --console=pipe --private-network "${CT_NSPAWN_EXTRA[@]}" -M "$name" "$@" </dev/null >"$log" 2>&1
    ) &
    CT_NSPAWN=$!
    CT_PID1=
    local i
    for i in $(seq 300); do
        CT_PID1=$(ct_find_pid1 "$CT_NSPAWN")
        if [ -n "$CT_PID1" ] && nsenter -t "$CT_PID1" -m test -S /run/systemd/private 2>/dev/null; then
            break
        fi
        kill -0 "$CT_NSPAWN" 2>/dev/null || { cat "$log" >&2; ct_log "$name: systemd-nspawn exited"; return 1; }
        sleep 0.1
    done
    [ -n "$CT_PID1" ] || { cat "$log" >&2; ct_log "$name: no PID 1"; return 1; }
    # `--wait` returns once the boot is done: running, or degraded when a unit failed (tests check which).
    timeout 120 nsenter -t "$CT_PID1" -a systemctl is-system-running --wait >/dev/null 2>&1 || true
}

# The container's PID 1: the child of nspawn whose comm is systemd.
ct_find_pid1() {
    local c
    for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ]; then echo "$c"; return; fi
    done
}

# ct CMD...: runs CMD inside the booted container (all its namespaces, root).
ct() { nsenter -t "$CT_PID1" -a "$@"; }

# ct_poweroff: clean shutdown; returns nspawn's exit status (0 when systemd powered off in time).
# CT_POWEROFF_CMD: how ct_poweroff asks PID 1 (default `systemctl poweroff`, which goes through logind first; where
# logind cannot run, e.g. on a read-only root, start poweroff.target as systemctl would without it).
CT_POWEROFF_CMD=(systemctl poweroff)
ct_poweroff() {
    ct "${CT_POWEROFF_CMD[@]}" >/dev/null 2>&1 || true
    local i
    for i in $(seq 1200); do
        kill -0 "$CT_NSPAWN" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CT_NSPAWN" 2>/dev/null; then
        ct_log "poweroff did not finish in 120 s"
        return 1
    fi
    wait "$CT_NSPAWN"
}

# Every process, cgroup and mount the suite made, pass or fail (the EXIT trap; also between tests). Found by name
# (cgroups k3s-suite-<suite pid>-*, mounts below CT_WORK), so containers booted in a test's subshell are found too.
ct_cleanup_all() {
    local h cg pid pids
    for h in $(ct_hierarchies); do
        for cg in "$h"/k3s-suite-$$-*; do
            [ -d "$cg" ] || continue
            for _ in $(seq 20); do
                pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
                [ -n "$pids" ] || break
                for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
                sleep 0.1
            done
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ ! -d "$cg" ] || ct_log "cgroup $cg could not be removed"
        done
    done
    if [ -n "${CT_WORK:-}" ]; then
        # Deepest first; the container's own mounts below ROOT went with its mount namespace.
        awk -v w="$CT_WORK/" '$5 ~ "^"w { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
            umount -l "$m" 2>/dev/null || true
        done
    fi
}

# ct_overlay MERGED UPPER LOWER...: a writable view of read-only lowers (LOWER first wins).
ct_overlay() {
    local merged=$1 upper=$2
    shift 2
    local lowers
    lowers=$(IFS=:; echo "$*")
    mkdir -p "$merged" "$upper" "$upper.work"
    mount -t overlay overlay -o "lowerdir=$lowers,upperdir=$upper,workdir=$upper.work" "$merged"
}
