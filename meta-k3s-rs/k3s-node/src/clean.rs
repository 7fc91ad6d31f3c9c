//! Cleanup of a node's k3s runtime state: what `k3s-clean` and `k3s-killall.sh` do.
//!
//! Order matters: processes first (a live shim re-creates mounts and holds namespaces), then mounts deepest
//! first, then the pod network namespaces they pinned, then links, firewall rules and CNI state. Every step reads
//! the current state, so running it twice does nothing the second time. A failed action does not stop the rest:
//! cleanup does as much as it can and then reports what failed.
//!
//! On an image root ([`Node::Image`]) only the files below it are cleaned (pod network namespace files, CNI
//! state): the processes, mounts, links, firewall and systemd manager this process sees are the build host's.

use crate::firewall;
use crate::mounts;
use crate::netlink::Netlink;
use crate::node::Node;
use crate::procs;
use crate::server;
use crate::sys;
use crate::systemd::Systemd;
use k3s_model::{net, paths, units};
use rustix::io::Errno;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// First link group tried for batched deletion (an arbitrary value far from the groups people assign by hand).
const CLEANUP_LINK_GROUP: u32 = 0x6b33_0000;

/// What to clean and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The live node, or an image root (its files only).
    pub node: Node,
    /// Where processes are listed (`/proc`); not consulted for an image root.
    pub proc_dir: PathBuf,
    /// Print the plan instead of acting.
    pub dry_run: bool,
    /// Clean even next to a live k3s server.
    pub force: bool,
    /// Stop the k3s units first (`k3s-killall.sh`).
    pub stop_units: bool,
}

impl Options {
    /// Options for the live node.
    pub fn live() -> Self {
        Options { node: Node::Live, proc_dir: "/proc".into(), dry_run: false, force: false, stop_units: false }
    }

    fn under(&self, abs: &str) -> PathBuf {
        self.node.path(abs)
    }
}

/// Why cleanup stopped or what it could not do.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// A k3s server runs here and `--force` was not given.
    #[error(
        "refusing to clean up: {0}; cleanup would tear down the server's own pod network (cni0, flannel, \
         KUBE-/CNI- rules). Stop the server first or pass --force"
    )]
    ServerActive(String),
    /// Some actions failed; the others were done.
    #[error("cleanup incomplete, {} action(s) failed:\n  {}", .0.len(), .0.join("\n  "))]
    Incomplete(Vec<String>),
}

/// Counts of what was done (or, in a dry run, would be).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Processes killed.
    pub killed: usize,
    /// Mounts unmounted.
    pub unmounted: usize,
    /// Network namespaces deleted.
    pub netns: usize,
    /// Links deleted.
    pub links: usize,
    /// Firewall lines removed.
    pub firewall: usize,
    /// Directory trees removed.
    pub trees: usize,
}

struct Run<'a> {
    opts: &'a Options,
    out: &'a mut dyn Write,
    failed: Vec<String>,
    summary: Summary,
}

