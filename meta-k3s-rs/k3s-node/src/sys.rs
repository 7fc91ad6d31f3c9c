//! Thin safe wrappers over the few syscalls the node tools make directly (instead of spawning `umount`, `kill`).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{}: path contains NUL", path.display())))
}

/// `umount2(path, flags)`.
pub fn umount2(path: &Path, flags: libc::c_int) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    let rc = unsafe { libc::umount2(c.as_ptr(), flags) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Unmounts `path`; a busy mount is detached lazily (as `umount -l`), since cleanup must not leave it behind.
pub fn unmount(path: &Path) -> io::Result<()> {
    match umount2(path, libc::UMOUNT_NOFOLLOW) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => umount2(path, libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW),
        Err(e) => Err(e),
    }
}

/// Sends `SIGKILL` to `pid`; a process that is already gone is not an error.
pub fn kill9(pid: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes plain integers.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    if rc == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) { Ok(()) } else { Err(e) }
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() }
}
