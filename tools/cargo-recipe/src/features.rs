//! Which packages the target build links, worked out here: cargo's feature resolver (resolver 2 and 3) over
//! Cargo.lock and each locked package's own Cargo.toml, for exactly the build the recipe runs.
//!
//! `cargo tree -e normal,no-proc-macro --target T -p P…` answers the same question exactly, but costs ~200 ms of
//! cargo start-up and index reading per call, more than everything else `k3s-bake cargo` does. What cargo does for
//! it, and what this module does the same way:
//! - Cargo.lock pins every package; its edges (all kinds, all platforms, every feature of every member) are the
//!   graph cargo's feature resolver walks. Each manifest declaration is matched to its locked edge by package name
//!   (`package =` renames resolved), source and version requirement.
//! - Features are resolved per target (one build per machine): the selected members' `default`, then the
//!   declarations' `features` and `default-features`, `[features]` values (`f`, `dep:d`, `d/f`, weak `d?/f`, and
//!   the implicit feature of an optional dependency no `dep:` names), unified over the packages built together.
//!   Dev-dependencies are not part of the build; build-dependencies and proc-macros (and everything only they
//!   use) are built for the host and never linked, so their features never reach the target side.
//! - `[target.'<spec>'.dependencies]` are evaluated against the target's `rustc --print cfg` facts
//!   ([`crate::cfg`]).
//!
//! Whatever falls outside what is implemented here is handed to cargo ([`Outcome::Unsupported`], with the reason):
//! resolver 1, rustflags (they change cfgs), `[patch]`/`[replace]`, triples without recorded cfg facts,
//! `registry =` dependencies, a Cargo.lock that does not match the workspace's manifests (cargo then says it is
//! out of date), a declaration with no or several matching locked packages.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use toml::Value;

use crate::archive::{CrateFacts, find_git_checkout, locate_crate};
use crate::cache::Cache;
use crate::cfg::{Platform, TargetCfg};
use crate::error::{Error, Result};
use crate::lock::{Lockfile, Source};
use crate::manifest::{DepKind, Doc, Inherit, Workspace, is_inherited, normalize};
use crate::resolve::{Linked, Origin, PkgId};

/// Where a declared dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeclSource {
    Registry,
    Path(PathBuf),
    Git(String),
}

/// One dependency declaration of a manifest, inheritance applied.
#[derive(Debug, Clone)]
struct Decl {
    /// The key in the manifest (what features and `dep:` name).
    name: String,
    /// The package it names.
    package: String,
    kind: DepKind,
    platform: Option<Platform>,
    optional: bool,
    default_features: bool,
    features: Vec<String>,
    req: Option<semver::VersionReq>,
    source: DeclSource,
}

/// What the feature resolver needs of one package's manifest.
#[derive(Debug, Clone)]
pub struct Summary {
    /// `[features]`, plus the implicit feature of each optional dependency no `dep:` value names.
    features: HashMap<String, Vec<String>>,
    decls: Vec<Decl>,
    proc_macro: bool,
}

fn unsupported(doc: &Doc, what: String) -> String {
    format!("{}: {what}", doc.path.display())
}

fn str_array(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None => Some(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(_) => None,
    }
}

fn bool_key(t: &toml::Table, keys: &[&str]) -> Option<bool> {
    keys.iter().find_map(|k| t.get(*k)).and_then(Value::as_bool)
}

