//! Go module facts for BitBake recipes.
//!
//! A *fact* is something only the network can tell (the SHA-256 of a proxy zip, the commit a tag names, the md5 and
//! SPDX id of a license file). [`Facts`] keeps them in a sorted, one-record-per-line TSV committed next to the
//! recipe; [`import`] reads them out of existing BitBake includes and fact tables; [`render`] turns facts plus a
//! module list into the `*-go-mods.inc` / `*-licenses.inc` pair OE-Core's `go-mod` class and BitBake's
//! `gomod://` / `gomodgit://` fetchers consume, offline and byte-for-byte deterministic.
#![forbid(unsafe_code)]

pub mod import;
pub mod license;
pub mod linked;
pub mod render;
mod store;

pub use gomod::ModuleVersion;
pub use store::{Facts, FactsError, GitFact, LicenseFact, ModFacts};

/// Joins an escaped module cache path for a module version: `<escaped path>@<escaped version>`.
pub fn cache_dir_name(m: &ModuleVersion) -> Result<String, gomod::EscapeError> {
    Ok(format!("{}@{}", gomod::escape_path(&m.path)?, gomod::escape_version(&m.version)?))
}
