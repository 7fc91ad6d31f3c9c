//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay tests: parse arbitrary bytes and
//! check the parsers' promises — never panic, every error names a line that exists, every accepted entry is valid.

use crate::{GoMod, GoSum, is_valid_version};

fn check_error_line(text: &str, line: usize) {
    let lines = text.lines().count().max(1);
    assert!(line >= 1 && line <= lines, "error line {line} outside 1..={lines}");
}

/// go.mod: arbitrary bytes (lossily decoded, as a file read would be).
pub fn go_mod(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match GoMod::parse("fuzz/go.mod", &text) {
        Ok(m) => {
            assert!(!m.module.is_empty());
            for r in &m.require {
                assert!(is_valid_version(&r.module.version), "{r:?}");
            }
            let _ = m.effective_requirements();
        }
        Err(e) => check_error_line(&text, e.line),
    }
}

/// go.sum: arbitrary bytes.
pub fn go_sum(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match GoSum::parse("fuzz/go.sum", &text) {
        Ok(s) => {
            for l in &s.lines {
                assert!(is_valid_version(&l.module.version), "{l:?}");
            }
            assert!(s.entries().len() <= s.lines.len());
        }
        Err(e) => check_error_line(&text, e.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays the fixtures and cheap mutations of them (truncations, byte flips, line shuffles) through the
    /// fuzz entry points, so the fuzz invariants are checked by every `cargo test` even where cargo-fuzz is absent.
    #[test]
    fn corpus_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut corpus = Vec::new();
        for project in std::fs::read_dir(&dir).unwrap() {
            let p = project.unwrap().path();
            corpus.push((go_mod as fn(&[u8]), std::fs::read(p.join("go.mod")).unwrap()));
            corpus.push((go_sum as fn(&[u8]), std::fs::read(p.join("go.sum")).unwrap()));
        }
        assert_eq!(corpus.len(), 8);
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (f, data) in &corpus {
            f(data);
            let step = (data.len() / 64).max(1);
            for cut in (0..data.len()).step_by(step) {
                f(&data[..cut]);
            }
            for _ in 0..100 {
                let mut m = data.clone();
                for _ in 0..4 {
                    let i = (rnd() as usize) % m.len();
                    m[i] = b"()[],=>\"`/ \t\nv.-+!h1:"[(rnd() as usize) % 21];
                }
                f(&m);
            }
        }
        for extra in [
            &b""[..],
            b"module",
            b"module \"",
            b"module m\nrequire (",
            b"\xff\xfe",
            b"a v1.0.0 h1:",
            b"retract [",
            b"=>",
        ] {
            go_mod(extra);
            go_sum(extra);
        }
    }
}
