//! bump end to end, offline: a small k3s-like Go repository this test builds (tags, a release branch whose tip is
//! past the tag, go.mod with a replace to a fork, go.sum written by Debian's go command, scripts/version.sh,
//! manifests/traefik.yaml, cmd/server, a build tag that drops a dependency), a Go module proxy and a chart server
//! on 127.0.0.1, and git repositories for the other pins. Needs `git` and `go` on PATH.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use go_facts::{Facts, ModuleVersion};
use k3s_model::flags::facts::FlagFacts;
use k3s_model::flags::{Command as Cmd, Kind};
use sha2::Digest as _;

const MIT: &str = "MIT License\n\nCopyright (c) 2026 Test\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software, to deal in the Software without restriction. The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n";
const BSD3: &str = "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met: Redistributions of source code must retain the above copyright notice. Neither the name of the copyright holder nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.\n";
const APACHE: &str = "                                 Apache License\n                           Version 2.0, January 2004\n                        http://www.apache.org/licenses/\n\n   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n";

/// Serves `root` over HTTP on 127.0.0.1 (module proxy under /proxy/, charts under /charts/).
fn serve(root: PathBuf) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", l.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = percent_decode(line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/'));
            let body = if path.contains("..") { None } else { std::fs::read(root.join(&path)).ok() };
            let (status, body) = body.map_or((404, vec![]), |b| (200, b));
            let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    base
}

