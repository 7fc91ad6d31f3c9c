//! `k3s-bake setup | build | qemu | cross`: the CLI edge of `k3s-setup` (issue 13). The spec supplies the layer
//! pins (`layers:`) and the images' defaults (`images:`); the library does the work.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use k3s_setup::machine::{self, Target};
use k3s_setup::run::{Env, ImageDefaults};

use crate::spec::{Role, SPEC_FILE, Spec};

/// Default setup directory, relative to the current directory (`/build*/` is ignored by git in this repository).
const DEFAULT_DIR: &str = "build-k3s";

/// `k3s-bake setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// OE-Core release (the spec pins layers for one: wrynose).
    #[arg(long)]
    release: Option<String>,
    /// MACHINE of the build: qemux86-64, qemuarm64 or qemuarm.
    #[arg(long, default_value = "qemux86-64")]
    machine: String,
    /// Setup directory: layers/, build/, downloads/, sstate-cache/ go below it.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// Also meta-openembedded (meta-oe, meta-python, meta-networking: conntrack-tools and ipset for k3s).
    #[arg(long)]
    networking: bool,
    /// DL_DIR (default DIR/downloads); share one between builds.
    #[arg(long, value_name = "DIR")]
    downloads: Option<PathBuf>,
    /// SSTATE_DIR (default DIR/sstate-cache).
    #[arg(long, value_name = "DIR")]
    sstate_dir: Option<PathBuf>,
    /// A team's shared-state mirror (https://, http:// or file:///, SSTATE_DIR's layout).
    #[arg(long, value_name = "URL")]
    sstate_mirror: Option<String>,
    /// A team's hash-equivalence server: HOST:PORT, ws://HOST:PORT, wss://HOST[:PORT][/PATH] or unix:///PATH.
    #[arg(long, value_name = "SERVER")]
    hashserv: Option<String>,
    /// Fetch nothing: reuse the clones that are there and name the ones that are missing.
    #[arg(long)]
    offline: bool,
}

/// `k3s-bake build` / `k3s-bake qemu`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image recipe (default: the spec's server image, or with --agent its agent image).
    image: Option<String>,
    /// The spec's agent image.
    #[arg(long, conflicts_with = "image")]
    agent: bool,
    /// Setup directory (`k3s-bake setup --dir`).
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
}

/// `k3s-bake qemu`.
#[derive(Debug, Args)]
pub struct QemuArgs {
    #[command(flatten)]
    image: ImageArgs,
    /// Add runqemu's `kvm` (x86-64 host, qemux86-64 image, /dev/kvm usable): much faster than emulation.
    #[arg(long)]
    kvm: bool,
}

/// `k3s-bake cross`.
#[derive(Debug, Args)]
pub struct CrossArgs {
    /// aarch64, armv7 or x86_64.
    #[arg(long, value_parser = parse_target)]
    target: Target,
    /// A Yocto SDK's environment-setup-* file: its CC (and LDFLAGS) link the binary.
    #[arg(long, value_name = "ENV_SCRIPT")]
    sdk: Option<PathBuf>,
    /// A debug build (default: release, as the recipe builds it).
    #[arg(long)]
    debug: bool,
}

fn parse_target(s: &str) -> Result<Target, String> {
    Target::parse(s).ok_or_else(|| {
        let all: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
        format!("expected one of {}", all.join(", "))
    })
}

fn code(c: i32) -> ExitCode {
    ExitCode::from(u8::try_from(c).unwrap_or(1))
}

fn spec(root: &Path) -> Result<Spec> {
    Ok(Spec::load(&root.join(SPEC_FILE))?)
}

/// `setup`.
pub fn setup(root: &Path, args: SetupArgs) -> Result<ExitCode> {
    let spec = spec(root)?;
    let opts = k3s_setup::setup::Options {
        dir: args.dir,
        layer_root: root.to_owned(),
        layers: spec.layers,
        release: args.release,
        machine: machine::find(&args.machine)?,
        networking: args.networking,
        downloads: args.downloads,
        sstate_dir: args.sstate_dir,
        sstate_mirror: args.sstate_mirror,
        hashserv: args.hashserv,
        offline: args.offline,
    };
    let plan = k3s_setup::setup::plan(&opts)?;
    let mut out = std::io::stdout();
    k3s_setup::setup::apply(&plan, &mut out)?;
    // writeln, not println: a closed pipe (`| head`) must not panic.
    let _ = writeln!(out, "next: k3s-bake build --dir {}", plan.dir.display());
    Ok(ExitCode::SUCCESS)
}

fn image(spec: &Spec, args: &ImageArgs) -> Result<(String, ImageDefaults)> {
    let role = if args.agent { Role::Agent } else { Role::Server };
    let name = match &args.image {
        Some(i) => i.clone(),
        None => match spec.images.iter().find(|(_, p)| p.role == role) {
            Some((n, _)) => n.clone(),
            None => bail!("{SPEC_FILE}: images has no image with role {role:?}"),
        },
    };
    // Images the spec does not describe (your own) get the server profile's defaults.
    let profile = spec
        .images
        .get(&name)
        .or_else(|| spec.images.values().find(|p| p.role == Role::Server))
        .with_context(|| format!("{SPEC_FILE}: no image profile"))?;
    Ok((
        name,
        ImageDefaults { memory_mb: profile.qemu_memory_mb, rootfs_extra_space_kb: profile.rootfs_extra_space_kb },
    ))
}

/// `build`: bitbake's exit status is k3s-bake's.
pub fn build(root: &Path, args: ImageArgs) -> Result<ExitCode> {
    let spec = spec(root)?;
    let (name, _) = image(&spec, &args)?;
    let env = Env::open(&args.dir)?;
    Ok(code(k3s_setup::run::build(&env, &name, &mut std::io::stdout())?))
}

/// `qemu`: runqemu's exit status is k3s-bake's.
pub fn qemu(root: &Path, args: QemuArgs) -> Result<ExitCode> {
    let spec = spec(root)?;
    let (name, defaults) = image(&spec, &args.image)?;
    let env = Env::open(&args.image.dir)?;
    Ok(code(k3s_setup::run::qemu(&env, &name, defaults, args.kvm, &mut std::io::stderr())?))
}

/// `cross`: cargo's exit status is k3s-bake's.
pub fn cross(root: &Path, args: CrossArgs) -> Result<ExitCode> {
    let opts =
        k3s_setup::cross::Options { target: args.target, sdk: args.sdk, root: root.to_owned(), debug: args.debug };
    let inv = k3s_setup::cross::plan(&opts)?;
    Ok(code(k3s_setup::cross::run(&inv, &mut std::io::stdout())?))
}
