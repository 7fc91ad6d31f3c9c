//! The node tools: one multi-call binary, installed once and linked under every name users type.
//!
//! The layer's recipe renders one symlink per [`TOOLS`] entry to [`MULTICALL_BINARY`]; the binary dispatches on
//! the name it was started as (`argv[0]`), or on its first argument when started as `k3s-node <tool> ...`.

/// One tool of the multi-call binary. The binary matches on this exhaustively, so a tool added here is a compile
/// error there until it is built in; the recipe's links are rendered from [`TOOLS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tool {
    /// `k3s-agent`.
    Agent,
    /// `k3s-clean`.
    Clean,
    /// `k3s-killall.sh`.
    Killall,
    /// `k3s-check-config`.
    CheckConfig,
    /// `k3s-role-setup`.
    RoleSetup,
}

impl Tool {
    /// The command name (symlink name under `bindir`).
    pub const fn name(self) -> &'static str {
        match self {
            Tool::Agent => "k3s-agent",
            Tool::Clean => "k3s-clean",
            Tool::Killall => "k3s-killall.sh",
            Tool::CheckConfig => "k3s-check-config",
            Tool::RoleSetup => "k3s-role-setup",
        }
    }

    /// One line for `--help` and package descriptions.
    pub const fn summary(self) -> &'static str {
        match self {
            Tool::Agent => "join this node to a k3s server as an agent",
            Tool::Clean => "remove the agent's containers, mounts, pod networks and firewall rules",
            Tool::Killall => "stop every k3s unit, then clean up like k3s-clean",
            Tool::CheckConfig => "check a kernel config and this system against k3s's needs",
            Tool::RoleSetup => "configure the node's k3s role from the kernel command line",
        }
    }

    /// Position in [`TOOLS`]; exhaustive, so a new variant must be given its place.
    const fn index(self) -> usize {
        match self {
            Tool::Agent => 0,
            Tool::Clean => 1,
            Tool::Killall => 2,
            Tool::CheckConfig => 3,
            Tool::RoleSetup => 4,
        }
    }
}

/// The multi-call binary every tool is a link to.
pub const MULTICALL_BINARY: &str = "k3s-node";

/// Every tool, in the order `k3s-node --help` lists them.
pub const TOOLS: &[Tool] = &[Tool::Agent, Tool::Clean, Tool::Killall, Tool::CheckConfig, Tool::RoleSetup];

// Each tool sits at its own index, so none is missing or listed twice (checked when the crate compiles).
const _: () = {
    let mut i = 0;
    while i < TOOLS.len() {
        assert!(TOOLS[i].index() == i, "TOOLS out of order with Tool::index");
        i += 1;
    }
    assert!(TOOLS.len() == Tool::RoleSetup.index() + 1, "a Tool is missing from TOOLS");
};

/// Looks a tool up by the name it was started as (a path's last component is enough).
pub fn find(invoked_as: &str) -> Option<Tool> {
    let name = invoked_as.rsplit('/').next().unwrap_or(invoked_as);
    TOOLS.iter().copied().find(|t| t.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_plain_file_names() {
        let mut seen = std::collections::BTreeSet::new();
        for t in TOOLS {
            let name = t.name();
            assert!(!name.is_empty() && !name.contains('/') && name != MULTICALL_BINARY, "{name}");
            assert!(seen.insert(name), "{name} listed twice");
        }
    }

    #[test]
    fn find_strips_directories() {
        assert_eq!(find("/usr/bin/k3s-agent"), Some(Tool::Agent));
        assert_eq!(find("k3s-killall.sh"), Some(Tool::Killall));
        assert!(find("k3s").is_none());
    }
}
