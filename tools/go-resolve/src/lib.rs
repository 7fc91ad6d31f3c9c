//! Resolving Go module facts online (for maintainers): the SHA-256 of every module zip / go.mod a recipe needs,
//! from a Go module proxy, or the git commit behind a version when only the origin repository has it; plus the
//! md5 and SPDX id of each module's license files.
//!
//! Network use is bounded and repeatable: `jobs` parallel workers, retries with exponential backoff for transient
//! failures, and a content cache (`download/` in the proxy layout, `vcs/` bare repositories) so a rerun only
//! reads the disk. Every failure names its module version; all failures are reported together.
#![forbid(unsafe_code)]

pub mod dirhash;
pub mod proxy;
pub mod vcs;
pub mod vcszip;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use go_facts::license::{UNKNOWN, detect};
use go_facts::render::Need;
use go_facts::{Facts, GitFact, LicenseFact, ModFacts, ModuleVersion};
use md5::{Digest as _, Md5};

use proxy::{Ext, FetchError, ProxyClient, ProxyEntry, ProxyListItem};

/// How to resolve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The GOPROXY list.
    pub goproxy: Vec<ProxyListItem>,
    /// GONOPROXY/GOPRIVATE path prefixes: always `direct`.
    pub noproxy: Vec<String>,
    /// GOINSECURE path prefixes: go-get discovery over plain http.
    pub insecure: Vec<String>,
    /// Repositories named by the user (module path prefix → git URL), consulted before the built-in table and
    /// go-get discovery: private or mirrored code the public discovery cannot find.
    pub repo_map: Vec<(String, String)>,
    /// Content cache directory.
    pub cache: PathBuf,
    /// Parallel workers.
    pub jobs: usize,
    /// Retries per request after the first attempt.
    pub retries: u32,
    /// First retry delay (doubles each time).
    pub backoff: Duration,
    /// Record license files (md5 + detected SPDX id) of modules whose source is compiled.
    pub licenses: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// go.sum's `h1:` hashes per module version (empty without a go.sum): every downloaded zip / go.mod is
    /// checked against them, and a mismatch fails that module version (the cached file is removed).
    pub sums: BTreeMap<ModuleVersion, gomod::SumEntry>,
}

/// What a resolve run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Module versions looked up.
    pub looked_up: usize,
    /// Module versions whose facts were already complete.
    pub already_known: usize,
    /// License files found whose text was not identified (recorded as `Unknown`).
    pub unidentified_licenses: Vec<String>,
}

