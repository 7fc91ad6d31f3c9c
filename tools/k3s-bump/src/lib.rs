//! `k3s-bake bump`: takes the k3s pin, and what k3s itself pins, to a new tag, with every fact read from the k3s
//! source at the tag's commit (DESIGN: "facts come from the upstream source").
//!
//! [`prepare`] does every step that can fail — tag → commit and release branch, a shallow checkout, go.mod/go.sum,
//! resolve of missing module facts (go.sum `h1:` checked), the linked module set by `go list` offline, licences of
//! exactly that set, the pins of scripts/version.sh and go.mod, the traefik charts and their sha256, the flags
//! of pkg/cli/cmds (k3s's own code run by the go command, [`cliflags`]), the kernel options of check-config.sh, the
//! release's airgap archives ([`airgap`]) — and returns the new file contents and a summary. It writes nothing into the layer: the caller renders `gen` over
//! a staged copy and only then replaces files.
#![forbid(unsafe_code)]

pub mod airgap;
pub mod charts;
pub mod cliflags;
pub mod git;
pub mod golist;
pub mod spec_edit;
pub mod upstream;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use go_facts::render::{ModuleSet, needs};
use go_facts::{Facts, ModuleVersion};
use gomod::{GoMod, GoSum};

/// The k3s recipe (K3S_GO_TAGS, the shim package, the chart base are read from it: one place).
pub const RECIPE: &str = "recipes-containers/k3s/k3s_git.bb";
/// The k3s module facts.
pub const FACTS: &str = "recipes-containers/k3s/k3s-go-facts.tsv";
/// Facts bump reads from the k3s source besides modules and flags (charts, version.sh pins, check-config options);
/// the flags go to [`k3s_model::flags::facts::PATH`].
pub const UPSTREAM_FACTS: &str = k3s_upstream_facts::PATH;
/// The spec.
pub const SPEC: &str = "k3s-spec.yaml";

/// Why a bump failed. Messages say which step and what; causes stay sources.
#[derive(Debug, thiserror::Error)]
pub enum BumpError {
    /// A step failed with a cause.
    #[error("{what}")]
    Step {
        /// What was attempted.
        what: String,
        /// Why it failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A step failed; the message says why.
    #[error("{0}")]
    Msg(String),
}

impl BumpError {
    pub(crate) fn step(what: impl Into<String>, e: impl std::error::Error + Send + Sync + 'static) -> BumpError {
        BumpError::Step { what: what.into(), source: Box::new(e) }
    }
}

/// How to bump.
#[derive(Debug, Clone)]
pub struct Options {
    /// The layer (repository root).
    pub layer: PathBuf,
    /// Where to read each pin's repository instead of its spec URL (NAME=URL, a mirror); the spec keeps its URL.
    pub mirrors: BTreeMap<String, String>,
    /// Base URL of the chart archives (`<base>/<chart>/<chart>-<version>.tgz`); default: the recipe's
    /// K3S_TRAEFIK_CHART_BASE.
    pub chart_base: Option<String>,
    /// Base URL of k3s's release assets (`<base>/<tag>/sha256sum-<arch>.txt`, `k3s-images.txt`); default: the
    /// release location, [`airgap::RELEASES`].
    pub release_base: Option<String>,
    /// The go command.
    pub go: PathBuf,
    /// Module resolution (GOPROXY, cache, jobs, progress); `sums` is set from the new go.sum.
    pub resolve: go_resolve::Options,
    /// Scratch directory (a fresh one under it is used and removed).
    pub scratch: PathBuf,
}

/// What a bump would write, and what changed.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Layer-relative path → new contents (spec, facts); `gen` output comes on top.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// The human summary: old → new pins, module and licence changes, kernel and flag differences, shortlog.
    pub summary: String,
}

fn read(path: &Path) -> Result<String, BumpError> {
    std::fs::read_to_string(path).map_err(|e| BumpError::step(format!("reading {}", path.display()), e))
}

/// `NAME ?= "value"` / `NAME = "value"` of a BitBake file, or `NAME=value` of a shell line in it.
pub fn recipe_value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let l = l.trim();
        let rest = l.strip_prefix(name)?;
        let v = rest.trim_start().strip_prefix("?=").or_else(|| rest.trim_start().strip_prefix('='))?;
        Some(v.trim().trim_matches('"').to_owned())
    })
}

