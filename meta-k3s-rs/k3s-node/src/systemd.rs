//! The seam between the node tools and systemd.
//!
//! The tools drive systemd through `systemctl` rather than D-Bus: `systemctl` is on every systemd image already,
//! it works offline against an image root (`systemctl --root=DIR enable`), and a D-Bus client would multiply the
//! binary's size. Everything the tools ask of systemd goes through [`Systemd`], so tests can record the calls
//! (systemd is not PID 1 where the tests run).

use std::path::Path;
use std::process::Command;

/// A failed `systemctl` call.
#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    /// `systemctl` could not be started (not installed, not executable).
    #[error("systemctl {args}: cannot run systemctl")]
    Spawn {
        /// The arguments, space-separated.
        args: String,
        /// Why it could not start.
        source: std::io::Error,
    },
    /// `systemctl` ran and failed (what it said went to the caller's stderr).
    #[error("systemctl {args}: {status}")]
    Failed {
        /// The arguments, space-separated.
        args: String,
        /// How it exited.
        status: std::process::ExitStatus,
    },
}

/// What the node tools ask of systemd.
pub trait Systemd {
    /// Whether `unit` is active in the running manager. No manager (or no systemctl) means not active.
    fn is_active(&mut self, unit: &str) -> bool;
    /// `systemctl daemon-reload`.
    fn daemon_reload(&mut self) -> Result<(), SystemdError>;
    /// `systemctl enable --no-reload UNIT` (callers reload once themselves when they changed unit files: `enable`
    /// alone reloads the manager again), or `systemctl --root=ROOT enable UNIT` for an image root.
    fn enable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError>;
    /// `systemctl disable --no-reload UNIT`, or with `--root=ROOT`. Not enabled is not an error.
    fn disable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError>;
    /// `systemctl stop UNIT`.
    fn stop(&mut self, unit: &str) -> Result<(), SystemdError>;
    /// `systemctl restart UNIT`, waiting for the job.
    fn restart(&mut self, unit: &str) -> Result<(), SystemdError>;
    /// `systemctl start --no-block UNIT`: from inside a unit ordered before UNIT, waiting would deadlock.
    fn start_no_block(&mut self, unit: &str) -> Result<(), SystemdError>;
}

/// The real seam: runs `systemctl`.
#[derive(Debug, Default)]
pub struct Systemctl;

impl Systemctl {
    fn run(&self, args: &[&str]) -> Result<(), SystemdError> {
        let status = Command::new("systemctl")
            .args(args)
            .status()
            .map_err(|source| SystemdError::Spawn { args: args.join(" "), source })?;
        if status.success() { Ok(()) } else { Err(SystemdError::Failed { args: args.join(" "), status }) }
    }
}

impl Systemd for Systemctl {
    fn is_active(&mut self, unit: &str) -> bool {
        // sd_booted(3): without /run/systemd/system no manager runs, so nothing is active; skip the spawn.
        if !Path::new("/run/systemd/system").is_dir() {
            return false;
        }
        Command::new("systemctl")
            .args(["is-active", "--quiet", unit])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
    fn daemon_reload(&mut self) -> Result<(), SystemdError> {
        self.run(&["daemon-reload"])
    }
    fn enable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError> {
        match root {
            Some(root) => {
                let flag = format!("--root={}", root.display());
                self.run(&[&flag, "enable", unit])
            }
            None => self.run(&["enable", "--no-reload", unit]),
        }
    }
    fn disable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError> {
        match root {
            Some(root) => {
                let flag = format!("--root={}", root.display());
                self.run(&[&flag, "disable", unit])
            }
            None => self.run(&["disable", "--no-reload", unit]),
        }
    }
    fn stop(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.run(&["stop", unit])
    }
    fn restart(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.run(&["restart", unit])
    }
    fn start_no_block(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.run(&["start", "--no-block", unit])
    }
}

/// A recording fake of the seam, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Recorder {
    /// Every call, as the `systemctl` arguments it stands for.
    pub calls: Vec<String>,
    /// Units reported active.
    pub active: Vec<String>,
}

#[cfg(test)]
impl Systemd for Recorder {
    fn is_active(&mut self, unit: &str) -> bool {
        self.calls.push(format!("is-active {unit}"));
        self.active.iter().any(|u| u == unit)
    }
    fn daemon_reload(&mut self) -> Result<(), SystemdError> {
        self.calls.push("daemon-reload".into());
        Ok(())
    }
    fn enable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError> {
        self.calls.push(match root {
            Some(r) => format!("--root={} enable {unit}", r.display()),
            None => format!("enable {unit}"),
        });
        Ok(())
    }
    fn disable(&mut self, root: Option<&Path>, unit: &str) -> Result<(), SystemdError> {
        self.calls.push(match root {
            Some(r) => format!("--root={} disable {unit}", r.display()),
            None => format!("disable {unit}"),
        });
        Ok(())
    }
    fn stop(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.calls.push(format!("stop {unit}"));
        Ok(())
    }
    fn restart(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.calls.push(format!("restart {unit}"));
        Ok(())
    }
    fn start_no_block(&mut self, unit: &str) -> Result<(), SystemdError> {
        self.calls.push(format!("start --no-block {unit}"));
        Ok(())
    }
}