/// Why one module version could not be resolved. Messages say what was attempted; causes are sources.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// A git or go-get step failed.
    #[error(transparent)]
    Vcs(#[from] vcs::VcsError),
    /// A proxy request failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A downloaded zip could not be opened or read.
    #[error("{}{}", path.display(), entry.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    ZipIo {
        /// The zip.
        path: PathBuf,
        /// The entry being read, if any.
        entry: Option<String>,
        /// Why.
        source: std::io::Error,
    },
    /// A downloaded file is not a valid zip.
    #[error("{}: not a zip", path.display())]
    Zip {
        /// The zip.
        path: PathBuf,
        /// What the zip reader said.
        source: zip::result::ZipError,
    },
    /// `<subdir>/go.mod` is missing at the commit.
    #[error("{repo}@{commit}: no {path} for {module}; BitBake's gomodgit would synthesise a bare go.mod")]
    NoGoMod {
        /// The repository.
        repo: String,
        /// The commit.
        commit: String,
        /// The go.mod path looked for.
        path: String,
        /// The module version.
        module: String,
        /// Why it could not be read.
        source: Box<vcs::VcsError>,
    },
    /// That go.mod does not parse.
    #[error("{repo}@{commit}")]
    GoMod {
        /// The repository.
        repo: String,
        /// The commit.
        commit: String,
        /// The parse error (names the file and line).
        source: gomod::ParseError,
    },
    /// That go.mod declares another major version.
    #[error("{repo}@{commit}:{path} declares module {declared:?}, another major version than {module}")]
    MajorVersion {
        /// The repository.
        repo: String,
        /// The commit.
        commit: String,
        /// The go.mod path.
        path: String,
        /// The module line.
        declared: String,
        /// The module version.
        module: String,
    },
    /// No tag for the version.
    #[error("{repo}: no tag refs/tags/{tag} (git ls-remote)")]
    NoTag {
        /// The repository.
        repo: String,
        /// The tag looked for (without `refs/tags/`).
        tag: String,
    },
    /// The `direct` element of GOPROXY failed.
    #[error("direct")]
    Direct(#[source] Box<ModuleError>),
    /// GOPROXY's `off` was reached.
    #[error("GOPROXY=off disallows downloading it")]
    Off,
    /// Nothing to try.
    #[error("GOPROXY list is empty")]
    EmptyList,
    /// A download's `h1:` is not the one go.sum records.
    #[error("{} has {got}, go.sum says {want} (removed from the cache)", path.display())]
    Checksum {
        /// The downloaded file.
        path: PathBuf,
        /// go.sum's hash.
        want: String,
        /// The file's hash.
        got: String,
    },
    /// A downloaded zip could not be hashed.
    #[error("{}: computing its h1: hash", path.display())]
    Hash {
        /// The zip.
        path: PathBuf,
        /// Why.
        source: dirhash::HashError,
    },
    /// A download is not the file the facts were recorded from (the proxy serves other bytes, or the facts are
    /// wrong): never used.
    #[error("{} has sha256 {got}, the facts record {facts} for this {what}", path.display())]
    FactsDisagree {
        /// The downloaded file.
        path: PathBuf,
        /// `zip` or `go.mod`.
        what: &'static str,
        /// The sha256 the facts record.
        facts: String,
        /// The file's sha256.
        got: String,
    },
    /// Every GOPROXY element tried failed (each with its own cause, in order).
    #[error("{}", .0.iter().map(|e| error_chain(e)).collect::<Vec<_>>().join("; "))]
    Attempts(Vec<ModuleError>),
}

/// An error and its causes on one line, `error: cause: ...` (as anyhow's `{:#}`), for lists of failures.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// Resolve failures.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Some module versions could not be resolved; each entry names one and why. The facts of every other
    /// module version were merged into the store.
    #[error("could not resolve {} module version(s):\n  {}", .0.len(), .0.join("\n  "))]
    Failed(Vec<String>),
    /// Resolved facts contradict known ones.
    #[error(transparent)]
    Facts(#[from] go_facts::FactsError),
}

/// Whether `path` matches one of Go's prefix patterns (path-element prefixes; `*` globs within an element).
pub fn matches_prefix(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| {
        let pe: Vec<&str> = p.trim_end_matches('/').split('/').collect();
        let me: Vec<&str> = path.split('/').collect();
        !p.is_empty() && me.len() >= pe.len() && pe.iter().zip(&me).all(|(a, b)| glob(a, b))
    })
}

/// `*` matches any run of characters within one path element.
fn glob(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((head, tail)) => {
            s.starts_with(head)
                && (0..=s.len() - head.len())
                    .any(|i| s.is_char_boundary(head.len() + i) && glob(tail, &s[head.len() + i..]))
        }
    }
}

fn is_license_name(name: &str) -> bool {
    let u = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "UNLICENSE"].iter().any(|p| u.starts_with(p))
}

/// md5 (hex) of a license file and the SPDX expression its text matches, if any.
pub fn identify_license(data: &[u8]) -> (String, Option<String>) {
    (proxy::hex(&Md5::digest(data)), detect(&String::from_utf8_lossy(data)))
}

fn license_fact(data: &[u8]) -> LicenseFact {
    let (md5, spdx) = identify_license(data);
    LicenseFact { md5, spdx: spdx.unwrap_or_else(|| UNKNOWN.to_owned()) }
}

