//! The licence set as the packages a build links, not every module the graph holds.
//!
//! `go list -deps -tags "<the build's tags>" -f '{{with .Module}}{{if .Replace}}{{.Replace.Path}} {{.Replace.Version}}{{else}}{{.Path}} {{.Version}}{{end}}{{end}}' <main packages>`
//! prints one line per linked package: the module (after replacement) that provides it; standard-library packages
//! print nothing and the main module has no version. [`LinkedSet::parse`] reads that output; [`restrict`] keeps
//! licence facts only for linked module versions and lists the linked ones no licence fact covers (which the
//! online `resolve` then fills in). Computing it needs the recipe's source: the bump of a pin runs it.

use std::collections::BTreeSet;

use gomod::{ModuleVersion, is_valid_version};

use crate::Facts;

/// The command whose output [`LinkedSet::parse`] reads (the main packages and tags are the recipe's).
pub const GO_LIST_FORMAT: &str =
    "{{with .Module}}{{if .Replace}}{{.Replace.Path}} {{.Replace.Version}}{{else}}{{.Path}} {{.Version}}{{end}}{{end}}";

/// Module versions providing at least one linked package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedSet(pub BTreeSet<ModuleVersion>);

/// A line that is not `module version` (or empty, or the main module alone).
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: expected `MODULE VERSION` (go list -deps -f '{GO_LIST_FORMAT}'), got {text:?}")]
pub struct LinkedError {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl LinkedSet {
    /// Parses `go list -deps` output; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<LinkedSet, LinkedError> {
        let mut set = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            let err = || LinkedError { file: file.into(), line: i + 1, text: raw.into() };
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [] => {}
                // The main module (or a local replacement) has no version: its licence is the recipe's own.
                [_] => {}
                [path, version] if is_valid_version(version) => {
                    set.insert(ModuleVersion { path: path.into(), version: version.into() });
                }
                _ => return Err(err()),
            }
        }
        Ok(LinkedSet(set))
    }
}

/// What [`restrict`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restricted {
    /// The facts with licence records only for linked module versions.
    pub facts: Facts,
    /// Module versions whose licence facts were dropped (in the graph, not linked).
    pub dropped: Vec<ModuleVersion>,
    /// Linked module versions with no licence fact at all.
    pub uncovered: Vec<ModuleVersion>,
}

/// Keeps licence facts of linked module versions only.
pub fn restrict(facts: &Facts, linked: &LinkedSet) -> Restricted {
    let mut out = Restricted { facts: facts.clone(), ..Restricted::default() };
    for (m, f) in out.facts.modules.iter_mut() {
        if !linked.0.contains(m) && !f.licenses.is_empty() {
            f.licenses.clear();
            out.dropped.push(m.clone());
        }
    }
    out.uncovered =
        linked.0.iter().filter(|m| facts.modules.get(*m).is_none_or(|f| f.licenses.is_empty())).cloned().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LicenseFact;

    fn mv(p: &str, v: &str) -> ModuleVersion {
        ModuleVersion { path: p.into(), version: v.into() }
    }

    #[test]
    fn only_linked_modules_keep_licences() {
        let out = "\n\ngithub.com/k3s-io/k3s\ngithub.com/urfave/cli/v2 v2.27.7\ngithub.com/urfave/cli/v2 v2.27.7\n\
                   github.com/containerd/btrfs/v2 v2.0.0\n";
        let linked = LinkedSet::parse("deps.txt", out).unwrap();
        assert_eq!(linked.0.len(), 2);
        let mut facts = Facts::default();
        let l = LicenseFact { md5: "1".repeat(32), spdx: "MIT".into() };
        for m in [mv("github.com/urfave/cli/v2", "v2.27.7"), mv("github.com/cpuguy83/go-md2man/v2", "v2.0.7")] {
            facts.set_license(&m, "LICENSE", l.clone(), "t").unwrap();
        }
        let r = restrict(&facts, &linked);
        // go-md2man comes only with urfave/cli's docs: in the graph, not linked with urfave_cli_no_docs.
        assert_eq!(r.dropped, vec![mv("github.com/cpuguy83/go-md2man/v2", "v2.0.7")]);
        assert!(r.facts.modules[&mv("github.com/cpuguy83/go-md2man/v2", "v2.0.7")].licenses.is_empty());
        // btrfs is linked (ctrd) but no licence fact covers it.
        assert_eq!(r.uncovered, vec![mv("github.com/containerd/btrfs/v2", "v2.0.0")]);
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = LinkedSet::parse("deps.txt", "a v1.0.0\nb 1.0 extra\n").unwrap_err().to_string();
        assert!(e.starts_with("deps.txt:2: expected `MODULE VERSION`"), "{e}");
    }
}
