//! Facts read from a crate's sources: its normalised Cargo.toml and the md5 of its license files, from a `.crate`
//! archive in the local cargo cache or from a git checkout cargo made.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io};
use crate::manifest::{Doc, Package, standalone_package};

/// One license text of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseText {
    /// Path inside the crate directory.
    pub rel: String,
    /// md5 of the whole file (what LIC_FILES_CHKSUM checks).
    pub md5: String,
}

/// What a recipe needs to know about one crate's sources: its license fields and license texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateFacts {
    /// `package.license` (an SPDX expression).
    pub license: Option<String>,
    /// `package.license-file`, relative to the crate root.
    pub license_file: Option<String>,
    /// License files found (top-level LICENSE*/LICENCE*/COPYING*/COPYRIGHT*/UNLICENSE*, plus `license-file`).
    pub licenses: Vec<LicenseText>,
    /// 1-based line of `license = …` in its Cargo.toml and the md5 of that line, for crates shipping no text.
    pub license_line: Option<(usize, String)>,
}

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(h);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cargo")
}

/// Is this top-level file name a license text by convention?
pub fn is_license_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "UNLICENSE"].iter().any(|p| up.starts_with(p))
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", md5::compute(bytes))
}

fn license_line(doc: &Doc) -> Option<(usize, String)> {
    let lines: Vec<&str> = doc.text.split_inclusive('\n').collect();
    let i =
        lines.iter().position(|l| l.trim_start().starts_with("license ") || l.trim_start().starts_with("license="))?;
    Some((i + 1, md5_hex(lines[i].as_bytes())))
}

/// The `NAME-VERSION.crate` files under `<cargo_home>/registry/cache/*/` (one per registry that has it).
pub fn find_crates(cargo_home: &Path, name: &str, version: &str) -> Vec<PathBuf> {
    let file = format!("{name}-{version}.crate");
    registry_dirs(cargo_home).into_iter().map(|d| d.join(&file)).filter(|p| p.is_file()).collect()
}