/// `%XX` escapes of a request path (the go command sends `!` of a case-escaped module path as `%21`).
fn percent_decode(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'%', Some(c)) => {
                out.push(c);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn run(dir: &Path, cmd: &str, args: &[&str], env: &[(&str, String)]) -> String {
    let mut c = Command::new(cmd);
    c.current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn write(p: &Path, body: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// A module version in the proxy tree (zip + .mod + .info), as a Go proxy lays it out.
fn publish(proxy: &Path, module: &str, gomod_module: &str, version: &str, files: &[(&str, &str)]) {
    let gomod = format!("module {gomod_module}\n\ngo 1.19\n");
    let files: Vec<(String, Vec<u8>)> = files.iter().map(|(n, b)| ((*n).to_owned(), b.as_bytes().to_vec())).collect();
    publish_raw(proxy, module, version, Some(&gomod), &files);
}

/// `module@version` in the proxy tree with `gomod` as its go.mod; `files` zipped with it (no zip when `files` is
/// empty: a module the build graph names but no package of which is loaded needs only its .mod).
fn publish_raw(proxy: &Path, module: &str, version: &str, gomod: Option<&str>, files: &[(String, Vec<u8>)]) {
    let dir = proxy.join(gomod::escape_path(module).unwrap()).join("@v");
    std::fs::create_dir_all(&dir).unwrap();
    let gomod = gomod.map_or_else(|| format!("module {module}\n"), str::to_owned);
    if !files.is_empty() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let o = zip::write::SimpleFileOptions::default();
            z.start_file(format!("{module}@{version}/go.mod"), o).unwrap();
            z.write_all(gomod.as_bytes()).unwrap();
            for (name, body) in files {
                z.start_file(format!("{module}@{version}/{name}"), o).unwrap();
                z.write_all(body).unwrap();
            }
            z.finish().unwrap();
        }
        std::fs::write(dir.join(format!("{version}.zip")), buf.into_inner()).unwrap();
    }
    std::fs::write(dir.join(format!("{version}.mod")), &gomod).unwrap();
    std::fs::write(dir.join(format!("{version}.info")), format!("{{\"Version\":\"{version}\"}}")).unwrap();
    std::fs::write(dir.join("list"), format!("{version}\n")).unwrap();
}

/// Where Debian's golang-*-dev packages put Go source (.ci/install.d/33-urfave-cli.sh installs urfave/cli's).
const GOCODE: &str = "/usr/share/gocode/src";

/// The licence text of a Debian package's copyright file (its stand-alone `License:` paragraph): Debian's -dev
/// packages do not ship the module's own LICENSE file.
fn debian_licence(pkg: &str) -> Vec<u8> {
    let path = format!("/usr/share/doc/{pkg}/copyright");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (Debian package {pkg}: .ci/install.d/33-urfave-cli.sh installs it)"));
    let para = text.split("\n\n").filter(|p| p.starts_with("License:")).last().unwrap();
    let lines: Vec<&str> =
        para.lines().skip(1).map(|l| l.strip_prefix(' ').unwrap_or(l)).map(|l| if l == "." { "" } else { l }).collect();
    (lines.join("\n") + "\n").into_bytes()
}

fn collect_go_source(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            // A nested module (urfave/cli v1's v2/) is not part of this one; tests' data is not needed.
            if !p.join("go.mod").exists() && name != "testdata" {
                collect_go_source(root, &p, out);
            }
        } else if !name.ends_with("_test.go") && !(dir == root && (name == "go.mod" || name == "go.sum")) {
            out.push((p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
}

/// Debian's source of the Go module `module` (package `pkg`) published as `module@version`: its own go.mod, its
/// packages (tests and testdata left out) and the licence from Debian's copyright file as LICENSE. Debian's
/// version can differ from `version` (the one urfave/cli's go.mod requires); the API is what the test exercises.
fn publish_debian(proxy: &Path, module: &str, version: &str, pkg: &str) {
    let dir = Path::new(GOCODE).join(module);
    let gomod = std::fs::read_to_string(dir.join("go.mod")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files = Vec::new();
    collect_go_source(&dir, &dir, &mut files);
    files.push(("LICENSE".into(), debian_licence(pkg)));
    publish_raw(proxy, module, version, Some(&gomod), &files);
}

/// The urfave/cli major version the fake k3s's pkg/cli/cmds is written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cli {
    /// `github.com/urfave/cli` (Debian's 1.22.9), as k3s up to 1.3x: `Name: "token,t"`, `cli.Command` values.
    V1,
    /// `github.com/urfave/cli/v2` (Debian's 2.3.0), as k3s 1.36 very likely: `Aliases`, `*cli.Command`.
    V2,
    /// `github.com/urfave/cli/v3`, as newer k3s: a STAND-IN module this test writes ([`URFAVE_V3_STANDIN`]; CI
    /// cannot fetch the real one, and Debian 12 packages only v1 and v2): generic `FlagBase[T, C, VC]` flags,
    /// `func(context.Context, *cli.Command) error` actions.
    V3,
}

/// The version the stand-in urfave/cli v3 is published as (a pre-release, so it is never taken for the real one).
const URFAVE_V3_STANDIN_VERSION: &str = "v3.11.0-standin";

/// A STAND-IN for `github.com/urfave/cli/v3` (its API as of v3.11.0), faithful in exactly what bump's flag reader
/// relies on: the generic `FlagBase[T, C, VC]` with `Name`, `Aliases`, `Hidden` and `Value T`; the flag types as
/// v3 spells them, aliases of instantiations of it (so `%T` and the type's name say `FlagBase[…]`, never
/// `StringFlag`); `Flag` with `Names()`; `Command` with `Flags []Flag` and an `Action` of v3's signature. Nothing
/// else of v3 (parsing, help, sources) is here.
const URFAVE_V3_STANDIN: &str = r#"// Package cli is a STAND-IN for github.com/urfave/cli/v3, written by k3s-bump's offline test; not urfave's code.
package cli

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Flag is v3's flag interface (v3's has more methods; Names is the one read).
type Flag interface {
	fmt.Stringer
	Names() []string
}

// ActionFunc is v3's action signature.
type ActionFunc func(context.Context, *Command) error

// Command is v3's command (the fields k3s's pkg/cli/cmds sets).
type Command struct {
	Name      string
	Usage     string
	UsageText string
	Flags     []Flag
	Action    ActionFunc
}

// ValueCreator makes a flag's value (v3's also has Create).
type ValueCreator[T any, C any] interface {
	ToString(T) string
}

type NoConfig struct{}
type StringConfig struct{ TrimSpace bool }
type IntegerConfig struct{ Base int }
type BoolConfig struct{ Count *int }

// FlagBase is v3's one generic flag struct: T is the value's type.
type FlagBase[T any, C any, VC ValueCreator[T, C]] struct {
	Name        string
	Category    string
	Usage       string
	Required    bool
	Hidden      bool
	Value       T
	Destination *T
	Aliases     []string
	Config      C
}

func (f *FlagBase[T, C, VC]) String() string { return "--" + f.Name }

func (f *FlagBase[T, C, VC]) Names() []string { return FlagNames(f.Name, f.Aliases) }

// FlagNames is v3's: the name and the aliases, each cut at its first comma or space.
func FlagNames(name string, aliases []string) []string {
	var ret []string
	for _, part := range append([]string{name}, aliases...) {
		if i := strings.IndexAny(part, ", "); i >= 0 {
			part = part[:i]
		}
		ret = append(ret, part)
	}
	return ret
}

type stringValue struct{}

func (stringValue) ToString(v string) string { return v }

type boolValue struct{}

func (boolValue) ToString(v bool) string { return fmt.Sprint(v) }

type intValue[T int | int8 | int16 | int32 | int64] struct{}

func (intValue[T]) ToString(v T) string { return fmt.Sprint(v) }

type durationValue time.Duration

func (durationValue) ToString(v time.Duration) string { return v.String() }

type floatValue[T float32 | float64] struct{}

func (floatValue[T]) ToString(v T) string { return fmt.Sprint(v) }

// SliceBase is v3's value creator of slice flags.
type SliceBase[T any, C any, VC ValueCreator[T, C]] struct{}

func (SliceBase[T, C, VC]) ToString(v []T) string { return fmt.Sprint(v) }

type StringSlice = SliceBase[string, StringConfig, stringValue]

// The flag types, spelled as v3 spells them.
type (
	StringFlag      = FlagBase[string, StringConfig, stringValue]
	BoolFlag        = FlagBase[bool, BoolConfig, boolValue]
	IntFlag         = FlagBase[int, IntegerConfig, intValue[int]]
	Int64Flag       = FlagBase[int64, IntegerConfig, intValue[int64]]
	DurationFlag    = FlagBase[time.Duration, NoConfig, durationValue]
	StringSliceFlag = FlagBase[[]string, StringConfig, StringSlice]
	Float64Flag     = FlagBase[float64, NoConfig, floatValue[float64]]
)
"#;

/// The real urfave/cli (and what its go.mod requires) on the proxy. md2man and blackfriday are real (urfave/cli's
/// docs.go imports md2man); toml and yaml.v2 are needed only as .mod files (only urfave's altsrc, which nothing
/// here imports, uses them): stand-in .mod files holding their module line.
fn publish_urfave(proxy: &Path, cli: Cli) {
    if cli == Cli::V3 {
        // Generics: go 1.18 at least. No requirements (the real v3's are testify's, for its tests only).
        let gomod = "module github.com/urfave/cli/v3\n\ngo 1.18\n";
        let files = [("LICENSE".to_owned(), MIT.as_bytes().to_vec()), ("cli.go".into(), URFAVE_V3_STANDIN.into())];
        publish_raw(proxy, "github.com/urfave/cli/v3", URFAVE_V3_STANDIN_VERSION, Some(gomod), &files);
        return;
    }
    publish_debian(proxy, "github.com/russross/blackfriday/v2", "v2.1.0", "golang-github-russross-blackfriday-v2-dev");
    let (cli_module, cli_version, cli_pkg, md2man, yaml) = match cli {
        Cli::V1 => (
            "github.com/urfave/cli",
            "v1.22.9",
            "golang-github-urfave-cli-dev",
            "v2.0.0-20190314233015-f79a8a8ca69d",
            "v2.2.2",
        ),
        Cli::V2 => ("github.com/urfave/cli/v2", "v2.3.0", "golang-github-urfave-cli-v2-dev", "v2.0.1", "v2.2.3"),
        Cli::V3 => unreachable!("the stand-in is published above"),
    };
    publish_debian(proxy, cli_module, cli_version, cli_pkg);
    publish_debian(proxy, "github.com/cpuguy83/go-md2man/v2", md2man, "golang-github-cpuguy83-go-md2man-v2-dev");
    publish_raw(proxy, "github.com/BurntSushi/toml", "v0.3.1", None, &[]);
    publish_raw(proxy, "gopkg.in/yaml.v2", yaml, None, &[]);
}

/// The fake k3s's pkg/cli/cmds over urfave/cli `cli`, shaped as k3s's: shared config/debug flags, an agent and a
/// server command, a flag only under the recipe's `ctrd` build tag, `extra_server` appended to the server's flags.
fn fake_cmds(k: &Path, cli: Cli, extra_server: &str) {
    let names = |n: &str, a: &str| match cli {
        Cli::V1 => format!("Name: \"{n},{a}\""),
        Cli::V2 | Cli::V3 => format!("Name: \"{n}\", Aliases: []string{{\"{a}\"}}"),
    };
    let (import, ret, amp) = match cli {
        Cli::V1 => ("github.com/urfave/cli", "cli.Command", ""),
        Cli::V2 => ("github.com/urfave/cli/v2", "*cli.Command", "&"),
        Cli::V3 => ("github.com/urfave/cli/v3", "*cli.Command", "&"),
    };
    // v3's actions take a context and the command (v1/v2: a *cli.Context); v3 has no PathFlag.
    let (ctx_import, agent_action, server_action) = match cli {
        Cli::V1 | Cli::V2 => ("", "func(ctx *cli.Context) error", "func(*cli.Context) error"),
        Cli::V3 => ("\t\"context\"\n", "func(ctx context.Context, cmd *cli.Command) error", "cli.ActionFunc"),
    };
    let path_flag = if cli == Cli::V2 { "PathFlag" } else { "StringFlag" };
    let bool_t = if cli != Cli::V1 {
        "&cli.BoolFlag{Name: \"tls-san-security\", Value: true}"
    } else {
        "cli.BoolTFlag{Name: \"tls-san-security\"}"
    };
    write(
        &k.join("pkg/cli/cmds/config.go"),
        &format!(
            "package cmds\n\nimport \"{import}\"\n\n// Shared by both commands, as k3s's ConfigFlag and DebugFlag are.\nvar (\n\
             \tConfigFlag = &cli.StringFlag{{{}, Usage: \"(config) Load configuration from FILE\"}}\n\
             \tDebugFlag  = &cli.BoolFlag{{Name: \"debug\", Usage: \"(logging) Turn on debug logs\"}}\n)\n",
            names("config", "c")
        ),
    );
    write(
        &k.join("pkg/cli/cmds/agent.go"),
        &format!(
            "package cmds\n\nimport (\n{ctx_import}\t\"{import}\"\n)\n\nfunc NewAgentCommand(action {agent_action}) {ret} {{\n\
             \tflags := []cli.Flag{{\n\t\tConfigFlag,\n\t\tDebugFlag,\n\t\t&cli.StringFlag{{{}}},\n\
             \t\t&cli.StringSliceFlag{{Name: \"node-label\"}},\n\t\t&cli.IntFlag{{Name: \"lb-server-port\", Value: 6444}},\n\
             \t\t&cli.StringFlag{{Name: \"brand-new-flag\", Hidden: true}},\n\t}}\n\
             \treturn {amp}cli.Command{{Name: \"agent\", Action: action, Flags: append(flags, tagFlags...)}}\n}}\n",
            names("token", "t")
        ),
    );
    write(
        &k.join("pkg/cli/cmds/server.go"),
        &format!(
            "package cmds\n\nimport \"{import}\"\n\nvar ServerFlags = []cli.Flag{{\n\tConfigFlag,\n\tDebugFlag,\n\
             \t&cli.StringFlag{{{}}},\n\t&cli.StringSliceFlag{{Name: \"cluster-cidr\"}},\n\
             \t&cli.{path_flag}{{{}}},\n\t&cli.DurationFlag{{Name: \"etcd-s3-timeout\"}},\n\t{bool_t},\n\
             \t&cli.StringSliceFlag{{Name: \"disable\"}},\n\t{extra_server}\n}}\n\n\
             func NewServerCommand(action {server_action}) {ret} {{\n\
             \treturn {amp}cli.Command{{Name: \"server\", Action: action, Flags: ServerFlags}}\n}}\n",
            names("token", "t"),
            names("write-kubeconfig", "o")
        ),
    );
    // A flag defined only under one of the recipe's K3S_GO_TAGS: bump runs the package with those tags.
    write(
        &k.join("pkg/cli/cmds/tags_ctrd.go"),
        &format!(
            "//go:build ctrd\n\npackage cmds\n\nimport \"{import}\"\n\nvar tagFlags = []cli.Flag{{&cli.BoolFlag{{Name: \"ctrd-only\"}}}}\n"
        ),
    );
    write(
        &k.join("pkg/cli/cmds/tags_noctrd.go"),
        &format!("//go:build !ctrd\n\npackage cmds\n\nimport \"{import}\"\n\nvar tagFlags []cli.Flag\n"),
    );
}

/// What the fake k3s is made of.
#[derive(Debug, Clone, Copy)]
struct Fake {
    cli: Cli,
    /// Go source of one more element of the server's flag list (empty: none).
    extra_server: &'static str,
}

const FAKE: Fake = Fake { cli: Cli::V2, extra_server: "" };

/// Where a pin repository's release tag is (the branch bump must then name: one that contains it).
#[derive(Clone, Copy)]
enum TagOn {
    /// On main only.
    Main,
    /// On main, with a `release-X.Y` branch cut before the tag (it does not contain it).
    MainWithStaleRelease(&'static str),
    /// On a `release-X.Y` branch only; main went on without it.
    Release(&'static str),
}

fn tag_repo(dir: &Path, tag: &str, on: TagOn) -> String {
    std::fs::create_dir_all(dir).unwrap();
    run(dir, "git", &["init", "-q", "-b", "main"], &[]);
    write(&dir.join("README"), "base");
    run(dir, "git", &["add", "."], &[]);
    run(dir, "git", &["commit", "-q", "-m", "base"], &[]);
    match on {
        TagOn::Main => {}
        TagOn::MainWithStaleRelease(b) => run_unit(dir, &["branch", b]),
        TagOn::Release(b) => run_unit(dir, &["checkout", "-q", "-b", b]),
    }
    write(&dir.join("README"), tag);
    run(dir, "git", &["commit", "-q", "-am", "release"], &[]);
    run(dir, "git", &["tag", "-a", "-m", tag, tag], &[]);
    let commit = run(dir, "git", &["rev-parse", "HEAD"], &[]);
    if let TagOn::Release(_) = on {
        run_unit(dir, &["checkout", "-q", "main"]);
        run(dir, "git", &["commit", "-q", "--allow-empty", "-m", "main moves on"], &[]);
    }
    commit
}

fn run_unit(dir: &Path, args: &[&str]) {
    run(dir, "git", args, &[]);
}

struct World {
    _t: tempfile::TempDir,
    layer: PathBuf,
    opts: k3s_bump::Options,
    tag_commit: String,
    tip: String,
    runc_commit: String,
    chart_sha: String,
    kube_url: String,
    kube_commit: String,
}

/// Builds the fake k3s, its proxy, charts, pin repositories and a layer (spec, recipe, old facts) to bump.
fn world() -> World {
    world_with(FAKE)
}

fn world_with(fake: Fake) -> World {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("srv");
    let proxy = root.join("proxy");
    let base = serve(root.clone());
    publish(
        &proxy,
        "example.com/dep",
        "example.com/dep",
        "v1.0.0",
        &[("LICENSE", MIT), ("dep.go", "package dep\n\nfunc F() {}\n")],
    );
    publish(
        &proxy,
        "example.com/docs",
        "example.com/docs",
        "v1.0.0",
        &[("LICENSE", BSD3), ("docs.go", "package docs\n\nfunc G() {}\n")],
    );
    publish(
        &proxy,
        "github.com/opencontainers/runc",
        "github.com/opencontainers/runc",
        "v1.4.3",
        &[("LICENSE", APACHE), ("runc.go", "package runc\n")],
    );
    publish(
        &proxy,
        "github.com/containernetworking/plugins",
        "github.com/containernetworking/plugins",
        "v1.9.2",
        &[("LICENSE", APACHE), ("p.go", "package plugins\n")],
    );
    // The fork keeps upstream's module line, as k3s-io's forks do.
    publish(
        &proxy,
        "example.com/k3s-io/containerd/v2",
        "github.com/containerd/containerd/v2",
        "v2.0.0-k3s1",
        &[("LICENSE", APACHE), ("cmd/containerd-shim-runc-v2/main.go", "package main\n\nfunc main() {}\n")],
    );
    publish_urfave(&proxy, fake.cli);
    write(&root.join("charts/traefik/traefik-40.0.0+up40.0.0.tgz"), "chart");
    write(&root.join("charts/traefik-crd/traefik-crd-40.0.0+up40.0.0.tgz"), "crd");
    let chart_sha: String = sha2::Sha256::digest(b"chart").iter().map(|b| format!("{b:02x}")).collect();
    // The release's assets as k3s publishes them: one sha256sum-<arch>.txt each, and the image list.
    let rel = root.join("releases/v1.36.3+k3s1"); // the server decodes the URL's %2B
    for (i, a) in ["amd64", "arm64", "arm"].into_iter().enumerate() {
        let sums = format!("{}  k3s\n{}  k3s-airgap-images-{a}.tar.zst\n", "f".repeat(64), i.to_string().repeat(64));
        write(&rel.join(format!("sha256sum-{a}.txt")), &sums);
    }
    write(
        &rel.join("k3s-images.txt"),
        "docker.io/rancher/mirrored-pause:3.6\ndocker.io/rancher/klipper-helm:v0.9.11\n",
    );

    // The fake k3s.
    let k = t.path().join("k3s");
    std::fs::create_dir_all(&k).unwrap();
    run(&k, "git", &["init", "-q", "-b", "master"], &[]);
    write(&k.join("go.mod"), "module github.com/k3s-io/k3s\n\ngo 1.19\n");
    write(&k.join("cmd/server/main.go"), "package main\n\nfunc main() {}\n");
    for f in [
        "scripts/version.sh",
        "manifests/traefik.yaml",
        "pkg/cli/cmds/agent.go",
        "pkg/cli/cmds/server.go",
        "contrib/util/check-config.sh",
    ] {
        write(&k.join(f), "\n");
    }
    run(&k, "git", &["add", "."], &[]);
    run(&k, "git", &["commit", "-q", "-m", "v1.36.2"], &[]);
    run(&k, "git", &["tag", "v1.36.2+k3s1"], &[]);
    let old = run(&k, "git", &["rev-parse", "HEAD"], &[]);
    run(&k, "git", &["checkout", "-q", "-b", "release-1.36"], &[]);
    write(
        &k.join("go.mod"),
        "module github.com/k3s-io/k3s\n\ngo 1.19\n\nrequire (\n\texample.com/dep v1.0.0\n\texample.com/docs v1.0.0\n\
         \tgithub.com/containerd/containerd/v2 v2.0.0\n\tgithub.com/containernetworking/plugins v1.9.2\n\
         \tgithub.com/opencontainers/runc v1.4.3\n)\n\n\
         replace github.com/containerd/containerd/v2 => example.com/k3s-io/containerd/v2 v2.0.0-k3s1\n",
    );
    // go mod tidy adds urfave/cli (pkg/cli/cmds imports it) and what its go.mod requires.
    write(
        &k.join("cmd/server/main.go"),
        "package main\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"github.com/containernetworking/plugins\"\n\
         \t_ \"github.com/k3s-io/k3s/pkg/cli/cmds\"\n\t_ \"github.com/opencontainers/runc\"\n)\n\nfunc main() {}\n",
    );
    // Linked only without urfave_cli_no_docs (one of the recipe's K3S_GO_TAGS), as k3s's docs generator is.
    write(
        &k.join("cmd/server/docs.go"),
        "//go:build !urfave_cli_no_docs\n\npackage main\n\nimport _ \"example.com/docs\"\n",
    );
    // Keeps the shim's module in the graph (k3s imports containerd's packages the same way).
    write(
        &k.join("tools.go"),
        "//go:build tools\n\npackage tools\n\nimport _ \"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2\"\n",
    );
    write(
        &k.join("scripts/version.sh"),
        "#!/bin/bash\nVERSION_RUNC=$(get-module-version github.com/opencontainers/runc)\nVERSION_CNIPLUGINS=\"v1.9.2-k3s1\"\n\
         VERSION_FLANNEL_PLUGIN=\"v1.9.2-flannel1\"\nVERSION_HELM_JOB=\"v0.9.11-build20260601\"\n",
    );
    write(
        &k.join("manifests/traefik.yaml"),
        "spec:\n  chart: https://%{KUBERNETES_API}%/static/charts/traefik-40.0.0+up40.0.0.tgz\n---\nspec:\n  chart: https://%{KUBERNETES_API}%/static/charts/traefik-crd-40.0.0+up40.0.0.tgz\n",
    );
    fake_cmds(&k, fake.cli, fake.extra_server);
    write(
        &k.join("scripts/airgap/image-list.txt"),
        "docker.io/rancher/klipper-helm:v0.9.11\ndocker.io/rancher/mirrored-pause:3.6\n",
    );
    write(&k.join("contrib/util/check-config.sh"), "check_flags NAMESPACES NET_NS \\\n  PID_NS BRAND_NEW_OPTION\n");
    // A module only available from git, as k3s's k8s.io/* staging modules replaced to the k3s-io/kubernetes fork
    // (gomodgit facts with a subdir): no proxy has it, its directory has no LICENSE (the root's goes into the zip),
    // and it holds a nested module, a vendor directory and a symlink the go command's zip leaves out.
    let kube = t.path().join("repos/kubernetes.git");
    std::fs::create_dir_all(&kube).unwrap();
    run(&kube, "git", &["init", "-q", "-b", "master"], &[]);
    for (f, body) in [
        ("go.mod", "module k8s.io/kubernetes\n\ngo 1.19\n"),
        ("LICENSE", APACHE),
        ("staging/src/k8s.io/api/go.mod", "module k8s.io/api\n\ngo 1.19\n"),
        ("staging/src/k8s.io/api/api.go", "package api\n\nconst Version = \"v1\"\n"),
        ("staging/src/k8s.io/api/nested/go.mod", "module k8s.io/api/nested\n"),
        ("staging/src/k8s.io/api/nested/n.go", "package nested\n"),
        ("staging/src/k8s.io/api/vendor/example.org/v/v.go", "package v\n"),
    ] {
        write(&kube.join(f), body);
    }
    std::os::unix::fs::symlink("api.go", kube.join("staging/src/k8s.io/api/link.go")).unwrap();
    run(&kube, "git", &["add", "-A"], &[]);
    run(&kube, "git", &["commit", "-q", "-m", "v1.36.2-k3s1"], &[]);
    run(&kube, "git", &["tag", "-a", "-m", "api", "staging/src/k8s.io/api/v1.36.2-k3s1"], &[]);
    let kube_commit = run(&kube, "git", &["rev-parse", "HEAD"], &[]);
    let kube_url = format!("file://{}", kube.display());
    write(&k.join("cmd/server/kube.go"), "package main\n\nimport _ \"k8s.io/api\"\n");
    std::fs::OpenOptions::new()
        .append(true)
        .open(k.join("go.mod"))
        .unwrap()
        .write_all(
            b"\nrequire k8s.io/api v0.36.2\n\n\
              replace k8s.io/api => example.com/k3s-io/kubernetes.git/staging/src/k8s.io/api v1.36.2-k3s1\n",
        )
        .unwrap();
    // The go command fetches the VCS-qualified path with git itself (no go-get lookup); a temporary global git
    // configuration points https://example.com/k3s-io/ at the local repositories.
    let gitconfig = t.path().join("gitconfig");
    std::fs::write(
        &gitconfig,
        format!("[url \"file://{}/repos/\"]\n\tinsteadOf = https://example.com/k3s-io/\n", t.path().display()),
    )
    .unwrap();
    // go.sum as the go command writes it (GOFLAGS=-mod=mod: the real h1: hashes bump checks downloads against).
    let gocache = t.path().join("gomodcache-tidy");
    let goenv = vec![
        ("GOPROXY", format!("http://{base}/proxy")),
        ("GOSUMDB", "off".into()),
        ("GOFLAGS", "-mod=mod".into()),
        ("GOMODCACHE", gocache.display().to_string()),
        ("GOTOOLCHAIN", "local".into()),
        ("GOPRIVATE", String::new()),
    ];
    let mut goenv = goenv;
    goenv.push(("GOPROXY", format!("http://{base}/proxy,direct")));
    goenv.push(("GIT_CONFIG_GLOBAL", gitconfig.display().to_string()));
    goenv.push(("GIT_CONFIG_NOSYSTEM", "1".into()));
    run(&k, "go", &["mod", "tidy", "-e"], &goenv);
    let _ = Command::new("chmod").arg("-R").arg("u+w").arg(&gocache).status();
    run(&k, "git", &["add", "."], &[]);
    run(&k, "git", &["commit", "-q", "-m", "bump deps"], &[]);
    run(&k, "git", &["tag", "-a", "-m", "v1.36.3+k3s1", "v1.36.3+k3s1"], &[]);
    let tag_commit = run(&k, "git", &["rev-parse", "HEAD"], &[]);
    write(&k.join("after.txt"), "past the tag\n");
    run(&k, "git", &["add", "."], &[]);
    run(&k, "git", &["commit", "-q", "-m", "after the tag"], &[]);
    let tip = run(&k, "git", &["rev-parse", "HEAD"], &[]);

    // runc: a release-1.4 cut before the tag (the spec's branch too) — the old choice named it; cni: the tag on
    // release-1.9 only; flannel: on main.
    let runc_commit = tag_repo(&t.path().join("runc"), "v1.4.3", TagOn::MainWithStaleRelease("release-1.4"));
    tag_repo(&t.path().join("cni"), "v1.9.2", TagOn::Release("release-1.9"));
    tag_repo(&t.path().join("flannel"), "v1.9.2-flannel1", TagOn::Main);

    let layer = t.path().join("layer");
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for f in [k3s_bump::SPEC, k3s_bump::RECIPE, k3s_bump::UPSTREAM_FACTS, k3s_model::flags::facts::PATH] {
        std::fs::create_dir_all(layer.join(f).parent().unwrap()).unwrap();
        std::fs::copy(repo_root.join(f), layer.join(f)).unwrap();
    }
    let spec = std::fs::read_to_string(layer.join(k3s_bump::SPEC)).unwrap();
    let spec = spec.replace("commit: 2390b65e1ae38c786b150e6f4113b55d1c3a9492", &format!("commit: {old}"));
    std::fs::write(layer.join(k3s_bump::SPEC), spec).unwrap();
    write(
        &layer.join(k3s_bump::FACTS),
        "zip\texample.com/old\tv0.1.0\t0000000000000000000000000000000000000000000000000000000000000000\n",
    );

    let file = |p: &str| format!("file://{}", t.path().join(p).display());
    let opts = k3s_bump::Options {
        layer: layer.clone(),
        mirrors: [
            ("k3s", file("k3s")),
            ("runc", file("runc")),
            ("cni-plugins", file("cni")),
            ("flannel-cni-plugin", file("flannel")),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b))
        .collect(),
        chart_base: Some(format!("http://{base}/charts")),
        release_base: Some(format!("http://{base}/releases")),
        go: "go".into(),
        resolve: go_resolve::Options {
            goproxy: go_resolve::proxy::parse_goproxy(&format!("http://{base}/proxy,direct")).unwrap(),
            noproxy: vec![],
            insecure: vec![],
            repo_map: vec![("example.com/k3s-io/kubernetes.git".into(), kube_url.clone())],
            cache: t.path().join("cache"),
            jobs: 4,
            retries: 1,
            backoff: Duration::from_millis(10),
            licenses: true,
            progress: false,
            sums: Default::default(),
        },
        scratch: t.path().join("scratch"),
    };
    World { _t: t, layer, opts, tag_commit, tip, runc_commit, chart_sha, kube_url, kube_commit }
}

fn mv(p: &str, v: &str) -> ModuleVersion {
    ModuleVersion { path: p.into(), version: v.into() }
}

fn facts_of(p: &k3s_bump::Prepared) -> Facts {
    Facts::parse("new facts", std::str::from_utf8(&p.files[Path::new(k3s_bump::FACTS)]).unwrap()).unwrap()
}

#[test]
fn offline_bump_of_a_fake_k3s_reads_every_fact_from_its_source() {
    let w = world();
    assert_ne!(w.tag_commit, w.tip);
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let spec = std::str::from_utf8(&p.files[Path::new(k3s_bump::SPEC)]).unwrap();
    let get = |n: &str, k: &str| k3s_bump::spec_edit::get(spec, n, k);
    assert_eq!(get("k3s", "commit"), Some(w.tag_commit.clone()), "the tag's commit, never the branch tip");
    assert_eq!(get("k3s", "version").as_deref(), Some("v1.36.3+k3s1"), "a tagged commit is labelled by its tag");
    assert_eq!(get("k3s", "branch").as_deref(), Some("release-1.36"));
    assert_eq!(get("k3s", "tag"), None);
    assert_eq!(get("k3s", "commits-after-tag"), None);
    assert_eq!(get("k3s", "git").as_deref(), Some("https://github.com/k3s-io/k3s.git"), "a mirror is not recorded");
    assert_eq!(
        (get("runc", "version").as_deref(), get("runc", "commit")),
        (Some("v1.4.3"), Some(w.runc_commit.clone()))
    );
    assert_eq!(get("cni-plugins", "version").as_deref(), Some("v1.9.2"));
    assert_eq!(get("flannel-cni-plugin", "version").as_deref(), Some("v1.9.2-flannel1"));
    // Each branch contains its tag's commit (what BitBake's git fetcher requires of branch= and SRCREV).
    assert_eq!(get("runc", "branch").as_deref(), Some("main"), "release-1.4 exists but lacks the tag");
    assert_eq!(get("cni-plugins", "branch").as_deref(), Some("release-1.9"), "the tag is on release-1.9 only");
    assert_eq!(get("flannel-cni-plugin", "branch").as_deref(), Some("main"));

    let f = facts_of(&p);
    let lic = |m: &ModuleVersion| f.modules[m].licenses.values().map(|l| l.spdx.clone()).collect::<Vec<_>>();
    assert_eq!(lic(&mv("example.com/dep", "v1.0.0")), ["MIT"]);
    assert!(f.modules[&mv("example.com/k3s-io/containerd/v2", "v2.0.0-k3s1")].zip_sha256.is_some(), "the fork");
    assert_eq!(lic(&mv("example.com/k3s-io/containerd/v2", "v2.0.0-k3s1")), ["Apache-2.0"], "the shim links the fork");
    // The git-only module went through go list (served from a zip made from git) and is licensed by the root's
    // LICENSE, which the go command copies into a subdirectory module's zip.
    let api = &f.modules[&mv("example.com/k3s-io/kubernetes.git/staging/src/k8s.io/api", "v1.36.2-k3s1")];
    let g = api.git.as_ref().expect("a git fact");
    assert_eq!(
        (g.repo.as_str(), g.commit.as_str(), g.subdir.as_str()),
        (w.kube_url.as_str(), w.kube_commit.as_str(), "staging/src/k8s.io/api")
    );
    assert!(api.zip_sha256.is_none(), "no proxy has it");
    assert_eq!(api.licenses.values().map(|l| l.spdx.as_str()).collect::<Vec<_>>(), ["Apache-2.0"], "linked");
    let docs = &f.modules[&mv("example.com/docs", "v1.0.0")];
    assert!(docs.zip_sha256.is_some(), "in go.sum: fetched");
    assert!(docs.licenses.is_empty(), "reachable only without urfave_cli_no_docs: not linked, not licensed");
    assert!(!f.modules.contains_key(&mv("example.com/old", "v0.1.0")), "versions the new go.sum lacks are gone");

    let up = std::str::from_utf8(&p.files[Path::new(k3s_bump::UPSTREAM_FACTS)]).unwrap();
    // The chart records as gen reads them (k3s-upstream-facts, the reader `gen` renders k3s-charts.inc with).
    let parsed = k3s_upstream_facts::parse("new upstream facts", up).unwrap();
    let charts: Vec<(&str, &str)> = parsed.charts.iter().map(|c| (c.name.as_str(), c.version.as_str())).collect();
    assert_eq!(charts, [("traefik", "40.0.0+up40.0.0"), ("traefik-crd", "40.0.0+up40.0.0")]);
    assert_eq!(parsed.charts[0].sha256, w.chart_sha);
    assert_eq!(
        parsed.read_from.as_ref().map(|r| (r.tag.as_str(), r.commit.clone())),
        Some(("v1.36.3+k3s1", w.tag_commit.clone()))
    );
    assert!(parsed.provenance.contains("read by `k3s-bake bump k3s v1.36.3+k3s1`"), "{up}");
    assert!(
        p.summary.contains("  traefik: 39.0.501+up39.0.5 → 40.0.0+up40.0.0 (sha256 888de9d09876 → "),
        "old → new: {}",
        p.summary
    );
    assert!(up.contains("version.sh\tVERSION_HELM_JOB\tv0.9.11-build20260601"), "{up}");
    assert!(
        up.contains("containerd\tgithub.com/containerd/containerd/v2\texample.com/k3s-io/containerd/v2@v2.0.0-k3s1"),
        "{up}"
    );
    assert!(up.contains("check-config\tBRAND_NEW_OPTION"), "{up}");
    assert!(!up.contains("flag-"), "the flags have their own facts file: {up}");
    let air = std::str::from_utf8(&p.files[Path::new(k3s_bump::airgap::FACTS)]).unwrap();
    assert!(air.contains(&format!("k3s-commit\t{}\nimage-list\tcompared\t", w.tag_commit)), "{air}");
    assert!(
        air.contains(&format!(
            "archive\tarm\thttps://github.com/k3s-io/k3s/releases/download/v1.36.3%2Bk3s1/k3s-airgap-images-arm.tar.zst\t{}",
            "2".repeat(64)
        )),
        "the release's URL, not the mirror's: {air}"
    );
    let s = &p.summary;
    assert!(s.contains("\"BRAND_NEW_OPTION\""), "differences reported: {s}");
    assert!(s.contains("bump deps") && !s.contains("after the tag"), "shortlog old..tag: {s}");
    // urfave/cli v2 2.3.0 and md2man (MIT), blackfriday (BSD-2-Clause): pkg/cli/cmds is linked, as in k3s.
    assert!(s.contains("licences: added [\"Apache-2.0\", \"BSD-2-Clause\", \"MIT\"]"), "{s}");
    assert_eq!(lic(&mv("github.com/urfave/cli/v2", "v2.3.0")), ["MIT"]);
}

fn flags_of(p: &k3s_bump::Prepared) -> FlagFacts {
    let text = std::str::from_utf8(&p.files[Path::new(k3s_model::flags::facts::PATH)]).unwrap();
    FlagFacts::parse("new flag facts", text).unwrap()
}

fn names(f: &FlagFacts, cmd: Cmd) -> Vec<&str> {
    f.flags(cmd).iter().map(|f| f.name.as_str()).collect()
}

/// The flags of the fake k3s's pkg/cli/cmds (`fake_cmds`), in k3s's order, whatever urfave/cli it is written
/// against: the hidden flag added in the fake repo and the flag of the recipe's `ctrd` tag are there.
fn assert_fake_names(f: &FlagFacts) {
    let agent = ["config", "debug", "token", "node-label", "lb-server-port", "brand-new-flag", "ctrd-only"];
    assert_eq!(names(f, Cmd::Agent), agent);
    let server = [
        "config",
        "debug",
        "token",
        "cluster-cidr",
        "write-kubeconfig",
        "etcd-s3-timeout",
        "tls-san-security",
        "disable",
    ];
    assert_eq!(names(f, Cmd::Server), server);
}

/// The flags come from running the fake k3s's pkg/cli/cmds over the real urfave/cli v2 (Debian's 2.3.0).
#[test]
fn offline_bump_reads_the_flags_by_running_pkg_cli_cmds_over_real_urfave_cli_v2() {
    let w = world();
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let f = flags_of(&p);
    assert_fake_names(&f);
    let get = |cmd, n: &str| f.flags(cmd).iter().find(|x| x.name == n).unwrap().clone();
    assert_eq!(get(Cmd::Agent, "token").aliases, ["t"]);
    assert_eq!(get(Cmd::Agent, "config").aliases, ["c"]);
    assert_eq!((get(Cmd::Agent, "node-label").kind, get(Cmd::Agent, "lb-server-port").kind), (Kind::Slice, Kind::Int));
    assert_eq!(get(Cmd::Server, "write-kubeconfig").aliases, ["o"]);
    assert_eq!(get(Cmd::Server, "write-kubeconfig").kind, Kind::String, "a PathFlag is a string");
    assert_eq!(get(Cmd::Server, "etcd-s3-timeout").kind, Kind::Duration);
    assert_eq!(get(Cmd::Server, "tls-san-security").kind, Kind::Bool);
    // Neither command's own flags leak into the other.
    assert!(!names(&f, Cmd::Server).contains(&"brand-new-flag") && !names(&f, Cmd::Server).contains(&"node-label"));
    assert!(!names(&f, Cmd::Agent).contains(&"disable") && !names(&f, Cmd::Agent).contains(&"cluster-cidr"));
    let prov = f.provenance.join("\n");
    assert!(prov.contains(&format!("from k3s v1.36.3+k3s1 (commit {})", w.tag_commit)), "{prov}");
    assert!(prov.contains("urfave/cli github.com/urfave/cli/v2") && prov.contains("ctrd"), "{prov}");
    let s = &p.summary;
    assert!(s.contains("agent: 7 flags; added [\"brand-new-flag\", \"ctrd-only\"]; removed [\"v\", "), "{s}");
    assert!(s.contains("server: 8 flags; added []; removed [\"v\", "), "{s}");
    assert!(s.contains("changed []"), "same kinds and aliases as the committed facts: {s}");
}

/// The same over the real urfave/cli v1 (Debian's 1.22.9): `Name: "token,t"`, `cli.Command` values, BoolTFlag.
#[test]
fn offline_bump_reads_the_flags_of_a_k3s_on_real_urfave_cli_v1() {
    let w = world_with(Fake { cli: Cli::V1, ..FAKE });
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let f = flags_of(&p);
    assert_eq!(
        names(&f, Cmd::Agent),
        ["config", "debug", "token", "node-label", "lb-server-port", "brand-new-flag", "ctrd-only"]
    );
    let token = f.server.iter().find(|x| x.name == "token").unwrap();
    assert_eq!((token.aliases.as_slice(), token.kind), (&["t".to_owned()][..], Kind::String));
    assert_eq!(f.server.iter().find(|x| x.name == "tls-san-security").unwrap().kind, Kind::Bool, "BoolTFlag");
    assert!(f.provenance.join(" ").contains("urfave/cli github.com/urfave/cli,"), "{:?}", f.provenance);
    let l = facts_of(&p);
    assert!(
        l.modules[&mv("github.com/cpuguy83/go-md2man/v2", "v2.0.0-20190314233015-f79a8a8ca69d")].licenses.is_empty(),
        "v1's docs.go is dropped by urfave_cli_no_docs: md2man not linked"
    );
}

/// The same over a STAND-IN urfave/cli v3 ([`URFAVE_V3_STANDIN`]: the real v3 cannot be fetched here): every flag
/// type is a `FlagBase[…]`, so names, aliases and kinds come from `Names()` and the `Value` field's type.
#[test]
fn offline_bump_reads_the_flags_of_a_k3s_on_a_standin_urfave_cli_v3() {
    let w = world_with(Fake { cli: Cli::V3, ..FAKE });
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let f = flags_of(&p);
    assert_fake_names(&f);
    let get = |cmd, n: &str| f.flags(cmd).iter().find(|x| x.name == n).unwrap().clone();
    assert_eq!(
        (get(Cmd::Agent, "token").aliases, get(Cmd::Agent, "config").aliases),
        (vec!["t".into()], vec!["c".into()])
    );
    assert_eq!(get(Cmd::Server, "write-kubeconfig").aliases, ["o"]);
    let kinds: Vec<(&str, Kind)> = ["token", "debug", "node-label", "lb-server-port", "ctrd-only"]
        .into_iter()
        .map(|n| (n, get(Cmd::Agent, n).kind))
        .chain(["etcd-s3-timeout", "tls-san-security", "disable"].into_iter().map(|n| (n, get(Cmd::Server, n).kind)))
        .collect();
    assert_eq!(
        kinds,
        [
            ("token", Kind::String),
            ("debug", Kind::Bool),
            ("node-label", Kind::Slice),
            ("lb-server-port", Kind::Int),
            ("ctrd-only", Kind::Bool),
            ("etcd-s3-timeout", Kind::Duration),
            ("tls-san-security", Kind::Bool),
            ("disable", Kind::Slice)
        ]
    );
    let prov = f.provenance.join("\n");
    assert!(prov.contains("urfave/cli github.com/urfave/cli/v3,") && prov.contains("ctrd"), "{prov}");
    assert!(p.summary.contains("changed []"), "same kinds and aliases as the committed facts: {}", p.summary);
    let l = facts_of(&p);
    assert!(l.modules.contains_key(&mv("github.com/urfave/cli/v3", URFAVE_V3_STANDIN_VERSION)), "linked: in the facts");
}

/// Over the STAND-IN urfave/cli v3, a flag whose value bump has no Kind for (a float) stops the bump, naming the
/// flag and its value's Go type.
#[test]
fn offline_bump_refuses_a_flag_of_an_unknown_type_naming_it_over_a_standin_urfave_cli_v3() {
    let w = world_with(Fake { cli: Cli::V3, extra_server: "&cli.Float64Flag{Name: \"ratio\"}," });
    let e = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap_err().to_string();
    assert!(e.contains("k3s server flag \"ratio\": Go type *github.com/urfave/cli/v3.FlagBase[float64,"), "{e}");
    assert!(e.contains("with a Value of Go type float64"), "{e}");
    assert_eq!(std::fs::read_dir(&w.opts.scratch).map(|d| d.count()).unwrap_or(0), 0, "scratch cleaned up");
}

/// A flag of a Go type bump does not map to a Kind stops the bump, naming the flag and the type.
#[test]
fn offline_bump_refuses_a_flag_of_an_unknown_type_naming_it() {
    let w = world_with(Fake { extra_server: "&cli.Float64Flag{Name: \"ratio\"},", ..FAKE });
    let e = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap_err().to_string();
    assert!(e.contains("k3s server flag \"ratio\": Go type *github.com/urfave/cli/v2.Float64Flag"), "{e}");
    assert_eq!(std::fs::read_dir(&w.opts.scratch).map(|d| d.count()).unwrap_or(0), 0, "scratch cleaned up");
}

#[test]
fn offline_bump_licence_set_follows_the_recipe_build_tags() {
    let w = world();
    let recipe = w.layer.join(k3s_bump::RECIPE);
    let text = std::fs::read_to_string(&recipe).unwrap();
    std::fs::write(&recipe, text.replace(" urfave_cli_no_docs", "")).unwrap();
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let f = facts_of(&p);
    let docs = &f.modules[&mv("example.com/docs", "v1.0.0")];
    assert_eq!(docs.licenses.values().map(|l| l.spdx.as_str()).collect::<Vec<_>>(), ["BSD-3-Clause"]);
}

#[test]
fn offline_bump_refuses_a_tag_that_is_not_there_and_writes_nothing() {
    let w = world();
    let before = std::fs::read(w.layer.join(k3s_bump::SPEC)).unwrap();
    let e = k3s_bump::prepare(&w.opts, "v1.36.9+k3s1").unwrap_err().to_string();
    assert!(e.contains("no tag refs/tags/v1.36.9+k3s1"), "{e}");
    assert!(k3s_bump::prepare(&w.opts, "--upload-pack=x").is_err());
    assert_eq!(std::fs::read(w.layer.join(k3s_bump::SPEC)).unwrap(), before);
    assert_eq!(std::fs::read_dir(&w.opts.scratch).map(|d| d.count()).unwrap_or(0), 0, "scratch cleaned up");
    assert!(k3s_bump::check(&w.opts).unwrap().contains("v1.36.3+k3s1"));
}

#[test]
fn offline_bump_before_the_release_is_published_keeps_the_airgap_facts() {
    let mut w = world();
    let base = w.opts.release_base.clone().unwrap();
    w.opts.release_base = Some(format!("{base}/not-yet"));
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    assert!(!p.files.contains_key(Path::new(k3s_bump::airgap::FACTS)), "old facts kept (they skip the recipe)");
    assert!(p.summary.contains("has not published sha256sum-amd64.txt"), "{}", p.summary);
    // A release whose image list differs from the source's is recorded as not compared, with the difference.
    let list = w.layer.parent().unwrap().join("srv/releases/v1.36.3+k3s1/k3s-images.txt");
    std::fs::write(list, "docker.io/rancher/mirrored-pause:3.7\n").unwrap();
    w.opts.release_base = Some(base);
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let air = std::str::from_utf8(&p.files[Path::new(k3s_bump::airgap::FACTS)]).unwrap();
    assert!(air.contains("image-list\tnot-compared\tk3s-images.txt of release v1.36.3+k3s1 differs"), "{air}");
}

/// A chart version manifests/traefik.yaml names must be a plain chart version (SemVer 2) before it reaches a URL,
/// the facts or BitBake; and a bump needs the committed upstream facts (the old charts) to start from.
#[test]
fn offline_bump_refuses_a_chart_version_that_is_not_semver_and_a_missing_facts_file() {
    let w = world();
    let k = w.layer.parent().unwrap().join("k3s");
    write(
        &k.join("manifests/traefik.yaml"),
        "spec:\n  chart: https://%{KUBERNETES_API}%/static/charts/traefik-40.0.tgz\n",
    );
    run(&k, "git", &["commit", "-q", "-am", "odd chart"], &[]);
    run(&k, "git", &["tag", "-a", "-m", "v1.36.4+k3s1", "v1.36.4+k3s1"], &[]);
    let e = k3s_bump::prepare(&w.opts, "v1.36.4+k3s1").unwrap_err().to_string();
    assert!(e.contains("chart traefik: version \"40.0\" is not a plain chart version"), "{e}");
    std::fs::remove_file(w.layer.join(k3s_bump::UPSTREAM_FACTS)).unwrap();
    let e = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap_err().to_string();
    assert!(e.contains("reading") && e.contains("k3s-upstream-facts.tsv"), "{e}");
}

/// The committed facts already hold most of a real k3s's module versions, complete: resolve downloads nothing for
/// them, yet the offline go list needs each in the cache. A second bump from the facts the first one wrote, with an
/// empty resolve cache, must still pass; facts whose sha256 the proxy's zip does not match stop it, naming the module.
#[test]
fn offline_bump_from_complete_facts_with_an_empty_cache_and_facts_the_proxy_contradicts() {
    let mut w = world();
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let facts = p.files[Path::new(k3s_bump::FACTS)].clone();
    std::fs::write(w.layer.join(k3s_bump::FACTS), &facts).unwrap();
    w.opts.resolve.cache = w.layer.parent().unwrap().join("cache-2");
    let again = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    assert_eq!(again.files[Path::new(k3s_bump::FACTS)], facts, "the same facts from complete ones");

    let text = String::from_utf8(facts).unwrap();
    let line = text.lines().find(|l| l.starts_with("zip\texample.com/dep\tv1.0.0\t")).unwrap();
    let bad = format!("zip\texample.com/dep\tv1.0.0\t{}", "0".repeat(64));
    std::fs::write(w.layer.join(k3s_bump::FACTS), text.replace(line, &bad)).unwrap();
    w.opts.resolve.cache = w.layer.parent().unwrap().join("cache-3");
    let e = format!("{:?}", k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap_err());
    assert!(e.contains("example.com/dep@v1.0.0") && e.contains("the facts record 0000"), "{e}");
}

/// A pin whose version k3s still names is proven again: its branch must contain the tag's commit (a wrong one is
/// replaced by the branch that does), and a tag that names another commit than the spec pins stops the bump.
#[test]
fn offline_bump_proves_an_unchanged_pin_again() {
    let w = world();
    let cni = w.layer.parent().unwrap().join("cni");
    let commit = run(&cni, "git", &["rev-parse", "v1.9.2^{commit}"], &[]);
    let spec_path = w.layer.join(k3s_bump::SPEC);
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let pin = |branch: &str, commit: &str| {
        let u = k3s_bump::spec_edit::PinUpdate {
            version: "v1.9.2".into(),
            branch: branch.into(),
            commit: commit.into(),
            comment: "Set by the test.".into(),
        };
        std::fs::write(&spec_path, k3s_bump::spec_edit::set_pin(&spec, "cni-plugins", &u).unwrap()).unwrap();
    };
    // The version is unchanged, but main does not hold the tag (it is on release-1.9 only).
    pin("main", &commit);
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    let new = std::str::from_utf8(&p.files[Path::new(k3s_bump::SPEC)]).unwrap();
    assert_eq!(k3s_bump::spec_edit::get(new, "cni-plugins", "branch").as_deref(), Some("release-1.9"));
    assert_eq!(k3s_bump::spec_edit::get(new, "cni-plugins", "commit").as_deref(), Some(commit.as_str()));
    // Unchanged and on a branch that holds it: left as it is, and said so.
    pin("release-1.9", &commit);
    let p = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap();
    assert!(p.summary.contains("cni-plugins: v1.9.2 unchanged (its tag's commit, on release-1.9)"), "{}", p.summary);
    // The tag names another commit than the spec pins: moved upstream, or the spec edited by hand.
    pin("release-1.9", &"0".repeat(40));
    let e = k3s_bump::prepare(&w.opts, "v1.36.3+k3s1").unwrap_err().to_string();
    assert!(e.contains(&format!("cni-plugins: tag v1.9.2 in file://{} names {commit}", cni.display())), "{e}");
}
