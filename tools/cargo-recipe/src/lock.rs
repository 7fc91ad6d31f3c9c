//! Cargo.lock reading (format v3 and v4, and v2 which has no `version` key): every locked package with its source,
//! checksum and dependency edges.

use std::path::Path;

use toml::Value;

use crate::error::{Error, Result};
use crate::manifest::Doc;

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path package (workspace member or path dependency): no `source` key.
    Path,
    /// crates.io (`registry+https://github.com/rust-lang/crates.io-index` or `sparse+https://index.crates.io/`).
    CratesIo,
    /// A git repository.
    Git(GitSource),
}

/// The reference a git dependency asked for, as recorded in the lockfile URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    /// `?branch=`.
    Branch(String),
    /// `?tag=`.
    Tag(String),
    /// `?rev=`.
    Rev(String),
    /// Nothing: the remote's default branch.
    DefaultBranch,
}

/// A git source: repository, requested reference and the locked commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// Repository URL without query or fragment (`https://…`, `ssh://…`, `file:///…`).
    pub url: String,
    /// What Cargo.toml asked for.
    pub reference: GitRef,
    /// The full commit id Cargo.lock pins.
    pub commit: String,
}

/// One `[[package]]` of the lockfile.
#[derive(Debug, Clone)]
pub struct LockedPackage {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source.
    pub source: Source,
    /// SHA-256 of the `.crate` (registry packages).
    pub checksum: Option<String>,
    /// Indices into [`Lockfile::packages`] of its dependencies (all kinds: the lockfile does not say).
    pub dependencies: Vec<usize>,
    /// 1-based line of its `[[package]]` header.
    pub line: usize,
}

/// A parsed Cargo.lock.
#[derive(Debug)]
pub struct Lockfile {
    /// Format version (2 when the file has no `version` key).
    pub version: i64,
    /// Packages in file order (cargo sorts them by name, version, source).
    pub packages: Vec<LockedPackage>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a lockfile `source` string.
pub fn parse_source(s: &str) -> Option<Source> {
    if s == "registry+https://github.com/rust-lang/crates.io-index" || s == "sparse+https://index.crates.io/" {
        return Some(Source::CratesIo);
    }
    let rest = s.strip_prefix("git+")?;
    let (url_query, commit) = rest.split_once('#')?;
    if commit.len() != 40 || !commit.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let (url, query) = match url_query.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (url_query, None),
    };
    let mut reference = GitRef::DefaultBranch;
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let v = percent_decode(v);
        reference = match k {
            "branch" => GitRef::Branch(v),
            "tag" => GitRef::Tag(v),
            "rev" => GitRef::Rev(v),
            _ => return None,
        };
    }
    Some(Source::Git(GitSource { url: url.to_owned(), reference, commit: commit.to_owned() }))
}

impl Lockfile {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Lockfile> {
        Lockfile::from_doc(&Doc::load(path)?)
    }

