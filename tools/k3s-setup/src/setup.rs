//! `k3s-bake setup`: a build directory from nothing, without kas.
//!
//! ```text
//! DIR/layers/openembedded-core   DIR/layers/bitbake   [DIR/layers/meta-openembedded]   (git, at the spec's pins)
//! DIR/build/conf/bblayers.conf   DIR/build/conf/local.conf                              (written here)
//! DIR/downloads   DIR/sstate-cache                                                      (DL_DIR, SSTATE_DIR defaults)
//! ```
//! Every value is checked ([`crate::bbvalue`]) before anything is cloned or written; the configuration is
//! rendered in memory first and written atomically (k3s-atomic), only when it changed, so a second run changes
//! nothing and says so. Files this command did not write are never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::git::{self, Outcome};
use crate::layers::{Layers, Repo};
use crate::machine::Machine;
use bb_value::{Op, Val, assign, comment, list, require};

use crate::{Error, Result, bbvalue};

/// First line of every file `setup` writes; how it recognises its own files.
pub const HEADER: &str = "# Written by `k3s-bake setup` (meta-k3s-rs). Re-run it to change this file.";

/// OE-Core wrynose's meta/conf/sanity.conf: `LAYER_CONF_VERSION ?= "7"`, `LOCALCONF_VERSION ?= "2"` (the sanity
/// check stops a build whose bblayers.conf / local.conf carry another version).
const LCONF_VERSION: &str = "7";
const CONF_VERSION: &str = "2";

/// The line that turns the layer on (README: Using the layer).
macro_rules! require_file {
    () => {
        "conf/distro/include/k3s.inc"
    };
}
/// The layer's configuration include every build directory of the layer requires.
pub const REQUIRE_FILE: &str = require_file!();
/// The line that requires it (local.conf, the kas files' local_conf_header).
pub const REQUIRE_LINE: &str = concat!("require ", require_file!());

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The setup directory (made absolute by [`plan`]).
    pub dir: PathBuf,
    /// This layer's checkout.
    pub layer_root: PathBuf,
    /// The pins (spec `layers:`).
    pub layers: Layers,
    /// `--release`: must be the spec's.
    pub release: Option<String>,
    /// MACHINE.
    pub machine: &'static Machine,
    /// Also meta-openembedded (meta-oe, meta-python, meta-networking).
    pub networking: bool,
    /// DL_DIR (default DIR/downloads).
    pub downloads: Option<PathBuf>,
    /// SSTATE_DIR (default DIR/sstate-cache).
    pub sstate_dir: Option<PathBuf>,
    /// `--sstate-mirror URL`.
    pub sstate_mirror: Option<String>,
    /// `--hashserv`.
    pub hashserv: Option<String>,
    /// Fetch nothing.
    pub offline: bool,
}

/// A checked setup: every value already in the form it is written.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Absolute setup directory.
    pub dir: PathBuf,
    /// TOPDIR of the build.
    pub build_dir: PathBuf,
    layers: Layers,
    repos: Vec<Repo>,
    offline: bool,
    /// `conf/bblayers.conf` as it will be written.
    pub bblayers_conf: String,
    /// `conf/local.conf` as it will be written.
    pub local_conf: String,
    /// Said before anything is done.
    pub warnings: Vec<String>,
}

/// Where the repository of a layer goes.
pub fn repo_dir(dir: &Path, repo: Repo) -> PathBuf {
    dir.join("layers").join(repo.dir_name())
}

/// The build directory (TOPDIR) of a setup directory.
pub fn build_dir(dir: &Path) -> PathBuf {
    dir.join("build")
}

fn absolute(what: &str, p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, format!("{what}: cannot make the path absolute"), e))
}

