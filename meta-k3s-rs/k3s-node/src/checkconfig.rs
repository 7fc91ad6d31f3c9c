//! `k3s-check-config`: a kernel configuration and the running system against `k3s_model::kernel`.

use crate::json;
use crate::kconfig::{self, KernelConfig};
use k3s_model::kernel::{self, Level, OPTIONS};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why no configuration could be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No source was found.
    #[error("no kernel config found (tried {0}); pass --config PATH")]
    NotFound(String),
    /// Reading failed (the cause is the error's source, said once by whoever prints the chain).
    #[error("{path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Decompression failed.
    #[error("{path}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The error.
        source: crate::gzip::GzipError,
    },
    /// The text is not a kernel config (`FILE:LINE: ...`, the line in the message, so no source).
    #[error("{path}:{error}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        error: kconfig::ParseError,
    },
}

/// Reads and parses a config file, gunzipping it when it starts with the gzip magic.
pub fn load(path: &Path) -> Result<KernelConfig, CheckError> {
    let data = std::fs::read(path).map_err(|source| CheckError::Read { path: path.into(), source })?;
    let text = if data.starts_with(&[0x1f, 0x8b]) {
        crate::gzip::decompress(&data).map_err(|source| CheckError::Gzip { path: path.into(), source })?
    } else {
        data
    };
    kconfig::parse(&text).map_err(|error| CheckError::Parse { path: path.into(), error })
}

/// The running kernel's config: `/proc/config.gz`, else `/boot/config-$(uname -r)`.
pub fn running_kernel_config() -> Result<(PathBuf, KernelConfig), CheckError> {
    let mut tried = vec![PathBuf::from("/proc/config.gz")];
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        tried.push(PathBuf::from(format!("/boot/config-{}", release.trim())));
    }
    for p in &tried {
        if p.exists() {
            return load(p).map(|c| (p.clone(), c));
        }
    }
    Err(CheckError::NotFound(tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")))
}

/// The cgroup controllers available: the v2 root's `cgroup.controllers` (at `/sys/fs/cgroup`, or
/// `/sys/fs/cgroup/unified` on a hybrid host) plus v1 controllers that are enabled and mounted (`/proc/cgroups`).
pub fn cgroup_controllers(sys_cgroup: &Path, proc_cgroups: &Path) -> (Option<PathBuf>, BTreeSet<String>) {
    let mut found = BTreeSet::new();
    let mut v2 = None;
    for candidate in [sys_cgroup.join("cgroup.controllers"), sys_cgroup.join("unified/cgroup.controllers")] {
        if let Ok(text) = std::fs::read_to_string(&candidate) {
            found.extend(text.split_whitespace().map(str::to_string));
            v2 = Some(candidate);
            break;
        }
    }
    if let Ok(text) = std::fs::read_to_string(proc_cgroups) {
        // #subsys_name hierarchy num_cgroups enabled; hierarchy 0 = not mounted as v1.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 4 && f[1] != "0" && f[3] == "1" {
                found.insert(f[0].to_string());
            }
        }
    }
    (v2, found)
}

/// Where a command is found on `PATH` (or the default system path).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| crate::firewall::is_executable(p))
}

/// One option's verdict.
#[derive(Debug, Clone)]
pub struct OptionResult {
    /// The model's entry.
    pub option: &'static kernel::KernelOption,
    /// The configured value (`y`, `m`, ...), `None` when not set.
    pub value: Option<String>,
    /// Built in or module.
    pub present: bool,
}

