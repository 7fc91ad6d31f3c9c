//! A synthetic workspace and cargo home on disk: virtual root, inheritance, every dependency kind, a proc-macro, a
//! Windows-only dependency, and `.crate` archives built by the test. Checks the crate list, what counts as linked,
//! license md5s, and that bad input names file and line.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use cargo_recipe::cache::Cache;
use cargo_recipe::recipe::{Options, Recipe, Sources, generate_with};
use cargo_recipe::resolve::Mode;

/// Every recipe here is generated with the linked set worked out by the resolver and checked against `cargo tree`
/// (which runs for real on the local registry the fixtures build).
fn generate(manifest: &Path, o: &Options) -> cargo_recipe::Result<Recipe> {
    generate_with(manifest, o, Mode::Verify)
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A registry dependency as the index records it: (name, req, kind, optional, default-features, features).
type IndexDep<'a> = (&'a str, &'a str, &'a str, bool, bool, &'a [&'a str]);

fn index_path(name: &str) -> String {
    match name.len() {
        1 | 2 => format!("{}/{name}", name.len()),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds `NAME-VERSION.crate` (gzip'd tar, cargo's layout) into the cargo home's registry cache (where the tool
/// reads licenses) and into a local registry with its index line (where cargo resolves from: the home's
/// config.toml replaces crates.io with it, so cargo runs offline on real data). Returns the archive's sha256.
fn make_crate(
    home: &Path,
    name: &str,
    version: &str,
    manifest: &str,
    files: &[(&str, &str)],
    deps: &[IndexDep],
    features: &str,
) -> String {
    let mut bytes = Vec::new();
    {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(&mut bytes, flate2::Compression::fast()));
        let mut add = |p: &str, body: &str| {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, format!("{name}-{version}/{p}"), body.as_bytes()).unwrap();
        };
        add("Cargo.toml", manifest);
        add("src/lib.rs", "");
        for (p, body) in files {
            add(p, body);
        }
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    }
    let cache = home.join("registry/cache/index.crates.io-0000000000000000");
    fs::create_dir_all(&cache).unwrap();
    fs::write(cache.join(format!("{name}-{version}.crate")), &bytes).unwrap();
    let reg = home.join("local-registry");
    fs::create_dir_all(&reg).unwrap();
    fs::write(reg.join(format!("{name}-{version}.crate")), &bytes).unwrap();
    let sum = sha256(&bytes);
    let deps: Vec<String> = deps
        .iter()
        .map(|(n, req, kind, optional, default, feats)| {
            let feats = feats.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",");
            format!(
                "{{\"name\":\"{n}\",\"req\":\"{req}\",\"features\":[{feats}],\"optional\":{optional},\"default_features\":{default},\"target\":null,\"kind\":\"{kind}\"}}"
            )
        })
        .collect();
    let line = format!(
        "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[{}],\"cksum\":\"{sum}\",\"features\":{{{features}}},\"yanked\":false}}\n",
        deps.join(",")
    );
    let idx = reg.join("index").join(index_path(name));
    fs::create_dir_all(idx.parent().unwrap()).unwrap();
    let mut f = fs::OpenOptions::new().create(true).append(true).open(idx).unwrap();
    f.write_all(line.as_bytes()).unwrap();
    write(
        &home.join("config.toml"),
        &format!(
            "[source.crates-io]\nreplace-with = \"test\"\n\n[source.test]\nlocal-registry = \"{}\"\n",
            reg.display()
        ),
    );
    sum
}

fn pkg(name: &str, extra: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n{extra}")
}

