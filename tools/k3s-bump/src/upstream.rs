//! What bump reads from a k3s source tree: the pins scripts/version.sh sets, the charts manifests/traefik.yaml
//! references and the kernel options contrib/util/check-config.sh checks. Pure text readers: no I/O here. (The
//! flags of pkg/cli/cmds are not read as text: [`crate::cliflags`] runs k3s's own code.)

use std::collections::{BTreeMap, BTreeSet};

/// `NAME=value` / `NAME="value"` assignments at the start of a line of scripts/version.sh whose value is a
/// literal (no `$`: computed values such as `$(get-module-version …)` are read from go.mod instead).
pub fn version_sh_literals(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim_start().trim_start_matches("export ").trim();
        let Some((name, value)) = l.split_once('=') else { continue };
        if !name.starts_with("VERSION_")
            || !name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            continue;
        }
        let v = value.split('#').next().unwrap_or("").trim().trim_matches(['"', '\'']);
        if v.is_empty() || v.contains(['$', '`', ' ']) {
            continue;
        }
        // The first literal wins, as the recipe's `sed … | head -n1` reads VERSION_HELM_JOB.
        out.entry(name.to_owned()).or_insert_with(|| v.to_owned());
    }
    out
}

/// A chart manifests/traefik.yaml references (`…/static/charts/<name>-<version>.tgz`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChartRef {
    /// The chart name (`traefik`, `traefik-crd`).
    pub name: String,
    /// The chart version (`39.0.501+up39.0.5`).
    pub version: String,
}

impl ChartRef {
    /// The archive's file name.
    pub fn file(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }
}

/// Charts named by `static/charts/<file>.tgz` in traefik.yaml, split at the last `-` before a digit.
pub fn traefik_charts(text: &str) -> Result<BTreeSet<ChartRef>, String> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(p) = rest.find("static/charts/") {
            rest = &rest[p + "static/charts/".len()..];
            let end = rest.find(|c: char| c == '"' || c == '\'' || c.is_whitespace()).unwrap_or(rest.len());
            let file = &rest[..end];
            let stem = file.strip_suffix(".tgz").ok_or_else(|| format!("line {}: {file:?} is not a .tgz", i + 1))?;
            let split = stem
                .char_indices()
                .filter(|(j, c)| *c == '-' && stem[j + 1..].starts_with(|d: char| d.is_ascii_digit()))
                .map(|(j, _)| j)
                .next()
                .ok_or_else(|| format!("line {}: {file:?} is not <chart>-<version>.tgz", i + 1))?;
            let (name, version) = (&stem[..split], &stem[split + 1..]);
            let ok = |s: &str, extra: &str| {
                !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
            };
            if !ok(name, "-_") || !ok(version, ".+-_") {
                return Err(format!(
                    "line {}: chart {file:?} has characters a URL or BitBake value must not carry",
                    i + 1
                ));
            }
            out.insert(ChartRef { name: name.to_owned(), version: version.to_owned() });
            rest = &rest[end..];
        }
    }
    Ok(out)
}

/// Kconfig symbols (without `CONFIG_`) check-config.sh checks: the words after `check_flags` (moby's script,
/// which k3s carries, prefixes them with `CONFIG_`; `\` continues a line) and other helpers taking symbols
/// (`check_flag`, `is_set`, `is_set_in_kernel`, `is_set_as_module`), plus any literal `CONFIG_X`.
pub fn check_config_options(text: &str) -> BTreeSet<String> {
    let symbol = |w: &str| {
        let w = w.trim_matches(['"', '\'', ';', '(', ')', '\\']);
        let w = w.strip_prefix("CONFIG_").unwrap_or(w);
        (!w.is_empty()
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && !w.ends_with('_'))
        .then(|| w.to_owned())
    };
    let mut out = BTreeSet::new();
    let mut continued = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = l.split_whitespace().collect();
        let start = if continued {
            Some(0)
        } else {
            words
                .iter()
                .position(|w| {
                    ["check_flags", "check_flag", "is_set", "is_set_in_kernel", "is_set_as_module"].contains(w)
                })
                .map(|p| p + 1)
        };
        if let Some(s) = start {
            out.extend(
                words[s..].iter().take_while(|w| !w.starts_with(['#', '|', '&', '>'])).filter_map(|w| symbol(w)),
            );
        }
        continued = start.is_some() && l.ends_with('\\');
        let mut rest = l;
        while let Some(p) = rest.find("CONFIG_") {
            let tail = &rest[p + 7..];
            let end =
                tail.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
            if let Some(s) = symbol(&tail[..end]) {
                out.insert(s);
            }
            rest = &tail[end..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_sh() {
        let t = "VERSION_RUNC=$(get-module-version github.com/opencontainers/runc)\nVERSION_CNIPLUGINS=\"v1.9.1-k3s1\"\n\
                 VERSION_HELM_JOB='v0.9.10-build20260101' # job image\nVERSION_HELM_JOB=\"v0\"\nFOO=bar\n";
        let v = version_sh_literals(t);
        assert_eq!(v.get("VERSION_CNIPLUGINS").map(String::as_str), Some("v1.9.1-k3s1"));
        assert_eq!(v.get("VERSION_HELM_JOB").map(String::as_str), Some("v0.9.10-build20260101"));
        assert!(!v.contains_key("VERSION_RUNC") && !v.contains_key("FOO"));
    }

    #[test]
    fn charts() {
        let t = "  chart: https://%{KUBERNETES_API}%/static/charts/traefik-crd-39.0.501+up39.0.5.tgz\n\
                 chart: \"https://%{KUBERNETES_API}%/static/charts/traefik-39.0.501+up39.0.5.tgz\"\n";
        let c: Vec<String> = traefik_charts(t).unwrap().iter().map(|c| format!("{} {}", c.name, c.version)).collect();
        assert_eq!(c, ["traefik 39.0.501+up39.0.5", "traefik-crd 39.0.501+up39.0.5"]);
        assert!(traefik_charts("static/charts/x-1;rm.tgz").is_err());
    }

    #[test]
    fn kernel() {
        let k = "check_flags NAMESPACES NET_NS \\\n  PID_NS\nif is_set EXT4_FS; then\nx=\"CONFIG_CGROUPS CONFIG_NF_NAT_\"\n# check_flags OLD\n";
        assert_eq!(
            check_config_options(k).into_iter().collect::<Vec<_>>(),
            ["CGROUPS", "EXT4_FS", "NAMESPACES", "NET_NS", "PID_NS"]
        );
    }
}
