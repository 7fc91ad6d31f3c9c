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

/// The commit `refs/tags/<tag>` names in `git ls-remote` output: the peeled `^{}` entry of an annotated tag (the
/// tag object's own id is not a commit), else the lightweight tag's.
pub fn tag_commit(refs: &[(String, String)], tag: &str) -> Option<String> {
    let name = format!("refs/tags/{tag}");
    let peeled = format!("{name}^{{}}");
    refs.iter().find(|(_, r)| *r == peeled).or_else(|| refs.iter().find(|(_, r)| *r == name)).map(|(c, _)| c.clone())
}

/// The commit of `refs/tags/<tag>` (the peeled `^{}` entry of an annotated tag) and its release branch.
pub fn resolve_tag(refs: &[(String, String)], tag: &str) -> Result<ResolvedTag, BumpError> {
    let (major, minor) = check_tag(tag)?;
    let commit =
        tag_commit(refs, tag).ok_or_else(|| BumpError::Msg(format!("no tag refs/tags/{tag} on the remote")))?;
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

/// The remote's default branch (`git ls-remote --symref -- URL HEAD`), if it names one.
pub fn default_branch(url: &str) -> Result<Option<String>, BumpError> {
    let out = git(None, &["ls-remote", "--symref", "--", url, "HEAD"])?;
    Ok(out.lines().find_map(|l| {
        let (target, name) = l.strip_prefix("ref:")?.trim().split_once('\t')?;
        (name.trim() == "HEAD").then(|| target.trim().strip_prefix("refs/heads/").map(str::to_owned))?
    }))
}

/// `release-<major>.<minor>` of a version `v<major>.<minor>.<patch>[…]`, if it is one.
pub fn release_branch(version: &str) -> Option<String> {
    let mut n = version.strip_prefix('v')?.splitn(3, '.');
    let (major, minor) = (n.next()?, n.next()?);
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (num(major) && num(minor) && n.next().is_some()).then(|| format!("release-{major}.{minor}"))
}

/// The branch a pin's `branch=` must name: BitBake's git fetcher refuses a SRCREV its branch does not contain.
/// The candidates are tried in order — `release-<major>.<minor>` of the version, the spec's current branch, the
/// remote's default branch — and the first whose history (fetched without trees or blobs into the repository
/// `dir`, created when missing) contains `commit` wins. A branch the remote lacks is skipped; none containing it is
/// an error naming the pin, the tag, the commit and every branch tried.
pub fn branch_containing(
    pin: &str,
    url: &str,
    tag: &str,
    commit: &str,
    current: Option<&str>,
    dir: &Path,
) -> Result<String, BumpError> {
    let refs = ls_remote(url)?;
    let mut candidates: Vec<String> = Vec::new();
    for b in [release_branch(tag), current.map(str::to_owned), default_branch(url)?].into_iter().flatten() {
        if !candidates.contains(&b) {
            candidates.push(b);
        }
    }
    if !dir.join("HEAD").exists() {
        std::fs::create_dir_all(dir).map_err(|e| BumpError::step(format!("creating {}", dir.display()), e))?;
        git(Some(dir), &["init", "-q", "--bare"])?;
    }
    let mut tried = Vec::new();
    for b in &candidates {
        if !refs.iter().any(|(_, r)| *r == format!("refs/heads/{b}")) {
            tried.push(format!("{b} (not on the remote)"));
            continue;
        }
        let dest = format!("+refs/heads/{b}:refs/remotes/origin/{b}");
        git(Some(dir), &["fetch", "-q", "--filter=tree:0", "--", url, &dest])?;
        if is_ancestor(dir, commit, &format!("refs/remotes/origin/{b}")) {
            return Ok(b.clone());
        }
        tried.push(format!("{b} (does not contain it)"));
    }
    Err(BumpError::Msg(format!(
        "{pin}: no branch of {url} contains tag {tag} (commit {commit}), so BitBake's git fetcher would refuse any \
         branch= for it; tried: {}",
        if tried.is_empty() { "no candidate branch".to_owned() } else { tried.join(", ") }
    )))
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

    /// A repository the test makes: `git` in it with a fixed identity.
    struct Repo(tempfile::TempDir);

    impl Repo {
        fn new(default: &str) -> Repo {
            let r = Repo(tempfile::tempdir().unwrap());
            r.git(&["init", "-q", "-b", default]);
            r.commit("root");
            r
        }
        fn git(&self, args: &[&str]) -> String {
            let o = Command::new("git")
                .arg("-C")
                .arg(self.0.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "tag.gpgSign=false"])
                .args(args)
                .output()
                .unwrap();
            assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        }
        fn commit(&self, msg: &str) -> String {
            self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
            self.git(&["rev-parse", "HEAD"])
        }
        /// An annotated tag on HEAD; its peeled commit.
        fn tag(&self, t: &str) -> String {
            self.git(&["tag", "-a", "-m", t, t]);
            self.git(&["rev-parse", &format!("{t}^{{commit}}")])
        }
        fn url(&self) -> String {
            format!("file://{}", self.0.path().display())
        }
        fn choose(&self, tag: &str, commit: &str, current: Option<&str>) -> Result<String, BumpError> {
            let scratch = tempfile::tempdir().unwrap();
            branch_containing("runc", &self.url(), tag, commit, current, &scratch.path().join("h"))
        }
    }

    #[test]
    fn release_branches_of_versions() {
        assert_eq!(release_branch("v1.4.3").as_deref(), Some("release-1.4"));
        assert_eq!(release_branch("v1.9.2-flannel1").as_deref(), Some("release-1.9"));
        assert_eq!(release_branch("v1.4"), None);
        assert_eq!(release_branch("1.4.3"), None);
    }

    /// The tag is on main only (no release branch): main, whether named by the spec or only the default branch.
    #[test]
    fn pin_branch_tag_on_main_only() {
        let r = Repo::new("main");
        let c = r.commit("v1.4.3");
        r.tag("v1.4.3");
        r.commit("later");
        assert_eq!(r.choose("v1.4.3", &c, Some("main")).unwrap(), "main");
        assert_eq!(r.choose("v1.4.3", &c, Some("release-1.4")).unwrap(), "main", "the default branch, last");
        assert_eq!(default_branch(&r.url()).unwrap().as_deref(), Some("main"));
    }

    /// The tag is on its release branch only (main went on without it): the release branch, whatever the spec said.
    #[test]
    fn pin_branch_tag_on_a_release_branch_only() {
        let r = Repo::new("main");
        r.git(&["checkout", "-q", "-b", "release-1.4"]);
        let c = r.commit("v1.4.3");
        r.tag("v1.4.3");
        r.git(&["checkout", "-q", "main"]);
        r.commit("main moves on");
        assert_eq!(r.choose("v1.4.3", &c, Some("main")).unwrap(), "release-1.4");
    }

    /// A release branch exists but does not hold the tag (cut before it, the tag made on main): the old choice
    /// ("release-X.Y if the remote has that head") named it, and BitBake's git fetcher would refuse the SRCREV.
    #[test]
    fn pin_branch_a_release_branch_without_the_tag_is_not_chosen() {
        let r = Repo::new("main");
        r.git(&["branch", "release-1.4"]);
        let c = r.commit("v1.4.3");
        r.tag("v1.4.3");
        assert_eq!(r.choose("v1.4.3", &c, Some("main")).unwrap(), "main");
    }

    /// No candidate holds the tag: an error naming the pin, tag, commit and every branch tried.
    #[test]
    fn pin_branch_none_containing_the_tag_is_an_error() {
        let r = Repo::new("main");
        r.git(&["branch", "release-1.4"]);
        r.git(&["checkout", "-q", "--orphan", "elsewhere"]);
        let c = r.commit("v1.4.3");
        r.tag("v1.4.3");
        r.git(&["checkout", "-q", "main"]);
        let e = r.choose("v1.4.3", &c, Some("gone")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("runc: no branch of {} contains tag v1.4.3 (commit {c})", r.url())), "{e}");
        assert!(
            e.ends_with(
                "tried: release-1.4 (does not contain it), gone (not on the remote), main (does not contain it)"
            ),
            "{e}"
        );
    }

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