impl Run<'_> {
    fn say(&mut self, what: std::fmt::Arguments<'_>) {
        let prefix = if self.opts.dry_run { "would " } else { "" };
        let _ = writeln!(self.out, "{prefix}{what}");
    }

    fn fail(&mut self, what: String) {
        let _ = writeln!(self.out, "error: {what}");
        self.failed.push(what);
    }

    fn processes(&mut self) {
        let victims = procs::shim_trees(&procs::list(&self.opts.proc_dir), sys::Pid::me());
        for p in &victims {
            self.say(format_args!("kill {} ({})", p.pid, p.comm));
            if !self.opts.dry_run
                && let Err(e) = sys::kill9(p.pid)
            {
                self.fail(format!("kill {}: {e}", p.pid));
            }
        }
        self.summary.killed += victims.len();
        if self.opts.dry_run {
            return;
        }
        // Wait for the kills to land before unmounting what the processes held.
        let deadline = Instant::now() + Duration::from_secs(5);
        for p in &victims {
            while !procs::is_dead(&self.opts.proc_dir, p.pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    fn doomed_mounts(&self) -> Vec<PathBuf> {
        let roots: Vec<PathBuf> = paths::CLEANUP_MOUNT_ROOTS.iter().map(|r| self.opts.under(r)).collect();
        let netns_dir = self.opts.under(paths::NETNS_DIR);
        let all = match mounts::current() {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        };
        let doomed = all
            .into_iter()
            .filter(|m| {
                roots.iter().any(|r| mounts::is_under(m, r))
                    || (m.parent() == Some(netns_dir.as_path())
                        && m.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(net::POD_NETNS_PREFIX)))
            })
            .collect();
        mounts::deepest_first(doomed)
    }

    fn mounts(&mut self) {
        // Unmounting can reveal mounts that were stacked underneath; go again until nothing is left.
        for _round in 0..16 {
            let doomed = self.doomed_mounts();
            if doomed.is_empty() {
                return;
            }
            let mut progress = false;
            for m in &doomed {
                self.say(format_args!("unmount {}", m.display()));
                self.summary.unmounted += 1;
                if self.opts.dry_run {
                    continue;
                }
                match sys::unmount(m) {
                    Ok(()) => progress = true,
                    Err(e) if sys::is_errno(&e, Errno::INVAL) || sys::is_errno(&e, Errno::NOENT) => {
                        // Already gone with a parent that was detached.
                        progress = true
                    }
                    Err(e) => self.fail(format!("unmount {}: {e}", m.display())),
                }
            }
            if self.opts.dry_run || !progress {
                return;
            }
        }
    }

    fn netns(&mut self) {
        let dir = self.opts.under(paths::NETNS_DIR);
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(net::POD_NETNS_PREFIX)))
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names {
            self.say(format_args!("delete netns {}", p.display()));
            self.summary.netns += 1;
            if !self.opts.dry_run
                && let Err(e) = std::fs::remove_file(&p)
            {
                self.fail(format!("delete netns {}: {e}", p.display()));
            }
        }
    }

    fn links(&mut self) {
        let mut nl = match Netlink::open() {
            Ok(nl) => nl,
            Err(e) => return self.fail(format!("netlink: {e}")),
        };
        let links = match nl.links() {
            Ok(l) => l,
            Err(e) => return self.fail(format!("netlink: list links: {e}")),
        };
        let bridge = links.iter().find(|l| l.name == net::CNI_BRIDGE).map(|l| l.index);
        let mut doomed: Vec<(&str, u32, &str)> = Vec::new();
        for l in &links {
            if bridge.is_some() && l.master == bridge && l.kind.as_deref() == Some("veth") {
                doomed.push((&l.name, l.index, "veth on cni0"));
            }
        }
        for l in &links {
            if l.name == net::CNI_BRIDGE {
                doomed.push((&l.name, l.index, "CNI bridge"));
            } else if net::FLANNEL_INTERFACES.contains(&l.name.as_str()) {
                doomed.push((&l.name, l.index, "flannel"));
            }
        }
        let doomed: Vec<(String, u32, &str)> = doomed.into_iter().map(|(n, i, w)| (n.to_string(), i, w)).collect();
        for (name, _, why) in &doomed {
            self.say(format_args!("delete link {name} ({why})"));
        }
        self.summary.links += doomed.len();
        if self.opts.dry_run || doomed.is_empty() {
            return;
        }
        // One batch through a link group nobody uses: deleting links one by one costs the kernel's teardown grace
        // periods once per link (tens of ms each), which dominates cleanup on a node with many pods.
        let used: std::collections::BTreeSet<u32> = links.iter().map(|l| l.group).collect();
        let batched = (CLEANUP_LINK_GROUP..CLEANUP_LINK_GROUP + 64).find(|g| !used.contains(g)).is_some_and(|group| {
            doomed.iter().all(|(_, index, _)| nl.set_group(*index, group).is_ok()) && nl.delete_group(group).is_ok()
        });
        // Per link: the fallback when batching failed, and the check that nothing is left either way.
        let left: Vec<u32> = match nl.links() {
            Ok(now) => now.iter().map(|l| l.index).collect(),
            Err(_) => doomed.iter().map(|(_, i, _)| *i).collect(),
        };
        for (name, index, _) in doomed {
            if (!batched || left.contains(&index))
                && let Err(e) = nl.delete(index)
            {
                self.fail(format!("delete link {name}: {e}"));
            }
        }
    }

    fn firewall(&mut self) {
        let mut warnings = Vec::new();
        let pending = firewall::plan(&mut |w| warnings.push(w));
        for w in warnings {
            let _ = writeln!(self.out, "warning: {w}");
        }
        for p in pending {
            self.say(format_args!("remove {} k3s rule/chain line(s) from {}", p.removed, p.name));
            self.summary.firewall += p.removed;
            if !self.opts.dry_run
                && let Err(e) = p.backend.restore(&p.filtered)
            {
                self.fail(crate::errors::chain(&e));
            }
        }
    }

    fn trees(&mut self) {
        let cni = self.opts.under(paths::CNI_STATE_DIR);
        if std::fs::symlink_metadata(&cni).is_ok() {
            self.say(format_args!("remove {}", cni.display()));
            self.summary.trees += 1;
            if !self.opts.dry_run
                && let Err(e) = remove_tree_one_fs(&cni)
            {
                self.fail(format!("remove {}: {e}", cni.display()));
            }
        }
    }
}

