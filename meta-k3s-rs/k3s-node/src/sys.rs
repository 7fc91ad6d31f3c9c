//! Thin safe wrappers over the few syscalls the node tools make directly (instead of spawning `umount`, `kill`),
//! through rustix: no `unsafe` in this crate.

use rustix::io::Errno;
use rustix::mount::UnmountFlags;
use std::io;
use std::path::Path;

/// A process id that names exactly one process: never 0 or negative, which `kill(2)` reads as "my process
/// group", "every process I may signal" (`-1`: as root, everything) or a process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pid(rustix::process::Pid);

impl Pid {
    /// `raw` as a process id, if it names one process (`raw > 0`).
    pub fn new(raw: i32) -> Option<Pid> {
        if raw > 0 { rustix::process::Pid::from_raw(raw).map(Pid) } else { None }
    }

    /// This process.
    pub fn me() -> Pid {
        Pid(rustix::process::getpid())
    }

    /// The number.
    pub fn get(self) -> i32 {
        self.0.as_raw_nonzero().get()
    }
}

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl std::str::FromStr for Pid {
    type Err = ();
    fn from_str(s: &str) -> Result<Pid, ()> {
        s.parse().ok().and_then(Pid::new).ok_or(())
    }
}

/// Whether an error is this errno.
pub fn is_errno(e: &io::Error, errno: Errno) -> bool {
    e.raw_os_error() == Some(errno.raw_os_error())
}

/// Unmounts `path`; a busy mount is detached lazily (as `umount -l`), since cleanup must not leave it behind.
pub fn unmount(path: &Path) -> io::Result<()> {
    match rustix::mount::unmount(path, UnmountFlags::NOFOLLOW) {
        Ok(()) => Ok(()),
        Err(Errno::BUSY) => Ok(rustix::mount::unmount(path, UnmountFlags::DETACH | UnmountFlags::NOFOLLOW)?),
        Err(e) => Err(e.into()),
    }
}

/// Sends `SIGKILL` to the one process `pid`; a process that is already gone is not an error.
pub fn kill9(pid: Pid) -> io::Result<()> {
    match rustix::process::kill_process(pid.0, rustix::process::Signal::KILL) {
        Ok(()) | Err(Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_name_one_process() {
        assert_eq!(Pid::new(0), None);
        assert_eq!(Pid::new(-1), None, "kill(-1) signals every process");
        assert_eq!(Pid::new(i32::MIN), None);
        assert_eq!(Pid::new(1).map(Pid::get), Some(1));
        assert_eq!("-1".parse::<Pid>(), Err(()));
        assert_eq!("42".parse::<Pid>().map(Pid::get), Ok(42));
        assert_eq!(Pid::me().get(), std::process::id() as i32);
    }

    #[test]
    fn kill9_of_a_gone_process_is_fine() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = Pid::new(child.id() as i32).unwrap();
        child.wait().unwrap();
        kill9(pid).unwrap();
    }
}
