//! `<image>-<machine>.rootfs.qemuboot.conf`: what OE-Core's qemuboot class writes next to an image for runqemu
//! (Python configparser, section `[config_bsp]`, keys lowercased `qb_*` and a few build variables; paths relative
//! to the build directory). Read here so the cluster boots an image exactly with the machine's QEMU settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An error in a qemuboot.conf.
#[derive(Debug, thiserror::Error)]
pub enum QemubootError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is neither a section, a `key = value` nor a comment.
    #[error("{path}:{line}: expected `[section]` or `key = value`, found {text:?}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The line.
        text: String,
    },
    /// A variable runqemu needs is missing.
    #[error("{path}: no {key} in [config_bsp] (written by OE-Core's qemuboot class; rebuild the image)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The lowercased variable.
        key: &'static str,
    },
}

/// The `[config_bsp]` variables of one qemuboot.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qemuboot {
    /// Where it was read.
    pub path: PathBuf,
    vars: BTreeMap<String, String>,
}

impl Qemuboot {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Self, QemubootError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| QemubootError::Read { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    /// Parses configparser text: sections, `key = value` (or `key: value`), continuation lines indented,
    /// `#`/`;` comments. Only `[config_bsp]` is kept.
    pub fn parse(path: &Path, text: &str) -> Result<Self, QemubootError> {
        let mut vars = BTreeMap::new();
        let mut section = String::new();
        let mut last: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if raw.starts_with([' ', '\t'])
                && let Some(k) = &last
            {
                // configparser continuation: the value goes on, joined with a newline (a space for us).
                if let Some(v) = vars.get_mut(k) {
                    let v: &mut String = v;
                    v.push(' ');
                    v.push_str(trimmed);
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = name.to_string();
                last = None;
                continue;
            }
            let Some(sep) = trimmed.find(['=', ':']) else {
                return Err(QemubootError::Syntax { path: path.to_path_buf(), line: i + 1, text: raw.to_string() });
            };
            let key = trimmed[..sep].trim().to_ascii_lowercase();
            if section == "config_bsp" {
                vars.insert(key.clone(), trimmed[sep + 1..].trim().to_string());
                last = Some(key);
            }
        }
        Ok(Self { path: path.to_path_buf(), vars })
    }

    /// A variable (lowercased name), if set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A variable runqemu cannot do without.
    pub fn require(&self, key: &'static str) -> Result<&str, QemubootError> {
        self.get(key).ok_or_else(|| QemubootError::Missing { path: self.path.clone(), key })
    }

    /// A variable split into QEMU arguments (runqemu pastes them into a command line; none of the values the
    /// qemuboot class writes quote anything).
    pub fn args(&self, key: &str) -> Vec<String> {
        self.get(key).map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
    }

    /// `QB_MEM` in MiB (`-m 2048`, `-m 2G`), if set.
    pub fn memory_mib(&self) -> Option<u64> {
        let v = self.get("qb_mem")?;
        let n = v.trim_start_matches("-m").trim();
        parse_mib(n)
    }
}

/// `2048`, `2048M`, `2G` → MiB.
pub fn parse_mib(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mul) = match s.strip_suffix(['G', 'g']) {
        Some(n) => (n, 1024),
        None => (s.strip_suffix(['M', 'm']).unwrap_or(s), 1),
    };
    num.parse::<u64>().ok().map(|n| n * mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    // As configparser writes it (qemuboot.bbclass: sorted keys, lowercased).
    const CONF: &str = "[config_bsp]\ndeploy_dir_image = tmp/deploy/images/qemux86-64\nimage_link_name = \
        core-image-k3s-qemux86-64.rootfs\nqb_default_fstype = ext4\nqb_default_kernel = \
        bzImage-qemux86-64.bin\nqb_kernel_cmdline_append = oprofile.timer=1 tsc=reliable\n  no_timer_check\n\
        qb_machine = -machine q35,i8042=off\nqb_mem = -m 2048\nqb_network_device = \
        -device virtio-net-pci,netdev=net0,mac=@MAC@\nqb_serial_opt = \nqb_system_name = qemu-system-x86_64\n";

    #[test]
    fn reads_what_the_qemuboot_class_writes() {
        let q = Qemuboot::parse(Path::new("x.qemuboot.conf"), CONF).unwrap();
        assert_eq!(q.get("qb_system_name"), Some("qemu-system-x86_64"));
        assert_eq!(q.args("qb_machine"), ["-machine", "q35,i8042=off"]);
        assert_eq!(q.get("qb_kernel_cmdline_append"), Some("oprofile.timer=1 tsc=reliable no_timer_check"));
        assert_eq!(q.memory_mib(), Some(2048));
        assert_eq!(q.get("qb_serial_opt"), None);
        let e = q.require("qb_rootfs_opt").unwrap_err().to_string();
        assert!(e.contains("x.qemuboot.conf: no qb_rootfs_opt"), "{e}");
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e = Qemuboot::parse(Path::new("q.conf"), "[config_bsp]\nqb_mem = -m 1\nnonsense\n").unwrap_err();
        assert_eq!(e.to_string(), "q.conf:3: expected `[section]` or `key = value`, found \"nonsense\"");
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_mib("2G"), Some(2048));
        assert_eq!(parse_mib("512M"), Some(512));
        assert_eq!(parse_mib("1024"), Some(1024));
        assert_eq!(parse_mib("lots"), None);
    }
}
