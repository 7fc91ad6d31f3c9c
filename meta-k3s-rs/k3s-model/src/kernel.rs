//! Kernel options k3s needs.
//!
//! The list follows k3s's own `check-config.sh` (its "Generally Necessary" set is [`Level::Required`], its
//! "Optional Features" and network/storage driver sets are [`Level::Recommended`]) and adds what a working node
//! needs but that script does not ask for, each with the reason in [`KernelOption::why`]: the `MARK` target
//! kube-proxy's iptables rules use, the cgroup-BPF device controller runc needs on cgroup v2, overlayfs for
//! containerd's default snapshotter, VXLAN for flannel's default backend, the matches kube-router's network policy
//! uses, and the Kconfig parents without which a fragment line is silently dropped by `merge_config` (the legacy
//! xtables split of 6.17, HUGETLBFS, NET_SCHED, IPV6 for the bridge). That the fragment carries every parent its
//! lines need is checked, not claimed: `.ci/test.d/20-kconfig.sh` merges it with the kernel's own kconfig over
//! linux-yocto 6.18's recorded inputs and the arch defconfigs and fails on any line not kept as requested.
//! Symbols a supported kernel lacks carry [`Exists`]; the check accepts their absence only there.

/// How much k3s depends on an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// k3s does not work without it; `k3s-check-config` fails when it is missing.
    Required,
    /// A feature degrades without it (IPVS, network policy, encryption, ext4 ACLs, ...); reported as a warning.
    Recommended,
}

impl Level {
    /// Lower-case name used in reports and JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Recommended => "recommended",
        }
    }
}

/// The subsystem an option belongs to; groups the rendered fragment and the checker's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// Namespaces containers run in.
    Namespaces,
    /// Control groups and their controllers.
    Cgroups,
    /// seccomp, keyrings, POSIX message queues.
    Process,
    /// Virtual links and bridging for pod networking.
    Networking,
    /// iptables/netfilter used by kube-proxy, flannel and the CNI plugins.
    Netfilter,
    /// IPVS for kube-proxy's ipvs mode.
    Ipvs,
    /// ipset and logging used by k3s's network policy controller.
    NetworkPolicy,
    /// Encrypted overlay networks (flannel ipsec / wireguard backends).
    Encryption,
    /// Filesystems for container images and volumes.
    Storage,
}

impl Area {
    /// Human-readable heading.
    pub const fn title(self) -> &'static str {
        match self {
            Area::Namespaces => "namespaces",
            Area::Cgroups => "control groups",
            Area::Process => "process isolation",
            Area::Networking => "pod networking",
            Area::Netfilter => "netfilter / iptables",
            Area::Ipvs => "IPVS (kube-proxy ipvs mode)",
            Area::NetworkPolicy => "network policy controller",
            Area::Encryption => "encrypted overlay networks",
            Area::Storage => "storage",
        }
    }
}

/// What the fragment asks of an option, and what a checked kernel must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Want {
    /// `CONFIG_X=y` in the fragment. A checked kernel passes with `=y`; `=m` is reported as a module (usable
    /// when the module is installed) and fails only where built-in is demanded (`--builtin`, the kconfig suite).
    On,
    /// `# CONFIG_X is not set` in the fragment: the option harms k3s when enabled.
    Off,
}

/// A kernel release as `(major, minor)`, for options that exist only from or until a release.
pub type Release = (u16, u16);

/// The kernel releases an option exists in. Kconfig silently drops a fragment line naming a symbol the kernel
/// does not define, so the kconfig check accepts "undefined" only where the model says so, here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exists {
    /// Every kernel the layer supports (6.12 and later) defines it.
    Always,
    /// Defined from this release on (e.g. the 6.17 netfilter split).
    Since(Release),
    /// Defined only before this release (removed upstream; its users no longer need it).
    Until(Release),
}

/// One Kconfig option, without the `CONFIG_` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelOption {
    /// Kconfig symbol, e.g. `NET_NS`.
    pub name: &'static str,
    /// How much k3s depends on it.
    pub level: Level,
    /// Which subsystem it belongs to.
    pub area: Area,
    /// Why k3s needs it, for the fragment's comments and the checker's report.
    pub why: &'static str,
    /// On (the usual case) or off.
    pub want: Want,
    /// Which kernels define the symbol.
    pub exists: Exists,
    /// A symbol only the architecture or board can switch on (`ARCH_SUPPORTS_HUGETLBFS`: arm without LPAE has
    /// none). When it is off, the option cannot be had on that board and its absence is accepted, said so.
    pub hardware: Option<&'static str>,
}

