//! `k3s-bake`: the command line of the host tool of meta-k3s-rs. It parses the arguments and calls the library
//! (`lib.rs`, which holds everything else); see ARCHITECTURE.md for the map of the code.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
// The library's modules under the names the subcommands below use.
#[cfg(feature = "online")]
use k3s_bake::cmd_bump;
use k3s_bake::{check_kernel, cmd_cargo, cmd_gen, cmd_go, cmd_kernel, cmd_setup};

#[derive(Debug, Parser)]
#[command(name = "k3s-bake", version, about, long_about = None)]
struct Cli {
    /// Repository root (the layer); default: the nearest directory upwards holding k3s-spec.yaml.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render every generated file of the layer from k3s-spec.yaml and the committed facts.
    Gen {
        /// Write nothing; fail with a unified diff if any committed file differs from its rendering.
        #[arg(long)]
        check: bool,
    },
    /// Write an OE-Core cargo recipe (+ -crates.inc, -licenses.inc) for any Rust workspace, offline.
    Cargo(cmd_cargo::CargoArgs),
    /// Go modules: import, resolve and render facts into BitBake includes.
    Go(Box<cmd_go::GoArgs>),
    /// Check a kernel .config (plain or gzip) against the options k3s needs (the list the kernel fragment is
    /// rendered from). Exit 0: all required as wanted; 1: one missing; 2: the input cannot be read.
    CheckKernel(check_kernel::CheckKernelArgs),
    /// linux-yocto's configuration inputs per MACHINE: import them from a kernel cache, write them out.
    Kernel(cmd_kernel::KernelArgs),
    /// One k3s server and N agents from the built images under QEMU, on a private socket network (no root); the
    /// join token through fw_cfg. Waits until every node is Ready; Ctrl-C stops every VM.
    Cluster(Box<k3s_cluster::ClusterArgs>),
    /// A build directory from nothing, without kas: the spec's pinned layers (git), bblayers.conf and local.conf
    /// with the layer's require line. Idempotent; --offline reuses what is there.
    Setup(cmd_setup::SetupArgs),
    /// bitbake IMAGE in the setup's environment, with progress; prints where the image landed.
    Build(cmd_setup::ImageArgs),
    /// runqemu the built image (nographic, slirp) with its memory default; warns on low memory or no rootfs space.
    Qemu(cmd_setup::QemuArgs),
    /// The node tools cross-built outside BitBake (system cross toolchain or a Yocto SDK environment).
    Cross(cmd_setup::CrossArgs),
    /// Take k3s (and what it pins) to a new tag, facts read from its source, then gen (online).
    #[cfg(feature = "online")]
    Bump(Box<cmd_bump::BumpArgs>),
}

fn run(cli: Cli) -> Result<ExitCode> {
    // Only the commands that work on the layer need its root; check-kernel reads one file.
    let root = || -> Result<PathBuf> {
        match &cli.root {
            Some(root) => Ok(root.clone()),
            None => k3s_bake::find_root(&std::env::current_dir()?),
        }
    };
    match cli.command {
        // `cargo` works on any workspace, inside this layer or not: it needs no spec file.
        Command::Cargo(args) => cmd_cargo::run(args),
        Command::Go(args) => cmd_go::run(&root()?, *args).map(|()| ExitCode::SUCCESS),
        Command::Gen { check } => cmd_gen::run(&root()?, check),
        Command::CheckKernel(ref args) => check_kernel::run(args),
        Command::Kernel(args) => cmd_kernel::run(&root()?, args).map(|()| ExitCode::SUCCESS),
        Command::Cluster(args) => k3s_cluster::run(&args).map(|()| ExitCode::SUCCESS).map_err(Into::into),
        Command::Setup(args) => cmd_setup::setup(&root()?, args),
        Command::Build(args) => cmd_setup::build(&root()?, args),
        Command::Qemu(args) => cmd_setup::qemu(&root()?, args),
        Command::Cross(args) => cmd_setup::cross(&root()?, args),
        #[cfg(feature = "online")]
        Command::Bump(args) => cmd_bump::run(&root()?, *args).map(|()| ExitCode::SUCCESS),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("k3s-bake: {e:#}");
            ExitCode::FAILURE
        }
    }
}
