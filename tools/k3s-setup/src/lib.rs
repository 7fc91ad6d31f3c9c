//! From nothing to a k3s image, without kas: the host side of `k3s-bake setup`, `build`, `qemu` and `cross`.
//!
//! * [`layers`]: the layers a build needs besides this one (OE-Core, BitBake, meta-openembedded), pinned in the
//!   spec's `layers:` section (the kas files under `kas/` are rendered from the same pins).
//! * [`machine`]: the machines the layer supports and the Rust targets/cross toolchains of each.
//! * [`bbvalue`]: every user value (paths, mirror URLs, the hash-equivalence server) is checked here before it
//!   reaches BitBake syntax.
//! * [`git`]: clone/update a layer at its pinned commit (shallow where the server allows), offline reuse.
//! * [`setup`]: the build directory: layers, `conf/bblayers.conf`, `conf/local.conf`; idempotent, atomic writes.
//! * [`run`]: bitbake and runqemu in the setup's environment (oe-init-build-env sourced by a fixed script, user
//!   values only ever as arguments), with progress; `build` and `qemu`.
//! * [`cross`]: the node tools cross-built with a system toolchain or a Yocto SDK environment.
//!
//! Child processes go through `duct`; errors are [`Error`] (thiserror), the CLI edge adds context.
#![forbid(unsafe_code)]

pub mod bbvalue;
pub mod cross;
pub mod git;
pub mod layers;
pub mod machine;
pub mod run;
pub mod sdkenv;
pub mod setup;

use std::path::PathBuf;

/// Why a setup, build, qemu or cross command failed. Each names what it was given and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user value that would reach BitBake syntax or a command line is not acceptable.
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    /// A command could not be started or failed.
    #[error("{command}: {message}")]
    Command { command: String, message: String },
    /// Offline, and something the setup needs is not there.
    #[error("offline, and these are missing (run once with network, or copy them in): {}", .0.join("; "))]
    Missing(Vec<String>),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String, source: std::io::Error },
    /// A file exists that the setup did not write and will not overwrite.
    #[error("{path}: {message}")]
    NotOurs { path: PathBuf, message: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, message: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), message: message.into(), source }
    }
    pub(crate) fn invalid(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid { what: what.into(), message: message.into() }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;
