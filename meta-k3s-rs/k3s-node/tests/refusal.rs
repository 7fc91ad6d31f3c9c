//! Refusal next to a live k3s server: a real process whose command line is `k3s server ...` runs while
//! k3s-agent and k3s-clean are started on the live node (refused), and on an image root (not refused: the server
//! is the build host's, and nothing live is touched). Own test binary, so the fake server never overlaps other tests; and its
//! own PID namespace (the scenario re-runs this binary under `unshare --pid --mount-proc`), so a process named
//! `k3s server` elsewhere on the machine never decides the result (root only).
//!
//! The fake server is this test binary re-executed with argv `k3s server --exact fake_server_idle --ignored`:
//! libtest runs only the ignored `fake_server_idle`, which idles while `K3S_NODE_FAKE_SERVER` is set. Not under
//! qemu-user: there /proc shows qemu's command line, not the emulated one (the cross run skips this file).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

#[test]
#[ignore = "helper: the fake k3s server process, started by the other tests"]
fn fake_server_idle() {
    if std::env::var_os("K3S_NODE_FAKE_SERVER").is_some() {
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}

struct FakeServer(Child);

impl FakeServer {
    fn start() -> Self {
        let child = Command::new(std::env::current_exe().unwrap())
            .arg0("k3s")
            .args(["server", "--exact", "fake_server_idle", "--ignored"])
            .env("K3S_NODE_FAKE_SERVER", "1")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the process shows its final command line.
        let cmdline = format!("/proc/{}/cmdline", child.id());
        for _ in 0..500 {
            if std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(b"k3s\0server\0")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        FakeServer(child)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn agent_and_clean_refuse_next_to_a_server_process_unless_forced() {
    if !common::root_or_explicit_skip("agent_and_clean_refuse_next_to_a_server_process_unless_forced") {
        return;
    }
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--mount-proc", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "refusal_in_own_pid_namespace", "--ignored", "--nocapture", "--test-threads=1"])
        .env("K3S_NODE_IN_OWN_PIDNS", "1")
        .output()
        .expect("unshare (util-linux) installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("REFUSAL: OK"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
#[ignore = "helper: the scenario, run in its own PID namespace by the test above"]
fn refusal_in_own_pid_namespace() {
    if std::env::var_os("K3S_NODE_IN_OWN_PIDNS").is_none() {
        return;
    }
    // In a new PID namespace this process sees only itself and its children.
    assert!(std::fs::read_to_string("/proc/1/comm").is_ok_and(|c| c.trim() != "systemd"), "not in an own PID ns");
    // The live paths write below /etc: an overlay in this private mount namespace keeps the host's untouched.
    let etc = tempfile::tempdir().unwrap();
    for d in ["upper", "work"] {
        std::fs::create_dir(etc.path().join(d)).unwrap();
    }
    let opts = format!("lowerdir=/etc,upperdir={0}/upper,workdir={0}/work", etc.path().display());
    let mounted = Command::new("mount").args(["-t", "overlay", "etc", "-o", &opts, "/etc"]).status().unwrap();
    assert!(mounted.success(), "overlay over /etc");
    // systemd is not PID 1 here: `systemctl` is a fake on PATH that records its calls.
    let fake = tempfile::tempdir().unwrap();
    let log = fake.path().join("log");
    let script = format!("#!/bin/sh\necho \"$*\" >> {}\nexit 0\n", log.display());
    std::fs::write(fake.path().join("systemctl"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fake.path().join("systemctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", fake.path().display(), std::env::var("PATH").unwrap_or_default());
    let tool = |name: &str| {
        let mut c = common::tool(name);
        c.env("PATH", &path);
        c
    };
    let dropin = std::path::Path::new("/etc/systemd/system/k3s-agent.service.d/10-env.conf");
    let image = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(image.path().join("var/lib/cni/networks")).unwrap();
    let server = FakeServer::start();

    // The live node: refused, nothing written or cleaned.
    let out = tool("agent").args(["--no-start", "-t", "tok", "-s", "https://h:6443"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refusing") && err.contains(&format!("process {}", server.0.id())), "{err}");
    assert!(!dropin.exists(), "nothing written");
    let out = tool("clean").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refusing to clean up"), "{err}");
    assert!(!log.exists(), "no systemctl call changed anything");

    // An image root: the build host's server is no reason to refuse, and it keeps running.
    let out =
        tool("agent").args(["--no-start", "-t", "tok", "-s", "https://h:6443", "--root"]).arg(image.path()).output();
    let out = out.unwrap();
    assert!(out.status.success(), "image root: {}", String::from_utf8_lossy(&out.stderr));
    assert!(image.path().join("etc/systemd/system/k3s-agent.service.d/10-env.conf").exists());
    let out = tool("clean").arg("--root").arg(image.path()).output().unwrap();
    assert!(out.status.success(), "image root: {}", String::from_utf8_lossy(&out.stderr));
    assert!(!image.path().join("var/lib/cni").exists(), "the image's CNI state is removed");
    assert!(std::path::Path::new(&format!("/proc/{}", server.0.id())).exists(), "the server was left alone");
    assert!(!dropin.exists(), "the live node untouched");

    // The live node with --force: goes ahead.
    let out = tool("agent").args(["--no-start", "--force", "-t", "tok", "-s", "https://h:6443"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dropin.exists());

    drop(server);
    let out = tool("agent").args(["--no-start", "-t", "tok2", "-s", "https://h:6443"]).output().unwrap();
    assert!(out.status.success(), "server gone: {}", String::from_utf8_lossy(&out.stderr));
    let status = Command::new("umount").arg("/etc").status().unwrap();
    assert!(status.success(), "umount /etc");
    println!("REFUSAL: OK");
}
