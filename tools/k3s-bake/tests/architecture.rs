//! The architecture invariants of ARCHITECTURE.md ("Invariants"), checked against what cargo resolves for this
//! workspace (`cargo metadata --offline --locked`) and against the crate roots. A change that breaks one fails
//! here with the invariant's name, not later as a bigger image or a host crate on the target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

struct Member {
    name: String,
    dir: PathBuf,
    /// (dependency name, kind: None = normal, "dev", "build")
    deps: Vec<(String, Option<String>)>,
    roots: Vec<PathBuf>,
}

fn members() -> Vec<Member> {
    let root = workspace_root();
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--locked"])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
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