/// The registries' directories under `<cargo_home>/registry/cache/`, sorted; listed once per process and home
/// (a first run looks up every reached crate there; a registry appearing mid-run changes nothing cargo fetched).
fn registry_dirs(cargo_home: &Path) -> Vec<PathBuf> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LISTED: OnceLock<Mutex<HashMap<PathBuf, Vec<PathBuf>>>> = OnceLock::new();
    let list = || {
        let mut dirs: Vec<PathBuf> = match std::fs::read_dir(cargo_home.join("registry").join("cache")) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        dirs.sort();
        dirs
    };
    let Ok(mut seen) = LISTED.get_or_init(Default::default).lock() else { return list() };
    // Only a non-empty listing is kept: a cache created later in the process (tests) is then still found.
    match seen.get(cargo_home) {
        Some(d) => d.clone(),
        None => {
            let d = list();
            if !d.is_empty() {
                seen.insert(cargo_home.to_owned(), d.clone());
            }
            d
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `.crate` archive found in the local cargo cache and checked against Cargo.lock's sha256, with cargo's own
/// unpacking of it when there is a complete one.
#[derive(Debug, Clone)]
pub struct Located {
    /// The archive.
    pub archive: PathBuf,
    /// `<cargo_home>/registry/src/<registry>/NAME-VERSION`, when cargo unpacked the archive completely.
    pub unpacked: Option<PathBuf>,
    /// The archive's bytes, kept when there is no unpacking (everything is then read from them).
    bytes: Option<Vec<u8>>,
}

/// Finds `NAME-VERSION.crate`: the one whose sha256 is `checksum` (Cargo.lock's, which BitBake verifies too), so the
/// facts describe exactly what the recipe fetches.
pub fn locate_crate(cargo_home: &Path, name: &str, version: &str, checksum: Option<&str>) -> Result<Located> {
    let candidates = find_crates(cargo_home, name, version);
    let cache = cargo_home.join("registry").join("cache");
    if candidates.is_empty() {
        return Err(Error::MissingCrate { name: name.to_owned(), version: version.to_owned(), cache });
    }
    let mut seen = Vec::new();
    for path in candidates {
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        if let Some(want) = checksum {
            let got = sha256_hex(&bytes);
            if got != want {
                seen.push(format!("{} has sha256 {got}", path.display()));
                continue;
            }
        }
        let unpacked = unpacked_dir(cargo_home, &path, name, version);
        let bytes = if unpacked.is_some() { None } else { Some(bytes) };
        return Ok(Located { archive: path, unpacked, bytes });
    }
    Err(Error::Usage(format!(
        "{name} {version}: Cargo.lock's checksum is {}, but {}; run `cargo fetch --locked` again",
        checksum.unwrap_or_default(),
        seen.join(", ")
    )))
}

impl Located {
    fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match &self.bytes {
            Some(b) => Ok(std::borrow::Cow::Borrowed(b)),
            None => Ok(std::borrow::Cow::Owned(std::fs::read(&self.archive).map_err(io(&self.archive))?)),
        }
    }

    /// The crate's (normalised) Cargo.toml: cargo's unpacked copy, else the archive read up to that member (it is
    /// near the start: cargo packs files in path order).
    pub fn manifest_text(&self, name: &str, version: &str) -> Result<String> {
        if let Some(dir) = &self.unpacked {
            let p = dir.join("Cargo.toml");
            return std::fs::read_to_string(&p).map_err(io(&p));
        }
        let bytes = self.bytes()?;
        let want = format!("{name}-{version}/Cargo.toml");
        let bad = |m: String| Error::Archive { path: self.archive.clone(), message: m };
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        for entry in ar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            if entry.header().entry_type().is_file()
                && entry.path().map_err(|e| bad(e.to_string()))?.to_string_lossy() == want
            {
                let mut buf = String::new();
                entry.read_to_string(&mut buf).map_err(|_| bad("Cargo.toml is not UTF-8".into()))?;
                return Ok(buf);
            }
        }
        Err(bad(format!("no {want} inside")))
    }

    /// The license facts.
    pub fn facts(&self, cargo_home: &Path, name: &str, version: &str) -> Result<CrateFacts> {
        self.facts_with(cargo_home, name, version, None)
    }

    /// [`Located::facts`], with the crate's Cargo.toml already parsed from [`Located::manifest_text`] (cargo's
    /// unpacked copy is then not parsed again).
    pub fn facts_with(
        &self,
        cargo_home: &Path,
        name: &str,
        version: &str,
        manifest: Option<&Doc>,
    ) -> Result<CrateFacts> {
        if self.unpacked.is_some()
            && let Some(f) = facts_of_unpacked(cargo_home, &self.archive, name, version, manifest)?
        {
            return Ok(f);
        }
        facts_of_archive(&self.archive, &self.bytes()?, name, version)
    }
}

/// Reads the facts of `NAME-VERSION` from its `.crate` archive ([`locate_crate`]) or cargo's unpacking of it.
pub fn read_crate(cargo_home: &Path, name: &str, version: &str, checksum: Option<&str>) -> Result<CrateFacts> {
    locate_crate(cargo_home, name, version, checksum)?.facts(cargo_home, name, version)
}

/// `<cargo_home>/registry/src/<registry>/NAME-VERSION` when cargo finished unpacking it there.
fn unpacked_dir(cargo_home: &Path, archive: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let registry = archive.parent().and_then(Path::file_name)?;
    let dir = cargo_home.join("registry").join("src").join(registry).join(format!("{name}-{version}"));
    // cargo writes `ok` (before 1.71) or `{"v":1}` once the unpacking is complete; anything else may be partial.
    match std::fs::read_to_string(dir.join(".cargo-ok")) {
        Ok(ok) if ok == "ok" || ok == "{\"v\":1}" => Some(dir),
        _ => None,
    }
}