/// License files at the module root inside a proxy zip (`<module>@<version>/LICENSE`).
fn zip_licenses(path: &std::path::Path, m: &ModuleVersion) -> Result<BTreeMap<String, LicenseFact>, ModuleError> {
    let f =
        std::fs::File::open(path).map_err(|source| ModuleError::ZipIo { path: path.into(), entry: None, source })?;
    let mut z = zip::ZipArchive::new(f).map_err(|source| ModuleError::Zip { path: path.into(), source })?;
    let prefix = format!("{}@{}/", m.path, m.version);
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).map_err(|source| ModuleError::Zip { path: path.into(), source })?;
        let Some(name) = e.name().strip_prefix(&prefix).map(str::to_owned) else { continue };
        if name.contains('/') || !is_license_name(&name) || e.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).map_err(|source| ModuleError::ZipIo {
            path: path.into(),
            entry: Some(name.clone()),
            source,
        })?;
        out.insert(name, license_fact(&data));
    }
    Ok(out)
}

struct Ctx<'a> {
    opts: &'a Options,
    client: ProxyClient,
    /// One lock per repository: workers share its bare cache repository.
    repo_locks: Mutex<BTreeMap<String, Arc<Mutex<()>>>>,
}

impl Ctx<'_> {
    fn repo_lock(&self, repo: &str) -> Arc<Mutex<()>> {
        let mut m = self.repo_locks.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(repo.to_owned()).or_default().clone()
    }

    fn one(&self, m: &ModuleVersion, need: Need, known: &ModFacts) -> Result<ModFacts, ModuleError> {
        let mut out = ModFacts::default();
        // Known git source (imported or resolved before): licenses, or the go.mod evidence at its commit, may be
        // missing.
        if let Some(g) = &known.git
            && known.zip_sha256.is_none()
        {
            let mut g = g.clone();
            if !g.verified_at_commit() {
                let lock = self.repo_lock(&g.repo);
                let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                let repo = vcs::CachedRepo::open(&self.opts.cache, &g.repo)?;
                repo.ensure(&g.commit)?;
                verify_git_module(&repo, m, &mut g)?;
            }
            if self.opts.licenses && need == Need::Zip && known.licenses.is_empty() {
                out.licenses = self.git_licenses(&g)?;
            }
            out.git = Some(g);
            return Ok(out);
        }
        let items: Vec<ProxyListItem> = if matches_prefix(&self.opts.noproxy, &m.path) {
            vec![ProxyListItem { entry: ProxyEntry::Direct, fallback_on_any_error: false }]
        } else {
            self.opts.goproxy.clone()
        };
        let ext = if need == Need::Zip { Ext::Zip } else { Ext::Mod };
        let mut errors = Vec::new();
        for item in &items {
            let r: Result<(), ModuleError> = match &item.entry {
                ProxyEntry::Off => {
                    errors.push(ModuleError::Off);
                    return Err(ModuleError::Attempts(errors));
                }
                ProxyEntry::Url(base) => match self.client.fetch(base, &m.path, &m.version, ext) {
                    Ok(f) => {
                        self.check_sum(m, ext, &f.path)?;
                        if ext == Ext::Zip {
                            out.zip_sha256 = Some(f.sha256);
                            if self.opts.licenses {
                                out.licenses = zip_licenses(&f.path, m)?;
                            }
                        } else {
                            out.mod_sha256 = Some(f.sha256);
                        }
                        return Ok(out);
                    }
                    Err(e @ FetchError::NotFound { .. }) => {
                        errors.push(e.into());
                        continue;
                    }
                    Err(e) => Err(e.into()),
                },
                ProxyEntry::Direct => match self.direct(m, need) {
                    Ok(f) => return Ok(f),
                    Err(e) => Err(ModuleError::Direct(Box::new(e))),
                },
            };
            if let Err(e) = r {
                errors.push(e);
                if !item.fallback_on_any_error {
                    return Err(ModuleError::Attempts(errors));
                }
            }
        }
        Err(if errors.is_empty() { ModuleError::EmptyList } else { ModuleError::Attempts(errors) })
    }

    /// Puts the source of a module version whose facts are known into the cache: the proxy's `.zip` (or `.mod`
    /// when only the go.mod is needed), checked against go.sum's `h1:` and the sha256 the facts record, or the
    /// commit of a git fact in the bare repository. Nothing about the facts changes.
    fn materialize(&self, m: &ModuleVersion, need: Need, known: &ModFacts) -> Result<(), ModuleError> {
        if let Some(g) = &known.git
            && known.zip_sha256.is_none()
        {
            let lock = self.repo_lock(&g.repo);
            let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            return Ok(vcs::CachedRepo::open(&self.opts.cache, &g.repo)?.ensure(&g.commit)?);
        }
        // A go.mod-only need is served from the zip when the facts have one (the go.mod inside it is the same file).
        let ext = if need == Need::Zip || known.mod_sha256.is_none() { Ext::Zip } else { Ext::Mod };
        let (recorded, what) = match ext {
            Ext::Zip => (known.zip_sha256.as_deref(), "zip"),
            _ => (known.mod_sha256.as_deref(), "go.mod"),
        };
        let items: Vec<ProxyListItem> = if matches_prefix(&self.opts.noproxy, &m.path) {
            vec![]
        } else {
            self.opts.goproxy.iter().filter(|i| matches!(i.entry, ProxyEntry::Url(_))).cloned().collect()
        };
        let mut errors = Vec::new();
        for item in &items {
            let ProxyEntry::Url(base) = &item.entry else { continue };
            match self.client.fetch(base, &m.path, &m.version, ext) {
                Ok(f) => {
                    self.check_sum(m, ext, &f.path)?;
                    if let Some(want) = recorded
                        && want != f.sha256
                    {
                        let _ = std::fs::remove_file(&f.path);
                        return Err(ModuleError::FactsDisagree {
                            path: f.path,
                            what,
                            facts: want.to_owned(),
                            got: f.sha256,
                        });
                    }
                    return Ok(());
                }
                Err(e @ FetchError::NotFound { .. }) => errors.push(e.into()),
                Err(e) => {
                    errors.push(e.into());
                    if !item.fallback_on_any_error {
                        break;
                    }
                }
            }
        }
        Err(if errors.is_empty() { ModuleError::EmptyList } else { ModuleError::Attempts(errors) })
    }

    /// Checks a downloaded zip or go.mod against go.sum's `h1:` when go.sum lists it.
    fn check_sum(&self, m: &ModuleVersion, ext: Ext, path: &std::path::Path) -> Result<(), ModuleError> {
        let Some(entry) = self.opts.sums.get(m) else { return Ok(()) };
        let (want, got) = match ext {
            Ext::Zip => {
                let Some(want) = &entry.zip else { return Ok(()) };
                let got = dirhash::hash_zip(path).map_err(|source| ModuleError::Hash { path: path.into(), source })?;
                (want, got)
            }
            Ext::Mod => {
                let Some(want) = &entry.go_mod else { return Ok(()) };
                let data = std::fs::read(path).map_err(|source| ModuleError::ZipIo {
                    path: path.into(),
                    entry: None,
                    source,
                })?;
                (want, dirhash::hash_go_mod(&data))
            }
            Ext::Info => return Ok(()),
        };
        if *want == got {
            return Ok(());
        }
        // A cached file that go.sum contradicts is never reused.
        let _ = std::fs::remove_file(path);
        Err(ModuleError::Checksum { path: path.into(), want: want.clone(), got })
    }

    fn direct(&self, m: &ModuleVersion, need: Need) -> Result<ModFacts, ModuleError> {
        let insecure = matches_prefix(&self.opts.insecure, &m.path);
        let mapped = self.opts.repo_map.iter().find(|(p, _)| m.path == *p || m.path.starts_with(&format!("{p}/")));
        let root = match mapped {
            Some((p, url)) => vcs::RepoRoot { root: p.clone(), repo: url.clone() },
            None => vcs::discover(&self.client, &m.path, insecure)?,
        };
        let lock = self.repo_lock(&root.repo);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (rel, nomajor, prefix) = vcs::layout(&m.path, &root.root);
        let refs = vcs::ls_remote(&root.repo)?;
        let repo = vcs::CachedRepo::open(&self.opts.cache, &root.repo)?;
        let (commit, reference) = match vcs::commit_for(&refs, &prefix, &m.version) {
            Some(cr) => cr,
            None => match vcs::pseudo_commit(&m.version) {
                Some(short) => {
                    repo.fetch_all()?;
                    (repo.expand(short)?, String::new())
                }
                None => {
                    return Err(ModuleError::NoTag {
                        repo: root.repo.clone(),
                        tag: format!("{prefix}{}", m.version.trim_end_matches("+incompatible")),
                    });
                }
            },
        };
        repo.ensure(&commit)?;
        // `<dir>/vN/go.mod` (a major version in its own directory) wins over `<dir>/go.mod`, as for the go command.
        let subdir = if !rel.is_empty() && rel != nomajor && repo.exists(&commit, &format!("{rel}/go.mod")) {
            rel
        } else {
            nomajor
        };
        let mut g = GitFact::new(&root.repo, &commit, &reference, &subdir);
        verify_git_module(&repo, m, &mut g)?;
        let mut out = ModFacts::default();
        if self.opts.licenses && need == Need::Zip {
            out.licenses = Self::licenses_in(&repo, &g)?;
        }
        out.git = Some(g);
        Ok(out)
    }

    fn git_licenses(&self, g: &GitFact) -> Result<BTreeMap<String, LicenseFact>, ModuleError> {
        let lock = self.repo_lock(&g.repo);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let repo = vcs::CachedRepo::open(&self.opts.cache, &g.repo)?;
        Self::licenses_in(&repo, g)
    }

    fn licenses_in(repo: &vcs::CachedRepo, g: &GitFact) -> Result<BTreeMap<String, LicenseFact>, ModuleError> {
        repo.ensure(&g.commit)?;
        let mut out = BTreeMap::new();
        for name in repo.files_in(&g.commit, &g.subdir)? {
            if is_license_name(&name) {
                let path = if g.subdir.is_empty() { name.clone() } else { format!("{}/{name}", g.subdir) };
                if let Ok(data) = repo.read(&g.commit, &path) {
                    out.insert(name, license_fact(&data));
                }
            }
        }
        // The go command copies the repository's LICENSE into the zip of a module in a subdirectory without one.
        if !g.subdir.is_empty()
            && !out.contains_key("LICENSE")
            && let Ok(data) = repo.read(&g.commit, "LICENSE")
        {
            out.insert("LICENSE".to_owned(), license_fact(&data));
        }
        Ok(out)
    }
}

