//! Module zips made from a git repository the way the go command makes them for a `direct` (VCS) download, so a
//! module whose only source is git (a gomodgit fact) can be served by a `file://` GOPROXY.
//!
//! The go command (`cmd/go/internal/modfetch`: `codeRepo.Zip`, `codehost` `gitRepo.ReadZip`; then
//! `golang.org/x/mod/zip.Create`) does this, and so does this module:
//! - `git archive --format=zip` of the commit, limited to the module's directory, with `export-subst` and
//!   `export-ignore` switched off for every path (through the repository's `info/attributes`, which wins over the
//!   tree's `.gitattributes`) and `core.autocrlf=input`, `core.eol=lf`; names taken relative to the directory;
//!   directory entries (and with them submodules, which the archive writes as directories) dropped;
//! - a module in a subdirectory without a `LICENSE` of its own gets the repository root's `LICENSE`;
//! - then the zip rules: files inside a subdirectory holding a `go.mod` (any case) belong to that nested module
//!   and are omitted; files of vendored packages (`vendor/<pkg>/…`, with x/mod's historical offset bug, which
//!   checksums depend on) are omitted; a top-level `.hg_archival.txt` is omitted; symbolic links and other
//!   irregular files are omitted; paths that are not clean or not valid module file paths, a `go.mod` spelled in
//!   another case, names equal under case folding, a path that is both a file and a directory, a `go.mod` or
//!   `LICENSE` over 16 MiB and a tree over 500 MiB are refused (the go command refuses the whole module).
//! - Entries are named `<module>@<version>/<path>`; the `.mod` is `<dir>/go.mod` at the commit (the blob, as
//!   `codeRepo.GoMod` reads it), or `module <path>` when there is none (a `+incompatible` version).
//!
//! Zips are always checked before use: the zip's `h1:` against go.sum's line for the module version, the
//! `.mod`'s against its `/go.mod` line (see [`write_proxy_files`]).
//!
//! Approximations, caught by that check rather than trusted: non-ASCII letters in file names are judged with
//! Rust's `char::is_alphabetic` (Go: `unicode.IsLetter`), and case folding uses lower(upper(c)) (Go:
//! `unicode.SimpleFold` orbits).

use std::collections::BTreeMap;
use std::io::{Cursor, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use go_facts::render::Need;
use go_facts::{GitFact, ModuleVersion};

use crate::dirhash;
use crate::vcs::CachedRepo;

/// Largest module zip, and largest total of its files (x/mod `MaxZipFile`).
pub const MAX_ZIP_FILE: u64 = 500 << 20;
/// Largest `go.mod` (x/mod `MaxGoMod`).
pub const MAX_GO_MOD: u64 = 16 << 20;
/// Largest `LICENSE` (x/mod `MaxLICENSE`).
pub const MAX_LICENSE: u64 = 16 << 20;

/// What the go command writes into `info/attributes` before `git archive`, so the archive does not depend on the
/// tree's `.gitattributes` (golang.org/issue/27153).
const ATTRIBUTES: &str = "\n* -export-subst -export-ignore\n";

/// Where a module version's files come from, for messages: `module@version from repo@commit (dir sub)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The module version.
    pub module: String,
    /// The repository.
    pub repo: String,
    /// The commit.
    pub commit: String,
    /// The module's directory in the repository ("" for the root).
    pub subdir: String,
}

impl Origin {
    fn boxed(&self) -> Box<Origin> {
        Box::new(self.clone())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {}@{}", self.module, self.repo, self.commit)?;
        if !self.subdir.is_empty() {
            write!(f, " (directory {})", self.subdir)?;
        }
        Ok(())
    }
}

