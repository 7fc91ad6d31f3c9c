//! The module set the build links, as the go command computes it, offline over what resolve downloaded.
//!
//! The go command reads a `file://` GOPROXY laid out from resolve's content cache: each go.sum module version's
//! `.mod` (the proxy's, or the go.mod inside its zip, which is the same file) and `.zip`; go.sum checks both. A
//! module only available from git (a gomodgit fact: k3s's forks, the k3s-io/kubernetes staging modules) gets
//! its proxy files made from the cached repository at its commit, as the go command would for `GOPROXY=direct`. Then
//! `go list -deps -tags <K3S_GO_TAGS> -f <GO_LIST_FORMAT> <main packages>` per target architecture (the recipe
//! serves every machine) prints the modules providing linked packages. `GOFLAGS=-mod=mod`, `GOSUMDB=off`, no
//! network (`GOPROXY` is the directory only).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use go_facts::linked::{GO_LIST_FORMAT, LinkedSet};
use go_facts::render::Need;
use go_facts::{Facts, ModuleVersion};

use crate::BumpError;

/// GOARCH values of the layer's machines (qemux86-64, qemuarm64, qemuarm).
pub const GOARCHES: &[&str] = &["amd64", "arm64", "arm"];

/// One `go list` run: which packages, which tags.
#[derive(Debug, Clone)]
pub struct Build {
    /// Main packages (`./cmd/server`, or a module package path).
    pub packages: Vec<String>,
    /// Build tags.
    pub tags: Vec<String>,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> BumpError {
    move |e| BumpError::step(what, e)
}

/// Lays out a file:// module proxy at `dir` for `needs`: from the resolve cache's `download/` (proxy downloads) or,
/// for a module version whose facts are git-sourced (a gomodgit fact, no proxy download), made from the cache's bare
/// repository at the fact's commit the way the go command makes a `direct` download (`go_resolve::vcszip`), each
/// checked against go.sum's `h1:` lines (`sums`) before it is written. Every file is written atomically; every
/// module version that cannot be served is named, all together.
pub fn file_proxy(
    cache: &Path,
    facts: &Facts,
    sums: &BTreeMap<ModuleVersion, gomod::SumEntry>,
    needs: &BTreeMap<ModuleVersion, Need>,
    dir: &Path,
) -> Result<(), BumpError> {
    let mut failed = Vec::new();
    for (m, need) in needs {
        let ep = gomod::escape_path(&m.path).map_err(|e| BumpError::Msg(format!("{m}: {e}")))?;
        let ev = gomod::escape_version(&m.version).map_err(|e| BumpError::Msg(format!("{m}: {e}")))?;
        let src = cache.join("download").join(&ep).join("@v");
        let dst = dir.join(&ep).join("@v");
        let zip = src.join(format!("{ev}.zip"));
        let module_file = src.join(format!("{ev}.mod"));
        let downloaded = if *need == Need::Zip { zip.is_file() } else { module_file.is_file() || zip.is_file() };
        if !downloaded {
            match facts.modules.get(m).and_then(|f| f.git.as_ref()) {
                Some(g) => {
                    let made = go_resolve::vcs::CachedRepo::open(cache, &g.repo)
                        .map_err(|e| go_resolve::error_chain(&e))
                        .and_then(|repo| {
                            go_resolve::vcszip::write_proxy_files(&repo, m, g, *need, sums.get(m), &dst)
                                .map_err(|e| go_resolve::error_chain(&e))
                        });
                    if let Err(e) = made {
                        failed.push(e);
                    }
                }
                None => failed.push(format!("{m}: neither a proxy download in the resolve cache nor a git fact")),
            }
            continue;
        }
        let gomod = if module_file.is_file() {
            std::fs::read(&module_file).map_err(io(format!("reading {}", module_file.display())))?
        } else {
            go_mod_in_zip(&zip, m)?
        };
        let put = |name: String, data: &[u8]| {
            let p = dst.join(name);
            std::fs::create_dir_all(&dst)
                .and_then(|()| k3s_atomic::write(&p, data, 0o644))
                .map_err(io(format!("writing {}", p.display())))
        };
        if *need == Need::Zip {
            let data = std::fs::read(&zip).map_err(io(format!("reading {}", zip.display())))?;
            put(format!("{ev}.zip"), &data)?;
        }
        put(format!("{ev}.mod"), &gomod)?;
        put(format!("{ev}.info"), format!("{{\"Version\":\"{}\"}}\n", m.version).as_bytes())?;
    }
    if !failed.is_empty() {
        return Err(BumpError::Msg(format!(
            "{} module version(s) cannot be served to the offline `go list`:\n  {}",
            failed.len(),
            failed.join("\n  ")
        )));
    }
    Ok(())
}

/// The go.mod inside a module zip, or the one the go command synthesises for a module without one.
fn go_mod_in_zip(zip: &Path, m: &ModuleVersion) -> Result<Vec<u8>, BumpError> {
    let f = std::fs::File::open(zip).map_err(io(format!("opening {}", zip.display())))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| BumpError::step(format!("{}: not a zip", zip.display()), e))?;
    let name = format!("{}@{}/go.mod", m.path, m.version);
    match z.by_name(&name) {
        Ok(mut e) => {
            let mut data = Vec::new();
            e.read_to_end(&mut data).map_err(io(format!("reading {name} in {}", zip.display())))?;
            Ok(data)
        }
        Err(_) => Ok(format!("module {}\n", m.path).into_bytes()),
    }
}