/// Cleans the node. `out` receives one line per action.
pub fn run(opts: &Options, systemd: &mut dyn Systemd, out: &mut dyn Write) -> Result<Summary, CleanError> {
    let live = opts.node.is_live();
    if opts.stop_units && live {
        for unit in [units::AGENT_SERVICE, units::SERVER_SERVICE] {
            if systemd.is_active(unit) {
                let prefix = if opts.dry_run { "would " } else { "" };
                let _ = writeln!(out, "{prefix}stop {unit}");
                if !opts.dry_run
                    && let Err(e) = systemd.stop(unit)
                {
                    let _ = writeln!(out, "warning: {}", crate::errors::chain(&e));
                }
            }
        }
    }
    // A server on the build host does not make an image root's files its own.
    if live
        && !opts.force
        && let Some(reason) = server::detect(&opts.proc_dir, systemd)
    {
        if !opts.dry_run {
            return Err(CleanError::ServerActive(reason));
        }
        let _ = writeln!(out, "note: {reason}; a real run refuses without --force");
    }
    let mut run = Run { opts, out, failed: Vec::new(), summary: Summary::default() };
    if live {
        run.processes();
        run.mounts();
    }
    run.netns();
    if live {
        run.links();
        run.firewall();
    }
    run.trees();
    if run.failed.is_empty() { Ok(run.summary) } else { Err(CleanError::Incomplete(run.failed)) }
}

