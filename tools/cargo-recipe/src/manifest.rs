//! Cargo.toml reading: virtual and root-package workspaces, member globs, implicit path members, and workspace
//! inheritance of package fields and dependencies — the subset of cargo's rules a recipe depends on.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use toml::{Table, Value};

use crate::error::{Error, Result, io};

/// A parsed TOML file that remembers its text, so errors can name the line of a key.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Where it was read from (or, for archive members, the archive path + member).
    pub path: PathBuf,
    /// The raw text.
    pub text: String,
    /// The parsed table.
    pub table: Table,
}

impl Doc {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Doc> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        Doc::parse(path.to_owned(), text)
    }

    /// Parses `text` read from `path`.
    pub fn parse(path: PathBuf, text: String) -> Result<Doc> {
        let table = text
            .parse::<Table>()
            .map_err(|e| Error::Toml { path: path.clone(), message: e.to_string().trim_end().to_owned() })?;
        Ok(Doc { path, text, table })
    }

    /// 1-based line of the first line starting with `needle` (after indentation); 1 when there is none.
    pub fn line_of(&self, needle: &str) -> usize {
        self.text.lines().position(|l| l.trim_start().starts_with(needle)).map_or(1, |i| i + 1)
    }

    /// An [`Error::Invalid`] located at the line of `needle`.
    pub fn invalid(&self, needle: &str, message: impl Into<String>) -> Error {
        Error::Invalid { path: self.path.clone(), line: self.line_of(needle), message: message.into() }
    }
}

/// What a dependency is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// `[dependencies]`: linked into the package.
    Normal,
    /// `[build-dependencies]`: runs on the build host only.
    Build,
    /// `[dev-dependencies]`: tests, examples, benches only.
    Dev,
}

/// One dependency declaration, with workspace inheritance applied.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The package name (the `package =` rename resolved).
    pub package: String,
    /// Its kind.
    pub kind: DepKind,
    /// The `[target.<spec>.…]` it sits under, if any.
    pub target: Option<String>,
    /// Absolute directory of a path dependency.
    pub path: Option<PathBuf>,
    /// Repository URL of a git dependency.
    pub git: Option<String>,
}

/// One package: a workspace member, a path dependency, or a crate from an archive.
#[derive(Debug, Clone)]
pub struct Package {
    /// `package.name`.
    pub name: String,
    /// `package.version` (cargo's default 0.0.0 when absent).
    pub version: String,
    /// Directory holding its Cargo.toml.
    pub dir: PathBuf,
    /// `package.description`.
    pub description: Option<String>,
    /// `package.homepage`.
    pub homepage: Option<String>,
    /// `package.repository`.
    pub repository: Option<String>,
    /// `package.license` (an SPDX expression).
    pub license: Option<String>,
    /// `package.license-file`, absolute.
    pub license_file: Option<PathBuf>,
    /// The file and line the `license` value came from (the workspace root when inherited).
    pub license_origin: Option<(PathBuf, usize)>,
    /// All dependency declarations.
    pub deps: Vec<Dependency>,
    /// `[lib] proc-macro = true`: runs inside the compiler, never linked into the output.
    pub proc_macro: bool,
}

/// A loaded workspace.
#[derive(Debug)]
pub struct Workspace {
    /// Directory of the root manifest.
    pub root: PathBuf,
    /// The root manifest.
    pub manifest: Doc,
    /// Members (explicit, globbed, and path dependencies inside the root), sorted by directory.
    pub members: Vec<Package>,
    /// Path dependencies outside the workspace root (not members but needed to build).
    pub outside_paths: Vec<Package>,
    /// True when the root manifest has no `[package]`.
    pub virtual_root: bool,
}

fn str_of(v: &Value) -> Option<&str> {
    v.as_str()
}

/// Lexical normalisation (no filesystem access: paths may not exist yet in error cases).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Workspace-level data members inherit from.
pub(crate) struct Inherit<'a> {
    /// The workspace root manifest.
    pub(crate) doc: &'a Doc,
    /// Its directory.
    pub(crate) root: &'a Path,
}

impl Inherit<'_> {
    fn package_field(&self, field: &str) -> Option<&Value> {
        self.doc.table.get("workspace")?.get("package")?.get(field)
    }
    pub(crate) fn dependency(&self, name: &str) -> Option<&Value> {
        self.doc.table.get("workspace")?.get("dependencies")?.get(name)
    }
}

