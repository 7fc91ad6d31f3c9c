//! go.sum: `path version h1:<base64 sha256>` for a module's zip tree, and `path version/go.mod h1:…` for its
//! go.mod alone. A module version with only the second kind is a go.mod-only member of the build graph.

use std::collections::BTreeMap;

use crate::{ModuleVersion, ParseError, is_valid_version};

/// One go.sum line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumLine {
    /// The module version.
    pub module: ModuleVersion,
    /// True for a `/go.mod` line (hash of the go.mod only).
    pub go_mod_only: bool,
    /// The hash as written (`h1:…`).
    pub hash: String,
    /// 1-based line.
    pub line: usize,
}

/// A parsed go.sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoSum {
    /// Every line, in file order.
    pub lines: Vec<SumLine>,
}

/// Which hashes go.sum holds for one module version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SumEntry {
    /// `h1:` of the module zip tree, if listed.
    pub zip: Option<String>,
    /// `h1:` of the go.mod, if listed.
    pub go_mod: Option<String>,
}

fn valid_h1(hash: &str) -> bool {
    // h1: + base64 of a 32-byte SHA-256 = 44 characters ending in '='.
    hash.strip_prefix("h1:").is_some_and(|b| {
        b.len() == 44
            && b.ends_with('=')
            && b[..43].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    })
}

impl GoSum {
    /// Parses go.sum text; `file` names the file in errors.
    pub fn parse(file: &str, text: &str) -> Result<GoSum, ParseError> {
        let mut lines = Vec::new();
        let mut seen = BTreeMap::new();
        for (idx, raw) in text.lines().enumerate() {
            let lineno = idx + 1;
            let err = |message: String| ParseError { file: file.to_owned(), line: lineno, message };
            if raw.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = raw.split_whitespace().collect();
            let [path, ver, hash] = f[..] else {
                return Err(err(format!("expected 3 fields `module/path version h1:hash`, found {}", f.len())));
            };
            let (version, go_mod_only) = match ver.strip_suffix("/go.mod") {
                Some(v) => (v, true),
                None => (ver, false),
            };
            if path.is_empty() || path.contains('@') {
                return Err(err(format!("malformed module path {path:?}")));
            }
            if !is_valid_version(version) {
                return Err(err(format!("{path}: invalid version {ver:?} (expected v1.2.3 or v1.2.3/go.mod)")));
            }
            if hash.starts_with("h1:") && !valid_h1(hash) {
                return Err(err(format!(
                    "{path} {ver}: malformed h1 hash {hash:?} (expected h1: + 44 base64 characters)"
                )));
            }
            if !hash.contains(':') {
                return Err(err(format!("{path} {ver}: hash {hash:?} lacks an algorithm prefix like h1:")));
            }
            if let Some(first) = seen.insert((path, version, go_mod_only, hash.split(':').next().unwrap_or("")), lineno)
            {
                return Err(err(format!("duplicate entry for {path} {ver} (first on line {first})")));
            }
            lines.push(SumLine {
                module: ModuleVersion { path: path.to_owned(), version: version.to_owned() },
                go_mod_only,
                hash: hash.to_owned(),
                line: lineno,
            });
        }
        Ok(GoSum { lines })
    }

    /// Every module version with the hashes listed for it, sorted by path and version text.
    pub fn entries(&self) -> BTreeMap<ModuleVersion, SumEntry> {
        let mut out: BTreeMap<ModuleVersion, SumEntry> = BTreeMap::new();
        for l in &self.lines {
            let e = out.entry(l.module.clone()).or_default();
            if l.go_mod_only {
                e.go_mod = Some(l.hash.clone());
            } else {
                e.zip = Some(l.hash.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn zip_and_go_mod_lines() {
        let text = format!("a.com/x v1.0.0 {H}\na.com/x v1.0.0/go.mod {H}\n\nb.com/y v0.1.0/go.mod {H}\n");
        let s = GoSum::parse("go.sum", &text).unwrap();
        assert_eq!(s.lines.len(), 3);
        let e = s.entries();
        let x = &e[&ModuleVersion { path: "a.com/x".into(), version: "v1.0.0".into() }];
        assert!(x.zip.is_some() && x.go_mod.is_some());
        let y = &e[&ModuleVersion { path: "b.com/y".into(), version: "v0.1.0".into() }];
        assert!(y.zip.is_none() && y.go_mod.is_some());
    }

    #[test]
    fn errors() {
        let e = GoSum::parse("d/go.sum", &format!("a v1.0.0 {H}\na v1.0.0\n")).unwrap_err();
        assert_eq!(e.to_string(), "d/go.sum:2: expected 3 fields `module/path version h1:hash`, found 2");
        let e = GoSum::parse("go.sum", "a v1.0.0 h1:short=\n").unwrap_err();
        assert!(e.message.contains("malformed h1"), "{e}");
        let e = GoSum::parse("go.sum", &format!("a 1.0.0 {H}\n")).unwrap_err();
        assert!(e.message.contains("invalid version"), "{e}");
        let e = GoSum::parse("go.sum", &format!("a v1.0.0 {H}\na v1.0.0 {H}\n")).unwrap_err();
        assert!(e.message.contains("duplicate entry") && e.line == 2, "{e}");
    }
}
