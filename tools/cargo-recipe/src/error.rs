//! The one error type of this crate: every variant names the file (and line where one exists).

use std::path::PathBuf;

/// Why a workspace, lockfile or crate archive could not be read or rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file or directory failed.
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A TOML file does not parse (the parser's message names line and column).
    #[error("{}: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A file parses but says something we cannot use.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending key (the table's line when the key is absent).
        line: usize,
        /// What was expected.
        message: String,
    },
    /// A locked crate is not in the local cargo cache.
    #[error(
        "{name} {version} (Cargo.lock) has no {name}-{version}.crate under {}; run `cargo fetch --locked` in the workspace first",
        cache.display()
    )]
    MissingCrate {
        /// Crate name.
        name: String,
        /// Crate version.
        version: String,
        /// The registry cache searched.
        cache: PathBuf,
    },
    /// A locked git dependency has no checkout in the local cargo home.
    #[error(
        "{name} {version} ({url} at {commit}) has no checkout under {}; run `cargo fetch --locked` in the workspace first",
        checkouts.display()
    )]
    MissingGitCheckout {
        /// Crate name.
        name: String,
        /// Crate version.
        version: String,
        /// Repository URL from Cargo.lock.
        url: String,
        /// Locked commit.
        commit: String,
        /// The checkouts directory searched.
        checkouts: PathBuf,
    },
    /// A .crate archive is not a readable gzip'd tar.
    #[error("{}: not a readable .crate archive: {message}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Cargo.lock does not match the manifests: `cargo build --frozen` (what the recipe runs) would refuse it.
    #[error(
        "{} is out of date with the workspace's Cargo.toml files: a recipe builds with --frozen and cannot build this. \
         Run `cargo update --workspace` (or `cargo generate-lockfile`), commit Cargo.lock, then rerun. cargo said:\n  {cargo}",
        lock.display()
    )]
    StaleLock {
        /// The lockfile.
        lock: PathBuf,
        /// What cargo said.
        cargo: String,
    },
    /// The request itself cannot be satisfied (unknown package, ...).
    #[error("{0}")]
    Usage(String),
    /// A value the one BitBake writer (`bb-value`) refuses: BitBake would interpret it instead of storing it.
    #[error(transparent)]
    BitBake(#[from] bb_value::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_error_says_its_cause_once() {
        let err = io("/x/Cargo.lock")(std::io::Error::from_raw_os_error(2));
        let mut text = err.to_string();
        let mut next = std::error::Error::source(&err);
        while let Some(cause) = next {
            text = format!("{text}: {cause}");
            next = cause.source();
        }
        assert_eq!(text.matches("No such file or directory").count(), 1, "{text}");
        assert!(text.starts_with("/x/Cargo.lock: "), "{text}");
    }
}
