//! Rendering an error with its causes, each said once.
//!
//! The errors of this crate say what failed (`/etc/rancher/k3s/agent-token`) and keep why as their
//! [`source`](std::error::Error::source) (`Permission denied (os error 13)`), never both: a message that also
//! embedded its source would print the cause twice once the chain is walked (anyhow's `{:#}` in `main`). Where an
//! error becomes a line of text instead (cleanup's list of failed actions), this walks the chain the same way.

use std::error::Error;

/// `error: cause: cause of the cause`, as anyhow's `{:#}` prints it.
pub fn chain(error: &dyn Error) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentError;
    use crate::checkconfig::CheckError;
    use crate::firewall::FirewallError;
    use crate::roles::RoleError;
    use crate::systemd::SystemdError;
    use std::path::PathBuf;

    fn enoent() -> std::io::Error {
        std::io::Error::from_raw_os_error(2)
    }

    /// Every error of this crate that keeps a cause, rendered both ways a chain is printed: the cause once.
    #[test]
    fn each_cause_is_said_once() {
        let cause = enoent().to_string();
        let path = PathBuf::from("/etc/rancher/k3s/agent-token");
        let errors: Vec<Box<dyn Error + Send + Sync>> = vec![
            Box::new(AgentError::Read { path: path.display().to_string(), source: enoent() }),
            Box::new(AgentError::Write { path: path.clone(), source: enoent() }),
            Box::new(RoleError::Read { path: path.clone(), source: enoent() }),
            Box::new(RoleError::Write { path: path.clone(), source: enoent() }),
            Box::new(RoleError::Agent(AgentError::Read { path: path.display().to_string(), source: enoent() })),
            Box::new(CheckError::Load(k3s_kconfig::dotconfig::LoadError::Read {
                path: path.clone(),
                source: enoent(),
            })),
            Box::new(SystemdError::Spawn { args: "daemon-reload".into(), source: enoent() }),
            Box::new(AgentError::Systemd(SystemdError::Spawn { args: "stop x".into(), source: enoent() })),
            Box::new(FirewallError::Io { program: "/usr/sbin/iptables-restore".into(), source: enoent() }),
        ];
        for e in errors {
            let text = chain(e.as_ref());
            assert_eq!(text.matches(&cause).count(), 1, "{text}");
            let anyhow_text = format!("{:#}", anyhow::Error::from_boxed(e));
            assert_eq!(anyhow_text, text, "the same chain as anyhow prints");
        }
    }

    #[test]
    fn chain_joins_every_level() {
        let e = RoleError::Agent(AgentError::Write { path: "/x".into(), source: enoent() });
        assert_eq!(chain(&e), format!("/x: {}", enoent()));
    }
}
