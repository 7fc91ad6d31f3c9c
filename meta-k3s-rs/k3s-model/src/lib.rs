//! The one model of what k3s needs from a node.
//!
//! Every fact that more than one part of meta-k3s-rs relies on lives here, once:
//!
//! * [`kernel`]: the kernel options k3s requires or recommends. `k3s-bake` renders them into the kernel
//!   fragment the layer applies to linux-yocto, and `k3s-check-config` checks a running kernel against the same
//!   list, so the fragment we ship and the checker we ship cannot disagree.
//! * [`paths`]: where k3s keeps its state, configuration, secrets and CNI files.
//! * [`units`]: systemd unit names and the drop-in the agent writes.
//! * [`net`]: interface names, network-namespace and firewall-chain prefixes k3s and flannel create, and ports.
//! * [`tools`]: the names of the node tools, all links to one multi-call binary.
//! * [`flags`]: the flags `k3s server` and `k3s agent` define (config keys per role) and k3s's error text.
//!
//! The crate has no dependencies and no I/O: it is a table of facts, compiled into on-target binaries and host
//! tools alike.
#![forbid(unsafe_code)]

pub mod flags;
pub mod kernel;
pub mod net;
pub mod paths;
pub mod tools;
pub mod units;
