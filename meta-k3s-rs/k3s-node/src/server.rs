//! Is a k3s server live on this node?
//!
//! The agent's reset and the cleanup tear down cni0, flannel and the KUBE-/CNI- rules; on a node that also runs a
//! server (all-in-one) that breaks the server's own pod network. A server counts as live when systemd reports its
//! unit active, or when a `k3s server` process runs (k3s started by hand or by another init). Both are checked
//! because either alone misses a case: a hand-started server has no active unit, and a unit that is activating
//! may not have its process yet.

use crate::systemd::Systemd;
use k3s_model::units::SERVER_SERVICE;
use std::path::Path;

/// Whether a process's command line (NUL-separated, as in `/proc/PID/cmdline`) is a k3s server.
///
/// k3s's units run `k3s server ...`; k3s may also rewrite its title to the single string `k3s server ...`.
pub fn is_server_cmdline(cmdline: &[u8]) -> bool {
    let mut args = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty());
    let Some(argv0) = args.next() else { return false };
    if argv0.starts_with(b"k3s server") {
        return true;
    }
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(argv0);
    if base != b"k3s" && base != b"k3s-server" {
        return false;
    }
    if base == b"k3s-server" {
        return true;
    }
    // The subcommand is the first argument that is not a global flag (`k3s --debug server`).
    args.find(|a| !a.starts_with(b"-")).is_some_and(|a| a == b"server")
}

/// Why a server counts as live, or `None`. `proc_dir` is normally `/proc`.
pub fn detect(proc_dir: &Path, systemd: &mut dyn Systemd) -> Option<String> {
    if systemd.is_active(SERVER_SERVICE) {
        return Some(format!("{SERVER_SERVICE} is active"));
    }
    let me = std::process::id().to_string();
    let entries = std::fs::read_dir(proc_dir).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        if pid == me {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && is_server_cmdline(&cmdline)
        {
            let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            return Some(format!("process {pid} ({}) is a k3s server", shown.trim_end()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_server_command_lines_only() {
        assert!(is_server_cmdline(b"/usr/bin/k3s\0server\0--node-name\0a\0"));
        assert!(is_server_cmdline(b"k3s\0--debug\0server\0"));
        assert!(is_server_cmdline(b"k3s server --cluster-init\0"));
        assert!(!is_server_cmdline(b"/usr/bin/k3s\0agent\0--node-label\0server\0"));
        assert!(!is_server_cmdline(b"/usr/bin/k3s\0kubectl\0get\0server\0"));
        assert!(!is_server_cmdline(b"/usr/bin/k3s-agent\0server\0"));
        assert!(!is_server_cmdline(b""));
    }
}
