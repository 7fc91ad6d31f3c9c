//! `recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.inc`: the k3s release's airgap image archives
//! (URL and sha256 per architecture) from the hand-recorded facts file next to it, for `k3s-airgap-images.bb`.
//!
//! The facts say which k3s commit they were checked for; the recipe compares that with `K3S_SRCREV` at parse time.
//! Here the facts are held to the spec where they must agree (the tag) and to the shape of a release asset URL, so a
//! typo in the facts file stops `gen` with the file and line instead of reaching BitBake's fetcher.

use bb_value::{Op, Val, assign, assign_flag, comment};

use anyhow::{Context as _, Result, bail};

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.inc";
/// The facts file it is rendered from.
pub const FACTS: &str = "recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.tsv";

/// OE's TARGET_ARCH → the architecture name in k3s's release asset names (Go's GOARCH), in render order.
pub const ARCHES: [(&str, &str); 3] = [("x86_64", "amd64"), ("aarch64", "arm64"), ("arm", "arm")];

const RELEASES: &str = "https://github.com/k3s-io/k3s/releases/download";

/// The parsed facts file.
#[derive(Debug, PartialEq, Eq)]
pub struct Facts {
    /// Release tag the archives are assets of.
    pub tag: String,
    /// The k3s commit the facts were checked for.
    pub k3s_commit: String,
    /// `compared` or `not-compared`, then the reason.
    pub image_list: (String, String),
    /// (k3s arch, URL, sha256) in the order of [`ARCHES`].
    pub archives: Vec<(String, String, String)>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses the facts file; errors name `FACTS:line` and what was expected.
pub fn parse(text: &str) -> Result<Facts> {
    let (mut tag, mut commit, mut list) = (None, None, None);
    let mut archives: Vec<(String, String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{FACTS}:{}", n + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        match cols.as_slice() {
            ["tag", t] if tag.is_none() => tag = Some(t.to_string()),
            ["k3s-commit", c] if commit.is_none() => {
                if !is_hex(c, 40) {
                    bail!("{}: k3s-commit \"{c}\" is not a 40-hex commit", at());
                }
                commit = Some(c.to_string());
            }
            ["image-list", how, why] if list.is_none() => {
                if !matches!(*how, "compared" | "not-compared") || why.trim().is_empty() {
                    bail!("{}: expected `image-list<TAB>compared|not-compared<TAB>reason`", at());
                }
                list = Some((how.to_string(), why.to_string()));
            }
            ["archive", arch, url, sha] => {
                if !ARCHES.iter().any(|(_, a)| a == arch) {
                    bail!("{}: arch \"{arch}\" is not one of amd64 arm64 arm", at());
                }
                if archives.iter().any(|(a, _, _)| a == arch) {
                    bail!("{}: a second archive line for {arch}", at());
                }
                if !is_hex(sha, 64) {
                    bail!("{}: sha256 \"{sha}\" is not 64 lower-case hex digits", at());
                }
                archives.push((arch.to_string(), url.to_string(), sha.to_string()));
            }
            [key, ..] if matches!(*key, "tag" | "k3s-commit" | "image-list") && cols.len() <= 3 => {
                bail!("{}: {key} given twice, or with the wrong number of columns", at())
            }
            _ => bail!("{}: expected a `tag`, `k3s-commit`, `image-list` or `archive` record (tab-separated)", at()),
        }
    }
    let tag = tag.with_context(|| format!("{FACTS}: no `tag` record"))?;
    let k3s_commit = commit.with_context(|| format!("{FACTS}: no `k3s-commit` record"))?;
    let image_list = list.with_context(|| format!("{FACTS}: no `image-list` record"))?;
    let mut ordered = Vec::new();
    for (_, arch) in ARCHES {
        let Some(pos) = archives.iter().position(|(a, _, _)| a == arch) else {
            bail!("{FACTS}: no archive record for {arch}");
        };
        let (a, url, sha) = archives.swap_remove(pos);
        // The release asset URL GitHub serves for this tag ('+' escaped as in the release's own links).
        let want = format!("{RELEASES}/{}/k3s-airgap-images-{a}.tar.zst", tag.replace('+', "%2B"));
        if url != want {
            bail!("{FACTS}: archive {a}: URL {url} is not the release asset of tag {tag} ({want})");
        }
        ordered.push((a, url, sha));
    }
    Ok(Facts { tag, k3s_commit, image_list, archives: ordered })
}

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
        &format!("image list of the archive against the built k3s: {} ({})", facts.image_list.0, facts.image_list.1),
    )?;
    assign(&mut out, "K3S_AIRGAP_IMAGE_LIST", Op::Set, Val::Lit(&facts.image_list.0))?;
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
    use std::fmt::Write as _;

    use super::*;

    fn facts(extra: &str) -> String {
        let sha = "a".repeat(64);
        let mut s = format!("# c\ntag\tv1.2.3+k3s1\nk3s-commit\t{}\nimage-list\tnot-compared\twhy\n", "0".repeat(40));
        for a in ["arm", "amd64", "arm64"] {
            let _ = writeln!(s, "archive\t{a}\t{RELEASES}/v1.2.3%2Bk3s1/k3s-airgap-images-{a}.tar.zst\t{sha}");
        }
        s + extra
    }

    #[test]
    fn parses_and_orders_by_arch() {
        let f = parse(&facts("")).unwrap();
        assert_eq!(f.archives.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["amd64", "arm64", "arm"]);
        assert_eq!(f.image_list.0, "not-compared");
    }

    #[test]
    fn refuses_bad_records_naming_the_line() {
        let bad_sha = facts("").replace(&"a".repeat(64), "xyz");
        assert!(format!("{:#}", parse(&bad_sha).unwrap_err()).contains(":5: sha256 \"xyz\""));
        let other_tag =
            facts("").replacen("v1.2.3%2Bk3s1/k3s-airgap-images-arm.", "v1.2.4%2Bk3s1/k3s-airgap-images-arm.", 1);
        assert!(
            format!("{:#}", parse(&other_tag).unwrap_err()).contains("is not the release asset of tag v1.2.3+k3s1")
        );
        let dup = facts(&format!("archive\tarm\tu\t{}\n", "b".repeat(64)));
        assert!(format!("{:#}", parse(&dup).unwrap_err()).contains(":8: a second archive line for arm"));
        let unknown = facts("archive\tmips\tu\tx\n");
        assert!(format!("{:#}", parse(&unknown).unwrap_err()).contains("arch \"mips\""));
        let missing = facts("").lines().filter(|l| !l.contains("-arm64.")).collect::<Vec<_>>().join("\n");
        assert!(format!("{:#}", parse(&missing).unwrap_err()).contains("no archive record for arm64"));
        let junk = facts("version\tv1\n");
        assert!(format!("{:#}", parse(&junk).unwrap_err()).contains(":8: expected a `tag`"));
    }

    #[test]
    fn the_committed_facts_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let f = parse(&std::fs::read_to_string(root.join(FACTS)).unwrap()).unwrap();
        assert_eq!(f.tag, "v1.36.2+k3s1");
        assert!(f.archives[0].2.starts_with("da6a3b2d"));
    }

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
