//! `recipes-containers/k3s/k3s-charts.inc`: traefik's Helm charts k3s embeds — each chart's version, the SRC_URI
//! entries of their archives (`name=` the chart) and the sha256sum flags — from the `chart` records of the upstream
//! facts (`k3s-upstream-facts.tsv`, written by `k3s-bake bump` from manifests/traefik.yaml and the downloaded
//! archives). The recipe requires it and adds `K3S_TRAEFIK_CHARTS` to SRC_URI only when K3S_DEPLOY_TRAEFIK is "1";
//! its do_compile still checks the embedded charts against manifests/traefik.yaml of the fetched source.

use anyhow::{Context as _, Result};
use bb_value::{Op, Val, assign_flag, comment, list, lit};

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s/k3s-charts.inc";
/// The facts file it is rendered from.
pub const FACTS: &str = k3s_upstream_facts::PATH;

/// Renders the include from the facts file.
pub fn render(ctx: &Context) -> Result<String> {
    let path = ctx.root.join(FACTS);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let facts = k3s_upstream_facts::parse(FACTS, &text)?;
    let mut out = String::new();
    comment(
        &mut out,
        "Required by k3s_git.bb: traefik's charts (manifests/traefik.yaml), fetched from K3S_TRAEFIK_CHART_BASE and\n\
         embedded when K3S_DEPLOY_TRAEFIK is \"1\". Change them with `k3s-bake bump`, never here.",
    )?;
    comment(&mut out, &wrap(&format!("Provenance: {}", facts.provenance), 112))?;
    if let Some(r) = &facts.read_from {
        comment(&mut out, &format!("Read from k3s {} (commit {}).", r.tag, r.commit))?;
        // The facts and the spec are written together by bump; a hand-edited pin leaves them apart. do_compile would
        // stop on the mismatch at build time; say it here, where the diff is reviewed.
        let pin = &ctx.spec.pins.k3s;
        if r.commit != pin.commit {
            comment(
                &mut out,
                &format!(
                    "These charts were read from k3s commit {}, but k3s-spec.yaml pins {}: run `k3s-bake bump`.",
                    r.commit, pin.commit
                ),
            )?;
        }
    }
    for c in &facts.charts {
        assign_flag(&mut out, "K3S_TRAEFIK_CHART_VERSION", &c.name, Op::Set, Val::Lit(&c.version))
            .map_err(|e| e.at(FACTS))?;
    }
    let entries: Vec<String> = facts
        .charts
        .iter()
        .map(|c| {
            let path = c.path();
            lit("chart archive path", &path).map_err(|e| e.at(FACTS))?;
            Ok(format!("${{K3S_TRAEFIK_CHART_BASE}}/{path};name={};unpack=0;subdir=charts", c.name))
        })
        .collect::<Result<_>>()?;
    let items: Vec<Val<'_>> = entries.iter().map(|e| Val::Bb(e)).collect();
    list(&mut out, "K3S_TRAEFIK_CHARTS", Op::Set, &items)?;
    for c in &facts.charts {
        assign_flag(&mut out, "SRC_URI", &format!("{}.sha256sum", c.name), Op::Set, Val::Lit(&c.sha256))
            .map_err(|e| e.at(FACTS))?;
    }
    Ok(out)
}

/// Words of `text` in lines of at most `width` characters (a longer word stays whole).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for w in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + w.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(w);
        line_len += w.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with(facts: &str) -> (tempfile::TempDir, Context) {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(repo.join(crate::spec::SPEC_FILE), dir.path().join(crate::spec::SPEC_FILE)).unwrap();
        let f = dir.path().join(FACTS);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, facts).unwrap();
        let ctx = Context::load(dir.path()).unwrap();
        (dir, ctx)
    }

    const SHA_A: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const SHA_B: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn renders_versions_entries_and_checksums_per_chart() {
        let (_d, ctx) = ctx_with(&format!(
            "provenance\tp\nchart\ttraefik-crd\t10.14.100\t{SHA_B}\nchart\ttraefik\t10.9.100\t{SHA_A}\n"
        ));
        let out = render(&ctx).unwrap();
        let want = format!(
            "K3S_TRAEFIK_CHART_VERSION[traefik] = \"10.9.100\"\n\
             K3S_TRAEFIK_CHART_VERSION[traefik-crd] = \"10.14.100\"\n\
             K3S_TRAEFIK_CHARTS = \"\\\n    \
             ${{K3S_TRAEFIK_CHART_BASE}}/traefik/traefik-10.9.100.tgz;name=traefik;unpack=0;subdir=charts \\\n    \
             ${{K3S_TRAEFIK_CHART_BASE}}/traefik-crd/traefik-crd-10.14.100.tgz;name=traefik-crd;unpack=0;subdir=charts \\\n\
             \"\n\
             SRC_URI[traefik.sha256sum] = \"{SHA_A}\"\n\
             SRC_URI[traefik-crd.sha256sum] = \"{SHA_B}\"\n"
        );
        assert!(out.ends_with(&want), "{out}");
        assert!(out.contains("# Provenance: p\n"), "{out}");
        assert_eq!(wrap("a bb ccc dddd", 6), "a bb\nccc\ndddd");
    }

    #[test]
    fn a_bad_facts_file_stops_gen_naming_the_line() {
        let (_d, ctx) = ctx_with(&format!("provenance\tp\nchart\ttraefik\t1.0.0+${{@os.system('x')}}\t{SHA_A}\n"));
        let e = format!("{:#}", render(&ctx).unwrap_err());
        assert!(e.contains(&format!("{FACTS}:2: chart traefik: version")), "{e}");
        let (_d, ctx) = ctx_with("provenance\tp\n");
        assert!(format!("{:#}", render(&ctx).unwrap_err()).contains("no `chart` record"));
        let dir = tempfile::tempdir().unwrap();
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::copy(repo.join(crate::spec::SPEC_FILE), dir.path().join(crate::spec::SPEC_FILE)).unwrap();
        let e = format!("{:#}", render(&Context::load(dir.path()).unwrap()).unwrap_err());
        assert!(e.contains("reading") && e.contains("k3s-upstream-facts.tsv"), "a missing facts file is an error: {e}");
    }

    #[test]
    fn facts_read_from_another_commit_are_noted() {
        let c = "a".repeat(40);
        let (_d, ctx) =
            ctx_with(&format!("provenance\tp\nread-from\tv9.9.9+k3s1\t{c}\nchart\ttraefik\t1.0.0\t{SHA_A}\n"));
        let out = render(&ctx).unwrap();
        assert!(out.contains(&format!("# Read from k3s v9.9.9+k3s1 (commit {c}).")), "{out}");
        assert!(
            out.contains("but k3s-spec.yaml pins 2390b65e1ae38c786b150e6f4113b55d1c3a9492: run `k3s-bake bump`"),
            "{out}"
        );
    }

    #[test]
    fn the_committed_facts_render_the_charts_the_recipe_carried() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = render(&Context::load(&root).unwrap()).unwrap();
        assert!(out.contains("K3S_TRAEFIK_CHART_VERSION[traefik] = \"39.0.501+up39.0.5\""), "{out}");
        assert!(out.contains(
            "SRC_URI[traefik.sha256sum] = \"888de9d098769b9199238076bee225d1b10dba1e889b0e28127eddc38cdb435b\""
        ));
        assert!(out.contains(
            "SRC_URI[traefik-crd.sha256sum] = \"c6245bdcfd193d10ec956d90c50e0d1a3fa1bde541df80744e72eee91b054640\""
        ));
    }
}
