//! Module zips made from git (`go_resolve::vcszip`) against Debian's real go command, offline: git repositories
//! made here (a module at a repository root with `.gitattributes` export rules; a module in a subdirectory with a
//! nested module, a vendor directory, a symlink and no LICENSE of its own while the root has one; a `/v2` module;
//! a `+incompatible` version without go.mod), downloaded by `go mod download -json` with `GOPROXY=direct`. The
//! module paths are VCS-qualified (`example.com/mono.git/sub`), so the go command runs git itself without any
//! go-get lookup, and a temporary `GIT_CONFIG_GLOBAL` rewrites `https://example.com/` to the local `file://`
//! repositories: nothing leaves the machine. Needs `git` and `go` on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use go_facts::render::Need;
use go_facts::{GitFact, ModuleVersion};
use go_resolve::vcs::CachedRepo;
use go_resolve::vcszip;

const MIT: &str = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy.\n";
const APACHE: &str =
    "                                 Apache License\n                           Version 2.0, January 2004\n";

struct World {
    t: tempfile::TempDir,
    gitconfig: PathBuf,
}

impl World {
    fn new() -> World {
        let t = tempfile::tempdir().unwrap();
        let gitconfig = t.path().join("gitconfig");
        std::fs::write(
            &gitconfig,
            format!(
                "[user]\n\tname = t\n\temail = t@t\n[init]\n\tdefaultBranch = main\n[url \"file://{}/repos/\"]\n\
                 \tinsteadOf = https://example.com/\n",
                t.path().display()
            ),
        )
        .unwrap();
        World { t, gitconfig }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.t.path().join(p)
    }

    /// Runs a command with the test's git configuration (never the user's: GIT_CONFIG_GLOBAL, no system file).
    fn run(&self, dir: &Path, prog: &str, args: &[&str], env: &[(&str, String)]) -> String {
        let mut c = Command::new(prog);
        c.current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path("home"))
            .env("GIT_TERMINAL_PROMPT", "0");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{prog} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    /// A repository `repos/<name>` with `files` (a `@` body makes a symlink to the rest), tagged `tag`.
    fn repo(&self, name: &str, files: &[(&str, &str)], tag: &str) -> (String, String) {
        let d = self.path(&format!("repos/{name}"));
        std::fs::create_dir_all(&d).unwrap();
        self.run(&d, "git", &["init", "-q"], &[]);
        for (f, body) in files {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            match body.strip_prefix('@') {
                Some(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
                None => std::fs::write(&p, body).unwrap(),
            }
        }
        self.run(&d, "git", &["add", "-A"], &[]);
        self.run(&d, "git", &["commit", "-q", "-m", "release"], &[]);
        self.run(&d, "git", &["tag", "-a", "-m", tag, tag], &[]);
        let commit = self.run(&d, "git", &["rev-parse", "HEAD"], &[]);
        (format!("file://{}", d.display()), commit)
    }

    fn go_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOPATH", self.path("gopath").display().to_string()),
            ("GOCACHE", self.path("gocache").display().to_string()),
            ("GOTOOLCHAIN", "local".into()),
            ("GO111MODULE", "on".into()),
            ("GOWORK", "off".into()),
            ("GOSUMDB", "off".into()),
            ("GONOSUMDB", String::new()),
            ("GOPRIVATE", String::new()),
            ("GOINSECURE", String::new()),
            ("GOVCS", "*:git".into()),
            ("GOFLAGS", "-modcacherw".into()),
        ]
    }
}

/// What `go mod download -json` reported.
struct GoDownload {
    zip_names: Vec<String>,
    sum: String,
    go_mod_sum: String,
    go_mod: Vec<u8>,
}

fn go_download(w: &World, module: &str, version: &str) -> GoDownload {
    let mut env = w.go_env();
    env.push(("GOPROXY", "direct".into()));
    env.push(("GOMODCACHE", w.path("gomodcache-direct").display().to_string()));
    let dir = w.path("outside");
    std::fs::create_dir_all(&dir).unwrap();
    let out = w.run(&dir, "go", &["mod", "download", "-json", &format!("{module}@{version}")], &env);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = |k: &str| j[k].as_str().unwrap_or_else(|| panic!("{k} in {out}")).to_owned();
    let mut z = zip::ZipArchive::new(std::fs::File::open(s("Zip")).unwrap()).unwrap();
    let mut zip_names: Vec<String> =
        (0..z.len()).map(|i| z.by_index(i).unwrap().name().to_owned()).filter(|n| !n.ends_with('/')).collect();
    zip_names.sort();
    GoDownload { zip_names, sum: s("Sum"), go_mod_sum: s("GoModSum"), go_mod: std::fs::read(s("GoMod")).unwrap() }
}

