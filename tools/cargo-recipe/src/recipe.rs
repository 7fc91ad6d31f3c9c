//! The recipe: `<name>_<version>.bb`, `<name>-crates.inc` (every locked crates.io and git package, as OE-Core's
//! `cargo-update-recipe-crates` class writes them) and `<name>-licenses.inc` (the licenses of the crates statically
//! linked into the selected packages).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use crate::archive::{CrateFacts, cargo_home, find_git_checkout, is_license_name, read_crate, read_dir_crate};
use crate::cache::Cache;
use crate::error::{Error, Result, io};
use crate::lock::{GitRef, GitSource, LockedPackage, Lockfile, Source};
use crate::manifest::{Doc, Package, Workspace};
use crate::resolve::{Origin, PkgId, Query};
use crate::spdx;
use bb_value::{Op, Val};

/// Where the recipe's own sources (the workspace) come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// `file://` entries found through `FILESPATH:prepend := "<dir>:"`, where `dir` is a BitBake path expression
    /// for the source tree holding the workspace, e.g. `${THISDIR}/../..` for a layer shipping its own Rust code.
    Local {
        /// The BitBake path expression.
        dir: String,
        /// The workspace root relative to `dir` ("" when `dir` is the workspace root). License files at the top
        /// of `dir` count as the workspace's, as for a git repository holding a workspace in a subdirectory.
        subdir: String,
    },
    /// The git repository holding the workspace, at its checked-out commit.
    Git {
        /// `git://…;protocol=…;branch=…` (no SRCREV).
        uri: String,
        /// The commit.
        commit: String,
        /// The workspace root relative to the repository root ("" at the top).
        subdir: String,
    },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Packages to build (`-p`); empty means every workspace member.
    pub packages: Vec<String>,
    /// Recipe name; default: the only selected package, else the root package.
    pub name: Option<String>,
    /// Recipe version; default: the package named like the recipe, else the selected packages' common version,
    /// else `workspace.package.version`.
    pub version: Option<String>,
    /// Where the workspace sources come from.
    pub sources: Sources,
    /// Extra files the recipe `require`s after the generated includes (hand-written install/packaging).
    pub requires: Vec<String>,
    /// Cargo's home (registry cache and git checkouts); default [`cargo_home`].
    pub cargo_home: Option<PathBuf>,
    /// Target triples the recipe is built for; the licenses cover what any of them links.
    pub targets: Vec<String>,
    /// Where license facts and cargo's answers are cached.
    pub cache: Cache,
    /// The directory the recipe files go to (absolute), so `file://` sources never ship it.
    pub recipe_dir: Option<PathBuf>,
}

/// The rendered recipe: bodies without any header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Recipe name (BPN).
    pub name: String,
    /// Recipe version (PV).
    pub version: String,
    /// `<name>_<version>.bb`.
    pub bb: String,
    /// `<name>-crates.inc`.
    pub crates_inc: String,
    /// `<name>-licenses.inc`.
    pub licenses_inc: String,
    /// Things a human should look at (licenses OE-Core has no text for).
    pub warnings: Vec<String>,
    /// Where the time went, phase by phase.
    pub timings: Vec<(String, Duration)>,
}

impl Recipe {
    /// `<name>_<version>.bb`.
    pub fn bb_name(&self) -> String {
        format!("{}_{}.bb", self.name, self.version)
    }
    /// `<name>-crates.inc`.
    pub fn crates_name(&self) -> String {
        format!("{}-crates.inc", self.name)
    }
    /// `<name>-licenses.inc`.
    pub fn licenses_name(&self) -> String {
        format!("{}-licenses.inc", self.name)
    }
}

/// Converts a git URL from Cargo.lock into BitBake's `git://` form (host + path, `protocol=`, `user` in the host).
pub fn bitbake_git_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let protocol = match scheme {
        "https" | "http" | "ssh" | "git" | "file" => scheme,
        _ => return None,
    };
    // The URL lands inside a quoted SRC_URI: nothing that could end the value or start an expansion.
    if rest.is_empty() || rest.contains([';', ' ', '"', '\'', '\\', '$', '\n', '\r', '\t']) {
        return None;
    }
    Some(format!("git://{rest};protocol={protocol}"))
}

/// Converts a remote as `git remote get-url` prints it (`https://…` or scp-like `user@host:path`).
pub fn remote_to_url(remote: &str) -> Option<String> {
    if remote.contains("://") {
        return Some(remote.to_owned());
    }
    let (userhost, path) = remote.split_once(':')?;
    Some(format!("ssh://{userhost}/{}", path.trim_start_matches('/')))
}

fn md5_lines(path: &Path, line: usize) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let l = text.split_inclusive('\n').nth(line - 1).unwrap_or_default();
    Ok(format!("{:x}", md5::compute(l.as_bytes())))
}

/// Does the workspace's `[profile.release]` strip symbols (`strip = true | "symbols" | "debuginfo"`)?
fn profile_strips(root: &Doc) -> bool {
    match root.table.get("profile").and_then(|p| p.get("release")).and_then(|r| r.get("strip")) {
        Some(toml::Value::Boolean(b)) => *b,
        Some(toml::Value::String(s)) => s != "none",
        _ => false,
    }
}

/// Can this path be written into a quoted BitBake value as a `file://` URL or a path? (No whitespace, quotes,
/// expansions, escapes or URL parameters.)
fn bb_safe(p: &str) -> bool {
    !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || "\"'$\\;".contains(c) || c.is_control())
}

fn unsafe_path(what: &str, p: &str) -> Error {
    Error::Usage(format!(
        "{what} `{p}`: its name cannot be written into a BitBake value (whitespace, quotes, `$`, `\\` or `;`)"
    ))
}

fn rel(from: &Path, p: &Path) -> Option<String> {
    p.strip_prefix(from).ok().map(|r| r.to_string_lossy().into_owned())
}

fn join_rel(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() { rel.to_owned() } else { format!("{prefix}/{rel}") }
}