/// Reads `<subdir>/go.mod` at the fact's commit and records its module line (`g.module`, `g.checked_at`). A module
/// whose `<subdir>/go.mod` is missing but whose `<subdir>/vN/go.mod` exists (etcd's `client/v3`) gets that subdir.
/// Fails when no go.mod is there (BitBake's gomodgit would write a bare one and zip the wrong tree) or when the
/// declared path has another major version.
pub fn verify_git_module(repo: &vcs::CachedRepo, m: &ModuleVersion, g: &mut GitFact) -> Result<(), ModuleError> {
    let gomod_at = |dir: &str| if dir.is_empty() { "go.mod".to_owned() } else { format!("{dir}/go.mod") };
    if let Some(sfx) = gomod::major_suffix(&m.path).filter(|s| s.starts_with('/'))
        && !repo.exists(&g.commit, &gomod_at(&g.subdir))
    {
        let with_major = if g.subdir.is_empty() { sfx[1..].to_owned() } else { format!("{}{sfx}", g.subdir) };
        if repo.exists(&g.commit, &gomod_at(&with_major)) {
            g.subdir = with_major;
        }
    }
    let path = gomod_at(&g.subdir);
    let text = repo.read(&g.commit, &path).map_err(|source| ModuleError::NoGoMod {
        repo: g.repo.clone(),
        commit: g.commit.clone(),
        path: path.clone(),
        module: m.to_string(),
        source: Box::new(source),
    })?;
    let text = String::from_utf8_lossy(&text);
    let gm = gomod::GoMod::parse(&path, &text).map_err(|source| ModuleError::GoMod {
        repo: g.repo.clone(),
        commit: g.commit.clone(),
        source,
    })?;
    if gomod::major_suffix(&gm.module) != gomod::major_suffix(&m.path) {
        return Err(ModuleError::MajorVersion {
            repo: g.repo.clone(),
            commit: g.commit.clone(),
            path,
            declared: gm.module,
            module: m.to_string(),
        });
    }
    g.module = gm.module;
    g.checked_at = format!("{}@{}", g.repo, g.commit);
    Ok(())
}