/// `{ workspace = true }` (dotted `x.workspace = true` parses the same).
pub(crate) fn is_inherited(v: &Value) -> bool {
    v.get("workspace").and_then(Value::as_bool) == Some(true)
}

/// Reads a string field of `[package]`, following `field.workspace = true`.
fn package_str(doc: &Doc, pkg: &Table, field: &str, ws: Option<&Inherit>) -> Result<Option<(String, bool)>> {
    let Some(v) = pkg.get(field) else { return Ok(None) };
    if is_inherited(v) {
        let ws = ws.ok_or_else(|| doc.invalid(field, format!("`{field}.workspace = true` outside a workspace")))?;
        let inherited = ws.package_field(field).and_then(str_of).ok_or_else(|| {
            doc.invalid(
                field,
                format!(
                    "`{field}.workspace = true` but {} has no string `workspace.package.{field}`",
                    ws.doc.path.display()
                ),
            )
        })?;
        return Ok(Some((inherited.to_owned(), true)));
    }
    match v.as_str() {
        Some(s) => Ok(Some((s.to_owned(), false))),
        None => Err(doc.invalid(field, format!("`package.{field}` must be a string or {{ workspace = true }}"))),
    }
}

/// Parses one dependency table (`[dependencies]` etc.) into `out`.
fn parse_dep_table(
    doc: &Doc,
    table: &Table,
    dir: &Path,
    kind: DepKind,
    target: Option<&str>,
    ws: Option<&Inherit>,
    out: &mut Vec<Dependency>,
) -> Result<()> {
    for (key, v) in table {
        let (spec, base): (Value, &Path) = if is_inherited(v) {
            let ws =
                ws.ok_or_else(|| doc.invalid(key, format!("`{key}` inherits from a workspace but there is none")))?;
            let inherited = ws.dependency(key).ok_or_else(|| {
                doc.invalid(
                    key,
                    format!(
                        "`{key}` has `workspace = true` but {} has no `workspace.dependencies.{key}`",
                        ws.doc.path.display()
                    ),
                )
            })?;
            // Paths in [workspace.dependencies] are relative to the workspace root; `package =` renames come from
            // there too, while the member's own table may only add features/optional.
            (inherited.clone(), ws.root)
        } else {
            (v.clone(), dir)
        };
        let (package, path, git) = match &spec {
            Value::String(_) => (key.clone(), None, None),
            Value::Table(t) => {
                let package = t.get("package").and_then(str_of).unwrap_or(key).to_owned();
                let path = t.get("path").and_then(str_of).map(|p| normalize(&base.join(p)));
                let git = t.get("git").and_then(str_of).map(str::to_owned);
                (package, path, git)
            }
            _ => return Err(doc.invalid(key, format!("dependency `{key}` must be a version string or a table"))),
        };
        out.push(Dependency { package, kind, target: target.map(str::to_owned), path, git });
    }
    Ok(())
}

/// The dependency tables of a manifest (and of its `[target.…]` tables) with the kind each declares; cargo still
/// accepts the underscore spellings.
pub(crate) const DEP_SECTIONS: [(&str, DepKind); 5] = [
    ("dependencies", DepKind::Normal),
    ("build-dependencies", DepKind::Build),
    ("build_dependencies", DepKind::Build),
    ("dev-dependencies", DepKind::Dev),
    ("dev_dependencies", DepKind::Dev),
];

fn parse_deps(doc: &Doc, dir: &Path, ws: Option<&Inherit>) -> Result<Vec<Dependency>> {
    let mut deps = Vec::new();
    for (section, kind) in DEP_SECTIONS {
        if let Some(t) = doc.table.get(section).and_then(Value::as_table) {
            parse_dep_table(doc, t, dir, kind, None, ws, &mut deps)?;
        }
    }
    if let Some(targets) = doc.table.get("target").and_then(Value::as_table) {
        for (spec, t) in targets {
            for (section, kind) in DEP_SECTIONS {
                if let Some(t) = t.get(section).and_then(Value::as_table) {
                    parse_dep_table(doc, t, dir, kind, Some(spec), ws, &mut deps)?;
                }
            }
        }
    }
    Ok(deps)
}

