//! The node identity k3s's agent (also the server's embedded one) sets up before it asks the server for node
//! certificates (k3s pkg/agent/config `get`): `/etc/rancher/node` created (0755), the node password read from
//! `password` or made there (16 random bytes as hex, 0600), the node name `--node-name` or the lower-cased host
//! name, and with `--with-node-id` the id from `id` (or 4 random bytes as hex written there, 0644) appended as
//! `<name>-<id>`. Faithful where a flashed image can go wrong: files baked into the image are reused, so every
//! clone of an image holding them would present the same name and password; a read-only `/etc` without a
//! writable `/etc/rancher/node` stops k3s.

use anyhow::{Context, Result};
use k3s_model::paths;
use std::io::Read;
use std::path::Path;

fn random_hex(bytes: usize) -> Result<String> {
    let mut raw = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// k3s's ensureNodeID / ensureNodePassword: the trimmed content of FILE, or a new random value written there.
fn ensure(file: &Path, bytes: usize, mode: u32) -> Result<String> {
    if let Ok(text) = std::fs::read_to_string(file) {
        return Ok(text.trim().to_string());
    }
    let value = random_hex(bytes)?;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(file)
        .with_context(|| format!("open {}", file.display()))?;
    f.write_all(format!("{value}\n").as_bytes())?;
    Ok(value)
}

/// The node name k3s registers with, after making the identity files as k3s does.
pub fn node_name(node_name: Option<String>, with_node_id: bool) -> Result<String> {
    let dir = Path::new(paths::NODE_CONFIG_DIR);
    std::fs::create_dir_all(dir).with_context(|| format!("mkdir {}", dir.display()))?;
    ensure(&dir.join("password"), 16, 0o600)?;
    let mut name = match node_name.filter(|n| !n.is_empty()) {
        Some(n) => n,
        None => std::fs::read_to_string("/proc/sys/kernel/hostname").context("hostname")?.trim().to_string(),
    }
    .to_lowercase();
    if with_node_id {
        name = format!("{name}-{}", ensure(&dir.join("id"), 4, 0o644)?);
    }
    Ok(name)
}
