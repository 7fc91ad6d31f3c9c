//! What every renderer reads: the repository root and the parsed spec. Its own module so that renderers
//! (`render/*`) and the registry of generated files (`generated`) both depend on it and not on each other.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::spec::{SPEC_FILE, Spec};

/// What a renderer may read: the repository root and the parsed spec.
#[derive(Debug)]
pub struct Context {
    /// Repository root (the layer).
    pub root: PathBuf,
    /// The parsed `k3s-spec.yaml`.
    pub spec: Spec,
}

impl Context {
    /// Loads the spec from `root`.
    pub fn load(root: &Path) -> Result<Context> {
        let spec = Spec::load(&root.join(SPEC_FILE))?;
        Ok(Context { root: root.to_owned(), spec })
    }
}