/// A registry `[[package]]` of Cargo.lock.
fn locked(name: &str, sum: &str, deps: &[&str]) -> String {
    let deps = if deps.is_empty() {
        String::new()
    } else {
        format!("dependencies = [{}]\n", deps.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", "))
    };
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
    const NONE: &[&str] = &[];
    let n = |name: &'static str| -> IndexDep<'static> { (name, "^1", "normal", false, true, NONE) };
    let mut sums = std::collections::BTreeMap::new();
    sums.insert(
        "liba",
        make_crate(
            &home,
            "liba",
            "1.0.0",
            &pkg("liba", "license = \"MIT\"\n[dependencies]\nlibb = \"1\"\n"),
            &[("LICENSE", "liba license\n")],
            &[n("libb")],
            "",
        ),
    );
    sums.insert(
        "libb",
        make_crate(&home, "libb", "1.0.0", &pkg("libb", "license = \"BSD-3-Clause AND Zlib\"\n"), &[], &[], ""),
    );
    sums.insert(
        "pm",
        make_crate(
            &home,
            "pm",
            "1.0.0",
            &pkg("pm", "license = \"MIT\"\n[lib]\nproc-macro = true\n[dependencies]\npmdep = \"1\"\n"),
            &[],
            &[n("pmdep")],
            "",
        ),
    );
    sums.insert("winonly", make_crate(&home, "winonly", "1.0.0", &pkg("winonly", "license = \"MIT\"\n"), &[], &[], ""));
    for name in ["buildy", "devy", "pmdep"] {
        sums.insert(name, make_crate(&home, name, "1.0.0", &pkg(name, "license = \"GPL-3.0-only\"\n"), &[], &[], ""));
    }
    let mut lock = String::from("version = 4\n");
    lock += "\n[[package]]\nname = \"app\"\nversion = \"2.0.0\"\ndependencies = [\"buildy\", \"core-lib\", \"devy\", \"liba\", \"pm\", \"winonly\"]\n";
    lock += &locked("buildy", &sums["buildy"], &[]);
    lock += "\n[[package]]\nname = \"core-lib\"\nversion = \"2.0.0\"\n";
    lock += &locked("devy", &sums["devy"], &[]);
    lock += &locked("liba", &sums["liba"], &["libb"]);
    lock += &locked("libb", &sums["libb"], &[]);
    lock += &locked("pm", &sums["pm"], &["pmdep"]);
    lock += &locked("pmdep", &sums["pmdep"], &[]);
    lock += &locked("winonly", &sums["winonly"], &[]);
    write(&ws.join("Cargo.lock"), &lock);
    Fixture { _dir: dir, ws, home }
}

