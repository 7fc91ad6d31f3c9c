//! The node-tools recipe: this layer's on-target crates (`meta-k3s-rs/`) as an OE-Core `cargo` recipe built from the
//! layer's own tree, rendered by the `cargo-recipe` crate exactly as `k3s-bake cargo` would.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use cargo_recipe::cache::Cache;
use cargo_recipe::recipe::{Options, Recipe, Sources, generate};
use cargo_recipe::resolve::DEFAULT_TARGETS;

use crate::context::Context;

/// A Rust recipe registered with `gen`: data only.
#[derive(Debug)]
pub struct Registration {
    /// Recipe name (BPN).
    pub name: &'static str,
    /// Workspace root manifest, relative to the layer root: its own workspace, so the recipe vendors only what
    /// that workspace's Cargo.lock locks.
    pub manifest: &'static str,
    /// Build the member named like the recipe when it exists (it pulls in what it links), else every member
    /// under this directory (relative to the layer root).
    pub members_under: &'static str,
    /// Hand-written includes required after the generated ones.
    pub requires: &'static [&'static str],
    /// The registered .bb path; its `_<version>` must match the rendered version.
    pub bb: &'static str,
}

/// The node tools.
pub const NODE: Registration = Registration {
    name: "k3s-node",
    manifest: "meta-k3s-rs/Cargo.toml",
    members_under: "meta-k3s-rs/",
    requires: &["k3s-node.inc"],
    bb: "recipes-containers/k3s-node/k3s-node_0.1.0.bb",
};

/// `${THISDIR}/../..`: from the recipe's directory back to the layer root, which holds the workspace (in a
/// subdirectory) and the license texts. A recipe-relative
/// path needs no variable in conf/layer.conf and keeps working wherever the layer is checked out.
fn thisdir_to_root(bb: &str) -> String {
    let depth = bb.split('/').count().saturating_sub(1);
    std::iter::once("${THISDIR}").chain(std::iter::repeat_n("..", depth)).collect::<Vec<_>>().join("/")
}

/// Renders `reg` for the layer in `ctx`.
pub fn recipe(ctx: &Context, reg: &Registration) -> Result<Recipe> {
    let Some(subdir) = reg.manifest.strip_suffix("Cargo.toml").map(|d| d.trim_end_matches('/')) else {
        bail!("{}: not a Cargo.toml", reg.manifest);
    };
    if subdir.starts_with('/') || subdir.split('/').any(|c| c == "..") {
        bail!("{}: the workspace must be inside the layer for file:// sources relative to the recipe", reg.manifest);
    }
    let manifest = ctx.root.join(reg.manifest);
    let ws = cargo_recipe::manifest::Workspace::load(&manifest)?;
    let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    if !same(&ws.root, &ctx.root.join(subdir)) {
        bail!("{}: not a workspace root (its workspace is {})", reg.manifest, ws.root.display());
    }
    let packages: Vec<String> = match ws.member(reg.name) {
        Some(p) => vec![p.name.clone()],
        None => {
            let under = ws
                .root
                .join(reg.members_under.strip_prefix(subdir).unwrap_or(reg.members_under).trim_start_matches('/'));
            ws.members.iter().filter(|m| m.dir.starts_with(&under)).map(|m| m.name.clone()).collect()
        }
    };
    if packages.is_empty() {
        bail!("no workspace member under {} for recipe {}", reg.members_under, reg.name);
    }
    let opts = Options {
        packages,
        name: Some(reg.name.to_owned()),
        version: None,
        sources: Sources::Local { dir: thisdir_to_root(reg.bb), subdir: subdir.to_owned() },
        requires: reg.requires.iter().map(|r| (*r).to_owned()).collect(),
        cargo_home: None,
        // The layer's machines: qemux86-64, qemuarm64, qemuarm.
        targets: DEFAULT_TARGETS.iter().map(|t| (*t).to_owned()).collect(),
        // Licence facts by sha256 and cargo's answer: a rerun of `gen` reads the archives and runs cargo again only
        // when an input changed.
        cache: Cache::default_location(),
        recipe_dir: Path::new(reg.bb).parent().map(|d| ctx.root.join(d)),
    };
    // Its own workspace: the crates it reads are those of its own Cargo.lock, fetched from its own manifest.
    let recipe = generate(&manifest, &opts).with_context(|| {
        format!("{} (fetch its crates with `cargo fetch --locked --manifest-path {}`)", reg.name, reg.manifest)
    })?;
    if !recipe.warnings.is_empty() {
        // A license OE-Core has no text for needs a decision (NO_GENERIC_LICENSE, or another crate): the layer's
        // own recipe must not ship with one silently.
        bail!("{}: {}", reg.name, recipe.warnings.join("; "));
    }
    let expected = reg.bb.rsplit('/').next().unwrap_or_default();
    if recipe.bb_name() != expected {
        bail!(
            "{} renders as {} (the version changed): update the path in render/node_recipe.rs to match",
            reg.bb,
            recipe.bb_name()
        );
    }
    Ok(recipe)
}

