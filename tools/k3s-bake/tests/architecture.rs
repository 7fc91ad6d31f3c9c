//! The architecture invariants of ARCHITECTURE.md ("Invariants"), checked against what cargo resolves for the two
//! workspaces (`cargo metadata --offline --locked`: the host tools at the root, the crates baked into images in
//! `meta-k3s-rs/`) and against the crate roots. A change that breaks one fails here with the invariant's name, not
//! later as a bigger image or a host crate on the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The target workspace, relative to the repository root.
const TARGET_WS: &str = "meta-k3s-rs";

/// `cargo metadata` of the workspace whose root manifest is `<repo>/<dir>/Cargo.toml`.
fn metadata(dir: &str, no_deps: bool) -> Value {
    let root = workspace_root();
    let manifest = root.join(dir).join("Cargo.toml");
    let mut args = vec!["metadata", "--format-version", "1", "--offline", "--locked", "--manifest-path"];
    args.push(manifest.to_str().expect("UTF-8 path"));
    if no_deps {
        args.push("--no-deps");
    }
    let out = Command::new(env!("CARGO")).args(&args).current_dir(&root).output().expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata ({dir}): {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

struct Member {
    name: String,
    dir: PathBuf,
    /// (dependency name, kind: None = normal, "dev", "build")
    deps: Vec<(String, Option<String>)>,
    /// Directories of path dependencies, relative to the repository root when inside it.
    path_deps: Vec<PathBuf>,
    roots: Vec<PathBuf>,
}

/// The members of both workspaces.
fn members() -> Vec<Member> {
    let root = workspace_root();
    [".", TARGET_WS]
        .iter()
        .flat_map(|ws| metadata(ws, true)["packages"].as_array().expect("packages").clone())
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("manifest_path"));
            Member {
                name: p["name"].as_str().expect("name").to_owned(),
                dir: manifest.parent().expect("manifest dir").strip_prefix(&root).expect("inside root").into(),
                deps: p["dependencies"]
                    .as_array()
                    .expect("dependencies")
                    .iter()
                    .map(|d| (d["name"].as_str().expect("dep name").to_owned(), d["kind"].as_str().map(str::to_owned)))
                    .collect(),
                path_deps: p["dependencies"]
                    .as_array()
                    .expect("dependencies")
                    .iter()
                    .filter_map(|d| d["path"].as_str())
                    .map(|d| PathBuf::from(d).strip_prefix(&root).map(Path::to_path_buf).unwrap_or_else(|_| d.into()))
                    .collect(),
                roots: p["targets"]
                    .as_array()
                    .expect("targets")
                    .iter()
                    .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "lib" || k == "bin")))
                    .map(|t| PathBuf::from(t["src_path"].as_str().expect("src_path")))
                    .collect(),
            }
        })
        .collect()
}

fn normal_deps(m: &Member) -> BTreeSet<&str> {
    m.deps.iter().filter(|(_, kind)| kind.is_none()).map(|(n, _)| n.as_str()).collect()
}

/// Crates baked into images (`meta-k3s-rs/`) never depend on host crates (`tools/`), in any dependency kind:
/// a host crate would drag its dependencies into the target recipe's vendored set.
#[test]
fn target_crates_never_depend_on_host_crates() {
    let all = members();
    let host: BTreeSet<&str> = all.iter().filter(|m| m.dir.starts_with("tools")).map(|m| m.name.as_str()).collect();
    for m in all.iter().filter(|m| m.dir.starts_with("meta-k3s-rs")) {
        for (dep, _) in &m.deps {
            assert!(!host.contains(dep.as_str()), "{} (target) depends on {dep} (host crate under tools/)", m.name);
        }
    }
}

/// `meta-k3s-rs/` never depends on `tools/` by path, nor on anything outside its own directory: its workspace must
/// build from that directory alone (the node recipe ships only it, with its own Cargo.lock).
#[test]
fn target_crates_depend_on_nothing_outside_meta_k3s_rs() {
    for m in members().iter().filter(|m| m.dir.starts_with(TARGET_WS)) {
        for dep in &m.path_deps {
            assert!(
                dep.starts_with(TARGET_WS),
                "{} (target) has a path dependency outside {TARGET_WS}/: {}",
                m.name,
                dep.display()
            );
        }
    }
}