/// Writes `VAR = "a \` … `"` with one item per line (the OE style oelint expects), through the one BitBake writer.
fn multiline(out: &mut String, var: &str, op: Op, items: &[Val<'_>]) -> Result<()> {
    match items {
        [one] => bb_value::assign(out, var, op, *one)?,
        many => bb_value::list(out, var, op, many)?,
    }
    Ok(())
}

/// A git dependency as the recipe fetches it.
struct GitDep<'a> {
    pkg: &'a LockedPackage,
    src: &'a GitSource,
    /// Checkout root and crate directory, if cargo has fetched it.
    checkout: Option<(PathBuf, PathBuf)>,
}

impl GitDep<'_> {
    fn destsuffix(&self) -> String {
        format!("cargo-git/{}", self.pkg.name)
    }
    fn subpath(&self) -> Option<String> {
        let (root, dir) = self.checkout.as_ref()?;
        rel(root, dir).filter(|r| !r.is_empty())
    }
}

/// Generates the recipe for `manifest` (a workspace root or member Cargo.toml); the linked set is worked out as
/// `K3S_BAKE_CARGO_RESOLVE` says ([`crate::resolve::Mode`]).
pub fn generate(manifest: &Path, opts: &Options) -> Result<Recipe> {
    generate_with(manifest, opts, crate::resolve::Mode::from_env()?)
}

