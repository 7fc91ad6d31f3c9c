//! `k3s-bake setup`, `build` and `qemu` against STAND-IN upstream repositories the tests make with git (named
//! `standin-*`: an openembedded-core with a stand-in oe-init-build-env and runqemu, a bitbake whose bin/bitbake
//! is a stand-in, a meta-openembedded with three layer directories). Real: git (clone, shallow fetch by commit,
//! checkout), the configuration writer, bash sourcing the env script, exit statuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use k3s_setup::layers::{LayerPin, Layers, Repo};
use k3s_setup::run::{Env, ImageDefaults};
use k3s_setup::setup::{self, Options};
use k3s_setup::{Error, machine};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write(path: &Path, text: &str, exec: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    if exec {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

const STANDIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standin");

/// A stand-in upstream repository on `branch` with two commits (`first`, `second`), tagged like a release.
struct Upstream {
    url: String,
    branch: String,
    first: String,
    second: String,
}

impl Upstream {
    fn pin(&self, second: bool) -> LayerPin {
        LayerPin {
            git: self.url.clone(),
            branch: self.branch.clone(),
            commit: if second { &self.second } else { &self.first }.clone(),
        }
    }
}

fn upstream(root: &Path, repo: Repo, branch: &str) -> Upstream {
    let dir = root.join(format!("standin-{}", repo.dir_name()));
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", branch]);
    match repo {
        Repo::OeCore => {
            std::fs::copy(Path::new(STANDIN).join("oe-init-build-env"), dir.join("oe-init-build-env")).unwrap();
            write(
                &dir.join("scripts/runqemu"),
                &std::fs::read_to_string(Path::new(STANDIN).join("runqemu")).unwrap(),
                true,
            );
            write(&dir.join("meta/conf/layer.conf"), "BBFILE_COLLECTIONS += \"core\"\n", false);
        }
        Repo::Bitbake => {
            write(
                &dir.join("bin/bitbake"),
                &std::fs::read_to_string(Path::new(STANDIN).join("bitbake")).unwrap(),
                true,
            );
        }
        Repo::MetaOpenembedded => {
            for l in repo.layer_dirs() {
                write(&dir.join(l).join("conf/layer.conf"), &format!("# stand-in {l}\n"), false);
            }
        }
    }
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "stand-in release"]);
    let first = git(&dir, &["rev-parse", "HEAD"]);
    git(&dir, &["tag", "yocto-standin-1"]);
    write(&dir.join("NEWS"), "second\n", false);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "stand-in next"]);
    let second = git(&dir, &["rev-parse", "HEAD"]);
    Upstream { url: format!("file://{}", dir.display()), branch: branch.into(), first, second }
}

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    layer: PathBuf,
    ups: [Upstream; 3],
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    let layer = root.join("meta-k3s-rs");
    write(&layer.join("conf/layer.conf"), "BBFILE_COLLECTIONS += \"k3s-rs\"\n", false);
    let ups = [
        upstream(&root, Repo::OeCore, "wrynose"),
        upstream(&root, Repo::Bitbake, "2.18"),
        upstream(&root, Repo::MetaOpenembedded, "wrynose"),
    ];
    World { _tmp: tmp, root, layer, ups }
}

impl World {
    fn layers(&self, second: bool) -> Layers {
        Layers {
            release: "wrynose".into(),
            oe_core: self.ups[0].pin(second),
            bitbake: self.ups[1].pin(second),
            meta_openembedded: self.ups[2].pin(second),
        }
    }
    fn opts(&self, dir: &str) -> Options {
        Options {
            dir: self.root.join(dir),
            layer_root: self.layer.clone(),
            layers: self.layers(false),
            release: None,
            machine: machine::find("qemuarm64").unwrap(),
            networking: false,
            downloads: None,
            sstate_dir: None,
            sstate_mirror: None,
            hashserv: None,
            offline: false,
        }
    }
}

fn apply(opts: &Options) -> (Result<setup::Report, Error>, String) {
    let mut out = Vec::new();
    let r = setup::plan(opts).and_then(|p| setup::apply(&p, &mut out));
    (r, String::from_utf8(out).unwrap())
}