fn opts(f: &Fixture) -> Options {
    Options {
        packages: vec!["app".into()],
        name: None,
        version: None,
        sources: Sources::Local { dir: "${THISDIR}/../ws".into(), subdir: String::new() },
        requires: vec!["app.inc".into()],
        cargo_home: Some(f.home.clone()),
        targets: vec!["x86_64-unknown-linux-gnu".into()],
        cache: Cache::disabled(),
        recipe_dir: None,
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
    assert!(r.licenses_inc.contains("LICENSE += \"& BSD-3-Clause & MIT & Zlib\""), "{}", r.licenses_inc);
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

/// Two members share `feat`; only `tool` asks for its default feature (which pulls `xtra`, ISC), and `app`'s
/// dev-dependency asks for `devonly` (which pulls `devxtra`, GPL-3.0). Cargo.lock (written by cargo itself) holds
/// both, since it is the union of everything; building `app` links neither.
fn feature_fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    feature_fixture_with("ISC", "MIT")
}

fn feature_fixture_with(xtra_license: &str, tool_license: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let home = dir.path().join("cargo-home");
    const NONE: &[&str] = &[];
    make_crate(
        &home,
        "feat",
        "1.0.0",
        &pkg(
            "feat",
            "license = \"MIT OR Apache-2.0\"\n[dependencies]\nxtra = { version = \"1\", optional = true }\n\
             devxtra = { version = \"1\", optional = true }\n[features]\ndefault = [\"extra\"]\n\
             extra = [\"dep:xtra\"]\ndevonly = [\"dep:devxtra\"]\n",
        ),
        &[("LICENSE-MIT", "feat mit\n")],
        &[("xtra", "^1", "normal", true, true, NONE), ("devxtra", "^1", "normal", true, true, NONE)],
        "\"default\":[\"extra\"],\"extra\":[\"dep:xtra\"],\"devonly\":[\"dep:devxtra\"]",
    );
    make_crate(
        &home,
        "xtra",
        "1.0.0",
        &pkg("xtra", &format!("license = \"{xtra_license}\"\n")),
        &[("LICENSE", "xtra license text\n")],
        &[],
        "",
    );
    make_crate(&home, "devxtra", "1.0.0", &pkg("devxtra", "license = \"GPL-3.0-only\"\n"), &[], &[], "");
    write(
        &ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n\n[workspace.package]\nlicense = \"MIT OR Apache-2.0\"\n",
    );
    write(
        &ws.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense.workspace = true\n\n\
         [dependencies]\nfeat = { version = \"1\", default-features = false }\n\n\
         [dev-dependencies]\nfeat = { version = \"1\", default-features = false, features = [\"devonly\"] }\n",
    );
    write(&ws.join("app/src/main.rs"), "fn main() {}\n");
    write(
        &ws.join("tool/Cargo.toml"),
        &format!(
            "[package]\nname = \"tool\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"{tool_license}\"\n\n\
             [dependencies]\nfeat = \"1\"\n"
        ),
    );
    write(&ws.join("tool/src/main.rs"), "fn main() {}\n");
    let st = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["generate-lockfile", "--offline", "--quiet"])
        .current_dir(&ws)
        .env("CARGO_HOME", &home)
        .status()
        .unwrap();
    assert!(st.success());
    (dir, ws, home)
}

fn feature_opts(home: &Path, package: &str) -> Options {
    Options {
        packages: vec![package.into()],
        name: None,
        version: None,
        sources: Sources::Local { dir: "${THISDIR}/../ws".into(), subdir: String::new() },
        requires: vec![],
        cargo_home: Some(home.to_owned()),
        targets: vec!["x86_64-unknown-linux-gnu".into(), "aarch64-unknown-linux-gnu".into()],
        cache: Cache::disabled(),
        recipe_dir: None,
    }
}

#[test]
fn licenses_follow_resolved_features_not_the_lockfile_union() {
    let (_d, ws, home) = feature_fixture();
    let lock = fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"xtra\"") && lock.contains("name = \"devxtra\""), "{lock}");
    let app = generate(&ws.join("Cargo.toml"), &feature_opts(&home, "app")).unwrap();
    assert!(app.licenses_inc.contains("bitbake/feat-1.0.0/LICENSE-MIT"), "{}", app.licenses_inc);
    for not in ["xtra-1.0.0", "ISC", "GPL-3.0"] {
        assert!(!app.licenses_inc.contains(not), "app does not link {not}:\n{}", app.licenses_inc);
    }
    // Every crate of Cargo.lock is still vendored: --frozen needs them all.
    assert!(app.crates_inc.contains("crate://crates.io/xtra/1.0.0") && app.crates_inc.contains("devxtra/1.0.0"));
    let tool = generate(&ws.join("Cargo.toml"), &feature_opts(&home, "tool")).unwrap();
    assert!(tool.licenses_inc.contains("bitbake/xtra-1.0.0/LICENSE") && tool.licenses_inc.contains("ISC"));
    assert!(!tool.licenses_inc.contains("GPL-3.0"), "{}", tool.licenses_inc);
}

#[test]
fn license_terms_are_not_repeated() {
    let (_d, ws, home) = feature_fixture();
    // feat is `MIT OR Apache-2.0`, the recipe's own license too (written the other way round here).
    let app_toml = ws.join("app/Cargo.toml");
    let text =
        fs::read_to_string(&app_toml).unwrap().replace("license.workspace = true", "license = \"Apache-2.0 OR MIT\"");
    write(&app_toml, &text);
    let app = generate(&ws.join("Cargo.toml"), &feature_opts(&home, "app")).unwrap();
    assert!(app.bb.contains("LICENSE = \"Apache-2.0 | MIT\""), "{}", app.bb);
    assert!(!app.licenses_inc.contains("LICENSE +="), "nothing new to add:\n{}", app.licenses_inc);
    let tool = generate(&ws.join("Cargo.toml"), &feature_opts(&home, "tool")).unwrap();
    let line = tool.licenses_inc.lines().find(|l| l.starts_with("LICENSE +=")).unwrap();
    assert_eq!(line, "LICENSE += \"& ISC & (MIT | Apache-2.0)\"");
}

