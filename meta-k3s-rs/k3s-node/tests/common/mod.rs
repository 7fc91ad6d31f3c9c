//! Shared by the integration tests: how to start the built binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The built multi-call binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_k3s-node"))
}

/// A command running `program` (the binary or a link to it). For cross-architecture runs CI sets
/// `K3S_NODE_TEST_RUNNER` (e.g. `qemu-aarch64-static -L /`): cargo's runner only wraps the test binary itself,
/// not the programs the tests start.
pub fn command(program: &Path) -> Command {
    match std::env::var("K3S_NODE_TEST_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut words = runner.split_whitespace();
            let mut c = Command::new(words.next().unwrap());
            c.args(words).arg(program);
            c
        }
        _ => Command::new(program),
    }
}

/// `k3s-node TOOL` as a command.
pub fn tool(name: &str) -> Command {
    let mut c = command(&binary());
    c.arg(name);
    c
}

/// Whether tests that need root and namespaces may run. Not root: fail loudly, unless the run explicitly opts out
/// with `K3S_NODE_SKIP_ROOT_TESTS=1` (the qemu-user cross run does), in which case the test says it was skipped.
pub fn root_or_explicit_skip(test: &str) -> bool {
    if std::env::var("K3S_NODE_SKIP_ROOT_TESTS").as_deref() == Ok("1") {
        eprintln!("{test}: SKIPPED (K3S_NODE_SKIP_ROOT_TESTS=1)");
        return false;
    }
    assert!(
        rustix::process::geteuid().is_root(),
        "{test} needs root (network and mount namespaces); run as root or set K3S_NODE_SKIP_ROOT_TESTS=1"
    );
    true
}

/// A proc directory of a quiet node (init and a shell) under `dir`, for `--proc`: tests never decide from the
/// processes of the machine they run on.
pub fn quiet_proc(dir: &Path) -> PathBuf {
    let proc_dir = dir.join("proc");
    for (pid, cmdline) in [("1", &b"/sbin/init\0"[..]), ("7", b"-sh\0")] {
        std::fs::create_dir_all(proc_dir.join(pid)).unwrap();
        std::fs::write(proc_dir.join(pid).join("cmdline"), cmdline).unwrap();
    }
    proc_dir
}
