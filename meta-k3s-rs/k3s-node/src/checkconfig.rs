//! `k3s-check-config`: a kernel configuration and the running system against `k3s_model::kernel`.

use crate::json;
use k3s_kconfig::check::{self, OptionResult, Policy};
use k3s_kconfig::dotconfig::{self, KernelConfig, LoadError};
use k3s_model::kernel::{self, Level};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why no configuration could be read (exit status 2, as `k3s-bake check-kernel`).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No source was found.
    #[error("no kernel config found (tried {0}); pass --config PATH")]
    NotFound(String),
    /// The file could not be read or parsed.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Reads and parses a config file, plain or gzip (the shared reader).
pub fn load(path: &Path) -> Result<KernelConfig, CheckError> {
    Ok(dotconfig::load(path)?)
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

/// The cgroup controllers this process's own cgroup offers, and the file or mounts they were read from.
///
/// Not `/proc/cgroups` (the kernel's list: a container whose cgroup has no controller delegated still sees every
/// controller "enabled" there) and not the v2 root: the kubelet creates its pods below its own cgroup, so what counts
/// is that cgroup. From `proc_self/cgroup` and `proc_self/mountinfo` (this mount namespace's view):
/// - cgroup v2: `cgroup.controllers` of the process's cgroup, found below a cgroup2 mount whose root contains it;
/// - cgroup v1 (hybrid hosts): the controllers of every v1 hierarchy mounted here whose directory for the
///   process's cgroup exists.
///
/// `root` prefixes the mount points (`/` on a node; a directory in tests).
pub fn own_cgroup_controllers(proc_self: &Path, root: &Path) -> (Option<PathBuf>, BTreeSet<String>) {
    let mut found = BTreeSet::new();
    let mut v2_file = None;
    let cgroup = std::fs::read_to_string(proc_self.join("cgroup")).unwrap_or_default();
    let mountinfo = std::fs::read_to_string(proc_self.join("mountinfo")).unwrap_or_default();
    // (mount root, mount point, fstype, super options)
    let mounts: Vec<(&str, &str, &str, &str)> = mountinfo
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            Some((*pre.get(3)?, *pre.get(4)?, *post.first()?, *post.get(2).unwrap_or(&"")))
        })
        .collect();
    let below = |mount_root: &str, mount_point: &str, path: &str| -> Option<PathBuf> {
        let rel = if mount_root == "/" { Some(path) } else { path.strip_prefix(mount_root) }?;
        if !(rel.is_empty() || rel.starts_with('/')) {
            return None;
        }
        Some(root.join(mount_point.trim_start_matches('/')).join(rel.trim_start_matches('/')))
    };
    for line in cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(id), Some(ctrls), Some(path)) = (f.next(), f.next(), f.next()) else { continue };
        if id == "0" && ctrls.is_empty() {
            for (mroot, mpoint, _, _) in mounts.iter().filter(|m| m.2 == "cgroup2") {
                let Some(dir) = below(mroot, mpoint, path) else { continue };
                let file = dir.join("cgroup.controllers");
                if let Ok(text) = std::fs::read_to_string(&file) {
                    found.extend(text.split_whitespace().map(str::to_string));
                    v2_file = Some(file);
                    break;
                }
            }
            continue;
        }
        let names: Vec<&str> = ctrls.split(',').filter(|c| !c.is_empty() && !c.starts_with("name=")).collect();
        let mounted = mounts.iter().filter(|m| m.2 == "cgroup").find(|m| {
            let opts: Vec<&str> = m.3.split(',').collect();
            names.iter().any(|n| opts.contains(n)) && below(m.0, m.1, path).is_some_and(|d| d.is_dir())
        });
        if mounted.is_some() {
            found.extend(names.iter().map(|n| n.to_string()));
        }
    }
    (v2_file, found)
}

/// Where a command is found on `PATH` (or the default system path).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| crate::firewall::is_executable(p))
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
    /// The host beyond kernel options (iptables mode, swap, routes, ports, keyring quota): warnings only.
    pub host: Vec<HostFinding>,
}

/// One check of the host beyond kernel options, as k3s's contrib/util/check-config.sh makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFinding {
    /// What was checked.
    pub name: &'static str,
    /// Whether it is as k3s wants it.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Below this, `kernel.keys.root_maxkeys` runs out with many containers (each gets a session keyring that counts
