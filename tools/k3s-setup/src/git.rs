//! A layer repository at its pinned commit: cloned shallow where the server allows it, updated in place,
//! reused offline. Every git call goes through duct with its arguments as argv (never a shell line), prompts off.

use std::path::{Path, PathBuf};

use crate::layers::LayerPin;
use crate::{Error, Result};

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Already at the pinned commit: nothing touched.
    Unchanged,
    /// Cloned fresh.
    Cloned,
    /// An existing clone moved to the pinned commit.
    Updated { from: String },
    /// Offline and the commit is not there (the directory is missing or does not hold it).
    Missing(String),
}

fn git_cmd(args: &[&str]) -> duct::Expression {
    duct::cmd("git", args).env("GIT_TERMINAL_PROMPT", "0").env("LC_ALL", "C")
}

/// Runs git; on failure the error carries git's own message.
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String> {
    let mut full: Vec<&str> = Vec::new();
    let dir_s;
    if let Some(d) = dir {
        dir_s = d.to_string_lossy().into_owned();
        full.extend(["-C", dir_s.as_str()]);
    }
    full.extend(["-c", "advice.detachedHead=false"]);
    full.extend_from_slice(args);
    let out =
        git_cmd(&full).stderr_capture().stdout_capture().unchecked().run().map_err(|e| Error::Command {
            command: "git".into(),
            message: format!("cannot run git ({e}); install git"),
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Command { command: format!("git {}", args.join(" ")), message: stderr.trim().to_owned() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn has_commit(dir: &Path, commit: &str) -> bool {
    git(Some(dir), &["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_ok()
}

fn head(dir: &Path) -> Option<String> {
    git(Some(dir), &["rev-parse", "--verify", "-q", "HEAD"]).ok()
}

/// Fetches `pin.commit` into the repository at `dir`: by commit with `--depth 1` first (GitHub and git.openembedded.org
/// allow it), else the pinned branch (servers that refuse unadvertised commits).
fn fetch(dir: &Path, pin: &LayerPin) -> Result<()> {
    let by_commit = git(Some(dir), &["fetch", "-q", "--depth", "1", "origin", &pin.commit]);
    if by_commit.is_ok() && has_commit(dir, &pin.commit) {
        return Ok(());
    }
    let refspec = format!("+refs/heads/{b}:refs/remotes/origin/{b}", b = pin.branch);
    git(Some(dir), &["fetch", "-q", "origin", &refspec])?;
    if !has_commit(dir, &pin.commit) {
        return Err(Error::Command {
            command: format!("git fetch {} {}", pin.git, pin.branch),
            message: format!("commit {} is not on branch {}", pin.commit, pin.branch),
        });
    }
    Ok(())
}

/// Brings `dest` to `pin.commit`. Offline nothing is fetched: what is there is used, what is not is reported.
pub fn ensure(dest: &Path, pin: &LayerPin, offline: bool) -> Result<Outcome> {
    if dest.join(".git").exists() {
        let current = head(dest).unwrap_or_default();
        if current == pin.commit {
            return Ok(Outcome::Unchanged);
        }
        if !has_commit(dest, &pin.commit) {
            if offline {
                return Ok(Outcome::Missing(format!(
                    "{} at {} (it is at {})",
                    dest.display(),
                    pin.commit,
                    short(&current)
                )));
            }
            // The pin moved (a new spec): fetch from the pinned URL, whatever origin was.
            git(Some(dest), &["remote", "set-url", "origin", &pin.git])?;
            fetch(dest, pin)?;
        }
        // Refuses to throw away local changes: git says which files.
        git(Some(dest), &["checkout", "-q", "--detach", &pin.commit])?;
        return Ok(Outcome::Updated { from: current });
    }
    if dest.exists() {
        return Err(Error::NotOurs {
            path: dest.to_owned(),
            message: "exists but is not a git clone; move it away or pass another --dir".into(),
        });
    }
    if offline {
        return Ok(Outcome::Missing(format!("{} ({} at {})", dest.display(), pin.git, pin.commit)));
    }
    // Clone into a sibling and rename at the end: an interrupted clone never looks like a finished one.
    let partial = partial_path(dest);
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .map_err(|e| Error::io(&partial, "cannot remove an earlier partial clone", e))?;
    }
    let result = (|| {
        std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, "cannot create", e))?;
        git(Some(&partial), &["init", "-q"])?;
        git(Some(&partial), &["remote", "add", "origin", &pin.git])?;
        fetch(&partial, pin)?;
        git(Some(&partial), &["checkout", "-q", "--detach", &pin.commit])?;
        std::fs::rename(&partial, dest).map_err(|e| Error::io(dest, "cannot move the finished clone into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result.map(|()| Outcome::Cloned)
}

fn partial_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.k3s-setup-partial"))
}

fn short(commit: &str) -> &str {
    if commit.is_empty() { "no commit" } else { &commit[..commit.len().min(12)] }
}
