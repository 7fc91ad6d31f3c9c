//! `direct` mode: where a module's code lives (built-in table for well-known hosts, else the go-get
//! `<meta name="go-import">` tag) and which commit a version names (`git ls-remote`, tag prefixes for modules in
//! subdirectories, major-version suffixes, `+incompatible`, pseudo-versions).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::proxy::{FetchError, ProxyClient, hex};

/// A module path prefix and the repository holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRoot {
    /// Module path prefix the repository root corresponds to.
    pub root: String,
    /// Repository URL.
    pub repo: String,
}

fn seg(module: &str, n: usize) -> Option<Vec<&str>> {
    let s: Vec<&str> = module.split('/').collect();
    (s.len() >= n).then_some(s)
}

/// Well-known hosts, answered without a network round trip (what `go get` would learn from their meta tags).
pub fn vanity(module: &str) -> Option<RepoRoot> {
    let s = seg(module, 2)?;
    let rr = |n: usize, repo: String| Some(RepoRoot { root: s[..n].join("/"), repo });
    let map =
        |n: usize, org: &str| seg(module, n).and_then(|_| rr(n, format!("https://github.com/{org}/{}", s[n - 1])));
    match s[0] {
        "github.com" | "gitlab.com" | "bitbucket.org" if s.len() >= 3 => rr(3, format!("https://{}", s[..3].join("/"))),
        "golang.org" if s[1] == "x" && s.len() >= 3 => rr(3, format!("https://go.googlesource.com/{}", s[2])),
        "k8s.io" => map(2, "kubernetes"),
        "sigs.k8s.io" => map(2, "kubernetes-sigs"),
        "go.uber.org" => map(2, "uber-go"),
        "go.etcd.io" => map(2, "etcd-io"),
        "go.opentelemetry.io" => match s[1] {
            "otel" => rr(2, "https://github.com/open-telemetry/opentelemetry-go".into()),
            "contrib" => rr(2, "https://github.com/open-telemetry/opentelemetry-go-contrib".into()),
            "proto" => rr(2, "https://github.com/open-telemetry/opentelemetry-proto-go".into()),
            "auto" => rr(2, "https://github.com/open-telemetry/opentelemetry-go-instrumentation".into()),
            _ => None,
        },
        "google.golang.org" => match s[1] {
            "grpc" => rr(2, "https://github.com/grpc/grpc-go".into()),
            "protobuf" => rr(2, "https://go.googlesource.com/protobuf".into()),
            "genproto" => rr(2, "https://github.com/googleapis/go-genproto".into()),
            "api" => rr(2, "https://github.com/googleapis/google-api-go-client".into()),
            "appengine" => rr(2, "https://github.com/golang/appengine".into()),
            _ => None,
        },
        // cloud.google.com/go/<svc> are submodules of one repository.
        "cloud.google.com" if s[1] == "go" => rr(2, "https://github.com/googleapis/google-cloud-go".into()),
        "gopkg.in" => {
            // gopkg.in/pkg.vN → github.com/go-pkg/pkg; gopkg.in/user/pkg.vN → github.com/user/pkg.
            let (user, pkg, n) = if s.len() >= 3 && !s[1].contains(".v") {
                (s[1].to_owned(), s[2], 3)
            } else {
                (format!("go-{}", s[1].split(".v").next()?), s[1], 2)
            };
            let name = pkg.rsplit_once(".v")?.0;
            rr(n, format!("https://github.com/{user}/{name}"))
        }
        _ => None,
    }
}

