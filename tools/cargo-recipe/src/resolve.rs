//! Which packages the target build links, as cargo itself answers: the fallback and the verifier of
//! [`crate::features`], which works the same answer out without running cargo.
//!
//! Cargo.lock holds the union of every feature of every member on every platform (optional dependencies named only
//! by a weak feature included), so walking it over-approximates what one package links. Features are resolved per
//! build, for the packages built together, on the target. `cargo tree -e normal,no-proc-macro --target T -p P…`
//! runs cargo's feature resolver for exactly the build the recipe runs (`-p P…` or `--workspace`, default
//! features, no dev-dependencies) and prints the target units reached through normal edges; proc-macros (and
//! everything only they use) and build-dependencies run on the build host and are not linked. It is run once per
//! target ([`ask_cargo_per_target`]): one call with several `--target`s unifies features over them, while each
//! machine's build sees only its own. `cargo metadata` is no substitute: its `resolve` unifies features over the
//! whole workspace and its dev-dependencies. `--offline --locked` keeps it offline and refuses a Cargo.lock that
//! does not match the manifests, which is also the check that a recipe built with `--frozen` can build at all.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Rust target triples standing in for the layer's machines (qemux86-64, qemuarm64, qemuarm): OE-Core builds with
/// its own `<arch>-<vendor>-linux-gnu*` targets, whose cfg values equal these apart from `target_vendor`.
pub const DEFAULT_TARGETS: &[&str] =
    &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf"];

/// Where a linked package comes from, as `cargo tree` prints it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A registry (crates.io, or a replacement of it).
    Registry,
    /// A path package (member or path dependency).
    Path,
    /// A git repository.
    Git,
}

/// One package of the build.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PkgId {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source kind.
    pub origin: Origin,
}

/// Every package linked on at least one of the targets (the selected packages themselves included).
pub type Linked = BTreeSet<PkgId>;

/// What to ask cargo.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The workspace root manifest.
    pub manifest: &'a Path,
    /// Packages built together (`-p`); empty: `--workspace`.
    pub packages: &'a [String],
    /// Target triples.
    pub targets: &'a [String],
    /// `CARGO_HOME` for cargo, when not the environment's.
    pub cargo_home: Option<&'a Path>,
}

pub use crate::toolchain::cargo_program;

