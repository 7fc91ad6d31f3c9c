//! The k3s repository: a tag to its commit (annotated tags peeled; never a branch tip), the release branch that
//! holds it, the source at that commit (shallow), and the shortlog from the old pin.

use std::path::Path;
use std::process::Command;

use crate::BumpError;

/// Runs git; `dir` is `-C`. Every URL or ref argument is preceded by `--` by the callers.
pub(crate) fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, BumpError> {
    let mut c = Command::new("git");
    if let Some(d) = dir {
        c.arg("-C").arg(d);
    }
    c.args(args).env("GIT_TERMINAL_PROMPT", "0");
    let out = c.output().map_err(|e| BumpError::step(format!("running git {}", args.join(" ")), e))?;
    if !out.status.success() {
        return Err(BumpError::Msg(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A tag resolved on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTag {
    /// The tag name.
    pub tag: String,
    /// The commit it names (peeled).
    pub commit: String,
    /// `release-<major>.<minor>`, present on the remote.
    pub branch: String,
}

/// A tag name k3s uses: `v<major>.<minor>.<patch>[-rcN]+k3s<N>`. Checked before it reaches git or the spec.
pub fn check_tag(tag: &str) -> Result<(u64, u64), BumpError> {
    let bad = || BumpError::Msg(format!("tag {tag:?}: expected a k3s release tag like v1.36.2+k3s1"));
    let (ver, build) = tag.strip_prefix('v').and_then(|t| t.split_once('+')).ok_or_else(bad)?;
    if !build.strip_prefix("k3s").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let core = ver
        .split_once('-')
        .map_or(ver, |(c, pre)| if pre.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') { c } else { "" });
    let n: Vec<u64> = core.split('.').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    match n[..] {
        [major, minor, _] => Ok((major, minor)),
        _ => Err(bad()),
    }
}

/// `git ls-remote -- URL` as (commit, ref) pairs.
pub fn ls_remote(url: &str) -> Result<Vec<(String, String)>, BumpError> {
    Ok(git(None, &["ls-remote", "--", url])?
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(c, r)| (c.trim().to_owned(), r.trim().to_owned()))
        .collect())
}

/// The commit of `refs/tags/<tag>` (the peeled `^{}` entry of an annotated tag) and its release branch.
pub fn resolve_tag(refs: &[(String, String)], tag: &str) -> Result<ResolvedTag, BumpError> {
    let (major, minor) = check_tag(tag)?;
    let name = format!("refs/tags/{tag}");
    let peeled = format!("{name}^{{}}");
    let commit = refs
        .iter()
        .find(|(_, r)| *r == peeled)
        .or_else(|| refs.iter().find(|(_, r)| *r == name))
        .map(|(c, _)| c.clone())
        .ok_or_else(|| BumpError::Msg(format!("no tag {name} on the remote")))?;
    let branch = format!("release-{major}.{minor}");
    if !refs.iter().any(|(_, r)| *r == format!("refs/heads/{branch}")) {
        return Err(BumpError::Msg(format!("tag {tag}: the remote has no branch {branch}")));
    }
    Ok(ResolvedTag { tag: tag.to_owned(), commit, branch })
}

/// Newer patch releases than `tag` on its minor (`bump --check`), newest last.
pub fn newer_patches(refs: &[(String, String)], tag: &str) -> Result<Vec<String>, BumpError> {
    let (major, minor) = check_tag(tag)?;
    let key = |t: &str| -> Option<(u64, u64)> {
        let (ver, build) = t.strip_prefix('v')?.split_once("+k3s")?;
        if ver.contains('-') {
            return None; // release candidates are not releases
        }
        let n: Vec<u64> = ver.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
        (n.len() == 3 && n[0] == major && n[1] == minor).then(|| Some((n[2], build.parse().ok()?)))?
    };
    let cur = key(tag);
    let mut out: Vec<(u64, u64, String)> = refs
        .iter()
        .filter_map(|(_, r)| r.strip_prefix("refs/tags/"))
        .filter(|r| !r.ends_with("^{}"))
        .filter_map(|t| key(t).map(|(p, b)| (p, b, t.to_owned())))
        .filter(|(p, b, _)| cur.is_none_or(|c| (*p, *b) > c))
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, _, t)| t).collect())
}

/// Fetches `commit` alone (depth 1) into a new repository at `dir` and checks it out there.
pub fn shallow_checkout(url: &str, commit: &str, dir: &Path) -> Result<(), BumpError> {
    std::fs::create_dir_all(dir).map_err(|e| BumpError::step(format!("creating {}", dir.display()), e))?;
    git(Some(dir), &["init", "-q"])?;
    git(Some(dir), &["fetch", "-q", "--depth=1", "--", url, commit])?;
    git(Some(dir), &["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit])?;
    Ok(())
}

/// Commit history of `branch` (no file contents where the server allows a filter) into the repository at `dir`,
/// so the new commit can be proven on the branch and the shortlog from the old pin written.
pub fn fetch_history(url: &str, branch: &str, dir: &Path) -> Result<String, BumpError> {
    let dest = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    git(Some(dir), &["fetch", "-q", "--filter=blob:none", "--unshallow", "--", url, &dest])
        .or_else(|_| git(Some(dir), &["fetch", "-q", "--filter=blob:none", "--", url, &dest]))?;
    Ok(format!("refs/remotes/origin/{branch}"))
}

/// Whether `commit` is on `branch_ref`.
pub fn is_ancestor(dir: &Path, commit: &str, branch_ref: &str) -> bool {
    git(Some(dir), &["merge-base", "--is-ancestor", commit, branch_ref]).is_ok()
}

/// `git shortlog old..new`, or why there is none.
pub fn shortlog(dir: &Path, old: &str, new: &str) -> String {
    if git(Some(dir), &["cat-file", "-e", &format!("{old}^{{commit}}")]).is_err() {
        return format!("(no shortlog: the old commit {old} is not in the history of the new release branch)\n");
    }
    git(Some(dir), &["shortlog", "--no-merges", &format!("{old}..{new}")])
        .unwrap_or_else(|e| format!("(no shortlog: {e})\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(check_tag("v1.36.2+k3s1").unwrap(), (1, 36));
        assert_eq!(check_tag("v1.36.0-rc1+k3s1").unwrap(), (1, 36));
        for bad in ["1.36.2+k3s1", "v1.36.2", "v1.36+k3s1", "--upload-pack=x", "v1.36.2+k3s1;x", "v1.36.2+k3s"] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
        let c = |n: char| n.to_string().repeat(40);
        let refs = vec![
            (c('1'), "refs/heads/release-1.36".to_owned()),
            (c('2'), "refs/tags/v1.36.2+k3s1".to_owned()),
            (c('3'), "refs/tags/v1.36.2+k3s1^{}".to_owned()),
            (c('4'), "refs/tags/v1.36.3+k3s1".to_owned()),
            (c('5'), "refs/tags/v1.36.4-rc1+k3s1".to_owned()),
            (c('6'), "refs/tags/v1.37.0+k3s1".to_owned()),
        ];
        let r = resolve_tag(&refs, "v1.36.2+k3s1").unwrap();
        assert_eq!((r.commit, r.branch.as_str()), (c('3'), "release-1.36"), "annotated tag peeled, not the tip");
        assert_eq!(resolve_tag(&refs, "v1.36.3+k3s1").unwrap().commit, c('4'));
        assert!(resolve_tag(&refs, "v1.37.0+k3s1").unwrap_err().to_string().contains("no branch release-1.37"));
        assert_eq!(newer_patches(&refs, "v1.36.2+k3s1").unwrap(), ["v1.36.3+k3s1"]);
    }
}