#[test]
fn unknown_licenses_get_no_generic_license_at_a_checksummed_file() {
    let (_d, ws, home) = feature_fixture_with("LicenseRef-Acme-1.0", "LicenseRef-Foo-Unknown");
    let tool = generate(&ws.join("Cargo.toml"), &feature_opts(&home, "tool")).unwrap();
    // A dependency's: its first license file, which LIC_FILES_CHKSUM lists (license.bbclass copies it only then).
    let path = "../cargo_home/bitbake/xtra-1.0.0/LICENSE";
    assert!(
        tool.licenses_inc.contains(&format!("NO_GENERIC_LICENSE[LicenseRef-Acme-1.0] = \"{path}\"")),
        "{}",
        tool.licenses_inc
    );
    assert!(tool.licenses_inc.contains(&format!("file://{path};md5=")), "{}", tool.licenses_inc);
    // The recipe's own: tool ships no text, so its checksummed Cargo.toml line's file.
    assert!(tool.bb.contains("NO_GENERIC_LICENSE[LicenseRef-Foo-Unknown] = \"tool/Cargo.toml\""), "{}", tool.bb);
    assert!(tool.bb.contains("file://tool/Cargo.toml;beginline=5;endline=5;md5="), "{}", tool.bb);
    assert!(
        tool.warnings.iter().any(|w| w.contains("Foo-Unknown")) && tool.warnings.iter().any(|w| w.contains("Acme"))
    );
    // Names OE-Core has a text for never get one (license.bbclass: "please don't use NO_GENERIC_LICENSE").
    let (_d2, ws2, home2) = feature_fixture();
    let plain = generate(&ws2.join("Cargo.toml"), &feature_opts(&home2, "tool")).unwrap();
    assert!(!plain.licenses_inc.contains("NO_GENERIC_LICENSE") && !plain.bb.contains("NO_GENERIC_LICENSE"));
    // A word that is neither an SPDX id nor `LicenseRef-` in the recipe's own manifest is an error at its line
    // (the one vocabulary, oe-license, parses in the spdx crate's lax mode, which still refuses unknown ids).
    let (_d3, ws3, home3) = feature_fixture_with("MIT", "Foo-Unknown");
    let e = generate(&ws3.join("Cargo.toml"), &feature_opts(&home3, "tool")).unwrap_err().to_string();
    assert!(e.contains("tool/Cargo.toml:5") && e.contains("Foo-Unknown"), "{e}");
}

