//! Go module files without a Go toolchain: [`GoMod`] (go.mod), [`GoSum`] (go.sum) and the module cache's
//! case escaping ([`escape_path`], [`escape_version`], [`unescape`]).
//!
//! Both parsers are strict in the way the `go` command is: a line they cannot read is an error naming the file,
//! the line and what was expected, never a silently skipped requirement (a skipped line would become a missing
//! module in a BitBake recipe, found only at build time).
#![forbid(unsafe_code)]

mod escape;
pub mod fuzz;
mod modfile;
mod sumfile;

pub use escape::{EscapeError, escape_path, escape_version, unescape};
pub use modfile::{Exclude, GoMod, Replace, ReplaceTarget, Require, Retract};
pub use sumfile::{GoSum, SumEntry, SumLine};

/// A syntax or semantic error in a go.mod or go.sum file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    /// The file name given to the parser (for messages only).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

/// A module path and version: the identity of one node in Go's module graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleVersion {
    /// Module path (`golang.org/x/net`).
    pub path: String,
    /// Semantic version (`v0.9.0`, pseudo-versions, `+incompatible`).
    pub version: String,
}

impl std::fmt::Display for ModuleVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.path, self.version)
    }
}

/// Checks the shape Go requires of a module version: `v` + major[.minor[.patch]] with optional pre-release and
/// build parts. Canonical versions in go.mod/go.sum always have all three numbers.
pub fn is_valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let (core, build) = match rest.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (rest, None),
    };
    let (nums, pre) = match core.split_once('-') {
        Some((n, p)) => (n, Some(p)),
        None => (core, None),
    };
    let parts: Vec<&str> = nums.split('.').collect();
    let num_ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    parts.len() == 3 && parts.iter().all(|p| num_ok(p)) && pre.is_none_or(ident_ok) && build.is_none_or(ident_ok)
}

/// The major-version suffix a module path must carry for `version` (`/v2`, `.v2` for gopkg.in), if any.
pub fn major_suffix(path: &str) -> Option<&str> {
    if let Some(idx) = path.rfind("/v") {
        let tail = &path[idx + 2..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) && !tail.starts_with('0') && tail != "1" {
            return Some(&path[idx..]);
        }
    }
    if path.starts_with("gopkg.in/")
        && let Some(idx) = path.rfind(".v")
    {
        let tail = &path[idx + 2..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return Some(&path[idx..]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in [
            "v1.2.3",
            "v0.0.0-20210101000000-abcdefabcdef",
            "v2.8.3+incompatible",
            "v1.36.2-k3s1",
            "v0.1.1-0.20260103110540-f8a47775ebe5",
        ] {
            assert!(is_valid_version(ok), "{ok}");
        }
        for bad in ["1.2.3", "v1.2", "v01.2.3", "v1.2.3-", "v1.2.3+", "", "v1..3", "v1.2.3 "] {
            assert!(!is_valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn major_suffixes() {
        assert_eq!(major_suffix("github.com/k3s-io/etcd/api/v3"), Some("/v3"));
        assert_eq!(major_suffix("gopkg.in/yaml.v3"), Some(".v3"));
        assert_eq!(major_suffix("github.com/foo/v1"), None);
        assert_eq!(major_suffix("github.com/foo/vendor"), None);
        assert_eq!(major_suffix("golang.org/x/net"), None);
    }
}