/// Target and host are two workspaces: `meta-k3s-rs/` is its own workspace root holding exactly the target crates,
/// the root workspace holds the tools and excludes it. Cargo inherits nothing across workspaces, so the shared
/// package fields and lints are written twice; they must stay equal.
#[test]
fn target_and_host_are_separate_workspaces_with_the_same_package_fields_and_lints() {
    let all = members();
    let root = workspace_root();
    let target = metadata(TARGET_WS, true);
    let target_root = PathBuf::from(target["workspace_root"].as_str().expect("workspace_root"));
    assert_eq!(target_root, root.join(TARGET_WS), "{TARGET_WS}/ must be its own workspace root");
    let host = metadata(".", true);
    for (ws, meta) in [(TARGET_WS, &target), ("tools", &host)] {
        for p in meta["packages"].as_array().expect("packages") {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("manifest_path"));
            assert!(
                manifest.strip_prefix(&root).is_ok_and(|m| m.starts_with(ws)),
                "workspace of {ws}/ has member {}",
                manifest.display()
            );
        }
    }
    assert!(all.iter().any(|m| m.name == "k3s-node") && all.iter().any(|m| m.name == "k3s-bake"));
    let table = |dir: &str| -> toml::Table {
        let path = root.join(dir).join("Cargo.toml");
        std::fs::read_to_string(&path).expect("read manifest").parse().expect("manifest TOML")
    };
    let (target, host) = (table(TARGET_WS), table("."));
    for key in ["package", "lints"] {
        assert_eq!(
            target["workspace"].get(key),
            host["workspace"].get(key),
            "[workspace.{key}] differs between {TARGET_WS}/Cargo.toml and Cargo.toml"
        );
    }
    assert!(
        host.get("profile").is_none(),
        "profiles apply at a workspace root: the release profile of the node tools belongs in {TARGET_WS}/Cargo.toml"
    );
    assert!(
        target.get("profile").and_then(|p| p.get("release")).is_some(),
        "{TARGET_WS}/Cargo.toml lost the node tools' release profile"
    );
}

/// A resolved dependency graph (`cargo metadata` with dependencies): package names by id, edges, members.
struct Graph {
    names: BTreeMap<String, String>,
    edges: BTreeMap<String, Vec<String>>,
    /// (id, manifest path relative to the repository root) of the packages inside the repository.
    local: Vec<(String, PathBuf)>,
}

impl Graph {
    fn of(dir: &str) -> Graph {
        let meta = metadata(dir, false);
        let root = workspace_root();
        let packages = meta["packages"].as_array().expect("packages");
        let id = |v: &Value| v.as_str().expect("id").to_owned();
        Graph {
            names: packages.iter().map(|p| (id(&p["id"]), p["name"].as_str().expect("name").to_owned())).collect(),
            edges: meta["resolve"]["nodes"]
                .as_array()
                .expect("resolve nodes")
                .iter()
                .map(|n| (id(&n["id"]), n["deps"].as_array().expect("deps").iter().map(|d| id(&d["pkg"])).collect()))
                .collect(),
            local: packages
                .iter()
                .filter_map(|p| {
                    let manifest = Path::new(p["manifest_path"].as_str().expect("manifest_path"));
                    Some((id(&p["id"]), manifest.strip_prefix(&root).ok()?.to_path_buf()))
                })
                .collect(),
        }
    }

    /// Names of the packages reachable (any dependency kind, any platform) from the local packages under `dir`.
    fn reach_from(&self, dir: &str) -> BTreeSet<String> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> =
            self.local.iter().filter(|(_, m)| m.starts_with(dir)).map(|(id, _)| id.as_str()).collect();
        while let Some(id) = todo.pop() {
            if seen.insert(id) {
                todo.extend(self.edges.get(id).into_iter().flatten().map(String::as_str));
            }
        }
        seen.iter().map(|id| self.names[*id].clone()).collect()
    }
}

/// The package names `<repo>/<dir>/Cargo.lock` locks.
fn locked(dir: &str) -> BTreeSet<String> {
    let path = workspace_root().join(dir).join("Cargo.lock");
    let text = std::fs::read_to_string(&path).expect("read Cargo.lock");
    text.lines().filter_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"')).map(str::to_owned).collect()
}

/// `meta-k3s-rs/Cargo.lock` (what the node recipe vendors) holds what the target workspace resolves and no
/// host-only crate: none of the tools, nothing that in the host workspace only the tools reach (network, TLS,
/// archives, the generator's formats).
#[test]
fn the_node_lock_holds_no_host_only_crate() {
    let host = Graph::of(".");
    let target = Graph::of(TARGET_WS).reach_from(TARGET_WS);
    let host_only: BTreeSet<String> = host
        .reach_from("tools/")
        .into_iter()
        .filter(|n| !target.contains(n))
        .filter(|n| !host.reach_from("meta-k3s-rs/").contains(n))
        .collect();
    assert!(host_only.contains("k3s-bake") && host_only.contains("toml"), "host-only set looks wrong: {host_only:?}");
    let node_lock = locked(TARGET_WS);
    let leaked: Vec<_> = node_lock.intersection(&host_only).collect();
    assert!(leaked.is_empty(), "{TARGET_WS}/Cargo.lock locks host-only crates: {leaked:?}");
    let unresolved: Vec<_> = node_lock.difference(&target).collect();
    assert!(
        unresolved.is_empty(),
        "{TARGET_WS}/Cargo.lock locks crates its workspace does not resolve: {unresolved:?}"
    );
}

