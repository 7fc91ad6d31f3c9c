//! Mount points from `/proc/self/mountinfo`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Decodes the octal escapes (`\040` for space, ...) the kernel writes into mountinfo paths.
fn unescape(field: &[u8]) -> PathBuf {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 3 < field.len() && field[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let v = field[i + 1..i + 4].iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            out.push(v as u8);
            i += 4;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// Mount points listed in a mountinfo text, in the kernel's order (parents before children).
pub fn parse_mountinfo(text: &[u8]) -> Vec<PathBuf> {
    text.split(|&b| b == b'\n').filter_map(|line| line.split(|&b| b == b' ').nth(4)).map(unescape).collect()
}

/// The mount points of the calling process's mount namespace.
pub fn current() -> std::io::Result<Vec<PathBuf>> {
    Ok(parse_mountinfo(&std::fs::read("/proc/self/mountinfo")?))
}

/// Whether `path` is `root` or lies below it (component-wise: `/run/k3s2` is not under `/run/k3s`).
pub fn is_under(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// Orders mount points deepest first, later mounts before earlier ones at the same depth (stacked mounts).
pub fn deepest_first(mut mounts: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut indexed: Vec<(usize, PathBuf)> = mounts.drain(..).enumerate().collect();
    indexed.sort_by(|(ia, a), (ib, b)| b.components().count().cmp(&a.components().count()).then(ib.cmp(ia)));
    indexed.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_unescapes_mount_points() {
        let text = b"22 1 0:21 / /run rw - tmpfs tmpfs rw\n\
                     30 22 0:40 / /run/k3s/with\\040space rw - tmpfs tmpfs rw\n\
                     31 22 0:41 / /odd\\\\ rw - tmpfs tmpfs rw\n";
        assert_eq!(
            parse_mountinfo(text),
            vec![PathBuf::from("/run"), PathBuf::from("/run/k3s/with space"), PathBuf::from("/odd\\\\")]
        );
    }

    #[test]
    fn orders_children_before_parents() {
        let m = vec![PathBuf::from("/a"), PathBuf::from("/a/b/c"), PathBuf::from("/a/b"), PathBuf::from("/a/b")];
        let sorted = deepest_first(m);
        assert_eq!(sorted[0], PathBuf::from("/a/b/c"));
        assert_eq!(sorted[3], PathBuf::from("/a"));
        assert!(is_under(Path::new("/run/k3s/x"), Path::new("/run/k3s")));
        assert!(!is_under(Path::new("/run/k3s2"), Path::new("/run/k3s")));
    }
}
