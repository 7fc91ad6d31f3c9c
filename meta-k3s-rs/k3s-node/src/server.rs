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

/// Why a server counts as live (or may be: fails closed), or `None`. `proc_dir` is the proc file system of the
/// PID namespace to look at, normally `/proc`; tests give their own.
///
/// When the processes cannot be listed (no proc mounted, an unreadable directory, a listing without a single
/// process, which a mounted proc never is since it shows the caller) the answer is "cannot tell", which the
/// callers treat like a live server: refusing wrongly costs a `--force`; going ahead wrongly breaks a server.
pub fn detect(proc_dir: &Path, systemd: &mut dyn Systemd) -> Option<String> {
    if systemd.is_active(SERVER_SERVICE) {
        return Some(format!("{SERVER_SERVICE} is active"));
    }
    let cannot = |why: String| Some(format!("cannot tell whether a k3s server runs here ({why})"));
    let me = std::process::id().to_string();
    let entries = match std::fs::read_dir(proc_dir) {
        Ok(e) => e,
        Err(e) => return cannot(format!("{}: {e}", proc_dir.display())),
    };
    let mut processes = 0usize;
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return cannot(format!("{}: {e}", proc_dir.display())),
        };
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        processes += 1;
        if pid == me {
            continue;
        }
        let cmdline = match std::fs::read(entry.path().join("cmdline")) {
            Ok(c) => c,
            // The process exited between the listing and the read (ESRCH from a dying task's files).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || crate::sys::is_errno(&e, rustix::io::Errno::SRCH) => {
                continue;
            }
            Err(e) => return cannot(format!("{}: {e}", entry.path().join("cmdline").display())),
        };
        if is_server_cmdline(&cmdline) {
            let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            return Some(format!("process {pid} ({}) is a k3s server", shown.trim_end()));
        }
    }
    if processes == 0 {
        return cannot(format!("{} lists no process: not a mounted proc file system", proc_dir.display()));
    }
    None
}

/// A proc directory holding `(pid, cmdline)` processes, for tests.
#[cfg(test)]
pub(crate) fn fake_proc(procs: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (pid, cmdline) in procs {
        std::fs::create_dir(d.path().join(pid)).unwrap();
        std::fs::write(d.path().join(pid).join("cmdline"), cmdline).unwrap();
    }
    d
}

/// A proc directory of a quiet node (init and a shell).
#[cfg(test)]
pub(crate) fn quiet_proc() -> tempfile::TempDir {
    fake_proc(&[("1", b"/sbin/init\0"), ("7", b"-sh\0")])
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

    #[test]
    fn detection_reads_the_given_proc_and_fails_closed() {
        let mut sd = crate::systemd::Recorder::default();
        let quiet = fake_proc(&[("1", b"/sbin/init\0"), ("7", b"sshd\0")]);
        assert_eq!(detect(quiet.path(), &mut sd), None);
        let server = fake_proc(&[("1", b"/sbin/init\0"), ("42", b"/usr/bin/k3s\0server\0")]);
        assert!(detect(server.path(), &mut sd).unwrap().contains("process 42"));
        let empty = tempfile::tempdir().unwrap();
        assert!(detect(empty.path(), &mut sd).unwrap().contains("cannot tell"), "no process listed");
        assert!(detect(&empty.path().join("missing"), &mut sd).unwrap().contains("cannot tell"), "unreadable");
    }
}
