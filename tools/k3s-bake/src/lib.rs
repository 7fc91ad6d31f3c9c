//! `k3s-bake`: the host tool of meta-k3s-rs, as a library; `main.rs` only parses the command line and calls it.
//!
//! It renders every generated file of the layer from `k3s-spec.yaml` (and the facts committed next to the
//! recipes) and checks that the committed files are current. See ARCHITECTURE.md for the map of the code.
//!
//! The API, by use:
//! - the layer's generated files: [`Context`] (root + spec) and [`generated`] (the registry, [`generated::write_all`],
//!   [`generated::check`]); one pure renderer per file (set) in [`render`];
//! - the subcommands, each an `…Args` (clap) and a `run`: [`cmd_gen`], [`cmd_cargo`], [`cmd_go`], [`cmd_kernel`],
//!   [`check_kernel`];
//! - the inputs: [`spec`] (`k3s-spec.yaml`), [`kernel_inputs`] (linux-yocto's recorded configuration inputs);
//! - [`find_root`]: the layer a command works on.
//!
//! Module dependencies point one way (tests/architecture.rs fails on a cycle): the CLI edges (`cmd_*`,
//! `check_kernel`) use `generated`, `render`, `context` and the inputs; `generated` names the renderers; renderers
//! read `context` and the inputs.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

pub mod check_kernel;
#[cfg(feature = "online")]
pub mod cmd_bump;
pub mod cmd_cargo;
pub mod cmd_gen;
pub mod cmd_go;
pub mod cmd_kernel;
pub mod cmd_setup;
pub mod context;
pub mod generated;
pub mod kernel_inputs;
pub mod render;
pub mod spec;

pub use context::Context;

/// The nearest directory from `start` upwards that holds `k3s-spec.yaml`: the layer root.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(spec::SPEC_FILE).is_file())
        .map(Path::to_path_buf)
        .with_context(|| format!("no {} in {} or any parent; pass --root", spec::SPEC_FILE, start.display()))
}