fn complete(f: Option<&ModFacts>, need: Need, licenses: bool) -> bool {
    let Some(f) = f else { return false };
    if f.zip_sha256.is_none() && f.git.as_ref().is_some_and(|g| !g.verified_at_commit()) {
        return false;
    }
    let source = match need {
        Need::Zip => f.zip_sha256.is_some() || f.git.is_some(),
        Need::GoMod => f.mod_sha256.is_some() || f.zip_sha256.is_some() || f.git.is_some(),
    };
    source && (need == Need::GoMod || !licenses || !f.licenses.is_empty())
}

/// Runs `f` over `work` on `opts.jobs` threads with a progress bar labelled `label`; results in `work`'s order.
fn parallel<T: Sync + std::fmt::Debug, R: Send>(
    opts: &Options,
    label: &str,
    work: &[(ModuleVersion, Need, T)],
    f: impl Fn(&(ModuleVersion, Need, T)) -> Result<R, ModuleError> + Sync,
) -> Vec<Option<Result<R, ModuleError>>> {
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(work.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {label} [{{bar:30}}] {{pos}}/{{len}} {{wide_msg}}"
        )) {
            b.set_style(style.progress_chars("=> "));
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<R, ModuleError>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(work.len()).collect());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, 64).min(work.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = work.get(i) else { break };
                    bar.set_message(item.0.to_string());
                    let r = f(item);
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(r);
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    results.into_inner().unwrap_or_default()
}

