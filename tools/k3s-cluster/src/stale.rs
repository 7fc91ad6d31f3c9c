//! Runtime directories left by a `k3s-bake cluster` that could not tear down (SIGKILL, the OOM killer, a power
//! cut of the session): the next run (and `k3s-bake cluster --clean`) removes them, the token and kubeconfig with
//! them, after stopping any QEMU recorded there that still runs.
//!
//! Hermetic by construction: only directories this user made through [`crate::rundir::RunDir`] are considered
//! (a real directory, not a link, owned by this user, mode 0700, holding an [`OWNER_FILE`] record), and only the
//! pids recorded in them are looked at. A directory is stale when the `k3s-bake` that made it is gone: its pid
//! *and* its start time (so a recycled pid does not count as it). A pid in a `<node>.pid` file (QEMU's `-pidfile`)
//! is stopped only while that process is the QEMU that wrote it: its command line names exactly this pid file
//! after `-pidfile` (the path holds the directory's random name) and its program is a QEMU. Anything else
//! (a recycled pid, a process of another cluster) is left alone and said so.

use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// The record of the `k3s-bake` that made a runtime directory.
pub const OWNER_FILE: &str = "owner";

/// What stopping a stale cluster's leftovers can run into.
#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    /// Reading or removing failed.
    #[error("stale runtime directory {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A QEMU recorded there survived SIGTERM and SIGKILL; the directory is kept.
    #[error("stale runtime directory {dir}: QEMU pid {pid} ({pidfile}) still runs after SIGKILL; directory kept")]
    Unstoppable {
        /// The directory.
        dir: PathBuf,
        /// The pid file.
        pidfile: String,
        /// The pid.
        pid: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StaleError + '_ {
    move |source| StaleError::Io { path: path.to_path_buf(), source }
}

/// A process, told from a later one with the same pid by its start time (clock ticks after boot, field 22 of
/// `/proc/<pid>/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The pid.
    pub pid: u32,
    /// Its start time.
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> std::io::Result<Self> {
        let pid = std::process::id();
        Self::of(pid).ok_or_else(|| std::io::Error::other(format!("/proc/{pid}/stat: no start time")))
    }

    /// The process `pid` now, if there is one.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) is in parentheses and may hold anything; the fields after the last `)`
        // start at field 3.
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace();
        // Field 3 is the state: a zombie has ended (only its parent's wait is missing).
        if fields.next()? == "Z" {
            return None;
        }
        let start = fields.nth(18)?.parse().ok()?;
        Some(Self { pid, start })
    }

    /// Still running?
    pub fn alive(&self) -> bool {
        Self::of(self.pid) == Some(*self)
    }

    /// The record's text.
    pub fn render(&self) -> String {
        format!("k3s-bake pid={} start={}\n", self.pid, self.start)
    }

    /// Reads a record ([`Owner::render`]'s form).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("k3s-bake ")?.strip_suffix('\n')?;
        let (pid, start) = rest.split_once(' ')?;
        let pid = pid.strip_prefix("pid=")?.parse().ok()?;
        let start = start.strip_prefix("start=")?.parse().ok()?;
        Some(Self { pid, start })
    }
}

/// What a candidate directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not a runtime directory of this user's `k3s-bake` (why); never touched.
    NotOurs(&'static str),
    /// Its `k3s-bake` still runs.
    InUse(Owner),
    /// Its `k3s-bake` is gone.
    Stale(Owner),
}

/// Classifies `dir`.
pub fn state(dir: &Path) -> State {
    let Ok(meta) = dir.symlink_metadata() else { return State::NotOurs("missing") };
    if !meta.is_dir() {
        return State::NotOurs("not a directory");
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return State::NotOurs("another user's");
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        return State::NotOurs("not mode 0700");
    }
    let record = dir.join(OWNER_FILE);
    match record.symlink_metadata() {
        Ok(m) if m.is_file() => {}
        _ => return State::NotOurs("no owner record"),
    }
    let Some(owner) = std::fs::read_to_string(&record).ok().as_deref().and_then(Owner::parse) else {
        return State::NotOurs("unreadable owner record");
    };
    if owner.alive() { State::InUse(owner) } else { State::Stale(owner) }
}

/// What was done to one stale directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The directory (now removed).
    pub dir: PathBuf,
    /// Its `k3s-bake`, gone.
    pub owner: Owner,
    /// QEMUs that still ran: (pid file, pid, the signal that ended it).
    pub stopped: Vec<(String, u32, &'static str)>,
    /// Pids recorded there that are not that QEMU any more: (pid file, pid), left alone.
    pub left_alone: Vec<(String, u32)>,
    /// A token file was there (overwritten, then removed).
    pub token: bool,
}

