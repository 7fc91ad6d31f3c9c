//! A synthetic workspace and cargo home on disk: virtual root, inheritance, every dependency kind, a proc-macro, a
//! Windows-only dependency, and `.crate` archives built by the test. Checks the crate list, what counts as linked,
//! license md5s, and that bad input names file and line.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use cargo_recipe::recipe::{Options, Sources, generate};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Builds `NAME-VERSION.crate` (gzip'd tar, cargo's layout) in the fake registry cache.
fn make_crate(home: &Path, name: &str, version: &str, manifest: &str, files: &[(&str, &str)]) {
    let dir = home.join("registry/cache/index.crates.io-0000000000000000");
    fs::create_dir_all(&dir).unwrap();
    let f = fs::File::create(dir.join(format!("{name}-{version}.crate"))).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::fast()));
    let mut add = |p: &str, body: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("{name}-{version}/{p}"), body.as_bytes()).unwrap();
    };
    add("Cargo.toml", manifest);
    for (p, body) in files {
        add(p, body);
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

fn pkg(name: &str, extra: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n{extra}")
}

fn locked(name: &str, deps: &[&str]) -> String {
    let deps = if deps.is_empty() {
        String::new()
    } else {
        format!("dependencies = [{}]\n", deps.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", "))
    };
    let sum: String = format!("{:x}", md5::compute(name)).repeat(2);
    format!(
        "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sum}\"\n{deps}"
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let home = dir.path().join("cargo-home");
    write(
        &ws.join("Cargo.toml"),
        r#"[workspace]
members = ["crates/*"]
resolver = "3"

[workspace.package]
version = "2.0.0"
license = "MIT OR Apache-2.0"
repository = "https://example.com/ws"

[workspace.dependencies]
liba = "1"
core-lib = { path = "crates/core-lib" }
"#,
    );
    write(&ws.join("LICENSE-MIT"), "ws mit\n");
    write(
        &ws.join("crates/app/Cargo.toml"),
        r#"[package]
name = "app"
version.workspace = true
edition = "2024"
license.workspace = true
repository.workspace = true
description = "The app"

[dependencies]
liba.workspace = true
core-lib = { workspace = true }
pm = "1"
renamed = { package = "winonly", version = "1" }

[build-dependencies]
buildy = "1"

[dev-dependencies]
devy = "1"
"#,
    );
    write(&ws.join("crates/app/src/main.rs"), "fn main() {}\n");
    write(
        &ws.join("crates/core-lib/Cargo.toml"),
        "[package]\nname = \"core-lib\"\nversion.workspace = true\nlicense.workspace = true\n",
    );
    write(&ws.join("crates/core-lib/src/lib.rs"), "");
    let mut lock = String::from("version = 4\n");
    lock += "\n[[package]]\nname = \"app\"\nversion = \"2.0.0\"\ndependencies = [\"buildy\", \"core-lib\", \"devy\", \"liba\", \"pm\", \"winonly\"]\n";
    lock += &locked("buildy", &[]);
    lock += "\n[[package]]\nname = \"core-lib\"\nversion = \"2.0.0\"\n";
    lock += &locked("devy", &[]);
    lock += &locked("liba", &["libb"]);
    lock += &locked("libb", &[]);
    lock += &locked("pm", &["pmdep"]);
    lock += &locked("pmdep", &[]);
    lock += &locked("winonly", &[]);
    write(&ws.join("Cargo.lock"), &lock);

    make_crate(
        &home,
        "liba",
        "1.0.0",
        &pkg("liba", "license = \"MIT\"\n[dependencies]\nlibb = \"1\"\n"),
        &[("LICENSE", "liba license\n")],
    );
    make_crate(&home, "libb", "1.0.0", &pkg("libb", "license = \"BSD-3-Clause AND Zlib\"\n"), &[]);
    make_crate(
        &home,
        "pm",
        "1.0.0",
        &pkg("pm", "license = \"MIT\"\n[lib]\nproc-macro = true\n[dependencies]\npmdep = \"1\"\n"),
        &[],
    );
    make_crate(&home, "winonly", "1.0.0", &pkg("winonly", "license = \"MIT\"\n"), &[]);
    for n in ["buildy", "devy", "pmdep"] {
        make_crate(&home, n, "1.0.0", &pkg(n, "license = \"GPL-3.0-only\"\n"), &[]);
    }
    Fixture { _dir: dir, ws, home }
}

fn opts(f: &Fixture) -> Options {
    Options {
        packages: vec!["app".into()],
        name: None,
        version: None,
        sources: Sources::Local { dir: "${THISDIR}/../ws".into() },
        requires: vec!["app.inc".into()],
        cargo_home: Some(f.home.clone()),
    }
}

#[test]
fn crate_list_covers_the_lockfile_and_licenses_only_what_is_linked() {
    let f = fixture();
    // `winonly` is only a dependency on Windows: rename it into a target table.
    let app = f.ws.join("crates/app/Cargo.toml");
    let text = fs::read_to_string(&app).unwrap().replace(
        "renamed = { package = \"winonly\", version = \"1\" }\n",
        "\n[target.'cfg(windows)'.dependencies]\nrenamed = { package = \"winonly\", version = \"1\" }\n",
    );
    // Keep [build-dependencies] after the target table valid TOML: move the target table to the end.
    let (head, target) = text.split_once("\n[target.'cfg(windows)'.dependencies]\n").unwrap();
    let (line, rest) = target.split_once('\n').unwrap();
    write(&app, &format!("{head}\n{rest}\n[target.'cfg(windows)'.dependencies]\n{line}\n"));

    let r = generate(&f.ws.join("Cargo.toml"), &opts(&f)).unwrap();
    assert_eq!((r.name.as_str(), r.version.as_str()), ("app", "2.0.0"));
    for n in ["buildy", "devy", "liba", "libb", "pm", "pmdep", "winonly"] {
        assert!(r.crates_inc.contains(&format!("crate://crates.io/{n}/1.0.0;name={n}-1.0.0 \\")), "{n}");
        assert!(r.crates_inc.contains(&format!("SRC_URI[{n}-1.0.0.sha256sum] = \"")), "{n}");
    }
    // Linked: liba (normal) and libb (its normal dependency). Not: build/dev deps, the proc-macro and its deps,
    // the Windows-only crate.
    assert!(r.licenses_inc.contains("LICENSE += \"& BSD-3-Clause & Zlib & MIT\""), "{}", r.licenses_inc);
    let liba_md5 = format!("{:x}", md5::compute("liba license\n"));
    assert!(r.licenses_inc.contains(&format!("file://../cargo_home/bitbake/liba-1.0.0/LICENSE;md5={liba_md5}")));
    // libb ships no text: its `license = …` line (line 5 of its Cargo.toml) is checksummed instead.
    let line_md5 = format!("{:x}", md5::compute("license = \"BSD-3-Clause AND Zlib\"\n"));
    assert!(r.licenses_inc.contains(&format!("libb-1.0.0/Cargo.toml;beginline=5;endline=5;md5={line_md5}")));
    for n in ["buildy", "devy", "pm-", "pmdep", "winonly"] {
        assert!(!r.licenses_inc.contains(&format!("bitbake/{n}")), "{n} is not linked:\n{}", r.licenses_inc);
    }
    // The recipe itself: inherited license (and the linked path member's), license text at the root.
    assert!(r.bb.contains("LICENSE = \"(MIT | Apache-2.0)\""), "{}", r.bb);
    assert!(r.bb.contains(&format!("file://LICENSE-MIT;md5={:x}", md5::compute("ws mit\n"))));
    assert!(r.bb.contains("HOMEPAGE = \"https://example.com/ws\""));
    assert!(r.bb.contains("CARGO_SRC_DIR = \"crates/app\""));
    assert!(r.bb.contains("file://crates/core-lib;subdir=${BP}"));
    assert!(r.bb.contains("FILESPATH:prepend := \"${THISDIR}/../ws:\""));
    assert!(r.bb.ends_with("require ${BPN}-licenses.inc\nrequire app.inc\n"));
    assert!(!r.bb.contains("CARGO_PROFILE_RELEASE_STRIP"));
}

#[test]
fn stripping_release_profile_is_undone_and_no_selection_builds_the_workspace() {
    let f = fixture();
    let root = f.ws.join("Cargo.toml");
    write(&root, &(fs::read_to_string(&root).unwrap() + "\n[profile.release]\nstrip = true\n"));
    let mut o = opts(&f);
    o.packages.clear();
    o.name = Some("ws".into());
    let r = generate(&root, &o).unwrap();
    assert!(r.bb.contains("export CARGO_PROFILE_RELEASE_STRIP = \"false\""), "{}", r.bb);
    assert!(r.bb.contains("CARGO_BUILD_FLAGS += \"--workspace\""), "{}", r.bb);
    assert!(r.bb.contains("CARGO_SRC_DIR = \"\""), "{}", r.bb);
}

#[test]
fn windows_only_dependency_is_linked_when_not_target_specific() {
    let f = fixture();
    let r = generate(&f.ws.join("Cargo.toml"), &opts(&f)).unwrap();
    assert!(r.licenses_inc.contains("bitbake/winonly-1.0.0/Cargo.toml"), "{}", r.licenses_inc);
}

#[test]
fn missing_crate_names_cargo_fetch() {
    let f = fixture();
    fs::remove_file(f.home.join("registry/cache/index.crates.io-0000000000000000/liba-1.0.0.crate")).unwrap();
    let e = generate(&f.ws.join("Cargo.toml"), &opts(&f)).unwrap_err().to_string();
    assert!(e.contains("liba 1.0.0") && e.contains("cargo fetch --locked"), "{e}");
}

#[test]
fn bad_inheritance_names_file_and_line() {
    let f = fixture();
    let root = f.ws.join("Cargo.toml");
    let text = fs::read_to_string(&root).unwrap().replace("version = \"2.0.0\"\n", "");
    write(&root, &text);
    let e = generate(&root, &opts(&f)).unwrap_err().to_string();
    // Members load in reverse directory order: core-lib (line 3: `version.workspace = true`) fails first.
    let member = f.ws.join("crates/core-lib/Cargo.toml");
    assert!(e.starts_with(&format!("{}:3: ", member.display())), "{e}");
    assert!(e.contains("workspace.package.version"), "{e}");
}

#[test]
fn bad_lockfile_names_the_package_line() {
    let f = fixture();
    let lock = f.ws.join("Cargo.lock");
    let text = fs::read_to_string(&lock).unwrap().replacen("checksum = \"", "checksum = \"zz", 1);
    write(&lock, &text);
    let e = generate(&f.ws.join("Cargo.toml"), &opts(&f)).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:8: package buildy 1.0.0: checksum", lock.display())), "{e}");
}

#[test]
fn unknown_package_lists_the_members() {
    let f = fixture();
    let mut o = opts(&f);
    o.packages = vec!["nope".into()];
    let e = generate(&f.ws.join("Cargo.toml"), &o).unwrap_err().to_string();
    assert_eq!(e, "no workspace member `nope` (members: app, core-lib)");
}