/// The facts from cargo's own unpacking of that archive (`<cargo_home>/registry/src/<registry>/NAME-VERSION`, which
/// cargo writes from the verified archive and marks complete with `.cargo-ok`), when it exists: reading a few small
/// files instead of inflating the whole archive. `None` when there is no complete unpacking.
fn facts_of_unpacked(
    cargo_home: &Path,
    archive: &Path,
    name: &str,
    version: &str,
    manifest: Option<&Doc>,
) -> Result<Option<CrateFacts>> {
    let Some(dir) = unpacked_dir(cargo_home, archive, name, version) else { return Ok(None) };
    let doc = match manifest {
        Some(d) => Doc { path: dir.join("Cargo.toml"), text: d.text.clone(), table: d.table.clone() },
        None => Doc::load(&dir.join("Cargo.toml"))?,
    };
    let mut package = standalone_package(&doc)?;
    package.dir = dir.clone();
    if let Some(lf) = &package.license_file {
        // A license-file pointing outside the crate cannot come from the archive: read that from the archive.
        if !crate::manifest::normalize(lf).starts_with(&dir) {
            return Ok(None);
        }
    }
    let mut facts = read_dir_crate(&package, &doc)?;
    facts.license_file =
        facts.license_file.map(|l| crate::manifest::normalize(Path::new(&l)).to_string_lossy().into_owned());
    Ok(Some(facts))
}

/// One pass over the archive: the manifest, top-level license texts, and anything that may be a `license-file`.
fn facts_of_archive(path: &Path, bytes: &[u8], name: &str, version: &str) -> Result<CrateFacts> {
    let prefix = format!("{name}-{version}/");
    let bad = |m: String| Error::Archive { path: path.to_owned(), message: m };
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut manifest: Option<Vec<u8>> = None;
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for entry in ar.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let p = entry.path().map_err(|e| bad(e.to_string()))?.to_string_lossy().into_owned();
        let Some(rel) = p.strip_prefix(&prefix) else { continue };
        let rel = rel.to_owned();
        let top_license = !rel.contains('/') && is_license_name(&rel);
        // A `license-file` may live anywhere; keep texts whose name looks like one (a rare second pass otherwise).
        let maybe = rel.to_ascii_uppercase().contains("LICEN") || rel.to_ascii_uppercase().contains("COPYING");
        if rel == "Cargo.toml" || top_license || maybe {
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).map_err(|e| bad(e.to_string()))?;
            if rel == "Cargo.toml" {
                manifest = Some(buf);
            } else {
                texts.push((rel.clone(), buf));
            }
        }
        files.push(rel);
    }
    let manifest = manifest.ok_or_else(|| bad(format!("no {prefix}Cargo.toml inside")))?;
    let text = String::from_utf8(manifest).map_err(|_| bad("Cargo.toml is not UTF-8".into()))?;
    let doc = Doc::parse(path.join("Cargo.toml"), text)?;
    let package = standalone_package(&doc)?;
    let base = path.to_owned();
    let license_file = package.license_file.as_ref().map(|lf| {
        let lf = lf.strip_prefix(&base).unwrap_or(lf).to_string_lossy().trim_start_matches('/').to_owned();
        crate::manifest::normalize(Path::new(&lf)).to_string_lossy().into_owned()
    });
    let mut licenses: Vec<LicenseText> = texts
        .iter()
        .filter(|(r, _)| !r.contains('/') && is_license_name(r))
        .map(|(r, b)| LicenseText { rel: r.clone(), md5: md5_hex(b) })
        .collect();
    if let Some(rel) = &license_file
        && !licenses.iter().any(|l| &l.rel == rel)
    {
        if let Some((r, b)) = texts.iter().find(|(r, _)| r == rel) {
            licenses.push(LicenseText { rel: r.clone(), md5: md5_hex(b) });
        } else if files.iter().any(|f| f == rel) {
            let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
            for entry in ar.entries().map_err(|e| bad(e.to_string()))? {
                let mut entry = entry.map_err(|e| bad(e.to_string()))?;
                let p = entry.path().map_err(|e| bad(e.to_string()))?.to_string_lossy().into_owned();
                if p.strip_prefix(&prefix) == Some(rel.as_str()) {
                    let mut buf = Vec::new();
                    entry.read_to_end(&mut buf).map_err(|e| bad(e.to_string()))?;
                    licenses.push(LicenseText { rel: rel.clone(), md5: md5_hex(&buf) });
                    break;
                }
            }
        }
    }
    licenses.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(CrateFacts { license: package.license.clone(), license_file, licenses, license_line: license_line(&doc) })
}

