//! `conf/include/k3s_data_paths.inc`: where k3s reads what an image bakes in (airgap image archives, auto-deploy
//! manifests, static charts, registries.yaml), its node identity directory and the state directories a read-only
//! root moves to a persistent partition, from [`k3s_model::paths`] — the same table the node tools and the stand-in
//! k3s use, so the recipes and classes cannot name another directory than k3s reads.

use anyhow::Result;
use bb_value::{Op, Val, assign, comment};
use k3s_model::paths;

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "conf/include/k3s_data_paths.inc";

/// `/etc/x` as `${sysconfdir}/x`, `/var/x` as `${localstatedir}/x` (oelint's rule, and OE's directory variables).
fn bb_path(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/etc/") {
        format!("${{sysconfdir}}/{rest}")
    } else if let Some(rest) = path.strip_prefix("/var/") {
        format!("${{localstatedir}}/{rest}")
    } else {
        path.to_string()
    }
}

/// Renders the directory variables.
pub fn render(_ctx: &Context) -> Result<String> {
    let mut out = String::from(
        "# Required by the k3s recipe, the airgap images recipe and classes/k3s_workloads.bbclass: where k3s\n\
         # reads what an image bakes in, and the state a read-only root keeps on a persistent partition.\n",
    );
    for (var, path, why) in [
        ("K3S_AGENT_IMAGES_DIR", paths::AGENT_IMAGES_DIR, "image archives the agent imports into containerd on start"),
        ("K3S_SERVER_MANIFESTS_DIR", paths::SERVER_MANIFESTS_DIR, "manifests the server applies on start"),
        ("K3S_SERVER_STATIC_CHARTS_DIR", paths::SERVER_STATIC_CHARTS_DIR, "charts served at /static/charts/"),
        ("K3S_REGISTRIES_FILE", paths::REGISTRIES_FILE, "containerd's registry mirrors and credentials"),
        ("K3S_NODE_CONFIG_DIR", paths::NODE_CONFIG_DIR, "node password and id, made on first start"),
    ] {
        comment(&mut out, why)?;
        assign(&mut out, var, Op::Set, Val::Bb(&bb_path(path)))?;
    }
    out.push_str("# state that must survive a reboot (on a read-only root: bound from K3S_DATA_PARTITION)\n");
    let dirs: Vec<String> = paths::PERSISTENT_STATE_DIRS.iter().map(|p| bb_path(p)).collect();
    assign(&mut out, "K3S_PERSISTENT_STATE_DIRS", Op::Set, Val::Bb(&dirs.join(" ")))?;
    Ok(out)
}
