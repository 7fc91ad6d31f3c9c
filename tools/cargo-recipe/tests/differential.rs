//! Differential test: the resolver here (`cargo_recipe::features`) against cargo's own answer, `cargo tree -e
//! normal,no-proc-macro --target T` (run for real, offline), for each of the three triples separately, on real
//! workspaces with real crates from the local cargo cache:
//! - this repository's two workspaces (the node tools in meta-k3s-rs/, the host tools with k3s-bake with ureq/rustls/ring and its
//!   `cfg(target_arch …)` dependencies, rustix/getrandom/windows-sys, workspace inheritance, path dependencies);
//! - a workspace written here from crates this repository locks: renamed dependencies (`package =`), optional
//!   dependencies named by `dep:`, `crate/feature` and weak `crate?/feature` values and by implicit features,
//!   `default-features = false`, inherited dependencies adding features, `cfg(target_arch)`, `cfg(not(…))`,
//!   `cfg(windows)`, a triple spec, build- and dev-dependencies;
//! - `benches/cargo-recipe/fetcher` (tokio + reqwest, 120 locked packages): ignored unless its crates were fetched
//!   (`cargo fetch --locked --manifest-path benches/cargo-recipe/fetcher/Cargo.toml`; .ci/test.d/40-cargo-e2e.sh
//!   does, then runs it with `--ignored`).
//!
//! The crates come from `cargo fetch --locked` of this repository (.ci/test runs it first).

use std::path::{Path, PathBuf};

use cargo_recipe::cache::Cache;
use cargo_recipe::features::{Outcome, resolve};
use cargo_recipe::lock::Lockfile;
use cargo_recipe::manifest::Workspace;
use cargo_recipe::resolve::{DEFAULT_TARGETS, Query, ask_cargo_per_target};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn targets() -> Vec<String> {
    DEFAULT_TARGETS.iter().map(|t| (*t).to_owned()).collect()
}

/// Compares both answers for every selection (`[]`: the whole workspace); returns how many packages were compared.
fn compare(manifest: &Path, selections: &[&[&str]]) -> usize {
    let ws = Workspace::load(manifest).unwrap();
    let lock = Lockfile::load(&ws.root.join("Cargo.lock")).unwrap();
    let home = cargo_recipe::archive::cargo_home();
    let targets = targets();
    let mut compared = 0;
    for sel in selections {
        let packages: Vec<String> = sel.iter().map(|s| (*s).to_owned()).collect();
        let ours = match resolve(&ws, &lock, &packages, &targets, &home, &Cache::disabled()).unwrap() {
            Outcome::Answer { per_target, .. } => per_target,
            Outcome::Unsupported(why) => panic!("{}: {sel:?} handed to cargo: {why}", manifest.display()),
        };
        let q = Query { manifest, packages: &packages, targets: &targets, cargo_home: None };
        let cargo = ask_cargo_per_target(&q).unwrap();
        for ((t, a), (_, b)) in ours.iter().zip(&cargo) {
            let only_ours: Vec<_> = a.difference(b).map(|p| format!("{} {}", p.name, p.version)).collect();
            let only_cargo: Vec<_> = b.difference(a).map(|p| format!("{} {}", p.name, p.version)).collect();
            assert!(
                only_ours.is_empty() && only_cargo.is_empty(),
                "{} {sel:?} on {t}: only the resolver {only_ours:?}, only cargo tree {only_cargo:?}",
                manifest.display()
            );
            compared += a.len();
        }
    }
    compared
}

