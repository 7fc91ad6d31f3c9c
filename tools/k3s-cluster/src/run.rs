//! Running the plan: one QEMU per node, each in its own process group, started and reaped through duct.
//!
//! Teardown (on Ctrl-C/SIGTERM/SIGHUP, on a VM that exits, on any error, and on drop): SIGTERM to every
//! QEMU's process group (QEMU shuts down on it), up to 10 s for each to be reaped, then SIGKILL to what is left
//! of the group and a final wait; the group is checked empty before the VM counts as gone. Own groups also keep
//! Ctrl-C at the terminal from reaching the QEMUs before the runner decides the order.
//!
//! When `k3s-bake` cannot tear down (SIGKILL, the OOM killer), every QEMU still dies with it: each is started with
//! the parent-death signal (`pdeath`), and the next run removes the runtime directory it left (`stale`).

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::kubeconfig;
use crate::pdeath;
use crate::plan::VmPlan;

/// Runner errors.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// QEMU could not be started.
    #[error("starting {program} for {name}: {source}")]
    Spawn {
        /// The node.
        name: String,
        /// The binary.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A VM ended while the cluster should run.
    #[error("{name}: QEMU exited ({status}); its console: {console}, QEMU's messages: {log}")]
    Exited {
        /// The node.
        name: String,
        /// Exit status.
        status: String,
        /// Console log.
        console: PathBuf,
        /// QEMU's own output.
        log: PathBuf,
    },
    /// Waiting on a child failed.
    #[error("waiting for {name}: {source}")]
    Wait {
        /// The node.
        name: String,
        /// Why.
        source: std::io::Error,
    },
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
    /// Writing the kubeconfig failed.
    #[error("{path}: {source}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Stopped by a signal.
    #[error("stopped by a signal")]
    Stopped,
    /// The nodes did not become Ready in time.
    #[error("not every node Ready after {0} s (last `kubectl get nodes`: {1})")]
    Timeout(u64, String),
}

/// A flag set by SIGINT, SIGTERM and SIGHUP.
pub fn stop_flag() -> Result<Arc<AtomicBool>, RunError> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(sig, Arc::clone(&flag)).map_err(RunError::Signals)?;
    }
    Ok(flag)
}

#[derive(Debug)]
struct Vm {
    plan: VmPlan,
    log: PathBuf,
    handle: duct::Handle,
    pgid: Option<Pid>,
}

/// The running cluster; dropping it tears every VM down.
#[derive(Debug)]
pub struct Cluster {
    vms: Vec<Vm>,
}

impl Cluster {
    /// Starts every VM of the plan; on a failure the ones already started are torn down.
    ///
    /// Each QEMU gets SIGKILL when the thread calling this ends ([`crate::pdeath`]): call it from a thread that
    /// lives as long as the cluster (`k3s-bake cluster`: the main thread). duct starts a single command on the
    /// calling thread.
    pub fn start(plans: &[VmPlan], run_dir: &Path) -> Result<Self, RunError> {
        let mut cluster = Cluster { vms: Vec::new() };
        for p in plans {
            let log = run_dir.join(format!("{}.qemu.log", p.name));
            let spawn = |source| RunError::Spawn {
                name: p.name.clone(),
                program: format!("{} (util-linux, to run {} with a parent-death signal)", pdeath::SETPRIV, p.program),
                source,
            };
            let handle = duct::cmd(pdeath::SETPRIV, pdeath::args_for_child(&p.program, &p.args))
                .before_spawn(|c| {
                    c.process_group(0);
                    Ok(())
                })
                .stdin_null()
                .stdout_path(&log)
                .stderr_to_stdout()
                .unchecked()
                .start()
                .map_err(spawn)?;
            // process_group(0): the group id is the child's pid (setpriv, sh and QEMU are one process, exec'd).
            let pgid = handle.pids().first().and_then(|&pid| Pid::from_raw(pid as i32));
            cluster.vms.push(Vm { plan: p.clone(), log, handle, pgid });
        }
        Ok(cluster)
    }

    /// Process group ids of the running VMs (for callers that check nothing is left).
    pub fn process_groups(&self) -> Vec<i32> {
        self.vms.iter().filter_map(|v| v.pgid.map(Pid::as_raw_nonzero).map(|p| p.get())).collect()
    }

    /// An error if a VM has exited.
    pub fn check_running(&self) -> Result<(), RunError> {
        for v in &self.vms {
            let done = v.handle.try_wait().map_err(|source| RunError::Wait { name: v.plan.name.clone(), source })?;
            if let Some(out) = done {
                return Err(RunError::Exited {
                    name: v.plan.name.clone(),
                    status: out.status.to_string(),
                    console: v.plan.console_log.clone(),
                    log: v.log.clone(),
                });
            }
        }
        Ok(())
    }

    /// Stops every VM and waits until none of their process groups has a member left.
    pub fn teardown(&mut self) {
        self.teardown_within(Duration::from_secs(10));
    }

