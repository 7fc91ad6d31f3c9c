//! resolve against a real HTTP module proxy this test serves on 127.0.0.1 and real git repositories it creates.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use go_facts::render::Need;
use go_facts::{Facts, ModuleVersion};
use go_resolve::proxy::{ProxyClient, parse_goproxy};
use go_resolve::{Options, ResolveError, resolve};
use sha2::Digest as _;

const MIT: &str = "MIT License\n\nCopyright (c) 2026 Test\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software, to deal in the Software without restriction. The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n";

struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
}

/// Serves `root` under `/proxy/`; `/flaky/` answers 500 twice then serves like `/proxy/`; `/broken/` always
/// answers 500; `/<name>?go-get=1` answers with the go-import meta tag in `root/meta/<name>`.
fn serve(root: PathBuf) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", l.local_addr().unwrap().port());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let flaky = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            h.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut raw = Vec::new();
            if r.read_until(b'\n', &mut raw).is_err() {
                continue;
            }
            let line = String::from_utf8_lossy(&raw).into_owned();
            loop {
                let mut h = Vec::new();
                if r.read_until(b'\n', &mut h).unwrap_or(0) == 0 || h == b"\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let file = |rel: &str| std::fs::read(root.join(rel)).ok();
            let (status, body) = if let Some(rel) = path.strip_prefix("/proxy/") {
                file(rel).map_or((404, vec![]), |b| (200, b))
            } else if let Some(rel) = path.strip_prefix("/flaky/") {
                if flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                    (500, vec![])
                } else {
                    file(rel).map_or((404, vec![]), |b| (200, b))
                }
            } else if path.starts_with("/broken/") {
                (500, vec![])
            } else if let Some(name) = path.strip_suffix("?go-get=1") {
                // Like real servers, answer for the repository root and every path below it.
                let mut hit = None;
                let mut n = name;
                while hit.is_none() && !n.is_empty() {
                    hit = file(&format!("meta{n}"));
                    n = n.rsplit_once('/').map_or("", |(a, _)| a);
                }
                hit.map_or((404, vec![]), |b| (200, b))
            } else {
                (404, vec![])
            };
            let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    Server { base, hits }
}

fn mv(p: &str, v: &str) -> ModuleVersion {
    ModuleVersion { path: p.into(), version: v.into() }
}

