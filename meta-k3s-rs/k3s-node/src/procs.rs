//! containerd-shim process trees, found in `/proc` (no `ps`/`pgrep`).

use crate::sys::Pid;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Name prefix of containerd's shims (`containerd-shim-runc-v2`; the kernel truncates `comm` to 15 bytes).
pub const SHIM_PREFIX: &str = "containerd-shim";

/// A process seen in `/proc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    /// Process id.
    pub pid: Pid,
    /// Parent process id (0 for the namespace's init and kernel threads).
    pub ppid: i32,
    /// `comm` (short name).
    pub comm: String,
    /// State letter (`Z` for a zombie).
    pub state: char,
}

/// Parses `/proc/PID/stat`: `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
pub fn parse_stat(stat: &str) -> Option<Proc> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let pid = stat.get(..open)?.trim().parse().ok()?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Proc { pid, ppid, comm, state })
}

/// Every process in `proc_dir`.
pub fn list(proc_dir: &Path) -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| parse_stat(&s))
        .collect()
}

/// The shims and all their descendants (zombies excluded: they are dead already), parents first, never `me`.
pub fn shim_trees(procs: &[Proc], me: Pid) -> Vec<Proc> {
    let mut children: BTreeMap<i32, Vec<&Proc>> = BTreeMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut queue: Vec<&Proc> = procs.iter().filter(|p| p.comm.starts_with(SHIM_PREFIX)).collect();
    while let Some(p) = queue.pop() {
        if p.pid == me || !seen.insert(p.pid.get()) {
            continue;
        }
        if p.state != 'Z' {
            out.push(p.clone());
        }
        queue.extend(children.get(&p.pid.get()).into_iter().flatten());
    }
    out
}

/// Whether `pid` is gone or a zombie.
pub fn is_dead(proc_dir: &Path, pid: Pid) -> bool {
    match std::fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")) {
        Ok(s) => parse_stat(&s).is_none_or(|p| p.state == 'Z' || p.state == 'X'),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: i32) -> Pid {
        Pid::new(n).unwrap()
    }

    fn p(n: i32, ppid: i32, comm: &str) -> Proc {
        Proc { pid: pid(n), ppid, comm: comm.into(), state: 'S' }
    }

    #[test]
    fn stat_with_odd_comm() {
        let s = "1234 (a (b) c) S 1 1234 1234 0 -1";
        assert_eq!(parse_stat(s), Some(Proc { pid: pid(1234), ppid: 1, comm: "a (b) c".into(), state: 'S' }));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("-1 (x) S 1"), None, "no process has pid -1");
        assert_eq!(parse_stat("0 (x) S 1"), None);
    }

    #[test]
    fn collects_whole_shim_trees_only() {
        let procs = vec![
            p(1, 0, "init"),
            p(10, 1, "containerd-shim"),
            p(11, 10, "pause"),
            p(12, 10, "nginx"),
            p(13, 12, "worker"),
            p(20, 1, "sshd"),
            p(21, 20, "bash"),
        ];
        let mut pids: Vec<i32> = shim_trees(&procs, pid(99)).iter().map(|p| p.pid.get()).collect();
        pids.sort();
        assert_eq!(pids, vec![10, 11, 12, 13]);
    }
}
