//! A stand-in for `/usr/bin/k3s`, for the systemd (PID 1) suite (`.ci/test.d/70-systemd.sh`). Never in an image.
//!
//! Faithful where the layer's units, config files and node tools can go wrong:
//! - k3s's config handling (`config`): `config.yaml` then `config.yaml.d/*.yaml`, `key+` appends, keys become
//!   flags, `server` drops unknown keys with k3s's warning, `agent` does not;
//! - the subcommand's flags (`cli`, from `k3s_model::flags`): an undefined one stops it with k3s's text
//!   (`flag provided but not defined: -disable`) and exit status 1, so systemd restarts it forever as it would
//!   restart k3s;
//! - `agent` needs `--server` and a token (`--token`/`K3S_TOKEN` or `--token-file`/`K3S_TOKEN_FILE`, the file's
//!   content trimmed as k3s trims it); `server` writes its token files (0600) and the kubeconfig with
//!   `write-kubeconfig-mode` where `write-kubeconfig` says (default /etc/rancher/k3s/k3s.yaml);
//! - the node identity (`identity`): `/etc/rancher/node/password` and, with `--with-node-id`, `id`, made on first
//!   start or reused, and the node name they give (recorded as `node-name`);
//! - what it would import and apply (`imports`): the files in `<data-dir>/agent/images` and
//!   `<data-dir>/server/manifests` (recorded as `images`, `manifests`);
//! - the node state (`node`), then `READY=1` on `$NOTIFY_SOCKET` (Type=notify), then it runs until SIGTERM.
//!
//! Not modelled: anything on the network (the agent never contacts its server), Kubernetes itself.
//! What it received is recorded under `/run/k3s-standin/<subcommand>/` (`argv`, NUL-separated after the config
//! merge; `token`, mode 0600, byte for byte) so tests compare it with what they gave.
#![forbid(unsafe_code)]

mod cli;
mod config;
mod identity;
mod imports;
mod node;

use anyhow::{Context, Result, bail};
use k3s_model::flags::Command;
use k3s_model::paths;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

const RECORD_DIR: &str = "/run/k3s-standin";

fn log(level: &str, msg: &str) {
    // logrus's text format, as k3s writes to the journal.
    eprintln!("level={level} msg={msg:?}");
}

fn write_secret(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("stand-in k3s: mkdir {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("stand-in k3s: {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("stand-in k3s: {}", path.display()))?;
    Ok(())
}

fn notify_ready() -> Result<()> {
    let Some(sock) = std::env::var_os("NOTIFY_SOCKET") else { return Ok(()) };
    let s = std::os::unix::net::UnixDatagram::unbound()?;
    let msg = b"READY=1\nSTATUS=stand-in k3s running\n";
    let bytes = sock.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        s.send_to_addr(msg, &addr)?;
    } else {
        s.send_to(msg, Path::new(&sock))?;
    }
    Ok(())
}

/// k3s trims a token file's content (`util.ReadFile` + `strings.TrimSpace`).
fn read_token_file(path: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read token file {path}"))?;
    Ok(text.trim().to_string())
}

fn run(cmd: Command, argv: Vec<String>) -> Result<()> {
    let env = |v: &str| std::env::var(v).ok();
    let (argv, warnings) = config::expand(&argv, env("K3S_CONFIG_FILE")).map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &warnings {
        log("warning", w);
    }
    let at = argv.iter().position(|a| a == cmd.as_str()).unwrap_or(1);
    let parsed = match cli::parse(cmd, &argv[at + 1..]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Incorrect Usage: {e}\n");
            bail!("{e}");
        }
    };
    let record = Path::new(RECORD_DIR).join(cmd.as_str());
    std::fs::create_dir_all(&record)?;
    let mut joined = argv.join("\0").into_bytes();
    joined.push(0);
    std::fs::write(record.join("argv"), joined)?;

    let token = match parsed.get("token", &env) {
        Some(t) => Some(t),
        None => parsed.get("token-file", &env).map(|f| read_token_file(&f)).transpose()?,
    };
    match cmd {
        Command::Agent => {
            let server = parsed.get("server", &env).filter(|s| !s.is_empty());
            if server.is_none() {
                bail!("--server is required");
            }
            let Some(token) = token.filter(|t| !t.is_empty()) else { bail!("--token is required") };
            write_secret(&record.join("token"), token.as_bytes())?;
        }
        Command::Server => {
            let token = match token {
                Some(t) => t,
                None => {
                    let mut raw = [0u8; 16];
                    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut raw)?;
                    raw.iter().map(|b| format!("{b:02x}")).collect()
                }
            };
            write_secret(&record.join("token"), token.as_bytes())?;
            let server_dir = Path::new(paths::SERVER_DIR);
            // The full token agents join with: K10<CA hash>::server:<token> (the hash is a fixed stand-in value).
            let full = format!("K10{}::server:{token}\n", "0".repeat(64));
            write_secret(&server_dir.join("token"), full.as_bytes())?;
            write_secret(Path::new(paths::NODE_TOKEN), full.as_bytes())?;
            let mode = parsed.get("write-kubeconfig-mode", &env).unwrap_or_else(|| "0600".into());
            let mode = u32::from_str_radix(&mode, 8).with_context(|| format!("invalid kubeconfig mode {mode}"))?;
            let kubeconfig = parsed.get("write-kubeconfig", &env).unwrap_or_else(|| paths::KUBECONFIG.into());
            write_secret(Path::new(&kubeconfig), b"apiVersion: v1\nkind: Config\n# stand-in k3s\n")?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kubeconfig, std::fs::Permissions::from_mode(mode))?;
        }
    }
    let with_id = parsed
        .get("with-node-id", &env)
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    let name = identity::node_name(parsed.get("node-name", &env), with_id)?;
    std::fs::write(record.join("node-name"), format!("{name}\n"))?;
    let data_dir = parsed.get("data-dir", &env).unwrap_or_else(|| paths::DATA_DIR.into());
    let registries = parsed.get("private-registry", &env).unwrap_or_else(|| paths::REGISTRIES_FILE.into());
    imports::record(&data_dir, &registries, matches!(cmd, Command::Server), &record)?;
    node::build()?;
    notify_ready().context("stand-in k3s: sd_notify")?;
    log("info", &format!("stand-in k3s {} running", cmd.as_str()));
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let name = argv.first().and_then(|a| a.rsplit('/').next()).unwrap_or("k3s").to_string();
    if name.starts_with("containerd-shim") {
        node::shim();
    }
    // `print-flags server|agent`: the flags the config files expand to, one per line (for tests of the layer's
    // rendered config files), with k3s's warnings on stderr.
    if argv.get(1).map(String::as_str) == Some("print-flags") {
        let mut args = vec![name.clone()];
        args.extend(argv.iter().skip(2).cloned());
        return match config::expand(&args, std::env::var("K3S_CONFIG_FILE").ok()) {
            Ok((flags, warnings)) => {
                warnings.iter().for_each(|w| log("warning", w));
                flags.iter().skip(2).for_each(|f| println!("{f}"));
                ExitCode::SUCCESS
            }
            Err(e) => {
                log("fatal", &e);
                ExitCode::from(1)
            }
        };
    }
    let cmd = match argv.get(1).map(String::as_str) {
        Some("server") => Command::Server,
        Some("agent") => Command::Agent,
        other => {
            eprintln!("stand-in k3s ({name}): only `k3s server` and `k3s agent` are modelled, not {other:?}");
            return ExitCode::from(1);
        }
    };
    match run(cmd, argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log("fatal", &format!("Error: {e:#}"));
            ExitCode::from(1)
        }
    }
}