impl Summary {
    /// Reads the summary of a manifest; `inherit` is the workspace it belongs to, if any. `Err` holds why the
    /// manifest is beyond this resolver (cargo is asked instead, and reports real errors itself).
    pub(crate) fn parse(doc: &Doc, inherit: Option<&Inherit>) -> std::result::Result<Summary, String> {
        let dir = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut decls = Vec::new();
        let kinds = crate::manifest::DEP_SECTIONS;
        let mut tables: Vec<(Option<&str>, &toml::Table, DepKind)> = Vec::new();
        for (section, kind) in kinds {
            if let Some(t) = doc.table.get(section).and_then(Value::as_table) {
                tables.push((None, t, kind));
            }
        }
        if let Some(targets) = doc.table.get("target").and_then(Value::as_table) {
            for (spec, t) in targets {
                for (section, kind) in kinds {
                    if let Some(t) = t.get(section).and_then(Value::as_table) {
                        tables.push((Some(spec.as_str()), t, kind));
                    }
                }
            }
        }
        for (spec, table, kind) in tables {
            let platform = spec.map(Platform::parse).transpose().map_err(|e| unsupported(doc, e))?;
            for (key, v) in table {
                decls.push(decl(doc, &dir, key, v, kind, platform.clone(), inherit)?);
            }
        }
        let mut features: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(f) = doc.table.get("features") {
            let f = f.as_table().ok_or_else(|| unsupported(doc, "`features` is not a table".into()))?;
            for (k, v) in f {
                let vals = str_array(Some(v))
                    .ok_or_else(|| unsupported(doc, format!("feature `{k}` is not a string list")))?;
                features.insert(k.clone(), vals);
            }
        }
        let explicit: HashSet<&str> = features.values().flatten().filter_map(|v| v.strip_prefix("dep:")).collect();
        let implicit: Vec<String> = decls
            .iter()
            .filter(|d| d.optional && !explicit.contains(d.name.as_str()) && !features.contains_key(&d.name))
            .map(|d| d.name.clone())
            .collect();
        for name in implicit {
            features.insert(name.clone(), vec![format!("dep:{name}")]);
        }
        let proc_macro = doc
            .table
            .get("lib")
            .and_then(Value::as_table)
            .and_then(|l| bool_key(l, &["proc-macro", "proc_macro"]))
            .unwrap_or(false);
        Ok(Summary { features, decls, proc_macro })
    }
}

fn decl(
    doc: &Doc,
    dir: &Path,
    key: &str,
    v: &Value,
    kind: DepKind,
    platform: Option<Platform>,
    inherit: Option<&Inherit>,
) -> std::result::Result<Decl, String> {
    let bad = |m: &str| unsupported(doc, format!("dependency `{key}`: {m}"));
    // A member's `{ workspace = true, features, optional, default-features }` on top of `[workspace.dependencies]`.
    let (spec, base, extra): (&Value, &Path, Option<&toml::Table>) = if is_inherited(v) {
        let ws = inherit.ok_or_else(|| bad("`workspace = true` outside a workspace"))?;
        let spec = ws.dependency(key).ok_or_else(|| bad("no such `workspace.dependencies` entry"))?;
        (spec, ws.root, v.as_table())
    } else {
        (v, dir, None)
    };
    let mut d = Decl {
        name: key.to_owned(),
        package: key.to_owned(),
        kind,
        platform,
        optional: false,
        default_features: true,
        features: Vec::new(),
        req: None,
        source: DeclSource::Registry,
    };
    let req = |s: &str| semver::VersionReq::parse(s).map_err(|e| bad(&format!("version `{s}`: {e}")));
    match spec {
        Value::String(s) => d.req = Some(req(s)?),
        Value::Table(t) => {
            for k in ["registry", "registry-index", "artifact", "target"] {
                if t.contains_key(k) {
                    return Err(bad(&format!("`{k}` is not supported here")));
                }
            }
            if let Some(s) = t.get("version") {
                d.req = Some(req(s.as_str().ok_or_else(|| bad("`version` is not a string"))?)?);
            }
            if let Some(p) = t.get("package") {
                d.package = p.as_str().ok_or_else(|| bad("`package` is not a string"))?.to_owned();
            }
            if let Some(p) = t.get("path").and_then(Value::as_str) {
                d.source = DeclSource::Path(normalize(&base.join(p)));
            } else if let Some(g) = t.get("git").and_then(Value::as_str) {
                d.source = DeclSource::Git(g.to_owned());
            }
            d.optional = t.get("optional").and_then(Value::as_bool).unwrap_or(false);
            d.default_features = bool_key(t, &["default-features", "default_features"]).unwrap_or(true);
            d.features = str_array(t.get("features")).ok_or_else(|| bad("`features` is not a string list"))?;
        }
        _ => return Err(bad("neither a version string nor a table")),
    }
    if let Some(m) = extra {
        d.optional = m.get("optional").and_then(Value::as_bool).unwrap_or(false);
        d.features.extend(str_array(m.get("features")).ok_or_else(|| bad("`features` is not a string list"))?);
        // Cargo: a member may turn default features on over the workspace's `false`, never off.
        if bool_key(m, &["default-features", "default_features"]) == Some(true) {
            d.default_features = true;
        }
    }
    Ok(d)
}

/// A feature value as cargo reads it.
enum Fv<'s> {
    Feature(&'s str),
    Dep(&'s str),
    DepFeature { dep: &'s str, feat: &'s str, weak: bool },
}

fn fv(s: &str) -> Fv<'_> {
    match s.split_once('/') {
        Some((dep, feat)) => match dep.strip_suffix('?') {
            Some(dep) => Fv::DepFeature { dep, feat, weak: true },
            None => Fv::DepFeature { dep, feat, weak: false },
        },
        None => match s.strip_prefix("dep:") {
            Some(d) => Fv::Dep(d),
            None => Fv::Feature(s),
        },
    }
}