/// `k3s-model` is a dependency-free table of facts; `k3s-atomic` is std only.
#[test]
fn model_and_atomic_have_no_dependencies() {
    for m in members().iter().filter(|m| m.name == "k3s-model" || m.name == "k3s-atomic") {
        assert_eq!(normal_deps(m), BTreeSet::new(), "{} must stay dependency-free", m.name);
    }
}

/// Every dependency of the node tools lands on small boards: the set is deliberate (k3s-node/Cargo.toml says
/// why each one is there). Adding one means changing this list and that comment together.
#[test]
fn node_tools_dependency_set_is_the_reviewed_one() {
    let all = members();
    let node = all.iter().find(|m| m.name == "k3s-node").expect("k3s-node member");
    let want: BTreeSet<&str> =
        ["anyhow", "clap", "k3s-atomic", "k3s-kconfig", "k3s-model", "rustix", "thiserror"].into_iter().collect();
    assert_eq!(normal_deps(node), want, "k3s-node's normal dependencies changed");
    let kconfig = all.iter().find(|m| m.name == "k3s-kconfig").expect("k3s-kconfig member");
    let want: BTreeSet<&str> = ["k3s-model", "miniz_oxide", "thiserror"].into_iter().collect();
    assert_eq!(normal_deps(kconfig), want, "k3s-kconfig's normal dependencies changed");
}

/// No `unsafe` anywhere in the workspace's crates: every library and binary root forbids it (k3s-node reaches
/// the kernel through rustix's safe wrappers).
#[test]
fn every_crate_root_forbids_unsafe_code() {
    for m in members() {
        for root in &m.roots {
            let text = std::fs::read_to_string(root).expect("read crate root");
            assert!(
                text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
                "{}: {} lacks #![forbid(unsafe_code)]",
                m.name,
                root.display()
            );
        }
    }
}

/// `k3s-bake` as `gen --check` builds it (default features) links no network code: the GOPROXY client, TLS and
/// git discovery live in go-resolve, behind the `online` feature.
#[test]
fn offline_k3s_bake_links_no_network_code() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "k3s-bake", "-e", "normal", "--prefix", "none", "--offline", "--locked"])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    for network in ["go-resolve", "k3s-bump", "ureq", "rustls", "ring", "webpki-roots"] {
        assert!(
            !tree.lines().any(|l| l.split_whitespace().next() == Some(network)),
            "offline k3s-bake links {network}:\n{tree}"
        );
    }
}