impl KernelOption {
    /// Whether a kernel of `release` defines this symbol.
    pub fn exists_in(&self, release: Release) -> bool {
        match self.exists {
            Exists::Always => true,
            Exists::Since(r) => release >= r,
            Exists::Until(r) => release < r,
        }
    }
}

const fn req(name: &'static str, area: Area, why: &'static str) -> KernelOption {
    KernelOption { name, level: Level::Required, area, why, want: Want::On, exists: Exists::Always, hardware: None }
}

const fn rec(name: &'static str, area: Area, why: &'static str) -> KernelOption {
    KernelOption { name, level: Level::Recommended, area, why, want: Want::On, exists: Exists::Always, hardware: None }
}

/// An option k3s needs that only kernels from `release` on define.
const fn since(o: KernelOption, release: Release) -> KernelOption {
    KernelOption { exists: Exists::Since(release), ..o }
}

/// An option only kernels before `release` define.
const fn until(o: KernelOption, release: Release) -> KernelOption {
    KernelOption { exists: Exists::Until(release), ..o }
}

/// An option the board must make possible (see [`KernelOption::hardware`]).
const fn hardware(o: KernelOption, symbol: &'static str) -> KernelOption {
    KernelOption { hardware: Some(symbol), ..o }
}

/// An option k3s needs switched off.
const fn off(o: KernelOption) -> KernelOption {
    KernelOption { want: Want::Off, ..o }
}

use Area::*;