/// Builds a [`Package`] from a manifest with a `[package]` table.
fn package_from(doc: &Doc, ws: Option<&Inherit>) -> Result<Package> {
    let dir = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let pkg = doc
        .table
        .get("package")
        .and_then(Value::as_table)
        .ok_or_else(|| doc.invalid("[package]", "expected a `[package]` table"))?;
    let name = match pkg.get("name").and_then(Value::as_str) {
        Some(n) => n.to_owned(),
        None => return Err(doc.invalid("[package]", "`package.name` (a string) is required")),
    };
    let field = |f: &str| package_str(doc, pkg, f, ws);
    let version = field("version")?.map_or_else(|| "0.0.0".to_owned(), |(v, _)| v);
    let license_origin;
    let license = match field("license")? {
        Some((l, inherited)) => {
            license_origin = Some(match (inherited, ws) {
                (true, Some(ws)) => (ws.doc.path.clone(), ws.doc.line_of("license")),
                _ => (doc.path.clone(), doc.line_of("license")),
            });
            Some(l)
        }
        None => {
            license_origin = None;
            None
        }
    };
    let license_file = match field("license-file")? {
        Some((f, true)) => ws.map(|ws| normalize(&ws.root.join(f))),
        Some((f, false)) => Some(normalize(&dir.join(f))),
        None => None,
    };
    let proc_macro = doc
        .table
        .get("lib")
        .and_then(|l| l.get("proc-macro").or_else(|| l.get("proc_macro")))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Package {
        version,
        description: field("description")?.map(|x| x.0),
        homepage: field("homepage")?.map(|x| x.0),
        repository: field("repository")?.map(|x| x.0),
        license,
        license_file,
        license_origin,
        deps: parse_deps(doc, &dir, ws)?,
        proc_macro,
        name,
        dir,
    })
}

/// A package from a manifest that needs no workspace (a normalised manifest inside a `.crate` archive).
pub fn standalone_package(doc: &Doc) -> Result<Package> {
    package_from(doc, None)
}

/// Matches one path component against a glob pattern with `*` and `?`.
fn glob_component(pattern: &str, name: &str) -> bool {
    fn rec(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], n) || (!n.is_empty() && rec(p, &n[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &n[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), name.as_bytes())
}

/// Expands a member glob relative to `root` into directories (sorted).
fn expand_member(root: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    let mut dirs = vec![root.to_path_buf()];
    for comp in Path::new(pattern).components() {
        let comp = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for d in &dirs {
            if comp.contains(['*', '?']) {
                let mut names: Vec<_> = std::fs::read_dir(d)
                    .map_err(io(d))?
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| glob_component(&comp, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| d.join(n)));
            } else {
                next.push(normalize(&d.join(comp.as_ref())));
            }
        }
        dirs = next;
    }
    Ok(dirs)
}

/// Finds the workspace root for a manifest: itself when it has `[workspace]`, else the nearest ancestor whose
/// `[workspace]` lists it (cargo's search), else the package alone.
fn find_root(manifest: &Path) -> Result<PathBuf> {
    let doc = Doc::load(manifest)?;
    if doc.table.contains_key("workspace") {
        return Ok(manifest.to_owned());
    }
    let dir = manifest.parent().unwrap_or(Path::new("."));
    for anc in dir.ancestors().skip(1) {
        let candidate = anc.join("Cargo.toml");
        if !candidate.is_file() {
            continue;
        }
        let root = Doc::load(&candidate)?;
        let Some(ws) = root.table.get("workspace") else { continue };
        let members = ws.get("members").and_then(Value::as_array).cloned().unwrap_or_default();
        for m in members.iter().filter_map(Value::as_str) {
            if expand_member(anc, m)?.iter().any(|d| d == dir) {
                return Ok(candidate);
            }
        }
    }
    Ok(manifest.to_owned())
}

/// The root manifest of the workspace a path package at `dir` belongs to when that is not the workspace being
/// loaded (`ws_root_manifest`): cargo makes such a package inherit `*.workspace = true` from its own workspace.
pub(crate) fn foreign_workspace(dir: &Path, ws_root_manifest: &Path) -> Result<Option<Doc>> {
    let own = find_root(&dir.join("Cargo.toml"))?;
    if own == ws_root_manifest {
        return Ok(None);
    }
    let doc = Doc::load(&own)?;
    Ok(doc.table.contains_key("workspace").then_some(doc))
}

