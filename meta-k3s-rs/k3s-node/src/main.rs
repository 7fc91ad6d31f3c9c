//! `k3s-node`: one binary, installed once and linked as every tool in `k3s_model::tools::TOOLS`.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser};
use k3s_model::tools::{self, MULTICALL_BINARY, TOOLS, Tool};
use k3s_model::units;
use k3s_node::Node;
use k3s_node::systemd::Systemctl;
use k3s_node::{agent, checkconfig, clean, roles, token_source};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Join this node to a k3s server as an agent.
///
/// Writes the token to /etc/rancher/k3s/agent-token (mode 0600) and the server URL and K3S_TOKEN_FILE into
/// /etc/systemd/system/k3s-agent.service.d/10-env.conf; when the settings changed, stops the agent, clears its old
/// state, reloads systemd once, enables and restarts k3s-agent.service (the same settings again change nothing).
/// Each option falls back to the environment variable named in its help.
#[derive(Debug, Parser)]
#[command(name = "k3s-agent", disable_version_flag = true)]
struct AgentCli {
    /// Join token, or a file holding it (e.g. the server's /var/lib/rancher/k3s/server/node-token) [K3S_TOKEN]
    #[arg(short = 't', long, value_name = "TOKEN|FILE")]
    token: Option<OsString>,
    /// File k3s reads the token from when it starts [K3S_TOKEN_FILE]
    #[arg(long, value_name = "FILE")]
    token_file: Option<OsString>,
    /// Server URL, https://SERVER:6443 [K3S_URL]
    #[arg(short = 's', long, value_name = "URL")]
    server: Option<OsString>,
    /// Node name [K3S_NODE_NAME]
    #[arg(long, value_name = "NAME")]
    node_name: Option<OsString>,
    /// resolv.conf for the kubelet [K3S_RESOLV_CONF]
    #[arg(long, value_name = "FILE")]
    resolv_conf: Option<OsString>,
    /// Legacy shared cluster secret [K3S_CLUSTER_SECRET]
    #[arg(long, value_name = "SECRET")]
    cluster_secret: Option<OsString>,
    /// Configure the system below DIR (an image root) instead of this node; enables the unit offline
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Write the configuration only; do not clear state, enable or start the agent
    #[arg(long)]
    no_start: bool,
    /// Go ahead even though a k3s server runs on this node (breaks its pod network)
    #[arg(long)]
    force: bool,
    /// The proc file system to look for a live k3s server in (tests give their own PID namespace's)
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc", hide = true)]
    proc_dir: PathBuf,
}

/// Remove k3s's containers, mounts, pod network namespaces, links, firewall rules and CNI state.
#[derive(Debug, Parser)]
#[command(name = "k3s-clean", disable_version_flag = true)]
struct CleanCli {
    /// Print what would be done, change nothing
    #[arg(long)]
    dry_run: bool,
    /// Clean even next to a live k3s server (breaks its pod network)
    #[arg(long)]
    force: bool,
    /// Clean the image root DIR instead of this node: only its files (pod network namespace files, /var/lib/cni);
    /// no process, mount, link, firewall rule or systemd unit is touched
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// The proc file system to look for a live k3s server in (tests give their own PID namespace's)
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc", hide = true)]
    proc_dir: PathBuf,
}

/// Check a kernel config and this system against what k3s needs. Exit 0 when every required item is present.
///
/// Without --config it reads the running kernel's (/proc/config.gz, else /boot/config-$(uname -r)) and also
/// checks cgroup controllers and required commands; with --config only the file (add --system for both).
#[derive(Debug, Parser)]
#[command(name = "k3s-check-config", disable_version_flag = true)]
struct CheckCli {
    /// A kernel .config (plain or gzip)
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Also check this system when --config is given
    #[arg(long)]
    system: bool,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// A required option that is only a module (=m) fails, as for a kernel built with the layer's fragment
    #[arg(long)]
    builtin: bool,
}

/// Configure the node's k3s role from the kernel command line (k3s.role=server|agent, k3s.server=, k3s.token=,
/// k3s.token-file=, k3s.node-name=, k3s.node-ip=, k3s.iface=); the token also from QEMU's fw_cfg item
/// opt/k3s/token (root-only, unlike /proc/cmdline, which every user reads). Run at boot by k3s-role-setup.service.
#[derive(Debug, Parser)]
#[command(name = "k3s-role-setup", disable_version_flag = true)]
struct RoleCli {
    /// Read the command line from FILE [default: /proc/cmdline; in a container, PID 1's arguments, as systemd
    /// reads them for ConditionKernelCommandLine=]
    #[arg(long, value_name = "FILE")]
    cmdline: Option<PathBuf>,
    /// Configure the system below DIR (an image root)
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// The proc file system to look for a live k3s server in (tests give their own PID namespace's)
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc", hide = true)]
    proc_dir: PathBuf,
    /// The qemu_fw_cfg sysfs directory the token item is looked for in (tests give their own)
    #[arg(long = "fw-cfg", value_name = "DIR", default_value = token_source::FW_CFG_SYSFS, hide = true)]
    fw_cfg: PathBuf,
}

/// What `k3s-killall.sh --help` says first: unlike k3s-clean it stops the units.
fn killall_about() -> String {
    format!(
        "Stop {} and {}, then remove k3s's containers, mounts, pod network namespaces, links, firewall rules and \
         CNI state (as k3s-clean)",
        units::SERVER_SERVICE,
        units::AGENT_SERVICE
    )
}

fn node(root: &Path) -> anyhow::Result<Node> {
    Node::from_root(root).with_context(|| format!("--root {}", root.display()))
}

