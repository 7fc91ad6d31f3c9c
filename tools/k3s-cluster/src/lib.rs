//! A k3s cluster of meta-k3s-rs images under QEMU: one server and N agents on a private socket network, no
//! root, the join token through fw_cfg (`k3s-bake cluster`). `plan` computes every QEMU command line without
//! side effects; `run` starts them (duct, one process group each, each with the parent-death signal of `pdeath` so
//! none outlives a killed `k3s-bake`), collects the kubeconfig, waits for Ready and tears everything down; `stale`
//! removes what a killed run left (its runtime directory and token, any QEMU of it still running).
#![forbid(unsafe_code)]

pub mod cli;
pub mod kubeconfig;
pub mod pdeath;
pub mod plan;
pub mod qemuboot;
pub mod run;
pub mod rundir;
pub mod stale;

pub use cli::{ClusterArgs, ClusterError, run};