/// Why a module zip could not be made from git, or does not match go.sum. Every message names the module version,
/// the repository and the commit.
#[derive(Debug, thiserror::Error)]
pub enum VcsZipError {
    /// `git` could not be started or failed.
    #[error("{origin}: git {args}{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Git {
        /// The module version and its source.
        origin: Box<Origin>,
        /// The git arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
    /// The commit could not be made available.
    #[error("{origin}")]
    Fetch {
        /// The module version and its source.
        origin: Box<Origin>,
        /// Why.
        source: crate::vcs::VcsError,
    },
    /// `git archive` wrote something that is not a zip.
    #[error("{origin}: reading git archive's zip")]
    Archive {
        /// The module version and its source.
        origin: Box<Origin>,
        /// The zip reader's error.
        source: zip::result::ZipError,
    },
    /// Files the go command refuses in a module zip (it refuses the whole module).
    #[error("{origin}: the go command refuses this module's files:\n  {}", .files.join("\n  "))]
    Invalid {
        /// The module version and its source.
        origin: Box<Origin>,
        /// `path: why` for each refused file.
        files: Vec<String>,
    },
    /// The tree (or the archive) is larger than [`MAX_ZIP_FILE`].
    #[error("{origin}: {what} too large (max size is {MAX_ZIP_FILE} bytes)")]
    TooLarge {
        /// The module version and its source.
        origin: Box<Origin>,
        /// What is too large.
        what: &'static str,
    },
    /// The zip or go.mod made from git hashes differently from go.sum's line.
    #[error("{origin}: {what} made from git has {got}, go.sum says {want}")]
    Mismatch {
        /// The module version and its source.
        origin: Box<Origin>,
        /// `zip` or `go.mod`.
        what: &'static str,
        /// go.sum's hash.
        want: String,
        /// Our hash.
        got: String,
    },
    /// go.sum has no line to check the file against.
    #[error("{origin}: go.sum has no {what} line for it; a {what} made from git is used only when go.sum checks it")]
    NoSum {
        /// The module version and its source.
        origin: Box<Origin>,
        /// `h1:` (zip) or `/go.mod`.
        what: &'static str,
    },
    /// Writing the zip or a proxy file failed.
    #[error("{origin}: writing {}", path.display())]
    Write {
        /// The module version and its source.
        origin: Box<Origin>,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A module version's files as the go command would zip them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsModule {
    /// Where they come from.
    pub origin: Origin,
    /// The zip's files: path relative to the module root, contents; in archive order (the copied root LICENSE
    /// last).
    pub files: Vec<(String, Vec<u8>)>,
    /// Files left out and why (nested module, vendored package, symlink, …).
    pub omitted: Vec<(String, &'static str)>,
    /// The `.mod` the go command serves for the version.
    pub go_mod: Vec<u8>,
    /// Commit time (Unix seconds), for `.info`.
    pub time: i64,
}

fn git_at(repo: &CachedRepo, origin: &Origin, args: &[&str]) -> Result<Vec<u8>, VcsZipError> {
    let out = Command::new("git")
        // GIT_DIR, not -C: a bare repository is then found even with safe.bareRepository=explicit.
        .env("GIT_DIR", &repo.dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(args)
        .output()
        .map_err(|e| VcsZipError::Git { origin: origin.boxed(), args: args.join(" "), stderr: e.to_string() })?;
    if !out.status.success() {
        return Err(VcsZipError::Git {
            origin: origin.boxed(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

/// Appends the go command's attribute line to `info/attributes` unless it already ends with it.
fn ensure_attributes(repo: &CachedRepo, origin: &Origin) -> Result<(), VcsZipError> {
    let dir = repo.dir.join("info");
    let path = dir.join("attributes");
    let werr = |source| VcsZipError::Write { origin: origin.boxed(), path: path.clone(), source };
    std::fs::create_dir_all(&dir).map_err(werr)?;
    let old = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(werr(e)),
    };
    if !old.ends_with(ATTRIBUTES.as_bytes()) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(werr)?;
        f.write_all(ATTRIBUTES.as_bytes()).map_err(werr)?;
    }
    Ok(())
}

/// Kind of a zip entry, from its Unix mode when the archive records one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Regular,
    Symlink,
    Irregular,
}

fn kind_of(mode: Option<u32>) -> Kind {
    match mode.map(|m| m & 0o170000) {
        None | Some(0) | Some(0o100000) => Kind::Regular,
        Some(0o120000) => Kind::Symlink,
        Some(_) => Kind::Irregular,
    }
}

/// Reads `m` at `g`'s commit from `repo` (which must hold the commit) and applies the go command's rules.
pub fn read_module(repo: &CachedRepo, m: &ModuleVersion, g: &GitFact) -> Result<VcsModule, VcsZipError> {
    let origin =
        Origin { module: m.to_string(), repo: g.repo.clone(), commit: g.commit.clone(), subdir: g.subdir.clone() };
    repo.ensure(&g.commit).map_err(|source| VcsZipError::Fetch { origin: origin.boxed(), source })?;
    ensure_attributes(repo, &origin)?;
    let subdir = g.subdir.trim_matches('/');
    let mut args = vec![
        "-c",
        "core.autocrlf=input",
        "-c",
        "core.eol=lf",
        "archive",
        "--format=zip",
        "--prefix=prefix/",
        "--end-of-options",
        &g.commit,
    ];
    if !subdir.is_empty() {
        args.push(subdir);
    }
    let archive = git_at(repo, &origin, &args)?;
    if archive.len() as u64 > MAX_ZIP_FILE {
        return Err(VcsZipError::TooLarge { origin: origin.boxed(), what: "git archive's zip" });
    }
    let mut z = zip::ZipArchive::new(Cursor::new(archive))
        .map_err(|source| VcsZipError::Archive { origin: origin.boxed(), source })?;
    let dir_prefix = if subdir.is_empty() { String::new() } else { format!("{subdir}/") };
    // Names, kinds and sizes first: contents are read only for the files the rules keep (a repository root's
    // archive holds every nested module and vendored package too: k8s.io/kubernetes's staging/ and vendor/).
    let mut entries: Vec<Entry> = Vec::new();
    for i in 0..z.len() {
        let e = z.by_index(i).map_err(|source| VcsZipError::Archive { origin: origin.boxed(), source })?;
        let raw = e.name_raw().to_vec();
        let Some(rest) = raw.strip_prefix(b"prefix/") else {
            return Err(VcsZipError::Invalid {
                origin: origin.boxed(),
                files: vec![format!("{}: outside the archive's prefix", String::from_utf8_lossy(&raw))],
            });
        };
        let Some(name) = rest.strip_prefix(dir_prefix.as_bytes()) else { continue };
        if name.is_empty() || name.ends_with(b"/") {
            continue;
        }
        let name = String::from_utf8(name.to_vec()).map_err(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        entries.push(Entry { name, kind: kind_of(e.unix_mode()), size: e.size(), body: Body::Archive(i) });
    }
    let has_license = entries.iter().any(|e| e.name.as_deref() == Ok("LICENSE"));
    if !subdir.is_empty() && !has_license {
        // codeRepo.Zip: the repository's LICENSE, read as a blob, when the module directory has none. A root LICENSE
        // that cannot be read (absent, too large) is simply not added.
        if let Ok(data) = repo.read(&g.commit, "LICENSE")
            && data.len() as u64 <= MAX_LICENSE
        {
            entries.push(Entry {
                name: Ok("LICENSE".to_owned()),
                kind: Kind::Regular,
                size: data.len() as u64,
                body: Body::Data(data),
            });
        }
    }
    let (valid, omitted) = check_files(&origin, entries)?;
    let mut files = Vec::with_capacity(valid.len());
    for (name, body) in valid {
        let data = match body {
            Body::Data(d) => d,
            Body::Archive(i) => {
                let aerr = |source| VcsZipError::Archive { origin: origin.boxed(), source };
                let mut e = z.by_index(i).map_err(aerr)?;
                let mut d = Vec::with_capacity(usize::try_from(e.size()).unwrap_or(0));
                e.read_to_end(&mut d).map_err(|source| aerr(zip::result::ZipError::Io(source)))?;
                d
            }
        };
        files.push((name, data));
    }
    let gomod_path = if subdir.is_empty() { "go.mod".to_owned() } else { format!("{subdir}/go.mod") };
    let go_mod = if repo.exists(&g.commit, &gomod_path) {
        repo.read(&g.commit, &gomod_path).map_err(|source| VcsZipError::Fetch { origin: origin.boxed(), source })?
    } else {
        // codeRepo.legacyGoMod. A valid module path never needs go.mod quoting.
        format!("module {}\n", m.path).into_bytes()
    };
    let time = String::from_utf8_lossy(&git_at(repo, &origin, &["show", "-s", "--format=%ct", &g.commit])?)
        .trim()
        .parse::<i64>()
        .unwrap_or(0);
    Ok(VcsModule { origin, files, omitted, go_mod, time })
}

/// x/mod's `isVendoredPackage`, bug for bug: for `x/vendor/…` the offset is `len("/vendor/")` from the start of
/// the name, not from the match (golang.org/issue/31562; fixing it would change published checksums).
pub fn is_vendored_package(name: &str) -> bool {
    let i = if name.starts_with("vendor/") {
        "vendor/".len()
    } else if name.contains("/vendor/") {
        "/vendor/".len()
    } else {
        return false;
    };
    name.get(i..).is_some_and(|rest| rest.contains('/'))
}

/// `path.Clean(p) == p` for a relative slash path.
fn is_clean(p: &str) -> bool {
    p == "."
        || (!p.is_empty()
            && !p.ends_with('/')
            && p.split('/').skip(usize::from(p.starts_with('/'))).all(|e| !e.is_empty() && e != "." && e != ".."))
}

fn file_name_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(c) || (!c.is_ascii() && c.is_alphabetic())
}

const BAD_WINDOWS_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// x/mod `module.CheckFilePath`.
pub fn check_file_path(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("empty string".into());
    }
    if p.contains("//") {
        return Err("double slash".into());
    }
    if p.ends_with('/') {
        return Err("trailing slash".into());
    }
    for elem in p.split('/') {
        if elem.is_empty() {
            return Err("empty path element".into());
        }
        if elem.bytes().all(|b| b == b'.') {
            return Err(format!("invalid path element {elem:?}"));
        }
        if elem.ends_with('.') {
            return Err("trailing dot in path element".into());
        }
        if let Some(c) = elem.chars().find(|c| !file_name_ok(*c)) {
            return Err(format!("invalid char {c:?}"));
        }
        let short = elem.split('.').next().unwrap_or(elem);
        if BAD_WINDOWS_NAMES.iter().any(|b| b.eq_ignore_ascii_case(short)) {
            return Err(format!("{short:?} disallowed as path element component on Windows"));
        }
    }
    Ok(())
}

/// A key equal for two names iff they are equal under (simple) case folding.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => {
                    let mut low = u.to_lowercase();
                    match (low.next(), low.next()) {
                        (Some(l), None) => l,
                        _ => c,
                    }
                }
                _ => c,
            }
        })
        .collect()
}