/// Checks everything and renders the configuration in memory; touches nothing.
pub fn plan(opts: &Options) -> Result<Plan> {
    if let Some(r) = &opts.release
        && *r != opts.layers.release
    {
        return Err(Error::invalid(
            "--release",
            format!("the spec pins layers for {:?} only, got {r:?}", opts.layers.release),
        ));
    }
    opts.layers.validate().map_err(|m| Error::invalid("k3s-spec.yaml", m))?;
    let dir = absolute("--dir", &opts.dir)?;
    let dir_s = bbvalue::path("--dir", &dir)?;
    let layer_root =
        std::fs::canonicalize(&opts.layer_root).map_err(|e| Error::io(&opts.layer_root, "the layer's checkout", e))?;
    if !layer_root.join("conf/layer.conf").is_file() {
        return Err(Error::invalid("--root", format!("{} has no conf/layer.conf", layer_root.display())));
    }
    let layer_s = bbvalue::path("the layer's checkout (--root)", &layer_root)?;
    let downloads = match &opts.downloads {
        Some(p) => bbvalue::path("--downloads", &absolute("--downloads", p)?)?,
        None => format!("{dir_s}/downloads"),
    };
    let sstate = match &opts.sstate_dir {
        Some(p) => bbvalue::path("--sstate-dir", &absolute("--sstate-dir", p)?)?,
        None => format!("{dir_s}/sstate-cache"),
    };
    let mirror = opts.sstate_mirror.as_deref().map(bbvalue::sstate_mirror).transpose()?;
    let mirror_given = mirror.is_some();
    let hashserv = opts.hashserv.as_deref().map(bbvalue::hashserv).transpose()?;
    let repos = Layers::repos(opts.networking);

    // Both files through the one BitBake writer (bb-value), after the option checks above (bbvalue: stricter,
    // per option); a value either refuses names the option it came from.
    let bb = |e: bb_value::Error| Error::invalid("BitBake configuration", e.to_string());
    let mut bblayers = format!("{HEADER}\n");
    comment(
        &mut bblayers,
        &format!(
            "Layers of release {} at the commits k3s-spec.yaml pins (layers:), then meta-k3s-rs.",
            opts.layers.release
        ),
    )
    .map_err(bb)?;
    assign(&mut bblayers, "LCONF_VERSION", Op::Set, Val::Lit(LCONF_VERSION)).map_err(bb)?;
    assign(&mut bblayers, "BBPATH", Op::Set, Val::Bb("${TOPDIR}")).map_err(bb)?;
    assign(&mut bblayers, "BBFILES", Op::Default, Val::Lit("")).map_err(bb)?;
    let mut layer_dirs = Vec::new();
    for repo in &repos {
        for sub in repo.layer_dirs() {
            layer_dirs.push(format!("{dir_s}/layers/{}/{sub}", repo.dir_name()));
        }
    }
    layer_dirs.push(layer_s.clone());
    let items: Vec<Val<'_>> = layer_dirs.iter().map(|d| Val::Lit(d)).collect();
    list(&mut bblayers, "BBLAYERS", Op::Default, &items).map_err(bb)?;

    let mut local = format!("{HEADER}\n");
    comment(
        &mut local,
        "Your own settings go into conf/site.conf: BitBake reads it before this file, and the ?= below yield to it.",
    )
    .map_err(bb)?;
    assign(&mut local, "CONF_VERSION", Op::Set, Val::Lit(CONF_VERSION)).map_err(bb)?;
    assign(&mut local, "MACHINE", Op::Default, Val::Lit(opts.machine.name)).map_err(bb)?;
    assign(&mut local, "DISTRO", Op::Default, Val::Lit("nodistro")).map_err(bb)?;
    assign(&mut local, "DL_DIR", Op::Default, Val::Lit(&downloads)).map_err(bb)?;
    assign(&mut local, "SSTATE_DIR", Op::Default, Val::Lit(&sstate)).map_err(bb)?;
    if let Some(m) = &mirror {
        comment(&mut local, "Shared state from the team's mirror (--sstate-mirror), SSTATE_DIR's layout.")
            .map_err(bb)?;
        assign(&mut local, "SSTATE_MIRRORS", Op::Default, Val::Lit(m)).map_err(bb)?;
    }
    let mut warnings = Vec::new();
    if hashserv.is_none() {
        // OE-Core's local hash-equivalence server keeps its database in the build directory; with SSTATE_DIR
        // outside it, sanity.bbclass warns that sstate cannot be reused across builds (found with real BitBake).
        comment(
            &mut local,
            "The local hash-equivalence database next to the shared state it describes (OE-Core's sanity check).",
        )
        .map_err(bb)?;
        assign(&mut local, "BB_HASHSERVE_DB_DIR", Op::Default, Val::Bb("${SSTATE_DIR}")).map_err(bb)?;
        if mirror_given {
            warnings.push(
                "--sstate-mirror without --hashserv: with only the local hash-equivalence server little of the \
                 mirror's shared state will match (OE-Core's sanity check says the same); pass the team's server"
                    .to_owned(),
            );
        }
    }
    if let Some(h) = &hashserv {
        comment(
            &mut local,
            "The team's hash-equivalence server (--hashserv): equivalent task outputs found in the mirror are reused.",
        )
        .map_err(bb)?;
        assign(&mut local, "BB_SIGNATURE_HANDLER", Op::Set, Val::Lit("OEEquivHash")).map_err(bb)?;
        assign(&mut local, "BB_HASHSERVE", Op::Set, Val::Lit(h)).map_err(bb)?;
    }
    comment(&mut local, "systemd, seccomp and the k3s-rs distro feature (README: Using the layer).").map_err(bb)?;
    require(&mut local, Val::Lit(REQUIRE_FILE)).map_err(bb)?;

    Ok(Plan {
        build_dir: build_dir(&dir),
        dir,
        layers: opts.layers.clone(),
        repos,
        offline: opts.offline,
        bblayers_conf: bblayers,
        local_conf: local,
        warnings,
    })
}