/// Removes a directory tree without crossing into other filesystems or following symlinks: a mount left inside
/// (say, a pod volume) makes this fail instead of deleting the mounted data.
pub fn remove_tree_one_fs(path: &Path) -> std::io::Result<()> {
    let md = std::fs::symlink_metadata(path)?;
    match remove_below(path, md.dev()) {
        // The tree itself is a mount point (K3S_DATA_PARTITION binds /var/lib/cni from a persistent partition):
        // its content is gone, the directory stays for the mount. rmdir says EBUSY, or EROFS when the parent is
        // a read-only root (found by the systemd suite's read-only test).
        Err(e)
            if matches!(e.kind(), std::io::ErrorKind::ResourceBusy | std::io::ErrorKind::ReadOnlyFilesystem)
                && std::fs::read_dir(path)?.next().is_none() =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Removes everything below PATH on its file system except the entries named in KEEP (directly below PATH); PATH
/// itself stays. The agent's old state goes, the image archives an image baked into `agent/images` (airgap
/// images, k3s_workloads) stay: they are not state, and without them an offline node has no images.
pub fn remove_tree_one_fs_keeping(path: &Path, keep: &[&str]) -> std::io::Result<()> {
    let dev = std::fs::symlink_metadata(path)?.dev();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if keep.iter().any(|k| entry.file_name() == *k) {
            continue;
        }
        remove_below(&entry.path(), dev)?;
    }
    Ok(())
}

fn remove_below(path: &Path, dev: u64) -> std::io::Result<()> {
    let md = std::fs::symlink_metadata(path)?;
    if !md.is_dir() {
        return std::fs::remove_file(path);
    }
    if md.dev() != dev {
        return Err(std::io::Error::other(format!("{} is another filesystem (still mounted)", path.display())));
    }
    for entry in std::fs::read_dir(path)? {
        remove_below(&entry?.path(), dev)?;
    }
    std::fs::remove_dir(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::Recorder;

    #[test]
    fn keeping_removes_all_but_the_named_entries() {
        let dir = tempfile::tempdir().unwrap();
        let agent = dir.path().join("agent");
        std::fs::create_dir_all(agent.join("images")).unwrap();
        std::fs::write(agent.join("images/k3s-airgap-images-amd64.tar.zst"), "x").unwrap();
        std::fs::create_dir_all(agent.join("containerd/x")).unwrap();
        std::fs::write(agent.join("client-kubelet.crt"), "c").unwrap();
        remove_tree_one_fs_keeping(&agent, &["images"]).unwrap();
        let left: Vec<_> = std::fs::read_dir(&agent).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["images"]);
        assert!(agent.join("images/k3s-airgap-images-amd64.tar.zst").exists());
    }

    #[test]
    fn refuses_next_to_an_active_server_unit_without_force_on_the_live_node_only() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("var/lib/cni/networks")).unwrap();
        let empty_proc = tempfile::tempdir().unwrap();
        // Live: refused before any action, so the live path touches nothing here.
        let opts = Options { proc_dir: empty_proc.path().into(), ..Options::live() };
        let mut sd = Recorder { active: vec![units::SERVER_SERVICE.into()], ..Default::default() };
        let mut out = Vec::new();
        let err = run(&opts, &mut sd, &mut out).unwrap_err();
        assert!(matches!(err, CleanError::ServerActive(_)), "{err}");
        assert!(out.is_empty(), "nothing done: {}", String::from_utf8_lossy(&out));
        // An image root: the build host's server is not asked about, the image's files are cleaned.
        let opts = Options {
            node: Node::from_root(root.path()).unwrap(),
            proc_dir: empty_proc.path().into(),
            dry_run: false,
            force: false,
            stop_units: true,
        };
        let mut sd = Recorder { active: vec![units::SERVER_SERVICE.into()], ..Default::default() };
        run(&opts, &mut sd, &mut Vec::new()).unwrap();
        assert!(sd.calls.is_empty(), "the running manager is the build host's: {:?}", sd.calls);
        assert!(!root.path().join("var/lib/cni").exists());
    }

    #[test]
    fn dry_run_plans_without_touching() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("var/lib/cni/networks")).unwrap();
        std::fs::create_dir_all(root.path().join("run/netns")).unwrap();
        std::fs::write(root.path().join("run/netns/cni-1234"), b"").unwrap();
        std::fs::write(root.path().join("run/netns/other"), b"").unwrap();
        let empty_proc = tempfile::tempdir().unwrap();
        let opts = Options {
            node: Node::from_root(root.path()).unwrap(),
            proc_dir: empty_proc.path().into(),
            dry_run: true,
            force: false,
            stop_units: false,
        };
        let mut out = Vec::new();
        let s = run(&opts, &mut Recorder::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("would delete netns"), "{text}");
        assert!(text.contains("would remove"), "{text}");
        assert_eq!((s.netns, s.trees), (1, 1));
        assert!(root.path().join("run/netns/cni-1234").exists());
        assert!(root.path().join("var/lib/cni").exists());
    }

    #[test]
    fn remove_tree_does_not_follow_symlinks() {
        let d = tempfile::tempdir().unwrap();
        let keep = d.path().join("keep");
        std::fs::create_dir(&keep).unwrap();
        std::fs::write(keep.join("precious"), b"x").unwrap();
        let tree = d.path().join("cni");
        std::fs::create_dir_all(tree.join("a/b")).unwrap();
        std::os::unix::fs::symlink(&keep, tree.join("a/link")).unwrap();
        remove_tree_one_fs(&tree).unwrap();
        assert!(!tree.exists());
        assert!(keep.join("precious").exists());
    }
}