/// The module dependency graph of one crate (`src/`): nodes are modules (`a`, `dir::b`), an edge `a → b` is a
/// `crate::b…` (or `super::…`) path in `a`'s non-test code; `crate::Item` re-exported at the crate root by
/// `pub use m::{Item, …}` counts as an edge to `m`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    fn strip_tests_and_comments(text: &str) -> String {
        let mut out = String::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let t = line.trim_start();
            // The convention here: `#[cfg(test)] mod tests { … }` closes the file.
            if t == "#[cfg(test)]" && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod ")) {
                break;
            }
            if t.starts_with("//") {
                continue;
            }
            out.push_str(line.split(" // ").next().unwrap_or(line));
            out.push('\n');
        }
        out
    }
    /// The paths of the use tree (or plain path) at the start of `s`, e.g. `a::{b::C, d}` → `[a, b, C]`, `[a, d]`.
    fn use_tree(s: &str) -> Vec<Vec<String>> {
        let s = s.trim_start();
        if let Some(group) = s.strip_prefix('{') {
            let (mut depth, mut start, mut out) = (0usize, 0usize, Vec::new());
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.extend(use_tree(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(use_tree(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return out;
        }
        let ident: String = s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if ident.is_empty() {
            return Vec::new();
        }
        match s[ident.len()..].strip_prefix("::") {
            Some(rest) => {
                let subs = use_tree(rest);
                if subs.is_empty() {
                    vec![vec![ident]]
                } else {
                    subs.into_iter().map(|p| [vec![ident.clone()], p].concat()).collect()
                }
            }
            None => vec![vec![ident]],
        }
    }
    /// Every path after a `crate::` / `super::` in `code`.
    fn paths(code: &str, prefix: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + prefix.len()..];
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                out.extend(use_tree(rest));
            }
        }
        out
    }

    // Modules: src/x.rs → x, src/d/mod.rs → d, src/d/y.rs → d::y (one level deep, as in this repository).
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(src).expect("read src").map(|e| e.expect("entry").path()) {
        let stem = e.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if e.is_dir() {
            for f in std::fs::read_dir(&e).expect("read dir").map(|f| f.expect("entry").path()) {
                let sub = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                if f.extension().is_some_and(|x| x == "rs") {
                    let name = if sub == "mod" { stem.clone() } else { format!("{stem}::{sub}") };
                    files.insert(name, f);
                }
            }
        } else if e.extension().is_some_and(|x| x == "rs") {
            if stem == "lib" || stem == "main" {
                roots.push(e);
            } else {
                files.insert(stem, e);
            }
        }
    }
    // Root re-exports: `pub use m::{A, B};` / `pub use m::A;`.
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for root in &roots {
        let code = strip_tests_and_comments(&std::fs::read_to_string(root).expect("read crate root"));
        for stmt in code.split(';') {
            let Some(u) = stmt.trim().strip_prefix("pub use ") else { continue };
            let u = u.trim_start_matches("crate::").trim_start_matches("self::");
            let Some((m, items)) = u.split_once("::") else { continue };
            if !files.contains_key(m) {
                continue;
            }
            for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
                let item = item.trim().rsplit(" as ").next().unwrap_or_default().trim();
                if !item.is_empty() {
                    reexports.insert(item.to_owned(), m.to_owned());
                }
            }
        }
    }
    let node = |segs: &[String], parent: Option<&str>| -> Option<String> {
        let first = segs.first()?;
        let scoped = parent.map(|p| format!("{p}::{first}"));
        let top = match &scoped {
            Some(s) if files.contains_key(s) => s.clone(),
            Some(_) => parent?.to_owned(),
            None if files.contains_key(first) => first.clone(),
            None => return reexports.get(first).cloned(),
        };
        match segs.get(1) {
            Some(second) if parent.is_none() && files.contains_key(&format!("{top}::{second}")) => {
                Some(format!("{top}::{second}"))
            }
            _ => Some(top),
        }
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in &files {
        let code = strip_tests_and_comments(&std::fs::read_to_string(file).expect("read module"));
        let parent = name.split_once("::").map(|(p, _)| p);
        let mut deps: BTreeSet<String> = BTreeSet::new();
        deps.extend(paths(&code, "crate::").iter().filter_map(|p| node(p, None)));
        if let Some(parent) = parent {
            deps.extend(paths(&code, "super::").iter().filter_map(|p| node(p, Some(parent))));
        }
        deps.remove(name);
        graph.insert(name.clone(), deps);
    }
    graph
}

/// A cycle through `start` in `graph`, as the path of modules, if any.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

/// Module dependencies within a crate point one way (no `a → … → a`): in k3s-bake the CLI edges use the registry
/// of generated files, which names the renderers, which read only the context and the inputs; in go-facts the
/// store knows nothing of licence detection. A cycle makes a module impossible to change or test alone (the node
/// recipe was rendered three times per `gen` because generated.rs and render/* needed each other).
#[test]
fn no_module_dependency_cycles_in_any_crate() {
    let mut cycles = Vec::new();
    for m in members() {
        let src = workspace_root().join(&m.dir).join("src");
        let graph = module_graph(&src);
        for start in graph.keys() {
            if let Some(c) = cycle_through(&graph, start) {
                cycles.push(format!("{}: {}", m.name, c.join(" → ")));
                break;
            }
        }
    }
    assert!(cycles.is_empty(), "module dependency cycles:\n{}", cycles.join("\n"));
}

/// The cycle finder itself, on the shapes it must see through: grouped `use crate::{…}`, root re-exports,
/// submodules reached by `crate::dir::x` and `super::`.
#[test]
fn the_module_cycle_finder_sees_grouped_uses_reexports_and_submodules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir(src.join("render")).expect("mkdir");
    let write = |p: &str, t: &str| std::fs::write(src.join(p), t).expect("write");
    write("lib.rs", "mod store;\nmod generated;\nmod render;\npub use store::{Facts, Error};\n");
    write("store.rs", "// use crate::generated; (a comment is no edge)\npub struct Facts;\n");
    write("generated.rs", "use crate::{Facts, render::{node::X, other}};\n");
    write("render/mod.rs", "pub mod node;\npub mod other;\n");
    write("render/other.rs", "use super::node;\n");
    write("render/node.rs", "use crate::store::Facts;\n#[cfg(test)]\nmod tests {\n    use crate::generated;\n}\n");
    let graph = module_graph(src);
    let deps = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(deps("generated"), ["render::node", "render::other", "store"]);
    assert_eq!(deps("render::other"), ["render::node"]);
    assert_eq!(deps("render::node"), ["store"], "test code counts as no edge");
    assert!(deps("store").is_empty());
    assert!(graph.keys().all(|k| cycle_through(&graph, k).is_none()));
    write("store.rs", "use crate::render::other;\n");
    let graph = module_graph(src);
    let cycle = cycle_through(&graph, "store").expect("store → render::other → render::node → store");
    assert_eq!(cycle, ["store", "render::other", "render::node", "store"]);
}
