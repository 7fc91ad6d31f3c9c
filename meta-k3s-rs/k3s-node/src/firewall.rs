//! Removing k3s's iptables rules and chains.
//!
//! Backend: the installed iptables binaries, through `iptables-save` / `iptables-restore` (and the ip6tables
//! pair). kube-proxy, flannel and the CNI plugins create their rules with those same binaries, so whichever
//! backend the node's iptables uses (nf_tables via iptables-nft, or legacy xtables) is the one holding the rules;
//! talking nf_tables netlink directly would miss legacy rules and duplicate iptables' own translation. When both
//! `*-legacy` and `*-nft` variants are installed both are cleaned: rules can linger in the one not currently
//! selected (k3s's bundled iptables picks the backend that already has rules). Filtering happens here, in Rust,
//! on the saved text; a table is restored only when something was removed.

use k3s_model::net::FIREWALL_CHAIN_PREFIXES;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether one word of a rule names a k3s chain (KUBE-*, CNI-*, FLANNEL*) or mentions flannel.
fn is_k3s_word(word: &str) -> bool {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    FIREWALL_CHAIN_PREFIXES.iter().any(|p| word.starts_with(p)) || word.to_ascii_lowercase().contains("flannel")
}

/// Removes every chain declaration and rule of k3s from an `iptables-save` dump. Returns the filtered dump and
/// the number of removed lines. Rules of other chains that jump to a k3s chain go too, so the restore is
/// consistent; everything else (tables, policies, decoy chains and rules, comments) is kept byte for byte.
pub fn filter_dump(dump: &str) -> (String, usize) {
    let mut out = String::with_capacity(dump.len());
    let mut removed = 0;
    for line in dump.split_inclusive('\n') {
        let t = line.trim_end();
        let drop = if let Some(decl) = t.strip_prefix(':') {
            decl.split_whitespace().next().is_some_and(is_k3s_word)
        } else if t.starts_with("-A ") || t.starts_with("-I ") || t.starts_with("-N ") {
            t.split_whitespace().any(is_k3s_word)
        } else {
            false
        };
        if drop {
            removed += 1;
        } else {
            out.push_str(line);
        }
    }
    (out, removed)
}

/// One iptables command family to clean (`iptables`, `ip6tables-nft`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The `*-save` program.
    pub save: PathBuf,
    /// The `*-restore` program.
    pub restore: PathBuf,
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_executable(p))
}

/// Whether `p` is an executable regular file (following symlinks).
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The iptables backends installed on this node.
pub fn backends() -> Vec<Backend> {
    let mut found = Vec::new();
    for family in ["iptables", "ip6tables"] {
        let variants: Vec<String> = ["legacy", "nft"].iter().map(|v| format!("{family}-{v}")).collect();
        let names: Vec<String> = if variants.iter().all(|v| find_in_path(&format!("{v}-save")).is_some()) {
            variants
        } else {
            vec![family.to_string()]
        };
        for n in names {
            // Legacy xtables lists its live tables here; none listed means no legacy rules, so skip the spawn.
            let legacy_tables =
                if family == "iptables" { "/proc/net/ip_tables_names" } else { "/proc/net/ip6_tables_names" };
            if n.ends_with("-legacy") && std::fs::read(legacy_tables).map_or(true, |t| t.is_empty()) {
                continue;
            }
            if let (Some(save), Some(restore)) =
                (find_in_path(&format!("{n}-save")), find_in_path(&format!("{n}-restore")))
            {
                found.push(Backend { save, restore });
            }
        }
    }
    found
}

/// A failed save or restore.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// The program could not be started, or talking to it failed.
    #[error("{program}")]
    Io {
        /// The program.
        program: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The program ran and failed.
    #[error("{program}: {status}: {stderr}")]
    Failed {
        /// The program.
        program: PathBuf,
        /// How it exited.
        status: std::process::ExitStatus,
        /// What it said (trimmed).
        stderr: String,
    },
    /// `*-save` printed something that is not UTF-8.
    #[error("{program}: output is not UTF-8")]
    NotUtf8 {
        /// The program.
        program: PathBuf,
    },
}

fn failed(program: &Path, out: &std::process::Output) -> FirewallError {
    FirewallError::Failed {
        program: program.into(),
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}

impl Backend {
    fn name(&self) -> String {
        self.save.file_name().map(|n| n.to_string_lossy().trim_end_matches("-save").to_string()).unwrap_or_default()
    }

    /// The current rules of this backend.
    pub fn save(&self) -> Result<String, FirewallError> {
        let io = |source| FirewallError::Io { program: self.save.clone(), source };
        let out = Command::new(&self.save).stderr(Stdio::piped()).output().map_err(io)?;
        if !out.status.success() {
            return Err(failed(&self.save, &out));
        }
        String::from_utf8(out.stdout).map_err(|_| FirewallError::NotUtf8 { program: self.save.clone() })
    }

    /// Replaces the tables named in `dump` with its contents.
    pub fn restore(&self, dump: &str) -> Result<(), FirewallError> {
        let io = |source| FirewallError::Io { program: self.restore.clone(), source };
        let mut child = Command::new(&self.restore).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(io)?;
        // Piped above, so present; written and closed before waiting, so the program sees EOF.
        let written = match child.stdin.take() {
            Some(mut stdin) => stdin.write_all(dump.as_bytes()),
            None => Err(std::io::Error::other("no stdin pipe")),
        };
        let out = child.wait_with_output().map_err(io)?;
        if !out.status.success() {
            return Err(failed(&self.restore, &out));
        }
        written.map_err(io)?;
        Ok(())
    }
}

/// What cleaning one backend would change.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The backend.
    pub backend: Backend,
    /// Its display name (`iptables-nft`).
    pub name: String,
    /// Lines to remove.
    pub removed: usize,
    /// The dump to restore.
    pub filtered: String,
}

/// Saves each backend and computes what to remove. A backend whose save fails is reported and skipped.
pub fn plan(warn: &mut dyn FnMut(String)) -> Vec<Pending> {
    let mut pending = Vec::new();
    for backend in backends() {
        match backend.save() {
            Ok(dump) => {
                let (filtered, removed) = filter_dump(&dump);
                if removed > 0 {
                    pending.push(Pending { name: backend.name(), backend, removed, filtered });
                }
            }
            Err(e) => warn(crate::errors::chain(&e)),
        }
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_k3s_chains_and_jumps_keeps_decoys() {
        let dump = "# Generated by iptables-nft-save\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n\
:KUBE-SERVICES - [0:0]\n:CNI-FORWARD - [0:0]\n:FLANNEL-FWD - [0:0]\n:DECOY - [0:0]\n\
-A INPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n\
-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD\n\
-A FORWARD -s 10.42.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n\
-A DECOY -m comment --comment \"not MYKUBE-thing\" -j RETURN\n\
-A KUBE-SERVICES -j RETURN\nCOMMIT\n";
        let (out, removed) = filter_dump(dump);
        assert_eq!(removed, 7);
        assert_eq!(
            out,
            "# Generated by iptables-nft-save\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:DECOY - [0:0]\n\
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A DECOY -m comment --comment \"not MYKUBE-thing\" -j RETURN\nCOMMIT\n"
        );
        assert_eq!(filter_dump(&out), (out.clone(), 0), "idempotent");
    }
}