/// The loaded graph: Cargo.lock, the summaries read so far and the path packages' directories.
struct Graph<'a> {
    lock: &'a Lockfile,
    summaries: HashMap<usize, Summary>,
    path_dirs: HashMap<usize, PathBuf>,
}

fn same_git(a: &str, b: &str) -> bool {
    let norm = |u: &str| u.trim_end_matches('/').trim_end_matches(".git").to_ascii_lowercase();
    norm(a) == norm(b)
}

impl Graph<'_> {
    /// The locked package a declaration of package `p` resolved to.
    fn locked(&self, p: usize, d: &Decl) -> std::result::Result<usize, String> {
        let lp = &self.lock.packages[p];
        let cands: Vec<usize> = lp
            .dependencies
            .iter()
            .copied()
            .filter(|&i| {
                let c = &self.lock.packages[i];
                c.name == d.package
                    && match (&d.source, &c.source) {
                        (DeclSource::Registry, Source::CratesIo) => true,
                        (DeclSource::Path(dir), Source::Path) => self.path_dirs.get(&i) == Some(dir),
                        (DeclSource::Git(u), Source::Git(g)) => same_git(u, &g.url),
                        _ => false,
                    }
                    && d.req.as_ref().is_none_or(|r| semver::Version::parse(&c.version).is_ok_and(|v| r.matches(&v)))
            })
            .collect();
        match cands.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "Cargo.lock locks no {} matching `{}` ({}) for {} {}",
                d.package,
                d.req.as_ref().map(|r| r.to_string()).unwrap_or_else(|| "*".into()),
                d.name,
                lp.name,
                lp.version
            )),
            _ => Err(format!("{} {}: `{}` matches several locked packages", lp.name, lp.version, d.name)),
        }
    }
}

/// One target's feature resolution (cargo's `FeatureResolver` for the target side).
struct Run<'g, 'a> {
    g: &'g Graph<'a>,
    t: &'g TargetCfg,
    features: HashMap<usize, BTreeSet<String>>,
    active: HashMap<usize, BTreeSet<String>>,
    processed: HashSet<usize>,
    deferred: HashMap<(usize, String), BTreeSet<String>>,
    /// Packages reached whose manifest is not loaded yet.
    missing: BTreeSet<usize>,
}

type R<T> = std::result::Result<T, String>;