#[test]
fn setup_from_nothing_against_standin_upstreams_is_shallow_and_idempotent() {
    let w = world();
    let mut opts = w.opts("s");
    opts.networking = true;
    opts.sstate_mirror = Some("https://sstate.example/wrynose".into());
    opts.hashserv = Some("hashserv.example:8686".into());
    let (r, out) = apply(&opts);
    let report = r.unwrap();
    assert_eq!(report.changed.len(), 5, "{out}");
    let dir = w.root.join("s");
    for (i, repo) in [Repo::OeCore, Repo::Bitbake, Repo::MetaOpenembedded].into_iter().enumerate() {
        let clone = setup::repo_dir(&dir, repo);
        assert_eq!(git(&clone, &["rev-parse", "HEAD"]), w.ups[i].first, "{repo:?}");
        assert_eq!(git(&clone, &["rev-parse", "--is-shallow-repository"]), "true", "{repo:?} fetched with --depth 1");
    }
    let local = std::fs::read_to_string(dir.join("build/conf/local.conf")).unwrap();
    assert!(local.lines().any(|l| l == "require conf/distro/include/k3s.inc"), "{local}");
    assert!(local.contains(&format!("DL_DIR ?= \"{}/downloads\"", dir.display())), "{local}");
    assert!(
        local.contains("SSTATE_MIRRORS ?= \"file://.* https://sstate.example/wrynose/PATH;downloadfilename=PATH\""),
        "{local}"
    );
    assert!(local.contains("BB_HASHSERVE = \"hashserv.example:8686\""), "{local}");
    assert!(local.contains("MACHINE ?= \"qemuarm64\""), "{local}");
    let bblayers = std::fs::read_to_string(dir.join("build/conf/bblayers.conf")).unwrap();
    let layer = std::fs::canonicalize(&w.layer).unwrap();
    for l in [
        "openembedded-core/meta",
        "meta-openembedded/meta-oe",
        "meta-openembedded/meta-python",
        "meta-openembedded/meta-networking",
    ] {
        assert!(bblayers.contains(&format!("{}/layers/{l} \\", dir.display())), "{l}: {bblayers}");
    }
    assert!(bblayers.contains(&format!("  {} \\", layer.display())), "{bblayers}");

    assert!(!local.contains("BB_HASHSERVE_DB_DIR"), "a remote server keeps its own database: {local}");
    // Without --hashserv the local database sits next to SSTATE_DIR, and a mirror alone is warned about.
    let mut alone = opts.clone();
    alone.hashserv = None;
    let plan = setup::plan(&alone).unwrap();
    assert!(plan.local_conf.contains("BB_HASHSERVE_DB_DIR ?= \"${SSTATE_DIR}\"\n"), "{}", plan.local_conf);
    assert!(plan.warnings[0].starts_with("--sstate-mirror without --hashserv"), "{:?}", plan.warnings);

    let before = std::fs::metadata(dir.join("build/conf/local.conf")).unwrap().modified().unwrap();
    let (r, out) = apply(&opts);
    assert!(r.unwrap().changed.is_empty(), "{out}");
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(std::fs::metadata(dir.join("build/conf/local.conf")).unwrap().modified().unwrap(), before);
}

#[test]
fn offline_reuses_what_is_there_and_names_what_is_missing() {
    let w = world();
    let (r, _) = apply(&w.opts("s"));
    r.unwrap();
    let mut offline = w.opts("s");
    offline.offline = true;
    let (r, out) = apply(&offline);
    assert!(r.unwrap().changed.is_empty(), "{out}");
    // meta-openembedded was never cloned: offline names it (and only it).
    offline.networking = true;
    let (r, _) = apply(&offline);
    match r {
        Err(Error::Missing(m)) => {
            assert_eq!(m.len(), 1, "{m:?}");
            assert!(m[0].contains("meta-openembedded") && m[0].contains(&w.ups[2].first), "{m:?}");
        }
        other => panic!("{other:?}"),
    }
    // From nothing, offline: every repository named, nothing written.
    let mut fresh = w.opts("fresh");
    fresh.offline = true;
    let (r, _) = apply(&fresh);
    let err = r.unwrap_err().to_string();
    assert!(err.contains("openembedded-core") && err.contains("bitbake"), "{err}");
    assert!(!w.root.join("fresh/build/conf").exists());
    // A pin the clone does not hold, offline: named with where the clone is.
    offline.networking = false;
    offline.layers = w.layers(true);
    let err = apply(&offline).0.unwrap_err().to_string();
    assert!(err.contains(&w.ups[0].second) && err.contains("it is at"), "{err}");
}

#[test]
fn a_moved_pin_updates_the_clone() {
    let w = world();
    apply(&w.opts("s")).0.unwrap();
    let mut next = w.opts("s");
    next.layers = w.layers(true);
    let (r, out) = apply(&next);
    assert_eq!(r.unwrap().changed, ["updated openembedded-core", "updated bitbake"], "{out}");
    assert_eq!(git(&w.root.join("s/layers/bitbake"), &["rev-parse", "HEAD"]), w.ups[1].second);
}

#[test]
fn hostile_inputs_are_refused_before_anything_is_written() {
    let w = world();
    type Change = Box<dyn Fn(&mut Options)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|o: &mut Options| o.dir = o.dir.join("my build")), "--dir"),
        (Box::new(|o: &mut Options| o.dir = o.dir.join("it's")), "--dir"),
        (Box::new(|o: &mut Options| o.dir = o.dir.join("a\"b")), "--dir"),
        (Box::new(|o: &mut Options| o.sstate_mirror = Some("https://m/\" \nINHERIT += \"x".into())), "--sstate-mirror"),
        (Box::new(|o: &mut Options| o.sstate_mirror = Some("https://m/${@os.system('id')}".into())), "--sstate-mirror"),
        (Box::new(|o: &mut Options| o.hashserv = Some("${@x}:8686".into())), "--hashserv"),
        (Box::new(|o: &mut Options| o.downloads = Some("/srv/dl dir".into())), "--downloads"),
        (Box::new(|o: &mut Options| o.release = Some("scarthgap".into())), "--release"),
    ];
    for (i, (change, what)) in cases.iter().enumerate() {
        let mut o = w.opts(&format!("h{i}"));
        change(&mut o);
        let err = apply(&o).0.unwrap_err().to_string();
        assert!(err.starts_with(what), "case {i}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(&w.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('h'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_local_conf_not_written_by_setup_is_left_alone() {
    let w = world();
    let conf = w.root.join("s/build/conf/local.conf");
    write(&conf, "MACHINE = \"mine\"\n", false);
    let err = apply(&w.opts("s")).0.unwrap_err().to_string();
    assert!(err.contains("was not written by `k3s-bake setup`"), "{err}");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "MACHINE = \"mine\"\n");
    assert!(!w.root.join("s/layers").exists(), "nothing cloned before the refusal");
}