impl std::fmt::Display for Cleaned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "removed stale runtime directory {} (its k3s-bake, pid {}, is gone{})",
            self.dir.display(),
            self.owner.pid,
            if self.token { "; token removed" } else { "" }
        )?;
        for (file, pid, sig) in &self.stopped {
            write!(f, "\n  stopped its QEMU pid {pid} ({file}) with {sig}")?;
        }
        for (file, pid) in &self.left_alone {
            write!(f, "\n  pid {pid} in {file} is not that QEMU any more: left alone")?;
        }
        Ok(())
    }
}

/// Is `pid` the QEMU that was started with `-pidfile <pidfile>` (the path as the plan gives it)?
pub fn is_our_qemu(pid: u32, pidfile: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    // NUL-terminated words; a zombie's command line is empty.
    let words: Vec<&[u8]> = cmdline.strip_suffix(b"\0").unwrap_or(&cmdline).split(|&b| b == 0).collect();
    let is_qemu = words.first().is_some_and(|w| {
        let name = w.rsplit(|&b| b == b'/').next().unwrap_or(w);
        name.starts_with(b"qemu")
    });
    is_qemu && words.windows(2).any(|w| w[0] == b"-pidfile" && w[1] == pidfile.as_os_str().as_bytes())
}

/// Signals `pid` while it is our QEMU, and waits up to `within` for it to be gone.
fn stop(pid: u32, pidfile: &Path, sig: Signal, within: Duration) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else { return true };
    if !is_our_qemu(pid, pidfile) {
        return true;
    }
    let _ = rustix::process::kill_process(p, sig);
    let deadline = Instant::now() + within;
    loop {
        if !is_our_qemu(pid, pidfile) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Overwrites a secret file in place, then removes it (on tmpfs, where runtime directories live, the pages are
/// really overwritten).
pub(crate) fn shred(file: &Path) -> Result<bool, StaleError> {
    let len = match file.symlink_metadata() {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(file)(e)),
    };
    let mut f = std::fs::OpenOptions::new().write(true).open(file).map_err(io(file))?;
    f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)]).map_err(io(file))?;
    f.sync_all().map_err(io(file))?;
    std::fs::remove_file(file).map_err(io(file))?;
    Ok(true)
}

/// Stops the QEMUs still running from the stale directory `dir` (SIGTERM, `grace`, SIGKILL), then removes the
/// token and the directory. A QEMU that will not go keeps the directory (and is the error).
pub fn clean(dir: &Path, owner: Owner, grace: Duration) -> Result<Cleaned, StaleError> {
    let mut done = Cleaned { dir: dir.to_path_buf(), owner, stopped: Vec::new(), left_alone: Vec::new(), token: false };
    let mut pidfiles: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pid"))
        .collect();
    pidfiles.sort();
    for pidfile in &pidfiles {
        let name = pidfile.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // QEMU writes its pid and a newline; anything else is no pid of ours.
        let Some(pid) = std::fs::read_to_string(pidfile).ok().and_then(|t| t.trim().parse::<u32>().ok()) else {
            continue;
        };
        if !is_our_qemu(pid, pidfile) {
            if Owner::of(pid).is_some() {
                done.left_alone.push((name, pid));
            }
            continue;
        }
        if stop(pid, pidfile, Signal::TERM, grace) {
            done.stopped.push((name, pid, "SIGTERM"));
        } else if stop(pid, pidfile, Signal::KILL, Duration::from_secs(5)) {
            done.stopped.push((name, pid, "SIGKILL"));
        } else {
            return Err(StaleError::Unstoppable { dir: dir.to_path_buf(), pidfile: name, pid });
        }
    }
    done.token = shred(&dir.join("token"))?;
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        // Another run cleaning the same directory at the same time.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(dir)(e)),
    }
    Ok(done)
}

