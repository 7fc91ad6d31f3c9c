//! `recipes-containers/k3s/k3s-go-mods.inc` and `k3s-licenses.inc`, rendered from the committed Go module facts.
//!
//! The go.mod/go.sum of the pinned k3s commit are not committed here, so the module set is the facts file itself:
//! every module version in it gets its zip (or git commit) fetched. That is the set the facts were recorded from
//! (a real build of this k3s version), so it is complete; `k3s-bake go render --go-sum` narrows a set to a go.sum's
//! graph (zips vs `mod=1`) when one is at hand.

use anyhow::{Context as _, Result};
use go_facts::Facts;
use go_facts::license::Decisions;
use go_facts::render::{ModuleSet, Rendered, render};

use crate::context::Context;

/// The committed facts file of the k3s recipe.
pub const FACTS: &str = "recipes-containers/k3s/k3s-go-facts.tsv";
/// This layer's class that rebuilds gomodgit zips the go command would reject.
pub const REZIP_CLASS: &str = "gomodgit_rezip";
/// The maintainers' license identifications by md5 for texts no fact source identified.
pub const DECISIONS: &str = "recipes-containers/k3s/k3s-go-license-decisions.tsv";

fn rendered(ctx: &Context) -> Result<Rendered> {
    let facts = Facts::load(&ctx.root.join(FACTS))?;
    anyhow::ensure!(!facts.modules.is_empty(), "{FACTS} is missing or empty; run `k3s-bake go import`");
    let decisions = Decisions::load(&ctx.root.join(DECISIONS))?;
    render(&facts, &decisions, ModuleSet::AllFacts, Some(REZIP_CLASS))
        .with_context(|| format!("rendering from {FACTS}"))
}

/// `k3s-go-mods.inc`.
pub fn go_mods(ctx: &Context) -> Result<String> {
    Ok(rendered(ctx)?.go_mods)
}

/// `k3s-licenses.inc`.
pub fn licenses(ctx: &Context) -> Result<String> {
    Ok(rendered(ctx)?.licenses)
}
