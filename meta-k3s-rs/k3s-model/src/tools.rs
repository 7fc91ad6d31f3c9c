//! The node tools: one multi-call binary, installed once and linked under every name users type.
//!
//! The layer's recipe renders one symlink per [`TOOLS`] entry to [`MULTICALL_BINARY`]; the binary dispatches on
//! the name it was started as (`argv[0]`), or on its first argument when started as `k3s-node <tool> ...`.

/// One tool of the multi-call binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The command name (symlink name under `bindir`).
    pub name: &'static str,
    /// One line for `--help` and package descriptions.
    pub summary: &'static str,
}

/// The multi-call binary every tool is a link to.
pub const MULTICALL_BINARY: &str = "k3s-node";

/// Every tool, in the order `k3s-node --help` lists them.
pub const TOOLS: &[Tool] = &[
    Tool { name: "k3s-agent", summary: "join this node to a k3s server as an agent" },
    Tool { name: "k3s-clean", summary: "remove the agent's containers, mounts, pod networks and firewall rules" },
    Tool { name: "k3s-killall.sh", summary: "stop every k3s unit, then clean up like k3s-clean" },
    Tool { name: "k3s-check-config", summary: "check a kernel config and this system against k3s's needs" },
    Tool { name: "k3s-role-setup", summary: "configure the node's k3s role from the kernel command line" },
];

/// Looks a tool up by the name it was started as (a path's last component is enough).
pub fn find(invoked_as: &str) -> Option<&'static Tool> {
    let name = invoked_as.rsplit('/').next().unwrap_or(invoked_as);
    TOOLS.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_plain_file_names() {
        let mut seen = std::collections::BTreeSet::new();
        for t in TOOLS {
            assert!(!t.name.is_empty() && !t.name.contains('/') && t.name != MULTICALL_BINARY, "{}", t.name);
            assert!(seen.insert(t.name), "{} listed twice", t.name);
        }
    }

    #[test]
    fn find_strips_directories() {
        assert_eq!(find("/usr/bin/k3s-agent").map(|t| t.name), Some("k3s-agent"));
        assert_eq!(find("k3s-killall.sh").map(|t| t.name), Some("k3s-killall.sh"));
        assert!(find("k3s").is_none());
    }
}
