//! A disposable on-disk cache of facts that are expensive to derive and fixed by a key: the license facts of a
//! `.crate` archive (key: its sha256, as Cargo.lock records it) and cargo's answer to "what does this build link"
//! (key: a hash of everything cargo reads for it, see [`linked_key`]).
//!
//! Layout: `<dir>/cargo-recipe-v1/<kind>/<key>`, one file per entry: a header line naming format, kind and key, the
//! body, and a trailer with the md5 of everything before it. An entry that does not verify (truncated by a crash,
//! edited, written by another format version) is a miss and is rewritten; entries are written to a temporary file
//! and renamed into place, so readers never see a partial one. Nothing is fsynced: losing an entry only costs the
//! time to recompute it. Writing errors are ignored for the same reason (a read-only home still works, uncached).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sha2::Digest as _;

const FORMAT: &str = "cargo-recipe-v1";

/// Where entries live, or nowhere (`--no-cache`).
#[derive(Debug, Clone, Default)]
pub struct Cache {
    dir: Option<PathBuf>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Cache {
    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: Some(dir.into()) }
    }

    /// No cache: everything is recomputed.
    pub fn disabled() -> Cache {
        Cache { dir: None }
    }

    /// `$K3S_BAKE_CACHE_DIR`, else `$XDG_CACHE_HOME/k3s-bake`, else `$HOME/.cache/k3s-bake`; disabled when none
    /// is set.
    pub fn default_location() -> Cache {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = env("K3S_BAKE_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("k3s-bake")))
            .or_else(|| env("HOME").map(|d| d.join(".cache").join("k3s-bake")));
        Cache { dir }
    }

    /// The directory, if enabled.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn path(&self, kind: &str, key: &str) -> Option<PathBuf> {
        // Keys are hex digests; anything else never names a file.
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.dir.as_ref()?.join(FORMAT).join(kind).join(key))
    }

    fn header(kind: &str, key: &str) -> String {
        format!("k3s-bake cache {FORMAT} {kind} {key}\n")
    }

    /// The body stored under `kind`/`key`, if present and intact.
    pub fn get(&self, kind: &str, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.path(kind, key)?).ok()?;
        let rest = text.strip_prefix(&Cache::header(kind, key))?;
        let (body, trailer) = rest.rsplit_once("end ")?;
        let sum = trailer.strip_suffix('\n')?;
        let head_len = text.len() - rest.len();
        let covered = &text[..head_len + body.len()];
        (format!("{:x}", md5::compute(covered.as_bytes())) == sum).then(|| body.to_owned())
    }

    /// Stores `body` (which must end with a newline or be empty) under `kind`/`key`; best effort.
    pub fn put(&self, kind: &str, key: &str, body: &str) {
        let Some(path) = self.path(kind, key) else { return };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut text = Cache::header(kind, key);
        text.push_str(body);
        let sum = format!("{:x}", md5::compute(text.as_bytes()));
        let _ = writeln!(text, "end {sum}");
        let tmp = dir.join(format!(".{key}.{}.{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
        if std::fs::write(&tmp, text.as_bytes()).is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Accumulates a cache key: sha256 over length-prefixed parts, so no two sequences of parts collide.
#[derive(Debug, Default)]
pub struct KeyHasher(sha2::Sha256);

impl KeyHasher {
    /// Adds one part.
    pub fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// Adds a file: its path, and its contents or the fact that it is absent.
    pub fn file(&mut self, path: &Path) -> &mut Self {
        self.part(path.as_os_str().as_encoded_bytes());
        match std::fs::read(path) {
            Ok(b) => self.part(b"present").part(&b),
            Err(_) => self.part(b"absent"),
        }
    }

    /// Adds what identifies an executable without running it: canonical path, size, mtime, inode.
    pub fn binary(&mut self, path: &Path) -> &mut Self {
        use std::os::unix::fs::MetadataExt as _;
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        self.part(canon.as_os_str().as_encoded_bytes());
        match std::fs::metadata(&canon) {
            Ok(m) => self.part(format!("{} {} {} {}", m.len(), m.mtime(), m.mtime_nsec(), m.ino()).as_bytes()),
            Err(_) => self.part(b"absent"),
        }
    }

    /// The hex digest.
    pub fn finish(self) -> String {
        self.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Finds `name` on `$PATH` (what `Command::new(name)` would run).
pub fn which(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return Some(name.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Environment variables that can change cargo's resolution or the target cfgs: every `CARGO_*` (config) and
/// `RUST*` variable, except those cargo sets for the crate being built or run (they differ between callers and
/// change nothing here).
fn relevant_env() -> Vec<(String, String)> {
    const PER_CRATE: &[&str] = &["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_TARGET_TMPDIR"];
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| k.starts_with("CARGO") || k.starts_with("RUST"))
        .filter(|(k, _)| !PER_CRATE.iter().any(|p| k.starts_with(p)))
        .collect();
    vars.sort();
    vars
}

/// The key of cargo's answer for `args` on the workspace rooted at `root`: the tool's format, the arguments, the
/// manifests and Cargo.lock (`inputs`, with their contents), the cargo configuration files cargo would read, the
/// relevant environment, and the toolchain that would answer (the cargo and rustc binaries found; rustup's
/// settings, toolchain files and installed toolchains when rustup picks one). Registry and git dependencies are
/// pinned by Cargo.lock's checksums and commits, so their manifests need not be read.
pub fn linked_key(args: &[String], root: &Path, inputs: &[PathBuf], cargo_home: &Path) -> String {
    let mut h = KeyHasher::default();
    h.part(FORMAT.as_bytes()).part(b"linked");
    for a in args {
        h.part(a.as_bytes());
    }
    h.part(root.as_os_str().as_encoded_bytes());
    for f in inputs {
        h.file(f);
    }
    for dir in root.ancestors() {
        for name in [".cargo/config.toml", ".cargo/config", "rust-toolchain.toml", "rust-toolchain"] {
            h.file(&dir.join(name));
        }
    }
    h.file(&cargo_home.join("config.toml")).file(&cargo_home.join("config"));
    for (k, v) in relevant_env() {
        h.part(k.as_bytes()).part(v.as_bytes());
    }
    let cargo = crate::toolchain::cargo_program();
    match which(&cargo) {
        Some(p) => h.binary(&p),
        None => h.part(b"no cargo"),
    };
    let rustc = std::env::var_os("RUSTC").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("rustc"));
    match which(&rustc) {
        Some(p) => h.binary(&p),
        None => h.part(b"no rustc"),
    };
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")));
    if let Some(rh) = rustup_home {
        h.file(&rh.join("settings.toml"));
        let mut toolchains: Vec<PathBuf> = std::fs::read_dir(rh.join("toolchains"))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        toolchains.sort();
        for t in toolchains {
            h.binary(&t.join("bin/cargo")).binary(&t.join("bin/rustc"));
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::at(dir.path());
        let key = "ab".repeat(32);
        assert_eq!(c.get("k", &key), None);
        c.put("k", &key, "one\ntwo\n");
        assert_eq!(c.get("k", &key).as_deref(), Some("one\ntwo\n"));
        let file = dir.path().join(FORMAT).join("k").join(&key);
        let text = std::fs::read_to_string(&file).unwrap();
        // Truncated (a crash while writing elsewhere), flipped byte, or another key's entry: all misses.
        std::fs::write(&file, &text[..text.len() - 5]).unwrap();
        assert_eq!(c.get("k", &key), None);
        std::fs::write(&file, text.replace("one", "0ne")).unwrap();
        assert_eq!(c.get("k", &key), None);
        std::fs::write(&file, &text).unwrap();
        assert_eq!(c.get("other", &key), None);
        assert_eq!(c.get("k", "../../etc"), None, "only hex keys name files");
        assert_eq!(Cache::disabled().get("k", &key), None);
        // No temporary files are left behind.
        let names: Vec<_> =
            std::fs::read_dir(file.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn key_parts_do_not_run_together() {
        let k = |parts: &[&str]| {
            let mut h = KeyHasher::default();
            for p in parts {
                h.part(p.as_bytes());
            }
            h.finish()
        };
        assert_ne!(k(&["ab", "c"]), k(&["a", "bc"]));
        assert_eq!(k(&["x"]), k(&["x"]));
    }
}
