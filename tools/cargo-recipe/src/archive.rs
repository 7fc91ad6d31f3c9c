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

/// What a recipe needs to know about one crate's sources.
#[derive(Debug, Clone)]
pub struct CrateFacts {
    /// The crate's manifest.
    pub package: Package,
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

/// Finds `NAME-VERSION.crate` under `<cargo_home>/registry/cache/*/`.
pub fn find_crate(cargo_home: &Path, name: &str, version: &str) -> Result<PathBuf> {
    let cache = cargo_home.join("registry").join("cache");
    let file = format!("{name}-{version}.crate");
    if let Ok(entries) = std::fs::read_dir(&cache) {
        let mut dirs: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        dirs.sort();
        if let Some(hit) = dirs.iter().map(|d| d.join(&file)).find(|p| p.is_file()) {
            return Ok(hit);
        }
    }
    Err(Error::MissingCrate { name: name.to_owned(), version: version.to_owned(), cache })
}

/// Reads the facts of `NAME-VERSION` from its `.crate` archive.
pub fn read_crate(cargo_home: &Path, name: &str, version: &str) -> Result<CrateFacts> {
    let path = find_crate(cargo_home, name, version)?;
    let prefix = format!("{name}-{version}/");
    let bad = |m: String| Error::Archive { path: path.clone(), message: m };
    let scan = |want: &dyn Fn(&str) -> bool| -> Result<Vec<(String, Vec<u8>)>> {
        let file = std::fs::File::open(&path).map_err(io(&path))?;
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
        let mut out = Vec::new();
        for entry in ar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let p = entry.path().map_err(|e| bad(e.to_string()))?.to_string_lossy().into_owned();
            let Some(rel) = p.strip_prefix(&prefix) else { continue };
            if entry.header().entry_type().is_file() && want(rel) {
                let rel = rel.to_owned();
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf).map_err(|e| bad(e.to_string()))?;
                out.push((rel, buf));
            }
        }
        Ok(out)
    };
    let files = scan(&|rel| rel == "Cargo.toml" || (!rel.contains('/') && is_license_name(rel)))?;
    let manifest =
        files.iter().find(|(r, _)| r == "Cargo.toml").ok_or_else(|| bad(format!("no {prefix}Cargo.toml inside")))?;
    let text = String::from_utf8(manifest.1.clone()).map_err(|_| bad("Cargo.toml is not UTF-8".into()))?;
    let doc = Doc::parse(path.join("Cargo.toml"), text)?;
    let mut package = standalone_package(&doc)?;
    // Paths in the package point inside the archive; keep them relative to the crate root.
    let base = path.clone();
    package.dir = PathBuf::new();
    let mut licenses: Vec<LicenseText> = files
        .iter()
        .filter(|(r, _)| r != "Cargo.toml")
        .map(|(r, b)| LicenseText { rel: r.clone(), md5: md5_hex(b) })
        .collect();
    if let Some(lf) = package.license_file.clone() {
        let rel = lf.strip_prefix(&base).unwrap_or(&lf).to_string_lossy().trim_start_matches('/').to_owned();
        if !licenses.iter().any(|l| l.rel == rel) {
            let more = scan(&|r| r == rel)?;
            licenses.extend(more.iter().map(|(r, b)| LicenseText { rel: r.clone(), md5: md5_hex(b) }));
        }
    }
    licenses.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(CrateFacts { license_line: license_line(&doc), package, licenses })
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
    if let Some(lf) = &package.license_file
        && let Ok(rel) = lf.strip_prefix(&package.dir)
    {
        names.push(rel.to_string_lossy().into_owned());
    }
    names.sort();
    names.dedup();
    for n in names {
        let p = package.dir.join(&n);
        let bytes = std::fs::read(&p).map_err(io(&p))?;
        licenses.push(LicenseText { rel: n, md5: md5_hex(&bytes) });
    }
    Ok(CrateFacts { package: package.clone(), licenses, license_line: license_line(manifest) })
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
