//! `recipes-containers/k3s/k3s-upstream-facts.tsv`: what `k3s-bake bump` reads from the k3s source besides Go
//! modules — the charts manifests/traefik.yaml references (with the sha256 of each archive), the literal pins of
//! scripts/version.sh, the containerd fork, the kernel options of contrib/util/check-config.sh — and where they
//! came from. (The flags of pkg/cli/cmds have their own file, `k3s_model::flags::facts`; the airgap archives too,
//! [`airgap`].)
//!
//! One reader and one writer of the format, shared by bump (which writes it) and `k3s-bake gen` (which renders the
//! chart records into `k3s-charts.inc`). Its own crate because gen must read it offline while bump is online-only
//! (k3s-bake depends on k3s-bump only with its `online` feature).
//!
//! The file is tab-separated, one record per line, `#` comments:
//!
//! ```text
//! provenance   TEXT                       where the facts came from (exactly once)
//! read-from    TAG  COMMIT                the k3s tag and commit bump read them from (at most once)
//! chart        NAME VERSION SHA256        a chart of manifests/traefik.yaml and its archive's sha256
//! version.sh   NAME VALUE                 a literal VERSION_* assignment of scripts/version.sh
//! containerd   MODULE REPLACEMENT         the containerd module and what go.mod replaces it with
//! check-config OPTION                     a kernel option contrib/util/check-config.sh checks
//! ```
//!
//! Everything a BitBake value or a URL is built from (chart name, version, sha256) is validated here, so a typo
//! or a hostile manifest stops at `file:line` with what was expected, before it reaches `bb-value` or a fetcher.
#![forbid(unsafe_code)]

pub mod airgap;

use std::fmt::Write as _;

/// The facts file, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s/k3s-upstream-facts.tsv";

/// A record kind other than `provenance`, `read-from` and `chart`, with its number of fields. The readers of these
/// records (bump's reports) live with bump; here they are only held to their shape.
pub const OTHER_KINDS: &[(&str, usize)] = &[("version.sh", 2), ("containerd", 2), ("check-config", 1)];

/// A bad facts file (or a bad chart fact about to be written): where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct Error {
    /// The file (or what was read, e.g. `manifests/traefik.yaml of k3s v1.36.3+k3s1`).
    pub file: String,
    /// 1-based line, when the error is about one.
    pub line: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A Helm chart k3s embeds: `<name>-<version>.tgz`, fetched from `<base>/<name>/<name>-<version>.tgz`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chart {
    /// Chart name (`traefik`, `traefik-crd`): also the SRC_URI `name=` of its archive.
    pub name: String,
    /// Chart version (SemVer 2, as Helm requires: `39.0.501+up39.0.5`).
    pub version: String,
    /// sha256 of the archive, 64 lower-case hex digits.
    pub sha256: String,
}

impl Chart {
    /// A chart fact, every part validated (the message says which part and what was expected).
    pub fn new(name: &str, version: &str, sha256: &str) -> Result<Chart, String> {
        check_chart_name(name)?;
        check_chart_version(version).map_err(|e| format!("chart {name}: {e}"))?;
        if !is_hex(sha256, 64) {
            return Err(format!("chart {name}: sha256 {sha256:?} is not 64 lower-case hex digits"));
        }
        Ok(Chart { name: name.to_owned(), version: version.to_owned(), sha256: sha256.to_owned() })
    }

    /// The archive's file name (what manifests/traefik.yaml references under `static/charts/`).
    pub fn file(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }

    /// The archive's path below the chart base URL (k3s-charts' layout: one directory per chart).
    pub fn path(&self) -> String {
        format!("{}/{}", self.name, self.file())
    }

    /// The `chart` record of this chart (one line, newline included).
    pub fn record(&self) -> String {
        format!("chart\t{}\t{}\t{}\n", self.name, self.version, self.sha256)
    }
}

/// A Helm chart name: lower-case letters and digits, words joined by single `-`.
pub fn check_chart_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if ok { Ok(()) } else { Err(format!("chart name {name:?} is not lower-case letters and digits joined by '-'")) }
}

/// A plain chart version: SemVer 2 (`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, no leading `v`, no leading zeros in
/// numbers, identifiers of `[0-9A-Za-z-]`), which is what Helm accepts and what may go into a URL and a BitBake value.
pub fn check_chart_version(v: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!("version {v:?} is not a plain chart version (SemVer 2, e.g. 39.0.501+up39.0.5): {why}"))
    };
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| numeric(p)) {
        return bad("expected three numbers without leading zeros");
    }
    let ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if let Some(p) = pre
        && !p.split('.').all(|i| ident(i) && (!i.bytes().all(|b| b.is_ascii_digit()) || numeric(i)))
    {
        return bad("a pre-release is dot-separated [0-9A-Za-z-] identifiers");
    }
    if let Some(b) = build
        && !b.split('.').all(ident)
    {
        return bad("build metadata is dot-separated [0-9A-Za-z-] identifiers");
    }
    Ok(())
}

pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The k3s tag and commit the facts were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFrom {
    /// The k3s release tag.
    pub tag: String,
    /// Its commit (40 hex digits).
    pub commit: String,
}

/// A record of one of [`OTHER_KINDS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line.
    pub line: usize,
    /// The kind (first column).
    pub kind: String,
    /// The other columns.
    pub fields: Vec<String>,
}

/// The parsed facts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFacts {
    /// Where the facts came from.
    pub provenance: String,
    /// The k3s tag and commit bump read them from; absent for facts recorded otherwise.
    pub read_from: Option<ReadFrom>,
    /// The charts, sorted by name (at least one).
    pub charts: Vec<Chart>,
    /// Every other record, in file order.
    pub other: Vec<Record>,
}

/// Parses the facts file; `file` names it in errors (`file:line: what was expected`).
pub fn parse(file: &str, text: &str) -> Result<UpstreamFacts, Error> {
    let err = |line: Option<usize>, message: String| Error { file: file.to_owned(), line, message };
    let (mut provenance, mut read_from) = (None, None);
    let mut charts: Vec<Chart> = Vec::new();
    let mut other = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = Some(i + 1);
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        if let Some(c) = cols.iter().find(|c| c.is_empty() || c.trim() != **c || c.chars().any(char::is_control)) {
            return Err(err(
                n,
                format!("column {c:?}: expected tab-separated, non-empty columns without surrounding spaces"),
            ));
        }
        match cols.as_slice() {
            ["provenance", text] => {
                if provenance.replace(text.to_string()).is_some() {
                    return Err(err(n, "a second `provenance` record (expected exactly one)".into()));
                }
            }
            ["read-from", tag, commit] => {
                if !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b".+-_".contains(&b)) {
                    return Err(err(n, format!("read-from: tag {tag:?} is not a k3s release tag (v1.36.2+k3s1)")));
                }
                if !is_hex(commit, 40) {
                    return Err(err(n, format!("read-from: commit {commit:?} is not 40 lower-case hex digits")));
                }
                if read_from.replace(ReadFrom { tag: tag.to_string(), commit: commit.to_string() }).is_some() {
                    return Err(err(n, "a second `read-from` record (expected at most one)".into()));
                }
            }
            ["chart", name, version, sha] => {
                let c = Chart::new(name, version, sha).map_err(|e| err(n, e))?;
                if charts.iter().any(|o| o.name == c.name) {
                    return Err(err(n, format!("a second record for chart {} (expected one per chart)", c.name)));
                }
                charts.push(c);
            }
            ["chart", ..] => return Err(err(n, "expected `chart<TAB>NAME<TAB>VERSION<TAB>SHA256`".into())),
            [kind, fields @ ..] => match OTHER_KINDS.iter().find(|(k, _)| k == kind) {
                Some((_, want)) if fields.len() == *want => other.push(Record {
                    line: i + 1,
                    kind: kind.to_string(),
                    fields: fields.iter().map(|f| f.to_string()).collect(),
                }),
                Some((_, want)) => {
                    return Err(err(
                        n,
                        format!("a `{kind}` record has {want} field(s) after the kind, not {}", fields.len()),
                    ));
                }
                None => {
                    let kinds: Vec<&str> = ["provenance", "read-from", "chart"]
                        .into_iter()
                        .chain(OTHER_KINDS.iter().map(|(k, _)| *k))
                        .collect();
                    return Err(err(
                        n,
                        format!("unknown record kind {kind:?} (expected one of: {})", kinds.join(", ")),
                    ));
                }
            },
            [] => unreachable!("split yields at least one column"),
        }
    }
    let provenance =
        provenance.ok_or_else(|| err(None, "no `provenance` record (say where the facts came from)".into()))?;
    if charts.is_empty() {
        return Err(err(None, "no `chart` record (manifests/traefik.yaml references the charts k3s embeds)".into()));
    }
    charts.sort();
    Ok(UpstreamFacts { provenance, read_from, charts, other })
}