fn run_agent(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = AgentCli::parse_from(args);
    let env = |v: &str| std::env::var_os(v);
    let raw = agent::RawInputs {
        token: agent::flag_or_env(cli.token, "K3S_TOKEN", &env),
        token_file: agent::flag_or_env(cli.token_file, "K3S_TOKEN_FILE", &env),
        server: agent::flag_or_env(cli.server, "K3S_URL", &env),
        node_name: agent::flag_or_env(cli.node_name, "K3S_NODE_NAME", &env),
        resolv_conf: agent::flag_or_env(cli.resolv_conf, "K3S_RESOLV_CONF", &env),
        cluster_secret: agent::flag_or_env(cli.cluster_secret, "K3S_CLUSTER_SECRET", &env),
    };
    let node = node(&cli.root)?;
    let cfg = agent::resolve(raw, &node)?;
    let target = agent::Target { node: &node, proc_dir: &cli.proc_dir, force: cli.force };
    let start = if cli.no_start { agent::Start::No } else { agent::Start::Restart };
    agent::apply(&cfg, &target, start, &mut Systemctl, &mut std::io::stdout())?;
    Ok(ExitCode::SUCCESS)
}

fn run_clean(args: Vec<OsString>, tool: Tool) -> anyhow::Result<ExitCode> {
    let stop_units = tool == Tool::Killall;
    let mut cmd = CleanCli::command().name(tool.name());
    if stop_units {
        cmd = cmd.about(killall_about());
    }
    let cli = CleanCli::from_arg_matches(&cmd.get_matches_from(args)).unwrap_or_else(|e| e.exit());
    let opts = clean::Options {
        node: node(&cli.root)?,
        proc_dir: cli.proc_dir,
        dry_run: cli.dry_run,
        force: cli.force,
        stop_units,
    };
    let s = clean::run(&opts, &mut Systemctl, &mut std::io::stdout())?;
    if s == clean::Summary::default() {
        println!("nothing to clean");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_check(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = CheckCli::parse_from(args);
    let (source, cfg) = match &cli.config {
        Some(p) => (p.clone(), checkconfig::load(p)?),
        None => checkconfig::running_kernel_config()?,
    };
    let system = (cli.config.is_none() || cli.system).then(checkconfig::check_system);
    let policy = k3s_kconfig::check::Policy { builtin: cli.builtin };
    let report = checkconfig::Report { source, options: checkconfig::check_options(&cfg, policy), system };
    print!("{}", if cli.json { report.json() } else { report.text() });
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn run_roles(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = RoleCli::parse_from(args);
    let mut req = match &cli.cmdline {
        Some(f) => roles::parse_request(&std::fs::read(f).with_context(|| f.display().to_string())?)?,
        None => roles::boot_request(Path::new("/"))?,
    };
    if req.role.is_some()
        && let Some(src) = token_source::resolve(&mut req, &cli.fw_cfg)?
    {
        println!(
            "token from {}",
            match src {
                token_source::TokenSource::CommandLine =>
                    "k3s.token= (the command line: readable by every user)".into(),
                token_source::TokenSource::File(f) => format!("k3s.token-file={}", f.display()),
                token_source::TokenSource::FwCfg(f) => format!("fw_cfg ({})", f.display()),
            }
        );
    }
    roles::apply(&req, &node(&cli.root)?, &cli.proc_dir, &mut Systemctl, &mut std::io::stdout())?;
    Ok(ExitCode::SUCCESS)
}

fn usage() -> String {
    let mut s = format!(
        "usage: {MULTICALL_BINARY} TOOL [ARGS...]   (or run it through a link named after the tool)\n\ntools:\n"
    );
    for t in TOOLS {
        s.push_str(&format!("  {:<18} {}\n", t.name(), t.summary()));
    }
    s
}

/// Why no tool runs: a usage message, and where it goes.
enum NoTool {
    /// `k3s-node --help`: the usage on stdout, exit 0.
    Help(String),
    /// No or an unknown tool: the message on stderr, exit 2.
    Usage(String),
}

/// Finds the tool from argv[0], or from argv[1] for `k3s-node TOOL` (the `k3s-` prefix and `.sh` are optional
/// there), and returns it with the arguments it should parse (argv[0] = the tool's name).
fn dispatch(mut args: Vec<OsString>) -> Result<(Tool, Vec<OsString>), NoTool> {
    let argv0 = args.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some(tool) = tools::find(&argv0) {
        args[0] = tool.name().into();
        return Ok((tool, args));
    }
    let Some(name) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else { return Err(NoTool::Usage(usage())) };
    let tool = [name.clone(), format!("k3s-{name}"), format!("k3s-{name}.sh")]
        .iter()
        .find_map(|n| tools::find(n).filter(|_| !n.contains('/')))
        .ok_or_else(|| {
            if name == "-h" || name == "--help" {
                NoTool::Help(usage())
            } else {
                NoTool::Usage(format!("unknown tool {name:?}\n\n{}", usage()))
            }
        })?;
    args.remove(0);
    args[0] = tool.name().into();
    Ok((tool, args))
}

fn main() -> ExitCode {
    let (tool, args) = match dispatch(std::env::args_os().collect()) {
        Ok(t) => t,
        Err(NoTool::Help(msg)) => {
            print!("{msg}");
            return ExitCode::SUCCESS;
        }
        Err(NoTool::Usage(msg)) => {
            eprint!("{msg}");
            return ExitCode::from(2);
        }
    };
    let result = match tool {
        Tool::Agent => run_agent(args),
        Tool::Clean | Tool::Killall => run_clean(args, tool),
        Tool::CheckConfig => run_check(args),
        Tool::RoleSetup => run_roles(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: error: {e:#}", tool.name());
            // k3s-check-config keeps 1 for "the kernel lacks something", so its own failures exit 2.
            ExitCode::from(if tool == Tool::CheckConfig { 2 } else { 1 })
        }
    }
}
