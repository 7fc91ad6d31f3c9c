//! The facts file: `<bpn>-go-facts.tsv`.
//!
//! One record per line, TAB-separated, sorted by module, version, kind, so that a version bump shows up as a
//! readable diff and two maintainers' resolves merge cleanly. Lines starting with `#` are comments.
//!
//! | kind | fields after `kind module version` |
//! |---|---|
//! | `zip` | SHA-256 of the proxy's `.zip` |
//! | `mod` | SHA-256 of the proxy's `.mod` |
//! | `git` | repository URL, full commit, ref it was resolved from (may be empty), subdirectory (may be empty), the `module` line of `<subdir>/go.mod` (empty: not read), where it was read (`REPO@COMMIT`; empty: not read) |
//! | `license` | file inside the module, md5 of the file, SPDX expression (`Unknown` if the source could not tell) |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use gomod::{ModuleVersion, is_valid_version};

/// A git source for a module version (`gomodgit://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitFact {
    /// Repository URL (`https://github.com/k3s-io/etcd`, `file:///srv/git/x`).
    pub repo: String,
    /// Full 40-hex commit.
    pub commit: String,
    /// The ref the commit was resolved from (`refs/tags/api/v3.6.12`), empty when unknown.
    pub reference: String,
    /// Subdirectory of the module inside the repository, empty for the root.
    pub subdir: String,
    /// The module path `<subdir>/go.mod` declares (a fork's go.mod may declare the upstream path: the go command
    /// accepts either the required or the replacement path). Empty when nobody read it.
    pub module: String,
    /// Where `module` was read: `REPO@COMMIT`. Equal to `repo@commit` when read at the fact's own commit
    /// ([`GitFact::verified_at_commit`]); another commit of the same history is weaker evidence.
    pub checked_at: String,
}

impl GitFact {
    /// A git source with no go.mod evidence yet.
    pub fn new(repo: &str, commit: &str, reference: &str, subdir: &str) -> GitFact {
        GitFact {
            repo: repo.into(),
            commit: commit.into(),
            reference: reference.into(),
            subdir: subdir.into(),
            module: String::new(),
            checked_at: String::new(),
        }
    }

    /// Whether the module line was read in this repository at this very commit.
    pub fn verified_at_commit(&self) -> bool {
        !self.module.is_empty() && self.checked_at == format!("{}@{}", self.repo, self.commit)
    }
}

/// A license file of a module version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseFact {
    /// md5 of the file (what LIC_FILES_CHKSUM verifies).
    pub md5: String,
    /// SPDX expression, or `Unknown` when the source did not identify it.
    pub spdx: String,
}

/// Everything known about one module version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModFacts {
    /// SHA-256 of the proxy `.zip`.
    pub zip_sha256: Option<String>,
    /// SHA-256 of the proxy `.mod`.
    pub mod_sha256: Option<String>,
    /// Git source.
    pub git: Option<GitFact>,
    /// License files by path inside the module (`LICENSE`, `LICENSES/MIT.txt`).
    pub licenses: BTreeMap<String, LicenseFact>,
}

/// A facts file that cannot be read, or a fact that contradicts another.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    /// Malformed line.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What was expected.
        message: String,
    },
    /// Two sources disagree about one fact.
    #[error("conflicting {what} for {module}: {old} vs {new} (from {source_name})")]
    Conflict {
        /// Which fact.
        what: &'static str,
        /// module@version.
        module: String,
        /// Value already known.
        old: String,
        /// Value offered.
        new: String,
        /// Where the new one came from.
        source_name: String,
    },
    /// File could not be read.
    #[error("reading {path}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// All facts of one recipe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Facts per module version.
    pub modules: BTreeMap<ModuleVersion, ModFacts>,
}

/// `REPO@COMMIT` (40 hex), or empty.
fn valid_checked_at(s: &str) -> bool {
    s.is_empty() || s.rsplit_once('@').is_some_and(|(repo, c)| repo.contains("://") && is_hex(c, 40))
}

/// What fact sources write when they could not identify a license text: part of the facts' model (merging two
/// records lets a known SPDX id replace it), re-exported as `license::UNKNOWN`.
pub const UNKNOWN: &str = "Unknown";

pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const HEADER: &str = "\
# Go module facts: one record per line, TAB-separated, sorted. Maintained by `k3s-bake go import` / `go resolve`.
# kind\tmodule\tversion\tfields…   zip: sha256 | mod: sha256 | git: repo commit ref subdir go.mod-module checked-at | license: file md5 spdx
";

impl Facts {
    /// Reads a facts file. A missing file is an error: a mistyped `--facts` must not render empty includes.
    pub fn load(path: &Path) -> Result<Facts, FactsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Facts::parse(&path.display().to_string(), &text),
            Err(source) => Err(FactsError::Io { path: path.display().to_string(), source }),
        }
    }

    /// Reads a facts file, or starts an empty store when there is none yet: only for commands that create the
    /// file (`go import`, `bump`), which say how many facts they wrote.
    pub fn load_or_new(path: &Path) -> Result<Facts, FactsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Facts::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Facts::default()),
            Err(source) => Err(FactsError::Io { path: path.display().to_string(), source }),
        }
    }

    /// Parses facts text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Facts, FactsError> {
        let mut facts = Facts::default();
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let err = |message: String| FactsError::Parse { file: file.to_owned(), line, message };
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = raw.split('\t').collect();
            if f.len() < 3 {
                return Err(err("expected `kind<TAB>module<TAB>version<TAB>…`".into()));
            }
            if f[1].is_empty() || f[1].contains(char::is_whitespace) {
                return Err(err(format!("malformed module path {:?}", f[1])));
            }
            if !is_valid_version(f[2]) {
                return Err(err(format!("invalid version {:?} (expected like v1.2.3)", f[2])));
            }
            let m = ModuleVersion { path: f[1].to_owned(), version: f[2].to_owned() };
            let src = format!("{file}:{line}");
            match (f[0], &f[3..]) {
                ("zip", [sha]) if is_hex(sha, 64) => facts.set_zip(&m, sha, &src),
                ("mod", [sha]) if is_hex(sha, 64) => facts.set_mod(&m, sha, &src),
                ("git", [repo, commit, reference, subdir, rest @ ..])
                    if !repo.is_empty() && is_hex(commit, 40) && rest.len() <= 2 =>
                {
                    let mut g = GitFact::new(repo, commit, reference, subdir);
                    if let [module, checked_at] = rest {
                        if module.is_empty() != checked_at.is_empty() || !valid_checked_at(checked_at) {
                            return Err(err(format!(
                                "git record: the go.mod module line and where it was read (REPO@40-hex commit) go \
                                 together; got {module:?} and {checked_at:?}"
                            )));
                        }
                        g.module = (*module).into();
                        g.checked_at = (*checked_at).into();
                    }
                    facts.set_git(&m, g, &src)
                }
                ("license", [path, md5, spdx]) if !path.is_empty() && is_hex(md5, 32) && !spdx.is_empty() => {
                    facts.set_license(&m, path, LicenseFact { md5: (*md5).into(), spdx: (*spdx).into() }, &src)
                }
                ("zip" | "mod", _) => return Err(err(format!("{} record: expected one 64-hex sha256 field", f[0]))),
                ("git", _) => {
                    return Err(err(
                        "git record: expected repo, 40-hex commit, ref, subdir[, go.mod module, REPO@commit]".into(),
                    ));
                }
                ("license", _) => return Err(err("license record: expected file, 32-hex md5, SPDX id".into())),
                (k, _) => return Err(err(format!("unknown record kind {k:?} (expected zip, mod, git or license)"))),
            }
            .map_err(|e| match e {
                FactsError::Conflict { .. } => err(e.to_string()),
                other => other,
            })?;
        }
        Ok(facts)
    }

    /// The file text: header, then every record sorted.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(HEADER);
        for (m, f) in &self.modules {
            let (p, v) = (&m.path, &m.version);
            if let Some(s) = &f.zip_sha256 {
                let _ = writeln!(out, "zip\t{p}\t{v}\t{s}");
            }
            if let Some(s) = &f.mod_sha256 {
                let _ = writeln!(out, "mod\t{p}\t{v}\t{s}");
            }
            if let Some(g) = &f.git {
                let _ = writeln!(
                    out,
                    "git\t{p}\t{v}\t{}\t{}\t{}\t{}\t{}\t{}",
                    g.repo, g.commit, g.reference, g.subdir, g.module, g.checked_at
                );
            }
            for (file, l) in &f.licenses {
                let _ = writeln!(out, "license\t{p}\t{v}\t{file}\t{}\t{}", l.md5, l.spdx);
            }
        }
        out
    }

    fn entry(&mut self, m: &ModuleVersion) -> &mut ModFacts {
        self.modules.entry(m.clone()).or_default()
    }

    fn conflict(what: &'static str, m: &ModuleVersion, old: &str, new: &str, src: &str) -> FactsError {
        FactsError::Conflict { what, module: m.to_string(), old: old.into(), new: new.into(), source_name: src.into() }
    }

    /// Records a zip SHA-256; a different value already known is a conflict.
    pub fn set_zip(&mut self, m: &ModuleVersion, sha: &str, src: &str) -> Result<(), FactsError> {
        match &self.entry(m).zip_sha256 {
            Some(old) if old != sha => Err(Self::conflict("zip sha256", m, old, sha, src)),
            _ => {
                self.entry(m).zip_sha256 = Some(sha.to_owned());
                Ok(())
            }
        }
    }

    /// Records a go.mod SHA-256.
    pub fn set_mod(&mut self, m: &ModuleVersion, sha: &str, src: &str) -> Result<(), FactsError> {
        match &self.entry(m).mod_sha256 {
            Some(old) if old != sha => Err(Self::conflict("go.mod sha256", m, old, sha, src)),
            _ => {
                self.entry(m).mod_sha256 = Some(sha.to_owned());
                Ok(())
            }
        }
    }

    /// Records a git source. A known commit must match; a missing ref or go.mod evidence is filled in, and
    /// evidence read at the fact's own commit replaces evidence from another commit.
    pub fn set_git(&mut self, m: &ModuleVersion, g: GitFact, src: &str) -> Result<(), FactsError> {
        let e = self.entry(m);
        match &mut e.git {
            Some(old) if old.commit != g.commit || old.repo != g.repo || old.subdir != g.subdir => {
                let (o, n) = (
                    format!("{} {} {}", old.repo, old.commit, old.subdir),
                    format!("{} {} {}", g.repo, g.commit, g.subdir),
                );
                Err(Self::conflict("git source", m, &o, &n, src))
            }
            Some(old) => {
                let better = !g.module.is_empty() && (old.module.is_empty() || g.verified_at_commit());
                if better {
                    old.module = g.module;
                    old.checked_at = g.checked_at;
                }
                if old.reference.is_empty() {
                    old.reference = g.reference;
                }
                Ok(())
            }
            None => {
                e.git = Some(g);
                Ok(())
            }
        }
    }

    /// Records a license file. A different md5 is a conflict; a known SPDX id replaces `Unknown`.
    pub fn set_license(&mut self, m: &ModuleVersion, file: &str, l: LicenseFact, src: &str) -> Result<(), FactsError> {
        let e = self.entry(m);
        match e.licenses.get_mut(file) {
            Some(old) if old.md5 != l.md5 => {
                Err(Self::conflict("license md5", m, &format!("{file} {}", old.md5), &format!("{file} {}", l.md5), src))
            }
            Some(old) => {
                if old.spdx == UNKNOWN {
                    old.spdx = l.spdx;
                } else if l.spdx != UNKNOWN && l.spdx != old.spdx {
                    return Err(Self::conflict("license SPDX id", m, &old.spdx, &l.spdx, src));
                }
                Ok(())
            }
            None => {
                e.licenses.insert(file.to_owned(), l);
                Ok(())
            }
        }
    }

    /// Merges every fact of `other` into `self` (conflicts are errors).
    pub fn merge(&mut self, other: &Facts, src: &str) -> Result<(), FactsError> {
        for (m, f) in &other.modules {
            if let Some(s) = &f.zip_sha256 {
                self.set_zip(m, s, src)?;
            }
            if let Some(s) = &f.mod_sha256 {
                self.set_mod(m, s, src)?;
            }
            if let Some(g) = &f.git {
                self.set_git(m, g.clone(), src)?;
            }
            for (file, l) in &f.licenses {
                self.set_license(m, file, l.clone(), src)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    /// `go render --facts typo.tsv` used to render empty includes and exit 0.
    #[test]
    fn a_missing_facts_file_is_an_error_not_an_empty_store() {
        let t = std::env::temp_dir().join(format!("no-such-facts-{}.tsv", std::process::id()));
        let e = Facts::load(&t).unwrap_err();
        assert!(e.to_string().starts_with(&format!("reading {}", t.display())), "{e}");
        assert_eq!(Facts::load_or_new(&t).unwrap(), Facts::default(), "only creating commands start empty");
    }

    #[test]
    fn an_io_error_says_its_cause_once() {
        // A directory cannot be read as a file: EISDIR.
        let dir = std::env::temp_dir();
        let err = Facts::load(&dir).unwrap_err();
        let mut text = err.to_string();
        let mut next = std::error::Error::source(&err);
        while let Some(cause) = next {
            text = format!("{text}: {cause}");
            next = cause.source();
        }
        assert_eq!(text.matches("directory").count(), 1, "{text}");
        assert!(text.starts_with(&format!("reading {}: ", dir.display())), "{text}");
    }

    use super::*;

    const SHA: &str = "c895c6fe62f9a4ab59c3e780be29059e3ed71a80e12e36ac61708fd906bc0039";

    fn mv(p: &str, v: &str) -> ModuleVersion {
        ModuleVersion { path: p.into(), version: v.into() }
    }

    #[test]
    fn round_trip_is_sorted_and_stable() {
        let mut f = Facts::default();
        f.set_zip(&mv("b.com/x", "v1.0.0"), SHA, "t").unwrap();
        f.set_git(
            &mv("a.com/y/v2", "v2.0.0"),
            GitFact::new("https://a.com/y", &"a".repeat(40), "refs/tags/v2.0.0", ""),
            "t",
        )
        .unwrap();
        f.set_license(
            &mv("b.com/x", "v1.0.0"),
            "LICENSE",
            LicenseFact { md5: "0".repeat(32), spdx: "MIT".into() },
            "t",
        )
        .unwrap();
        let text = f.to_tsv();
        let records: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(records[0].starts_with("git\ta.com/y/v2") && records[1].starts_with("zip\tb.com/x"), "{text}");
        assert_eq!(Facts::parse("f", &text).unwrap(), f);
        assert_eq!(Facts::parse("f", &text).unwrap().to_tsv(), text);
    }

    #[test]
    fn conflicts_and_bad_lines_name_the_line() {
        let text = format!("zip\ta.com/x\tv1.0.0\t{SHA}\nzip\ta.com/x\tv1.0.0\t{}\n", "0".repeat(64));
        let e = Facts::parse("facts.tsv", &text).unwrap_err().to_string();
        assert!(e.starts_with("facts.tsv:2: conflicting zip sha256 for a.com/x@v1.0.0"), "{e}");
        let e = Facts::parse("facts.tsv", "zip\ta.com/x\tv1.0.0\tnothex\n").unwrap_err().to_string();
        assert_eq!(e, "facts.tsv:1: zip record: expected one 64-hex sha256 field");
        let e = Facts::parse("facts.tsv", "# c\nfoo\ta.com/x\tv1.0.0\n").unwrap_err().to_string();
        assert!(e.starts_with("facts.tsv:2: unknown record kind"), "{e}");
        let e = Facts::parse("facts.tsv", "zip\ta.com/x\t1.0\tx\n").unwrap_err().to_string();
        assert!(e.contains("invalid version"), "{e}");
    }

    #[test]
    fn known_spdx_replaces_unknown() {
        let mut f = Facts::default();
        let m = mv("a.com/x", "v1.0.0");
        let l = |s: &str| LicenseFact { md5: "1".repeat(32), spdx: s.into() };
        f.set_license(&m, "LICENSE", l("Unknown"), "t").unwrap();
        f.set_license(&m, "LICENSE", l("MIT"), "t").unwrap();
        assert_eq!(f.modules[&m].licenses["LICENSE"].spdx, "MIT");
        assert!(f.set_license(&m, "LICENSE", l("ISC"), "t").is_err());
    }
}
