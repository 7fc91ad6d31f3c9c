//! Every QEMU dies with `k3s-bake`, whatever kills it (SIGKILL, the OOM killer, a CI timeout), through Linux's
//! parent-death signal (`PR_SET_PDEATHSIG`).
//!
//! Why this way: the signal has to be set in the child between fork and exec. Doing that in-process needs
//! `CommandExt::pre_exec`, which is `unsafe` (this crate forbids it); so the child sets it on itself by exec'ing
//! util-linux's `setpriv --pdeathsig KILL` (util-linux is Essential on Debian; 2.38 has the option), which then
//! execs a constant `/bin/sh` line that execs QEMU. Each exec keeps the pid, the process group and the signal
//! (the kernel clears it only for set-user-ID, set-group-ID or file-capability binaries: a QEMU made setcap for
//! bridge helpers would lose it, and the stale-directory cleanup of the next run is then the only net).
//!
//! The race setpriv cannot close: `k3s-bake` dying after the fork but before setpriv's prctl leaves a child whose
//! parent is already gone, and a parent-death signal set then never fires. The shell closes it: `$PPID` is read
//! when the shell starts, after the prctl, and the shell execs QEMU only when it is still the pid of the
//! `k3s-bake` that spawned it (else it exits 125 and QEMU never starts). QEMU's own arguments are positional
//! parameters of that constant line, never part of it.
//!
//! SIGKILL, not SIGTERM: with `k3s-bake` gone nobody escalates a QEMU that ignores SIGTERM, and the root file
//! systems are `snapshot=on`, so nothing of the images is lost. The graceful SIGTERM → 10 s → SIGKILL teardown
//! of [`crate::run::Cluster`] stays for every path where `k3s-bake` still runs.
//!
//! **Invariant**: the kernel sends the parent-death signal when the *thread* that forked the child exits, not the
//! process. So the QEMUs must be spawned from a thread that lives as long as the cluster: [`crate::run::Cluster::start`]
//! spawns on the calling thread (duct starts a single command there), and `k3s-bake cluster` calls it on the main
//! thread (`cli::run`). A cluster started from a short-lived thread would lose its VMs when that thread ends (and
//! the runner would then report them exited, not hide it).

use std::ffi::OsString;

/// The program that sets the parent-death signal and execs the rest.
pub const SETPRIV: &str = "setpriv";

/// The signal each QEMU gets when its spawning thread ends (`setpriv --pdeathsig` spells it so).
pub const SIGNAL: &str = "KILL";

/// Exit status of the launcher when the spawning process was gone before the signal was set (QEMU not started).
pub const PARENT_GONE: i32 = 125;

/// Constant: `$1` is the pid of the spawning process, the rest is the command to exec.
const CHECK_PARENT: &str = "[ \"$PPID\" = \"$1\" ] || exit 125; shift; exec \"$@\"";

/// The argument vector (after [`SETPRIV`]) that runs `program args…` with the parent-death signal, provided its
/// parent is still `parent` once the signal is set.
pub fn launcher_args(parent: u32, program: &str, args: &[OsString]) -> Vec<OsString> {
    let mut v: Vec<OsString> = ["--pdeathsig", SIGNAL, "--", "/bin/sh", "-c", CHECK_PARENT, "k3s-vm-launch"]
        .into_iter()
        .map(OsString::from)
        .collect();
    v.push(parent.to_string().into());
    v.push(program.into());
    v.extend(args.iter().cloned());
    v
}

/// [`launcher_args`] for a child of this process.
pub fn args_for_child(program: &str, args: &[OsString]) -> Vec<OsString> {
    launcher_args(std::process::id(), program, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt as _;
    use std::time::{Duration, Instant};

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn wait_exec(pid: u32, argv0: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmdline.split(|&b| b == 0).next() == Some(argv0.as_bytes()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{pid} never ran {argv0}");
    }

    #[test]
    fn child_dies_when_its_spawning_thread_ends() {
        // The spawning thread ends at once; with the parent-death signal the child is killed with SIGKILL, without
        // it `sleep 300` would run on.
        let handle = std::thread::spawn(|| {
            let h =
                duct::cmd(SETPRIV, args_for_child("sleep", &os(&["300"]))).stdin_null().unchecked().start().unwrap();
            // Only once the child runs `sleep` (setpriv's prctl done) may the thread end: a signal set after the
            // thread ended would belong to the thread the child was moved to.
            wait_exec(h.pids()[0], "sleep");
            h
        })
        .join()
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let out = handle.wait_deadline(deadline).unwrap();
        let Some(out) = out else {
            let _ = handle.kill();
            panic!("the child outlived the thread that spawned it (no parent-death signal)");
        };
        assert_eq!(out.status.signal(), Some(9), "{:?}", out.status);
    }

    #[test]
    fn child_lives_while_its_spawning_thread_does() {
        let h = duct::cmd(SETPRIV, args_for_child("sleep", &os(&["300"]))).stdin_null().unchecked().start().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(h.try_wait().unwrap().is_none(), "exited early");
        h.kill().unwrap();
    }

    #[test]
    fn a_parent_gone_before_the_signal_was_set_starts_nothing() {
        // As if the spawning process had died between fork and setpriv's prctl: the recorded parent is not the
        // child's parent any more (pid 1 never is ours).
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("started");
        let args = launcher_args(1, "touch", &[marker.clone().into_os_string()]);
        let out = duct::cmd(SETPRIV, args).stdin_null().unchecked().run().unwrap();
        assert_eq!(out.status.code(), Some(PARENT_GONE));
        assert!(!marker.exists(), "the program ran with its parent gone");
    }

    #[test]
    fn the_program_and_its_arguments_reach_exec_unchanged() {
        // Arguments are positional parameters of the constant line: spaces, quotes, `$` and `;` pass as they are.
        let odd = ["a b", "'\"", "$(false); exit 3", "-c", ""];
        let mut args = os(&["-c", "printf '%s|' \"$@\"", "sh"]);
        args.extend(os(&odd));
        let out = duct::cmd(SETPRIV, args_for_child("sh", &args)).stdin_null().stdout_capture().run().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "a b|'\"|$(false); exit 3|-c||");
    }
}