/// Puts the source of every module version in `needs` into the content cache — the proxy files (checked against
/// go.sum's `h1:` and the facts' sha256) or the git commit — including those whose facts were complete, which
/// [`resolve`] skips: what reads the cache offline next (bump's `go list` over a `file://` proxy laid out from it)
/// needs them all. Every module version that fails is named; the facts are not changed.
pub fn populate_cache(
    opts: &Options,
    facts: &Facts,
    needs: &BTreeMap<ModuleVersion, Need>,
) -> Result<usize, ResolveError> {
    let mut missing = Vec::new();
    let work: Vec<(ModuleVersion, Need, ModFacts)> = needs
        .iter()
        .filter_map(|(m, n)| match facts.modules.get(m) {
            Some(f) => Some((m.clone(), *n, f.clone())),
            None => {
                missing.push(format!("{m}: no facts (resolve it first)"));
                None
            }
        })
        .collect();
    if !missing.is_empty() {
        return Err(ResolveError::Failed(missing));
    }
    let ctx =
        Ctx { opts, client: ProxyClient::new(&opts.cache, opts.retries, opts.backoff), repo_locks: Mutex::default() };
    let results = parallel(opts, "caching Go modules", &work, |(m, need, known)| ctx.materialize(m, *need, known));
    let failed: Vec<String> = work
        .iter()
        .zip(results)
        .filter_map(|((m, _, _), r)| match r {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(format!("{m}: {}", error_chain(&e))),
            None => Some(format!("{m}: worker did not finish")),
        })
        .collect();
    if failed.is_empty() { Ok(work.len()) } else { Err(ResolveError::Failed(failed)) }
}