fn mv(p: &str, v: &str) -> ModuleVersion {
    ModuleVersion { path: p.into(), version: v.into() }
}

struct Case {
    module: ModuleVersion,
    fact: GitFact,
}

/// The four repositories and their module versions.
fn cases(w: &World) -> Vec<Case> {
    let (root_url, root_commit) = w.repo(
        "root.git",
        &[
            ("go.mod", "module example.com/root.git\n\ngo 1.19\n"),
            ("LICENSE", MIT),
            ("root.go", "package root\n\nfunc Root() string { return \"root\" }\n"),
            // The go command switches export-ignore and export-subst off: both files are zipped as committed.
            (".gitattributes", "ignored.txt export-ignore\nsubst.txt export-subst\n"),
            ("ignored.txt", "kept\n"),
            ("subst.txt", "$Format:%H$\n"),
            // A git repository may commit what another VCS would use as its metadata directory.
            (".hg/hgrc", "[ui]\n"),
            ("vendor/modules.txt", "# vendor\n"),
            ("vendor/example.org/v/v.go", "package v\n"),
            ("internal/vendor/x.go", "package vendor\n"),
        ],
        "v1.0.0",
    );
    let (mono_url, mono_commit) = w.repo(
        "mono.git",
        &[
            ("go.mod", "module example.com/mono.git\n\ngo 1.19\n"),
            ("LICENSE", APACHE),
            ("top.go", "package mono\n"),
            ("sub/go.mod", "module example.com/mono.git/sub\n\ngo 1.19\n"),
            ("sub/sub.go", "package sub\n\nfunc Sub() string { return \"sub\" }\n"),
            ("sub/docs/README.md", "docs\n"),
            ("sub/nested/go.mod", "module example.com/mono.git/sub/nested\n"),
            ("sub/nested/n.go", "package nested\n"),
            ("sub/nested/deeper/d.go", "package deeper\n"),
            ("sub/vendor/modules.txt", "# vendor\n"),
            ("sub/vendor/example.org/v/v.go", "package v\n"),
            ("sub/link.go", "@sub.go"),
            ("sub/bin/run.sh", "#!/bin/sh\n"),
        ],
        "sub/v1.2.0",
    );
    // run.sh executable: the archive records the mode; the zip keeps only the contents.
    let (major_url, major_commit) = w.repo(
        "major.git",
        &[
            ("go.mod", "module example.com/major.git/v2\n\ngo 1.19\n"),
            ("LICENSE", MIT),
            ("major.go", "package major\n\nfunc Major() int { return 2 }\n"),
        ],
        "v2.1.0",
    );
    let (old_url, old_commit) =
        w.repo("old.git", &[("LICENSE", MIT), ("old.go", "package old\n\nfunc Old() int { return 1 }\n")], "v2.0.0");
    // A major version in its own directory (etcd's client/v3): tag prefix without the major element, the zip from
    // client/v3, the root LICENSE copied in.
    let (majorsub_url, majorsub_commit) = w.repo(
        "majorsub.git",
        &[
            ("LICENSE", APACHE),
            ("client/go.mod", "module example.com/majorsub.git/client\n"),
            ("client/v3/go.mod", "module example.com/majorsub.git/client/v3\n\ngo 1.19\n"),
            ("client/v3/client.go", "package client\n\nfunc Client() int { return 3 }\n"),
        ],
        "client/v3.1.0",
    );
    vec![
        Case { module: mv("example.com/root.git", "v1.0.0"), fact: GitFact::new(&root_url, &root_commit, "", "") },
        Case {
            module: mv("example.com/mono.git/sub", "v1.2.0"),
            fact: GitFact::new(&mono_url, &mono_commit, "refs/tags/sub/v1.2.0", "sub"),
        },
        Case {
            module: mv("example.com/major.git/v2", "v2.1.0"),
            fact: GitFact::new(&major_url, &major_commit, "", ""),
        },
        Case {
            module: mv("example.com/old.git", "v2.0.0+incompatible"),
            fact: GitFact::new(&old_url, &old_commit, "", ""),
        },
        Case {
            module: mv("example.com/majorsub.git/client/v3", "v3.1.0"),
            fact: GitFact::new(&majorsub_url, &majorsub_commit, "refs/tags/client/v3.1.0", "client/v3"),
        },
    ]
}