/// [`generate`] with the linked set worked out as `mode` says.
pub fn generate_with(manifest: &Path, opts: &Options, mode: crate::resolve::Mode) -> Result<Recipe> {
    let start = Instant::now();
    let mut timings: Vec<(String, Duration)> = Vec::new();
    // Triples land in cargo's arguments, the cache key and a comment of the licenses include: checked first.
    if let Some(bad) = opts.targets.iter().find(|t| !crate::resolve::valid_target(t)) {
        return Err(Error::Usage(format!("target `{bad}`: not a target triple (letters, digits, `-`, `_`, `.`)")));
    }
    if opts.targets.is_empty() {
        return Err(Error::Usage("no target triple to resolve the build for".into()));
    }
    let ws = Workspace::load(manifest)?;
    let lock_path = ws.root.join("Cargo.lock");
    if !lock_path.is_file() {
        return Err(Error::Usage(format!(
            "{}: missing; a recipe builds with --frozen and needs it (run `cargo generate-lockfile`)",
            lock_path.display()
        )));
    }
    let lock = Lockfile::load(&lock_path)?;
    let home = opts.cargo_home.clone().unwrap_or_else(cargo_home);

    // Which packages, name and version. A member's manifest without `-p` means that member, as for cargo.
    let given = crate::manifest::normalize(&if manifest.is_absolute() {
        manifest.to_owned()
    } else {
        std::env::current_dir().map_err(io("."))?.join(manifest)
    });
    let packages: Vec<String> = match ws.members.iter().find(|m| m.dir != ws.root && given.parent() == Some(&m.dir)) {
        Some(m) if opts.packages.is_empty() => vec![m.name.clone()],
        _ => opts.packages.clone(),
    };
    let selected: Vec<&Package> = if packages.is_empty() {
        ws.members.iter().collect()
    } else {
        packages
            .iter()
            .map(|p| {
                ws.member(p).ok_or_else(|| {
                    let names: Vec<_> = ws.members.iter().map(|m| m.name.as_str()).collect();
                    Error::Usage(format!("no workspace member `{p}` (members: {})", names.join(", ")))
                })
            })
            .collect::<Result<_>>()?
    };
    let name = match (&opts.name, selected.as_slice()) {
        (Some(n), _) => n.clone(),
        // Recipe names cannot hold `_` (it separates the version in file names).
        (None, [one]) => one.name.replace('_', "-").to_ascii_lowercase(),
        (None, _) if !ws.virtual_root => ws
            .members
            .iter()
            .find(|m| m.dir == ws.root)
            .map(|m| m.name.replace('_', "-").to_ascii_lowercase())
            .unwrap_or_default(),
        _ => return Err(Error::Usage("several packages and a virtual root: pass --name for the recipe".into())),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-+.".contains(&b)) {
        return Err(Error::Usage(format!("recipe name `{name}`: use lower-case letters, digits, `-`, `+`, `.`")));
    }
    let version = match &opts.version {
        Some(v) => v.clone(),
        None => {
            let versions: BTreeSet<_> = selected.iter().map(|p| p.version.as_str()).collect();
            if let Some(p) = selected.iter().find(|p| p.name == name) {
                p.version.clone()
            } else if versions.len() == 1 {
                versions.into_iter().next().unwrap_or_default().to_owned()
            } else if let Some(v) = ws.package_version() {
                v.to_owned()
            } else {
                return Err(Error::Usage("the selected packages have different versions: pass --version".into()));
            }
        }
    };

    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.~".contains(&b)) {
        return Err(Error::Usage(format!("recipe version `{version}`: use letters, digits, `.`, `+`, `-`, `~`")));
    }

    // Locked packages by kind.
    let git_deps: Vec<GitDep> = lock
        .packages
        .iter()
        .filter_map(|p| match &p.source {
            Source::Git(g) => Some(GitDep { pkg: p, src: g, checkout: find_git_checkout(&home, &p.name, &g.commit) }),
            _ => None,
        })
        .collect();
    let git_names: BTreeSet<_> = git_deps.iter().map(|g| g.pkg.name.as_str()).collect();
    if git_names.len() != git_deps.len() {
        return Err(Error::Usage(
            "two git dependencies share a crate name; OE-Core's [patch] wiring names them by crate".into(),
        ));
    }

    timings.push(("manifests and Cargo.lock".to_owned(), start.elapsed()));

    // Licenses of everything linked into the selected packages.
    let linked = linked_packages(&ws, &lock, &lock_path, &packages, opts, mode, &git_deps, &home, &mut timings)?;
    let render_start = Instant::now();
    let mut warnings = Vec::new();

    // S is ${UNPACKDIR}/${BP}: the source tree (local `dir`, or the repository root), the workspace `subdir` below.
    let ws_prefix = match &opts.sources {
        Sources::Local { subdir, .. } | Sources::Git { subdir, .. } => subdir.trim_matches('/').to_owned(),
    };
    if !ws_prefix.is_empty() && !bb_safe(&ws_prefix) {
        return Err(unsafe_path("workspace subdirectory", &ws_prefix));
    }
    // The top of the source tree (S): license files there are the workspace's too when it sits in a subdirectory.
    let source_top: Option<PathBuf> = (!ws_prefix.is_empty())
        .then(|| {
            let depth = Path::new(&ws_prefix).components().count();
            ws.root.ancestors().nth(depth).map(Path::to_path_buf)
        })
        .flatten();

    // The recipe's own license: the selected packages and the path packages linked into them.
    let mut own_terms: Vec<spdx::Term> = Vec::new();
    let mut own_unknown: Vec<(String, String)> = Vec::new();
    let mut own_files: BTreeMap<String, String> = BTreeMap::new();
    let mut no_generic: BTreeMap<String, String> = BTreeMap::new();
    let own_pkgs: Vec<&Package> = selected
        .iter()
        .copied()
        .chain(linked.iter().filter(|l| l.locked.source == Source::Path).filter_map(|l| {
            ws.path_package(&l.locked.name, &l.locked.version).filter(|p| !selected.iter().any(|s| s.dir == p.dir))
        }))
        .collect();
    for p in &own_pkgs {
        let p_rel = rel(&ws.root, &p.dir).ok_or_else(|| {
            Error::Usage(format!(
                "{} is outside the workspace root {}: not supported",
                p.dir.display(),
                ws.root.display()
            ))
        })?;
        let mut files: Vec<PathBuf> = Vec::new();
        for dir in [Some(&p.dir), Some(&ws.root), source_top.as_ref()].into_iter().flatten() {
            let mut names: Vec<_> = std::fs::read_dir(dir)
                .map_err(io(dir))?
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| is_license_name(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            names.sort();
            files.extend(names);
        }
        if let Some(lf) = &p.license_file {
            if !lf.is_file() {
                return Err(Error::Usage(format!("{}: license-file {} does not exist", p.name, lf.display())));
            }
            files.push(lf.clone());
        }
        match (&p.license, &p.license_file) {
            (Some(expr), _) => {
                let origin = p.license_origin.clone().unwrap_or_default();
                let parsed = spdx::parse(expr).map_err(|e| Error::Invalid {
                    path: origin.0.clone(),
                    line: origin.1,
                    message: e.to_string(),
                })?;
                let (terms, unknown) = spdx::terms(&parsed);
                for u in unknown {
                    warnings.push(format!(
                        "{}: OE-Core ships no license text named `{u}`; recorded with NO_GENERIC_LICENSE",
                        p.name
                    ));
                    own_unknown.push((u, p.name.clone()));
                }
                add_terms(&mut own_terms, terms);
            }
            (None, Some(lf)) => {
                let lic = format!("LicenseRef-{}", p.name);
                let r = rel(&ws.root, lf).ok_or_else(|| {
                    Error::Usage(format!("{}: license-file {} is outside the workspace", p.name, lf.display()))
                })?;
                if !bb_safe(&r) {
                    return Err(unsafe_path("license file", &r));
                }
                no_generic.insert(lic.clone(), join_rel(&ws_prefix, &r));
                add_terms(&mut own_terms, vec![spdx::Term { text: lic.clone(), bare: lic.clone(), key: lic }]);
            }
            (None, None) => {
                return Err(Error::Usage(format!(
                    "{} ({}): no `license` or `license-file`; a recipe needs one",
                    p.name,
                    p.dir.join("Cargo.toml").display()
                )));
            }
        }
        let mut first_text: Option<String> = None;
        for f in files {
            let path = match (rel(&ws.root, &f), &source_top) {
                (Some(r), _) => join_rel(&ws_prefix, &r),
                (None, Some(top)) => match rel(top, &f) {
                    Some(r) => r,
                    None => continue,
                },
                (None, None) => continue,
            };
            if !bb_safe(&path) {
                return Err(unsafe_path("license file", &path));
            }
            let bytes = std::fs::read(&f).map_err(io(&f))?;
            first_text.get_or_insert_with(|| path.clone());
            own_files.insert(path, format!("{:x}", md5::compute(&bytes)));
        }
        if first_text.is_none() {
            // No text to point at: checksum the `license = …` line itself so a change of license still trips QA.
            let (path, line) = p.license_origin.clone().unwrap_or_default();
            let r = rel(&ws.root, &path).unwrap_or_else(|| join_rel(&p_rel, "Cargo.toml"));
            let md5 = md5_lines(&path, line)?;
            let path = join_rel(&ws_prefix, &r);
            own_files.insert(format!("{path};beginline={line};endline={line}"), md5);
            first_text = Some(path);
        }
        // A name OE-Core has no text for: its text is this package's first license file (a LIC_FILES_CHKSUM path,
        // as license.bbclass requires).
        for (u, pkg) in own_unknown.drain(..) {
            if pkg == p.name
                && let Some(t) = &first_text
            {
                no_generic.entry(u).or_insert_with(|| t.clone());
            }
        }
    }
    own_terms.sort_by(|a, b| a.bare.cmp(&b.bare));

    let crates_inc = render_crates(&lock, &lock_path, &git_deps, &opts.sources, &home)?;
    let own_names: BTreeSet<String> = no_generic.keys().cloned().collect();
    let (licenses_inc, dep_unknown, appends_licenses) =
        render_licenses(&linked, &git_deps, &selected, &opts.targets, &own_terms, &own_names)?;
    warnings.extend(dep_unknown);

    // --- the .bb
    let mut bb = String::new();
    let first = selected.iter().find(|p| p.name == name).or(selected.first()).copied();
    let description = first
        .and_then(|p| p.description.clone())
        .unwrap_or_else(|| format!("Rust workspace packages {}", names_of(&selected)));
    let description = description.replace(['"', '\n', '\\'], " ").replace('$', "");
    let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
    bb_value::assign(&mut bb, "SUMMARY", Op::Set, Val::Lit(&summary_of(&description)))?;
    // DESCRIPTION adds what the recipe builds (OE style wants it set and different from SUMMARY).
    let long = format!(
        "{}. Built by cargo from the Rust workspace's Cargo.lock: {}.",
        description.trim_end_matches('.'),
        names_of(&selected)
    );
    bb_value::assign(&mut bb, "DESCRIPTION", Op::Set, Val::Lit(&long))?;
    if let Some(h) = first.and_then(|p| p.homepage.clone().or_else(|| p.repository.clone()))
        && bb_value::check_value("HOMEPAGE", Val::Lit(&h)).is_ok()
    {
        bb_value::assign(&mut bb, "HOMEPAGE", Op::Set, Val::Lit(&h))?;
    }
    let license = match own_terms.as_slice() {
        [one] if !appends_licenses => one.bare.clone(),
        many => many.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" & "),
    };
    bb_value::assign(&mut bb, "LICENSE", Op::Set, Val::Lit(&license))?;
    let lic_items: Vec<String> = own_files.iter().map(|(f, md5)| format!("file://{f};md5={md5}")).collect();
    multiline(&mut bb, "LIC_FILES_CHKSUM", Op::Set, &lic_items.iter().map(|i| Val::Lit(i)).collect::<Vec<_>>())?;
    bb.push('\n');

    match &opts.sources {
        Sources::Local { dir, .. } => {
            if ws_prefix.is_empty() {
                let _ = writeln!(
                    bb,
                    "# The workspace is fetched with file:// from {dir}, the directory of its root manifest:"
                );
            } else {
                let _ = writeln!(
                    bb,
                    "# The workspace is fetched with file:// from {dir}, its root manifest in {ws_prefix}/:"
                );
            }
            let _ = writeln!(bb, "# no network for our own sources. Only this recipe looks there, so it is set here.");
            let _ = writeln!(bb, "# nooelint: oelint.vars.bbvars.FILESPATH");
            // `dir` is a BitBake path expression on purpose (`${THISDIR}/../..`).
            bb_value::assign(&mut bb, "FILESPATH:prepend", Op::Immediate, Val::Bb(&format!("{dir}:")))?;
            let shipped: Vec<String> =
                ship_dirs(&ws, opts.recipe_dir.as_deref(), &name)?.iter().map(|d| join_rel(&ws_prefix, d)).collect();
            let mut items: Vec<String> = vec![join_rel(&ws_prefix, "Cargo.toml"), join_rel(&ws_prefix, "Cargo.lock")];
            // License files outside the shipped directories (at the workspace root, or the top of the tree).
            items.extend(own_files.keys().filter_map(|f| {
                let f = f.split(';').next().unwrap_or(f);
                let inside = shipped.iter().any(|d| f.starts_with(&format!("{d}/")));
                (!inside && !items_root_manifest(f, &ws_prefix)).then(|| f.to_owned())
            }));
            items.extend(shipped);
            items.sort();
            items.dedup();
            // The entries are data (bb_safe checked them); `${BP}` is ours.
            let items: Vec<String> = items
                .iter()
                .map(|i| bb_value::lit("workspace entry", i).map(|i| format!("file://{i};subdir=${{BP}}")))
                .collect::<Result<_, _>>()?;
            // The crates come first: the workspace's own sources are local files by design, and a recipe mixing
            // fetchers should not start SRC_URI with file:// (oelint.vars.srcurifile).
            bb_value::require(&mut bb, Val::Bb("${BPN}-crates.inc"))?;
            multiline(&mut bb, "SRC_URI", Op::Append, &items.iter().map(|i| Val::Bb(i)).collect::<Vec<_>>())?;
        }
        Sources::Git { uri, commit, .. } => {
            bb_value::assign(&mut bb, "SRC_URI", Op::Set, Val::Lit(uri))?;
            bb_value::assign(&mut bb, "SRCREV", Op::Set, Val::Lit(commit))?;
        }
    }
    bb.push('\n');
    bb_value::inherit(&mut bb, "cargo")?;
    bb.push('\n');
    // One package: build from its own manifest; several: from the workspace root with -p each.
    let ws_dir = ws_prefix.clone();
    let (src_dir, flags) = match selected.as_slice() {
        [one] => (join_rel(&ws_prefix, &rel(&ws.root, &one.dir).unwrap_or_default()), String::new()),
        // Every member, as selected for the licenses (a virtual root alone builds only `default-members`).
        _ if packages.is_empty() => (ws_dir.clone(), "--workspace".to_owned()),
        many => (ws_dir.clone(), many.iter().map(|p| format!("-p {}", p.name)).collect::<Vec<_>>().join(" ")),
    };
    bb_value::assign(&mut bb, "CARGO_SRC_DIR", Op::Set, Val::Lit(&src_dir))?;
    let lock_rel = bb_value::lit("Cargo.lock path", &join_rel(&ws_dir, "Cargo.lock"))?.to_owned();
    bb_value::assign(&mut bb, "CARGO_LOCK_PATH", Op::Set, Val::Bb(&format!("${{S}}/{lock_rel}")))?;
    if !flags.is_empty() {
        bb_value::assign(&mut bb, "CARGO_BUILD_FLAGS", Op::Append, Val::Lit(&flags))?;
    }
    if profile_strips(&ws.manifest) {
        let _ = writeln!(
            bb,
            "# [profile.release] strips the binaries; OE-Core strips them itself and splits the debug info"
        );
        let _ = writeln!(bb, "# into -dbg packages (an already-stripped binary is a QA error).");
        bb_value::export(&mut bb, "CARGO_PROFILE_RELEASE_STRIP", Op::Set, Val::Lit("false"))?;
    }
    for (lic, path) in &no_generic {
        bb_value::assign_flag(&mut bb, "NO_GENERIC_LICENSE", lic, Op::Set, Val::Lit(path))?;
    }
    bb.push('\n');
    if !matches!(opts.sources, Sources::Local { .. }) {
        bb_value::require(&mut bb, Val::Bb("${BPN}-crates.inc"))?;
    }
    bb_value::require(&mut bb, Val::Bb("${BPN}-licenses.inc"))?;
    for r in &opts.requires {
        bb_value::require(&mut bb, Val::Bb(r))?;
    }
    timings.push(("render".to_owned(), render_start.elapsed()));
    Ok(Recipe { name, version, bb, crates_inc, licenses_inc, warnings, timings })
}

