//! `k3s-role-setup`: the node's role from the kernel command line, for multi-node VMs booted from one image.
//!
//! `k3s.role=server|agent` picks the unit; `k3s.server=` and `k3s.token=` join an agent (through the same code
//! path as `k3s-agent`); `k3s.node-name=`, `k3s.node-ip=` and `k3s.iface=` go into a config drop-in of that role
//! (the server's `config.yaml.d`, the agent's `agent.yaml.d`), every key checked against the role's flags
//! (`k3s_model::flags`); a server also takes `k3s.token=` there (mode 0600), so a cluster of VMs can share one
//! token on their command lines.
//!
//! Everything is checked before anything is written, a refusal included; a file is rewritten only when its
//! contents change, so the next boot with the same command line leaves the node as it is. The other role's unit
//! is disabled and its drop-in removed, so a role switch between boots does not start both.

use crate::agent::{self, AgentConfig, AgentError, RawInputs, Start, Target};
use crate::cmdline;
use crate::node::Node;
use crate::systemd::Systemd;
use k3s_model::flags::Command;
use k3s_model::{paths, units};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The k3s config drop-in role setup writes (mode 0600: it may hold the token).
pub const CONFIG_DROPIN_NAME: &str = "50-role-setup.yaml";

/// Where role setup writes the drop-in for `role`.
pub fn config_dropin(root: &Path, role: Role) -> PathBuf {
    let dir = match role {
        Role::Server => paths::CONFIG_DROPIN_DIR,
        Role::Agent => paths::AGENT_CONFIG_DROPIN_DIR,
    };
    root.join(dir.trim_start_matches('/')).join(CONFIG_DROPIN_NAME)
}

fn command(role: Role) -> Command {
    match role {
        Role::Server => Command::Server,
        Role::Agent => Command::Agent,
    }
}

fn unit(role: Role) -> &'static str {
    match role {
        Role::Server => units::SERVER_SERVICE,
        Role::Agent => units::AGENT_SERVICE,
    }
}

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
    /// `k3s.token` (or, after [`crate::token_source::resolve`], the token from fw_cfg or `k3s.token-file`).
    pub token: Option<String>,
    /// `k3s.token-file` (absolute).
    pub token_file: Option<PathBuf>,
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
    /// Reading the command line failed.
    #[error("{path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Writing the config drop-in failed.
    #[error("{path}")]
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
    parse_params(cmdline::parse(line))
}

/// [`parse_request`] over parameters already split.
pub fn parse_params<'a>(params: impl IntoIterator<Item = cmdline::Param<'a>>) -> Result<RoleRequest, RoleError> {
    let mut req = RoleRequest::default();
    for p in params {
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
            "token-file" => {
                if !value.starts_with('/') {
                    return Err(RoleError::Param(format!("k3s.token-file={value}: must be an absolute path")));
                }
                req.token_file = Some(PathBuf::from(value))
            }
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
                    "unknown parameter k3s.{key} (known: k3s.role, k3s.server, k3s.token, k3s.token-file, \
                     k3s.node-name, k3s.node-ip, k3s.iface)"
                )));
            }
        }
    }
    Ok(req)
}

/// The request role setup reads at boot, from where systemd reads the command line for
/// `ConditionKernelCommandLine=` (which is what starts k3s-role-setup.service): `/proc/cmdline`, except in a
/// container (systemd writes `/run/systemd/container`), where the kernel's line belongs to the host and systemd
/// reads PID 1's arguments instead, each argument one parameter (a value may hold spaces and quotes there).
pub fn boot_request(root: &Path) -> Result<RoleRequest, RoleError> {
    let read = |rel: &str| {
        let p = root.join(rel);
        std::fs::read(&p).map_err(|source| RoleError::Read { path: p, source })
    };
    if !root.join("run/systemd/container").exists() {
        return parse_request(&read("proc/cmdline")?);
    }
    let argv = read("proc/1/cmdline")?;
    parse_params(argv.split(|&b| b == 0).skip(1).filter(|a| !a.is_empty()).map(|arg| {
        match arg.iter().position(|&b| b == b'=') {
            Some(eq) => cmdline::Param { key: &arg[..eq], value: Some(&arg[eq + 1..]) },
            None => cmdline::Param { key: arg, value: None },
        }
    }))
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

/// The k3s config drop-in for the request, or `None` when it has nothing to say. Every key is one `k3s ROLE`
/// defines (an agent refuses any other).
pub fn render_config(req: &RoleRequest, role: Role) -> Result<Option<String>, RoleError> {
    let mut lines = Vec::new();
    let mut key = |k: &str, v: &str| -> Result<(), RoleError> {
        if command(role).find(k).is_none() {
            return Err(RoleError::Param(format!("k3s {} does not define --{k}", command(role).as_str())));
        }
        lines.push(format!("{k}: {}", yaml(v)));
        Ok(())
    };
    if let Some(n) = &req.node_name {
        key("node-name", n)?;
    }
    if let Some(ip) = &req.node_ip {
        key("node-ip", &ip.to_string())?;
    }
    if let Some(i) = &req.iface {
        key("flannel-iface", i)?;
    }
    if role == Role::Server
        && let Some(t) = &req.token
    {
        key("token", t)?;
    }
    if lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "# Written by k3s-role-setup from the kernel command line; rewritten when it changes.\n{}\n",
        lines.join("\n")
    )))
}

