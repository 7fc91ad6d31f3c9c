//! `k3s-bake`: the host tool of meta-k3s-rs.
//!
//! It renders every generated file of the layer from `k3s-spec.yaml` (and the facts committed next to the
//! recipes) and checks that the committed files are current. See ARCHITECTURE.md for the map of the code.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

mod check_kernel;
#[cfg(feature = "online")]
mod cmd_bump;
mod cmd_cargo;
mod cmd_go;
mod cmd_kernel;
mod generated;
mod kernel_inputs;
mod render;
mod spec;

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
    /// Take k3s (and what it pins) to a new tag, facts read from its source, then gen (online).
    #[cfg(feature = "online")]
    Bump(Box<cmd_bump::BumpArgs>),
}

fn find_root(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(spec::SPEC_FILE).is_file())
        .map(Path::to_path_buf)
        .with_context(|| format!("no {} in {} or any parent; pass --root", spec::SPEC_FILE, start.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    // Only the commands that work on the layer need its root; check-kernel reads one file.
    let root = || -> Result<PathBuf> {
        match &cli.root {
            Some(root) => Ok(root.clone()),
            None => find_root(&std::env::current_dir()?),
        }
    };
    match cli.command {
        // `cargo` works on any workspace, inside this layer or not: it needs no spec file.
        Command::Cargo(args) => cmd_cargo::run(args),
        Command::Go(args) => cmd_go::run(&root()?, *args).map(|()| ExitCode::SUCCESS),
        Command::Gen { check: false } => {
            let ctx = generated::Context::load(&root()?)?;
            let written = generated::write_all(&ctx)?;
            for path in &written {
                println!("wrote {}", path.display());
            }
            println!("{} of {} generated files changed", written.len(), generated::registry().len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen { check: true } => {
            let ctx = generated::Context::load(&root()?)?;
            let drift = generated::check(&ctx)?;
            if drift.is_empty() {
                println!("all {} generated files are current", generated::registry().len());
                return Ok(ExitCode::SUCCESS);
            }
            for d in &drift {
                eprintln!("{d}");
            }
            bail!("{} generated file(s) out of date; run `{}`", drift.len(), generated::REGENERATE)
        }
        Command::CheckKernel(ref args) => check_kernel::run(args),
        Command::Kernel(args) => cmd_kernel::run(&root()?, args).map(|()| ExitCode::SUCCESS),
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