impl<'g> Run<'g, '_> {
    fn platform_ok(&self, d: &Decl) -> bool {
        d.platform.as_ref().is_none_or(|p| p.matches(self.t))
    }

    /// The target-side package a normal declaration leads to: `None` when it is a proc-macro (host) or not loaded
    /// yet (recorded as missing).
    fn target_dep(&mut self, p: usize, d: &Decl) -> R<Option<usize>> {
        let dep = self.g.locked(p, d)?;
        match self.g.summaries.get(&dep) {
            None => {
                self.missing.insert(dep);
                Ok(None)
            }
            Some(s) if s.proc_macro => Ok(None),
            Some(_) => Ok(Some(dep)),
        }
    }

    fn summary(&self, p: usize) -> &'g Summary {
        // Only called for loaded packages.
        &self.g.summaries[&p]
    }

    fn dep_fvs(&self, dep: usize, d: &Decl) -> Vec<String> {
        let mut v = d.features.clone();
        if d.default_features && self.summary(dep).features.contains_key("default") {
            v.push("default".into());
        }
        v
    }

    fn activate_pkg(&mut self, p: usize, fvs: &[String]) -> R<()> {
        self.features.entry(p).or_default();
        for f in fvs {
            self.activate_fv(p, f)?;
        }
        if !self.processed.insert(p) {
            return Ok(());
        }
        let s = self.summary(p);
        for d in s.decls.iter().filter(|d| d.kind == DepKind::Normal && !d.optional) {
            if !self.platform_ok(d) {
                continue;
            }
            if let Some(dep) = self.target_dep(p, d)? {
                let fvs = self.dep_fvs(dep, d);
                self.activate_pkg(dep, &fvs)?;
            }
        }
        Ok(())
    }

    fn activate_fv(&mut self, p: usize, f: &str) -> R<()> {
        match fv(f) {
            Fv::Feature(f) => self.activate_rec(p, f),
            Fv::Dep(d) => self.activate_dependency(p, d),
            Fv::DepFeature { dep, feat, weak } => self.activate_dep_feature(p, dep, feat, weak),
        }
    }

    fn activate_rec(&mut self, p: usize, f: &str) -> R<()> {
        if !self.features.entry(p).or_default().insert(f.to_owned()) {
            return Ok(());
        }
        let Some(vals) = self.summary(p).features.get(f) else { return Ok(()) };
        for v in vals {
            self.activate_fv(p, v)?;
        }
        Ok(())
    }

    fn activate_dependency(&mut self, p: usize, name: &str) -> R<()> {
        self.active.entry(p).or_default().insert(name.to_owned());
        let to_enable = self.deferred.remove(&(p, name.to_owned()));
        let s = self.summary(p);
        for d in s.decls.iter().filter(|d| d.name == name && d.kind == DepKind::Normal) {
            if !self.platform_ok(d) {
                continue;
            }
            if let Some(dep) = self.target_dep(p, d)? {
                for f in to_enable.iter().flatten() {
                    self.activate_fv(dep, f)?;
                }
                let fvs = self.dep_fvs(dep, d);
                self.activate_pkg(dep, &fvs)?;
            }
        }
        Ok(())
    }

    fn activate_dep_feature(&mut self, p: usize, name: &str, feat: &str, weak: bool) -> R<()> {
        let s = self.summary(p);
        for d in s.decls.iter().filter(|d| d.name == name) {
            match d.kind {
                DepKind::Dev => continue,
                DepKind::Normal if !self.platform_ok(d) => continue,
                // Cargo evaluates a build-dependency's spec for the host, whose cfgs are not recorded here; without
                // a spec it is active. Only its optional-dependency bookkeeping can reach the target side.
                // A non-optional build-dependency only gets host-side features.
                DepKind::Build if !d.optional => continue,
                DepKind::Build if d.platform.is_some() => {
                    return Err(format!(
                        "{}: feature `{name}/{feat}` names an optional target-specific build-dependency",
                        self.g.lock.packages[p].name
                    ));
                }
                _ => {}
            }
            if d.optional {
                let on = self.active.get(&p).is_some_and(|a| a.contains(name));
                if weak && !on {
                    self.deferred.entry((p, name.to_owned())).or_default().insert(feat.to_owned());
                    continue;
                }
                self.activate_dependency(p, name)?;
                if !weak && s.features.contains_key(name) {
                    self.activate_rec(p, name)?;
                }
            }
            if d.kind == DepKind::Normal
                && let Some(dep) = self.target_dep(p, d)?
            {
                self.activate_fv(dep, feat)?;
            }
        }
        Ok(())
    }

    /// What `cargo tree -e normal,no-proc-macro` prints: the packages reached from the roots through normal,
    /// platform-active, activated edges, proc-macros left out.
    fn reached(&mut self, roots: &[usize]) -> R<BTreeSet<usize>> {
        let mut seen: BTreeSet<usize> = roots.iter().copied().collect();
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(p) = stack.pop() {
            let s = self.summary(p);
            for d in s.decls.iter().filter(|d| d.kind == DepKind::Normal) {
                if !self.platform_ok(d) || d.optional && !self.active.get(&p).is_some_and(|a| a.contains(&d.name)) {
                    continue;
                }
                if let Some(dep) = self.target_dep(p, d)?
                    && seen.insert(dep)
                {
                    stack.push(dep);
                }
            }
        }
        Ok(seen)
    }
}

// The resolver's answer type lives with the dispatcher that consumes it (resolve), so the two modules do not
// depend on each other.
pub use crate::resolve::Outcome;

/// Environment variables that change the cfgs cargo evaluates, or the compiler that reports them.
fn cfg_env() -> Option<String> {
    std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()).find(|k| {
        ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC", "CARGO_BUILD_RUSTC"]
            .contains(&k.as_str())
            || k.starts_with("CARGO_TARGET_") && k.ends_with("RUSTFLAGS")
            || k.starts_with("CARGO_UNSTABLE_")
    })
}