#[test]
fn offline_vcs_zips_equal_the_go_commands_direct_downloads_and_feed_go_list() {
    let w = World::new();
    let cases = cases(&w);
    let cache = w.path("resolve-cache");
    let proxy = w.path("proxy");
    let mut go_sum = String::new();
    for c in &cases {
        let m = &c.module;
        let reference = go_download(&w, &m.path, &m.version);
        let repo = CachedRepo::open(&cache, &c.fact.repo).unwrap();
        let ours = vcszip::read_module(&repo, m, &c.fact).unwrap();
        assert_eq!(ours.zip_names(m), reference.zip_names, "{m}: the files of the zip");
        let zip = ours.zip_bytes(m).unwrap();
        assert_eq!(vcszip::hash_zip_bytes(&zip).unwrap(), reference.sum, "{m}: zip h1");
        assert_eq!(ours.go_mod_h1(), reference.go_mod_sum, "{m}: .mod h1");
        assert_eq!(ours.go_mod, reference.go_mod, "{m}: .mod");
        let sum = gomod::SumEntry { zip: Some(reference.sum.clone()), go_mod: Some(reference.go_mod_sum.clone()) };
        let dir = proxy.join(gomod::escape_path(&m.path).unwrap()).join("@v");
        vcszip::write_proxy_files(&repo, m, &c.fact, Need::Zip, Some(&sum), &dir).unwrap();
        let (path, v) = (&m.path, &m.version);
        go_sum += &format!("{path} {v} {}\n{path} {v}/go.mod {}\n", reference.sum, reference.go_mod_sum);
    }
    // What the rules did, spelled out for the subdirectory module (the comparison above is the proof).
    let sub = &cases[1];
    let names = vcszip::read_module(&CachedRepo::open(&cache, &sub.fact.repo).unwrap(), &sub.module, &sub.fact)
        .unwrap()
        .zip_names(&sub.module);
    let p = |n: &str| format!("example.com/mono.git/sub@v1.2.0/{n}");
    for n in ["LICENSE", "go.mod", "sub.go", "docs/README.md", "vendor/modules.txt", "bin/run.sh"] {
        assert!(names.contains(&p(n)), "{n} in {names:?}");
    }
    for n in ["nested/n.go", "nested/go.mod", "nested/deeper/d.go", "vendor/example.org/v/v.go", "link.go", "top.go"] {
        assert!(!names.contains(&p(n)), "{n} not in {names:?}");
    }
    let root = &cases[0];
    let ours =
        vcszip::read_module(&CachedRepo::open(&cache, &root.fact.repo).unwrap(), &root.module, &root.fact).unwrap();
    let names = ours.zip_names(&root.module);
    let p = |n: &str| format!("example.com/root.git@v1.0.0/{n}");
    // Committed VCS-looking directories stay (the go command zips a git archive with zip.Create, not
    // CreateFromDir); export-ignore is off; vendored packages go, even nested ones (x/mod's offset bug).
    for n in [".hg/hgrc", "ignored.txt", "subst.txt", "vendor/modules.txt", ".gitattributes"] {
        assert!(names.contains(&p(n)), "{n} in {names:?}");
    }
    for n in ["vendor/example.org/v/v.go", "internal/vendor/x.go"] {
        assert!(!names.contains(&p(n)), "{n} not in {names:?}");
    }
    assert!(ours.files.iter().any(|(n, d)| n == "subst.txt" && d == b"$Format:%H$\n"), "export-subst is off");

    // The go command, offline over the file:// proxy of zips made from git, loads every package.
    let main = w.path("main");
    std::fs::create_dir_all(&main).unwrap();
    std::fs::write(
        main.join("go.mod"),
        "module example.com/main\n\ngo 1.19\n\nrequire (\n\texample.com/major.git/v2 v2.1.0\n\texample.com/majorsub.git/client/v3 v3.1.0\n\
         \texample.com/mono.git/sub v1.2.0\n\texample.com/old.git v2.0.0+incompatible\n\texample.com/root.git v1.0.0\n)\n",
    )
    .unwrap();
    std::fs::write(main.join("go.sum"), go_sum).unwrap();
    std::fs::write(
        main.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/major.git/v2\"\n\tclient \"example.com/majorsub.git/client/v3\"\n\t\"example.com/mono.git/sub\"\n\
         \t\"example.com/old.git\"\n\t\"example.com/root.git\"\n)\n\n\
         func main() { fmt.Println(root.Root(), sub.Sub(), major.Major(), old.Old(), client.Client()) }\n",
    )
    .unwrap();
    let mut env = w.go_env();
    env.push(("GOPROXY", format!("file://{}", proxy.display())));
    env.push(("GOMODCACHE", w.path("gomodcache-offline").display().to_string()));
    env.push(("GOFLAGS", "-mod=mod -modcacherw".into()));
    let deps = w.run(&main, "go", &["list", "-deps", "-f", "{{with .Module}}{{.Path}}@{{.Version}}{{end}}", "."], &env);
    for c in &cases {
        assert!(deps.lines().any(|l| l == c.module.to_string()), "{} linked: {deps}", c.module);
    }
    w.run(&main, "go", &["build", "-o", w.path("main-bin").to_str().unwrap(), "."], &env);
    assert_eq!(w.run(&main, w.path("main-bin").to_str().unwrap(), &[], &[]), "root sub 2 1 3");
}

