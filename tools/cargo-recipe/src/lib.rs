//! Offline reader of a Cargo workspace (manifests with workspace inheritance, Cargo.lock v3/v4) and the facts an
//! OE-Core `cargo` recipe needs from it: the `crate://` and `git://` sources with checksums and commits, LICENSE from
//! SPDX expressions, LIC_FILES_CHKSUM with real md5s, and the licenses of the crates statically linked into the
//! selected packages (read from the `.crate` archives in the local cargo cache).
//!
//! Nothing here touches the network or a registry index: everything comes from files on disk, so rendering is
//! deterministic and fast.
#![forbid(unsafe_code)]

pub mod archive;
pub mod cfg;
mod error;
pub mod lock;
pub mod manifest;
pub mod recipe;
pub mod spdx;

pub use error::{Error, Result};
