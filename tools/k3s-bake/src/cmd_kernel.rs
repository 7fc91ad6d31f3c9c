//! `k3s-bake kernel import|inputs`: linux-yocto's configuration inputs as facts ([`crate::kernel_inputs`]).

use std::path::PathBuf;

use anyhow::{Context as _, Result, ensure};

use crate::kernel_inputs::{self, FACTS, Facts};

/// The `kernel` subcommands.
#[derive(Debug, clap::Args)]
pub struct KernelArgs {
    #[command(subcommand)]
    cmd: KernelCmd,
}

#[derive(Debug, clap::Subcommand)]
enum KernelCmd {
    /// Record each MACHINE's ordered config inputs from a yocto-kernel-cache checkout into the facts file.
    Import {
        /// The yocto-kernel-cache checkout (branch yocto-6.18, at OE-Core's SRCREV_meta where available).
        #[arg(long, value_name = "DIR")]
        cache: PathBuf,
        /// The checkout's commit (`git -C DIR rev-parse HEAD`), recorded as provenance.
        #[arg(long, value_name = "SHA")]
        commit: String,
    },
    /// Write one MACHINE's inputs as numbered fragment files in merge order, the k3s fragment at its place.
    Inputs {
        /// qemux86-64, qemuarm64 or qemuarm.
        #[arg(long)]
        machine: String,
        /// The fragment to merge at the layer's place (default: the layer's rendered k3s.cfg).
        #[arg(long, value_name = "FILE")]
        fragment: Option<PathBuf>,
        /// Directory to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Where the fragment goes: `features` (last, as linux-yocto-k3s.inc applies it) or `src-uri` (where a
        /// SRC_URI .scc lands: the layer's old placement, kept as the kconfig suite's negative control).
        #[arg(long, default_value = "features", value_parser = ["features", "src-uri"])]
        at: String,
    },
}

/// Runs a `kernel` subcommand for the layer at `root`.
pub fn run(root: &std::path::Path, args: KernelArgs) -> Result<()> {
    match args.cmd {
        KernelCmd::Import { cache, commit } => {
            ensure!(
                commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "--commit: expected the 40-hex commit of the checkout, got {commit:?}"
            );
            let facts = kernel_inputs::import(&cache, &commit)
                .with_context(|| format!("importing from the kernel cache at {}", cache.display()))?;
            let path = root.join(FACTS);
            k3s_atomic::write(&path, facts.render().as_bytes(), 0o644)
                .with_context(|| format!("writing {}", path.display()))?;
            for (m, (bsp, q)) in &facts.machines {
                println!("{m}: {bsp}, {} cfg files merged, the k3s fragment last", q.len() - 2);
            }
            println!("wrote {FACTS}");
            Ok(())
        }
        KernelCmd::Inputs { machine, fragment, out, at } => {
            let facts = Facts::load(root)?;
            let fragment = fragment.unwrap_or_else(|| root.join(crate::render::kernel_fragment::CFG_PATH));
            let at = if at == "src-uri" { kernel_inputs::SRC_URI_ENTRY } else { kernel_inputs::K3S_ENTRY };
            for p in kernel_inputs::write_inputs(&facts, &machine, &fragment, at, &out)? {
                println!("{}", p.display());
            }
            Ok(())
        }
    }
}