/// Every option, in the order the fragment and the report list them.
pub const OPTIONS: &[KernelOption] = &[
    req("NAMESPACES", Namespaces, "parent of all namespace types"),
    req("NET_NS", Namespaces, "each pod gets its own network namespace"),
    req("PID_NS", Namespaces, "containers get their own process tree"),
    req("IPC_NS", Namespaces, "containers get their own System V IPC"),
    req("UTS_NS", Namespaces, "containers get their own hostname"),
    rec("USER_NS", Namespaces, "user-namespaced and rootless containers"),
    req("CGROUPS", Cgroups, "parent of all cgroup controllers"),
    req("CGROUP_PIDS", Cgroups, "kubelet enforces pod PID limits"),
    req("CGROUP_CPUACCT", Cgroups, "CPU usage accounting for the kubelet's metrics"),
    req("CGROUP_DEVICE", Cgroups, "containers may only open the devices they are granted"),
    req("CGROUP_FREEZER", Cgroups, "runc pauses containers while it signals or updates them"),
    req("CGROUP_SCHED", Cgroups, "CPU requests and limits"),
    req("CPUSETS", Cgroups, "the cpuset controller the kubelet requires"),
    req("MEMCG", Cgroups, "memory requests and limits; the kubelet refuses to start without the memory controller"),
    req("CGROUP_BPF", Cgroups, "runc enforces device rules on cgroup v2 with a BPF program"),
    req("BPF_SYSCALL", Cgroups, "needed to load runc's cgroup v2 device filter"),
    rec("BLK_CGROUP", Cgroups, "block I/O weights and limits"),
    rec("BLK_DEV_THROTTLING", Cgroups, "block I/O throttling"),
    rec("CGROUP_PERF", Cgroups, "perf events per container"),
    hardware(
        rec(
            "HUGETLBFS",
            Cgroups,
            "Kconfig parent of CGROUP_HUGETLB (through HUGETLB_PAGE); linux-yocto's base has neither",
        ),
        "ARCH_SUPPORTS_HUGETLBFS",
    ),
    hardware(rec("CGROUP_HUGETLB", Cgroups, "huge page limits"), "ARCH_SUPPORTS_HUGETLBFS"),
    rec("NET_SCHED", Cgroups, "Kconfig parent of NET_CLS_CGROUP (arm's multi_v7_defconfig lacks it)"),
    rec("NET_CLS_CGROUP", Cgroups, "network classification per container"),
    rec("CGROUP_NET_PRIO", Cgroups, "network priority per container"),
    rec("CFS_BANDWIDTH", Cgroups, "CPU limits (CFS quota)"),
    rec("FAIR_GROUP_SCHED", Cgroups, "CPU shares between pods"),
    off(rec(
        "RT_GROUP_SCHED",
        Cgroups,
        "with it, cgroup v2 refuses the cpu controller to any cgroup holding a real-time task unless the cgroup has an \
         RT budget, so the kubelet cannot enable cpu for pods; k3s's check-config only lists it as optional",
    )),
    req("SECCOMP", Process, "containerd applies the runtime's default seccomp profile"),
    req("KEYS", Process, "session keyrings per container"),
    req("POSIX_MQUEUE", Process, "POSIX message queues inside containers"),
    req(
        "IPV6",
        Networking,
        "Kconfig parent: BRIDGE depends on IPV6 || IPV6=n, so a modular IPv6 (arm64 defconfig) caps the bridge at =m",
    ),
    req("VETH", Networking, "the CNI bridge plugin links each pod with a veth pair"),
    req("BRIDGE", Networking, "the cni0 bridge pods attach to"),
    req("BRIDGE_NETFILTER", Networking, "bridged pod traffic must pass iptables for services to work"),
    rec("VXLAN", Networking, "flannel's default (vxlan) backend"),
    req("NETFILTER", Netfilter, "parent of every netfilter option"),
    req("NETFILTER_ADVANCED", Netfilter, "makes the xtables matches below selectable"),
    req("NETFILTER_XTABLES", Netfilter, "iptables' match and target framework"),
    req("NF_CONNTRACK", Netfilter, "connection tracking for NAT and stateful rules"),
    rec("NF_CT_NETLINK", Netfilter, "conntrack's netlink interface: kube-proxy deletes stale UDP flows through it"),
    since(
        req(
            "NETFILTER_XTABLES_LEGACY",
            Netfilter,
            "Kconfig parent (6.17+, default off) of the legacy iptables tables; OE-Core's iptables is legacy-only",
        ),
        (6, 17),
    ),
    req("IP_NF_IPTABLES", Netfilter, "IPv4 iptables"),
    req(
        "IP_NF_IPTABLES_LEGACY",
        Netfilter,
        "Kconfig parent of the filter and nat tables kube-proxy and flannel program",
    ),
    req("IP_NF_FILTER", Netfilter, "the filter table kube-proxy and the network policy controller use"),
    req("IP_NF_TARGET_MASQUERADE", Netfilter, "pod traffic leaving the node is masqueraded"),
    req("IP_NF_TARGET_REJECT", Netfilter, "kube-proxy rejects traffic to services without endpoints"),
    req("NETFILTER_XT_MATCH_ADDRTYPE", Netfilter, "kube-proxy matches local addresses"),
    req("NETFILTER_XT_MATCH_CONNTRACK", Netfilter, "stateful rules of kube-proxy and flannel"),
    req("NETFILTER_XT_MATCH_IPVS", Netfilter, "kube-proxy matches IPVS-handled traffic"),
    req("NETFILTER_XT_MATCH_COMMENT", Netfilter, "every kube-proxy and CNI rule carries a comment"),
    req("NETFILTER_XT_MATCH_MULTIPORT", Netfilter, "the portmap plugin and kube-proxy match port lists"),
    req("NETFILTER_XT_MATCH_STATISTIC", Netfilter, "kube-proxy load-balances between endpoints"),
    rec(
        "NETFILTER_XT_MATCH_PHYSDEV",
        Netfilter,
        "the network policy controller (kube-router) matches bridged pod ports",
    ),
    rec("NETFILTER_XT_MATCH_LIMIT", Netfilter, "the network policy controller rate-limits its log rules"),
    req("NETFILTER_XT_MARK", Netfilter, "kube-proxy marks packets to masquerade (KUBE-MARK-MASQ)"),
    req("IP_NF_NAT", Netfilter, "the nat table for services and masquerading"),
    req("NF_NAT", Netfilter, "network address translation core"),
    rec("IP_NF_TARGET_REDIRECT", Netfilter, "transparent redirects"),
    rec("IP6_NF_IPTABLES", Netfilter, "dual-stack clusters (IPv6 iptables)"),
    rec("IP6_NF_IPTABLES_LEGACY", Netfilter, "Kconfig parent of the IPv6 filter and nat tables"),
    rec("IP6_NF_FILTER", Netfilter, "dual-stack clusters (IPv6 filter table)"),
    rec("IP6_NF_NAT", Netfilter, "dual-stack clusters (IPv6 nat table)"),
    rec("IP6_NF_TARGET_MASQUERADE", Netfilter, "dual-stack clusters (IPv6 masquerading)"),
    rec("IP_VS", Ipvs, "kube-proxy's ipvs mode"),
    rec("IP_VS_NFCT", Ipvs, "connection tracking for IPVS"),
    rec("IP_VS_PROTO_TCP", Ipvs, "IPVS for TCP services"),
    rec("IP_VS_PROTO_UDP", Ipvs, "IPVS for UDP services"),
    rec("IP_VS_RR", Ipvs, "IPVS round-robin scheduler"),
    rec("IP_SET", NetworkPolicy, "the network policy controller keeps pod sets in ipsets"),
    rec("IP_SET_HASH_IP", NetworkPolicy, "ipsets of pod addresses"),
    rec("IP_SET_HASH_NET", NetworkPolicy, "ipsets of CIDRs"),
    rec("NETFILTER_XT_SET", NetworkPolicy, "iptables matches against ipsets"),
    rec("NETFILTER_XT_TARGET_NFLOG", NetworkPolicy, "logging of dropped packets"),
    rec("NETFILTER_NETLINK_LOG", NetworkPolicy, "userspace packet logging for NFLOG"),
    rec("CRYPTO", Encryption, "parent of the crypto options"),
    rec("CRYPTO_AEAD", Encryption, "flannel ipsec backend"),
    rec("CRYPTO_GCM", Encryption, "flannel ipsec backend"),
    rec("CRYPTO_SEQIV", Encryption, "flannel ipsec backend"),
    // Removed upstream after 6.18 (absent from Debian's 7.2, present in 6.12): GCM uses the GHASH library there.
    until(rec("CRYPTO_GHASH", Encryption, "flannel ipsec backend"), (7, 2)),
    rec("XFRM", Encryption, "flannel ipsec backend"),
    rec("XFRM_USER", Encryption, "flannel ipsec backend"),
    rec("XFRM_ALGO", Encryption, "flannel ipsec backend"),
    rec("INET_ESP", Encryption, "flannel ipsec backend"),
    rec("WIREGUARD", Encryption, "flannel's wireguard-native backend"),
    rec("OVERLAY_FS", Storage, "containerd's default overlayfs snapshotter"),
    rec("EXT4_FS", Storage, "ext4 as backing filesystem"),
    rec("EXT4_FS_POSIX_ACL", Storage, "POSIX ACLs on ext4 volumes"),
    rec("EXT4_FS_SECURITY", Storage, "security labels on ext4 volumes"),
];