/// x/mod's collision checker: names equal under case folding, a path both a file and a directory, a file twice.
fn check_collision(seen: &mut BTreeMap<String, (String, bool)>, p: &str, is_dir: bool) -> Result<(), String> {
    let key = fold(p);
    if let Some((other, other_dir)) = seen.get(&key) {
        if other != p {
            return Err(format!("case-insensitive file name collision: {other:?} and {p:?}"));
        }
        if *other_dir != is_dir {
            return Err(format!("entry {p:?} is both a file and a directory"));
        }
        if !is_dir {
            return Err(format!("multiple entries for file {p:?}"));
        }
    } else {
        seen.insert(key, (p.to_owned(), is_dir));
    }
    match p.rsplit_once('/') {
        Some((parent, _)) => check_collision(seen, parent, true),
        None => Ok(()),
    }
}

/// Where a file's contents are: an entry of git archive's zip, or read separately (the root LICENSE).
#[derive(Debug)]
enum Body {
    Archive(usize),
    Data(Vec<u8>),
}

/// A file of the archive (or the added LICENSE) before the rules; a name that is not UTF-8 is kept lossily, to be
/// refused.
#[derive(Debug)]
struct Entry {
    name: Result<String, String>,
    kind: Kind,
    /// Uncompressed size (what x/mod counts).
    size: u64,
    body: Body,
}