/// The node recipe's crate list (next to [`NODE`]'s .bb).
pub const CRATES_INC: &str = "recipes-containers/k3s-node/k3s-node-crates.inc";
/// The node recipe's licences of the linked crates.
pub const LICENSES_INC: &str = "recipes-containers/k3s-node/k3s-node-licenses.inc";

#[cfg(test)]
thread_local! {
    /// How often this thread rendered the node recipe (tests: once per `gen`).
    pub static RENDERS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The three files of the node recipe from one rendering, in the order `k3s-node_<version>.bb`, [`CRATES_INC`],
/// [`LICENSES_INC`].
pub fn render_files(ctx: &Context) -> Result<Vec<String>> {
    #[cfg(test)]
    RENDERS.with(|n| n.set(n.get() + 1));
    let r = recipe(ctx, &NODE)?;
    Ok(vec![r.bb, r.crates_inc, r.licenses_inc])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cargo-recipe names the includes after the recipe, next to its .bb.
    #[test]
    fn the_include_paths_sit_next_to_the_bb() {
        let dir = NODE.bb.rsplit_once('/').map(|(d, _)| d).unwrap();
        assert_eq!(CRATES_INC, format!("{dir}/{}-crates.inc", NODE.name));
        assert_eq!(LICENSES_INC, format!("{dir}/{}-licenses.inc", NODE.name));
    }

    #[test]
    fn thisdir_climbs_to_the_layer_root() {
        assert_eq!(super::thisdir_to_root("recipes-x/y/y_1.bb"), "${THISDIR}/../..");
    }

    /// The node recipe is the target workspace's alone: it ships `meta-k3s-rs/` (and the license texts at the top),
    /// builds with that workspace's Cargo.lock, and vendors exactly the crates that lock holds, none of the host
    /// tools' (`tools/`, the root Cargo.lock).
    #[test]
    fn the_node_recipe_vendors_only_the_target_workspace_lock() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
        let ctx = Context::load(&root).unwrap();
        let recipe = recipe(&ctx, &NODE).unwrap();
        let files: Vec<&str> =
            recipe.bb.lines().filter_map(|l| l.trim().strip_prefix("file://")?.split(';').next()).collect();
        assert!(files.iter().all(|f| f.starts_with("meta-k3s-rs/") || f.starts_with("LICENSE-")), "{files:?}");
        assert!(files.contains(&"meta-k3s-rs/Cargo.lock") && files.contains(&"meta-k3s-rs/k3s-node"), "{files:?}");
        assert!(recipe.bb.contains("CARGO_LOCK_PATH = \"${S}/meta-k3s-rs/Cargo.lock\""), "{}", recipe.bb);
        assert!(recipe.bb.contains("CARGO_SRC_DIR = \"meta-k3s-rs/k3s-node\""), "{}", recipe.bb);
        // The licence texts sit at the layer root, above the workspace: still the recipe's own licence files.
        for text in ["LICENSE-APACHE", "LICENSE-MIT"] {
            assert!(recipe.bb.contains(&format!("    file://{text};md5=")), "{}", recipe.bb);
        }

        let lock = cargo_recipe::lock::Lockfile::load(&root.join("meta-k3s-rs/Cargo.lock")).unwrap();
        let want: std::collections::BTreeSet<String> = lock
            .packages
            .iter()
            .filter(|p| p.source == cargo_recipe::lock::Source::CratesIo)
            .map(|p| format!("{}-{}", p.name, p.version))
            .collect();
        let vendored: std::collections::BTreeSet<String> = recipe
            .crates_inc
            .lines()
            .filter_map(|l| {
                l.trim()
                    .trim_end_matches(" \\")
                    .strip_prefix("crate://crates.io/")?
                    .split_once(";name=")
                    .map(|(_, n)| n.to_owned())
            })
            .collect();
        assert_eq!(vendored, want);
        for host_only in ["ring", "rustls", "ureq", "zip", "toml"] {
            assert!(!vendored.iter().any(|c| c.rsplit_once('-').is_some_and(|(n, _)| n == host_only)), "{host_only}");
        }
    }
}
