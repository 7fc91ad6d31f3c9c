//! `k3s-bake bump k3s <tag>` / `k3s-bake bump --check` (online; `k3s-bump` does the work).
//!
//! A failed step leaves the layer unchanged: `k3s_bump::prepare` computes the new spec and facts without writing,
//! then the layer is copied into a scratch directory, the new files are put there and every generated file is
//! rendered from them (`gen`'s renderers, in memory); only when all of that succeeded are the changed files
//! replaced in the layer, each atomically (k3s-atomic).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};

/// `k3s-bake bump` arguments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BumpArgs {
    #[command(subcommand)]
    what: Option<BumpWhat>,
    /// Say whether a newer patch release of the pinned k3s minor exists; change nothing.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(Debug, Subcommand)]
enum BumpWhat {
    /// Take k3s to TAG (e.g. v1.36.3+k3s1): the tag's commit, its go.mod/go.sum, linked modules and licences,
    /// the pins k3s sets, traefik's charts; then `gen`.
    K3s {
        /// The k3s release tag.
        tag: String,
        #[command(flatten)]
        net: NetArgs,
    },
}

#[derive(Debug, Args, Clone, Default)]
struct NetArgs {
    /// Read a pin's repository from URL instead of its spec URL (NAME=URL: a mirror); repeatable.
    #[arg(long = "mirror", value_name = "NAME=URL")]
    mirrors: Vec<String>,
    /// GOPROXY list (default: $GOPROXY or https://proxy.golang.org,direct).
    #[arg(long)]
    goproxy: Option<String>,
    /// Git repository of a module path prefix (PREFIX=URL) for `direct`; repeatable.
    #[arg(long = "repo", value_name = "PREFIX=URL")]
    repo_map: Vec<String>,
    /// Base URL of traefik's chart archives (default: the recipe's K3S_TRAEFIK_CHART_BASE).
    #[arg(long, value_name = "URL")]
    chart_base: Option<String>,
    /// Base URL of k3s's release assets (sha256sum-<arch>.txt, k3s-images.txt; default: the GitHub release).
    #[arg(long, value_name = "URL")]
    release_base: Option<String>,
    /// The go command used for `go list` (offline).
    #[arg(long, value_name = "PATH", default_value = "go")]
    go: PathBuf,
    /// Parallel downloads.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Content cache (see `go resolve`).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Scratch directory (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn options(root: &Path, n: &NetArgs) -> Result<k3s_bump::Options> {
    let pairs = |list: &[String], what: &str| -> Result<Vec<(String, String)>> {
        list.iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() && !v.starts_with('-') => {
                    Ok((k.trim_end_matches('/').to_owned(), v.to_owned()))
                }
                _ => bail!("{what} {p:?}: expected NAME=URL"),
            })
            .collect()
    };
    let goproxy = n
        .goproxy
        .clone()
        .or_else(|| std::env::var("GOPROXY").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "https://proxy.golang.org,direct".into());
    Ok(k3s_bump::Options {
        layer: root.to_owned(),
        mirrors: pairs(&n.mirrors, "--mirror")?.into_iter().collect::<BTreeMap<_, _>>(),
        chart_base: n.chart_base.clone(),
        release_base: n.release_base.clone(),
        go: n.go.clone(),
        resolve: go_resolve::Options {
            goproxy: go_resolve::proxy::parse_goproxy(&goproxy)?,
            noproxy: vec![],
            insecure: std::env::var("GOINSECURE")
                .map(|s| s.split(',').map(str::to_owned).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            repo_map: pairs(&n.repo_map, "--repo")?,
            cache: n.cache.clone().unwrap_or_else(crate::cmd_go::default_cache),
            jobs: n.jobs,
            retries: 3,
            backoff: Duration::from_millis(500),
            licenses: true,
            progress: !n.quiet,
            sums: BTreeMap::new(),
        },
        scratch: n.scratch.clone().unwrap_or_else(std::env::temp_dir),
    })
}

/// Copies the layer (without build output, git data and virtual environments) to `dst`.
fn copy_layer(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).with_context(|| format!("creating {}", dst.display()))?;
    for e in std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))? {
        let e = e?;
        let name = e.file_name();
        if [".git", "target", ".venv"].iter().any(|n| name == *n) {
            continue;
        }
        let (from, to) = (e.path(), dst.join(&name));
        let ty = e.file_type()?;
        if ty.is_dir() {
            copy_layer(&from, &to)?;
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    Ok(())
}

/// Runs `k3s-bake bump …`.
pub fn run(root: &Path, args: BumpArgs) -> Result<()> {
    match args.what {
        None if args.check => {
            print!("{}", k3s_bump::check(&options(root, &args.net)?)?);
            Ok(())
        }
        None => bail!("say what to bump: `k3s-bake bump k3s <tag>`, or `k3s-bake bump --check`"),
        Some(BumpWhat::K3s { tag, net }) => {
            let o = options(root, &net)?;
            let prepared = k3s_bump::prepare(&o, &tag).with_context(|| format!("bump k3s {tag}"))?;
            // Stage: the layer with the new inputs, rendered by gen, before anything in the layer changes.
            let stage = k3s_bump::tempdir_in(&o.scratch)?;
            let staged = stage.0.join("layer");
            copy_layer(root, &staged)?;
            for (rel, body) in &prepared.files {
                let p = staged.join(rel);
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d)?;
                }
                std::fs::write(&p, body).with_context(|| format!("staging {}", p.display()))?;
            }
            let ctx = crate::context::Context::load(&staged)
                .with_context(|| format!("bump k3s {tag}: the new {}", k3s_bump::SPEC))?;
            let rendered = crate::generated::render_all(&ctx).with_context(|| format!("bump k3s {tag}: gen"))?;
            let mut out: Vec<(PathBuf, Vec<u8>)> = prepared.files.into_iter().collect();
            out.extend(rendered.into_iter().map(|r| (r.path, r.contents.into_bytes())));
            let mut written = Vec::new();
            for (rel, body) in out {
                let target = root.join(&rel);
                if std::fs::read(&target).ok().as_deref() == Some(body.as_slice()) {
                    continue;
                }
                if let Some(d) = target.parent() {
                    std::fs::create_dir_all(d)?;
                }
                k3s_atomic::write(&target, &body, k3s_atomic::MODE_PUBLIC)
                    .with_context(|| format!("writing {}", target.display()))?;
                written.push(rel);
            }
            print!("{}", prepared.summary);
            for w in &written {
                println!("wrote {}", w.display());
            }
            Ok(())
        }
    }
}