/// Parses go-import meta tags; returns the git root that prefixes `module`.
pub fn parse_go_import(html: &str, module: &str) -> Option<RepoRoot> {
    let mut rest = html;
    while let Some(i) = rest.find("<meta") {
        rest = &rest[i + 5..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let attr = |name: &str| -> Option<String> {
            let k = tag.find(&format!("{name}="))? + name.len() + 1;
            let q = tag[k..].chars().next()?;
            if q == '"' || q == '\'' {
                let v = &tag[k + 1..];
                Some(v[..v.find(q)?].to_owned())
            } else {
                Some(tag[k..].split_whitespace().next()?.trim_end_matches('/').to_owned())
            }
        };
        if attr("name").as_deref() != Some("go-import") {
            continue;
        }
        let Some(content) = attr("content") else { continue };
        let f: Vec<&str> = content.split_whitespace().collect();
        if let [prefix, "git", repo] = f[..]
            && (module == prefix || module.starts_with(&format!("{prefix}/")))
        {
            return Some(RepoRoot { root: prefix.to_owned(), repo: repo.to_owned() });
        }
    }
    None
}

/// Why a git or go-get step failed. Each message says what was attempted; the cause is its source.
#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    /// `git` could not be started.
    #[error("running git {args}")]
    Spawn {
        /// The git arguments.
        args: String,
        /// Why it could not start.
        source: std::io::Error,
    },
    /// `git` ran and failed.
    #[error("git {args}: {stderr}")]
    Git {
        /// The git arguments.
        args: String,
        /// What git said (trimmed).
        stderr: String,
    },
    /// The cache directory could not be created.
    #[error("creating {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Neither a fetch by id nor of every ref brought the commit.
    #[error("{repo}: commit {commit} not found")]
    CommitNotFound {
        /// The repository.
        repo: String,
        /// The commit.
        commit: String,
    },
    /// The go-get page could not be fetched.
    #[error("go-get discovery")]
    Discovery {
        /// Why.
        source: FetchError,
    },
    /// The go-get page names no git repository.
    #[error("go-get discovery: {url} has no <meta name=\"go-import\"> for a git repository")]
    NoGoImport {
        /// The page.
        url: String,
    },
    /// A repository URL that is not https://, git:// or ssh:// (or could pass for a git option).
    #[error("{origin}: repository {repo:?} refused: {why}")]
    BadRepoUrl {
        /// Where the URL came from (the go-get page).
        origin: String,
        /// The URL.
        repo: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Schemes a repository named by a go-import `<meta>` tag may use. The page is served by whoever controls the
/// module path's host: `file://`, `ext::` (runs a command), plain `http://` or anything git would read as an
/// option (`--upload-pack=…`) must never reach `git`.
pub const GO_IMPORT_SCHEMES: &[&str] = &["https://", "git://", "ssh://"];

/// Checks a repository URL taken from a go-import tag (see [`GO_IMPORT_SCHEMES`]); `origin` names the page.
pub fn check_go_import_repo(origin: &str, repo: &str) -> Result<(), VcsError> {
    let bad = |why| Err(VcsError::BadRepoUrl { origin: origin.to_owned(), repo: repo.to_owned(), why });
    if repo.starts_with('-') {
        return bad("it starts with '-' (git would read it as an option)");
    }
    if repo.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains whitespace or control characters");
    }
    let Some(rest) = GO_IMPORT_SCHEMES.iter().find_map(|s| repo.strip_prefix(s)) else {
        return bad("only https://, git:// and ssh:// repositories are accepted from go-import tags");
    };
    if rest.is_empty() || rest.starts_with(['/', '-']) {
        return bad("it names no host");
    }
    Ok(())
}

/// Finds the repository of `module`: built-in table, else `https://<module>?go-get=1` (`http://` when `insecure`).
pub fn discover(client: &ProxyClient, module: &str, insecure: bool) -> Result<RepoRoot, VcsError> {
    if let Some(r) = vanity(module) {
        return Ok(r);
    }
    let scheme = if insecure { "http" } else { "https" };
    let url = format!("{scheme}://{module}?go-get=1");
    let html = client.get_text(&url).map_err(|source| VcsError::Discovery { source })?;
    let root = parse_go_import(&html, module).ok_or_else(|| VcsError::NoGoImport { url: url.clone() })?;
    check_go_import_repo(&url, &root.repo)?;
    Ok(root)
}

/// The module's directory in the repository with and without the major-version element, and the tag prefix.
pub fn layout(module: &str, root: &str) -> (String, String, String) {
    let rel = module.strip_prefix(root).unwrap_or("").trim_start_matches('/').to_owned();
    let nomajor = match gomod::major_suffix(module) {
        Some(sfx) if sfx.starts_with('/') && (rel == sfx[1..] || rel.ends_with(sfx)) => {
            rel[..rel.len() - (sfx.len() - 1)].trim_end_matches('/').to_owned()
        }
        _ => rel.clone(),
    };
    let prefix = if nomajor.is_empty() { String::new() } else { format!("{nomajor}/") };
    (rel, nomajor, prefix)
}

/// The 12-hex commit prefix of a pseudo-version (`v0.0.0-20210101000000-abcdefabcdef`), if it is one.
pub fn pseudo_commit(version: &str) -> Option<&str> {
    let v = version.trim_end_matches("+incompatible");
    let (head, hash) = v.rsplit_once('-')?;
    let ts = head.rsplit(['-', '.']).next()?;
    (hash.len() == 12
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && ts.len() == 14
        && ts.bytes().all(|b| b.is_ascii_digit()))
    .then_some(hash)
}

fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, VcsError> {
    let mut c = Command::new("git");
    if let Some(d) = dir {
        c.arg("-C").arg(d);
    }
    c.args(args).env("GIT_TERMINAL_PROMPT", "0");
    let out = c.output().map_err(|source| VcsError::Spawn { args: args.join(" "), source })?;
    if !out.status.success() {
        return Err(VcsError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `git ls-remote <repo>` → (commit, ref) pairs.
pub fn ls_remote(repo: &str) -> Result<Vec<(String, String)>, VcsError> {
    // `--`: whatever the URL is, git never reads it as an option.
    let out = git(None, &["ls-remote", "--", repo])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(c, r)| (c.trim().to_owned(), r.trim().to_owned()))
        .collect())
}

/// The commit and ref a version names, from ls-remote output; `None` for a pseudo-version not at any ref tip.
pub fn commit_for(refs: &[(String, String)], tag_prefix: &str, version: &str) -> Option<(String, String)> {
    if let Some(short) = pseudo_commit(version) {
        return refs.iter().find(|(c, _)| c.starts_with(short)).map(|(c, r)| (c.clone(), r.clone()));
    }
    let tag = format!("refs/tags/{tag_prefix}{}", version.trim_end_matches("+incompatible"));
    let peeled = format!("{tag}^{{}}");
    refs.iter()
        .find(|(_, r)| *r == peeled)
        .or_else(|| refs.iter().find(|(_, r)| *r == tag))
        .map(|(c, _)| (c.clone(), tag.clone()))
}

/// A bare repository in the content cache holding the commits resolve looked at.
#[derive(Debug)]
pub struct CachedRepo {
    /// Its directory.
    pub dir: PathBuf,
    repo: String,
}

impl CachedRepo {
    /// Opens (creating) the cache repository for `repo` under `cache/vcs/`.
    pub fn open(cache: &Path, repo: &str) -> Result<CachedRepo, VcsError> {
        let dir = cache.join("vcs").join(hex(&Sha256::digest(repo.as_bytes())));
        if !dir.join("HEAD").is_file() {
            std::fs::create_dir_all(&dir).map_err(|source| VcsError::CreateDir { path: dir.clone(), source })?;
            git(Some(&dir), &["init", "--bare", "-q"])?;
        }
        Ok(CachedRepo { dir, repo: repo.to_owned() })
    }

    /// An existing local bare repository (a mirror) standing for `repo`: nothing is fetched into it.
    pub fn local(dir: &Path, repo: &str) -> CachedRepo {
        CachedRepo { dir: dir.to_owned(), repo: repo.to_owned() }
    }

    /// Whether `rev` names a commit present here.
    pub fn has(&self, rev: &str) -> bool {
        git(Some(&self.dir), &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok()
    }

    /// Makes `commit` available locally (shallow fetch by id, else every ref).
    pub fn ensure(&self, commit: &str) -> Result<(), VcsError> {
        if self.has(commit) {
            return Ok(());
        }
        if git(Some(&self.dir), &["fetch", "-q", "--depth=1", "--", &self.repo, commit]).is_ok() && self.has(commit) {
            return Ok(());
        }
        self.fetch_all()?;
        if self.has(commit) {
            Ok(())
        } else {
            Err(VcsError::CommitNotFound { repo: self.repo.clone(), commit: commit.to_owned() })
        }
    }

    /// Fetches every ref (to find a pseudo-version's commit that no tag points at).
    pub fn fetch_all(&self) -> Result<(), VcsError> {
        git(Some(&self.dir), &["fetch", "-q", "--no-write-fetch-head", "--", &self.repo, "+refs/*:refs/*"]).map(|_| ())
    }

    /// Full commit for an abbreviated one.
    pub fn expand(&self, short: &str) -> Result<String, VcsError> {
        Ok(git(Some(&self.dir), &["rev-parse", "--verify", &format!("{short}^{{commit}}")])?.trim().to_owned())
    }

    /// Whether `path` exists in `commit`.
    pub fn exists(&self, commit: &str, path: &str) -> bool {
        git(Some(&self.dir), &["cat-file", "-e", &format!("{commit}:{path}")]).is_ok()
    }

    /// Names of the files directly in `dir` ("" = root) at `commit`.
    pub fn files_in(&self, commit: &str, dir: &str) -> Result<Vec<String>, VcsError> {
        let spec = if dir.is_empty() { commit.to_owned() } else { format!("{commit}:{dir}") };
        let out = git(Some(&self.dir), &["ls-tree", "--name-only", &spec])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    /// Blob contents.
    pub fn read(&self, commit: &str, path: &str) -> Result<Vec<u8>, VcsError> {
        let spec = format!("{commit}:{path}");
        let args = || format!("cat-file blob {spec}");
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(["cat-file", "blob", &spec])
            .output()
            .map_err(|source| VcsError::Spawn { args: args(), source })?;
        if !out.status.success() {
            return Err(VcsError::Git { args: args(), stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
        }
        Ok(out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanity_table() {
        let r = |m: &str| vanity(m).map(|r| (r.root, r.repo));
        assert_eq!(
            r("golang.org/x/net/http2"),
            Some(("golang.org/x/net".into(), "https://go.googlesource.com/net".into()))
        );
        assert_eq!(
            r("k8s.io/client-go"),
            Some(("k8s.io/client-go".into(), "https://github.com/kubernetes/client-go".into()))
        );
        assert_eq!(
            r("sigs.k8s.io/yaml"),
            Some(("sigs.k8s.io/yaml".into(), "https://github.com/kubernetes-sigs/yaml".into()))
        );
        assert_eq!(r("gopkg.in/yaml.v3"), Some(("gopkg.in/yaml.v3".into(), "https://github.com/go-yaml/yaml".into())));
        assert_eq!(
            r("gopkg.in/evanphx/json-patch.v4"),
            Some(("gopkg.in/evanphx/json-patch.v4".into(), "https://github.com/evanphx/json-patch".into()))
        );
        assert_eq!(r("go.uber.org/zap"), Some(("go.uber.org/zap".into(), "https://github.com/uber-go/zap".into())));
        assert_eq!(
            r("cloud.google.com/go/storage"),
            Some(("cloud.google.com/go".into(), "https://github.com/googleapis/google-cloud-go".into()))
        );
        assert_eq!(r("go.etcd.io/etcd/api/v3").unwrap().1, "https://github.com/etcd-io/etcd");
        assert_eq!(r("github.com/k3s-io/etcd/api/v3").unwrap().0, "github.com/k3s-io/etcd");
        assert_eq!(r("example.com/x"), None);
    }

    #[test]
    fn layouts_and_versions() {
        assert_eq!(layout("go.etcd.io/etcd/api/v3", "go.etcd.io/etcd"), ("api/v3".into(), "api".into(), "api/".into()));
        assert_eq!(layout("github.com/a/b/v2", "github.com/a/b"), ("v2".into(), "".into(), "".into()));
        assert_eq!(layout("github.com/a/b", "github.com/a/b"), ("".into(), "".into(), "".into()));
        assert_eq!(pseudo_commit("v0.0.0-20210101000000-abcdefabcdef"), Some("abcdefabcdef"));
        assert_eq!(pseudo_commit("v1.2.4-0.20210101000000-abcdefabcdef"), Some("abcdefabcdef"));
        assert_eq!(pseudo_commit("v1.2.3-pre.0.20210101000000-abcdefabcdef+incompatible"), Some("abcdefabcdef"));
        assert_eq!(pseudo_commit("v1.2.3"), None);
        let refs = vec![
            ("1".repeat(40), "refs/tags/api/v3.6.12".to_owned()),
            ("2".repeat(40), "refs/tags/api/v3.6.12^{}".to_owned()),
            ("3".repeat(40), "refs/tags/v2.8.3".to_owned()),
        ];
        assert_eq!(commit_for(&refs, "api/", "v3.6.12").unwrap().0, "2".repeat(40));
        assert_eq!(commit_for(&refs, "", "v2.8.3+incompatible").unwrap(), ("3".repeat(40), "refs/tags/v2.8.3".into()));
        assert_eq!(commit_for(&refs, "", "v0.0.0-20210101000000-333333333333").unwrap().0, "3".repeat(40));
        assert!(commit_for(&refs, "", "v9.9.9").is_none());
    }

    #[test]
    fn go_import_meta() {
        let html = r#"<html><head><meta name="go-import" content="example.com/m mod https://proxy.example">
<meta name="go-import" content="example.com/m git https://git.example/m.git"></head>"#;
        assert_eq!(parse_go_import(html, "example.com/m/sub/v2").unwrap().repo, "https://git.example/m.git");
        assert!(parse_go_import(html, "example.com/other").is_none());
    }

    #[test]
    fn go_import_repositories_are_https_git_or_ssh_and_never_options() {
        for ok in ["https://git.example/m.git", "git://127.0.0.1:9418/m", "ssh://git@git.example/m"] {
            check_go_import_repo("page", ok).unwrap();
        }
        for bad in [
            "--upload-pack=/tmp/x",
            "-oProxyCommand=x",
            "file:///etc",
            "ext::sh -c x",
            "http://git.example/m",
            "https://-x/m",
            "https:///m",
            "https://a b",
            "git@host:m",
        ] {
            let e = check_go_import_repo("https://example.com/m?go-get=1", bad).unwrap_err().to_string();
            assert!(e.starts_with("https://example.com/m?go-get=1: repository "), "{e}");
        }
    }
}
