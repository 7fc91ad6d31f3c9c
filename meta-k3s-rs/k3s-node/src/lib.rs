//! The node tools of meta-k3s-rs, as a library the `k3s-node` multi-call binary and the tests share.
//!
//! * [`agent`]: `k3s-agent` — validate, write the token file (0600) and the agent's drop-in atomically, restart
//!   the agent only when the settings changed.
//! * [`clean`]: `k3s-clean` / `k3s-killall.sh` — shims, mounts, pod namespaces, links, firewall, CNI state.
//! * [`checkconfig`]: `k3s-check-config` — a kernel config and the system against `k3s_model::kernel`.
//! * [`roles`]: `k3s-role-setup` — the node's role from the kernel command line (PID 1's arguments in a
//!   container), into the role's own config drop-in.
//! * [`Node`]: the live node or an image root; on an image root nothing live (processes, mounts, links,
//!   firewall, the running systemd) is touched.
//! * `server` (internal): is a k3s server live here? From an injected proc directory; fails closed.
//!
//! Parsers (`cmdline`, `mounts`, and the shared `k3s_kconfig` reader) never panic on any input; the fuzz targets in
//! `fuzz/` hold them to that. Side effects go through syscalls (`sys`, through rustix), rtnetlink (`netlink`),
//! the installed iptables (`firewall`) and `systemctl` behind a seam ([`systemd`]).
#![forbid(unsafe_code)]

// The public API: the tools (what `main.rs` runs), the seams a caller supplies (systemd, the node to act on) and
// what the tests and fuzz targets drive. The kernel-config reader is the `k3s_kconfig` crate.
pub mod agent;
pub mod checkconfig;
pub mod clean;
pub mod fuzzing;
pub mod roles;
pub mod systemd;
pub mod token_source;
pub mod unitesc;

// Internals: the parsers and syscall, netlink and iptables plumbing behind the tools.
pub(crate) mod cmdline;
pub(crate) mod errors;
pub(crate) mod firewall;
pub(crate) mod json;
pub(crate) mod mounts;
pub(crate) mod netlink;
pub(crate) mod node;
pub(crate) mod procs;
pub(crate) mod server;
pub(crate) mod sys;

pub use cmdline::Param;
pub use node::Node;