/// Writes a module version into a proxy tree the way a Go proxy lays it out.
fn publish(root: &Path, module: &str, version: &str, files: &[(&str, &str)]) -> (String, String) {
    let dir = root.join(gomod::escape_path(module).unwrap()).join("@v");
    std::fs::create_dir_all(&dir).unwrap();
    let gomod = format!("module {module}\n\ngo 1.19\n");
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file(format!("{module}@{version}/go.mod"), o).unwrap();
        z.write_all(gomod.as_bytes()).unwrap();
        for (name, body) in files {
            z.start_file(format!("{module}@{version}/{name}"), o).unwrap();
            z.write_all(body.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    let zip = buf.into_inner();
    std::fs::write(dir.join(format!("{version}.zip")), &zip).unwrap();
    std::fs::write(dir.join(format!("{version}.mod")), &gomod).unwrap();
    std::fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\",\"Time\":\"2026-01-02T03:04:05Z\"}}"),
    )
    .unwrap();
    let list = dir.join("list");
    let old = std::fs::read_to_string(&list).unwrap_or_default();
    std::fs::write(&list, format!("{old}{version}\n")).unwrap();
    let h = |b: &[u8]| sha2::Sha256::digest(b).iter().map(|b| format!("{b:02x}")).collect::<String>();
    (h(&zip), h(gomod.as_bytes()))
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// `git daemon` on 127.0.0.1 exporting every repository below `base` (a `git://` server: go-import tags may only
/// name https, git or ssh repositories). Killed on drop.
struct GitDaemon {
    child: std::process::Child,
    port: u16,
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git_daemon(base: &Path) -> GitDaemon {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // The git-daemon program itself, not `git daemon`: git runs it as a child, so killing `git` would orphan the
    // daemon, and an orphan holding the test's stdout keeps `.ci/test`'s `| tee` waiting forever (found in CI).
    let exec_path = Command::new("git").arg("--exec-path").output().unwrap();
    let exec_path = String::from_utf8(exec_path.stdout).unwrap();
    let mut daemon = GitDaemon {
        child: Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1", &format!("--port={port}")])
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
        port,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return daemon;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = daemon.child.kill();
    panic!("git daemon did not listen on {port}");
}

fn opts(cache: &Path, goproxy: &str) -> Options {
    Options {
        goproxy: parse_goproxy(goproxy).unwrap(),
        noproxy: vec![],
        insecure: vec!["127.0.0.1:*".into()],
        repo_map: vec![],
        cache: cache.to_owned(),
        jobs: 4,
        retries: 3,
        backoff: Duration::from_millis(10),
        licenses: true,
        progress: false,
        sums: BTreeMap::new(),
    }
}

#[test]
fn proxy_zips_mods_licenses_cache_and_list() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    let (zip_a, _) = publish(&root, "example.com/a", "v1.0.0", &[("LICENSE", MIT), ("a.go", "package a\n")]);
    let (_, mod_old) = publish(&root, "example.com/a", "v0.9.0", &[]);
    let (zip_up, _) = publish(&root, "example.com/Upper/v2", "v2.1.0", &[]);
    let srv = serve(root.clone());
    let cache = t.path().join("cache");
    let needs = BTreeMap::from([
        (mv("example.com/a", "v1.0.0"), Need::Zip),
        (mv("example.com/a", "v0.9.0"), Need::GoMod),
        (mv("example.com/Upper/v2", "v2.1.0"), Need::Zip),
    ]);
    let mut facts = Facts::default();
    // A 404 from the first proxy falls through (","), the second serves everything.
    let o = opts(&cache, &format!("http://{}/proxy/missing,http://{}/proxy", srv.base, srv.base));
    let r = resolve(&o, &mut facts, &needs).unwrap();
    assert_eq!(r.looked_up, 3);
    let a = &facts.modules[&mv("example.com/a", "v1.0.0")];
    assert_eq!(a.zip_sha256.as_deref(), Some(zip_a.as_str()));
    assert_eq!(a.licenses["LICENSE"].spdx, "MIT");
    assert_eq!(facts.modules[&mv("example.com/a", "v0.9.0")].mod_sha256.as_deref(), Some(mod_old.as_str()));
    assert_eq!(facts.modules[&mv("example.com/Upper/v2", "v2.1.0")].zip_sha256.as_deref(), Some(zip_up.as_str()));
    assert!(cache.join("download/example.com/!upper/v2/@v/v2.1.0.zip").is_file(), "case-escaped cache path");

    // A rerun costs nothing: complete facts are skipped; with facts forgotten, the content cache answers.
    let before = srv.hits.load(Ordering::SeqCst);
    let r = resolve(&o, &mut facts, &needs).unwrap();
    assert_eq!((r.looked_up, r.already_known), (1, 2), "v2.1.0 has no license file, so it is looked at again");
    let mut fresh = Facts::default();
    resolve(&o, &mut fresh, &needs).unwrap();
    assert_eq!(fresh, facts);
    assert_eq!(srv.hits.load(Ordering::SeqCst), before, "no request on a rerun");

    // file:// proxies and the list/.info endpoints.
    let mut ff = Facts::default();
    resolve(&opts(&t.path().join("c2"), &format!("file://{}", root.display())), &mut ff, &needs).unwrap();
    assert_eq!(ff, facts);
    let c = ProxyClient::new(&t.path().join("c3"), 0, Duration::ZERO);
    assert_eq!(c.list(&format!("http://{}/proxy", srv.base), "example.com/a").unwrap(), ["v1.0.0", "v0.9.0"]);
    let (v, time) = c.info(&format!("http://{}/proxy", srv.base), "example.com/a", "v1.0.0").unwrap();
    assert_eq!((v.as_str(), time.as_str()), ("v1.0.0", "2026-01-02T03:04:05Z"));
}

#[test]
fn retries_fallbacks_off_and_errors_naming_every_module() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    publish(&root, "example.com/a", "v1.0.0", &[]);
    let srv = serve(root);
    let needs = BTreeMap::from([(mv("example.com/a", "v1.0.0"), Need::Zip)]);
    let b = &srv.base;

    // Two 500s, then success: retried with backoff.
    let mut f = Facts::default();
    resolve(&opts(&t.path().join("c1"), &format!("http://{b}/flaky")), &mut f, &needs).unwrap();
    assert!(f.modules[&mv("example.com/a", "v1.0.0")].zip_sha256.is_some());

    // "," falls through only on 404/410; "|" on any error.
    let e = resolve(
        &opts(&t.path().join("c2"), &format!("http://{b}/broken,http://{b}/proxy")),
        &mut Facts::default(),
        &needs,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("example.com/a@v1.0.0: http://")
            && e.to_string().contains("HTTP 500 (after 4 attempts)"),
        "{e}"
    );
    resolve(&opts(&t.path().join("c3"), &format!("http://{b}/broken|http://{b}/proxy")), &mut Facts::default(), &needs)
        .unwrap();

    // off, and several failures reported together.
    let two =
        BTreeMap::from([(mv("example.com/a", "v1.0.0"), Need::Zip), (mv("example.com/nope", "v1.0.0"), Need::Zip)]);
    let e = resolve(&opts(&t.path().join("c4"), &format!("http://{b}/proxy,off")), &mut Facts::default(), &two)
        .unwrap_err();
    let ResolveError::Failed(list) = &e else { panic!("{e}") };
    assert_eq!(list.len(), 1, "{e}");
    assert!(list[0].starts_with("example.com/nope@v1.0.0: ") && list[0].contains("GOPROXY=off"), "{e}");
    let e = resolve(&opts(&t.path().join("c5"), "off"), &mut Facts::default(), &two).unwrap_err();
    assert!(e.to_string().starts_with("could not resolve 2 module version(s)"), "{e}");
}

#[test]
fn direct_git_with_go_import_meta_subdirectory_major_version_and_pseudo_version() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    std::fs::create_dir_all(root.join("meta")).unwrap();
    let srv = serve(root.clone());
    let b = srv.base.clone();
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("go.mod"), format!("module {b}/tool\n\ngo 1.19\n")).unwrap();
    std::fs::write(repo.join("LICENSE"), MIT).unwrap();
    std::fs::write(repo.join("sub/go.mod"), format!("module {b}/tool/sub/v2\n\ngo 1.19\n")).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    git(&repo, &["tag", "-a", "-m", "t", "v1.2.0"]);
    git(&repo, &["tag", "sub/v2.0.1"]);
    let c1 = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("x.go"), "package tool\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "two"]);
    let c2 = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "-q", "--detach", &c1]);
    git(&repo, &["branch", "-q", "-D", "main"]); // c2 is now reachable from no ref
    git(&repo, &["update-ref", "refs/keep/x", &c2]);
    let daemon = git_daemon(t.path());
    let url = format!("git://127.0.0.1:{}/repo", daemon.port);
    std::fs::write(root.join("meta/tool"), format!("<meta name=\"go-import\" content=\"{b}/tool git {url}\">"))
        .unwrap();

    let pseudo = format!("v1.2.1-0.20260101000000-{}", &c2[..12]);
    let needs = BTreeMap::from([
        (mv(&format!("{b}/tool"), "v1.2.0"), Need::Zip),
        (mv(&format!("{b}/tool/sub/v2"), "v2.0.1"), Need::Zip),
        (mv(&format!("{b}/tool"), &pseudo), Need::GoMod),
    ]);
    let mut facts = Facts::default();
    // The proxy has none of them (404), so "direct" takes over.
    resolve(&opts(&t.path().join("c"), &format!("http://{b}/proxy,direct")), &mut facts, &needs).unwrap();
    let g = facts.modules[&mv(&format!("{b}/tool"), "v1.2.0")].git.clone().unwrap();
    assert_eq!(
        (g.repo.as_str(), g.commit.as_str(), g.reference.as_str(), g.subdir.as_str()),
        (url.as_str(), c1.as_str(), "refs/tags/v1.2.0", "")
    );
    assert_eq!(facts.modules[&mv(&format!("{b}/tool"), "v1.2.0")].licenses["LICENSE"].spdx, "MIT");
    let s = facts.modules[&mv(&format!("{b}/tool/sub/v2"), "v2.0.1")].git.clone().unwrap();
    assert_eq!(
        (s.commit.as_str(), s.reference.as_str(), s.subdir.as_str()),
        (c1.as_str(), "refs/tags/sub/v2.0.1", "sub")
    );
    let p = facts.modules[&mv(&format!("{b}/tool"), &pseudo)].git.clone().unwrap();
    assert_eq!(p.commit, c2, "pseudo-version expanded to the full commit");

    // A tag that does not exist names the module and the tag looked for.
    let bad = BTreeMap::from([(mv(&format!("{b}/tool"), "v9.9.9"), Need::Zip)]);
    let e = resolve(&opts(&t.path().join("c"), "direct"), &mut Facts::default(), &bad).unwrap_err().to_string();
    assert!(e.contains(&format!("{b}/tool@v9.9.9: direct: ")) && e.contains("no tag refs/tags/v9.9.9"), "{e}");
}