/// Cargo configuration that changes resolution or cfgs (rustflags, patches, path overrides, unstable flags) in
/// any file cargo reads for a build in `root`.
fn cfg_config(root: &Path, home: &Path) -> Option<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in root.ancestors() {
        files.push(dir.join(".cargo/config.toml"));
        files.push(dir.join(".cargo/config"));
    }
    files.push(home.join("config.toml"));
    files.push(home.join("config"));
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let Ok(t) = text.parse::<toml::Table>() else { return Some(format!("{}: not readable TOML", f.display())) };
        let build = t.get("build").and_then(Value::as_table);
        let hit = ["patch", "paths", "unstable"].iter().find(|k| t.contains_key(**k)).map(|k| (*k).to_owned()).or_else(
            || {
                ["rustflags", "rustc"]
                    .iter()
                    .find(|k| build.is_some_and(|b| b.contains_key(**k)))
                    .map(|k| format!("build.{k}"))
            },
        );
        let hit = hit.or_else(|| {
            t.get("target").and_then(Value::as_table).and_then(|targets| {
                targets.iter().find(|(_, v)| v.get("rustflags").is_some()).map(|(k, _)| format!("target.{k}.rustflags"))
            })
        });
        if let Some(h) = hit {
            return Some(format!("{} sets `{h}`", f.display()));
        }
    }
    None
}

/// The resolver version of the workspace (`workspace.resolver`, else from the root package's edition).
fn resolver_version(ws: &Workspace) -> String {
    let t = &ws.manifest.table;
    if let Some(r) = t.get("workspace").and_then(|w| w.get("resolver")).and_then(Value::as_str) {
        return r.to_owned();
    }
    match t.get("package").and_then(|p| p.get("edition")) {
        Some(Value::String(e)) if e == "2021" => "2".into(),
        Some(Value::String(e)) if e.as_str() >= "2024" => "3".into(),
        Some(e) if is_inherited(e) => {
            match t
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("edition"))
                .and_then(Value::as_str)
            {
                Some("2021") => "2".into(),
                Some(e) if e >= "2024" => "3".into(),
                _ => "1".into(),
            }
        }
        _ => "1".into(),
    }
}