/// What a run changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One line per repository or file that changed.
    pub changed: Vec<String>,
}

/// Carries out a plan: layers first, then the two configuration files. Prints one line per step to `out`.
pub fn apply(plan: &Plan, out: &mut dyn Write) -> Result<Report> {
    let conf = plan.build_dir.join("conf");
    let files = [(conf.join("bblayers.conf"), &plan.bblayers_conf), (conf.join("local.conf"), &plan.local_conf)];
    // Refuse before cloning anything: a run that cannot finish should not start.
    for (path, _) in &files {
        ensure_ours(path)?;
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let mut report = Report::default();
    let mut missing = Vec::new();
    for repo in &plan.repos {
        let pin = plan.layers.pin(*repo);
        let dest = repo_dir(&plan.dir, *repo);
        let short = &pin.commit[..12];
        let line = match git::ensure(&dest, pin, plan.offline)? {
            Outcome::Unchanged => format!("{}: at {short} ({}), unchanged", repo.dir_name(), pin.branch),
            Outcome::Cloned => {
                report.changed.push(format!("cloned {}", repo.dir_name()));
                format!("{}: cloned {} at {short} ({})", repo.dir_name(), pin.git, pin.branch)
            }
            Outcome::Updated { from } => {
                report.changed.push(format!("updated {}", repo.dir_name()));
                format!("{}: moved from {} to {short} ({})", repo.dir_name(), &from[..from.len().min(12)], pin.branch)
            }
            Outcome::Missing(what) => {
                missing.push(what);
                continue;
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if !missing.is_empty() {
        return Err(Error::Missing(missing));
    }
    for (path, text) in &files {
        let rel = path.strip_prefix(&plan.dir).unwrap_or(path).display().to_string();
        if std::fs::read(path).ok().as_deref() == Some(text.as_bytes()) {
            let _ = writeln!(out, "{rel}: unchanged");
            continue;
        }
        std::fs::create_dir_all(&conf).map_err(|e| Error::io(&conf, "cannot create", e))?;
        k3s_atomic::write(path, text.as_bytes(), k3s_atomic::MODE_PUBLIC)
            .map_err(|e| Error::io(path, "cannot write", e))?;
        report.changed.push(format!("wrote {rel}"));
        let _ = writeln!(out, "{rel}: written");
    }
    if report.changed.is_empty() {
        let _ = writeln!(out, "nothing changed: every layer is at its pin and the configuration is current");
    }
    Ok(report)
}

/// A configuration file may be (re)written only when it is missing or was written by `setup`.
fn ensure_ours(path: &Path) -> Result<()> {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, "cannot read", e)),
        Ok(text) if text.starts_with(HEADER) => Ok(()),
        Ok(_) => Err(Error::NotOurs {
            path: path.to_owned(),
            message: "was not written by `k3s-bake setup` and is left alone; move it away (your settings belong in \
                      conf/site.conf) or pass another --dir"
                .into(),
        }),
    }
}
