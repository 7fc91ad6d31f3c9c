//! Which cargo answers: shared by `resolve` (which runs it) and `cache` (whose keys hash its binary), a leaf so
//! neither depends on the other for it.

use std::path::PathBuf;

/// The cargo binary: `$CARGO` (set when running under cargo, so the same toolchain answers), else `cargo`.
pub fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("cargo"))
}