/// Resolves the build of `packages` (empty: every member) for each of `targets`.
pub fn resolve(
    ws: &Workspace,
    lock: &Lockfile,
    packages: &[String],
    targets: &[String],
    home: &Path,
    cache: &Cache,
) -> Result<Outcome> {
    let un = |m: String| Ok(Outcome::Unsupported(m));
    let resolver = resolver_version(ws);
    if resolver != "2" && resolver != "3" {
        return un(format!("resolver {resolver} (features unified over every target and kind)"));
    }
    for k in ["patch", "replace"] {
        if ws.manifest.table.contains_key(k) {
            return un(format!("[{k}] in {}", ws.manifest.path.display()));
        }
    }
    if let Some(v) = cfg_env() {
        return un(format!("${v} is set"));
    }
    if let Some(c) = cfg_config(&ws.root, home) {
        return un(c);
    }
    let mut cfgs = Vec::new();
    for t in targets {
        match TargetCfg::recorded(t) {
            Some(c) => cfgs.push(c),
            None => return un(format!("no recorded cfg facts for {t}")),
        }
    }

    // Path packages: the lock's and the workspace's must be the same set.
    let ws_paths: Vec<&crate::manifest::Package> = ws.members.iter().chain(&ws.outside_paths).collect();
    let mut g = Graph { lock, summaries: HashMap::new(), path_dirs: HashMap::new() };
    for (i, l) in lock.packages.iter().enumerate().filter(|(_, l)| l.source == Source::Path) {
        match ws_paths.iter().find(|p| p.name == l.name && p.version == l.version) {
            Some(p) => {
                g.path_dirs.insert(i, p.dir.clone());
            }
            None => return un(format!("Cargo.lock locks path package {} {} the workspace lacks", l.name, l.version)),
        }
    }
    for p in &ws_paths {
        if !g.path_dirs.values().any(|d| *d == p.dir) {
            return un(format!("Cargo.lock does not lock {} {} ({})", p.name, p.version, p.dir.display()));
        }
    }
    let inherit = Inherit { doc: &ws.manifest, root: &ws.root };
    let has_ws = ws.manifest.table.contains_key("workspace");
    for (&i, dir) in &g.path_dirs {
        let is_member = ws.members.iter().any(|m| m.dir == *dir);
        let doc = if *dir == ws.root { ws.manifest.clone() } else { Doc::load(&dir.join("Cargo.toml"))? };
        // A path package of another workspace (the tools' dependencies on meta-k3s-rs/*) inherits from its own.
        let foreign = if is_member { None } else { crate::manifest::foreign_workspace(dir, &ws.manifest.path)? };
        let foreign = foreign.as_ref().map(|d| Inherit { doc: d, root: d.path.parent().unwrap_or(dir) });
        let inherit_for = if is_member && has_ws { Some(&inherit) } else { foreign.as_ref() };
        match Summary::parse(&doc, inherit_for) {
            Ok(s) => {
                g.summaries.insert(i, s);
            }
            Err(e) => return un(e),
        }
    }
    // Every declaration of a path package matches one locked edge and every edge is declared: else Cargo.lock is
    // out of date (cargo says so) or this resolver misreads the manifest (cargo answers).
    for (&i, dir) in &g.path_dirs {
        let is_member = ws.members.iter().any(|m| m.dir == *dir);
        let mut covered = HashSet::new();
        // Cargo resolves dev-dependencies of workspace members only: a path package outside the workspace has none
        // in Cargo.lock.
        for d in g.summaries[&i].decls.iter().filter(|d| is_member || d.kind != DepKind::Dev) {
            match g.locked(i, d) {
                Ok(j) => {
                    covered.insert(j);
                }
                Err(e) if is_member || !d.optional => return un(e),
                Err(_) => {}
            }
        }
        let l = &lock.packages[i];
        if let Some(extra) = l.dependencies.iter().find(|j| !covered.contains(j)) {
            return un(format!(
                "Cargo.lock records {} as a dependency of {} {}, which its manifest does not declare",
                lock.packages[*extra].name, l.name, l.version
            ));
        }
    }

    let selected: Vec<&crate::manifest::Package> = if packages.is_empty() {
        ws.members.iter().collect()
    } else {
        packages.iter().filter_map(|n| ws.member(n)).collect()
    };
    let mut roots = Vec::new();
    for m in selected {
        let Some((&i, _)) = g.path_dirs.iter().find(|(_, d)| **d == m.dir) else {
            return un(format!("{} is not locked", m.name));
        };
        if g.summaries[&i].proc_macro {
            return un(format!("{} is a proc-macro", m.name));
        }
        roots.push(i);
    }
    roots.sort();

    let git: BTreeMap<usize, Option<(PathBuf, PathBuf)>> = lock
        .packages
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match &l.source {
            Source::Git(s) => Some((i, find_git_checkout(home, &l.name, &s.commit))),
            _ => None,
        })
        .collect();
    let mut located: HashMap<(String, String), CrateFacts> = HashMap::new();
    // The registry crates' manifests, one cache entry per Cargo.lock (by its checksums): one read on a rerun whose
    // linked set must be worked out again (a member's manifest edited), one write after a first run.
    let bundle_key = {
        let mut h = crate::cache::KeyHasher::default();
        h.part(b"crate-manifests");
        for l in &lock.packages {
            h.part(l.checksum.as_deref().unwrap_or_default().as_bytes());
        }
        h.finish()
    };
    let manifests =
        cache.get("crate-manifest-set", &bundle_key).and_then(|b| manifests_from_bundle(&b)).unwrap_or_default();
    let mut fresh: HashMap<String, String> = HashMap::new();
    // Waves: resolve with what is loaded, load what was reached but missing, until nothing is missing. Having
    // more manifests only ever adds to what is reached, so the last wave is the full answer.
    loop {
        let mut missing = BTreeSet::new();
        let mut per_target = Vec::new();
        for t in &cfgs {
            let mut run = Run {
                g: &g,
                t,
                features: HashMap::new(),
                active: HashMap::new(),
                processed: HashSet::new(),
                deferred: HashMap::new(),
                missing: BTreeSet::new(),
            };
            let reached = (|| {
                for &r in &roots {
                    let fvs: Vec<String> = if run.summary(r).features.contains_key("default") {
                        vec!["default".into()]
                    } else {
                        Vec::new()
                    };
                    run.activate_pkg(r, &fvs)?;
                }
                run.reached(&roots)
            })();
            let reached = match reached {
                Ok(r) => r,
                Err(e) => return un(e),
            };
            missing.extend(run.missing.iter().copied());
            let linked: Linked = reached
                .iter()
                .map(|&i| {
                    let l = &lock.packages[i];
                    let origin = match l.source {
                        Source::Path => Origin::Path,
                        Source::CratesIo => Origin::Registry,
                        Source::Git(_) => Origin::Git,
                    };
                    PkgId { name: l.name.clone(), version: l.version.clone(), origin }
                })
                .collect();
            per_target.push((t.triple.clone(), linked));
        }
        if missing.is_empty() {
            if !fresh.is_empty() {
                let mut all: BTreeMap<&String, &String> = manifests.iter().collect();
                all.extend(fresh.iter());
                cache.put("crate-manifest-set", &bundle_key, &manifests_bundle(&all));
            }
            return Ok(Outcome::Answer { per_target, facts: located });
        }
        match load(&mut g, &missing, &cfgs, &git, home, &manifests, &mut located, &mut fresh)? {
            Some(reason) => return un(reason),
            None => continue,
        }
    }
}