    /// Parses an already loaded lockfile.
    pub fn from_doc(doc: &Doc) -> Result<Lockfile> {
        let version = match doc.table.get("version") {
            None => 2,
            Some(v) => v.as_integer().ok_or_else(|| doc.invalid("version", "`version` must be an integer"))?,
        };
        if !(2..=4).contains(&version) || doc.table.contains_key("metadata") {
            return Err(doc.invalid(
                "version",
                format!("lockfile format {version} is not supported (expected 3 or 4); run `cargo update --workspace`"),
            ));
        }
        let header_lines: Vec<usize> =
            doc.text.lines().enumerate().filter(|(_, l)| l.trim() == "[[package]]").map(|(i, _)| i + 1).collect();
        let raw = match doc.table.get("package") {
            None => Vec::new(),
            Some(p) => p.as_array().cloned().ok_or_else(|| doc.invalid("package", "`package` must be an array"))?,
        };
        let mut packages = Vec::with_capacity(raw.len());
        let mut raw_deps = Vec::with_capacity(raw.len());
        for (i, p) in raw.iter().enumerate() {
            let line = header_lines.get(i).copied().unwrap_or(1);
            let bad = |m: String| Error::Invalid { path: doc.path.clone(), line, message: m };
            let get = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
            let name = get("name").ok_or_else(|| bad("[[package]] without a string `name`".into()))?;
            let version = get("version").ok_or_else(|| bad(format!("package {name} without a string `version`")))?;
            // Names and versions end up in SRC_URI and varflag names: only cargo's own character sets pass.
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(bad(format!("package name `{name}` is not a crate name")));
            }
            if !version.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
                return Err(bad(format!("package {name}: version `{version}` is not a semver version")));
            }
            let source = match get("source") {
                None => Source::Path,
                Some(s) => parse_source(&s).ok_or_else(|| {
                    bad(format!(
                        "package {name} {version}: source `{s}` is neither crates.io nor `git+URL[?branch|tag|rev=…]#<40-hex commit>`"
                    ))
                })?,
            };
            let checksum = get("checksum");
            if source == Source::CratesIo {
                match &checksum {
                    Some(c) if c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                    Some(c) => {
                        return Err(bad(format!("package {name} {version}: checksum `{c}` is not 64 hex digits")));
                    }
                    None => return Err(bad(format!("package {name} {version} from crates.io has no `checksum`"))),
                }
            }
            let deps: Vec<String> = match p.get("dependencies") {
                None => Vec::new(),
                Some(d) => d
                    .as_array()
                    .ok_or_else(|| bad(format!("package {name}: `dependencies` must be an array")))?
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| bad(format!("package {name}: `dependencies` holds strings")))?,
            };
            raw_deps.push(deps);
            packages.push(LockedPackage { name, version, source, checksum, dependencies: Vec::new(), line });
        }
        // Resolve "name", "name version" and "name version (source)" references.
        let mut resolved = Vec::with_capacity(packages.len());
        for (i, deps) in raw_deps.iter().enumerate() {
            let mut idx = Vec::with_capacity(deps.len());
            for d in deps {
                let mut parts = d.splitn(3, ' ');
                let name = parts.next().unwrap_or_default();
                let version = parts.next();
                let source = parts.next().map(|s| s.trim_start_matches('(').trim_end_matches(')'));
                let found = packages.iter().position(|p| {
                    p.name == name
                        && version.is_none_or(|v| p.version == v)
                        && source.is_none_or(|s| parse_source(s).is_some_and(|s| s == p.source))
                });
                idx.push(found.ok_or_else(|| Error::Invalid {
                    path: doc.path.clone(),
                    line: packages[i].line,
                    message: format!("package {}: dependency `{d}` is not a locked package", packages[i].name),
                })?);
            }
            resolved.push(idx);
        }
        for (p, idx) in packages.iter_mut().zip(resolved) {
            p.dependencies = idx;
        }
        Ok(Lockfile { version, packages })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources_keep_reference_and_commit() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse_source(&format!("git+https://github.com/a/b?branch=feature%2Fx#{c}")),
            Some(Source::Git(GitSource {
                url: "https://github.com/a/b".into(),
                reference: GitRef::Branch("feature/x".into()),
                commit: c.into()
            }))
        );
        assert!(matches!(
            parse_source(&format!("git+file:///tmp/repo#{c}")),
            Some(Source::Git(GitSource { reference: GitRef::DefaultBranch, .. }))
        ));
        assert_eq!(parse_source("git+https://x/y#short"), None);
        assert_eq!(parse_source("sparse+https://index.crates.io/"), Some(Source::CratesIo));
        assert_eq!(parse_source("registry+https://my.registry/index"), None);
    }

    #[test]
    fn errors_name_the_package_line() {
        let text = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let err = Lockfile::from_doc(&Doc::parse("Cargo.lock".into(), text.into()).unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "Cargo.lock:7: package b 1.0.0 from crates.io has no `checksum`");
    }

    #[test]
    fn hostile_names_are_refused() {
        let text = "version = 4\n[[package]]\nname = \"a\\\"\\n\"\nversion = \"1.0.0\"\n";
        let err = Lockfile::from_doc(&Doc::parse("Cargo.lock".into(), text.into()).unwrap()).unwrap_err();
        assert!(err.to_string().starts_with("Cargo.lock:2: package name"), "{err}");
    }

    #[test]
    fn version_1_is_refused() {
        let doc = Doc::parse("Cargo.lock".into(), "[metadata]\n".into()).unwrap();
        assert!(Lockfile::from_doc(&doc).unwrap_err().to_string().contains("not supported"));
    }
}
