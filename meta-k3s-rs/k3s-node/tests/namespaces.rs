//! Cleanup of a fake node built in real private network, mount and PID namespaces (root only).
//! The scenario and its checks are in `fake-node.sh`; this starts it through `unshare`.

mod common;

use std::process::Command;

#[test]
fn cleanup_removes_k3s_state_and_keeps_decoys_in_real_namespaces() {
    if !common::root_or_explicit_skip("cleanup_removes_k3s_state_and_keeps_decoys_in_real_namespaces") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-node.sh");
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "bash", script])
        .arg(common::binary())
        .arg(root.path())
        .output()
        .expect("unshare (util-linux) installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("FAKE NODE CLEAN: OK"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
fn agent_and_killall_on_the_live_node_paths_in_real_namespaces() {
    if !common::root_or_explicit_skip("agent_and_killall_on_the_live_node_paths_in_real_namespaces") {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/live-node.sh");
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "bash", script])
        .arg(common::binary())
        .output()
        .expect("unshare (util-linux) installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("LIVE NODE: OK"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}
