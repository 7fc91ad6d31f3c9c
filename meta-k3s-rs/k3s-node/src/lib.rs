//! The node tools of meta-k3s-rs, as a library the `k3s-node` multi-call binary and the tests share.
//!
//! * [`agent`]: `k3s-agent` — validate, write the token file (0600) and the agent's drop-in atomically, restart
//!   the agent only when the settings changed.
//! * [`clean`]: `k3s-clean` / `k3s-killall.sh` — shims, mounts, pod namespaces, links, firewall, CNI state.
//! * [`checkconfig`]: `k3s-check-config` — a kernel config and the system against `k3s_model::kernel`.
//! * [`roles`]: `k3s-role-setup` — the node's role from the kernel command line (PID 1's arguments in a
//!   container), into the role's own config drop-in.
//! * [`server`]: is a k3s server live here? From an injected proc directory; fails closed.
//!
//! Parsers ([`kconfig`], [`cmdline`], [`gzip`], [`mounts`]) never panic on any input; the fuzz targets in
//! `fuzz/` hold them to that. Side effects go through syscalls ([`sys`]), rtnetlink ([`netlink`]), the installed
//! iptables ([`firewall`]) and `systemctl` behind a seam ([`systemd`]).

pub mod agent;
pub mod checkconfig;
pub mod clean;
pub mod cmdline;
pub mod firewall;
pub mod fuzzing;
pub mod gzip;
pub mod json;
pub mod kconfig;
pub mod mounts;
pub mod netlink;
pub mod node;
pub mod procs;
pub mod roles;
pub mod server;
pub mod sys;
pub mod systemd;
pub mod unitesc;
pub use node::Node;
