//! The cluster's runtime directory (mode 0700) and the join token in it (mode 0600): the token is generated on
//! the host and reaches the guests only as a fw_cfg file, so it is never on a command line, in the environment
//! or in a file another user can read.
//!
//! Each directory records the `k3s-bake` that made it ([`crate::stale::OWNER_FILE`]: pid and start time) before
//! the token is written, so a run killed without teardown leaves a directory the next run can tell stale
//! ([`crate::stale`]) and remove, token included.

use std::io::Read as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// Runtime directory errors.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// The directory cannot be made or checked.
    #[error("runtime directory {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A given directory exists already.
    #[error("runtime directory {0}: exists already (give a new path; it is made with mode 0700)")]
    Exists(PathBuf),
}

/// The runtime directory, removed on drop unless kept.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    keep: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunDirError + '_ {
    move |source| RunDirError::Io { path: path.to_path_buf(), source }
}

/// `n` random bytes, hex (the kernel's CSPRNG through /dev/urandom).
pub fn random_hex(n: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where runtime directories are made by default: `$XDG_RUNTIME_DIR`, else the temporary directory.
pub fn default_base() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

/// The name every default runtime directory starts with (`k3s-cluster-<pid>-<random>`).
pub const DIR_PREFIX: &str = "k3s-cluster-";

impl RunDir {
    /// Makes `path` (which must not exist), or a new `k3s-cluster-*` directory in [`default_base`], mode 0700
    /// whatever the umask, with the owner record in it.
    pub fn create(path: Option<&Path>, keep: bool) -> Result<Self, RunDirError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let base = default_base();
                let suffix = random_hex(4).map_err(io(&base))?;
                base.join(format!("{DIR_PREFIX}{}-{suffix}", std::process::id()))
            }
        };
        if path.symlink_metadata().is_ok() {
            return Err(RunDirError::Exists(path));
        }
        std::fs::DirBuilder::new().mode(0o700).create(&path).map_err(io(&path))?;
        // From here on the directory is removed on drop (and on an error below).
        let rd = Self { path, keep };
        // mkdir's mode is masked by the umask; 0700 must hold exactly.
        std::fs::set_permissions(&rd.path, std::fs::Permissions::from_mode(0o700)).map_err(io(&rd.path))?;
        let record = rd.path.join(crate::stale::OWNER_FILE);
        let owner = crate::stale::Owner::current().map_err(io(&record))?;
        k3s_atomic::write(&record, owner.render().as_bytes(), k3s_atomic::MODE_SECRET).map_err(io(&record))?;
        Ok(rd)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keep the directory after the cluster ends (consoles, kubeconfig).
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Writes a new random join token to `token` (0600) and returns its path.
    pub fn write_token(&self) -> Result<PathBuf, RunDirError> {
        let file = self.path.join("token");
        let token = random_hex(32).map_err(io(&file))?;
        // No newline: the fw_cfg file is the token, byte for byte.
        k3s_atomic::write(&file, token.as_bytes(), k3s_atomic::MODE_SECRET).map_err(io(&file))?;
        Ok(file)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if self.keep {
            // Kept on purpose (consoles, logs): not stale, so the owner record goes and the next run leaves the
            // directory alone; the token goes too, its cluster being gone (the VMs' disks were snapshots).
            let _ = crate::stale::shred(&self.path.join("token"));
            let _ = std::fs::remove_file(self.path.join(crate::stale::OWNER_FILE));
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    #[test]
    fn private_directory_and_token() {
        let base = tempfile::tempdir().unwrap();
        let p = base.path().join("run");
        let rd = RunDir::create(Some(&p), false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o700);
        let t = rd.write_token().unwrap();
        assert_eq!(std::fs::metadata(&t).unwrap().mode() & 0o777, 0o600);
        let token = std::fs::read_to_string(&t).unwrap();
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        let owner = std::fs::read_to_string(p.join(crate::stale::OWNER_FILE)).unwrap();
        assert_eq!(crate::stale::Owner::parse(&owner), Some(crate::stale::Owner::current().unwrap()));
        assert_eq!(crate::stale::state(&p), crate::stale::State::InUse(crate::stale::Owner::current().unwrap()));
        assert!(matches!(RunDir::create(Some(&p), false), Err(RunDirError::Exists(_))));
        drop(rd);
        assert!(!p.exists(), "removed on drop");
    }

    #[test]
    fn kept_directory_loses_token_and_owner_record() {
        let base = tempfile::tempdir().unwrap();
        let p = base.path().join("run");
        let mut rd = RunDir::create(Some(&p), false).unwrap();
        rd.write_token().unwrap();
        std::fs::write(p.join("k3s-server.console"), "log").unwrap();
        rd.keep();
        drop(rd);
        assert!(p.join("k3s-server.console").exists(), "consoles kept");
        assert!(!p.join("token").exists(), "token kept");
        // Not stale: the next run leaves a directory kept on purpose alone.
        assert_eq!(crate::stale::state(&p), crate::stale::State::NotOurs("no owner record"));
    }
}