/// The start of a facts file: the comment block, the `provenance` record and, when given, `read-from`.
pub fn header(provenance: &str, read_from: Option<&ReadFrom>) -> Result<String, String> {
    if provenance.is_empty() || provenance.chars().any(char::is_control) {
        return Err(format!("provenance {provenance:?}: expected one line of text"));
    }
    let mut s = String::from(
        "# What k3s-bake bump read from the k3s source besides Go modules (see the k3s-upstream-facts crate for the\n\
         # format). Written by `k3s-bake bump`; `k3s-bake gen` renders the chart records into k3s-charts.inc.\n",
    );
    let _ = writeln!(s, "provenance\t{provenance}");
    if let Some(r) = read_from {
        let _ = writeln!(s, "read-from\t{}\t{}", r.tag, r.commit);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "888de9d098769b9199238076bee225d1b10dba1e889b0e28127eddc38cdb435b";

    fn file(extra: &str) -> String {
        format!(
            "# c\nprovenance\tby hand\nchart\ttraefik\t39.0.501+up39.0.5\t{SHA}\nchart\ttraefik-crd\t39.0.501+up39.0.5\t{SHA}\n{extra}"
        )
    }

    fn e(text: &str) -> String {
        parse("f.tsv", text).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_sorts() {
        let f = parse("f.tsv", &file("version.sh\tVERSION_HELM_JOB\tv0.9.11\ncheck-config\tVXLAN\n")).unwrap();
        assert_eq!(f.provenance, "by hand");
        assert_eq!(f.read_from, None);
        assert_eq!(f.charts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["traefik", "traefik-crd"]);
        assert_eq!(f.charts[1].path(), "traefik-crd/traefik-crd-39.0.501+up39.0.5.tgz");
        assert_eq!(f.other.len(), 2);
        assert_eq!((f.other[1].line, f.other[1].kind.as_str()), (6, "check-config"));
    }

    #[test]
    fn the_writer_is_read_back() {
        let r = ReadFrom { tag: "v1.36.3+k3s1".into(), commit: "a".repeat(40) };
        let c = Chart::new("traefik", "40.0.0", SHA).unwrap();
        let text = header("read by bump", Some(&r)).unwrap() + &c.record();
        let f = parse("f", &text).unwrap();
        assert_eq!((f.read_from, f.charts), (Some(r), vec![c]));
        assert!(header("two\nlines", None).is_err());
    }

    #[test]
    fn refuses_bad_records_naming_file_line_and_what_was_expected() {
        assert_eq!(
            e(&file("").replace("39.0.501+up39.0.5\t8", "39.0.501+up${@x}\t8")).split(": ").next(),
            Some("f.tsv:3")
        );
        assert!(
            e(&file("").replacen("39.0.501+up39.0.5", "v39.0.5", 1))
                .contains("f.tsv:3: chart traefik: version \"v39.0.5\" is not a plain chart version")
        );
        assert!(e(&file("").replacen("39.0.501+", "39.0.501+up\"x", 1)).contains("f.tsv:3:"));
        assert!(e(&file("").replacen(SHA, "abc", 1)).contains("f.tsv:3: chart traefik: sha256 \"abc\""));
        assert!(e(&file("").replacen("traefik", "Traefik;rm", 1)).contains("f.tsv:3: chart name \"Traefik;rm\""));
        assert!(
            e(&file(&format!("chart\ttraefik\t1.0.0\t{SHA}\n"))).contains("f.tsv:5: a second record for chart traefik")
        );
        assert!(e(&file("chart\tx\t1.0.0\n")).contains("f.tsv:5: expected `chart<TAB>NAME"));
        assert!(
            e(&file("chrat\tx\t1.0.0\n"))
                .contains("f.tsv:5: unknown record kind \"chrat\" (expected one of: provenance,")
        );
        assert!(e(&file("check-config\ta\tb\n")).contains("f.tsv:5: a `check-config` record has 1 field(s)"));
        assert!(e(&file("flag-agent\ttoken\n")).contains("unknown record kind \"flag-agent\""), "flags: own file");
        assert!(e(&file("provenance\tagain\n")).contains("f.tsv:5: a second `provenance`"));
        assert!(e(&file("read-from\tv1\tnothex\n")).contains("f.tsv:5: read-from: commit"));
        assert!(e(&file("version.sh\t X\tv1\n")).contains("f.tsv:5: column \" X\""));
        assert_eq!(
            e("provenance\tp\n"),
            "f.tsv: no `chart` record (manifests/traefik.yaml references the charts k3s embeds)"
        );
        assert!(e(&file("").replace("provenance\tby hand\n", "")).starts_with("f.tsv: no `provenance` record"));
    }

    #[test]
    fn chart_versions_are_semver() {
        for ok in ["39.0.501+up39.0.5", "1.0.0", "10.14.100", "1.2.3-rc.1", "1.2.3-0a.1+b-2", "0.0.0"] {
            check_chart_version(ok).unwrap();
        }
        for bad in [
            "",
            "v1.2.3",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3+a..b",
            "1.2.3;x",
            "1.2.3 x",
            "1.2.3+${A}",
        ] {
            assert!(check_chart_version(bad).is_err(), "{bad}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a/b", "a.b"] {
            assert!(check_chart_name(bad).is_err(), "{bad}");
        }
    }
}
