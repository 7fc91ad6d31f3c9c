//! `k3s-bake go …`: Go module facts → BitBake includes.
//!
//! `import` reads facts from BitBake includes and fact tables, `resolve` fills in missing facts from a module
//! proxy / git (maintainers, online), `render` writes `<bpn>-go-mods.inc` + `<bpn>-licenses.inc` (offline).
//! The k3s includes of this layer are rendered by `gen`; `render` serves other recipes and the end-to-end test.

#[cfg(feature = "online")]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
#[cfg(feature = "online")]
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use go_facts::Facts;
#[cfg(feature = "online")]
use go_facts::ModuleVersion;
use go_facts::license::Decisions;
use go_facts::render::{ModuleSet, render};
#[cfg(feature = "online")]
use go_facts::render::{Need, needs};
use gomod::{GoMod, GoSum};

use crate::render::go_inc::{DECISIONS, FACTS, REZIP_CLASS};

/// `k3s-bake go` arguments.
#[derive(Debug, Args)]
pub struct GoArgs {
    #[command(subcommand)]
    command: GoCommand,
}

#[derive(Debug, Args)]
struct FactsArg {
    /// Facts file (TSV, one record per line) to read and update; default: the k3s recipe's.
    #[arg(long, value_name = "FILE")]
    facts: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GraphArgs {
    /// go.sum whose module graph the recipe needs (zips for `h1:` lines, go.mod only for `/go.mod`-only versions).
    /// Without it, every module version in the facts file is needed.
    #[arg(long, value_name = "FILE")]
    go_sum: Option<PathBuf>,
    /// go.mod next to that go.sum: checked to be covered by it (a stale go.sum would render a wrong module set).
    #[arg(long, value_name = "FILE", requires = "go_sum")]
    go_mod: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum GoCommand {
    /// Import facts from BitBake recipes/includes (gomod://, gomodgit://, git:// lines, LIC_FILES_CHKSUM) and from
    /// fact tables (*.tsv with a `module version zip_sha256`, `module version repo commit ref subdir` or
    /// `path_in_module_cache md5 spdx` header) into the facts file.
    Import {
        #[command(flatten)]
        facts: FactsArg,
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Fill in missing facts online: module proxy (GOPROXY), go-get discovery and git for `direct`.
    Resolve {
        #[command(flatten)]
        facts: FactsArg,
        #[command(flatten)]
        graph: GraphArgs,
        /// Extra module versions (MODULE@VERSION) whose zip the recipe needs.
        #[arg(value_name = "MODULE@VERSION")]
        modules: Vec<String>,
        /// GOPROXY list (`,` falls through on 404/410, `|` on any error; `direct`, `off`); default: $GOPROXY or
        /// https://proxy.golang.org,direct.
        #[arg(long)]
        goproxy: Option<String>,
        /// Module path prefixes fetched `direct` (default: $GONOPROXY, else $GOPRIVATE), comma-separated.
        #[arg(long)]
        noproxy: Option<String>,
        /// Module path prefixes whose go-get discovery may use plain http (default: $GOINSECURE), comma-separated.
        #[arg(long)]
        insecure: Option<String>,
        /// Git repository of a module path prefix (PREFIX=URL), for code go-get discovery cannot find; repeatable.
        #[arg(long = "repo", value_name = "PREFIX=URL")]
        repo_map: Vec<String>,
        /// Parallel downloads.
        #[arg(long, default_value_t = 8)]
        jobs: usize,
        /// Retries per request after the first attempt (exponential backoff from 0.5 s).
        #[arg(long, default_value_t = 3)]
        retries: u32,
        /// Content cache (downloads and git repositories); default: $XDG_CACHE_HOME/k3s-bake/go or ~/.cache/….
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
        /// Do not record license files.
        #[arg(long)]
        no_licenses: bool,
    },
    /// Render `<bpn>-go-mods.inc` and `<bpn>-licenses.inc` from facts (offline, deterministic).
    Render {
        #[command(flatten)]
        facts: FactsArg,
        #[command(flatten)]
        graph: GraphArgs,
        /// License decisions by md5 (`md5<TAB>SPDX<TAB>basis`); default: the k3s recipe's.
        #[arg(long, value_name = "FILE")]
        decisions: Option<PathBuf>,
        /// Class the SRC_URI include inherits when it holds gomodgit:// entries (this layer's `gomodgit_rezip`
        /// fixes BitBake's gomodgit zips); `none` for no class.
        #[arg(long, default_value = REZIP_CLASS)]
        rezip_class: String,
        /// The packages the build links: output of `go list -deps -tags "<build tags>" -f '<go_facts::linked::GO_LIST_FORMAT>'
        /// <main packages>` in the recipe's source. Licences are then those of linked module versions only, and a
        /// linked module version without a licence fact is an error.
        #[arg(long, value_name = "FILE")]
        linked: Option<PathBuf>,
        /// Output: the SRC_URI include.
        #[arg(long, value_name = "FILE")]
        go_mods: PathBuf,
        /// Output: the LICENSE / LIC_FILES_CHKSUM include.
        #[arg(long, value_name = "FILE")]
        licenses: PathBuf,
    },
    /// Read the `module` line of `<subdir>/go.mod` for git facts at their commit (subdir `<dir>/vN` found where
    /// the module lives there) and record it with where it was read. Online through the resolve cache by
    /// default; `--git-dir` uses a local bare mirror of a repository instead (offline).
    VerifyGit {
        #[command(flatten)]
        facts: FactsArg,
        /// Local bare repository for a fact repository (URL=DIR); repeatable. Repositories without one are
        /// fetched into the cache (online) unless `--offline`.
        #[arg(long = "git-dir", value_name = "URL=DIR")]
        git_dirs: Vec<String>,
        /// When a fact's commit is not in the repository, read the go.mod layout at this other commit of the same
        /// history instead (URL=COMMIT), recorded as such (weaker evidence than the commit itself).
        #[arg(long = "layout-at", value_name = "URL=COMMIT")]
        layout_at: Vec<String>,
        /// Never fetch: repositories without `--git-dir` are reported, not read.
        #[arg(long)]
        offline: bool,
        /// Content cache for fetched repositories (see `resolve`).
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
    },
    /// Identify license texts: prints `md5<TAB>SPDX id or Unknown<TAB>file` per file (the decisions-file format).
    License {
        /// License files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the versions of a module a proxy knows (`@v/list`, with `.info` times).
    Versions {
        /// Module path.
        module: String,
        /// Proxy base URL (http(s):// or file://).
        #[arg(long, default_value = "https://proxy.golang.org")]
        proxy: String,
    },
}

fn facts_path(root: &Path, a: &FactsArg) -> PathBuf {
    a.facts.clone().unwrap_or_else(|| root.join(FACTS))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load_graph(g: &GraphArgs) -> Result<Option<GoSum>> {
    let Some(sum_path) = &g.go_sum else { return Ok(None) };
    let sum = GoSum::parse(&sum_path.display().to_string(), &read(sum_path)?)?;
    if let Some(mod_path) = &g.go_mod {
        let m = GoMod::parse(&mod_path.display().to_string(), &read(mod_path)?)?;
        let summed: std::collections::BTreeSet<_> = sum.lines.iter().map(|l| &l.module).collect();
        let missing: Vec<String> =
            m.effective_requirements().iter().filter(|r| !summed.contains(r)).map(ToString::to_string).collect();
        if !missing.is_empty() {
            bail!(
                "{} requires module versions {} does not list (run `go mod tidy`):\n  {}",
                mod_path.display(),
                sum_path.display(),
                missing.join("\n  ")
            );
        }
    }
    Ok(Some(sum))
}

fn write_facts(path: &Path, facts: &Facts) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    k3s_atomic::write(path, facts.to_tsv().as_bytes(), k3s_atomic::MODE_PUBLIC)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(feature = "online")]
fn env_list(explicit: Option<String>, vars: &[&str]) -> Vec<String> {
    explicit
        .or_else(|| vars.iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty())))
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(feature = "online")]
pub(crate) fn default_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("k3s-bake/go")
}

/// Runs `k3s-bake go …`.
pub fn run(root: &Path, args: GoArgs) -> Result<()> {
    match args.command {
        GoCommand::Import { facts, files } => {
            let path = facts_path(root, &facts);
            // import creates the facts file; every other subcommand refuses a missing one.
            let mut all = Facts::load_or_new(&path)?;
            let before = all.modules.len();
            for f in &files {
                let text = read(f)?;
                let name = f.display().to_string();
                let got = if f.extension().is_some_and(|e| e == "tsv") {
                    go_facts::import::fixture_tsv(&name, &text)?
                } else {
                    go_facts::import::bitbake(&name, &text)?
                };
                println!("{name}: facts for {} module versions", got.modules.len());
                all.merge(&got, &name)?;
            }
            write_facts(&path, &all)?;
            println!("{}: {} module versions ({} new)", path.display(), all.modules.len(), all.modules.len() - before);
            Ok(())
        }
        GoCommand::Render { facts, graph, decisions, rezip_class, linked, go_mods, licenses } => {
            let path = facts_path(root, &facts);
            let mut all = Facts::load(&path)?;
            if let Some(lp) = &linked {
                let set = go_facts::linked::LinkedSet::parse(&lp.display().to_string(), &read(lp)?)?;
                let r = go_facts::linked::restrict(&all, &set);
                if !r.uncovered.is_empty() {
                    let list: Vec<String> = r.uncovered.iter().map(ToString::to_string).collect();
                    bail!(
                        "{} linked module version(s) have no licence fact (run `k3s-bake go resolve`):\n  {}",
                        list.len(),
                        list.join("\n  ")
                    );
                }
                eprintln!(
                    "render: {} linked module versions; licences of {} graph-only module versions left out",
                    set.0.len(),
                    r.dropped.len()
                );
                all = r.facts;
            }
            let decisions_path = decisions.unwrap_or_else(|| root.join(DECISIONS));
            let dec = Decisions::load(&decisions_path)?;
            let sum = load_graph(&graph)?;
            let set = sum.as_ref().map_or(ModuleSet::AllFacts, ModuleSet::GoSum);
            let class = Some(rezip_class.as_str()).filter(|c| *c != "none");
            let r = render(&all, &dec, set, class)?;
            let header = format!(
                "# Rendered by `k3s-bake go render` from {}{}. Do not edit by hand.\n",
                path.display(),
                graph.go_sum.as_ref().map(|s| format!(" and {}", s.display())).unwrap_or_default()
            );
            // Both rendered before either is written: no half-updated pair.
            for (out, body) in [(&go_mods, &r.go_mods), (&licenses, &r.licenses)] {
                k3s_atomic::write(out, format!("{header}{body}").as_bytes(), k3s_atomic::MODE_PUBLIC)
                    .with_context(|| format!("writing {}", out.display()))?;
                println!("wrote {}", out.display());
            }
            Ok(())
        }
        cmd @ (GoCommand::Resolve { .. }
        | GoCommand::VerifyGit { .. }
        | GoCommand::License { .. }
        | GoCommand::Versions { .. }) => run_online(root, cmd),
    }
}

/// The subcommands that use go-resolve (network client, zip scanning): compiled only with the `online` feature, so
/// the offline generator (`gen`, `gen --check`, `go import|render`) links no network code.
#[cfg(feature = "online")]
fn run_online(root: &Path, command: GoCommand) -> Result<()> {
    match command {
        GoCommand::Resolve {
            facts,
            graph,
            modules,
            goproxy,
            noproxy,
            insecure,
            repo_map,
            jobs,
            retries,
            cache,
            no_licenses,
        } => {
            let repo_map = repo_map
                .iter()
                .map(|r| {
                    r.split_once('=')
                        .map(|(p, u)| (p.trim_end_matches('/').to_owned(), u.to_owned()))
                        .with_context(|| format!("--repo {r:?}: expected PREFIX=URL"))
                })
                .collect::<Result<Vec<_>>>()?;
            let path = facts_path(root, &facts);
            // resolve may start a facts file (from a go.sum); render and verify-git refuse a missing one.
            let mut all = Facts::load_or_new(&path)?;
            let sum = load_graph(&graph)?;
            let mut need: BTreeMap<ModuleVersion, Need> = match &sum {
                Some(s) => needs(&all, ModuleSet::GoSum(s)),
                None if modules.is_empty() => needs(&all, ModuleSet::AllFacts),
                None => BTreeMap::new(),
            };
            for m in &modules {
                let (p, v) = m.split_once('@').with_context(|| format!("{m:?}: expected MODULE@VERSION"))?;
                anyhow::ensure!(gomod::is_valid_version(v), "{m:?}: {v:?} is not a valid module version");
                need.insert(ModuleVersion { path: p.into(), version: v.into() }, Need::Zip);
            }
            let goproxy = goproxy
                .or_else(|| std::env::var("GOPROXY").ok().filter(|s| !s.is_empty()))
                .unwrap_or_else(|| "https://proxy.golang.org,direct".into());
            let opts = go_resolve::Options {
                goproxy: go_resolve::proxy::parse_goproxy(&goproxy)?,
                noproxy: env_list(noproxy, &["GONOPROXY", "GOPRIVATE"]),
                insecure: env_list(insecure, &["GOINSECURE"]),
                repo_map,
                cache: cache.unwrap_or_else(default_cache),
                jobs,
                retries,
                backoff: Duration::from_millis(500),
                licenses: !no_licenses,
                progress: true,
                sums: sum.as_ref().map(GoSum::entries).unwrap_or_default(),
            };
            let report = match go_resolve::resolve(&opts, &mut all, &need) {
                Ok(r) => r,
                // Keep what succeeded: the rerun looks up only the failed module versions.
                Err(e @ go_resolve::ResolveError::Failed(_)) => {
                    write_facts(&path, &all)?;
                    return Err(anyhow::Error::new(e)
                        .context(format!("{}: kept the facts of the module versions that resolved", path.display())));
                }
                Err(e) => return Err(e.into()),
            };
            write_facts(&path, &all)?;
            println!(
                "{}: {} module versions looked up, {} already known",
                path.display(),
                report.looked_up,
                report.already_known
            );
            if !report.unidentified_licenses.is_empty() {
                eprintln!(
                    "warning: {} license file(s) not identified (recorded as Unknown; `render` fails until each md5 is \
                     decided in the decisions file):\n  {}",
                    report.unidentified_licenses.len(),
                    report.unidentified_licenses.join("\n  ")
                );
            }
            Ok(())
        }
        GoCommand::VerifyGit { facts: fa, git_dirs, layout_at, offline, cache } => {
            let path = facts_path(root, &fa);
            let mut facts = Facts::load(&path)?;
            let pairs = |list: &[String], what: &str| -> Result<BTreeMap<String, String>> {
                list.iter()
                    .map(|p| match p.split_once('=') {
                        Some((u, v)) if !u.is_empty() && !v.is_empty() => Ok((u.to_owned(), v.to_owned())),
                        _ => bail!("{what} {p:?}: expected URL=VALUE"),
                    })
                    .collect()
            };
            let dirs = pairs(&git_dirs, "--git-dir")?;
            let layout = pairs(&layout_at, "--layout-at")?;
            let cache = cache.unwrap_or_else(default_cache);
            let (mut at_commit, mut at_other, mut skipped, mut failed) = (0, 0, Vec::new(), Vec::new());
            for (m, f) in facts.modules.iter_mut() {
                let Some(g) = f.git.as_mut() else { continue };
                let repo = match dirs.get(&g.repo) {
                    Some(dir) => go_resolve::vcs::CachedRepo::local(Path::new(dir), &g.repo),
                    None if offline => {
                        skipped.push(format!("{m}: no --git-dir for {}", g.repo));
                        continue;
                    }
                    None => {
                        let r = go_resolve::vcs::CachedRepo::open(&cache, &g.repo)?;
                        if let Err(e) = r.ensure(&g.commit) {
                            failed.push(format!("{m}: {}", go_resolve::error_chain(&e)));
                            continue;
                        }
                        r
                    }
                };
                if repo.has(&g.commit) {
                    match go_resolve::verify_git_module(&repo, m, g) {
                        Ok(()) => at_commit += 1,
                        Err(e) => failed.push(format!("{m}: {}", go_resolve::error_chain(&e))),
                    }
                    continue;
                }
                let Some(other) = layout.get(&g.repo) else {
                    skipped.push(format!(
                        "{m}: commit {} is not in {} (give --layout-at)",
                        g.commit,
                        repo.dir.display()
                    ));
                    continue;
                };
                let other = repo.expand(other)?;
                let mut probe = g.clone();
                probe.commit = other;
                match go_resolve::verify_git_module(&repo, m, &mut probe) {
                    Ok(()) => {
                        at_other += 1;
                        g.subdir = probe.subdir;
                        g.module = probe.module;
                        g.checked_at = probe.checked_at;
                    }
                    Err(e) => failed.push(format!("{m}: {}", go_resolve::error_chain(&e))),
                }
            }
            write_facts(&path, &facts)?;
            eprintln!(
                "verify-git: {at_commit} read at their commit, {at_other} at another commit of the same history, \
                 {} not read, {} failed",
                skipped.len(),
                failed.len()
            );
            for s in &skipped {
                eprintln!("  not read: {s}");
            }
            if !failed.is_empty() {
                bail!("verify-git: {} git fact(s) failed:\n  {}", failed.len(), failed.join("\n  "));
            }
            Ok(())
        }
        GoCommand::License { files } => {
            for f in &files {
                let data = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                let (md5, spdx) = go_resolve::identify_license(&data);
                println!("{md5}\t{}\t{}", spdx.as_deref().unwrap_or(go_facts::license::UNKNOWN), f.display());
            }
            Ok(())
        }
        GoCommand::Versions { module, proxy } => {
            let client = go_resolve::proxy::ProxyClient::new(&default_cache(), 3, Duration::from_millis(500));
            let base = proxy.trim_end_matches('/');
            for v in client.list(base, &module)? {
                let (_, time) = client.info(base, &module, &v).unwrap_or_default();
                println!("{v}\t{time}");
            }
            Ok(())
        }
        other => bail!("internal: {other:?} is not an online subcommand"),
    }
}

#[cfg(not(feature = "online"))]
fn run_online(_root: &Path, _command: GoCommand) -> Result<()> {
    bail!(
        "this k3s-bake is built without network code; run the online subcommands as \
         `cargo run -p k3s-bake --features online -- go …`"
    )
}