/// etcd's layout: `client/` has no go.mod, `client/v3/go.mod` declares the upstream path (a fork replacing it),
/// `api/go.mod` holds `api/v3`. verify_git_module moves `client` to `client/v3`, keeps `api`, records the module
/// line and where it was read, and refuses a subdir with no go.mod or another major version.
#[test]
fn git_module_lines_find_dir_vn_and_refuse_bare_subdirs() {
    use go_facts::GitFact;
    use go_resolve::vcs::CachedRepo;
    use go_resolve::verify_git_module;

    let t = tempfile::tempdir().unwrap();
    let w = t.path().join("etcd");
    for (path, text) in [
        ("go.mod", "module go.etcd.io/etcd/v3\n\ngo 1.19\n"),
        ("client/v3/go.mod", "module go.etcd.io/etcd/client/v3\n\ngo 1.19\n"),
        ("client/v3/client.go", "package clientv3\n"),
        ("api/go.mod", "module go.etcd.io/etcd/api/v3\n\ngo 1.19\n"),
        ("pkg/go.mod", "module go.etcd.io/etcd/pkg/v2\n\ngo 1.19\n"),
        ("nomod/x.go", "package x\n"),
    ] {
        std::fs::create_dir_all(w.join(path).parent().unwrap()).unwrap();
        std::fs::write(w.join(path), text).unwrap();
    }
    git(&w, &["init", "-q", "-b", "main"]);
    git(&w, &["add", "."]);
    git(&w, &["commit", "-qm", "etcd"]);
    let commit = git(&w, &["rev-parse", "HEAD"]);
    let url = "https://github.com/k3s-io/etcd";
    let repo = CachedRepo::local(&w.join(".git"), url);
    let check = |module: &str, subdir: &str| {
        let mut g = GitFact::new(url, &commit, "", subdir);
        verify_git_module(&repo, &mv(module, "v3.6.12-k3s1"), &mut g).map(|()| g)
    };
    let g = check("github.com/k3s-io/etcd/client/v3", "client").unwrap();
    assert_eq!((g.subdir.as_str(), g.module.as_str()), ("client/v3", "go.etcd.io/etcd/client/v3"));
    assert_eq!(g.checked_at, format!("{url}@{commit}"));
    assert!(g.verified_at_commit());
    let g = check("github.com/k3s-io/etcd/api/v3", "api").unwrap();
    assert_eq!((g.subdir.as_str(), g.module.as_str()), ("api", "go.etcd.io/etcd/api/v3"));
    let e = go_resolve::error_chain(&check("github.com/k3s-io/etcd/nomod/v3", "nomod").unwrap_err());
    assert!(e.contains("no nomod/go.mod") && e.contains("bare go.mod"), "{e}");
    let e = go_resolve::error_chain(&check("github.com/k3s-io/etcd/pkg/v3", "pkg").unwrap_err());
    assert!(e.contains("another major version"), "{e}");
}

