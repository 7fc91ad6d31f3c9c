//! Offline reader of a Cargo workspace (manifests with workspace inheritance, Cargo.lock v3/v4) and the facts an
//! OE-Core `cargo` recipe needs from it: the `crate://` and `git://` sources with checksums and commits, LICENSE from
//! SPDX expressions, LIC_FILES_CHKSUM with real md5s, and the licenses of the crates statically linked into the
//! selected packages: which ones, cargo's feature-resolver rules say (`features`, per target, over Cargo.lock and
//! each locked package's manifest; `resolve`: `cargo tree --offline --locked` per target as its fallback and
//! verifier); their licenses come from the `.crate` archives in the local cargo cache.
//!
//! Nothing here touches the network: cargo (when asked) runs offline, everything else comes from files on disk, so rendering is
//! deterministic. Both expensive steps are cached (`cache`), keyed by what determines their result.
#![forbid(unsafe_code)]

pub mod archive;
pub mod cache;
pub mod cfg;
mod error;
pub mod features;
pub mod lock;
pub mod manifest;
pub mod recipe;
pub mod resolve;
pub mod spdx;
mod toolchain;

pub use error::{Error, Result};