fn url_for(o: &Options, name: &str, spec: &str) -> Result<String, BumpError> {
    o.mirrors
        .get(name)
        .cloned()
        .or_else(|| spec_edit::get(spec, name, "git"))
        .ok_or_else(|| BumpError::Msg(format!("{SPEC}: pins.{name} has no git URL")))
}

/// `bump --check`: newer patch releases of the pinned k3s minor (and whether the other pins' tags still exist).
pub fn check(o: &Options) -> Result<String, BumpError> {
    let spec = read(&o.layer.join(SPEC))?;
    let cur = spec_edit::get(&spec, "k3s", "tag")
        .or_else(|| spec_edit::get(&spec, "k3s", "version"))
        .ok_or_else(|| BumpError::Msg(format!("{SPEC}: pins.k3s has no version")))?;
    let refs = git::ls_remote(&url_for(o, "k3s", &spec)?)?;
    let newer = git::newer_patches(&refs, &cur)?;
    let mut out = String::new();
    match newer.last() {
        Some(n) => {
            let _ =
                writeln!(out, "k3s: {cur} → newer on its minor: {} (run `k3s-bake bump k3s {n}`)", newer.join(", "));
        }
        None => {
            let _ = writeln!(out, "k3s: {cur} is the newest patch release on its minor");
        }
    }
    // The other pins follow k3s (bump takes what its go.mod and scripts/version.sh name); newer patch releases
    // upstream are reported so a maintainer knows what k3s has not picked up yet.
    for name in ["runc", "cni-plugins", "flannel-cni-plugin"] {
        let Some(v) = spec_edit::get(&spec, name, "version") else { continue };
        let refs = git::ls_remote(&url_for(o, name, &spec)?)?;
        let newer = newer_semver_patches(&refs, &v);
        let _ = writeln!(
            out,
            "{name}: {v}{} (follows k3s: bump takes the version k3s names)",
            if newer.is_empty() {
                ", no newer patch release upstream".to_owned()
            } else {
                format!(", newer upstream: {}", newer.join(", "))
            }
        );
    }
    Ok(out)
}

