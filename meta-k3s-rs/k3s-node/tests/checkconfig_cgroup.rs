//! `k3s-check-config` inside a container whose cgroup has no controllers (root only): a real cgroup v2 hierarchy,
//! mounted in the test's own mount namespace, a cgroup created for the test with nothing delegated to it, and the
//! tool started in its own cgroup namespace there, as a container runtime would start it. /proc/cgroups still lists
//! every controller as enabled; the tool must report them missing. The cgroups are removed, pass or fail.

mod common;

use std::process::Command;

const SCRIPT: &str = r#"
set -eu
tool=$1 config=$2
mount -t tmpfs none /sys/fs/cgroup          # hide the host's cgroup mounts (v1 and v2) in this namespace
mount -t cgroup2 none /sys/fs/cgroup        # the whole v2 hierarchy, whatever mode the host runs
orig=$(sed -n 's/^0:://p' /proc/self/cgroup)
parent=/sys/fs/cgroup/k3s-check-config-test-$$
cleanup() {
    echo $$ > "/sys/fs/cgroup${orig%/}/cgroup.procs" 2>/dev/null || echo $$ > /sys/fs/cgroup/cgroup.procs
    rmdir "$parent/container" "$parent" 2>/dev/null || true
}
trap cleanup EXIT
mkdir "$parent" "$parent/container"
: > "$parent/cgroup.subtree_control"        # nothing delegated: the container's cgroup offers no controller
echo $$ > "$parent/container/cgroup.procs"
set +e
unshare --cgroup --mount --propagation private sh -c \
    'umount /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$0" check-config --config "$1" --system --json' "$tool" "$config"
echo "exit=$?"
"#;

#[test]
fn check_config_reports_the_controllers_of_its_own_cgroup_in_a_container() {
    if !common::root_or_explicit_skip("check_config_reports_the_controllers_of_its_own_cgroup_in_a_container") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let text: String = k3s_model::kernel::OPTIONS.iter().map(|o| format!("CONFIG_{}=y\n", o.name)).collect();
    std::fs::write(&config, text).unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", SCRIPT, "sh"])
        .arg(common::binary())
        .arg(&config)
        .output()
        .expect("unshare (util-linux) installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for c in k3s_model::kernel::CGROUP_V2_CONTROLLERS {
        assert!(stdout.contains(&format!("{{\"name\":\"{c}\",\"present\":false}}")), "{c}:\n{stdout}\n{stderr}");
        assert!(stdout.contains(&format!("\"cgroup controller {c}\"")), "{c} counts as missing:\n{stdout}");
    }
    assert!(stdout.contains("\"cgroup_v2\":\"/sys/fs/cgroup/cgroup.controllers\""), "{stdout}");
    assert!(stdout.contains("exit=1"), "{stdout}");
    // /proc/cgroups, which the old check read, lists the controllers as enabled all the same.
    let kernel_list = std::fs::read_to_string("/proc/cgroups").unwrap_or_default();
    assert!(kernel_list.lines().any(|l| l.starts_with("memory\t")), "{kernel_list}");
}

/// Routes and ports are read from the tool's own network namespace: one made here, with a route into k3s's
/// default service CIDR and a listener on the API port.
#[test]
fn check_config_sees_route_overlap_and_busy_ports_in_its_own_network_namespace() {
    if !common::root_or_explicit_skip("check_config_sees_route_overlap_and_busy_ports_in_its_own_network_namespace") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "CONFIG_NET_NS=y\n").unwrap();
    let script = r#"
set -eu
ip link set lo up
ip route add 10.43.7.0/24 dev lo
python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 6443)); s.listen(); sys.stdout.write("listening\n"); sys.stdout.flush(); time.sleep(30)' > "$3/ready" &
for _ in $(seq 100); do grep -q listening "$3/ready" 2>/dev/null && break; sleep 0.05; done
"$1" check-config --config "$2" --system --json || true
kill $! 2>/dev/null || true
"#;
    let out = Command::new("unshare")
        .args(["--net", "--fork", "sh", "-c", script, "sh"])
        .arg(common::binary())
        .arg(&config)
        .arg(dir.path())
        .output()
        .expect("unshare (util-linux) installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(
            r#"{"name":"routes","ok":false,"detail":"10.43.7.0/24 on lo overlaps the service CIDR 10.43.0.0/16"}"#
        ),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains(r#"{"name":"ports","ok":false,"detail":"tcp/6443 already in use"#), "{stdout}");
}
