//! The node state a running k3s leaves behind, made with the system's own tools (this is a test stand-in; the node
//! tools under test must remove exactly this): the `cni0` bridge with a pod's veth whose peer sits in a `cni-`
//! network namespace, `flannel.1` (VXLAN id 1, port 8472), KUBE-/CNI-/FLANNEL chains in filter and nat with
//! the jumps kube-proxy and flannel add, tmpfs mounts where containerd and the kubelet mount (a task rootfs, a pod
//! volume, a snapshot), the CNI IPAM lease directory and a containerd-shim with a container process under it.
//! Every step tolerates what an earlier run left, as k3s does on restart.

use anyhow::{Context, Result, bail};
use k3s_model::{net, paths};
use std::path::Path;
use std::process::{Command, Stdio};

/// The pod the stand-in "runs": its sandbox id names the netns, the task dir and the shim.
const POD_ID: &str = "0123456789ab";
const NETNS: &str = "cni-5f0c2a3e-0000-4000-8000-0123456789ab";
const HOST_VETH: &str = "vethstandin0";

fn run(argv: &[&str]) -> Result<()> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("stand-in k3s: cannot run {}", argv[0]))?;
    if !out.status.success() {
        bail!("stand-in k3s: `{}` failed: {}", argv.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn ok(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

fn chain(table: &str, name: &str, jump_from: Option<(&str, &str)>) -> Result<()> {
    if !ok(&["iptables", "-w", "-t", table, "-S", name]) {
        run(&["iptables", "-w", "-t", table, "-N", name])?;
    }
    if let Some((parent, comment)) = jump_from {
        let rule = ["-m", "comment", "--comment", comment, "-j", name];
        let mut check = vec!["iptables", "-w", "-t", table, "-C", parent];
        check.extend(rule);
        if !ok(&check) {
            let mut add = vec!["iptables", "-w", "-t", table, "-A", parent];
            add.extend(rule);
            run(&add)?;
        }
    }
    Ok(())
}

fn tmpfs(dir: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("stand-in k3s: mkdir {dir}"))?;
    if !ok(&["mountpoint", "-q", dir]) {
        run(&["mount", "-t", "tmpfs", "-o", "size=1m", "k3s-standin", dir])?;
    }
    Ok(())
}

/// Makes the node state (idempotent).
pub fn build() -> Result<()> {
    if !link_exists(net::CNI_BRIDGE) {
        run(&["ip", "link", "add", net::CNI_BRIDGE, "type", "bridge"])?;
    }
    run(&["ip", "link", "set", net::CNI_BRIDGE, "up"])?;
    let netns = Path::new(paths::NETNS_DIR).join(NETNS);
    if !netns.exists() {
        run(&["ip", "netns", "add", NETNS])?;
    }
    if !link_exists(HOST_VETH) {
        run(&["ip", "link", "add", HOST_VETH, "type", "veth", "peer", "name", "eth0", "netns", NETNS])?;
    }
    run(&["ip", "link", "set", HOST_VETH, "master", net::CNI_BRIDGE, "up"])?;
    let flannel = net::FLANNEL_INTERFACES[0];
    if !link_exists(flannel) {
        let id = net::FLANNEL_VXLAN_ID.to_string();
        let port = net::FLANNEL_VXLAN_PORT.to_string();
        run(&["ip", "link", "add", flannel, "type", "vxlan", "id", &id, "dstport", &port, "nolearning"])?;
    }
    chain("filter", "KUBE-FORWARD", Some(("FORWARD", "kubernetes forwarding rules")))?;
    chain("filter", "KUBE-SERVICES", Some(("OUTPUT", "kubernetes service portals")))?;
    chain("filter", "CNI-FORWARD", Some(("FORWARD", "CNI firewall plugin rules")))?;
    chain("nat", "KUBE-POSTROUTING", Some(("POSTROUTING", "kubernetes postrouting rules")))?;
    chain("nat", "FLANNEL-POSTRTG", Some(("POSTROUTING", "flanneld masq")))?;
    let task = format!("{}/containerd/io.containerd.runtime.v2.task/k8s.io/{POD_ID}/rootfs", paths::RUN_DIR);
    tmpfs(&task)?;
    tmpfs(&format!("{}/standin-pod/volumes/kubernetes.io~empty-dir/data", paths::KUBELET_PODS_DIR))?;
    tmpfs(&format!("{}/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1", paths::AGENT_DIR))?;
    let lease = format!("{}/networks/cbr0", paths::CNI_STATE_DIR);
    std::fs::create_dir_all(&lease).with_context(|| format!("stand-in k3s: mkdir {lease}"))?;
    std::fs::write(format!("{lease}/10.42.0.2"), POD_ID).context("stand-in k3s: CNI lease")?;
    start_shim()
}

/// Starts `containerd-shim-runc-v2` (this binary under that name) unless one runs; it outlives k3s like the real
/// shim, which is what KillMode=process and the cleanup drop-in are about.
fn start_shim() -> Result<()> {
    let running = std::fs::read_dir("/proc")
        .context("stand-in k3s: /proc")?
        .flatten()
        .any(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.starts_with("containerd-shim")));
    if running {
        return Ok(());
    }
    Command::new("/usr/bin/containerd-shim-runc-v2")
        .args(["-namespace", "k8s.io", "-id", POD_ID, "-address", "/run/k3s/containerd/containerd.sock"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("stand-in k3s: start the containerd shim")?;
    Ok(())
}

/// The shim: a container process (the pod's "pause") under it, then wait forever.
pub fn shim() -> ! {
    let _ = Command::new("sleep").arg("infinity").stdin(Stdio::null()).spawn();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