/// The cgroup v2 controllers the kubelet needs enabled at the root (`/sys/fs/cgroup/cgroup.controllers`).
pub const CGROUP_V2_CONTROLLERS: &[&str] = &["cpu", "cpuset", "memory", "pids"];

/// Programs k3s runs from `PATH` that the layer provides through runtime dependencies.
pub const REQUIRED_COMMANDS: &[&str] = &["iptables", "modprobe", "runc", "nsenter"];

/// Options of one level, in list order.
pub fn options_at(level: Level) -> impl Iterator<Item = &'static KernelOption> {
    OPTIONS.iter().filter(move |o| o.level == level)
}

/// Looks an option up by its Kconfig symbol (with or without `CONFIG_`).
pub fn find(name: &str) -> Option<&'static KernelOption> {
    let name = name.strip_prefix("CONFIG_").unwrap_or(name);
    OPTIONS.iter().find(|o| o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kconfig_symbols() {
        let mut seen = std::collections::BTreeSet::new();
        for o in OPTIONS {
            assert!(
                !o.name.is_empty() && o.name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not a Kconfig symbol",
                o.name
            );
            assert!(!o.name.starts_with("CONFIG_"), "{} carries the CONFIG_ prefix", o.name);
            assert!(seen.insert(o.name), "{} listed twice", o.name);
            assert!(!o.why.is_empty(), "{} has no reason", o.name);
        }
    }

    #[test]
    fn check_config_generally_necessary_set_is_required() {
        // k3s's check-config.sh fails a node that lacks any of these; so must we.
        for name in [
            "NAMESPACES",
            "NET_NS",
            "PID_NS",
            "IPC_NS",
            "UTS_NS",
            "CGROUPS",
            "CGROUP_PIDS",
            "CGROUP_CPUACCT",
            "CGROUP_DEVICE",
            "CGROUP_FREEZER",
            "CGROUP_SCHED",
            "CPUSETS",
            "MEMCG",
            "SECCOMP",
            "KEYS",
            "VETH",
            "BRIDGE",
            "BRIDGE_NETFILTER",
            "IP_NF_FILTER",
            "IP_NF_TARGET_MASQUERADE",
            "IP_NF_TARGET_REJECT",
            "NETFILTER_XT_MATCH_ADDRTYPE",
            "NETFILTER_XT_MATCH_CONNTRACK",
            "NETFILTER_XT_MATCH_IPVS",
            "NETFILTER_XT_MATCH_COMMENT",
            "NETFILTER_XT_MATCH_MULTIPORT",
            "NETFILTER_XT_MATCH_STATISTIC",
            "IP_NF_NAT",
            "NF_NAT",
            "POSIX_MQUEUE",
        ] {
            assert_eq!(find(name).map(|o| o.level), Some(Level::Required), "{name}");
        }
    }

    #[test]
    fn find_accepts_config_prefix() {
        assert_eq!(find("CONFIG_VETH").map(|o| o.name), Some("VETH"));
        assert!(find("CONFIG_NOT_A_THING").is_none());
    }
}