/// Is `f` (relative to S) the workspace's root manifest, which is shipped anyway?
fn items_root_manifest(f: &str, ws_prefix: &str) -> bool {
    f == join_rel(ws_prefix, "Cargo.toml")
}

/// Appends the terms not already present (by key).
fn add_terms(to: &mut Vec<spdx::Term>, terms: Vec<spdx::Term>) {
    for t in terms {
        if !to.iter().any(|o| o.key == t.key) {
            to.push(t);
        }
    }
}

/// SUMMARY is at most 80 characters (OE style): the description cut at a word boundary.
fn summary_of(description: &str) -> String {
    if description.chars().count() <= 80 {
        return description.to_owned();
    }
    let mut out = String::new();
    for w in description.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > 76 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.trim_end_matches([',', ';', ':', '-', '—', ' ']).to_owned() + " ..."
}

fn names_of(pkgs: &[&Package]) -> String {
    pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Is this a BitBake file (a recipe, append or include written next to one), which cargo never needs?
fn is_bitbake_file(name: &str) -> bool {
    [".bb", ".bbappend", ".bbclass"].iter().any(|e| name.ends_with(e))
}

/// `p` absolute, with symlinks and `.`/`..` resolved as far as it exists and the rest (a directory not made yet)
/// appended without `.`/`..`.
fn normalized(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    };
    if let Ok(c) = std::fs::canonicalize(&abs) {
        return c;
    }
    let mut lexical = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                lexical.pop();
            }
            c => lexical.push(c),
        }
    }
    let (mut existing, mut rest) = (lexical.clone(), Vec::new());
    while !existing.exists() {
        let Some(name) = existing.file_name().map(ToOwned::to_owned) else { break };
        rest.push(name);
        existing.pop();
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    out.extend(rest.iter().rev());
    out
}

