//! The node-tools recipe: this layer's on-target crates (`meta-k3s-rs/`) as an OE-Core `cargo` recipe built from the
//! layer's own tree, rendered by the `cargo-recipe` crate exactly as `k3s-bake cargo` would.

use std::path::Path;

use anyhow::{Result, bail};
use cargo_recipe::cache::Cache;
use cargo_recipe::recipe::{Options, Recipe, Sources, generate};
use cargo_recipe::resolve::DEFAULT_TARGETS;

use crate::generated::Context;

/// A Rust recipe registered with `gen`: data only.
#[derive(Debug)]
pub struct Registration {
    /// Recipe name (BPN).
    pub name: &'static str,
    /// Workspace manifest, relative to the layer root.
    pub manifest: &'static str,
    /// Build the member named like the recipe when it exists (it pulls in what it links), else every member
    /// under this directory.
    pub members_under: &'static str,
    /// Hand-written includes required after the generated ones.
    pub requires: &'static [&'static str],
    /// The registered .bb path; its `_<version>` must match the rendered version.
    pub bb: &'static str,
}

/// The node tools.
pub const NODE: Registration = Registration {
    name: "k3s-node",
    manifest: "Cargo.toml",
    members_under: "meta-k3s-rs/",
    requires: &["k3s-node.inc"],
    bb: "recipes-containers/k3s-node/k3s-node_0.1.0.bb",
};

/// `${THISDIR}/../..`: from the recipe's directory back to the layer root, which holds the workspace. A recipe-relative
/// path needs no variable in conf/layer.conf and keeps working wherever the layer is checked out.
fn thisdir_to_root(bb: &str) -> String {
    let depth = bb.split('/').count().saturating_sub(1);
    std::iter::once("${THISDIR}").chain(std::iter::repeat_n("..", depth)).collect::<Vec<_>>().join("/")
}

/// Renders `reg` for the layer in `ctx`.
pub fn recipe(ctx: &Context, reg: &Registration) -> Result<Recipe> {
    if reg.manifest != "Cargo.toml" {
        bail!("{}: the workspace must be at the layer root for file:// sources relative to the recipe", reg.manifest);
    }
    let manifest = ctx.root.join(reg.manifest);
    let ws = cargo_recipe::manifest::Workspace::load(&manifest)?;
    let packages: Vec<String> = match ws.member(reg.name) {
        Some(p) => vec![p.name.clone()],
        None => {
            let under = ws.root.join(reg.members_under);
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
        sources: Sources::Local { dir: thisdir_to_root(reg.bb) },
        requires: reg.requires.iter().map(|r| (*r).to_owned()).collect(),
        cargo_home: None,
        // The layer's machines: qemux86-64, qemuarm64, qemuarm.
        targets: DEFAULT_TARGETS.iter().map(|t| (*t).to_owned()).collect(),
        // `gen` renders this recipe once per file; the cache makes the second and third cheap.
        cache: Cache::default_location(),
        recipe_dir: Path::new(reg.bb).parent().map(|d| ctx.root.join(d)),
    };
    let recipe = generate(&manifest, &opts)?;
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

/// `k3s-node_<version>.bb`.
pub fn render_bb(ctx: &Context) -> Result<String> {
    Ok(recipe(ctx, &NODE)?.bb)
}

/// `k3s-node-crates.inc`.
pub fn render_crates(ctx: &Context) -> Result<String> {
    Ok(recipe(ctx, &NODE)?.crates_inc)
}

/// `k3s-node-licenses.inc`.
pub fn render_licenses(ctx: &Context) -> Result<String> {
    Ok(recipe(ctx, &NODE)?.licenses_inc)
}

#[cfg(test)]
mod tests {
    #[test]
    fn thisdir_climbs_to_the_layer_root() {
        assert_eq!(super::thisdir_to_root("recipes-x/y/y_1.bb"), "${THISDIR}/../..");
    }
}
