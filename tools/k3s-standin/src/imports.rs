//! What k3s would import on start: the files of `<data-dir>/agent/images` (k3s pkg/agent/config sets
//! `nodeConfig.Images` to that directory; the agent imports each file there into containerd), and for the server the
//! files of `<data-dir>/server/manifests` it would apply. Recorded (`images`, `manifests`: one `name size` line
//! each, sorted) so tests see that an image's baked archives and manifests are where this k3s looks, with its
//! `--data-dir`. The archives are not read: the stand-in runs no containerd.

use anyhow::{Context, Result};
use std::path::Path;

/// `name size` lines of the regular files (links followed) directly in DIR, sorted; empty when DIR is missing.
pub fn listing(dir: &Path) -> Result<String> {
    let mut lines = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let md = std::fs::metadata(entry.path())?;
        if md.is_file() {
            lines.push(format!("{} {}\n", entry.file_name().to_string_lossy(), md.len()));
        }
    }
    lines.sort();
    Ok(lines.concat())
}

/// Records what k3s with DATA_DIR would import (and, for a server, apply) into RECORD, and the registries file it
/// reads (`--private-registry`, default /etc/rancher/k3s/registries.yaml): `registries` holds its path and size, or
/// nothing when it is absent (k3s then uses no mirrors).
pub fn record(data_dir: &str, registries: &str, server: bool, record: &Path) -> Result<()> {
    let reg = match std::fs::metadata(registries) {
        Ok(md) => format!("{registries} {}\n", md.len()),
        Err(_) => String::new(),
    };
    std::fs::write(record.join("registries"), reg)?;
    let data = Path::new(data_dir);
    std::fs::write(record.join("images"), listing(&data.join("agent/images"))?)?;
    if server {
        std::fs::write(record.join("manifests"), listing(&data.join("server/manifests"))?)?;
    }
    Ok(())
}
