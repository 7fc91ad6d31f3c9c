//! `recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.inc`: the k3s release's airgap image archives
//! (URL and sha256 per architecture) from the facts file next to it (written by `k3s-bake bump`, or by hand), for
//! `k3s-airgap-images.bb`.
//!
//! The facts say which k3s commit they were checked for; the recipe compares that with `K3S_SRCREV` at parse time.
//! Here the facts are held to the spec where they must agree (the tag) and to the shape of a release asset URL, so a
//! typo in the facts file stops `gen` with the file and line instead of reaching BitBake's fetcher.

use bb_value::{Op, Val, assign, assign_flag, comment};

use anyhow::{Context as _, Result};
use k3s_upstream_facts::airgap::{ARCHES, parse};

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.inc";
/// The facts file it is rendered from (its format: `k3s_upstream_facts::airgap`, shared with `k3s-bake bump`).
pub use k3s_upstream_facts::airgap::FACTS;

/// Renders the include from the facts file (noting when they are for another tag than the spec pins).
pub fn render(ctx: &Context) -> Result<String> {
    let path = ctx.root.join(FACTS);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let facts = parse(&text)?;
    let pin = &ctx.spec.pins.k3s;
    let spec_tag = pin.tag.as_deref().unwrap_or(&pin.version);
    let mut out = String::from(
        "# Required by k3s-airgap-images.bb: the release airgap archive per architecture and the k3s commit these\n\
         # facts were checked for (the recipe is skipped unless K3S_SRCREV is that commit). Provenance: the facts file.\n",
    );
    // After `k3s-bake bump` the facts still name the old release until they are re-recorded: gen must still render
    // (bump runs it), and the recipe's parse-time check (K3S_SRCREV against the checked commit) keeps the old
    // archive out of an image of the new k3s, with a message naming the facts file.
    if facts.tag != spec_tag {
        comment(
            &mut out,
            &format!(
                "These facts are for k3s {}, but k3s-spec.yaml pins {spec_tag}: the recipe is skipped until {FACTS} is re-recorded.",
                facts.tag
            ),
        )?;
    }
    assign(&mut out, "K3S_AIRGAP_TAG", Op::Set, Val::Lit(&facts.tag))?;
    assign(&mut out, "K3S_AIRGAP_CHECKED_SRCREV", Op::Set, Val::Lit(&facts.k3s_commit))?;
    comment(
        &mut out,
        &format!(
            "image list of the archive against the built k3s: {} ({})",
            facts.image_list.word(),
            facts.image_list.why
        ),
    )?;
    assign(&mut out, "K3S_AIRGAP_IMAGE_LIST", Op::Set, Val::Lit(facts.image_list.word()))?;
    comment(&mut out, "TARGET_ARCH -> the architecture in k3s's asset names")?;
    for (target, arch) in ARCHES {
        assign_flag(&mut out, "K3S_AIRGAP_ARCH", target, Op::Set, Val::Lit(arch))?;
    }
    for (arch, url, sha) in &facts.archives {
        assign_flag(&mut out, "K3S_AIRGAP_URL", arch, Op::Set, Val::Lit(url))?;
        assign_flag(&mut out, "SRC_URI", &format!("{arch}.sha256sum"), Op::Set, Val::Lit(sha))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a bump the spec pins a newer tag than the facts: gen still renders (bump runs it), saying so; the
    /// recipe's K3S_SRCREV check then skips it (found by 33-bump-e2e, where gen stopped the bump).
    #[test]
    fn facts_of_another_tag_render_with_a_note() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut ctx = Context::load(&root).unwrap();
        assert!(!render(&ctx).unwrap().contains("but k3s-spec.yaml pins"));
        ctx.spec.pins.k3s.tag = Some("v1.36.3+k3s1".into());
        let out = render(&ctx).unwrap();
        assert!(out.contains("These facts are for k3s v1.36.2+k3s1, but k3s-spec.yaml pins v1.36.3+k3s1"), "{out}");
        assert!(out.contains("K3S_AIRGAP_CHECKED_SRCREV = "), "{out}");
    }
}
