//! A k3s cluster of meta-k3s-rs images under QEMU: one server and N agents on a private socket network, no
//! root, the join token through fw_cfg (`k3s-bake cluster`). `plan` computes every QEMU command line without
//! side effects; `run` starts them (duct, one process group each), collects the kubeconfig, waits for Ready and
//! tears everything down.
#![forbid(unsafe_code)]

pub mod cli;
pub mod kubeconfig;
pub mod plan;
pub mod qemuboot;
pub mod run;
pub mod rundir;

pub use cli::{ClusterArgs, ClusterError, run};