/// A go-import tag is written by whoever serves the module path's host: a repository "URL" that git would read
/// as an option (`--upload-pack=PROGRAM` runs PROGRAM) or a `file://` path is refused before git runs.
#[test]
fn go_import_meta_naming_a_git_option_or_a_local_path_is_refused_before_git_runs() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    std::fs::create_dir_all(root.join("meta")).unwrap();
    let srv = serve(root.clone());
    let b = srv.base.clone();
    let marker = t.path().join("upload-pack-ran");
    let script = t.path().join("pack.sh");
    std::fs::write(&script, format!("#!/bin/sh\ntouch {}\nexit 1\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        root.join("meta/evil"),
        format!("<meta name=\"go-import\" content=\"{b}/evil git --upload-pack={}\">", script.display()),
    )
    .unwrap();
    std::fs::write(root.join("meta/local"), format!("<meta name=\"go-import\" content=\"{b}/local git file:///etc\">"))
        .unwrap();
    let needs = BTreeMap::from([
        (mv(&format!("{b}/evil"), "v1.0.0"), Need::Zip),
        (mv(&format!("{b}/local"), "v1.0.0"), Need::Zip),
    ]);
    let e = resolve(&opts(&t.path().join("c"), "direct"), &mut Facts::default(), &needs).unwrap_err().to_string();
    assert!(!marker.exists(), "git ran the go-import tag's --upload-pack program");
    assert!(e.contains("starts with '-'") && e.contains("only https://, git:// and ssh://"), "{e}");
}

