//! The node tools of meta-k3s-rs, as a library the `k3s-node` multi-call binary and the tests share.
//!
//! * [`agent`]: `k3s-agent` — validate, write the agent's drop-in atomically (0600), restart the agent.
//! * [`clean`]: `k3s-clean` / `k3s-killall.sh` — shims, mounts, pod namespaces, links, firewall, CNI state.
//! * [`checkconfig`]: `k3s-check-config` — a kernel config and the system against `k3s_model::kernel`.
//! * [`roles`]: `k3s-role-setup` — the node's role from the kernel command line.
//!
//! Parsers ([`cmdline`], [`mounts`], and the shared `k3s_kconfig` reader) never panic on any input; the fuzz targets in
//! `fuzz/` hold them to that. Side effects go through syscalls ([`sys`]), rtnetlink ([`netlink`]), the installed
//! iptables ([`firewall`]) and `systemctl` behind a seam ([`systemd`]).

pub mod agent;
pub mod checkconfig;
pub mod clean;
pub mod cmdline;
pub mod firewall;
pub mod fuzzing;
pub mod json;
pub mod mounts;
pub mod netlink;
pub mod procs;
pub mod roles;
pub mod server;
pub mod sys;
pub mod systemd;
pub mod unitesc;
