//! Step 5's charts: the charts manifests/traefik.yaml references, each archive downloaded from the chart base and
//! its sha256 computed, written as `chart` records of the upstream facts (which `gen` renders into
//! `k3s-charts.inc`), and the summary's old → new per chart.

use std::fmt::Write as _;
use std::path::Path;

use k3s_upstream_facts::Chart;
use sha2::{Digest as _, Sha256};

use crate::BumpError;

/// The new chart facts (sorted by name) and the summary lines comparing them with `old`.
pub fn fetch(
    client: &go_resolve::proxy::ProxyClient,
    base: &str,
    traefik_yaml: &str,
    what: &str,
    old: &[Chart],
    dir: &Path,
) -> Result<(Vec<Chart>, String), BumpError> {
    let refs = crate::upstream::traefik_charts(traefik_yaml)
        .map_err(|e| BumpError::Msg(format!("{what}: manifests/traefik.yaml: {e}")))?;
    if refs.is_empty() {
        return Err(BumpError::Msg(format!("{what}: manifests/traefik.yaml references no static/charts/*.tgz")));
    }
    let mut charts = Vec::new();
    for r in &refs {
        // Validated (name, SemVer 2 version) before the name and version reach a URL, the facts or BitBake.
        let probe = Chart::new(&r.name, &r.version, &"0".repeat(64))
            .map_err(|e| BumpError::Msg(format!("{what}: manifests/traefik.yaml: {e}")))?;
        let url = format!("{}/{}", base.trim_end_matches('/'), probe.path());
        let dest = dir.join(probe.file());
        client.download(&url, &dest).map_err(|e| BumpError::step(format!("downloading chart {url}"), e))?;
        let data = std::fs::read(&dest).map_err(|e| BumpError::step(format!("reading {}", dest.display()), e))?;
        let sha: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        charts.push(Chart { sha256: sha, ..probe });
    }
    charts.sort();
    Ok((charts.clone(), summary(old, &charts)))
}

/// `  name: old → new (sha256 old → new)` per chart, `+`/`-` for charts added or gone, `unchanged` otherwise.
pub fn summary(old: &[Chart], new: &[Chart]) -> String {
    let short = |s: &str| s.get(..12).unwrap_or(s).to_owned();
    let mut s = String::new();
    for n in new {
        match old.iter().find(|o| o.name == n.name) {
            Some(o) if o == n => {
                let _ = writeln!(s, "  {}: {} unchanged (sha256 {})", n.name, n.version, short(&n.sha256));
            }
            Some(o) => {
                let _ = writeln!(
                    s,
                    "  {}: {} → {} (sha256 {} → {})",
                    n.name,
                    o.version,
                    n.version,
                    short(&o.sha256),
                    short(&n.sha256)
                );
            }
            None => {
                let _ = writeln!(s, "  + {} {} (sha256 {})", n.name, n.version, short(&n.sha256));
            }
        }
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| n.name == o.name)) {
        let _ = writeln!(s, "  - {} {} (no longer referenced)", o.name, o.version);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_old_to_new() {
        let c = |n: &str, v: &str, h: char| Chart::new(n, v, &h.to_string().repeat(64)).unwrap();
        let old = [c("gone", "1.0.0", 'a'), c("traefik", "39.0.501+up39.0.5", 'b'), c("traefik-crd", "1.0.0", 'c')];
        let new = [c("added", "2.0.0", 'd'), c("traefik", "40.0.0+up40.0.0", 'e'), c("traefik-crd", "1.0.0", 'c')];
        assert_eq!(
            summary(&old, &new),
            "  + added 2.0.0 (sha256 dddddddddddd)\n  \
             traefik: 39.0.501+up39.0.5 → 40.0.0+up40.0.0 (sha256 bbbbbbbbbbbb → eeeeeeeeeeee)\n  \
             traefik-crd: 1.0.0 unchanged (sha256 cccccccccccc)\n  \
             - gone 1.0.0 (no longer referenced)\n"
        );
    }
}
