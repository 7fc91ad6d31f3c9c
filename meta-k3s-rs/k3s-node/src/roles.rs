//! `k3s-role-setup`: the node's role from the kernel command line, for multi-node VMs booted from one image.
//!
//! `k3s.role=server|agent` picks the unit; `k3s.server=` and `k3s.token=` join an agent (through the same code
//! path as `k3s-agent`); `k3s.node-name=`, `k3s.node-ip=` and `k3s.iface=` go into a k3s config drop-in that both
//! roles read; a server also takes `k3s.token=` there, so a cluster of VMs can share one token on their command
//! lines.

use crate::agent::{self, AgentConfig, AgentError, RawInputs, Start, Target};
use crate::cmdline;
use crate::systemd::Systemd;
use k3s_model::{paths, units};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The k3s config drop-in role setup writes (mode 0600: it may hold the token).
pub const CONFIG_DROPIN_NAME: &str = "50-role-setup.yaml";

/// The role a node plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs `k3s.service`.
    Server,
    /// Runs `k3s-agent.service`, joined to `k3s.server`.
    Agent,
}

/// What the command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRequest {
    /// `k3s.role`, if given.
    pub role: Option<Role>,
    /// `k3s.server`.
    pub server: Option<String>,
    /// `k3s.token`.
    pub token: Option<String>,
    /// `k3s.node-name`.
    pub node_name: Option<String>,
    /// `k3s.node-ip`.
    pub node_ip: Option<std::net::IpAddr>,
    /// `k3s.iface` (becomes flannel's interface).
    pub iface: Option<String>,
}

/// A bad `k3s.*` parameter.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// Malformed parameter.
    #[error("kernel command line: {0}")]
    Param(String),
    /// The agent could not be configured.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// Writing the config drop-in failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// systemd refused.
    #[error(transparent)]
    Systemd(#[from] crate::systemd::SystemdError),
}

fn valid_iface(s: &str) -> bool {
    !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// Reads the `k3s.*` parameters. Unknown `k3s.*` keys are errors, so a typo does not silently leave a node
/// unconfigured; other parameters are ignored. Later parameters override earlier ones, as for the kernel.
pub fn parse_request(line: &[u8]) -> Result<RoleRequest, RoleError> {
    let mut req = RoleRequest::default();
    for p in cmdline::parse(line) {
        let Some(key) = p.key.strip_prefix(b"k3s.") else { continue };
        let key = String::from_utf8_lossy(key).into_owned();
        let value = p.value.ok_or_else(|| RoleError::Param(format!("k3s.{key} needs a value (k3s.{key}=...)")))?;
        let value = std::str::from_utf8(value)
            .map_err(|_| RoleError::Param(format!("k3s.{key}: value is not UTF-8")))?
            .to_string();
        crate::unitesc::check_str(&format!("k3s.{key}"), &value).map_err(|e| RoleError::Param(e.to_string()))?;
        match key.as_str() {
            "role" => {
                req.role = Some(match value.as_str() {
                    "server" => Role::Server,
                    "agent" => Role::Agent,
                    _ => return Err(RoleError::Param(format!("k3s.role={value}: expected server or agent"))),
                })
            }
            "server" => req.server = Some(value),
            "token" => req.token = Some(value),
            "node-name" => {
                agent::check_node_name(&value)?;
                req.node_name = Some(value)
            }
            "node-ip" => {
                req.node_ip = Some(
                    value.parse().map_err(|_| RoleError::Param(format!("k3s.node-ip={value}: not an IP address")))?,
                )
            }
            "iface" => {
                if !valid_iface(&value) {
                    return Err(RoleError::Param(format!("k3s.iface={value}: not an interface name")));
                }
                req.iface = Some(value)
            }
            _ => {
                return Err(RoleError::Param(format!(
                    "unknown parameter k3s.{key} (known: k3s.role, k3s.server, k3s.token, k3s.node-name, \
                     k3s.node-ip, k3s.iface)"
                )));
            }
        }
    }
    Ok(req)
}

/// `k3s.server` as a URL: a bare host (or host:port) means `https://HOST:6443`.
pub fn server_url(s: &str) -> String {
    if s.contains("://") {
        return s.to_string();
    }
    let has_port = if s.starts_with('[') { s.contains("]:") } else { s.matches(':').count() == 1 };
    if has_port {
        format!("https://{s}")
    } else if s.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("https://[{s}]:{}", k3s_model::net::API_PORT)
    } else {
        format!("https://{s}:{}", k3s_model::net::API_PORT)
    }
}

fn yaml(s: &str) -> String {
    // Double-quoted YAML scalar; values passed check_str, so only `\` and `"` need escaping.
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The k3s config drop-in for the request, or `None` when it has nothing to say.
pub fn render_config(req: &RoleRequest) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(n) = &req.node_name {
        lines.push(format!("node-name: {}", yaml(n)));
    }
    if let Some(ip) = &req.node_ip {
        lines.push(format!("node-ip: {}", yaml(&ip.to_string())));
    }
    if let Some(i) = &req.iface {
        lines.push(format!("flannel-iface: {}", yaml(i)));
    }
    if req.role == Some(Role::Server)
        && let Some(t) = &req.token
    {
        lines.push(format!("token: {}", yaml(t)));
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "# Written by k3s-role-setup from the kernel command line; rewritten at every boot.\n{}\n",
        lines.join("\n")
    ))
}