impl Workspace {
    /// Loads the workspace that `manifest_path` (a root or member Cargo.toml) belongs to.
    pub fn load(manifest_path: &Path) -> Result<Workspace> {
        let manifest_path = if manifest_path.is_absolute() {
            manifest_path.to_owned()
        } else {
            std::env::current_dir().map_err(io("."))?.join(manifest_path)
        };
        let manifest_path = normalize(&manifest_path);
        let root_manifest = find_root(&manifest_path)?;
        let doc = Doc::load(&root_manifest)?;
        let root = root_manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        let inherit = Inherit { doc: &doc, root: &root };
        let ws_table = doc.table.get("workspace");
        let virtual_root = !doc.table.contains_key("package");
        if virtual_root && ws_table.is_none() {
            return Err(doc.invalid("", "neither `[package]` nor `[workspace]`: not a Cargo manifest"));
        }

        let excluded: Vec<PathBuf> = ws_table
            .and_then(|w| w.get("exclude"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(|e| normalize(&root.join(e))).collect())
            .unwrap_or_default();
        let mut member_dirs: BTreeMap<PathBuf, ()> = BTreeMap::new();
        if !virtual_root {
            member_dirs.insert(root.clone(), ());
        }
        if let Some(members) = ws_table.and_then(|w| w.get("members")) {
            let members =
                members.as_array().ok_or_else(|| doc.invalid("members", "`workspace.members` must be an array"))?;
            for m in members {
                let m = m.as_str().ok_or_else(|| doc.invalid("members", "`workspace.members` holds strings"))?;
                let globbed = m.contains(['*', '?']);
                for d in expand_member(&root, m)? {
                    if excluded.iter().any(|e| d.starts_with(e)) {
                        continue;
                    }
                    if d.join("Cargo.toml").is_file() {
                        member_dirs.insert(d, ());
                    } else if !globbed {
                        return Err(
                            doc.invalid("members", format!("member `{m}` has no Cargo.toml at {}", d.display()))
                        );
                    }
                }
            }
        }

        // Load members; path dependencies inside the root become members too (cargo's rule), others are kept
        // apart because a recipe must still ship them.
        let mut members: BTreeMap<PathBuf, Package> = BTreeMap::new();
        let mut outside: BTreeMap<PathBuf, Package> = BTreeMap::new();
        let mut queue: Vec<PathBuf> = member_dirs.into_keys().collect();
        while let Some(dir) = queue.pop() {
            if members.contains_key(&dir) || outside.contains_key(&dir) {
                continue;
            }
            let is_member = dir.starts_with(&root) && !excluded.iter().any(|e| dir.starts_with(e));
            let pkg_doc = if dir == root { doc.clone() } else { Doc::load(&dir.join("Cargo.toml"))? };
            // A path dependency outside this workspace inherits from its own workspace (cargo's rule), e.g. the
            // host tools' dependency on meta-k3s-rs/k3s-model, a member of the target workspace.
            let own_doc = if is_member { None } else { foreign_workspace(&dir, &root_manifest)? };
            let own_inherit = own_doc.as_ref().map(|d| Inherit { doc: d, root: d.path.parent().unwrap_or(&root) });
            let ws_for_pkg = if is_member && ws_table.is_some() { Some(&inherit) } else { own_inherit.as_ref() };
            let pkg = package_from(&pkg_doc, ws_for_pkg)?;
            for dep in &pkg.deps {
                if let Some(p) = &dep.path {
                    if !p.join("Cargo.toml").is_file() {
                        return Err(pkg_doc.invalid(
                            &dep.package,
                            format!("path dependency `{}` has no Cargo.toml at {}", dep.package, p.display()),
                        ));
                    }
                    queue.push(p.clone());
                }
            }
            if is_member {
                members.insert(dir, pkg);
            } else {
                outside.insert(dir, pkg);
            }
        }
        Ok(Workspace {
            root,
            manifest: doc,
            members: members.into_values().collect(),
            outside_paths: outside.into_values().collect(),
            virtual_root,
        })
    }

    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Package> {
        self.members.iter().find(|p| p.name == name)
    }

    /// A path package (member or outside path dependency) by name and version.
    pub fn path_package(&self, name: &str, version: &str) -> Option<&Package> {
        self.members.iter().chain(&self.outside_paths).find(|p| p.name == name && p.version == version)
    }

    /// `workspace.package.version`, if set.
    pub fn package_version(&self) -> Option<&str> {
        self.manifest.table.get("workspace")?.get("package")?.get("version")?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_components() {
        assert!(glob_component("*", "abc"));
        assert!(glob_component("k3s-*", "k3s-model"));
        assert!(!glob_component("k3s-*", "tools"));
        assert!(glob_component("a?c", "abc"));
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
    }
}