/// A triple as cargo accepts it on the command line (and as it may appear in a cache key): no options, no spaces.
pub fn valid_target(t: &str) -> bool {
    !t.is_empty() && !t.starts_with('-') && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The arguments of the `cargo tree` call, shared by [`ask_cargo`] and the cache key.
pub fn tree_args(q: &Query) -> Vec<String> {
    let mut args: Vec<String> = [
        "tree",
        "--offline",
        "--locked",
        "--quiet",
        "--color=never",
        "--charset=ascii",
        "-e",
        "normal,no-proc-macro",
        "--prefix=none",
        "--format={p}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if q.packages.is_empty() {
        args.push("--workspace".into());
    }
    for p in q.packages {
        args.push("-p".into());
        args.push(p.clone());
    }
    for t in q.targets {
        args.push("--target".into());
        args.push(t.clone());
    }
    args
}

/// Runs `cargo tree` (offline, locked) and parses its answer.
pub fn ask_cargo(q: &Query) -> Result<Linked> {
    if let Some(bad) = q.targets.iter().find(|t| !valid_target(t)) {
        return Err(Error::Usage(format!("target `{bad}`: not a target triple")));
    }
    if q.targets.is_empty() {
        return Err(Error::Usage("no target triple to resolve the build for".into()));
    }
    let root = q.manifest.parent().unwrap_or(Path::new("."));
    let program = cargo_program();
    let mut cmd = Command::new(&program);
    if let Some(h) = q.cargo_home {
        cmd.env("CARGO_HOME", h);
    }
    let out = cmd
        .args(tree_args(q))
        .arg("--manifest-path")
        .arg(q.manifest)
        // Cargo reads `.cargo/config.toml` from the directory it runs in upwards: run it where `cargo build` of
        // the workspace would, whatever directory the tool was started from.
        .current_dir(root)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .map_err(|e| {
            Error::Usage(format!("running {}: {e} (cargo is needed to resolve the build)", program.display()))
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(cargo_error(q.manifest, stderr.trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_tree(&text)
}

/// `cargo tree` once per target (one build per machine: cargo unifies features over all `--target`s of one call),
/// in the order given.
pub fn ask_cargo_per_target(q: &Query) -> Result<Vec<(String, Linked)>> {
    q.targets
        .iter()
        .map(|t| {
            let one = [t.clone()];
            Ok((t.clone(), ask_cargo(&Query { targets: &one, ..q.clone() })?))
        })
        .collect()
}

/// What the own resolver (`features`) found.
#[derive(Debug)]
pub enum Outcome {
    /// The answer: per target triple (in the order asked), the packages linked.
    Answer {
        /// `(triple, linked)`.
        per_target: Vec<(String, Linked)>,
        /// License facts of registry crates read on the way (by name and version): each linked crate's archive
        /// is opened once, for its manifest and its license texts together.
        facts: std::collections::HashMap<(String, String), crate::archive::CrateFacts>,
    },
    /// This build is beyond the resolver: ask cargo. The reason, for `--timings`.
    Unsupported(String),
}

/// Who works out the linked set: `K3S_BAKE_CARGO_RESOLVE` = `own` (default: [`crate::features`], cargo for what
/// it does not cover), `cargo` (always `cargo tree`), `verify` (both; a difference is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The resolver here, cargo as the fallback.
    Own,
    /// `cargo tree` only.
    Cargo,
    /// Both, compared.
    Verify,
}

impl Mode {
    /// From `K3S_BAKE_CARGO_RESOLVE`.
    pub fn from_env() -> Result<Mode> {
        match std::env::var("K3S_BAKE_CARGO_RESOLVE").as_deref() {
            Err(_) | Ok("" | "own") => Ok(Mode::Own),
            Ok("cargo") => Ok(Mode::Cargo),
            Ok("verify") => Ok(Mode::Verify),
            Ok(other) => {
                Err(Error::Usage(format!("K3S_BAKE_CARGO_RESOLVE=`{other}`: expected `own`, `cargo` or `verify`")))
            }
        }
    }

    /// Its part of the cache key (a format version of the resolver included).
    pub fn key(self) -> &'static str {
        match self {
            Mode::Own | Mode::Verify => "own-v1",
            Mode::Cargo => "cargo-per-target-v1",
        }
    }
}

/// How the answer was reached.
#[derive(Debug)]
pub struct How {
    /// For `--timings`.
    pub said: String,
    /// License facts the resolver read on the way (by name and version).
    pub facts: Option<std::collections::HashMap<(String, String), crate::archive::CrateFacts>>,
}

/// The packages linked on any target, worked out as `mode` says; `own` runs the resolver here.
pub fn linked(q: &Query, mode: Mode, own: impl FnOnce() -> Result<Outcome>) -> Result<(Linked, How)> {
    let union = |per: &[(String, Linked)]| per.iter().flat_map(|(_, l)| l.iter().cloned()).collect::<Linked>();
    if mode == Mode::Cargo {
        let per = ask_cargo_per_target(q)?;
        return Ok((union(&per), How { said: "cargo tree, K3S_BAKE_CARGO_RESOLVE=cargo".into(), facts: None }));
    }
    match own()? {
        Outcome::Answer { per_target, facts } => {
            if mode == Mode::Verify {
                let theirs = ask_cargo_per_target(q)?;
                for ((t, ours), (_, cargo)) in per_target.iter().zip(&theirs) {
                    if ours != cargo {
                        let show = |s: &mut dyn Iterator<Item = &PkgId>| {
                            s.map(|p| format!("{} {}", p.name, p.version)).collect::<Vec<_>>().join(", ")
                        };
                        return Err(Error::Usage(format!(
                            "{}: the resolver and cargo tree disagree for {t}: only here [{}], only cargo [{}]",
                            q.manifest.display(),
                            show(&mut ours.difference(cargo)),
                            show(&mut cargo.difference(ours))
                        )));
                    }
                }
            }
            let said = if mode == Mode::Verify { "resolved here, equal to cargo tree" } else { "resolved here" };
            Ok((union(&per_target), How { said: said.into(), facts: Some(facts) }))
        }
        Outcome::Unsupported(reason) => {
            let per = ask_cargo_per_target(q)?;
            Ok((union(&per), How { said: format!("cargo tree: {reason}"), facts: None }))
        }
    }
}

/// Turns cargo's refusal into an error that says what to do.
fn cargo_error(manifest: &Path, stderr: &str) -> Error {
    let lock = manifest.with_file_name("Cargo.lock");
    let said = stderr.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n  ");
    if stderr.contains("needs to be updated") || stderr.contains("lock file") && stderr.contains("--locked") {
        Error::StaleLock { lock, cargo: said }
    } else if stderr.contains("offline") || stderr.contains("failed to download") || stderr.contains("not downloaded") {
        Error::Usage(format!(
            "cargo cannot resolve {} offline; run `cargo fetch --locked` in the workspace first. cargo said:\n  {said}",
            manifest.display()
        ))
    } else {
        Error::Usage(format!("cargo tree on {} failed:\n  {said}", manifest.display()))
    }
}

/// Parses `cargo tree --prefix=none --format={p}` output: one block per root package and target, separated by an
/// empty line; each line `NAME vVERSION[ (SOURCE)][ (*)]`. The union is taken: one recipe serves every target, so
/// a crate linked on any of them is part of its LICENSE.
pub fn parse_tree(text: &str) -> Result<Linked> {
    text.lines().filter(|l| !l.trim().is_empty()).map(parse_line).collect()
}

fn parse_line(line: &str) -> Result<PkgId> {
    let bad = || Error::Usage(format!("cannot read cargo tree line `{line}`"));
    let line = line.trim().strip_suffix(" (*)").unwrap_or(line.trim());
    let mut parts = line.splitn(3, ' ');
    let name = parts.next().filter(|n| !n.is_empty()).ok_or_else(bad)?;
    let version = parts.next().and_then(|v| v.strip_prefix('v')).ok_or_else(bad)?;
    let origin = match parts.next() {
        None => Origin::Registry,
        Some(s) if s.starts_with("(registry ") => Origin::Registry,
        Some(s) if s.starts_with("(/") => Origin::Path,
        Some(s) if s.starts_with('(') && s.contains('#') => Origin::Git,
        Some(s) if s.starts_with("(proc-macro)") => return Err(bad()),
        Some(_) => return Err(bad()),
    };
    Ok(PkgId { name: name.to_owned(), version: version.to_owned(), origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_output_is_read_with_sources() {
        let text = "app v1.0.0 (/w/app)\nlibc v0.2.1\ngitdep v0.3.0 (file:///r?branch=main#abc)\nlibc v0.2.1 (*)\n\n\
                    app v1.0.0 (/w/app)\nextra v1.0.0 (registry `mine`)\n";
        let l = parse_tree(text).unwrap();
        let got: Vec<_> = l.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.origin.clone())).collect();
        assert_eq!(
            got,
            [
                ("app", "1.0.0", Origin::Path),
                ("extra", "1.0.0", Origin::Registry),
                ("gitdep", "0.3.0", Origin::Git),
                ("libc", "0.2.1", Origin::Registry)
            ]
        );
        assert!(parse_tree("what\n").is_err());
        assert!(parse_tree("pm v1.0.0 (proc-macro)\n").is_err(), "proc-macros are excluded by the query");
    }

    #[test]
    fn triples_are_validated() {
        assert!(valid_target("armv7-unknown-linux-gnueabihf"));
        assert!(!valid_target("--config=x"));
        assert!(!valid_target("a b"));
    }
}