/// Loads the summary of one registry or git package: registry crates from the cache (by sha256) or their
/// archive, git packages from cargo's checkout. `Ok(Err(reason))` when it is beyond the resolver.
fn load_one(
    lock: &Lockfile,
    i: usize,
    git: &BTreeMap<usize, Option<(PathBuf, PathBuf)>>,
    home: &Path,
    manifests: &HashMap<String, String>,
) -> Result<Loaded> {
    let l = &lock.packages[i];
    match &l.source {
        Source::CratesIo => {
            let sum = l.checksum.as_deref().unwrap_or_default();
            let (text, loc) = match manifests.get(sum) {
                Some(t) => (t.clone(), None),
                None => {
                    let loc = locate_crate(home, &l.name, &l.version, l.checksum.as_deref())?;
                    (loc.manifest_text(&l.name, &l.version)?, Some(loc))
                }
            };
            let doc = Doc::parse(PathBuf::from(format!("{}-{}/Cargo.toml", l.name, l.version)), text)?;
            let summary = Summary::parse(&doc, None);
            // Not a proc-macro, reached on the target side: linked, so its license facts are needed; read them now,
            // from the archive already open.
            let facts = match (&summary, &loc) {
                (Ok(s), Some(loc)) if !s.proc_macro => Some(loc.facts_with(home, &l.name, &l.version, Some(&doc))?),
                _ => None,
            };
            let fresh = loc.map(|_| doc.text);
            Ok(Loaded { summary, facts, manifest: fresh })
        }
        Source::Path => Ok(Loaded {
            summary: Err(format!("path package {} {} has no manifest here", l.name, l.version)),
            facts: None,
            manifest: None,
        }),
        Source::Git(src) => {
            let Some(Some((root, dir))) = git.get(&i) else {
                return Err(Error::MissingGitCheckout {
                    name: l.name.clone(),
                    version: l.version.clone(),
                    url: src.url.clone(),
                    commit: src.commit.clone(),
                    checkouts: home.join("git").join("checkouts"),
                });
            };
            let doc = Doc::load(&dir.join("Cargo.toml"))?;
            // A member of the git repository's own workspace inherits from its root.
            let ws_doc = dir
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(root))
                .map(|a| a.join("Cargo.toml"))
                .filter_map(|m| Doc::load(&m).ok())
                .find(|d| d.table.contains_key("workspace"));
            let ws_root = ws_doc.as_ref().and_then(|d| d.path.parent()).map(Path::to_path_buf);
            let inherit = match (&ws_doc, &ws_root) {
                (Some(doc), Some(root)) => Some(Inherit { doc, root }),
                _ => None,
            };
            Ok(Loaded { summary: Summary::parse(&doc, inherit.as_ref()), facts: None, manifest: None })
        }
    }
}

/// `crate <sha256> <length>` and that many bytes of manifest, per crate.
fn manifests_bundle(all: &BTreeMap<&String, &String>) -> String {
    let mut out = String::new();
    for (sum, text) in all {
        out.push_str(&format!("crate {sum} {}\n", text.len()));
        out.push_str(text);
        out.push('\n');
    }
    out
}

fn manifests_from_bundle(body: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (head, tail) = rest.split_once('\n')?;
        let mut it = head.split(' ');
        let (tag, sum, len) = (it.next()?, it.next()?, it.next()?.parse::<usize>().ok()?);
        if tag != "crate" || tail.len() < len + 1 || !tail.is_char_boundary(len) {
            return None;
        }
        out.insert(sum.to_owned(), tail[..len].to_owned());
        rest = tail[len..].strip_prefix('\n')?;
    }
    Some(out)
}

/// One loaded package: its summary (or why it is beyond the resolver), its license facts when read on the way,
/// and its manifest text when it came from the archive (for the cache).
struct Loaded {
    summary: std::result::Result<Summary, String>,
    facts: Option<CrateFacts>,
    manifest: Option<String>,
}

/// The work queue of [`load`].
struct Queue {
    todo: Vec<usize>,
    seen: HashSet<usize>,
    busy: usize,
    done: Vec<(usize, Loaded)>,
    failed: Option<Error>,
}

