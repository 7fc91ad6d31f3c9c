//! `k3s-bake cargo`: an OE-Core `cargo` recipe for any Rust workspace, offline (see the `cargo-recipe` crate).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};
use cargo_recipe::recipe::{Options, Recipe, Sources, bitbake_git_url, generate, remote_to_url};

/// Arguments of `k3s-bake cargo`.
#[derive(Debug, clap::Args)]
pub struct CargoArgs {
    /// The workspace (root or member) manifest.
    #[arg(long, value_name = "PATH", default_value = "Cargo.toml")]
    manifest_path: PathBuf,
    /// Package to build (repeatable); default: every workspace member.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    packages: Vec<String>,
    /// Directory the recipe files are written to.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Write nothing; fail with a diff when the files in --out differ from the rendering.
    #[arg(long)]
    check: bool,
    /// Recipe name (default: the only package, else the root package).
    #[arg(long)]
    name: Option<String>,
    /// Recipe version (default: that package's version).
    #[arg(long)]
    version: Option<String>,
    /// Fetch the workspace with file:// from the recipe's own layer (`FILESPATH:prepend := "${THISDIR}/<path to
    /// the workspace root>:"`: --out must be inside the same tree); default: the workspace's git repository (remote
    /// `origin`, checked-out commit).
    #[arg(long)]
    local_sources: bool,
    /// A hand-written include the recipe requires after the generated ones (repeatable).
    #[arg(long = "require", value_name = "FILE")]
    requires: Vec<String>,
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().context("running git")?;
    if !out.status.success() {
        bail!("git {} in {}: {}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The workspace's git repository as a recipe source: remote `origin`, current commit and branch.
fn git_sources(manifest: &Path) -> Result<Sources> {
    // The workspace root (not the manifest given, which may be a member's) is what CARGO_SRC_DIR is relative to.
    let ws = cargo_recipe::manifest::Workspace::load(manifest)?;
    let dir = ws.root.canonicalize().with_context(|| format!("resolving {}", ws.root.display()))?;
    let top = PathBuf::from(git(&dir, &["rev-parse", "--show-toplevel"]).context(
        "the workspace is not in a git repository; pass --local-sources VAR to fetch it with file:// instead",
    )?);
    let remote = git(&dir, &["remote", "get-url", "origin"]).context("the git repository has no remote `origin`")?;
    let url = remote_to_url(&remote).with_context(|| format!("remote `{remote}` is not a URL"))?;
    let uri = bitbake_git_url(&url).with_context(|| format!("remote `{remote}`: not http(s)/ssh/git/file"))?;
    let commit = git(&dir, &["rev-parse", "HEAD"])?;
    if !git(&dir, &["status", "--porcelain", "--untracked-files=no"])?.is_empty() {
        eprintln!(
            "k3s-bake cargo: warning: {} has uncommitted changes; the recipe builds commit {commit}",
            top.display()
        );
    }
    let branch = git(&dir, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    let branch = if branch == "HEAD" { "nobranch=1".to_owned() } else { format!("branch={branch}") };
    let subdir = dir.strip_prefix(&top).unwrap_or(Path::new("")).to_string_lossy().into_owned();
    Ok(Sources::Git { uri: format!("{uri};{branch}"), commit, subdir })
}

/// `${THISDIR}/<relative path from --out to the workspace root>`.
fn local_sources(args: &CargoArgs) -> Result<Sources> {
    let ws = cargo_recipe::manifest::Workspace::load(&args.manifest_path)?;
    let root = ws.root.canonicalize().with_context(|| format!("resolving {}", ws.root.display()))?;
    if !args.check {
        std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    }
    let out = args.out.canonicalize().with_context(|| format!("resolving {}", args.out.display()))?;
    let common = out.ancestors().find(|a| root.starts_with(a)).unwrap_or(Path::new("/"));
    let ups = out.strip_prefix(common).map(|p| p.components().count()).unwrap_or(0);
    let down = root.strip_prefix(common).unwrap_or(Path::new(""));
    let mut dir = String::from("${THISDIR}");
    for _ in 0..ups {
        dir.push_str("/..");
    }
    if !down.as_os_str().is_empty() {
        dir.push('/');
        dir.push_str(&down.to_string_lossy());
    }
    Ok(Sources::Local { dir })
}

/// The files of a recipe with the standalone header (not the `gen` marker: these files are not in the registry).
pub fn files(recipe: &Recipe, regenerate: &str) -> Vec<(String, String)> {
    let header = format!(
        "# Written by `k3s-bake cargo` from Cargo.toml and Cargo.lock. Do not edit by hand.\n# Regenerate with: {regenerate}\n"
    );
    vec![
        (recipe.bb_name(), format!("{header}\n{}", recipe.bb)),
        (recipe.crates_name(), format!("{header}\n{}", recipe.crates_inc)),
        (recipe.licenses_name(), format!("{header}\n{}", recipe.licenses_inc)),
    ]
}

/// Runs `k3s-bake cargo`.
pub fn run(args: CargoArgs) -> Result<ExitCode> {
    let sources = if args.local_sources { local_sources(&args)? } else { git_sources(&args.manifest_path)? };
    let opts = Options {
        packages: args.packages.clone(),
        name: args.name.clone(),
        version: args.version.clone(),
        sources,
        requires: args.requires.clone(),
        cargo_home: None,
    };
    let recipe = generate(&args.manifest_path, &opts)?;
    for w in &recipe.warnings {
        eprintln!("k3s-bake cargo: warning: {w}");
    }
    let regenerate = std::iter::once("k3s-bake".to_owned()).chain(std::env::args().skip(1)).collect::<Vec<_>>();
    let regenerate = regenerate.join(" ").replace(" --check", "");
    let mut drift = 0;
    for (name, contents) in files(&recipe, &regenerate) {
        let path = args.out.join(&name);
        let old = std::fs::read_to_string(&path).ok();
        if args.check {
            match old {
                Some(old) if old == contents => {}
                Some(old) => {
                    drift += 1;
                    let diff = similar::TextDiff::from_lines(&old, &contents)
                        .unified_diff()
                        .header(&format!("a/{name}"), &format!("b/{name}"))
                        .to_string();
                    eprintln!("{} differs from its rendering:\n{diff}", path.display());
                }
                None => {
                    drift += 1;
                    eprintln!("{} is missing", path.display());
                }
            }
        } else if old.as_deref() != Some(contents.as_str()) {
            std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
            k3s_atomic::write(&path, contents.as_bytes(), k3s_atomic::MODE_PUBLIC)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if drift > 0 {
        bail!("{drift} recipe file(s) out of date; run `{regenerate}`");
    }
    Ok(ExitCode::SUCCESS)
}
