//! Where k3s-role-setup's join token comes from, in the order a node is expected to have it:
//!
//! - **QEMU fw_cfg** `opt/k3s/token` (`-fw_cfg name=opt/k3s/token,file=…`, what `k3s-bake cluster` passes): the
//!   kernel's qemu_fw_cfg driver (CONFIG_FW_CFG_SYSFS) shows it as
//!   `/sys/firmware/qemu_fw_cfg/by_name/opt/k3s/token/raw`, readable by root only;
//! - **`k3s.token-file=PATH`** on the command line: a file the board provides (mode is the provider's business);
//! - **`k3s.token=`** on the command line, for boards without either. `/proc/cmdline` is readable by every user
//!   of the node (and by every process in every container that mounts its own proc), so a token there is as
//!   good as public on that node.
//!
//! Two sources at once are refused rather than ranked: a node with a fw_cfg token and another on its command
//! line has been set up twice, and picking one silently would hide that. Whichever source, the token then goes
//! where it always goes (the agent's 0600 token file, the server's 0600 config drop-in).

use std::path::{Path, PathBuf};

use crate::roles::{RoleError, RoleRequest};

/// Where the kernel's qemu_fw_cfg driver shows fw_cfg items.
pub const FW_CFG_SYSFS: &str = "/sys/firmware/qemu_fw_cfg";
/// The fw_cfg item holding the join token (`k3s-bake cluster` and k3s-cluster's plan use the same name).
pub const FW_CFG_TOKEN_ITEM: &str = "opt/k3s/token";

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `k3s.token=` on the command line.
    CommandLine,
    /// `k3s.token-file=PATH`.
    File(PathBuf),
    /// The fw_cfg item, read at this path.
    FwCfg(PathBuf),
}

/// The fw_cfg token's file below a qemu_fw_cfg sysfs directory.
pub fn fw_cfg_token(fw_cfg: &Path) -> PathBuf {
    fw_cfg.join("by_name").join(FW_CFG_TOKEN_ITEM).join("raw")
}

fn read(path: &Path, what: &str) -> Result<String, RoleError> {
    let bytes = std::fs::read(path).map_err(|source| RoleError::Read { path: path.to_path_buf(), source })?;
    let text =
        String::from_utf8(bytes).map_err(|_| RoleError::Param(format!("{what} {}: not UTF-8", path.display())))?;
    // One trailing newline is how files end (k3s's own node-token has one); other whitespace stays and is refused
    // by the agent's checks, since k3s would trim it.
    let token = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if token.is_empty() {
        return Err(RoleError::Param(format!("{what} {}: empty", path.display())));
    }
    crate::unitesc::check_str(what, token).map_err(|e| RoleError::Param(e.to_string()))?;
    Ok(token.to_string())
}

/// Fills `req.token` from the one source that gives it; `fw_cfg` is the qemu_fw_cfg sysfs directory
/// ([`FW_CFG_SYSFS`] on a node). `Ok(None)`: no source (fine for a server, an error later for an agent).
pub fn resolve(req: &mut RoleRequest, fw_cfg: &Path) -> Result<Option<TokenSource>, RoleError> {
    let fw = fw_cfg_token(fw_cfg);
    let fw_present = fw.exists();
    let mut sources = Vec::new();
    if req.token.is_some() {
        sources.push("k3s.token=");
    }
    if req.token_file.is_some() {
        sources.push("k3s.token-file=");
    }
    if fw_present {
        sources.push("fw_cfg opt/k3s/token");
    }
    if sources.len() > 1 {
        return Err(RoleError::Param(format!(
            "the token is given {} times ({}); give one",
            sources.len(),
            sources.join(", ")
        )));
    }
    if req.token.is_some() {
        return Ok(Some(TokenSource::CommandLine));
    }
    if let Some(f) = req.token_file.clone() {
        req.token = Some(read(&f, "k3s.token-file")?);
        return Ok(Some(TokenSource::File(f)));
    }
    if fw_present {
        req.token = Some(read(&fw, "fw_cfg opt/k3s/token")?);
        return Ok(Some(TokenSource::FwCfg(fw)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::parse_request;

    fn fw_cfg_with(token: &[u8]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let item = d.path().join("by_name/opt/k3s/token");
        std::fs::create_dir_all(&item).unwrap();
        std::fs::write(item.join("raw"), token).unwrap();
        d
    }

    #[test]
    fn fw_cfg_token_fills_the_request() {
        let fw = fw_cfg_with(b"K10abc::server:s3cret");
        let mut req = parse_request(b"k3s.role=agent k3s.server=10.0.0.1").unwrap();
        let src = resolve(&mut req, fw.path()).unwrap();
        assert_eq!(src, Some(TokenSource::FwCfg(fw.path().join("by_name/opt/k3s/token/raw"))));
        assert_eq!(req.token.as_deref(), Some("K10abc::server:s3cret"));
    }

    #[test]
    fn token_file_on_the_command_line() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("tok");
        std::fs::write(&f, "abc\n").unwrap();
        let line = format!("k3s.role=agent k3s.token-file={}", f.display());
        let mut req = parse_request(line.as_bytes()).unwrap();
        assert_eq!(resolve(&mut req, &d.path().join("no-fw-cfg")).unwrap(), Some(TokenSource::File(f)));
        assert_eq!(req.token.as_deref(), Some("abc"));
    }

    #[test]
    fn command_line_token_without_fw_cfg() {
        let mut req = parse_request(b"k3s.role=server k3s.token=t").unwrap();
        assert_eq!(resolve(&mut req, Path::new("/nonexistent")).unwrap(), Some(TokenSource::CommandLine));
        let mut req = parse_request(b"k3s.role=server").unwrap();
        assert_eq!(resolve(&mut req, Path::new("/nonexistent")).unwrap(), None);
        assert_eq!(req.token, None);
    }

    #[test]
    fn two_sources_or_a_bad_token_are_refused() {
        let fw = fw_cfg_with(b"t1");
        let mut req = parse_request(b"k3s.role=agent k3s.token=t2").unwrap();
        let e = resolve(&mut req, fw.path()).unwrap_err().to_string();
        assert!(e.contains("given 2 times (k3s.token=, fw_cfg opt/k3s/token)"), "{e}");
        for bad in [&b""[..], b"\n", b"a\nb", b"\xff"] {
            let fw = fw_cfg_with(bad);
            let mut req = parse_request(b"k3s.role=agent").unwrap();
            assert!(resolve(&mut req, fw.path()).is_err(), "{bad:?}");
        }
        assert!(parse_request(b"k3s.token-file=relative").is_err());
    }
}