/// Directories and files (relative to the workspace root) to ship so cargo can load every member and path
/// dependency: cargo reads all members' manifests even when building one package. Never the recipe's own directory
/// (`recipe_dir`: shipping it would make every regeneration change the sources) and no BitBake files.
fn ship_dirs(ws: &Workspace, recipe_dir: Option<&Path>, name: &str) -> Result<Vec<String>> {
    let ours = [format!("{name}-crates.inc"), format!("{name}-licenses.inc")];
    // Compared as the same directory however each was spelled (relative, `..`, a symlinked prefix): a lexical
    // mismatch would ship the recipe's own directory, or miss an --out inside a member.
    let root = normalized(&ws.root);
    let recipe_rel = recipe_dir.map(normalized).and_then(|d| d.strip_prefix(&root).ok().map(Path::to_path_buf));
    let mut dirs: Vec<String> = Vec::new();
    for p in &ws.members {
        if p.dir == ws.root {
            // A root package: ship its top-level entries except build output, VCS data, the member dirs, the
            // recipe directory and BitBake files.
            let recipe_top = recipe_rel.as_ref().and_then(|r| r.components().next()).map(|c| c.as_os_str().to_owned());
            let mut names: Vec<_> = std::fs::read_dir(&ws.root)
                .map_err(io(&ws.root))?
                .filter_map(|e| e.ok())
                .filter(|e| recipe_top.as_deref() != Some(e.file_name().as_os_str()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') && n != "target" && !is_bitbake_file(n) && !ours.contains(n))
                .collect();
            names.sort();
            dirs.extend(names);
        } else {
            let d = rel(&ws.root, &p.dir).unwrap_or_default();
            if let Some(r) = &recipe_rel
                && r.starts_with(&d)
            {
                return Err(Error::Usage(format!(
                    "--out {} is inside member {} ({}), which file:// sources ship whole: write the recipe outside it",
                    ws.root.join(r).display(),
                    p.name,
                    p.dir.display()
                )));
            }
            dirs.push(d);
        }
    }
    if let Some(p) = ws.outside_paths.first() {
        return Err(Error::Usage(format!(
            "path dependency {} at {} is outside the workspace root; file:// sources cannot ship it",
            p.name,
            p.dir.display()
        )));
    }
    if let Some(bad) = dirs.iter().find(|d| !bb_safe(d)) {
        return Err(unsafe_path("workspace entry", bad));
    }
    // Drop entries inside another shipped directory.
    dirs.sort();
    let mut out: Vec<String> = Vec::new();
    for d in dirs {
        if !out.iter().any(|o| d.starts_with(&format!("{o}/"))) {
            out.push(d);
        }
    }
    Ok(out)
}

fn render_crates(
    lock: &Lockfile,
    lock_path: &Path,
    git_deps: &[GitDep],
    sources: &Sources,
    home: &Path,
) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(out, "# Every package of Cargo.lock: `cargo build --frozen` needs all of them vendored.");
    let crates: Vec<&LockedPackage> = lock.packages.iter().filter(|p| p.source == Source::CratesIo).collect();
    if !crates.is_empty() {
        let items: Vec<String> =
            crates.iter().map(|p| format!("crate://crates.io/{0}/{1};name={0}-{1}", p.name, p.version)).collect();
        bb_value::list(&mut out, "SRC_URI", Op::Append, &items.iter().map(|i| Val::Lit(i)).collect::<Vec<_>>())
            .map_err(|e| e.at(lock_path.display()))?;
        out.push('\n');
        for p in &crates {
            let flag = format!("{}-{}.sha256sum", p.name, p.version);
            let sum = p.checksum.as_deref().unwrap_or_default();
            bb_value::assign_flag(&mut out, "SRC_URI", &flag, Op::Set, Val::Lit(sum))
                .map_err(|e| e.at(lock_path.display()))?;
        }
    }
    if !git_deps.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "# Git dependencies: cargo_common_do_patch_paths wires each into a [patch] section.");
        let _ = writeln!(
            out,
            "# `type=git-dependency` is OE-Core's marker for them (devtool, externalsrc); oelint does not know it."
        );
        let _ = writeln!(out, "# nooelint: oelint.vars.srcurioptions");
        let mut items: Vec<String> = Vec::new();
        for g in git_deps {
            // Where the crate sits in its repository (subpath=) is only known from cargo's checkout.
            if g.checkout.is_none() {
                return Err(Error::MissingGitCheckout {
                    name: g.pkg.name.clone(),
                    version: g.pkg.version.clone(),
                    url: g.src.url.clone(),
                    commit: g.src.commit.clone(),
                    checkouts: home.join("git").join("checkouts"),
                });
            }
            let base = bitbake_git_url(&g.src.url).ok_or_else(|| Error::Invalid {
                path: lock_path.to_owned(),
                line: g.pkg.line,
                message: format!("git URL `{}` of {} is not http(s)/ssh/git/file", g.src.url, g.pkg.name),
            })?;
            let branch = match &g.src.reference {
                GitRef::Branch(b) if b.bytes().all(|c| c.is_ascii_alphanumeric() || b"._/-+".contains(&c)) => {
                    format!("branch={b}")
                }
                GitRef::Branch(b) => {
                    return Err(Error::Invalid {
                        path: lock_path.to_owned(),
                        line: g.pkg.line,
                        message: format!("branch `{b}` of {} cannot be written into SRC_URI", g.pkg.name),
                    });
                }
                // A tag, a rev or the default branch: the commit is pinned; no branch to check it against.
                _ => "nobranch=1".to_owned(),
            };
            let subpath = g.subpath().map(|s| format!(";subpath={s}")).unwrap_or_default();
            items.push(format!(
                "{base};{branch};name={0};destsuffix={1}{subpath};type=git-dependency",
                g.pkg.name,
                g.destsuffix()
            ));
        }
        bb_value::list(&mut out, "SRC_URI", Op::Append, &items.iter().map(|i| Val::Lit(i)).collect::<Vec<_>>())
            .map_err(|e| e.at(lock_path.display()))?;
        out.push('\n');
        let mut names: Vec<String> = git_deps.iter().map(|g| g.pkg.name.clone()).collect();
        for g in git_deps {
            bb_value::assign(&mut out, &format!("SRCREV_{}", g.pkg.name), Op::Set, Val::Lit(&g.src.commit))
                .map_err(|e| e.at(lock_path.display()))?;
        }
        if matches!(sources, Sources::Git { .. }) {
            names.insert(0, "default".into());
        }
        bb_value::assign(&mut out, "SRCREV_FORMAT", Op::Set, Val::Lit(&names.join("_")))?;
    }
    Ok(out)
}

