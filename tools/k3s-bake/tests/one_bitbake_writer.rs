//! Invariant: every generator writes BitBake assignments, `inherit` and `require` lines through the one BitBake
//! writer (`bb-value`), which refuses values BitBake would interpret. A `format!`/`writeln!` that spells out
//! `VAR = \"…\"` itself bypasses it (that is how a spec's `branch: ${@…}` reached k3s-spec.inc): this test finds
//! such string literals in the generators' non-test code.

use std::path::Path;

/// The generators: every file that renders BitBake syntax.
const GENERATORS: &[&str] = &[
    "tools/k3s-bake/src/render",
    "tools/k3s-bake/src/generated.rs",
    "tools/cargo-recipe/src/recipe.rs",
    "tools/go-facts/src/render.rs",
    "tools/k3s-setup/src/setup.rs",
];

/// What a hand-written BitBake statement looks like inside a Rust string literal.
const BYPASSES: &[&str] = &[" = \\\"", " += \\\"", " ?= \\\"", " ??= \\\"", " := \\\"", "\"inherit {", "\"require {"];

fn sources(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            sources(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_owned());
    }
}

#[test]
fn generators_write_bitbake_only_through_bb_value() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for g in GENERATORS {
        sources(&root.join(g), &mut files);
    }
    assert!(files.len() >= 8, "the generators were found: {files:?}");
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // Tests may spell out expected output.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if BYPASSES.iter().any(|b| line.contains(b)) {
                found.push(format!("{}:{}: {}", f.strip_prefix(&root).unwrap_or(f).display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "BitBake lines written without bb-value:\n{}", found.join("\n"));
}
