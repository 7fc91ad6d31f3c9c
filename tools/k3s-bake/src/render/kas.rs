//! `kas/*.yml`: kas project files rendered from the spec, so `gen --check` covers them.
//!
//! `kas/base.yml` pins OE-Core and BitBake (spec `layers:`), adds this layer and the `require` line; one file per
//! machine includes it and sets MACHINE; `kas/meta-networking.yml` adds meta-openembedded's meta-oe, meta-python
//! and meta-networking (`kas build kas/qemux86-64.yml:kas/meta-networking.yml`). Validated by kas's own schema in
//! `.ci/test.d/80-setup.sh`.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use k3s_setup::layers::{LayerPin, Repo};
use k3s_setup::machine::MACHINES;

use crate::context::Context;
use crate::spec::Role;

/// kas configuration format version the files declare (kas 5.5 reads 1 to 23; `commit`/`branch` as separate
/// keys and `layers: {.: disabled}` are in every format kas has accepted since 4.x).
const KAS_FORMAT: u32 = 16;

/// The base every machine file includes.
pub const BASE: &str = "kas/base.yml";
/// The optional meta-networking include.
pub const NETWORKING: &str = "kas/meta-networking.yml";
/// One file per machine, in [`MACHINES`] order (a test keeps the two lists equal).
pub const MACHINE_FILES: [&str; 3] = ["kas/qemux86-64.yml", "kas/qemuarm64.yml", "kas/qemuarm.yml"];

/// The repository id of this layer in the kas files (the repository the kas files live in).
const SELF_REPO: &str = "meta-k3s-rs";

fn repo(out: &mut String, name: &str, pin: &LayerPin, layers: &[&str]) {
    let _ = write!(
        out,
        "  {name}:\n    url: {}\n    branch: \"{}\"\n    commit: {}\n    layers:\n",
        pin.git, pin.branch, pin.commit
    );
    if layers.is_empty() {
        // A repository that is not a layer (BitBake): kas must not add it to bblayers.conf.
        out.push_str("      .: disabled\n");
    }
    for l in layers {
        let _ = writeln!(out, "      {l}:");
    }
}

/// `kas/base.yml`.
pub fn render_base(ctx: &Context) -> Result<String> {
    let layers = &ctx.spec.layers;
    let Some(server) = ctx.spec.images.iter().find(|(_, p)| p.role == Role::Server).map(|(n, _)| n) else {
        bail!("k3s-spec.yaml: images has no image with role server (the kas files' default target)");
    };
    let mut out = format!(
        "# Base of the machine files next to it: OE-Core {release} and BitBake at the commits k3s-spec.yaml pins\n\
         # (layers:), this layer, and the one line that turns it on. Build with `kas build kas/<machine>.yml`.\n\
         header:\n  version: {KAS_FORMAT}\n\n\
         distro: nodistro\ntarget: {server}\n\n\
         repos:\n  # This repository (the layer).\n  {SELF_REPO}:\n",
        release = layers.release,
    );
    repo(&mut out, Repo::OeCore.dir_name(), &layers.oe_core, Repo::OeCore.layer_dirs());
    repo(&mut out, Repo::Bitbake.dir_name(), &layers.bitbake, Repo::Bitbake.layer_dirs());
    let _ = write!(
        out,
        "\nlocal_conf_header:\n  # systemd, seccomp and the k3s-rs distro feature (README: Using the layer).\n  {SELF_REPO}: |\n    {}\n",
        k3s_setup::setup::REQUIRE_LINE
    );
    Ok(out)
}

/// `kas/meta-networking.yml`.
pub fn render_networking(ctx: &Context) -> Result<String> {
    let mut out = format!(
        "# Optional: meta-openembedded's meta-networking (with the meta-oe and meta-python it depends on), so k3s also\n\
         # gets conntrack-tools and ipset. Add it after a machine file: kas build kas/qemux86-64.yml:{NETWORKING}\n\
         header:\n  version: {KAS_FORMAT}\n\nrepos:\n"
    );
    repo(
        &mut out,
        Repo::MetaOpenembedded.dir_name(),
        &ctx.spec.layers.meta_openembedded,
        Repo::MetaOpenembedded.layer_dirs(),
    );
    Ok(out)
}

fn render_machine(index: usize) -> Result<String> {
    let machine = MACHINES[index].name;
    Ok(format!(
        "# {machine}: `kas build {}`, then `kas shell {} -c 'runqemu {machine} nographic slirp'`.\n\
         header:\n  version: {KAS_FORMAT}\n  includes:\n    - {BASE}\n\nmachine: {machine}\n",
        MACHINE_FILES[index], MACHINE_FILES[index]
    ))
}

/// `kas/qemux86-64.yml`.
pub fn render_qemux86_64(_: &Context) -> Result<String> {
    render_machine(0)
}
/// `kas/qemuarm64.yml`.
pub fn render_qemuarm64(_: &Context) -> Result<String> {
    render_machine(1)
}
/// `kas/qemuarm.yml`.
pub fn render_qemuarm(_: &Context) -> Result<String> {
    render_machine(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_per_machine_named_after_it() {
        assert_eq!(MACHINE_FILES.len(), MACHINES.len());
        for (file, m) in MACHINE_FILES.iter().zip(MACHINES) {
            assert_eq!(*file, format!("kas/{}.yml", m.name));
            assert!(
                render_machine(MACHINE_FILES.iter().position(|f| f == file).unwrap())
                    .unwrap()
                    .contains(&format!("machine: {}\n", m.name))
            );
        }
    }
}