/// A partial resolve keeps what succeeded: the module version the proxy has is merged even though another failed,
/// so a rerun only looks up the failure.
#[test]
fn a_partial_resolve_keeps_the_module_versions_that_resolved() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    publish(&root, "example.com/a", "v1.0.0", &[("LICENSE", MIT)]);
    let srv = serve(root);
    let needs =
        BTreeMap::from([(mv("example.com/a", "v1.0.0"), Need::Zip), (mv("example.com/missing", "v1.0.0"), Need::Zip)]);
    let mut facts = Facts::default();
    let e = resolve(&opts(&t.path().join("c"), &format!("http://{}/proxy", srv.base)), &mut facts, &needs).unwrap_err();
    assert!(
        matches!(&e, ResolveError::Failed(f) if f.len() == 1 && f[0].starts_with("example.com/missing@v1.0.0")),
        "{e}"
    );
    assert!(facts.modules[&mv("example.com/a", "v1.0.0")].zip_sha256.is_some(), "the resolved module was dropped");
    assert!(!facts.modules.contains_key(&mv("example.com/missing", "v1.0.0")));
}

/// Downloads are checked against go.sum's `h1:`: a proxy serving another zip (or go.mod) than go.sum names fails
/// that module version, and the cached file is removed so no later run trusts it.
#[test]
fn downloads_are_checked_against_go_sum_h1() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("p");
    publish(&root, "example.com/a", "v1.0.0", &[("LICENSE", MIT)]);
    publish(&root, "example.com/b", "v1.0.0", &[]);
    let srv = serve(root.clone());
    let zip_a = root.join("example.com/a/@v/v1.0.0.zip");
    let good = go_resolve::dirhash::hash_zip(&zip_a).unwrap();
    let mod_b = go_resolve::dirhash::hash_go_mod(b"module example.com/b\n\ngo 1.19\n");
    let sum =
        gomod::GoSum::parse("go.sum", &format!("example.com/a v1.0.0 {good}\nexample.com/b v1.0.0/go.mod {mod_b}\n"))
            .unwrap();
    let needs =
        BTreeMap::from([(mv("example.com/a", "v1.0.0"), Need::Zip), (mv("example.com/b", "v1.0.0"), Need::GoMod)]);
    let mut o = opts(&t.path().join("c"), &format!("http://{}/proxy", srv.base));
    o.sums = sum.entries();
    resolve(&o, &mut Facts::default(), &needs).unwrap();

    // The proxy now serves a tampered zip and go.mod; a fresh cache downloads them and go.sum refuses both.
    publish(&root, "example.com/a", "v1.0.0", &[("LICENSE", MIT), ("evil.go", "package a\n")]);
    std::fs::write(root.join("example.com/b/@v/v1.0.0.mod"), "module example.com/b\n\ngo 1.21\n").unwrap();
    o.cache = t.path().join("c2");
    let e = resolve(&o, &mut Facts::default(), &needs).unwrap_err().to_string();
    assert!(e.contains("example.com/a@v1.0.0") && e.contains(&format!("go.sum says {good}")), "{e}");
    assert!(e.contains("example.com/b@v1.0.0") && e.contains(&format!("go.sum says {mod_b}")), "{e}");
    assert!(!t.path().join("c2/download/example.com/a/@v/v1.0.0.zip").exists(), "the bad zip stayed in the cache");
}