/// Applies the request under `root`.
pub fn apply(
    req: &RoleRequest,
    root: &Path,
    proc_dir: &Path,
    systemd: &mut dyn Systemd,
    out: &mut dyn Write,
) -> Result<(), RoleError> {
    let Some(role) = req.role else {
        let _ = writeln!(out, "no k3s.role= on the kernel command line; nothing to do");
        return Ok(());
    };
    let live = root == Path::new("/");
    // Validate the agent's inputs before writing anything.
    let agent_cfg: Option<AgentConfig> = match role {
        Role::Agent => {
            let server =
                req.server.as_deref().ok_or_else(|| RoleError::Param("k3s.role=agent needs k3s.server=".into()))?;
            let raw = RawInputs {
                server: Some(server_url(server).into()),
                token: Some(
                    req.token.clone().ok_or_else(|| RoleError::Param("k3s.role=agent needs k3s.token=".into()))?.into(),
                ),
                node_name: req.node_name.clone().map(Into::into),
                ..Default::default()
            };
            Some(agent::resolve(raw, root)?)
        }
        Role::Server => None,
    };
    let dropin = root.join(paths::CONFIG_DROPIN_DIR.trim_start_matches('/')).join(CONFIG_DROPIN_NAME);
    let werr = |source| RoleError::Write { path: dropin.clone(), source };
    match render_config(req) {
        Some(text) => {
            std::fs::create_dir_all(dropin.parent().unwrap_or(root)).map_err(werr)?;
            k3s_atomic::write(&dropin, text.as_bytes(), k3s_atomic::MODE_SECRET).map_err(werr)?;
            let _ = writeln!(out, "wrote {} (mode 0600)", dropin.display());
        }
        None => match std::fs::remove_file(&dropin) {
            Ok(()) => {
                let _ = writeln!(out, "removed stale {}", dropin.display());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(werr(e)),
        },
    }
    match agent_cfg {
        Some(cfg) => {
            // The agent here is this node's only k3s; a server process seen would be a misconfiguration that the
            // agent path refuses, as k3s-agent does.
            let target = Target { root, proc_dir, force: false };
            agent::apply(&cfg, &target, Start::Boot, systemd, out)?;
        }
        None => {
            if live {
                systemd.daemon_reload()?;
                systemd.enable(None, units::SERVER_SERVICE)?;
                systemd.start_no_block(units::SERVER_SERVICE)?;
            } else {
                systemd.enable(Some(root), units::SERVER_SERVICE)?;
            }
            let _ = writeln!(out, "{} enabled and started", units::SERVER_SERVICE);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::Recorder;

    #[test]
    fn parses_role_parameters() {
        let req = parse_request(
            b"console=ttyAMA0 k3s.role=agent k3s.server=192.168.7.1 k3s.token=\"K10x::server:y\" k3s.node-name=vm2 k3s.node-ip=192.168.7.3 k3s.iface=eth1\n",
        )
        .unwrap();
        assert_eq!(req.role, Some(Role::Agent));
        assert_eq!(req.server.as_deref(), Some("192.168.7.1"));
        assert_eq!(req.token.as_deref(), Some("K10x::server:y"));
        assert_eq!(req.node_ip, Some("192.168.7.3".parse().unwrap()));
        assert_eq!(req.iface.as_deref(), Some("eth1"));
        assert_eq!(parse_request(b"quiet").unwrap(), RoleRequest::default());
    }

    #[test]
    fn rejects_bad_parameters() {
        for bad in [
            &b"k3s.role=master"[..],
            b"k3s.rol=agent",
            b"k3s.role",
            b"k3s.node-ip=1.2.3",
            b"k3s.iface=eth0;reboot",
            b"k3s.node-name=Bad_Name",
            b"k3s.token=\xff",
        ] {
            assert!(parse_request(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn server_urls() {
        assert_eq!(server_url("10.0.0.1"), "https://10.0.0.1:6443");
        assert_eq!(server_url("h:7443"), "https://h:7443");
        assert_eq!(server_url("fd00::1"), "https://[fd00::1]:6443");
        assert_eq!(server_url("https://h:6443"), "https://h:6443");
    }

    #[test]
    fn agent_role_uses_the_agent_path_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        let proc_dir = tempfile::tempdir().unwrap();
        let req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1 k3s.token=t%n k3s.node-ip=10.0.0.2").unwrap();
        let mut sd = Recorder::default();
        apply(&req, root.path(), proc_dir.path(), &mut sd, &mut Vec::new()).unwrap();
        let dropin =
            std::fs::read_to_string(root.path().join("etc/systemd/system/k3s-agent.service.d/10-env.conf")).unwrap();
        assert!(dropin.contains("Environment=\"K3S_URL=https://10.0.0.1:6443\"\n"), "{dropin}");
        assert!(dropin.contains("Environment=\"K3S_TOKEN=t%%n\"\n"), "{dropin}");
        let cfg =
            std::fs::read_to_string(root.path().join("etc/rancher/k3s/config.yaml.d/50-role-setup.yaml")).unwrap();
        assert!(cfg.ends_with("node-ip: \"10.0.0.2\"\n"), "{cfg}");
        assert_eq!(sd.calls.last().unwrap(), &format!("--root={} enable k3s-agent.service", root.path().display()));
    }

    #[test]
    fn agent_role_without_token_writes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1 k3s.node-ip=10.0.0.2").unwrap();
        assert!(apply(&req, root.path(), root.path(), &mut Recorder::default(), &mut Vec::new()).is_err());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn server_role_enables_the_server_and_keeps_the_token_in_config() {
        let root = tempfile::tempdir().unwrap();
        let req = parse_request(b"k3s.role=server k3s.token=shared").unwrap();
        let mut sd = Recorder::default();
        apply(&req, root.path(), root.path(), &mut sd, &mut Vec::new()).unwrap();
        let path = root.path().join("etc/rancher/k3s/config.yaml.d/50-role-setup.yaml");
        assert!(std::fs::read_to_string(&path).unwrap().contains("token: \"shared\"\n"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(sd.calls, vec![format!("--root={} enable k3s.service", root.path().display())]);
    }
}