/// Cleans every stale `<prefix>*` directory in `base` (where [`crate::rundir::RunDir`] makes them by default) and
/// `extra` (a `--run-dir` given by path) if it is one.
pub fn clean_all(base: &Path, prefix: &str, extra: Option<&Path>, grace: Duration) -> Vec<Result<Cleaned, StaleError>> {
    let mut candidates: Vec<PathBuf> = match std::fs::read_dir(base) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().as_bytes().starts_with(prefix.as_bytes()))
            .map(|e| e.path())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return vec![Err(io(base)(e))],
    };
    candidates.sort();
    if let Some(x) = extra
        && !candidates.iter().any(|c| c == x)
    {
        candidates.push(x.to_path_buf());
    }
    candidates
        .iter()
        .filter_map(|dir| match state(dir) {
            State::Stale(owner) => Some(clean(dir, owner, grace)),
            State::InUse(_) | State::NotOurs(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt as _, symlink};
    use std::os::unix::process::CommandExt as _;
    use std::process::{Child, Command, Stdio};

    /// A child killed and reaped on drop, pass or fail.
    struct Kid(Child);
    impl Kid {
        fn pid(&self) -> u32 {
            self.0.id()
        }
        fn running(&mut self) -> bool {
            self.0.try_wait().unwrap().is_none()
        }
        fn ended_within(&mut self, d: Duration) -> bool {
            let deadline = Instant::now() + d;
            while Instant::now() < deadline {
                if !self.running() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        }
    }
    impl Drop for Kid {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn sleeper() -> Kid {
        Kid(Command::new("sleep").arg("300").stdin(Stdio::null()).spawn().unwrap())
    }

    /// A stand-in for a QEMU started with `-pidfile <pidfile>`: its program name and arguments as QEMU's would be
    /// (argv[0] `qemu-system-x86_64`), a shell waiting on its stdin underneath; `ignore_term` makes it a QEMU that
    /// ignores SIGTERM.
    fn fake_qemu(pidfile: &Path, ignore_term: bool) -> Kid {
        // `ready` only once the trap is set: a SIGTERM sent before it would end the stand-in that is meant to
        // ignore it (CI saw exactly that: stopped by SIGTERM, not SIGKILL).
        let script = if ignore_term { "trap '' TERM; echo ready; read -r _" } else { "echo ready; read -r _" };
        let mut c = Command::new("sh");
        c.arg0("qemu-system-x86_64").args(["-c", script, "sh", "-name", "n", "-pidfile"]).arg(pidfile);
        let mut kid = Kid(c.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap());
        let mut line = String::new();
        let out = kid.0.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).unwrap();
        assert_eq!(line, "ready\n", "the stand-in did not start");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_our_qemu(kid.pid(), pidfile) {
            assert!(Instant::now() < deadline, "stand-in never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        kid
    }

    /// The record of a `k3s-bake` that ran and is gone: a real process's pid and start time, after it ended.
    fn gone_owner() -> Owner {
        let mut k = sleeper();
        let o = Owner::of(k.pid()).unwrap();
        k.0.kill().unwrap();
        k.0.wait().unwrap();
        assert!(!o.alive());
        o
    }

    fn run_dir(base: &Path, name: &str, owner: Owner) -> PathBuf {
        let d = base.join(name);
        std::fs::DirBuilder::new().mode(0o700).create(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(d.join(OWNER_FILE), owner.render()).unwrap();
        std::fs::write(d.join("token"), "0123456789abcdef").unwrap();
        d
    }

    const GRACE: Duration = Duration::from_secs(5);

    #[test]
    fn owner_record_round_trip_and_liveness() {
        let me = Owner::current().unwrap();
        assert!(me.alive());
        assert_eq!(Owner::parse(&me.render()), Some(me));
        assert!(!Owner { start: me.start + 1, ..me }.alive(), "same pid, other start time: a recycled pid");
        assert!(!gone_owner().alive());
        for bad in ["", "k3s-bake pid=1\n", "k3s-bake pid=x start=1\n", "pid=1 start=2\n", "k3s-bake pid=1 start=2"] {
            assert_eq!(Owner::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stale_directory_cleaned_its_qemu_stopped_a_live_non_qemu_pid_left_alone() {
        let base = tempfile::tempdir().unwrap();
        let d = run_dir(base.path(), "k3s-cluster-1-aa", gone_owner());
        // The agent's QEMU still runs; the server's pid has been recycled by an unrelated live process.
        let mut qemu = fake_qemu(&d.join("k3s-agent-1.pid"), false);
        std::fs::write(d.join("k3s-agent-1.pid"), format!("{}\n", qemu.pid())).unwrap();
        let mut other = sleeper();
        std::fs::write(d.join("k3s-server.pid"), format!("{}\n", other.pid())).unwrap();
        // A QEMU of another cluster whose pid landed in this directory's pid file: not this pid file's QEMU.
        let mut foreign = fake_qemu(&base.path().join("elsewhere/k3s-agent-2.pid"), false);
        std::fs::write(d.join("k3s-agent-2.pid"), format!("{}\n", foreign.pid())).unwrap();
        std::fs::write(d.join("k3s-agent-3.pid"), "not a pid\n").unwrap();

        let results = clean_all(base.path(), "k3s-cluster-", None, GRACE);
        assert_eq!(results.len(), 1, "{results:?}");
        let c = results.into_iter().next().unwrap().unwrap();
        assert!(!d.exists(), "directory left");
        assert!(c.token);
        assert!(qemu.ended_within(Duration::from_secs(5)), "its QEMU still runs");
        assert_eq!(c.stopped, vec![("k3s-agent-1.pid".to_string(), qemu.pid(), "SIGTERM")]);
        assert!(other.running(), "an unrelated live process was killed");
        assert!(foreign.running(), "another cluster's QEMU was killed");
        let mut left = c.left_alone.clone();
        left.sort();
        assert_eq!(left, vec![("k3s-agent-2.pid".into(), foreign.pid()), ("k3s-server.pid".into(), other.pid())]);
        let said = c.to_string();
        assert!(said.contains("k3s-cluster-1-aa") && said.contains("token removed"), "{said}");
        assert!(said.contains(&format!("stopped its QEMU pid {}", qemu.pid())), "{said}");
    }

    #[test]
    fn a_qemu_ignoring_sigterm_gets_sigkill() {
        let base = tempfile::tempdir().unwrap();
        let d = run_dir(base.path(), "k3s-cluster-2-bb", gone_owner());
        let mut qemu = fake_qemu(&d.join("k3s-server.pid"), true);
        std::fs::write(d.join("k3s-server.pid"), format!("{}\n", qemu.pid())).unwrap();
        let c = clean(
            &d,
            Owner::parse(&std::fs::read_to_string(d.join(OWNER_FILE)).unwrap()).unwrap(),
            Duration::from_millis(300),
        )
        .unwrap();
        assert_eq!(c.stopped, vec![("k3s-server.pid".to_string(), qemu.pid(), "SIGKILL")]);
        assert!(qemu.ended_within(Duration::from_secs(5)));
        assert!(!d.exists());
    }

    #[test]
    fn only_this_users_stale_directories_are_touched() {
        let base = tempfile::tempdir().unwrap();
        let b = base.path();
        let me = Owner::current().unwrap();
        let in_use = run_dir(b, "k3s-cluster-3-in-use", me);
        let no_record = b.join("k3s-cluster-4-no-record");
        std::fs::DirBuilder::new().mode(0o700).create(&no_record).unwrap();
        std::fs::write(no_record.join("token"), "t").unwrap();
        let open = run_dir(b, "k3s-cluster-5-open", gone_owner());
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bad_record = run_dir(b, "k3s-cluster-6-bad", gone_owner());
        std::fs::write(bad_record.join(OWNER_FILE), "pid 12\n").unwrap();
        // A link to a stale directory, and the directory itself under a name the scan does not take.
        let elsewhere = run_dir(b, "given-run-dir", gone_owner());
        symlink(&elsewhere, b.join("k3s-cluster-7-link")).unwrap();
        std::fs::write(b.join("k3s-cluster-8-file"), "x").unwrap();

        assert_eq!(state(&in_use), State::InUse(me));
        assert_eq!(state(&no_record), State::NotOurs("no owner record"));
        assert_eq!(state(&open), State::NotOurs("not mode 0700"));
        assert_eq!(state(&bad_record), State::NotOurs("unreadable owner record"));
        assert_eq!(state(&b.join("k3s-cluster-7-link")), State::NotOurs("not a directory"));
        let results = clean_all(b, "k3s-cluster-", None, GRACE);
        assert!(results.is_empty(), "{results:?}");
        for d in [&in_use, &no_record, &open, &bad_record, &elsewhere] {
            assert!(d.join("token").exists(), "{} touched", d.display());
        }
        // Given by path (`--run-dir`), the stale one goes.
        let results = clean_all(b, "k3s-cluster-", Some(&elsewhere), GRACE);
        assert_eq!(results.len(), 1);
        assert!(results[0].is_ok() && !elsewhere.exists());
        assert!(in_use.exists());
    }

    #[test]
    fn a_missing_base_is_nothing_to_clean() {
        let base = tempfile::tempdir().unwrap();
        assert!(clean_all(&base.path().join("none"), "k3s-cluster-", None, GRACE).is_empty());
    }
}