    /// [`Cluster::teardown`] with `grace` between SIGTERM and SIGKILL.
    pub fn teardown_within(&mut self, grace: Duration) {
        for v in &self.vms {
            if let Some(g) = v.pgid {
                let _ = rustix::process::kill_process_group(g, Signal::TERM);
            }
        }
        let deadline = Instant::now() + grace;
        for v in self.vms.drain(..) {
            let reaped = matches!(v.handle.wait_deadline(deadline), Ok(Some(_)));
            if let Some(g) = v.pgid {
                // Whatever is left in the group (QEMU ignoring SIGTERM, a helper it forked) goes now.
                // Bounded: a member reparented to an init that does not reap stays a zombie in the group.
                for _ in 0..250 {
                    if rustix::process::test_kill_process_group(g).is_err() {
                        break;
                    }
                    let _ = rustix::process::kill_process_group(g, Signal::KILL);
                    std::thread::sleep(Duration::from_millis(20));
                    if !reaped {
                        let _ = v.handle.try_wait();
                    }
                }
            }
            if !reaped {
                let _ = v.handle.kill();
                let _ = v.handle.wait();
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Reads the server's kubeconfig from its virtio-serial socket, and writes it (mode 0600, the server address
/// pointed at the forwarded port) to `out`. Returns when written, or when `stop` is set.
pub fn collect_kubeconfig(
    socket: &Path,
    out: &Path,
    api_port: u16,
    stop: &AtomicBool,
) -> Result<Option<PathBuf>, RunError> {
    let kerr = |source| RunError::Kubeconfig { path: out.to_path_buf(), source };
    let mut stream = loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    stream.set_read_timeout(Some(Duration::from_millis(500))).map_err(kerr)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => std::thread::sleep(Duration::from_millis(200)),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                continue;
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(kerr(e)),
        }
        // A quiet port: is what came so far a whole kubeconfig? (A guest may write it more than once; the last
        // complete copy counts.)
        let text = String::from_utf8_lossy(&buf);
        let start = text.rfind("apiVersion:").unwrap_or(0);
        let text = &text[start..];
        if kubeconfig::is_complete(text) {
            k3s_atomic::write(out, kubeconfig::for_host(text, api_port).as_bytes(), k3s_atomic::MODE_SECRET)
                .map_err(kerr)?;
            return Ok(Some(out.to_path_buf()));
        }
    }
}

/// `kubectl get nodes --no-headers` output: every expected node `Ready`?
pub fn all_ready(get_nodes: &str, names: &[String]) -> bool {
    names.iter().all(|n| {
        get_nodes.lines().any(|l| {
            let mut cols = l.split_whitespace();
            cols.next() == Some(n.as_str()) && cols.next() == Some("Ready")
        })
    })
}

/// Polls `kubectl get nodes` until every node is Ready, a VM exits, `stop` is set or `timeout` passes.
pub fn wait_ready(
    cluster: &Cluster,
    kubectl: &Path,
    kubeconfig: &Path,
    names: &[String],
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<(), RunError> {
    let start = Instant::now();
    let mut last = String::from("(none yet)");
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Stopped);
        }
        cluster.check_running()?;
        if kubeconfig.exists() {
            let out = duct::cmd(kubectl, ["--request-timeout=10s", "get", "nodes", "--no-headers"])
                .env("KUBECONFIG", kubeconfig)
                .stdout_capture()
                .stderr_capture()
                .unchecked()
                .run();
            if let Ok(out) = out {
                last = String::from_utf8_lossy(if out.status.success() { &out.stdout } else { &out.stderr })
                    .trim()
                    .to_string();
                if out.status.success() && all_ready(&last, names) {
                    return Ok(());
                }
            }
        }
        if start.elapsed() > timeout {
            return Err(RunError::Timeout(timeout.as_secs(), last));
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_means_every_node_ready() {
        let names = vec!["k3s-server".to_string(), "k3s-agent-1".to_string()];
        let out = "k3s-server    Ready      control-plane,master   2m   v1.36.2+k3s1\n\
                   k3s-agent-1   NotReady   <none>                 5s   v1.36.2+k3s1\n";
        assert!(!all_ready(out, &names));
        assert!(all_ready(&out.replace("NotReady", "Ready"), &names));
        assert!(!all_ready("k3s-server Ready x\n", &names));
        assert!(!all_ready(&out.replace("NotReady", "Ready,SchedulingDisabled"), &names));
    }

    #[test]
    fn teardown_kills_the_whole_group_and_reaps() {
        let dir = tempfile::tempdir().unwrap();
        // A stand-in for QEMU that ignores SIGTERM and leaves a child in its group: both must go.
        let plan = VmPlan {
            name: "n".into(),
            role: crate::plan::Role::Server,
            ip: "192.168.76.10".parse().unwrap(),
            program: "sh".into(),
            args: vec!["-c".into(), "trap '' TERM; sleep 300 & sleep 300".into()],
            console_log: dir.path().join("c"),
            console_socket: dir.path().join("s"),
            cmdline: String::new(),
        };
        let mut c = Cluster::start(&[plan], dir.path()).unwrap();
        let groups = c.process_groups();
        assert_eq!(groups.len(), 1);
        std::thread::sleep(Duration::from_millis(200));
        c.check_running().unwrap();
        c.teardown_within(Duration::from_millis(500));
        let g = Pid::from_raw(groups[0]).unwrap();
        assert!(rustix::process::test_kill_process_group(g).is_err(), "process group {} left", groups[0]);
    }
}
