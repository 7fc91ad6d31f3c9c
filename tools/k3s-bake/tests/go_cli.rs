//! `k3s-bake go import|render` as a user runs them: files in, files out, errors naming what is wrong.

use std::path::Path;
use std::process::{Command, Output};

const SHA: &str = "c895c6fe62f9a4ab59c3e780be29059e3ed71a80e12e36ac61708fd906bc0039";
const H: &str = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

fn bake(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_k3s-bake")).arg("--root").arg(dir).arg("go").args(args).output().unwrap()
}

#[test]
fn import_then_render_and_refuse_incomplete_input() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let p = |n: &str| d.join(n).display().to_string();
    std::fs::write(d.join("zips.tsv"), format!("module\tversion\tzip_sha256\nexample.com/a\tv1.0.0\t{SHA}\n")).unwrap();
    std::fs::write(
        d.join("other-go-mods.inc"),
        format!("SRC_URI += \"gomod://example.com/b;version=v0.1.0;mod=1;sha256sum={SHA}\"\n"),
    )
    .unwrap();
    let o = bake(d, &["import", "--facts", &p("facts.tsv"), &p("zips.tsv"), &p("other-go-mods.inc")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let facts = std::fs::read_to_string(d.join("facts.tsv")).unwrap();
    assert!(
        facts.contains(&format!("zip\texample.com/a\tv1.0.0\t{SHA}\n"))
            && facts.contains("mod\texample.com/b\tv0.1.0\t")
    );

    std::fs::write(d.join("go.mod"), "module example.com/app\n\ngo 1.19\n\nrequire example.com/a v1.0.0\n").unwrap();
    std::fs::write(
        d.join("go.sum"),
        format!("example.com/a v1.0.0 {H}\nexample.com/a v1.0.0/go.mod {H}\nexample.com/b v0.1.0/go.mod {H}\n"),
    )
    .unwrap();
    let render = |sum: &str| {
        bake(
            d,
            &[
                "render",
                "--facts",
                &p("facts.tsv"),
                "--decisions",
                &p("none.tsv"),
                "--go-mod",
                &p("go.mod"),
                "--go-sum",
                sum,
                "--go-mods",
                &p("x-go-mods.inc"),
                "--licenses",
                &p("x-licenses.inc"),
            ],
        )
    };
    // A missing decisions file is an error, not "no decisions" (an empty one is fine).
    let o = render(&p("go.sum"));
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("none.tsv"));
    assert!(!d.join("x-go-mods.inc").exists());
    std::fs::write(d.join("none.tsv"), "").unwrap();
    let o = render(&p("go.sum"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let inc = std::fs::read_to_string(d.join("x-go-mods.inc")).unwrap();
    assert!(
        inc.contains("gomod://example.com/b;version=v0.1.0;mod=1;")
            && inc.contains("gomod://example.com/a;version=v1.0.0;sha256sum=")
    );

    // A go.sum naming versions without facts: every one is listed, and no file is touched.
    std::fs::remove_file(d.join("x-go-mods.inc")).unwrap();
    std::fs::write(
        d.join("more.sum"),
        format!("example.com/a v1.0.0 {H}\nexample.com/c v1.0.0 {H}\nexample.com/e v2.0.0+incompatible {H}\n"),
    )
    .unwrap();
    let o = render(&p("more.sum"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("missing facts for 2 module version(s)")
            && err.contains("example.com/c@v1.0.0")
            && err.contains("example.com/e@v2.0.0+incompatible"),
        "{err}"
    );
    assert!(!d.join("x-go-mods.inc").exists(), "no partial output");

    // A go.sum that does not cover go.mod's requirements is stale.
    std::fs::write(d.join("stale.sum"), format!("example.com/b v0.1.0/go.mod {H}\n")).unwrap();
    let err = String::from_utf8_lossy(&render(&p("stale.sum")).stderr).into_owned();
    assert!(err.contains("does not list (run `go mod tidy`)") && err.contains("example.com/a@v1.0.0"), "{err}");

    // `go render --facts typo.tsv` used to write empty includes and exit 0.
    let o = bake(
        d,
        &[
            "render",
            "--facts",
            &p("typo.tsv"),
            "--decisions",
            &p("none.tsv"),
            "--go-mods",
            &p("t.inc"),
            "--licenses",
            &p("tl.inc"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(&format!("reading {}", p("typo.tsv"))), "{err}");
    assert!(!d.join("t.inc").exists() && !d.join("tl.inc").exists(), "no include written from a missing facts file");

    // Bad input names file and line.
    std::fs::write(d.join("bad.sum"), "example.com/a v1.0.0\n").unwrap();
    let err = String::from_utf8_lossy(&render(&p("bad.sum")).stderr).into_owned();
    assert!(err.contains("bad.sum:1: expected 3 fields"), "{err}");
}