/// Fills in the facts `needs` lacks. Module versions whose facts are complete cost nothing.
pub fn resolve(
    opts: &Options,
    facts: &mut Facts,
    needs: &BTreeMap<ModuleVersion, Need>,
) -> Result<Report, ResolveError> {
    let work: Vec<(ModuleVersion, Need, ModFacts)> = needs
        .iter()
        .filter(|(m, n)| !complete(facts.modules.get(*m), **n, opts.licenses))
        .map(|(m, n)| (m.clone(), *n, facts.modules.get(m).cloned().unwrap_or_default()))
        .collect();
    let mut report = Report { looked_up: work.len(), already_known: needs.len() - work.len(), ..Report::default() };
    if work.is_empty() {
        return Ok(report);
    }
    let ctx =
        Ctx { opts, client: ProxyClient::new(&opts.cache, opts.retries, opts.backoff), repo_locks: Mutex::default() };
    let results = parallel(opts, "resolving Go modules", &work, |(m, need, known)| ctx.one(m, *need, known));
    let mut failed = Vec::new();
    let mut found = Facts::default();
    for ((m, _, _), r) in work.iter().zip(results) {
        match r {
            Some(Ok(f)) => {
                for (file, l) in &f.licenses {
                    if l.spdx == UNKNOWN {
                        report.unidentified_licenses.push(format!("{m} {file} md5={}", l.md5));
                    }
                }
                found.modules.insert(m.clone(), f);
            }
            Some(Err(e)) => failed.push(format!("{m}: {}", error_chain(&e))),
            None => failed.push(format!("{m}: worker did not finish")),
        }
    }
    // What succeeded is kept even when other module versions failed: a rerun only retries the failures (the
    // caller writes the facts for `Failed`, never for a conflict).
    facts.merge(&found, "resolve")?;
    if !failed.is_empty() {
        return Err(ResolveError::Failed(failed));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_patterns() {
        let p = vec!["example.com/private".to_owned(), "*.corp/x".to_owned()];
        assert!(matches_prefix(&p, "example.com/private"));
        assert!(matches_prefix(&p, "example.com/private/sub/v2"));
        assert!(!matches_prefix(&p, "example.com/privateer"));
        assert!(matches_prefix(&p, "git.corp/x/y"));
        assert!(!matches_prefix(&[], "a"));
    }

    #[test]
    fn failures_say_each_cause_once() {
        let enoent = || std::io::Error::from_raw_os_error(2);
        let cause = enoent().to_string();
        let spawn = || vcs::VcsError::Spawn { args: "ls-remote https://x".into(), source: enoent() };
        let errors = [
            ModuleError::from(spawn()),
            ModuleError::Direct(Box::new(spawn().into())),
            ModuleError::NoGoMod {
                repo: "https://x".into(),
                commit: "c".into(),
                path: "go.mod".into(),
                module: "x@v1.0.0".into(),
                source: Box::new(spawn()),
            },
            ModuleError::ZipIo { path: "/cache/x.zip".into(), entry: None, source: enoent() },
            ModuleError::Attempts(vec![ModuleError::Off, ModuleError::Direct(Box::new(spawn().into()))]),
            ModuleError::from(vcs::VcsError::CreateDir { path: "/cache/vcs".into(), source: enoent() }),
        ];
        for e in &errors {
            let text = error_chain(e);
            assert_eq!(text.matches(&cause).count(), 1, "{text}");
        }
        assert_eq!(
            error_chain(&errors[1]),
            format!("direct: running git ls-remote https://x: {cause}"),
            "what was attempted, then why"
        );
    }

    #[test]
    fn license_names() {
        for n in ["LICENSE", "LICENSE.md", "license.txt", "COPYING", "COPYRIGHT", "LICENCE"] {
            assert!(is_license_name(n), "{n}");
        }
        assert!(!is_license_name("NOTICE") && !is_license_name("README.md"));
    }
}