/// One package linked into the output, with the facts of its sources.
struct Linked<'a> {
    locked: &'a LockedPackage,
    facts: CrateFacts,
}

fn origin_of(s: &Source) -> Origin {
    match s {
        Source::Path => Origin::Path,
        Source::CratesIo => Origin::Registry,
        Source::Git(_) => Origin::Git,
    }
}

fn linked_body(ids: &BTreeSet<PkgId>) -> String {
    let mut out = String::new();
    for id in ids {
        let o = match id.origin {
            Origin::Registry => "registry",
            Origin::Path => "path",
            Origin::Git => "git",
        };
        let _ = writeln!(out, "{o} {} {}", id.name, id.version);
    }
    out
}

fn linked_from_body(body: &str) -> Option<BTreeSet<PkgId>> {
    body.lines()
        .map(|l| {
            let mut it = l.split(' ');
            let origin = match it.next()? {
                "registry" => Origin::Registry,
                "path" => Origin::Path,
                "git" => Origin::Git,
                _ => return None,
            };
            let (name, version) = (it.next()?, it.next()?);
            it.next().is_none().then(|| PkgId { name: name.to_owned(), version: version.to_owned(), origin })
        })
        .collect()
}

/// Reads a bundle of facts: `crate <sha256>` lines, each followed by that crate's facts.
fn facts_from_bundle(body: &str) -> Option<BTreeMap<String, CrateFacts>> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in body.split_inclusive('\n') {
        if let Some(sum) = line.strip_prefix("crate ") {
            if let Some((s, b)) = current.take() {
                out.insert(s, CrateFacts::from_cache(&b)?);
            }
            current = Some((sum.trim_end().to_owned(), String::new()));
        } else {
            current.as_mut()?.1.push_str(line);
        }
    }
    if let Some((s, b)) = current {
        out.insert(s, CrateFacts::from_cache(&b)?);
    }
    Some(out)
}

