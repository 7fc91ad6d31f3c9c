//! `k3s-bake gen [--check]`: the CLI edge of [`crate::generated`].

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::context::Context;
use crate::generated;

/// Renders every generated file and writes those that changed (`check: false`), or compares them with the tree
/// and fails with a diff per drifted file (`check: true`).
pub fn run(root: &Path, check: bool) -> Result<ExitCode> {
    let ctx = Context::load(root)?;
    let total = generated::outputs().len();
    if !check {
        let written = generated::write_all(&ctx)?;
        for path in &written {
            println!("wrote {}", path.display());
        }
        println!("{} of {total} generated files changed", written.len());
        return Ok(ExitCode::SUCCESS);
    }
    let drift = generated::check(&ctx)?;
    if drift.is_empty() {
        println!("all {total} generated files are current");
        return Ok(ExitCode::SUCCESS);
    }
    for d in &drift {
        eprintln!("{d}");
    }
    bail!("{} generated file(s) out of date; run `{}`", drift.len(), generated::REGENERATE)
}