#[test]
fn this_repository_resolves_as_cargo_does_on_every_target() {
    // The host tools' workspace (its path dependencies on meta-k3s-rs/* inherit from that workspace) and the
    // target crates' own workspace, what the node recipe builds.
    let n = compare(
        &repo().join("Cargo.toml"),
        &[&[], &["k3s-bake"], &["cargo-recipe"], &["go-resolve"], &["k3s-standin"]],
    );
    assert!(n > 100, "{n}");
    let n = compare(&repo().join("meta-k3s-rs/Cargo.toml"), &[&[], &["k3s-node"], &["k3s-kconfig"]]);
    assert!(n > 10, "{n}");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A workspace of crates this repository locks, exercising the feature rules; resolved offline.
fn synthetic() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    write(
        &ws.join("Cargo.toml"),
        r#"[workspace]
members = ["app", "lib"]
resolver = "2"

[workspace.dependencies]
flate2 = { version = "1", default-features = false }
lib = { path = "lib" }
"#,
    );
    write(
        &ws.join("app/Cargo.toml"),
        r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
lib = { workspace = true, features = ["extra"] }
fs = { package = "filetime", version = "0.2" }
flate2 = { workspace = true, features = ["zlib-rs"] }
tempfile = "3"

[target.'cfg(target_arch = "aarch64")'.dependencies]
memchr = { version = "2", default-features = false }

[target.'cfg(not(target_pointer_width = "64"))'.dependencies]
smallvec = "1"

[target.x86_64-unknown-linux-gnu.dependencies]
itoa = "1"

[target.'cfg(windows)'.dependencies]
windows-sys = { version = "0.61", features = ["Win32_Foundation"] }

[build-dependencies]
cc = "1"

[dev-dependencies]
similar = "2"
"#,
    );
    write(&ws.join("app/src/main.rs"), "fn main() {}\n");
    write(
        &ws.join("lib/Cargo.toml"),
        r#"[package]
name = "lib"
version = "0.1.0"
edition = "2021"

[features]
default = ["std"]
std = ["memchr?/std"]
extra = ["dep:serde", "serde?/derive", "log", "indexmap/std"]
never = ["dep:anyhow"]

[dependencies]
serde = { version = "1", optional = true, default-features = false }
log = { version = "0.4", optional = true }
indexmap = { version = "2", optional = true, default-features = false }
anyhow = { version = "1", optional = true }
memchr = { version = "2", optional = true, default-features = false }
"#,
    );
    write(&ws.join("lib/src/lib.rs"), "");
    // Resolved offline against this repository's Cargo.lock: the locked (and fetched) versions are kept.
    std::fs::copy(repo().join("Cargo.lock"), ws.join("Cargo.lock")).unwrap();
    let o = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--offline", "--format-version", "1", "--manifest-path"])
        .arg(ws.join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

#[test]
fn features_renames_and_target_tables_resolve_as_cargo_does() {
    let dir = synthetic();
    let n = compare(&dir.path().join("Cargo.toml"), &[&["app"], &["lib"], &[]]);
    assert!(n > 20, "{n}");
}

#[test]
fn what_the_resolver_does_not_cover_is_handed_to_cargo_with_the_reason() {
    let dir = synthetic();
    let ws = dir.path();
    let why = |targets: &[&str]| {
        let w = Workspace::load(&ws.join("Cargo.toml")).unwrap();
        let lock = Lockfile::load(&ws.join("Cargo.lock")).unwrap();
        let targets: Vec<String> = targets.iter().map(|t| (*t).to_owned()).collect();
        let home = cargo_recipe::archive::cargo_home();
        match resolve(&w, &lock, &[], &targets, &home, &Cache::disabled()).unwrap() {
            Outcome::Answer { .. } => String::new(),
            Outcome::Unsupported(why) => why,
        }
    };
    assert_eq!(why(&["x86_64-unknown-linux-gnu"]), "");
    assert!(why(&["riscv64gc-unknown-linux-gnu"]).contains("no recorded cfg facts"));
    // Rustflags can change every cfg.
    write(&ws.join(".cargo/config.toml"), "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n");
    assert!(why(&["x86_64-unknown-linux-gnu"]).contains("sets `build.rustflags`"));
    std::fs::remove_file(ws.join(".cargo/config.toml")).unwrap();
    // A requirement Cargo.lock does not satisfy (a manifest edited after the lock): cargo says it is out of date.
    let app = ws.join("app/Cargo.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("tempfile = \"3\"", "tempfile = \"2\"")).unwrap();
    assert!(why(&["x86_64-unknown-linux-gnu"]).contains("Cargo.lock locks no tempfile matching `^2`"));
    // A dependency removed from a manifest but still locked.
    std::fs::write(&app, text.replace("tempfile = \"3\"\n", "")).unwrap();
    assert!(why(&["x86_64-unknown-linux-gnu"]).contains("Cargo.lock records tempfile as a dependency of app"));
    std::fs::write(&app, &text).unwrap();
    // Resolver 1 unifies features over everything.
    let root = ws.join("Cargo.toml");
    let r = std::fs::read_to_string(&root).unwrap();
    std::fs::write(&root, r.replace("resolver = \"2\"", "resolver = \"1\"")).unwrap();
    assert!(why(&["x86_64-unknown-linux-gnu"]).starts_with("resolver 1"));
}

#[test]
#[ignore = "needs the crates of benches/cargo-recipe/fetcher: cargo fetch --locked --manifest-path benches/cargo-recipe/fetcher/Cargo.toml"]
fn tokio_reqwest_client_resolves_as_cargo_does() {
    // A copy: cargo writes nothing into the repository.
    let dir = tempfile::tempdir().unwrap();
    let src = repo().join("benches/cargo-recipe/fetcher");
    for f in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        write(&dir.path().join(f), &std::fs::read_to_string(src.join(f)).unwrap());
    }
    let n = compare(&dir.path().join("Cargo.toml"), &[&[]]);
    assert!(n > 150, "{n}");
}
