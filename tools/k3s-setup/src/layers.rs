//! The layers a build needs besides this one, as the spec's `layers:` section pins them.
//!
//! `k3s-bake setup` clones them at these commits; the kas files (`kas/`, rendered by `gen`) pin the same ones.

use serde::Deserialize;

/// `layers:` of `k3s-spec.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Layers {
    /// The OE-Core release the pins belong to (`--release` must name it).
    pub release: String,
    /// openembedded-core (its `meta` is the layer; `oe-init-build-env` lives at its root).
    pub oe_core: LayerPin,
    /// BitBake itself (not a layer; `oe-init-build-env` finds it next to openembedded-core).
    pub bitbake: LayerPin,
    /// meta-openembedded (optional: meta-oe, meta-python, meta-networking for conntrack-tools and ipset).
    pub meta_openembedded: LayerPin,
}

/// One git repository at one commit of one branch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPin {
    /// Where to clone from: `https://…` (or `file:///…`, for a local mirror).
    pub git: String,
    /// The branch the commit is on (kas checks it; `setup` falls back to fetching it when the server refuses a
    /// fetch by commit).
    pub branch: String,
    /// Full 40-hex commit.
    pub commit: String,
}

/// One repository of a build, by its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repo {
    /// openembedded-core.
    OeCore,
    /// bitbake.
    Bitbake,
    /// meta-openembedded.
    MetaOpenembedded,
}

impl Repo {
    /// Directory name under `<dir>/layers/` (and kas's repo id): the upstream repository names, so
    /// oe-init-build-env finds `../bitbake` next to `openembedded-core`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Repo::OeCore => "openembedded-core",
            Repo::Bitbake => "bitbake",
            Repo::MetaOpenembedded => "meta-openembedded",
        }
    }

    /// The key in the spec's `layers:` section.
    pub fn spec_key(self) -> &'static str {
        match self {
            Repo::OeCore => "oe-core",
            Repo::Bitbake => "bitbake",
            Repo::MetaOpenembedded => "meta-openembedded",
        }
    }

    /// The BitBake layers inside the repository, relative to its root, in BBLAYERS order.
    pub fn layer_dirs(self) -> &'static [&'static str] {
        match self {
            Repo::OeCore => &["meta"],
            Repo::Bitbake => &[],
            // meta-networking depends on openembedded-layer (meta-oe) and meta-python (its layer.conf).
            Repo::MetaOpenembedded => &["meta-oe", "meta-python", "meta-networking"],
        }
    }
}

impl Layers {
    /// The pin of one repository.
    pub fn pin(&self, repo: Repo) -> &LayerPin {
        match repo {
            Repo::OeCore => &self.oe_core,
            Repo::Bitbake => &self.bitbake,
            Repo::MetaOpenembedded => &self.meta_openembedded,
        }
    }

    /// The repositories a build clones: OE-Core and BitBake, plus meta-openembedded with `networking`.
    pub fn repos(networking: bool) -> Vec<Repo> {
        let mut repos = vec![Repo::OeCore, Repo::Bitbake];
        if networking {
            repos.push(Repo::MetaOpenembedded);
        }
        repos
    }

    /// Checks every value that reaches git, kas files or BitBake syntax; the message names `layers.<key>.<field>`.
    pub fn validate(&self) -> Result<(), String> {
        if !is_plain_word(&self.release) {
            return Err(format!(
                "layers.release: expected a release name (letters, digits, '-'), got {:?}",
                self.release
            ));
        }
        for repo in [Repo::OeCore, Repo::Bitbake, Repo::MetaOpenembedded] {
            let pin = self.pin(repo);
            let at = format!("layers.{}", repo.spec_key());
            let commit_ok =
                pin.commit.len() == 40 && pin.commit.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !commit_ok {
                return Err(format!(
                    "{at}.commit: expected a full 40-digit lower-case hex commit, got {:?}",
                    pin.commit
                ));
            }
            crate::bbvalue::git_url(&pin.git).map_err(|m| format!("{at}.git: {m}"))?;
            if pin.branch.is_empty()
                || pin.branch.starts_with('-')
                || !pin.branch.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
            {
                return Err(format!(
                    "{at}.branch: expected a branch name (letters, digits, . _ - /), got {:?}",
                    pin.branch
                ));
            }
        }
        Ok(())
    }
}

fn is_plain_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