#[test]
fn a_failed_clone_leaves_nothing_behind() {
    let w = world();
    let mut o = w.opts("s");
    o.layers.bitbake.commit = "0123456789abcdef0123456789abcdef01234567".into();
    let err = apply(&o).0.unwrap_err().to_string();
    assert!(err.contains("git fetch"), "{err}");
    let layers: Vec<_> = std::fs::read_dir(w.root.join("s/layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(layers, ["openembedded-core"], "no partial bitbake clone");
}

fn log(w: &World) -> String {
    std::fs::read_to_string(w.root.join("s/build/standin.log")).unwrap_or_default()
}

#[test]
fn build_runs_standin_bitbake_in_the_setup_environment_and_passes_its_status() {
    let w = world();
    apply(&w.opts("s")).0.unwrap();
    let env = Env::open(&w.root.join("s")).unwrap();
    let mut out = Vec::new();
    assert_eq!(k3s_setup::run::build(&env, "core-image-k3s", &mut out).unwrap(), 0);
    let out = String::from_utf8(out).unwrap();
    let build = w.root.join("s/build");
    assert!(
        out.contains(&format!("{}/tmp/deploy/images/qemuarm64/core-image-k3s-qemuarm64.rootfs.ext4", build.display())),
        "{out}"
    );
    let log = log(&w);
    let lines: Vec<_> = log.lines().collect();
    assert_eq!(lines[0], format!("bitbake core-image-k3s | cwd={b} BUILDDIR={b}", b = build.display()), "{log}");
    assert!(lines[1].starts_with("bitbake -e core-image-k3s |"), "{log}");
    assert!(std::fs::read_to_string(build.join("k3s-bake-build.log")).unwrap().contains("Running task 2 of 2"));

    std::fs::write(build.join("standin.exit"), "42").unwrap();
    let mut out = Vec::new();
    assert_eq!(k3s_setup::run::build(&env, "core-image-k3s", &mut out).unwrap(), 42);
    assert!(String::from_utf8(out).unwrap().contains("failed (exit status 42)"));
}

#[test]
fn an_image_argument_reaches_bitbake_as_one_argument_never_as_shell() {
    let w = world();
    apply(&w.opts("s")).0.unwrap();
    let env = Env::open(&w.root.join("s")).unwrap();
    assert!(k3s_setup::run::build(&env, "x; touch /tmp/pwned", &mut Vec::new()).is_err());
    // Arguments go through the fixed script as argv: a value with shell syntax arrives byte for byte.
    let out = env.cmd("bitbake", &["-e".into(), "$(id) `id` \"q\"".into()]).stdout_capture().run().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("MACHINE=\"qemuarm64\""));
    assert!(log(&w).starts_with("bitbake -e \\$\\(id\\)\\ \\`id\\`\\ \\\"q\\\" |"), "{}", log(&w));
}

#[test]
fn qemu_runs_standin_runqemu_with_the_image_defaults_and_passes_its_status() {
    let w = world();
    apply(&w.opts("s")).0.unwrap();
    let env = Env::open(&w.root.join("s")).unwrap();
    let d = ImageDefaults { memory_mb: 1024, rootfs_extra_space_kb: 1048576 };
    let err = k3s_setup::run::qemu(&env, "core-image-k3s-agent", d, false, &mut Vec::new()).unwrap_err().to_string();
    assert!(err.contains("build the image first"), "{err}");
    k3s_setup::run::build(&env, "core-image-k3s-agent", &mut Vec::new()).unwrap();
    let build = w.root.join("s/build");
    std::fs::write(build.join("standin.qbmem"), "-m 1024").unwrap();
    std::fs::write(build.join("standin.extraspace"), "0").unwrap();
    std::fs::write(build.join("standin.exit"), "3").unwrap();
    let mut err = Vec::new();
    assert_eq!(k3s_setup::run::qemu(&env, "core-image-k3s-agent", d, false, &mut err).unwrap(), 3);
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("warning: core-image-k3s-agent boots with 1024 MiB"), "{err}");
    assert!(err.contains("no room for container images"), "{err}");
    let last = log(&w).lines().last().unwrap().to_owned();
    assert_eq!(
        last,
        format!("runqemu qemuarm64 core-image-k3s-agent nographic slirp | cwd={b} BUILDDIR={b}", b = build.display())
    );
}