/// The go command in `src`, offline over the `file://` proxy at `proxy` with its own module cache: the module
/// graph from go.mod (`-mod=mod`), go.sum's hashes checked (no checksum database), no workspace, no toolchain
/// switch, GOOS=linux and cgo on as the recipe builds k3s. Callers add the subcommand (and GOARCH).
pub fn offline_go(go: &Path, src: &Path, proxy: &Path, modcache: &Path) -> Command {
    let mut c = Command::new(go);
    c.current_dir(src)
        .env("GOPROXY", format!("file://{}", proxy.display()))
        .env("GOFLAGS", "-mod=mod")
        .env("GOSUMDB", "off")
        .env("GONOSUMDB", "")
        .env("GOPRIVATE", "")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on")
        .env("GOMODCACHE", modcache)
        .env("GOOS", "linux")
        .env("CGO_ENABLED", "1");
    c
}

/// Runs `go list -deps` for `build` in `src` over the proxy at `proxy`, for each of [`GOARCHES`]; the union.
pub fn linked(go: &Path, src: &Path, proxy: &Path, modcache: &Path, build: &Build) -> Result<LinkedSet, BumpError> {
    let mut all = LinkedSet::default();
    for arch in GOARCHES {
        let mut c = offline_go(go, src, proxy, modcache);
        c.args(["list", "-deps", "-tags", &build.tags.join(","), "-f", GO_LIST_FORMAT])
            .args(&build.packages)
            .env("GOARCH", arch);
        let what = format!("go list -deps -tags {} {} (GOARCH={arch})", build.tags.join(","), build.packages.join(" "));
        let out = c.output().map_err(io(format!("running {what}")))?;
        if !out.status.success() {
            return Err(BumpError::Msg(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        let set = LinkedSet::parse(&what, &String::from_utf8_lossy(&out.stdout))
            .map_err(|e| BumpError::step(what.clone(), e))?;
        all.0.extend(set.0);
    }
    Ok(all)
}

/// A directory that removes itself (the go module cache is read-only: make it writable first).
#[derive(Debug)]
pub struct ModCache(pub PathBuf);

impl Drop for ModCache {
    fn drop(&mut self) {
        let _ = Command::new("chmod").arg("-R").arg("u+w").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