#[test]
fn cached_answers_equal_fresh_ones_and_damaged_entries_are_recomputed() {
    let (_d, ws, home) = feature_fixture();
    let cache_dir = tempfile::tempdir().unwrap();
    let mut o = feature_opts(&home, "tool");
    let fresh = generate(&ws.join("Cargo.toml"), &o).unwrap();
    o.cache = Cache::at(cache_dir.path());
    let first = generate(&ws.join("Cargo.toml"), &o).unwrap();
    let again = generate(&ws.join("Cargo.toml"), &o).unwrap();
    assert!(again.timings.iter().any(|(p, _)| p.contains("linked set (cached)")), "{:?}", again.timings);
    assert!(again.timings.iter().any(|(p, _)| p.contains("0 crates read")), "{:?}", again.timings);
    for r in [&first, &again] {
        assert_eq!((&r.bb, &r.crates_inc, &r.licenses_inc), (&fresh.bb, &fresh.crates_inc, &fresh.licenses_inc));
    }
    // Every entry damaged (a crash mid-write elsewhere, a disk error): misses, recomputed, same answer.
    let mut n = 0;
    for kind in fs::read_dir(cache_dir.path().join("cargo-recipe-v1")).unwrap() {
        for e in fs::read_dir(kind.unwrap().path()).unwrap() {
            let p = e.unwrap().path();
            let text = fs::read_to_string(&p).unwrap();
            fs::write(&p, &text[..text.len() / 2]).unwrap();
            n += 1;
        }
    }
    assert!(n >= 3, "linked set, one crate, the bundle: {n}");
    let healed = generate(&ws.join("Cargo.toml"), &o).unwrap();
    assert!(healed.timings.iter().any(|(p, _)| p.contains("linked set (resolved here")), "{:?}", healed.timings);
    assert_eq!(healed.licenses_inc, fresh.licenses_inc);
    let last = generate(&ws.join("Cargo.toml"), &o).unwrap();
    assert!(last.timings.iter().any(|(p, _)| p.contains("linked set (cached)")), "rewritten: {:?}", last.timings);
    // The linked set forgotten (as when a member's manifest is edited) and the archives gone: the crates'
    // manifests and license facts come from the cache.
    fs::remove_dir_all(cache_dir.path().join("cargo-recipe-v1/linked")).unwrap();
    fs::remove_dir_all(home.join("registry/cache")).unwrap();
    let offline = generate_with(&ws.join("Cargo.toml"), &o, Mode::Own).unwrap();
    assert!(offline.timings.iter().any(|(p, _)| p.contains("linked set (resolved here)")), "{:?}", offline.timings);
    assert_eq!(offline.licenses_inc, fresh.licenses_inc);
}

#[test]
fn target_triples_are_checked_before_anything_else() {
    let f = fixture();
    let mut o = opts(&f);
    o.targets = vec!["x86_64-unknown-linux-gnu\nLICENSE = \"CLOSED\"".into()];
    let e = generate(&f.ws.join("Cargo.toml"), &o).unwrap_err().to_string();
    assert!(e.starts_with("target `x86_64-unknown-linux-gnu\nLICENSE"), "{e}");
    o.targets.clear();
    assert!(generate(&f.ws.join("Cargo.toml"), &o).is_err());
}

/// What the caller passes (or the recipe directory expression) lands in BitBake lines: the one BitBake writer
/// refuses inline Python, quotes, backslashes and newlines there instead of writing them.
#[test]
fn hostile_recipe_inputs_are_refused_by_the_bitbake_writer() {
    let (_d, ws, home) = feature_fixture();
    for hostile in ["${@os.system(\"x\")}.inc", "a\"b.inc", "a\nb.inc", "a\\b.inc"] {
        let mut o = feature_opts(&home, "tool");
        o.requires = vec![hostile.into()];
        let e = generate(&ws.join("Cargo.toml"), &o).unwrap_err().to_string();
        assert!(e.starts_with("required file "), "{hostile:?}: {e}");
        let mut o = feature_opts(&home, "tool");
        o.sources = Sources::Local { dir: format!("${{THISDIR}}/{hostile}"), subdir: String::new() };
        let e = generate(&ws.join("Cargo.toml"), &o).unwrap_err().to_string();
        assert!(e.starts_with("value of FILESPATH:prepend "), "{hostile:?}: {e}");
    }
}

#[test]
fn an_out_directory_inside_a_member_is_refused_however_it_is_spelled() {
    let (_d, ws, home) = feature_fixture();
    // Not made yet, through `..`, and through a symlink to the workspace: all are inside member `tool`.
    let link = ws.parent().unwrap().join("ws-link");
    std::os::unix::fs::symlink(&ws, &link).unwrap();
    for out in [ws.join("tool/recipes"), ws.join("app/../tool/recipes"), link.join("tool/new/recipes")] {
        let opts = Options { recipe_dir: Some(out.clone()), ..feature_opts(&home, "app") };
        let e = generate(&ws.join("Cargo.toml"), &opts).unwrap_err().to_string();
        assert!(e.contains("is inside member tool"), "{}: {e}", out.display());
    }
    let opts = Options { recipe_dir: Some(ws.join("tool/../recipes")), ..feature_opts(&home, "app") };
    generate(&ws.join("Cargo.toml"), &opts).unwrap();
}
