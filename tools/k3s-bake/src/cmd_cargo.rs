//! `k3s-bake cargo`: an OE-Core `cargo` recipe for any Rust workspace, offline (see the `cargo-recipe` crate).

use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};
use cargo_recipe::cache::Cache;
use cargo_recipe::manifest::Workspace;
use cargo_recipe::recipe::{Options, Recipe, Sources, bitbake_git_url, generate, remote_to_url};
use cargo_recipe::resolve::DEFAULT_TARGETS;

/// Arguments of `k3s-bake cargo`.
#[derive(Debug, clap::Args)]
pub struct CargoArgs {
    /// The workspace (root or member) manifest; a member's manifest without -p selects that member.
    #[arg(long, value_name = "PATH", default_value = "Cargo.toml")]
    manifest_path: PathBuf,
    /// Package to build (repeatable); default: the member whose manifest --manifest-path names, else every member.
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
    /// `origin`, else the package's `repository`, at the checked-out commit).
    #[arg(long)]
    local_sources: bool,
    /// A hand-written include the recipe requires after the generated ones (repeatable).
    #[arg(long = "require", value_name = "FILE")]
    requires: Vec<String>,
    /// Rust target triple the recipe is built for (repeatable); the licenses cover what any of them links.
    /// Default: the layer's machines (x86_64, aarch64, armv7 linux-gnu).
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
    /// Neither read nor write the cache of license facts and cargo's answers.
    #[arg(long)]
    no_cache: bool,
    /// Print where the time went, phase by phase, on stderr.
    #[arg(long)]
    timings: bool,
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().context("running git")?;
    if !out.status.success() {
        bail!("git {} in {}: {}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The `repository` of the package the recipe is named after: the first `-p`, else the member whose manifest was
/// given, else the root package, else `workspace.package.repository`.
fn manifest_repository(ws: &Workspace, args: &CargoArgs, manifest: &Path) -> Option<String> {
    let by_name = args.packages.first().and_then(|p| ws.member(p));
    let by_dir = manifest.parent().and_then(|d| ws.members.iter().find(|m| m.dir == d));
    by_name
        .or(by_dir)
        .and_then(|p| p.repository.clone())
        .or_else(|| ws.manifest.table.get("workspace")?.get("package")?.get("repository")?.as_str().map(str::to_owned))
}

/// The workspace's git repository as a recipe source: remote `origin` (else the manifest's `repository`), current
/// commit and branch.
fn git_sources(args: &CargoArgs, manifest: &Path) -> Result<Sources> {
    // The workspace root (not the manifest given, which may be a member's) is what CARGO_SRC_DIR is relative to.
    let ws = Workspace::load(manifest)?;
    let dir = ws.root.canonicalize().with_context(|| format!("resolving {}", ws.root.display()))?;
    let top = PathBuf::from(git(&dir, &["rev-parse", "--show-toplevel"]).with_context(|| {
        format!(
            "{} is not in a git repository, so the recipe cannot fetch it from one; commit it to a repository \
             with a remote `origin`, or pass --local-sources to ship the workspace with file:// from the layer",
            dir.display()
        )
    })?);
    let remote = match git(&dir, &["remote", "get-url", "origin"]) {
        Ok(r) => r,
        Err(_) => {
            let Some(repo) = manifest_repository(&ws, args, manifest) else {
                let remotes =
                    git(&dir, &["remote"]).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(", ");
                let remotes = if remotes.is_empty() { "none".to_owned() } else { remotes };
                bail!(
                    "the git repository {} has no remote `origin` (remotes: {remotes}), so the recipe does not know \
                     where to fetch it from. Add one (`git remote add origin URL`), set `repository` in the \
                     package's Cargo.toml, or pass --local-sources to ship the workspace with file://",
                    top.display()
                );
            };
            eprintln!(
                "k3s-bake cargo: warning: {} has no remote `origin`; fetching from the package's repository \
                 {repo} (its commit must be pushed there)",
                top.display()
            );
            repo
        }
    };
    let url = remote_to_url(&remote).with_context(|| format!("remote `{remote}` is not a URL"))?;
    let uri = bitbake_git_url(&url).with_context(|| format!("remote `{remote}`: not http(s)/ssh/git/file"))?;
    let commit = git(&dir, &["rev-parse", "HEAD"])
        .with_context(|| format!("{} has no commit yet: commit the workspace first", top.display()))?;
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

/// `path` made absolute and free of symlinks as far as it exists, without creating anything: the longest existing
/// ancestor is canonicalised and the rest appended.
fn resolve_path(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() { path.to_owned() } else { std::env::current_dir()?.join(path) };
    let mut rest: Vec<Component> = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(c) = base.canonicalize() {
            let mut out = c;
            for comp in rest.iter().rev() {
                match comp {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return Ok(out);
        }
        match (base.parent(), base.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                base = parent;
            }
            _ => bail!("cannot resolve {}", path.display()),
        }
    }
}

/// The relative path from directory `from` to `to` (both absolute, canonical).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let common = from.ancestors().find(|a| to.starts_with(a)).unwrap_or(Path::new("/"));
    let mut out = PathBuf::new();
    for _ in 0..from.strip_prefix(common).map(|p| p.components().count()).unwrap_or(0) {
        out.push("..");
    }
    out.push(to.strip_prefix(common).unwrap_or(to));
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

/// `${THISDIR}/<relative path from --out to the workspace root>`.
fn local_sources(manifest: &Path, out: &Path) -> Result<Sources> {
    let ws = Workspace::load(manifest)?;
    let root = ws.root.canonicalize().with_context(|| format!("resolving {}", ws.root.display()))?;
    let rel = relative(out, &root);
    let dir = if rel == Path::new(".") { "${THISDIR}".to_owned() } else { format!("${{THISDIR}}/{}", rel.display()) };
    Ok(Sources::Local { dir, subdir: String::new() })
}

/// The command that regenerates the files, run from the recipe's directory: relative paths only, so the header is
/// the same on every machine and from every working directory.
fn regenerate_command(args: &CargoArgs, manifest: &Path, out: &Path) -> String {
    let mut cmd = vec!["k3s-bake".to_owned(), "cargo".to_owned()];
    cmd.push("--manifest-path".into());
    cmd.push(relative(out, manifest).display().to_string());
    for p in &args.packages {
        cmd.extend(["-p".to_owned(), p.clone()]);
    }
    if let Some(n) = &args.name {
        cmd.extend(["--name".to_owned(), n.clone()]);
    }
    if let Some(v) = &args.version {
        cmd.extend(["--version".to_owned(), v.clone()]);
    }
    if args.local_sources {
        cmd.push("--local-sources".into());
    }
    for r in &args.requires {
        cmd.extend(["--require".to_owned(), r.clone()]);
    }
    if !args.targets.is_empty() {
        for t in &args.targets {
            cmd.extend(["--target".to_owned(), t.clone()]);
        }
    }
    cmd.extend(["--out".to_owned(), ".".to_owned()]);
    cmd.join(" ")
}

/// The files of a recipe with the standalone header (not the `gen` marker: these files are not in the registry).
pub fn files(recipe: &Recipe, regenerate: &str) -> Vec<(String, String)> {
    let header = format!(
        "# Written by `k3s-bake cargo` from Cargo.toml and Cargo.lock. Do not edit by hand.\n# Regenerate with (in this directory): {regenerate}\n"
    );
    vec![
        (recipe.bb_name(), format!("{header}\n{}", recipe.bb)),
        (recipe.crates_name(), format!("{header}\n{}", recipe.crates_inc)),
        (recipe.licenses_name(), format!("{header}\n{}", recipe.licenses_inc)),
    ]
}

/// Writes `files` into `out` as one step: directories it creates and files it replaced are restored when any write
/// fails, so an error leaves nothing behind. Returns the paths written.
fn write_files(out: &Path, files: &[(String, String)]) -> Result<Vec<PathBuf>> {
    let mut created: Vec<PathBuf> = Vec::new();
    let mut written: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let result = (|| -> Result<()> {
        let mut missing: Vec<&Path> = out.ancestors().take_while(|a| !a.exists()).collect();
        missing.reverse();
        for d in missing {
            std::fs::create_dir(d).with_context(|| format!("creating {}", d.display()))?;
            created.push(d.to_owned());
        }
        for (name, contents) in files {
            let path = out.join(name);
            let old = std::fs::read(&path).ok();
            if old.as_deref() == Some(contents.as_bytes()) {
                continue;
            }
            k3s_atomic::write(&path, contents.as_bytes(), k3s_atomic::MODE_PUBLIC)
                .with_context(|| format!("writing {}", path.display()))?;
            written.push((path, old));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (path, old) in written.iter().rev() {
            let _ = match old {
                Some(bytes) => k3s_atomic::write(path, bytes, k3s_atomic::MODE_PUBLIC),
                None => std::fs::remove_file(path),
            };
        }
        for d in created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(e);
    }
    Ok(written.into_iter().map(|(p, _)| p).collect())
}

/// Runs `k3s-bake cargo`.
pub fn run(args: CargoArgs) -> Result<ExitCode> {
    // Nothing is created before everything is rendered: --out is resolved as far as it exists.
    let out = resolve_path(&args.out)?;
    let manifest = resolve_path(&args.manifest_path)?;
    let sources = if args.local_sources { local_sources(&manifest, &out)? } else { git_sources(&args, &manifest)? };
    let targets: Vec<String> = if args.targets.is_empty() {
        DEFAULT_TARGETS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        args.targets.clone()
    };
    let opts = Options {
        packages: args.packages.clone(),
        name: args.name.clone(),
        version: args.version.clone(),
        sources,
        requires: args.requires.clone(),
        cargo_home: None,
        targets,
        cache: if args.no_cache { Cache::disabled() } else { Cache::default_location() },
        recipe_dir: Some(out.clone()),
    };
    let recipe = generate(&manifest, &opts)?;
    for w in &recipe.warnings {
        eprintln!("k3s-bake cargo: warning: {w}");
    }
    if args.timings {
        for (phase, d) in &recipe.timings {
            eprintln!("k3s-bake cargo: timing: {:>8.2} ms  {phase}", d.as_secs_f64() * 1000.0);
        }
    }
    let regenerate = regenerate_command(&args, &manifest, &out);
    let files = files(&recipe, &regenerate);
    if !args.check {
        for path in write_files(&out, &files)? {
            println!("wrote {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut drift = 0;
    for (name, contents) in &files {
        let path = out.join(name);
        match std::fs::read_to_string(&path).ok() {
            Some(old) if &old == contents => {}
            Some(old) => {
                drift += 1;
                let diff = similar::TextDiff::from_lines(&old, contents)
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
    }
    if drift > 0 {
        bail!("{drift} recipe file(s) out of date; run `{regenerate}` in {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/x/Cargo.toml")), PathBuf::from("../../x/Cargo.toml"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), PathBuf::from("."));
        assert_eq!(relative(Path::new("/a"), Path::new("/a/b")), PathBuf::from("b"));
    }

    #[test]
    fn unresolvable_tail_is_kept_lexically() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        assert_eq!(resolve_path(&base.join("x/y/../z")).unwrap(), base.join("x/z"));
        assert!(!base.join("x").exists(), "resolving creates nothing");
    }
}
