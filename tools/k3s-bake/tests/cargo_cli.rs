//! `k3s-bake cargo` as a user meets it: real cargo (offline, an empty cargo home: the workspaces here have only
//! path dependencies) and real git, in temporary directories; each error says what to do and leaves nothing behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    _t: tempfile::TempDir,
    dir: PathBuf,
}

fn env() -> Env {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    fs::create_dir_all(dir.join("cargo-home")).unwrap();
    Env { _t: t, dir }
}

impl Env {
    fn bake(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_k3s-bake"))
            .arg("cargo")
            .args(args)
            .current_dir(cwd)
            .env("CARGO_HOME", self.dir.join("cargo-home"))
            .env("K3S_BAKE_CACHE_DIR", self.dir.join("cache"))
            // git must not read the developer's configuration, nor find a repository above the test directory.
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CEILING_DIRECTORIES", &self.dir)
            .output()
            .unwrap()
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn cargo(dir: &Path, args: &[&str]) {
    let st = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", dir.join("../cargo-home"))
        .status()
        .unwrap();
    assert!(st.success(), "cargo {args:?}");
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(["-c", "user.email=t@localhost", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

/// A virtual workspace `ws` with members `a` and `b` (b uses a), locked by cargo.
fn workspace(e: &Env, extra_a: &str) -> PathBuf {
    let ws = e.dir.join("ws");
    write(&ws.join("Cargo.toml"), "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n");
    write(&ws.join("LICENSE"), "the license\n");
    write(
        &ws.join("a/Cargo.toml"),
        &format!("[package]\nname = \"a\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n{extra_a}"),
    );
    write(&ws.join("a/src/lib.rs"), "");
    write(
        &ws.join("b/Cargo.toml"),
        "[package]\nname = \"b\"\nversion = \"2.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n\
         [dependencies]\na = { path = \"../a\" }\n",
    );
    write(&ws.join("b/src/main.rs"), "fn main() {}\n");
    cargo(&ws, &["generate-lockfile", "--offline", "--quiet"]);
    ws
}

#[test]
fn outside_git_the_error_names_the_flag_as_it_is_spelled_and_nothing_is_created() {
    let e = env();
    let ws = workspace(&e, "");
    let out = e.dir.join("layer/recipes-x/b");
    let o = e.bake(
        &e.dir,
        &["--manifest-path", ws.join("Cargo.toml").to_str().unwrap(), "-p", "b", "--out", out.to_str().unwrap()],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("is not in a git repository") && err.contains("pass --local-sources to"), "{err}");
    assert!(!err.contains("--local-sources VAR"), "the flag takes no value: {err}");
    assert!(!e.dir.join("layer").exists(), "an error leaves no directory behind");
}

#[test]
fn a_repository_without_origin_says_what_to_do_or_uses_the_manifest_repository() {
    let e = env();
    let ws = workspace(&e, "");
    git(&ws, &["init", "-q"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "ws"]);
    let out = e.dir.join("out");
    let o = e.bake(&ws, &["-p", "b", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    for hint in ["no remote `origin`", "git remote add origin", "`repository`", "--local-sources"] {
        assert!(err.contains(hint), "missing {hint}: {err}");
    }
    assert!(!out.exists());

    // With `repository` in the package's manifest, that is where the recipe fetches from.
    let b = ws.join("b/Cargo.toml");
    let text = fs::read_to_string(&b)
        .unwrap()
        .replace("license = \"MIT\"\n", "license = \"MIT\"\nrepository = \"https://example.com/ws.git\"\n");
    write(&b, &text);
    git(&ws, &["commit", "-qam", "repository"]);
    let o = e.bake(&ws, &["-p", "b", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("fetching from the package's repository https://example.com/ws.git"), "{}", stderr(&o));
    let bb = fs::read_to_string(out.join("b_2.0.0.bb")).unwrap();
    assert!(bb.contains("SRC_URI = \"git://example.com/ws.git;protocol=https;branch=main\""), "{bb}");
}

#[test]
fn an_out_of_date_lockfile_is_refused_before_anything_is_written() {
    let e = env();
    let ws = workspace(&e, "");
    // A manifest changed after Cargo.lock was written: --frozen would refuse to build it.
    let a = ws.join("a/Cargo.toml");
    write(&a, &fs::read_to_string(&a).unwrap().replace("1.0.0", "1.1.0"));
    let out = e.dir.join("layer/recipes-x/b");
    let o = e.bake(&ws, &["-p", "b", "--local-sources", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("Cargo.lock is out of date") && err.contains("cargo update --workspace"), "{err}");
    assert!(!e.dir.join("layer").exists(), "nothing is written for a lockfile --frozen cannot build");
}

#[test]
fn regenerate_lines_carry_no_absolute_path_and_rerun_from_the_recipe_directory() {
    let e = env();
    let ws = workspace(&e, "");
    let out = e.dir.join("layer/recipes-x/b");
    let o = e.bake(
        &e.dir,
        &[
            "--manifest-path",
            ws.join("Cargo.toml").to_str().unwrap(),
            "-p",
            "b",
            "--local-sources",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["b_2.0.0.bb", "b-crates.inc", "b-licenses.inc"] {
        let text = fs::read_to_string(out.join(f)).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "# Regenerate with (in this directory): k3s-bake cargo --manifest-path ../../../ws/Cargo.toml -p b \
             --local-sources --out ."
        );
        assert!(!text.contains(e.dir.to_str().unwrap()), "{f} names the test directory:\n{text}");
    }
    // The command as written, from the recipe's directory, finds the files current.
    let o = e.bake(
        &out,
        &["--manifest-path", "../../../ws/Cargo.toml", "-p", "b", "--local-sources", "--out", ".", "--check"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn local_sources_never_ship_the_recipe_directory_or_bitbake_files() {
    let e = env();
    // A root package, whose top-level entries are shipped one by one.
    let ws = e.dir.join("app");
    write(
        &ws.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    );
    write(&ws.join("src/main.rs"), "fn main() {}\n");
    write(&ws.join("README.md"), "app\n");
    write(&ws.join("old_0.0.1.bb"), "# a stray recipe\n");
    cargo(&ws, &["generate-lockfile", "--offline", "--quiet"]);
    // Twice: the second run sees the recipe directory the first one created.
    for _ in 0..2 {
        let o = e.bake(&ws, &["--local-sources", "--out", "meta-app/recipes-app/app"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let bb = fs::read_to_string(ws.join("meta-app/recipes-app/app/app_0.1.0.bb")).unwrap();
    assert!(bb.contains("file://src;subdir=${BP}") && bb.contains("file://README.md;subdir=${BP}"), "{bb}");
    assert!(!bb.contains("meta-app") && !bb.contains(".bb;"), "ships the recipe or a .bb:\n{bb}");
    // With the recipe in the root itself: neither the recipe nor its includes.
    fs::remove_dir_all(ws.join("meta-app")).unwrap();
    for _ in 0..2 {
        let o = e.bake(&ws, &["--local-sources", "--out", "."]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let bb = fs::read_to_string(ws.join("app_0.1.0.bb")).unwrap();
    assert!(!bb.contains("app-crates.inc;") && !bb.contains("app_0.1.0.bb;") && !bb.contains("meta-app"), "{bb}");

    // A recipe inside a member directory cannot be kept out of its file:// copy: refused, nothing written.
    let ws2 = workspace(&e, "");
    let o = e.bake(&ws2, &["-p", "b", "--local-sources", "--out", "b/recipe"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("inside member b"), "{}", stderr(&o));
    assert!(!ws2.join("b/recipe").exists());
}

#[test]
fn a_member_manifest_selects_that_member() {
    let e = env();
    let ws = workspace(&e, "");
    let out = e.dir.join("out");
    let o = e.bake(&ws, &["--manifest-path", "b/Cargo.toml", "--local-sources", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bb = fs::read_to_string(out.join("b_2.0.0.bb")).unwrap();
    assert!(bb.contains("CARGO_SRC_DIR = \"b\"") && !bb.contains("--workspace"), "{bb}");
    // The root manifest still means every member (they need --name: a virtual root names no recipe).
    let o = e.bake(&ws, &["--local-sources", "--name", "ws", "--version", "1", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fs::read_to_string(out.join("ws_1.bb")).unwrap().contains("CARGO_BUILD_FLAGS += \"--workspace\""));
}