type Checked = (Vec<(String, Body)>, Vec<(String, &'static str)>);

/// x/mod `zip.checkFiles`, in its order of checks: which files go into the zip, which are omitted, which make the
/// go command refuse the module.
fn check_files(origin: &Origin, entries: Vec<Entry>) -> Result<Checked, VcsZipError> {
    // Directories holding a go.mod (any case) that is a regular file: their files belong to nested modules.
    let mut have_go_mod = std::collections::BTreeSet::new();
    for Entry { name, kind, .. } in &entries {
        if let Ok(n) = name {
            let (dir, base) = n.rsplit_once('/').map_or(("", n.as_str()), |(d, b)| (d, b));
            if base.eq_ignore_ascii_case("go.mod") && *kind == Kind::Regular {
                have_go_mod.insert(format!("{dir}/"));
            }
        }
    }
    let in_submodule = |p: &str| {
        let mut p = p;
        while let Some((dir, _)) = p.rsplit_once('/') {
            if have_go_mod.contains(&format!("{dir}/")) {
                return true;
            }
            p = dir;
        }
        false
    };
    let mut invalid = Vec::new();
    let mut omitted = Vec::new();
    let mut valid = Vec::new();
    let mut seen = BTreeMap::new();
    let mut budget = MAX_ZIP_FILE;
    let mut too_large = false;
    for Entry { name, kind, size, body } in entries {
        let p = match name {
            Ok(p) => p,
            Err(lossy) => {
                invalid.push(format!("{lossy}: invalid UTF-8"));
                continue;
            }
        };
        if !is_clean(&p) {
            invalid.push(format!("{p}: file path is not clean"));
            continue;
        }
        if p.starts_with('/') {
            invalid.push(format!("{p}: file path is not relative"));
            continue;
        }
        if is_vendored_package(&p) {
            omitted.push((p, "file is in vendor directory"));
            continue;
        }
        if in_submodule(&p) {
            omitted.push((p, "file is in another module"));
            continue;
        }
        if p == ".hg_archival.txt" {
            omitted.push((p, "file is inserted by 'hg archive' and is always omitted"));
            continue;
        }
        if let Err(e) = check_file_path(&p) {
            invalid.push(format!("{p}: malformed file path {p:?}: {e}"));
            continue;
        }
        if p.to_lowercase() == "go.mod" && p != "go.mod" {
            invalid.push(format!("{p}: go.mod files must have lowercase names"));
            continue;
        }
        if let Err(e) = check_collision(&mut seen, &p, false) {
            invalid.push(format!("{p}: {e}"));
            continue;
        }
        match kind {
            Kind::Symlink => {
                omitted.push((p, "file is a symbolic link"));
                continue;
            }
            Kind::Irregular => {
                omitted.push((p, "not a regular file"));
                continue;
            }
            Kind::Regular => {}
        }
        if size <= budget {
            budget -= size;
        } else {
            too_large = true;
        }
        if p == "go.mod" && size > MAX_GO_MOD {
            invalid.push(format!("{p}: go.mod file too large (max size is {MAX_GO_MOD} bytes)"));
            continue;
        }
        if p == "LICENSE" && size > MAX_LICENSE {
            invalid.push(format!("{p}: LICENSE file too large (max size is {MAX_LICENSE} bytes)"));
            continue;
        }
        valid.push((p, body));
    }
    if too_large {
        return Err(VcsZipError::TooLarge { origin: origin.boxed(), what: "module source tree" });
    }
    if !invalid.is_empty() {
        return Err(VcsZipError::Invalid { origin: origin.boxed(), files: invalid });
    }
    Ok((valid, omitted))
}

impl VcsModule {
    fn prefix(&self, m: &ModuleVersion) -> String {
        format!("{}@{}/", m.path, m.version)
    }

    /// The zip's entry names (`<module>@<version>/<path>`), sorted.
    pub fn zip_names(&self, m: &ModuleVersion) -> Vec<String> {
        let prefix = self.prefix(m);
        let mut v: Vec<String> = self.files.iter().map(|(n, _)| format!("{prefix}{n}")).collect();
        v.sort();
        v
    }

    /// The module zip (deflate, fixed timestamps: the same tree gives the same bytes).
    pub fn zip_bytes(&self, m: &ModuleVersion) -> Result<Vec<u8>, VcsZipError> {
        let prefix = self.prefix(m);
        let werr = |e: std::io::Error| VcsZipError::Write {
            origin: self.origin.boxed(),
            path: PathBuf::from(format!("{prefix}…zip")),
            source: e,
        };
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        for (name, data) in &self.files {
            w.start_file(format!("{prefix}{name}"), o).map_err(|e| werr(std::io::Error::other(e)))?;
            w.write_all(data).map_err(werr)?;
        }
        Ok(w.finish().map_err(|e| werr(std::io::Error::other(e)))?.into_inner())
    }

    /// `h1:` of the `.mod`.
    pub fn go_mod_h1(&self) -> String {
        dirhash::hash_go_mod(&self.go_mod)
    }

    /// The proxy's `.info`.
    pub fn info(&self, m: &ModuleVersion) -> String {
        format!("{{\"Version\":\"{}\",\"Time\":\"{}\"}}\n", m.version, rfc3339(self.time))
    }
}

/// `h1:` of a module zip held in memory (what the go command hashes when it reads the file back).
pub fn hash_zip_bytes(data: &[u8]) -> Result<String, zip::result::ZipError> {
    let mut z = zip::ZipArchive::new(Cursor::new(data))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(z.len());
    for i in 0..z.len() {
        let mut e = z.by_index(i)?;
        if e.is_dir() {
            continue;
        }
        let mut d = Vec::new();
        e.read_to_end(&mut d)?;
        files.push((e.name().to_owned(), d));
    }
    Ok(dirhash::hash1(files.iter().map(|(n, d)| (n.as_str(), d.as_slice()))))
}

/// Unix seconds as RFC 3339 UTC (`2006-01-02T15:04:05Z`), as the go command's `.info` writes commit times.
fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Makes `m`'s proxy files from git and writes them into `dir` (`<proxy>/<escaped path>/@v`) as
/// `<escaped version>.{info,mod[,zip]}` (the zip only for [`Need::Zip`]), after checking each against go.sum's
/// `sum` entry: nothing is written unless every file matches, and each file is written atomically.
pub fn write_proxy_files(
    repo: &CachedRepo,
    m: &ModuleVersion,
    g: &GitFact,
    need: Need,
    sum: Option<&gomod::SumEntry>,
    dir: &Path,
) -> Result<VcsModule, VcsZipError> {
    let module = read_module(repo, m, g)?;
    let origin = module.origin.clone();
    let want_mod = sum
        .and_then(|s| s.go_mod.clone())
        .ok_or_else(|| VcsZipError::NoSum { origin: origin.boxed(), what: "/go.mod" })?;
    let got = module.go_mod_h1();
    if got != want_mod {
        return Err(VcsZipError::Mismatch { origin: origin.boxed(), what: "go.mod", want: want_mod, got });
    }
    let zip = if need == Need::Zip {
        let want = sum
            .and_then(|s| s.zip.clone())
            .ok_or_else(|| VcsZipError::NoSum { origin: origin.boxed(), what: "h1:" })?;
        let bytes = module.zip_bytes(m)?;
        let got = hash_zip_bytes(&bytes).map_err(|source| VcsZipError::Archive { origin: origin.boxed(), source })?;
        if got != want {
            return Err(VcsZipError::Mismatch { origin: origin.boxed(), what: "zip", want, got });
        }
        Some(bytes)
    } else {
        None
    };
    let ev = gomod::escape_version(&m.version).map_err(|e| VcsZipError::Invalid {
        origin: origin.boxed(),
        files: vec![format!("version {}: {e}", m.version)],
    })?;
    let write = |ext: &str, data: &[u8]| {
        let path = dir.join(format!("{ev}.{ext}"));
        std::fs::create_dir_all(dir)
            .and_then(|()| k3s_atomic::write(&path, data, 0o644))
            .map_err(|source| VcsZipError::Write { origin: origin.boxed(), path, source })
    };
    if let Some(z) = &zip {
        write("zip", z)?;
    }
    write("mod", &module.go_mod)?;
    write("info", module.info(m).as_bytes())?;
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_packages_bug_for_bug() {
        assert!(is_vendored_package("vendor/a/b.go"));
        assert!(!is_vendored_package("vendor/modules.txt"));
        // x/mod's offset bug: the rest is taken from index len("/vendor/") of the whole name, which still holds
        // the '/' ending "/vendor/": a file directly in a nested vendor directory is omitted too.
        assert!(is_vendored_package("x/vendor/y.go"));
        assert!(is_vendored_package("abc/vendor/pkg/y.go"));
        assert!(!is_vendored_package("src/a.go"));
    }

    #[test]
    fn file_paths_and_collisions() {
        check_file_path("a/b c/d.go").unwrap();
        check_file_path("é/x").unwrap();
        for bad in ["a//b", "a/", "a/./b", "a/../b", "a.", "x/con.txt", "a*b", "a:b", "AUX"] {
            assert!(check_file_path(bad).is_err(), "{bad}");
        }
        let mut seen = BTreeMap::new();
        check_collision(&mut seen, "a/B.go", false).unwrap();
        assert!(check_collision(&mut seen, "A/x.go", false).unwrap_err().contains("collision"));
        assert!(check_collision(&mut seen, "a/B.go/c", false).unwrap_err().contains("both a file and a directory"));
        assert!(check_collision(&mut seen, "a/b.go", false).is_err());
        assert!(is_clean("a/b") && !is_clean("a//b") && !is_clean("./a") && !is_clean("a/"));
    }

    fn entry(name: &str, kind: Kind, size: u64) -> Entry {
        Entry { name: Ok(name.into()), kind, size, body: Body::Data(Vec::new()) }
    }

    fn origin() -> Origin {
        Origin { module: "example.com/m@v1.0.0".into(), repo: "r".into(), commit: "c".into(), subdir: String::new() }
    }

    #[test]
    fn nested_modules_sizes_and_names_as_zip_create_judges_them() {
        let o = origin();
        let (valid, omitted) = check_files(
            &o,
            vec![
                entry("go.mod", Kind::Regular, 10),
                entry("a/GO.MOD", Kind::Regular, 1),
                entry("a/x.go", Kind::Regular, 1),
                // A symlinked go.mod marks no nested module (x/mod looks at regular files only).
                entry("b/go.mod", Kind::Symlink, 1),
                entry("b/y.go", Kind::Regular, 1),
                entry(".hg_archival.txt", Kind::Regular, 1),
                entry("c/.hg_archival.txt", Kind::Regular, 1),
                entry("fifo", Kind::Irregular, 0),
            ],
        )
        .unwrap();
        let names: Vec<&str> = valid.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["go.mod", "b/y.go", "c/.hg_archival.txt"]);
        assert_eq!(omitted.len(), 5, "{omitted:?}");
        let err = |entries| check_files(&o, entries).unwrap_err().to_string();
        assert!(err(vec![entry("Go.mod", Kind::Regular, 1)]).contains("lowercase"));
        assert!(err(vec![entry("go.mod", Kind::Regular, MAX_GO_MOD + 1)]).contains("go.mod file too large"));
        assert!(err(vec![entry("LICENSE", Kind::Regular, MAX_LICENSE + 1)]).contains("LICENSE file too large"));
        // Only the module root's LICENSE is limited.
        check_files(&o, vec![entry("x/LICENSE", Kind::Regular, MAX_LICENSE + 1)]).unwrap();
        let big = vec![entry("a", Kind::Regular, MAX_ZIP_FILE), entry("b", Kind::Regular, 1)];
        assert!(err(big).contains("module source tree too large"));
        let e = err(vec![Entry {
            name: Err("\u{fffd}.go".into()),
            kind: Kind::Regular,
            size: 1,
            body: Body::Data(vec![]),
        }]);
        assert!(e.contains("invalid UTF-8") && e.contains("example.com/m@v1.0.0 from r@c"), "{e}");
    }

    #[test]
    fn commit_times_as_the_go_command_writes_them() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