#[test]
fn offline_vcs_zip_refused_when_go_sum_disagrees_and_nothing_is_written() {
    let w = World::new();
    let cases = cases(&w);
    let c = &cases[1];
    let repo = CachedRepo::open(&w.path("resolve-cache"), &c.fact.repo).unwrap();
    let good = vcszip::read_module(&repo, &c.module, &c.fact).unwrap();
    let dir = w.path("proxy/x/@v");
    let wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned();
    for (sum, what) in [
        (gomod::SumEntry { zip: Some(wrong.clone()), go_mod: Some(good.go_mod_h1()) }, "zip made from git"),
        (gomod::SumEntry { zip: None, go_mod: Some(wrong.clone()) }, "go.mod made from git"),
        (gomod::SumEntry { zip: None, go_mod: Some(good.go_mod_h1()) }, "go.sum has no h1: line"),
    ] {
        let e = vcszip::write_proxy_files(&repo, &c.module, &c.fact, Need::Zip, Some(&sum), &dir).unwrap_err();
        let text = e.to_string();
        for part in ["example.com/mono.git/sub@v1.2.0", &c.fact.repo, &c.fact.commit, "(directory sub)", what] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        if what != "go.sum has no h1: line" {
            assert!(text.contains(&wrong), "both hashes: {text}");
        }
        assert!(!dir.exists(), "nothing written");
    }
    // A commit the repository does not have names the module too.
    let mut gone = c.fact.clone();
    gone.commit = "0123456789012345678901234567890123456789".into();
    let e = vcszip::read_module(&repo, &c.module, &gone).unwrap_err().to_string();
    assert!(e.contains("example.com/mono.git/sub@v1.2.0") && e.contains(&gone.commit), "{e}");
}

#[test]
fn offline_vcs_zip_refuses_what_the_go_command_refuses() {
    let w = World::new();
    let (url, commit) = w.repo(
        "clash.git",
        &[("go.mod", "module example.com/clash.git\n"), ("Doc.go", "package clash\n"), ("doc.go", "package clash\n")],
        "v1.0.0",
    );
    let mut env = w.go_env();
    env.push(("GOPROXY", "direct".into()));
    env.push(("GOMODCACHE", w.path("gomodcache-direct").display().to_string()));
    let dir = w.path("outside");
    std::fs::create_dir_all(&dir).unwrap();
    let o = Command::new("go")
        .current_dir(&dir)
        .args(["mod", "download", "-json", "example.com/clash.git@v1.0.0"])
        .envs(env)
        .env("GIT_CONFIG_GLOBAL", &w.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", w.path("home"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && said.contains("case-insensitive file name collision"), "go: {said}");
    let repo = CachedRepo::open(&w.path("resolve-cache"), &url).unwrap();
    let m = mv("example.com/clash.git", "v1.0.0");
    let e = vcszip::read_module(&repo, &m, &GitFact::new(&url, &commit, "", "")).unwrap_err().to_string();
    assert!(e.contains("case-insensitive file name collision") && e.contains("example.com/clash.git@v1.0.0"), "{e}");
}