/// What the build of `packages` (empty: the workspace) links on any of the targets, as cargo resolves it, with
/// the license facts of each package (cached by the archive's sha256).
#[allow(clippy::too_many_arguments)]
fn linked_packages<'a>(
    ws: &Workspace,
    lock: &'a Lockfile,
    lock_path: &Path,
    packages: &[String],
    opts: &Options,
    mode: crate::resolve::Mode,
    git_deps: &[GitDep],
    home: &Path,
    timings: &mut Vec<(String, Duration)>,
) -> Result<Vec<Linked<'a>>> {
    let t = Instant::now();
    let root_manifest = ws.root.join("Cargo.toml");
    let q =
        Query { manifest: &root_manifest, packages, targets: &opts.targets, cargo_home: opts.cargo_home.as_deref() };
    let mut inputs: Vec<PathBuf> = vec![lock_path.to_owned(), root_manifest.clone()];
    inputs.extend(ws.members.iter().chain(&ws.outside_paths).map(|p| p.dir.join("Cargo.toml")));
    let mut key_args = crate::resolve::tree_args(&q);
    key_args.push(format!("resolver: {}", mode.key()));
    let key = crate::cache::linked_key(&key_args, &ws.root, &inputs, home);
    let mut prepared = std::collections::HashMap::new();
    let (ids, how) = match opts.cache.get("linked", &key).and_then(|b| linked_from_body(&b)) {
        Some(ids) => (ids, "cached".to_owned()),
        None => {
            let (ids, how) = crate::resolve::linked(&q, mode, || {
                crate::features::resolve(ws, lock, packages, &opts.targets, home, &opts.cache)
            })?;
            if let Some(f) = how.facts {
                prepared = f;
            }
            opts.cache.put("linked", &key, &linked_body(&ids));
            (ids, how.said)
        }
    };
    timings.push((format!("linked set ({how}): {} packages", ids.len()), t.elapsed()));

    let t = Instant::now();
    let mut locked: Vec<&LockedPackage> = Vec::new();
    for id in &ids {
        let l = lock
            .packages
            .iter()
            .find(|l| l.name == id.name && l.version == id.version && origin_of(&l.source) == id.origin)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "cargo resolves {} {} into the build, but {} does not lock it",
                    id.name,
                    id.version,
                    lock_path.display()
                ))
            })?;
        locked.push(l);
    }
    // Registry crates: the cache by sha256, else their archives, read in parallel (gzip is the cost).
    let registry: Vec<&LockedPackage> = locked.iter().copied().filter(|l| l.source == Source::CratesIo).collect();
    let mut facts: BTreeMap<(String, String), CrateFacts> = BTreeMap::new();
    let mut misses: Vec<&LockedPackage> = Vec::new();
    let mut read_early = 0usize;
    // All of them in one entry first (one read on a rerun), keyed by their checksums; else one entry per crate.
    let bundle_key = {
        let mut h = crate::cache::KeyHasher::default();
        h.part(b"crate-facts bundle");
        for l in &registry {
            h.part(l.checksum.as_deref().unwrap_or_default().as_bytes());
        }
        h.finish()
    };
    if let Some(bundle) = opts.cache.get("crate-facts-set", &bundle_key).and_then(|b| facts_from_bundle(&b)) {
        for l in &registry {
            if let Some(f) = l.checksum.as_deref().and_then(|c| bundle.get(c)) {
                facts.insert((l.name.clone(), l.version.clone()), f.clone());
            }
        }
    }
    let pending: Vec<&LockedPackage> =
        registry.iter().copied().filter(|l| !facts.contains_key(&(l.name.clone(), l.version.clone()))).collect();
    // Every crate's facts ever read, by sha256, in one entry (one read, one write per run, however many crates).
    let all_key = {
        let mut h = crate::cache::KeyHasher::default();
        h.part(b"crate-facts of every crate");
        h.finish()
    };
    let mut all: Option<BTreeMap<String, CrateFacts>> = None;
    for l in &pending {
        let id = (l.name.clone(), l.version.clone());
        // Read by the resolver, from the archive it had open.
        if let Some(f) = prepared.remove(&id) {
            read_early += 1;
            facts.insert(id, f);
            continue;
        }
        let all = all.get_or_insert_with(|| {
            opts.cache.get("crate-facts-all", &all_key).and_then(|b| facts_from_bundle(&b)).unwrap_or_default()
        });
        match l.checksum.as_deref().and_then(|c| all.get(c)) {
            Some(f) => {
                facts.insert(id, f.clone());
            }
            None => misses.push(l),
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(misses.len().max(1));
    let chunks: Vec<Vec<&LockedPackage>> =
        (0..workers).map(|w| misses.iter().skip(w).step_by(workers).copied().collect()).collect();
    let read: Vec<Result<Vec<(&LockedPackage, CrateFacts)>>> = if misses.is_empty() {
        Vec::new()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|l| Ok((*l, read_crate(home, &l.name, &l.version, l.checksum.as_deref())?)))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::Usage("reading a crate archive panicked".into()))))
                .collect()
        })
    };
    for chunk in read {
        for (l, f) in chunk? {
            facts.insert((l.name.clone(), l.version.clone()), f);
        }
    }
    if !misses.is_empty() || read_early > 0 {
        let mut all = all.unwrap_or_else(|| {
            opts.cache.get("crate-facts-all", &all_key).and_then(|b| facts_from_bundle(&b)).unwrap_or_default()
        });
        for l in &registry {
            if let (Some(sum), Some(f)) = (l.checksum.as_deref(), facts.get(&(l.name.clone(), l.version.clone()))) {
                all.insert(sum.to_owned(), f.clone());
            }
        }
        let mut body = String::new();
        for (sum, f) in &all {
            if let Some(b) = f.to_cache() {
                let _ = writeln!(body, "crate {sum}");
                body.push_str(&b);
            }
        }
        opts.cache.put("crate-facts-all", &all_key, &body);
    }
    if !misses.is_empty() || opts.cache.get("crate-facts-set", &bundle_key).is_none() {
        let mut bundle = String::new();
        for l in &registry {
            let (Some(sum), Some(body)) =
                (l.checksum.as_deref(), facts.get(&(l.name.clone(), l.version.clone())).and_then(CrateFacts::to_cache))
            else {
                continue;
            };
            let _ = writeln!(bundle, "crate {sum}");
            bundle.push_str(&body);
        }
        opts.cache.put("crate-facts-set", &bundle_key, &bundle);
    }
    let mut out = Vec::new();
    for l in locked {
        let f = match &l.source {
            Source::CratesIo => facts
                .remove(&(l.name.clone(), l.version.clone()))
                .ok_or_else(|| Error::Usage(format!("{} {}: no license facts", l.name, l.version)))?,
            Source::Path => {
                let p = ws.path_package(&l.name, &l.version).ok_or_else(|| {
                    Error::Usage(format!("{} {} is locked as a path package but not found", l.name, l.version))
                })?;
                let doc = Doc::load(&p.dir.join("Cargo.toml"))?;
                read_dir_crate(p, &doc)?
            }
            Source::Git(g) => {
                let dep = git_deps.iter().find(|d| d.pkg.name == l.name);
                let (_, dir) = dep.and_then(|d| d.checkout.clone()).ok_or_else(|| Error::MissingGitCheckout {
                    name: l.name.clone(),
                    version: l.version.clone(),
                    url: g.url.clone(),
                    commit: g.commit.clone(),
                    checkouts: home.join("git").join("checkouts"),
                })?;
                let gws = Workspace::load(&dir.join("Cargo.toml"))?;
                let p = gws.member(&l.name).ok_or_else(|| {
                    Error::Usage(format!("{}: checkout {} does not hold that package", l.name, dir.display()))
                })?;
                let doc = Doc::load(&dir.join("Cargo.toml"))?;
                read_dir_crate(p, &doc)?
            }
        };
        out.push(Linked { locked: l, facts: f });
    }
    out.sort_by(|a, b| (&a.locked.name, &a.locked.version).cmp(&(&b.locked.name, &b.locked.version)));
    timings.push((
        format!(
            "license facts: {} crates read (archive sha256 checked), {read_early} of them with the manifests, {} cached",
            misses.len() + read_early,
            registry.len() - misses.len() - read_early
        ),
        t.elapsed(),
    ));
    Ok(out)
}