/// against root's quota); 1000000 is the value container hosts commonly set.
pub const ROOT_MAXKEYS_MIN: u64 = 1_000_000;

/// `a.b.c.d/n` as (network, prefix length).
fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (ip, len) = cidr.split_once('/')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((u32::from(ip), len))
}

fn mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

/// Whether two IPv4 networks share an address.
fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    let m = mask(a.1.min(b.1));
    a.0 & m == b.0 & m
}

/// Ports in the LISTEN state (TCP) or bound (UDP) in a /proc/net/{tcp,tcp6,udp,udp6} table.
fn bound_ports(text: &str, tcp: bool) -> BTreeSet<u16> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = u16::from_str_radix(f.get(1)?.rsplit_once(':')?.1, 16).ok()?;
            (!tcp || *f.get(3)? == "0A").then_some(port)
        })
        .collect()
}

/// The host checks beyond kernel options, from `proc` (this process's view: `/proc` on a node, its network
/// namespace's routes and sockets) and the `iptables` found on PATH. Cluster CIDRs are k3s's defaults
/// ([`k3s_model::net`]).
pub fn host_checks(proc: &Path, iptables: Option<&Path>) -> Vec<HostFinding> {
    let read = |rel: &str| std::fs::read_to_string(proc.join(rel)).ok();
    let mut out = Vec::new();

    // iptables mode: the multi-call binary the iptables link resolves to (xtables-legacy-multi / xtables-nft-multi).
    let mode = iptables.map(|p| {
        let target = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mode = if name.contains("legacy") {
            "legacy"
        } else if name.contains("nft") {
            "nft"
        } else {
            "unknown"
        };
        (mode, target)
    });
    out.push(match mode {
        None => HostFinding { name: "iptables mode", ok: false, detail: "no iptables on PATH".into() },
        Some((m, target)) => HostFinding {
            name: "iptables mode",
            ok: m != "unknown",
            detail: format!("{m} ({}); kube-proxy and flannel write through the same binary", target.display()),
        },
    });

    let swaps = read("swaps").map(|t| t.lines().skip(1).filter(|l| !l.trim().is_empty()).count());
    out.push(match swaps {
        None => HostFinding { name: "swap", ok: true, detail: "no /proc/swaps (no swap support)".into() },
        Some(0) => HostFinding { name: "swap", ok: true, detail: "off".into() },
        Some(n) => HostFinding {
            name: "swap",
            ok: false,
            detail: format!("{n} swap area(s) active: the kubelet's memory accounting assumes none"),
        },
    });

    let cidrs = [("cluster", k3s_model::net::DEFAULT_CLUSTER_CIDR), ("service", k3s_model::net::DEFAULT_SERVICE_CIDR)];
    let mut clashes = Vec::new();
    for l in read("net/route").unwrap_or_default().lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(iface), Some(dst), Some(m)) = (f.first(), f.get(1), f.get(7)) else { continue };
        // Routes k3s itself makes (pod bridge, flannel) are expected inside the cluster CIDR.
        if *iface == k3s_model::net::CNI_BRIDGE || k3s_model::net::FLANNEL_INTERFACES.contains(iface) {
            continue;
        }
        let (Ok(dst), Ok(m)) = (u32::from_str_radix(dst, 16), u32::from_str_radix(m, 16)) else { continue };
        // /proc/net/route prints the address's in-memory (network-order) bytes as a native-endian number.
        let (dst, m) = (u32::from_be_bytes(dst.to_ne_bytes()), u32::from_be_bytes(m.to_ne_bytes()));
        let len = m.count_ones();
        if len == 0 {
            continue;
        }
        for (what, cidr) in cidrs {
            if let Some(c) = parse_cidr(cidr)
                && overlaps((dst, len), c)
            {
                clashes.push(format!(
                    "{}/{len} on {iface} overlaps the {what} CIDR {cidr}",
                    std::net::Ipv4Addr::from(dst)
                ));
            }
        }
    }
    out.push(HostFinding {
        name: "routes",
        ok: clashes.is_empty(),
        detail: if clashes.is_empty() { "none overlaps k3s's default CIDRs".into() } else { clashes.join("; ") },
    });

    let tcp: BTreeSet<u16> =
        ["net/tcp", "net/tcp6"].iter().filter_map(|t| read(t)).flat_map(|t| bound_ports(&t, true)).collect();
    let udp: BTreeSet<u16> =
        ["net/udp", "net/udp6"].iter().filter_map(|t| read(t)).flat_map(|t| bound_ports(&t, false)).collect();
    let mut busy = Vec::new();
    for p in [k3s_model::net::API_PORT, k3s_model::net::KUBELET_PORT] {
        if tcp.contains(&p) {
            busy.push(format!("tcp/{p}"));
        }
    }
    if udp.contains(&k3s_model::net::FLANNEL_VXLAN_PORT) {
        busy.push(format!("udp/{}", k3s_model::net::FLANNEL_VXLAN_PORT));
    }
    out.push(HostFinding {
        name: "ports",
        ok: busy.is_empty(),
        detail: if busy.is_empty() {
            format!(
                "tcp/{} tcp/{} udp/{} free (allow them through any firewall between nodes)",
                k3s_model::net::API_PORT,
                k3s_model::net::KUBELET_PORT,
                k3s_model::net::FLANNEL_VXLAN_PORT
            )
        } else {
            format!("{} already in use (by k3s itself if it runs here)", busy.join(", "))
        },
    });

    let keys = read("sys/kernel/keys/root_maxkeys").and_then(|t| t.trim().parse::<u64>().ok());
    out.push(match keys {
        None => HostFinding { name: "root_maxkeys", ok: false, detail: "unreadable (no keyring support?)".into() },
        Some(n) => HostFinding {
            name: "root_maxkeys",
            ok: n >= ROOT_MAXKEYS_MIN,
            detail: format!("kernel.keys.root_maxkeys = {n} (want >= {ROOT_MAXKEYS_MIN}: one keyring per container)"),
        },
    });
    out
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the config came from.
    pub source: PathBuf,
    /// One entry per model option, in model order (the shared checker's verdicts).
    pub options: Vec<OptionResult>,
    /// The system checks, when they were run.
    pub system: Option<SystemResult>,
}