/// Reads the facts of a crate from a directory on disk (a path package or a git checkout).
pub fn read_dir_crate(package: &Package, manifest: &Doc) -> Result<CrateFacts> {
    let mut licenses = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&package.dir)
        .map_err(io(&package.dir))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_license_name(n))
        .collect();
    let license_file = package
        .license_file
        .as_ref()
        .and_then(|lf| lf.strip_prefix(&package.dir).ok())
        .map(|r| r.to_string_lossy().into_owned());
    if let Some(rel) = &license_file {
        names.push(rel.clone());
    }
    names.sort();
    names.dedup();
    for n in names {
        let p = package.dir.join(&n);
        let bytes = std::fs::read(&p).map_err(io(&p))?;
        licenses.push(LicenseText { rel: n, md5: md5_hex(&bytes) });
    }
    Ok(CrateFacts { license: package.license.clone(), license_file, licenses, license_line: license_line(manifest) })
}

/// Finds cargo's checkout of a git dependency: `<cargo_home>/git/checkouts/*/<short commit>/`, searched for the
/// Cargo.toml naming `name`. Returns the checkout root and the crate directory inside it.
pub fn find_git_checkout(cargo_home: &Path, name: &str, commit: &str) -> Option<(PathBuf, PathBuf)> {
    let checkouts = cargo_home.join("git").join("checkouts");
    let mut repos: Vec<_> = std::fs::read_dir(&checkouts).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    repos.sort();
    let short = commit.get(..7)?;
    for repo in repos {
        let root = repo.join(short);
        if !root.is_dir() {
            continue;
        }
        let mut stack = vec![(root.clone(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            let manifest = dir.join("Cargo.toml");
            if let Ok(doc) = Doc::load(&manifest)
                && doc.table.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) == Some(name)
            {
                return Some((root, dir));
            }
            if depth < 3
                && let Ok(rd) = std::fs::read_dir(&dir)
            {
                let mut subs: Vec<_> = rd
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .filter(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.') && n != "target"))
                    .collect();
                subs.sort();
                stack.extend(subs.into_iter().rev().map(|p| (p, depth + 1)));
            }
        }
    }
    None
}

impl CrateFacts {
    /// The cache body: one fact per line; `None` when a value cannot be written on one line.
    pub fn to_cache(&self) -> Option<String> {
        let one_line = |s: &str| !s.contains(['\n', '\r']);
        let mut out = String::new();
        if let Some(l) = &self.license {
            one_line(l).then_some(())?;
            out += &format!("license {l}\n");
        }
        if let Some(f) = &self.license_file {
            one_line(f).then_some(())?;
            out += &format!("license-file {f}\n");
        }
        for t in &self.licenses {
            one_line(&t.rel).then_some(())?;
            out += &format!("text {} {}\n", t.md5, t.rel);
        }
        if let Some((n, md5)) = &self.license_line {
            out += &format!("license-line {n} {md5}\n");
        }
        Some(out)
    }

    /// Reads a cache body written by [`CrateFacts::to_cache`]; `None` on anything unexpected.
    pub fn from_cache(body: &str) -> Option<CrateFacts> {
        let mut f = CrateFacts { license: None, license_file: None, licenses: Vec::new(), license_line: None };
        for line in body.lines() {
            let (k, v) = line.split_once(' ')?;
            match k {
                "license" => f.license = Some(v.to_owned()),
                "license-file" => f.license_file = Some(v.to_owned()),
                "text" => {
                    let (md5, rel) = v.split_once(' ')?;
                    f.licenses.push(LicenseText { rel: rel.to_owned(), md5: md5.to_owned() });
                }
                "license-line" => {
                    let (n, md5) = v.split_once(' ')?;
                    f.license_line = Some((n.parse().ok()?, md5.to_owned()));
                }
                _ => return None,
            }
        }
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_through_the_cache_format() {
        let f = CrateFacts {
            license: Some("MIT OR Apache-2.0".into()),
            license_file: Some("docs/LICENSE file.txt".into()),
            licenses: vec![LicenseText { rel: "LICENSE-MIT".into(), md5: "0".repeat(32) }],
            license_line: Some((7, "1".repeat(32))),
        };
        assert_eq!(CrateFacts::from_cache(&f.to_cache().unwrap()), Some(f.clone()));
        let mut bad = f;
        bad.licenses[0].rel = "two\nlines".into();
        assert_eq!(bad.to_cache(), None);
        assert_eq!(CrateFacts::from_cache("surprise x\n"), None);
    }
}