/// The licenses include: the terms the linked crates add to the recipe's own (each term once), their license
/// files, and `NO_GENERIC_LICENSE` for every name OE-Core has no text for (pointing at a LIC_FILES_CHKSUM path, as
/// license.bbclass requires). Returns the text, the warnings, and whether it appends to LICENSE.
fn render_licenses(
    linked: &[Linked],
    git_deps: &[GitDep],
    selected: &[&Package],
    targets: &[String],
    own_terms: &[spdx::Term],
    own_no_generic: &BTreeSet<String>,
) -> Result<(String, Vec<String>, bool)> {
    let mut out = String::new();
    let mut unknown = Vec::new();
    let deps: Vec<&Linked> = linked.iter().filter(|l| l.locked.source != Source::Path).collect();
    let _ = writeln!(
        out,
        "# Licenses of the crates statically linked into {}, as cargo resolves the build: features resolved,",
        names_of(selected)
    );
    let _ = writeln!(out, "# on any of the targets below; proc-macros, build- and dev-dependencies are not linked.");
    for t in targets {
        let _ = writeln!(out, "#   {t}");
    }
    if deps.is_empty() {
        let _ = writeln!(out, "# None: they link no crate from crates.io or git.");
        return Ok((out, unknown, false));
    }
    let mut terms: Vec<spdx::Term> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut no_generic: BTreeMap<String, String> = BTreeMap::new();
    for l in deps {
        let f = &l.facts;
        let dir = match &l.locked.source {
            Source::Git(_) => {
                let g = git_deps.iter().find(|g| g.pkg.name == l.locked.name);
                format!("../{}", g.map(|g| g.destsuffix()).unwrap_or_default())
            }
            _ => format!("../cargo_home/bitbake/{}-{}", l.locked.name, l.locked.version),
        };
        // The file license.bbclass copies for a name without a generic text: the crate's first license file.
        let first_text = f
            .license_file
            .as_ref()
            .and_then(|lf| f.licenses.iter().find(|t| &t.rel == lf))
            .or(f.licenses.iter().find(|t| bb_safe(&t.rel)))
            .map(|t| format!("{dir}/{}", t.rel))
            .unwrap_or_else(|| format!("{dir}/Cargo.toml"));
        let mut names_without_text: Vec<String> = Vec::new();
        match (&f.license, &f.license_file) {
            (Some(e), _) => match spdx::parse(e) {
                Ok(parsed) => {
                    let (t, u) = spdx::terms(&parsed);
                    add_terms(&mut terms, t);
                    names_without_text.extend(u);
                }
                Err(e) => {
                    let lic = format!("LicenseRef-{}", l.locked.name);
                    unknown.push(format!("{} {}: {e}; recorded as {lic}", l.locked.name, l.locked.version));
                    add_terms(&mut terms, vec![spdx::Term { text: lic.clone(), bare: lic.clone(), key: lic.clone() }]);
                    names_without_text.push(lic);
                }
            },
            (None, _) => {
                let lic = format!("LicenseRef-{}", l.locked.name);
                add_terms(&mut terms, vec![spdx::Term { text: lic.clone(), bare: lic.clone(), key: lic.clone() }]);
                names_without_text.push(lic);
            }
        }
        for n in names_without_text {
            if own_no_generic.contains(&n) || no_generic.contains_key(&n) {
                continue;
            }
            if !n.starts_with("LicenseRef-") || f.license.is_some() {
                unknown.push(format!(
                    "{}: OE-Core ships no license text named `{n}`; NO_GENERIC_LICENSE points at {first_text}",
                    l.locked.name
                ));
            }
            no_generic.insert(n, first_text.clone());
        }
        if f.licenses.is_empty() {
            if let Some((line, md5)) = &f.license_line {
                files.push(format!("file://{dir}/Cargo.toml;beginline={line};endline={line};md5={md5}"));
            }
        } else {
            for t in &f.licenses {
                if bb_safe(&t.rel) {
                    files.push(format!("file://{dir}/{};md5={}", t.rel, t.md5));
                } else {
                    unknown.push(format!("{}: license file `{}` skipped: unusable name", l.locked.name, t.rel));
                }
            }
        }
    }
    // Terms the recipe's own LICENSE already has are not repeated.
    terms.retain(|t| !own_terms.iter().any(|o| o.key == t.key));
    terms.sort_by(|a, b| a.bare.cmp(&b.bare));
    let appends = !terms.is_empty();
    if appends {
        let joined = terms.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" & ");
        if terms.len() == 1 {
            // oelint's licensespdx wants ` & ` inside a value holding `&`; an appended single term starts with `& `.
            let _ = writeln!(out, "# nooelint: oelint.vars.licensespdx");
        }
        bb_value::assign(&mut out, "LICENSE", Op::Append, Val::Lit(&format!("& {joined}")))?;
    } else {
        let _ = writeln!(out, "# Their licenses are all among the recipe's own LICENSE terms.");
    }
    out.push('\n');
    bb_value::list(&mut out, "LIC_FILES_CHKSUM", Op::Append, &files.iter().map(|f| Val::Lit(f)).collect::<Vec<_>>())?;
    if !no_generic.is_empty() {
        out.push('\n');
        for (lic, path) in no_generic {
            bb_value::assign_flag(&mut out, "NO_GENERIC_LICENSE", &lic, Op::Set, Val::Lit(&path))?;
        }
    }
    unknown.sort();
    unknown.dedup();
    Ok((out, unknown, appends))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_become_bitbake_urls() {
        assert_eq!(
            bitbake_git_url("https://github.com/a/b.git").as_deref(),
            Some("git://github.com/a/b.git;protocol=https")
        );
        assert_eq!(bitbake_git_url("file:///tmp/repo").as_deref(), Some("git:///tmp/repo;protocol=file"));
        assert_eq!(bitbake_git_url("ssh://git@host/x").as_deref(), Some("git://git@host/x;protocol=ssh"));
        assert_eq!(bitbake_git_url("ftp://x/y"), None);
        assert_eq!(bitbake_git_url("https://x/${@os.system('id')}"), None);
        assert_eq!(remote_to_url("git@github.com:a/b.git").as_deref(), Some("ssh://git@github.com/a/b.git"));
    }
}
