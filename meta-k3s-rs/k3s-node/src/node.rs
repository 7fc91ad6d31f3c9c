//! Which system a tool acts on: the running node, or an image root on disk.
//!
//! The distinction decides what may be touched. On the live node the tools kill processes, unmount, talk
//! rtnetlink and iptables and drive the running systemd. Below an image root (a rootfs being built, a mounted
//! card) none of that belongs to the image: the processes, links, firewall and systemd manager seen are the build
//! host's, so only files below the root change, systemd is reached only as `systemctl --root=DIR`, and a k3s
//! server on the build host is no reason to refuse. One type instead of `root == "/"` tests keeps every caller
//! on the same answer.

use std::path::{Path, PathBuf};

/// The system to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// This running node: paths as they are, processes, links, firewall and the running systemd.
    Live,
    /// Files below this directory only (canonical, never `/`).
    Image(PathBuf),
}

impl Node {
    /// The node for a `--root DIR` argument: `/` (or any path that resolves to it) is the live node; anything
    /// else must exist and is taken canonical, so `systemctl --root=` and the messages see the same directory.
    pub fn from_root(root: &Path) -> std::io::Result<Node> {
        if root == Path::new("/") {
            return Ok(Node::Live);
        }
        let canonical = std::fs::canonicalize(root)?;
        Ok(if canonical == Path::new("/") { Node::Live } else { Node::Image(canonical) })
    }

    /// Whether this is the running node.
    pub fn is_live(&self) -> bool {
        matches!(self, Node::Live)
    }

    /// The directory everything is taken below (`/` for the live node).
    pub fn root(&self) -> &Path {
        match self {
            Node::Live => Path::new("/"),
            Node::Image(root) => root,
        }
    }

    /// Where the absolute path `abs` of the node is.
    pub fn path(&self, abs: &str) -> PathBuf {
        self.root().join(abs.trim_start_matches('/'))
    }

    /// The image root to give `systemctl --root=`, or `None` for the running manager.
    pub fn systemctl_root(&self) -> Option<&Path> {
        match self {
            Node::Live => None,
            Node::Image(root) => Some(root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_is_live_and_a_directory_is_an_image() {
        assert_eq!(Node::from_root(Path::new("/")).unwrap(), Node::Live);
        assert_eq!(Node::from_root(Path::new("/.")).unwrap(), Node::Live, "resolves to /");
        let d = tempfile::tempdir().unwrap();
        let canonical = std::fs::canonicalize(d.path()).unwrap();
        let node = Node::from_root(&d.path().join(".")).unwrap();
        assert_eq!(node, Node::Image(canonical.clone()));
        assert_eq!(node.path("/etc/rancher"), canonical.join("etc/rancher"));
        assert_eq!(node.systemctl_root(), Some(canonical.as_path()));
        assert_eq!(Node::Live.path("/etc/rancher"), Path::new("/etc/rancher"));
        assert!(Node::from_root(&d.path().join("missing")).is_err());
    }
}