/// Tags `vX.Y.Z[suffix]` of the same X.Y as `current` with a larger Z (release candidates left out), sorted.
pub fn newer_semver_patches(refs: &[(String, String)], current: &str) -> Vec<String> {
    let parse = |t: &str| -> Option<(u64, u64, u64)> {
        let core = t.strip_prefix('v')?;
        let n: Vec<&str> = core.splitn(3, '.').collect();
        let [a, b, c] = n[..] else { return None };
        let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
        Some((a.parse().ok()?, b.parse().ok()?, digits.parse().ok()?))
    };
    let Some((ma, mi, pa)) = parse(current) else { return vec![] };
    let mut out: Vec<(u64, String)> = refs
        .iter()
        .filter_map(|(_, r)| r.strip_prefix("refs/tags/"))
        .filter(|t| !t.ends_with("^{}") && !t.contains("-rc"))
        .filter_map(|t| parse(t).filter(|&(a, b, p)| a == ma && b == mi && p > pa).map(|(_, _, p)| (p, t.to_owned())))
        .collect();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

/// Everything `bump k3s <tag>` changes, computed without touching the layer.
pub fn prepare(o: &Options, tag: &str) -> Result<Prepared, BumpError> {
    git::check_tag(tag)?;
    let spec_path = o.layer.join(SPEC);
    let spec = read(&spec_path)?;
    let recipe = read(&o.layer.join(RECIPE))?;
    let go_tags: Vec<String> = recipe_value(&recipe, "K3S_GO_TAGS")
        .ok_or_else(|| BumpError::Msg(format!("{RECIPE}: no K3S_GO_TAGS")))?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let containerd = recipe_value(&recipe, "PKG_CONTAINERD")
        .ok_or_else(|| BumpError::Msg(format!("{RECIPE}: no PKG_CONTAINERD= in do_compile")))?;
    let chart_base = o
        .chart_base
        .clone()
        .or_else(|| recipe_value(&recipe, "K3S_TRAEFIK_CHART_BASE"))
        .ok_or_else(|| BumpError::Msg(format!("{RECIPE}: no K3S_TRAEFIK_CHART_BASE")))?;
    // The committed upstream facts: the old charts (for the summary); a missing or bad file stops here.
    let old_upstream = k3s_upstream_facts::parse(UPSTREAM_FACTS, &read(&o.layer.join(UPSTREAM_FACTS))?)
        .map_err(|e| BumpError::step("reading the upstream facts", e))?;
    let url = url_for(o, "k3s", &spec)?;
    let old_commit = spec_edit::get(&spec, "k3s", "commit").unwrap_or_default();
    let old_version = spec_edit::get(&spec, "k3s", "version").unwrap_or_default();

    // 1. The tag's commit (peeled) and its release branch; the source at that commit, shallow.
    let refs = git::ls_remote(&url)?;
    let t = git::resolve_tag(&refs, tag)?;
    let work = tempdir_in(&o.scratch)?;
    let src = work.0.join("k3s");
    git::shallow_checkout(&url, &t.commit, &src)?;
    let branch_ref = git::fetch_history(&url, &t.branch, &src)?;
    if !git::is_ancestor(&src, &t.commit, &branch_ref) {
        return Err(BumpError::Msg(format!("{tag} ({}) is not on {}", t.commit, t.branch)));
    }
    let shortlog = git::shortlog(&src, &old_commit, &t.commit);

    // 2. go.mod / go.sum; resolve what the facts lack (zips checked against go.sum's h1:).
    let gomod_text = read(&src.join("go.mod"))?;
    let gosum_text = read(&src.join("go.sum"))?;
    let gm = GoMod::parse("go.mod", &gomod_text).map_err(|e| BumpError::step(format!("k3s {tag}"), e))?;
    let sum = GoSum::parse("go.sum", &gosum_text).map_err(|e| BumpError::step(format!("k3s {tag}"), e))?;
    let old_facts = Facts::load(&o.layer.join(FACTS)).map_err(|e| BumpError::step("reading the module facts", e))?;
    let need = needs(&old_facts, ModuleSet::GoSum(&sum));
    let mut facts = Facts::default();
    for m in need.keys() {
        if let Some(f) = old_facts.modules.get(m) {
            facts.modules.insert(m.clone(), f.clone());
        }
    }
    let mut ropts = o.resolve.clone();
    ropts.sums = sum.entries();
    ropts.licenses = true;
    let report = go_resolve::resolve(&ropts, &mut facts, &need)
        .map_err(|e| BumpError::step(format!("resolving the module facts of k3s {tag}"), e))?;
    if !report.unidentified_licenses.is_empty() {
        return Err(BumpError::Msg(format!(
            "{} licence file(s) not identified; decide each md5 in the decisions file:\n  {}",
            report.unidentified_licenses.len(),
            report.unidentified_licenses.join("\n  ")
        )));
    }

    // 3. The linked set (go list, offline over the resolved cache) and the licences of exactly that set. Resolve
    // downloads only what the facts lacked; the offline go list needs every module version of the graph in the
    // cache, those whose facts were already complete too (checked against go.sum and the facts' sha256).
    go_resolve::populate_cache(&ropts, &facts, &need)
        .map_err(|e| BumpError::step(format!("caching the modules of k3s {tag} for the offline go list"), e))?;
    let proxy = work.0.join("goproxy");
    golist::file_proxy(&ropts.cache, &facts, &ropts.sums, &need, &proxy)?;
    let modcache = golist::ModCache(work.0.join("gomodcache"));
    let shim_tags: Vec<String> =
        go_tags.iter().map(|t| if t == "netcgo" { "netgo".to_owned() } else { t.clone() }).collect();
    let mut linked = golist::linked(
        &o.go,
        &src,
        &proxy,
        &modcache.0,
        &golist::Build { packages: vec!["./cmd/server".into()], tags: go_tags.clone() },
    )?;
    let shim = format!("{containerd}/cmd/containerd-shim-runc-v2");
    linked.0.extend(
        golist::linked(&o.go, &src, &proxy, &modcache.0, &golist::Build { packages: vec![shim], tags: shim_tags })?.0,
    );
    let r = go_facts::linked::restrict(&facts, &linked);
    if !r.uncovered.is_empty() {
        let l: Vec<String> = r.uncovered.iter().map(ToString::to_string).collect();
        return Err(BumpError::Msg(format!(
            "{} linked module version(s) have no licence file:\n  {}",
            l.len(),
            l.join("\n  ")
        )));
    }
    let facts = r.facts;

    // 4. Pins: runc and the CNI plugins from go.mod (after replacements), the rest from scripts/version.sh.
    let version_sh = read(&src.join("scripts/version.sh"))?;
    let literals = upstream::version_sh_literals(&version_sh);
    // The version the build uses: a `replace` to another module version wins (get-module-version does the same).
    let target = |p: &str| -> Option<ModuleVersion> {
        let r = gm.require.iter().find(|r| r.module.path == p)?;
        match gm.replacement(&r.module) {
            Some(gomod::ReplaceTarget::Module(m)) => Some(m.clone()),
            Some(gomod::ReplaceTarget::Local(_)) => None,
            None => Some(r.module.clone()),
        }
    };
    let modver = |p: &str| target(p).map(|m| m.version);
    let replaced = |p: &str| target(p).map_or_else(|| "none".to_owned(), |m| m.to_string());
    let mut new_spec = spec.clone();
    let mut pins_summary = String::new();
    let set = |new_spec: &mut String, name: &str, version: &str, commit: &str, branch: &str, comment: String| {
        let old = format!(
            "{} ({})",
            spec_edit::get(new_spec, name, "version").unwrap_or_default(),
            spec_edit::get(new_spec, name, "commit").unwrap_or_default().get(..12).unwrap_or("")
        );
        let u = spec_edit::PinUpdate { version: version.into(), branch: branch.into(), commit: commit.into(), comment };
        *new_spec = spec_edit::set_pin(new_spec, name, &u).map_err(BumpError::Msg)?;
        Ok::<String, BumpError>(format!("  {name}: {old} → {version} ({})\n", &commit[..12]))
    };
    pins_summary += &set(
        &mut new_spec,
        "k3s",
        tag,
        &t.commit,
        &t.branch,
        format!("Set by `k3s-bake bump k3s {tag}`: the tag's own commit (peeled) on {}.", t.branch),
    )?;
    for (name, module, literal) in [
        ("runc", Some("github.com/opencontainers/runc"), None),
        ("cni-plugins", Some("github.com/containernetworking/plugins"), Some("VERSION_CNIPLUGINS")),
        ("flannel-cni-plugin", None, Some("VERSION_FLANNEL_PLUGIN")),
    ] {
        let (version, whence) = match (module.and_then(modver), literal.and_then(|l| literals.get(l))) {
            (Some(v), _) => (v, format!("k3s {tag}'s go.mod requires {} {{v}}", module.unwrap_or_default())),
            (None, Some(v)) => {
                (v.clone(), format!("k3s {tag}'s scripts/version.sh sets {}", literal.unwrap_or_default()))
            }
            (None, None) => {
                let _ = writeln!(pins_summary, "  {name}: unchanged (k3s {tag} names no version for it)");
                continue;
            }
        };
        let whence = whence.replace("{v}", &version);
        // A version.sh literal reaches the spec (and from there BitBake values): a plain version only.
        check_version(name, &version)?;
        let unchanged = spec_edit::get(&new_spec, name, "version").as_deref() == Some(version.as_str());
        let purl = url_for(o, name, &new_spec)?;
        let prefs = git::ls_remote(&purl)?;
        let commit = git::tag_commit(&prefs, &version)
            .ok_or_else(|| BumpError::Msg(format!("{name}: no tag refs/tags/{version} in {purl}")))?;
        // An unchanged version is proven again too: its tag still names the pinned commit (a tag moved upstream
        // stops the bump), and its branch still contains it.
        let pinned = spec_edit::get(&new_spec, name, "commit").unwrap_or_default();
        if unchanged && pinned != commit {
            return Err(BumpError::Msg(format!(
                "{name}: tag {version} in {purl} names {commit}, but {SPEC} pins {pinned} for it: the tag was moved \
                 upstream (or the spec edited); check which is right before bumping"
            )));
        }
        // The branch BitBake's git fetcher gets must contain the commit: proven on the branches' history.
        let current = spec_edit::get(&new_spec, name, "branch");
        let branch = git::branch_containing(
            name,
            &purl,
            &version,
            &commit,
            current.as_deref(),
            &work.0.join("pins").join(name),
        )?;
        if unchanged && current.as_deref() == Some(branch.as_str()) {
            let _ = writeln!(pins_summary, "  {name}: {version} unchanged (its tag's commit, on {branch})");
            continue;
        }
        pins_summary +=
            &set(&mut new_spec, name, &version, &commit, &branch, format!("Set by `k3s-bake bump`: {whence}."))?;
    }

    // 5. Charts (with sha256), flags, check-config.sh options: recorded; the kernel and flag differences reported.
    let client = go_resolve::proxy::ProxyClient::new(&work.0.join("charts"), o.resolve.retries, o.resolve.backoff);
    let (charts, chart_summary) = charts::fetch(
        &client,
        &chart_base,
        &read(&src.join("manifests/traefik.yaml"))?,
        &format!("k3s {tag}"),
        &old_upstream.charts,
        &work.0.join("charts"),
    )?;
    let provenance = format!(
        "read by `k3s-bake bump k3s {tag}` from k3s {tag}: the charts manifests/traefik.yaml references, each sha256 \
         computed over the archive downloaded from {chart_base}; the other records from the files their kind names"
    );
    let read_from = k3s_upstream_facts::ReadFrom { tag: tag.to_owned(), commit: t.commit.clone() };
    let mut upstream_facts = k3s_upstream_facts::header(&provenance, Some(&read_from)).map_err(BumpError::Msg)?;
    for c in &charts {
        upstream_facts += &c.record();
    }
    for (k, v) in &literals {
        let _ = writeln!(upstream_facts, "version.sh\t{k}\t{v}");
    }
    let _ = writeln!(upstream_facts, "containerd\t{containerd}\t{}", replaced(&containerd));
    // Flags: k3s's own pkg/cli/cmds, run by the go command over the same offline proxy; the facts file `gen` renders
    // the config validation from (k3s_model::flags and k3s-config-facts.inc).
    let new_flags = cliflags::read(
        &cliflags::GoEnv { go: &o.go, proxy: &proxy, modcache: &modcache.0, tags: &go_tags },
        &src,
        &gm.module,
        tag,
        &t.commit,
    )?;
    let flags_path = o.layer.join(k3s_model::flags::facts::PATH);
    let old_flags = k3s_model::flags::facts::FlagFacts::parse(k3s_model::flags::facts::PATH, &read(&flags_path)?)
        .map_err(|e| BumpError::step("reading the flag facts", e))?;
    let flags_summary = cliflags::summary(&old_flags, &new_flags);
    let kernel = upstream::check_config_options(&read(&src.join("contrib/util/check-config.sh"))?);
    for k in &kernel {
        let _ = writeln!(upstream_facts, "check-config\t{k}");
    }
    let ours: BTreeSet<String> = k3s_model::kernel::OPTIONS.iter().map(|k| k.name.to_owned()).collect();
    let only_upstream: Vec<&String> = kernel.difference(&ours).collect();
    let only_ours: Vec<&String> = ours.difference(&kernel).collect();

    // 6. Summary.
    let mut s = String::new();
    let _ = writeln!(s, "k3s {old_version} ({}) → {tag} ({})", old_commit.get(..12).unwrap_or(""), t.commit);
    s += "pins:\n";
    s += &pins_summary;
    let (old_m, new_m) = (module_versions(&old_facts), module_versions(&facts));
    let _ = writeln!(
        s,
        "modules: {} → {} module versions ({} linked)",
        old_facts.modules.len(),
        facts.modules.len(),
        linked.0.len()
    );
    for path in old_m.keys().chain(new_m.keys()).collect::<BTreeSet<_>>() {
        let (o, n) = (old_m.get(path), new_m.get(path));
        let list = |v: Option<&BTreeSet<String>>| v.map(|v| v.iter().cloned().collect::<Vec<_>>().join(" "));
        match (list(o), list(n)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                let _ = writeln!(s, "  {path}: {a} → {b}");
            }
            (None, Some(b)) => {
                let _ = writeln!(s, "  + {path} {b}");
            }
            (Some(a), None) => {
                let _ = writeln!(s, "  - {path} {a}");
            }
            (None, None) => {}
        }
    }
    let (old_l, new_l) = (licence_terms(&old_facts), licence_terms(&facts));
    let _ = writeln!(
        s,
        "licences: added {:?}, removed {:?}",
        new_l.difference(&old_l).collect::<Vec<_>>(),
        old_l.difference(&new_l).collect::<Vec<_>>()
    );
    s += "traefik charts (manifests/traefik.yaml → k3s-charts.inc):\n";
    s += &chart_summary;
    let _ = writeln!(s, "flags ({}, written to {}):", cliflags::CMDS, k3s_model::flags::facts::PATH);
    s += &flags_summary;
    let _ = writeln!(
        s,
        "kernel (contrib/util/check-config.sh) against k3s_model::kernel (not applied; review and edit the model):\n  \
         checked upstream, not in the model: {only_upstream:?}\n  in the model, not checked upstream: {only_ours:?}"
    );
    // 6b. The airgap archives of the tag, from the release's own sums (see `airgap`).
    let image_list = std::fs::read_to_string(src.join("scripts/airgap/image-list.txt")).ok();
    let release_base = o.release_base.as_deref().unwrap_or(airgap::RELEASES);
    let airgap = airgap::record(&client, release_base, tag, &t.commit, image_list.as_deref())?;
    match &airgap {
        Some(r) => {
            s += "airgap images (release assets):\n";
            s += &r.summary;
        }
        None => {
            let _ = writeln!(
                s,
                "airgap images: release {tag} has not published sha256sum-{}.txt under {release_base} yet; the old \
                 facts stay, so k3s-airgap-images skips itself until a bump records them",
                k3s_upstream_facts::airgap::ARCHES[0].1
            );
        }
    }
    let _ = writeln!(s, "shortlog {}..{}:", old_commit.get(..12).unwrap_or(""), &t.commit[..12]);
    s += &shortlog;

    let mut files = BTreeMap::new();
    files.insert(PathBuf::from(SPEC), new_spec.into_bytes());
    files.insert(PathBuf::from(FACTS), facts.to_tsv().into_bytes());
    // What bump writes, gen must read: the new facts go through the one reader before anything is staged.
    k3s_upstream_facts::parse(UPSTREAM_FACTS, &upstream_facts)
        .map_err(|e| BumpError::step(format!("k3s {tag}: the new upstream facts"), e))?;
    files.insert(PathBuf::from(UPSTREAM_FACTS), upstream_facts.into_bytes());
    files.insert(PathBuf::from(k3s_model::flags::facts::PATH), new_flags.to_tsv().into_bytes());
    if let Some(r) = airgap {
        files.insert(PathBuf::from(airgap::FACTS), r.facts.into_bytes());
    }
    Ok(Prepared { files, summary: s })
}