/// The running system's part of the report.
#[derive(Debug, Clone)]
pub struct SystemResult {
    /// The cgroup v2 controllers file that was read, if any.
    pub cgroup_v2: Option<PathBuf>,
    /// Each required controller and whether it is available.
    pub controllers: Vec<(&'static str, bool)>,
    /// Each required command and where it was found.
    pub commands: Vec<(&'static str, Option<PathBuf>)>,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the config came from.
    pub source: PathBuf,
    /// One entry per model option, in model order.
    pub options: Vec<OptionResult>,
    /// The system checks, when they were run.
    pub system: Option<SystemResult>,
}

/// Checks `cfg` against the model.
pub fn check_options(cfg: &KernelConfig) -> Vec<OptionResult> {
    OPTIONS
        .iter()
        .map(|o| {
            let value = cfg.get(o.name).and_then(|v| v.as_config()).map(str::to_string);
            let present = cfg.get(o.name).is_some_and(|v| v.enabled());
            OptionResult { option: o, value, present }
        })
        .collect()
}

/// Checks the running system (cgroup controllers, commands).
pub fn check_system() -> SystemResult {
    let (cgroup_v2, available) = cgroup_controllers(Path::new("/sys/fs/cgroup"), Path::new("/proc/cgroups"));
    SystemResult {
        cgroup_v2,
        controllers: kernel::CGROUP_V2_CONTROLLERS.iter().map(|c| (*c, available.contains(*c))).collect(),
        commands: kernel::REQUIRED_COMMANDS.iter().map(|c| (*c, which(c))).collect(),
    }
}

impl Report {
    /// Everything required that is missing, as display names.
    pub fn missing_required(&self) -> Vec<String> {
        let mut m: Vec<String> = self
            .options
            .iter()
            .filter(|r| r.option.level == Level::Required && !r.present)
            .map(|r| format!("CONFIG_{}", r.option.name))
            .collect();
        if let Some(s) = &self.system {
            m.extend(s.controllers.iter().filter(|(_, ok)| !ok).map(|(c, _)| format!("cgroup controller {c}")));
            m.extend(s.commands.iter().filter(|(_, p)| p.is_none()).map(|(c, _)| format!("command {c}")));
        }
        m
    }

    /// Whether every required item is present.
    pub fn ok(&self) -> bool {
        self.missing_required().is_empty()
    }

    /// Human-readable report.
    pub fn text(&self) -> String {
        let mut s = format!("kernel config: {}\n", self.source.display());
        let mut area = None;
        for r in &self.options {
            if area != Some(r.option.area) {
                area = Some(r.option.area);
                s.push_str(&format!("\n{}:\n", r.option.area.title()));
            }
            let mark = match (r.present, r.option.level) {
                (true, _) => "ok     ",
                (false, Level::Required) => "MISSING",
                (false, Level::Recommended) => "warn   ",
            };
            let value = r.value.as_deref().map_or_else(|| " not set".to_string(), |v| format!("={v}"));
            s.push_str(&format!(
                "  [{mark}] CONFIG_{}{value} ({}: {})\n",
                r.option.name,
                r.option.level.as_str(),
                r.option.why
            ));
        }
        if let Some(sys) = &self.system {
            s.push_str(&format!(
                "\ncgroup controllers ({}):\n",
                sys.cgroup_v2.as_ref().map_or("no cgroup v2 root; v1 only".to_string(), |p| p.display().to_string())
            ));
            for (c, ok) in &sys.controllers {
                s.push_str(&format!("  [{}] {c}\n", if *ok { "ok     " } else { "MISSING" }));
            }
            s.push_str("\ncommands:\n");
            for (c, p) in &sys.commands {
                match p {
                    Some(p) => s.push_str(&format!("  [ok     ] {c} ({})\n", p.display())),
                    None => s.push_str(&format!("  [MISSING] {c}\n")),
                }
            }
        }
        let missing = self.missing_required();
        let warnings = self.options.iter().filter(|r| r.option.level == Level::Recommended && !r.present).count();
        if missing.is_empty() {
            s.push_str(&format!("\nresult: all required present; {warnings} recommended missing\n"));
        } else {
            s.push_str(&format!("\nresult: {} required missing: {}\n", missing.len(), missing.join(", ")));
        }
        s
    }

    /// The report as one JSON object.
    pub fn json(&self) -> String {
        let opts: Vec<String> = self
            .options
            .iter()
            .map(|r| {
                format!(
                    "{{\"name\":{},\"level\":{},\"area\":{},\"value\":{},\"present\":{},\"why\":{}}}",
                    json::string(&format!("CONFIG_{}", r.option.name)),
                    json::string(r.option.level.as_str()),
                    json::string(r.option.area.title()),
                    json::opt(r.value.as_deref()),
                    r.present,
                    json::string(r.option.why)
                )
            })
            .collect();
        let system = match &self.system {
            None => "null".to_string(),
            Some(sys) => {
                let ctl: Vec<String> = sys
                    .controllers
                    .iter()
                    .map(|(c, ok)| format!("{{\"name\":{},\"present\":{ok}}}", json::string(c)))
                    .collect();
                let cmd: Vec<String> = sys
                    .commands
                    .iter()
                    .map(|(c, p)| {
                        let p = p.as_ref().map(|p| p.display().to_string());
                        format!("{{\"name\":{},\"path\":{}}}", json::string(c), json::opt(p.as_deref()))
                    })
                    .collect();
                let v2 = sys.cgroup_v2.as_ref().map(|p| p.display().to_string());
                format!(
                    "{{\"cgroup_v2\":{},\"controllers\":[{}],\"commands\":[{}]}}",
                    json::opt(v2.as_deref()),
                    ctl.join(","),
                    cmd.join(",")
                )
            }
        };
        let missing: Vec<String> = self.missing_required().iter().map(|m| json::string(m)).collect();
        format!(
            "{{\"source\":{},\"ok\":{},\"missing_required\":[{}],\"options\":[{}],\"system\":{}}}\n",
            json::string(&self.source.display().to_string()),
            self.ok(),
            missing.join(","),
            opts.join(","),
            system
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(level: Option<Level>) -> KernelConfig {
        let text: String = OPTIONS
            .iter()
            .filter(|o| level.is_none_or(|l| o.level == l))
            .map(|o| format!("CONFIG_{}=y\n", o.name))
            .collect();
        kconfig::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn required_only_passes_with_warnings() {
        let r =
            Report { source: "x".into(), options: check_options(&config_with(Some(Level::Required))), system: None };
        assert!(r.ok(), "{}", r.text());
        assert!(r.text().contains("[warn   ] CONFIG_USER_NS not set"));
    }

    #[test]
    fn one_missing_required_fails_and_is_named() {
        let mut cfg = config_with(None);
        cfg.options.insert("VETH".into(), kconfig::Value::NotSet);
        let r = Report { source: "x".into(), options: check_options(&cfg), system: None };
        assert!(!r.ok());
        assert_eq!(r.missing_required(), vec!["CONFIG_VETH".to_string()]);
        assert!(r.json().contains("\"missing_required\":[\"CONFIG_VETH\"]"), "{}", r.json());
    }

    #[test]
    fn cgroup_controllers_from_v2_and_v1() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("unified")).unwrap();
        std::fs::write(d.path().join("unified/cgroup.controllers"), "cpu io\n").unwrap();
        let pc = d.path().join("cgroups");
        std::fs::write(
            &pc,
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t3\t10\t1\npids\t0\t1\t1\ncpuset\t2\t1\t0\n",
        )
        .unwrap();
        let (v2, found) = cgroup_controllers(d.path(), &pc);
        assert_eq!(v2, Some(d.path().join("unified/cgroup.controllers")));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), vec!["cpu", "io", "memory"]);
    }
}