/// Loads the summaries of `missing` and, as each arrives, of the packages its non-optional normal dependencies
/// (active on any of the targets) lead to, which the next resolution reaches for sure: one parallel pass over
/// most of the graph instead of one per level. `Some(reason)` when a package is beyond the resolver.
#[allow(clippy::too_many_arguments)]
fn load(
    g: &mut Graph,
    missing: &BTreeSet<usize>,
    cfgs: &[TargetCfg],
    git: &BTreeMap<usize, Option<(PathBuf, PathBuf)>>,
    home: &Path,
    manifests: &HashMap<String, String>,
    located: &mut HashMap<(String, String), CrateFacts>,
    fresh: &mut HashMap<String, String>,
) -> Result<Option<String>> {
    let graph: &Graph = g;
    let mut seen: HashSet<usize> = graph.summaries.keys().copied().collect();
    seen.extend(missing.iter().copied());
    let q = std::sync::Mutex::new(Queue {
        todo: missing.iter().copied().collect(),
        seen,
        busy: 0,
        done: Vec::new(),
        failed: None,
    });
    let wake = std::sync::Condvar::new();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let work = || {
        loop {
            let i = {
                let Ok(mut st) = q.lock() else { return };
                loop {
                    if st.failed.is_some() {
                        return;
                    }
                    if let Some(i) = st.todo.pop() {
                        st.busy += 1;
                        break i;
                    }
                    if st.busy == 0 {
                        wake.notify_all();
                        return;
                    }
                    st = match wake.wait(st) {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                }
            };
            let loaded = load_one(graph.lock, i, git, home, manifests);
            let mut next = Vec::new();
            if let Ok(Loaded { summary: Ok(s), .. }) = &loaded
                && !s.proc_macro
            {
                for d in s.decls.iter().filter(|d| d.kind == DepKind::Normal && !d.optional) {
                    if d.platform.as_ref().is_none_or(|p| cfgs.iter().any(|t| p.matches(t)))
                        && let Ok(j) = graph.locked(i, d)
                    {
                        next.push(j);
                    }
                }
            }
            let Ok(mut st) = q.lock() else { return };
            st.busy -= 1;
            match loaded {
                Ok(loaded) => {
                    for j in next {
                        if st.seen.insert(j) {
                            st.todo.push(j);
                        }
                    }
                    st.done.push((i, loaded));
                }
                Err(e) => st.failed = Some(e),
            }
            wake.notify_all();
        }
    };
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    let st = q.into_inner().map_err(|_| Error::Usage("loading crate manifests panicked".into()))?;
    if let Some(e) = st.failed {
        return Err(e);
    }
    let mut reason = None;
    for (i, loaded) in st.done {
        let l = &g.lock.packages[i];
        match loaded.summary {
            Ok(s) => {
                g.summaries.insert(i, s);
            }
            Err(e) => reason = reason.or(Some(e)),
        }
        if let Some(f) = loaded.facts {
            located.insert((l.name.clone(), l.version.clone()), f);
        }
        if let (Some(m), Some(sum)) = (loaded.manifest, l.checksum.clone()) {
            fresh.insert(sum, m);
        }
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_bundles_round_trip_and_damage_is_refused() {
        let (a, b) = ("ab".repeat(32), "cd".repeat(32));
        let (ta, tb) = ("[package]\nname = \"a\"\n".to_owned(), "crate x 3\nend \n\u{e9}".to_owned());
        let all: BTreeMap<&String, &String> = [(&a, &ta), (&b, &tb)].into_iter().collect();
        let body = manifests_bundle(&all);
        let back = manifests_from_bundle(&body).unwrap();
        assert_eq!((back.get(&a), back.get(&b), back.len()), (Some(&ta), Some(&tb), 2));
        assert!(manifests_from_bundle(&body[..body.len() - 3]).is_none());
        assert!(manifests_from_bundle("crate x 999\nshort\n").is_none());
    }

    #[test]
    fn feature_values_read_as_cargo_reads_them() {
        assert!(matches!(fv("std"), Fv::Feature("std")));
        assert!(matches!(fv("dep:serde"), Fv::Dep("serde")));
        assert!(matches!(fv("serde/derive"), Fv::DepFeature { dep: "serde", feat: "derive", weak: false }));
        assert!(matches!(fv("serde?/derive"), Fv::DepFeature { dep: "serde", feat: "derive", weak: true }));
    }
}