/// Checks `cfg` against the model with the checker `k3s-bake check-kernel` uses.
pub fn check_options(cfg: &KernelConfig, policy: Policy) -> Vec<OptionResult> {
    check::check(cfg, policy)
}

/// Checks the running system (this process's cgroup controllers, commands).
pub fn check_system() -> SystemResult {
    let (cgroup_v2, available) = own_cgroup_controllers(Path::new("/proc/self"), Path::new("/"));
    SystemResult {
        cgroup_v2,
        controllers: kernel::CGROUP_V2_CONTROLLERS.iter().map(|c| (*c, available.contains(*c))).collect(),
        commands: kernel::REQUIRED_COMMANDS.iter().map(|c| (*c, which(c))).collect(),
        host: host_checks(Path::new("/proc"), which("iptables").as_deref()),
    }
}

impl Report {
    /// Everything required that is missing, as display names.
    pub fn missing_required(&self) -> Vec<String> {
        let mut m: Vec<String> =
            check::failed_required(&self.options).map(|r| format!("CONFIG_{}", r.option.name)).collect();
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
            let mark = format!("{:<7}", r.tag());
            let note = if r.verdict == check::Verdict::Ok { String::new() } else { format!(", {}", r.explain()) };
            s.push_str(&format!("  [{mark}] {} ({}: {}{note})\n", r.shown(), r.option.level.as_str(), r.option.why));
        }
        if let Some(sys) = &self.system {
            s.push_str(&format!(
                "\ncgroup controllers ({}):\n",
                sys.cgroup_v2.as_ref().map_or("this process's cgroup: no cgroup v2; v1 only".to_string(), |p| format!(
                    "this process's cgroup: {}",
                    p.display()
                ))
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
            s.push_str("\nhost:\n");
            for h in &sys.host {
                s.push_str(&format!("  [{}] {}: {}\n", if h.ok { "ok     " } else { "warn   " }, h.name, h.detail));
            }
        }
        let missing = self.missing_required();
        let warnings = self
            .options
            .iter()
            .filter(|r| r.option.level == Level::Recommended && r.verdict != check::Verdict::Ok)
            .count();
        let modules = self.options.iter().filter(|r| r.verdict == check::Verdict::Module && !r.failed).count();
        if missing.is_empty() {
            s.push_str(&format!(
                "\nresult: all required present ({modules} as modules); {warnings} recommended not as wanted\n"
            ));
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
                    "{{\"name\":{},\"level\":{},\"area\":{},\"value\":{},\"present\":{},\"verdict\":{},\"why\":{}}}",
                    json::string(&format!("CONFIG_{}", r.option.name)),
                    json::string(r.option.level.as_str()),
                    json::string(r.option.area.title()),
                    json::opt(r.value.as_ref().and_then(|v| v.as_config())),
                    !r.failed,
                    json::string(r.tag()),
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
                let host: Vec<String> = sys
                    .host
                    .iter()
                    .map(|h| {
                        format!(
                            "{{\"name\":{},\"ok\":{},\"detail\":{}}}",
                            json::string(h.name),
                            h.ok,
                            json::string(&h.detail)
                        )
                    })
                    .collect();
                format!(
                    "{{\"cgroup_v2\":{},\"controllers\":[{}],\"commands\":[{}],\"host\":[{}]}}",
                    json::opt(v2.as_deref()),
                    ctl.join(","),
                    cmd.join(","),
                    host.join(",")
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
    use k3s_model::kernel::OPTIONS;

    fn config_with(level: Option<Level>) -> KernelConfig {
        let text: String = OPTIONS
            .iter()
            .filter(|o| level.is_none_or(|l| o.level == l))
            .map(|o| format!("CONFIG_{}=y\n", o.name))
            .collect();
        dotconfig::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn required_only_passes_with_warnings() {
        let r = Report {
            source: "x".into(),
            options: check_options(&config_with(Some(Level::Required)), Policy::default()),
            system: None,
        };
        assert!(r.ok(), "{}", r.text());
        assert!(r.text().contains("[warn   ] # CONFIG_USER_NS is not set"), "{}", r.text());
    }

    #[test]
    fn one_missing_required_fails_and_is_named() {
        let mut cfg = config_with(None);
        cfg.options.insert("VETH".into(), dotconfig::Value::NotSet);
        let r = Report { source: "x".into(), options: check_options(&cfg, Policy::default()), system: None };
        assert!(!r.ok());
        assert_eq!(r.missing_required(), vec!["CONFIG_VETH".to_string()]);
        assert!(r.json().contains("\"missing_required\":[\"CONFIG_VETH\"]"), "{}", r.json());
    }

    fn proc_self(dir: &Path, cgroup: &str, mountinfo: &str) -> PathBuf {
        let p = dir.join("proc-self");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("cgroup"), cgroup).unwrap();
        std::fs::write(p.join("mountinfo"), mountinfo).unwrap();
        p
    }

    #[test]
    fn controllers_come_from_the_own_cgroup_not_the_root() {
        // A container: its cgroup namespace shows the cgroup as / and the cgroup2 mount's root as /; the root of
        // the host's hierarchy has every controller, the container's cgroup none.
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("sys/fs/cgroup/kubepods/pod1")).unwrap();
        std::fs::write(root.join("sys/fs/cgroup/cgroup.controllers"), "cpuset cpu io memory pids\n").unwrap();
        std::fs::write(root.join("sys/fs/cgroup/kubepods/cgroup.controllers"), "cpu memory\n").unwrap();
        std::fs::write(root.join("sys/fs/cgroup/kubepods/pod1/cgroup.controllers"), "").unwrap();
        let mi = "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        let (file, found) = own_cgroup_controllers(&proc_self(d.path(), "0::/kubepods/pod1\n", mi), &root);
        assert_eq!(file, Some(root.join("sys/fs/cgroup/kubepods/pod1/cgroup.controllers")));
        assert!(found.is_empty(), "{found:?}");
        let (_, found) = own_cgroup_controllers(&proc_self(d.path(), "0::/kubepods\n", mi), &root);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["cpu", "memory"]);
        // A mount of a subtree (root /kubepods): the cgroup's path is taken relative to it.
        let mi = "30 25 0:26 /kubepods /sys/fs/cgroup/k rw - cgroup2 cgroup2 rw\n";
        std::fs::create_dir_all(root.join("sys/fs/cgroup/k/pod1")).unwrap();
        std::fs::write(root.join("sys/fs/cgroup/k/pod1/cgroup.controllers"), "pids\n").unwrap();
        let (file, found) = own_cgroup_controllers(&proc_self(d.path(), "0::/kubepods/pod1\n", mi), &root);
        assert_eq!(file, Some(root.join("sys/fs/cgroup/k/pod1/cgroup.controllers")));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["pids"]);
    }

    #[test]
    fn host_checks_from_an_injected_proc() {
        let d = tempfile::tempdir().unwrap();
        let proc = d.path().join("proc");
        std::fs::create_dir_all(proc.join("net")).unwrap();
        std::fs::create_dir_all(proc.join("sys/kernel/keys")).unwrap();
        let w = |rel: &str, text: &str| std::fs::write(proc.join(rel), text).unwrap();
        w("swaps", "Filename\tType\tSize\tUsed\tPriority\n");
        // eth0 default route, eth0 10.0.2.0/24, cni0 10.42.0.0/24 (k3s's own), wg0 10.43.128.0/17 (clash).
        w(
            "net/route",
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
             eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
             eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
             cni0\t00002A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
        );
        w(
            "net/tcp",
            "  sl  local_address rem_address   st\n   0: 00000000:1A0B 00000000:0000 0A\n   1: 0100007F:2A02 0100007F:9000 01\n",
        );
        w("net/udp", "  sl  local_address rem_address   st\n");
        w("sys/kernel/keys/root_maxkeys", "1000000\n");
        let by = |f: &[HostFinding], n: &str| f.iter().find(|h| h.name == n).cloned().unwrap();
        let f = host_checks(&proc, None);
        assert!(!by(&f, "iptables mode").ok);
        assert!(by(&f, "swap").ok && by(&f, "routes").ok && by(&f, "root_maxkeys").ok, "{f:?}");
        // 0x1A0B = 6667 listens, 0x2A02 = 10754 is only connected: both harmless.
        assert!(by(&f, "ports").ok, "{f:?}");

        w("swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/vda2 partition 1024 0 -2\n");
        let mut route = std::fs::read_to_string(proc.join("net/route")).unwrap();
        route.push_str("wg0\t00802B0A\t00000000\t0001\t0\t0\t0\t0080FFFF\t0\t0\t0\n");
        w("net/route", &route);
        w("net/tcp", "  sl  local_address rem_address   st\n   0: 00000000:192B 00000000:0000 0A\n");
        w("net/udp", "  sl  local_address rem_address   st\n   0: 00000000:2118 00000000:0000 07\n");
        w("sys/kernel/keys/root_maxkeys", "200\n");
        let bin = d.path().join("xtables-legacy-multi");
        std::fs::write(&bin, "").unwrap();
        std::os::unix::fs::symlink(&bin, d.path().join("iptables")).unwrap();
        let f = host_checks(&proc, Some(&d.path().join("iptables")));
        assert!(by(&f, "iptables mode").ok && by(&f, "iptables mode").detail.starts_with("legacy"), "{f:?}");
        assert!(!by(&f, "swap").ok);
        assert_eq!(by(&f, "routes").detail, "10.43.128.0/17 on wg0 overlaps the service CIDR 10.43.0.0/16");
        assert_eq!(by(&f, "ports").detail, "tcp/6443, udp/8472 already in use (by k3s itself if it runs here)");
        assert!(!by(&f, "root_maxkeys").ok);
    }

    #[test]
    fn v1_controllers_count_only_when_mounted_here() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("sys/fs/cgroup/memory/user.slice")).unwrap();
        std::fs::create_dir_all(root.join("sys/fs/cgroup/unified/user.slice")).unwrap();
        std::fs::write(root.join("sys/fs/cgroup/unified/user.slice/cgroup.controllers"), "").unwrap();
        let cg = "12:pids:/user.slice\n4:memory:/user.slice\n1:name=systemd:/user.slice\n0::/user.slice\n";
        let mi = "31 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                  35 25 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let (file, found) = own_cgroup_controllers(&proc_self(d.path(), cg, mi), &root);
        assert_eq!(file, Some(root.join("sys/fs/cgroup/unified/user.slice/cgroup.controllers")));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["memory"], "pids is not mounted in this namespace");
        let (file, found) = own_cgroup_controllers(&proc_self(d.path(), "", ""), &root);
        assert_eq!((file, found.len()), (None, 0), "nothing readable: nothing available, no panic");
    }
}