fn remove_if_present(path: &Path, out: &mut dyn Write) -> Result<(), RoleError> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            let _ = writeln!(out, "removed stale {}", path.display());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RoleError::Write { path: path.to_path_buf(), source }),
    }
}

/// Applies the request to `node`; `proc_dir` is where a live server would be seen (normally `/proc`; not
/// consulted for an image root).
pub fn apply(
    req: &RoleRequest,
    node: &Node,
    proc_dir: &Path,
    systemd: &mut dyn Systemd,
    out: &mut dyn Write,
) -> Result<(), RoleError> {
    let Some(role) = req.role else {
        let _ = writeln!(out, "no k3s.role= on the kernel command line; nothing to do");
        return Ok(());
    };
    let root = node.root();
    // Everything is checked before anything is written: the agent's inputs, the config keys, and (for an agent)
    // that no server runs here.
    let agent_cfg: Option<AgentConfig> = match role {
        Role::Agent => {
            let server =
                req.server.as_deref().ok_or_else(|| RoleError::Param("k3s.role=agent needs k3s.server=".into()))?;
            let raw = RawInputs {
                server: Some(server_url(server).into()),
                token: Some(
                    req.token
                        .clone()
                        .ok_or_else(|| {
                            RoleError::Param(
                                "k3s.role=agent needs a token: fw_cfg opt/k3s/token, k3s.token-file= or k3s.token="
                                    .into(),
                            )
                        })?
                        .into(),
                ),
                node_name: req.node_name.clone().map(Into::into),
                ..Default::default()
            };
            Some(agent::resolve(raw, node)?)
        }
        Role::Server => None,
    };
    let text = render_config(req, role)?;
    if agent_cfg.is_some()
        && node.is_live()
        && let Some(reason) = crate::server::detect(proc_dir, systemd)
    {
        return Err(AgentError::ServerActive(reason).into());
    }

    let other = match role {
        Role::Server => Role::Agent,
        Role::Agent => Role::Server,
    };
    systemd.disable(node.systemctl_root(), unit(other))?;
    remove_if_present(&config_dropin(root, other), out)?;
    let dropin = config_dropin(root, role);
    match &text {
        Some(text) if std::fs::read(&dropin).is_ok_and(|old| old == text.as_bytes()) => {
            let _ = writeln!(out, "{} unchanged", dropin.display());
        }
        Some(text) => {
            let werr = |source| RoleError::Write { path: dropin.clone(), source };
            std::fs::create_dir_all(dropin.parent().unwrap_or(root)).map_err(werr)?;
            k3s_atomic::write(&dropin, text.as_bytes(), k3s_atomic::MODE_SECRET).map_err(werr)?;
            let _ = writeln!(out, "wrote {} (mode 0600)", dropin.display());
        }
        None => remove_if_present(&dropin, out)?,
    }
    match agent_cfg {
        Some(cfg) => {
            // Checked above; the agent path checks again right before it acts.
            let target = Target { node, proc_dir, force: false };
            agent::apply(&cfg, &target, Start::Boot, systemd, out)?;
        }
        None => {
            match node {
                Node::Live => {
                    // The unit file shipped with the image: no reload is needed to enable and start it.
                    systemd.enable(None, units::SERVER_SERVICE)?;
                    systemd.start_no_block(units::SERVER_SERVICE)?;
                }
                Node::Image(root) => systemd.enable(Some(root), units::SERVER_SERVICE)?,
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
    fn boot_command_line_in_a_container_is_pid1s_arguments() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proc/1")).unwrap();
        std::fs::write(root.path().join("proc/cmdline"), b"BOOT_IMAGE=/vmlinuz root=/dev/vda\n").unwrap();
        std::fs::write(root.path().join("proc/1/cmdline"), b"/lib/systemd/systemd\0k3s.role=agent\0k3s.token=a b\0")
            .unwrap();
        assert_eq!(boot_request(root.path()).unwrap(), RoleRequest::default());
        std::fs::create_dir_all(root.path().join("run/systemd")).unwrap();
        std::fs::write(root.path().join("run/systemd/container"), b"systemd-nspawn\n").unwrap();
        let req = boot_request(root.path()).unwrap();
        assert_eq!((req.role, req.token.as_deref()), (Some(Role::Agent), Some("a b")));
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
        let proc_dir = crate::server::quiet_proc();
        let req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1 k3s.token=t%n k3s.node-ip=10.0.0.2").unwrap();
        let mut sd = Recorder::default();
        apply(&req, &Node::from_root(root.path()).unwrap(), proc_dir.path(), &mut sd, &mut Vec::new()).unwrap();
        let dropin =
            std::fs::read_to_string(root.path().join("etc/systemd/system/k3s-agent.service.d/10-env.conf")).unwrap();
        assert!(dropin.contains("Environment=\"K3S_URL=https://10.0.0.1:6443\"\n"), "{dropin}");
        assert!(!dropin.contains("t%n"), "{dropin}");
        let token = std::fs::read_to_string(root.path().join("etc/rancher/k3s/agent-token")).unwrap();
        assert_eq!(token, "t%n\n");
        let cfg = std::fs::read_to_string(root.path().join("etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml")).unwrap();
        assert!(cfg.ends_with("node-ip: \"10.0.0.2\"\n"), "{cfg}");
        assert_eq!(sd.calls.last().unwrap(), &format!("--root={} enable k3s-agent.service", root.path().display()));
        assert!(sd.calls.contains(&format!("--root={} disable k3s.service", root.path().display())), "{:?}", sd.calls);

        // The next boot with the same command line rewrites nothing.
        let before = std::fs::metadata(root.path().join("etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml")).unwrap();
        let mut out = Vec::new();
        apply(&req, &Node::from_root(root.path()).unwrap(), proc_dir.path(), &mut Recorder::default(), &mut out)
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("wrote"), "{out}");
        let after = std::fs::metadata(root.path().join("etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml")).unwrap();
        assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    }

    #[test]
    fn agent_role_without_token_writes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1 k3s.node-ip=10.0.0.2").unwrap();
        let proc_dir = crate::server::quiet_proc();
        assert!(
            apply(
                &req,
                &Node::from_root(root.path()).unwrap(),
                proc_dir.path(),
                &mut Recorder::default(),
                &mut Vec::new()
            )
            .is_err()
        );
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn server_role_enables_the_server_and_keeps_the_token_in_config() {
        let root = tempfile::tempdir().unwrap();
        let req = parse_request(b"k3s.role=server k3s.token=shared").unwrap();
        let mut sd = Recorder::default();
        let proc_dir = crate::server::quiet_proc();
        apply(&req, &Node::from_root(root.path()).unwrap(), proc_dir.path(), &mut sd, &mut Vec::new()).unwrap();
        let path = root.path().join("etc/rancher/k3s/config.yaml.d/50-role-setup.yaml");
        assert!(std::fs::read_to_string(&path).unwrap().contains("token: \"shared\"\n"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let r = root.path().display();
        assert_eq!(
            sd.calls,
            vec![format!("--root={r} disable k3s-agent.service"), format!("--root={r} enable k3s.service")]
        );
    }

    #[test]
    fn agent_role_next_to_a_server_refuses_before_writing_on_the_live_node_only() {
        let proc_dir = crate::server::fake_proc(&[("1", b"init\0"), ("9", b"/usr/bin/k3s\0server\0")]);
        let req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1 k3s.token=t k3s.node-ip=10.0.0.2").unwrap();
        // Live: refused before the first write or systemctl call that changes anything.
        let mut sd = Recorder::default();
        let err = apply(&req, &Node::Live, proc_dir.path(), &mut sd, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
        assert_eq!(sd.calls, vec!["is-active k3s.service".to_string()]);
        // An image root: the build host's server is none of its business.
        let root = tempfile::tempdir().unwrap();
        let node = Node::from_root(root.path()).unwrap();
        apply(&req, &node, proc_dir.path(), &mut Recorder::default(), &mut Vec::new()).unwrap();
        assert!(node.path("/etc/rancher/k3s/agent-token").exists());
    }

    #[test]
    fn every_key_role_setup_writes_is_a_flag_of_its_role() {
        let req =
            parse_request(b"k3s.role=agent k3s.token=t k3s.node-name=n k3s.node-ip=10.0.0.2 k3s.iface=eth1").unwrap();
        for role in [Role::Server, Role::Agent] {
            let text = render_config(&req, role).unwrap().unwrap();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let key = line.split(':').next().unwrap();
                assert!(command(role).find(key).is_some(), "{key} for {role:?}");
            }
            assert_eq!(text.contains("token:"), role == Role::Server, "an agent's token goes to its token file");
        }
    }
}