/// A pin version read from upstream text: `v` then letters, digits, `.`, `+`, `-`, `_` only.
pub fn check_version(pin: &str, v: &str) -> Result<(), BumpError> {
    let ok = v.len() > 1
        && v.starts_with('v')
        && v[1..].starts_with(|c: char| c.is_ascii_digit())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".+-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(BumpError::Msg(format!("{pin}: version {v:?} read from k3s is not a plain version (v1.2.3[-x])")))
    }
}

/// Module path → versions.
fn module_versions(f: &Facts) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in f.modules.keys() {
        out.entry(m.path.clone()).or_default().insert(m.version.clone());
    }
    out
}

fn licence_terms(f: &Facts) -> BTreeSet<String> {
    f.modules.values().flat_map(|m| m.licenses.values().map(|l| l.spdx.clone())).collect()
}

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chmod").arg("-R").arg("u+w").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory under `base`.
pub fn tempdir_in(base: &Path) -> Result<TempDir, BumpError> {
    std::fs::create_dir_all(base).map_err(|e| BumpError::step(format!("creating {}", base.display()), e))?;
    for i in 0..1000u32 {
        let d = base.join(format!("k3s-bump-{}-{i}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(TempDir(d)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(BumpError::step(format!("creating {}", d.display()), e)),
        }
    }
    Err(BumpError::Msg(format!("no free scratch directory under {}", base.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_patches_of_other_pins() {
        let r = |t: &str| ("0".repeat(40), format!("refs/tags/{t}"));
        let refs = [r("v1.4.2"), r("v1.4.3"), r("v1.4.3^{}"), r("v1.4.4-rc.1"), r("v1.5.0"), r("v1.4.10")];
        assert_eq!(newer_semver_patches(&refs, "v1.4.2"), ["v1.4.3", "v1.4.10"]);
        assert!(newer_semver_patches(&[r("v1.9.1-flannel1")], "v1.9.1-flannel1").is_empty());
    }

    #[test]
    fn pin_versions_from_upstream_text_are_plain() {
        for ok in ["v1.9.2-flannel1", "v1.4.3", "v0.9.11-build20260601", "v1.36.2+k3s1"] {
            check_version("p", ok).unwrap();
        }
        for bad in ["1.2.3", "v", "vx", "v1.2\"", "v1;x", "v1${@os.system('x')}", "v1\nBAD=1"] {
            assert!(check_version("p", bad).is_err(), "{bad}");
        }
    }
}
