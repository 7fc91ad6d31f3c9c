//! The module set the build links, as the go command computes it, offline over what resolve downloaded.
//!
//! The go command reads a `file://` GOPROXY laid out from resolve's content cache: each go.sum module version's
//! `.mod` (the proxy's, or the go.mod inside its zip, which is the same file) and `.zip`; go.sum checks both. Then
//! `go list -deps -tags <K3S_GO_TAGS> -f <GO_LIST_FORMAT> <main packages>` per target architecture (the recipe
//! serves every machine) prints the modules providing linked packages. `GOFLAGS=-mod=mod`, `GOSUMDB=off`, no
//! network (`GOPROXY` is the directory only).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use go_facts::ModuleVersion;
use go_facts::linked::{GO_LIST_FORMAT, LinkedSet};
use go_facts::render::Need;

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

/// Lays out a file:// module proxy at `dir` for `needs`, from the resolve cache `download/`.
pub fn file_proxy(cache: &Path, needs: &BTreeMap<ModuleVersion, Need>, dir: &Path) -> Result<(), BumpError> {
    let mut missing = Vec::new();
    for (m, need) in needs {
        let ep = gomod::escape_path(&m.path).map_err(|e| BumpError::Msg(format!("{m}: {e}")))?;
        let ev = gomod::escape_version(&m.version).map_err(|e| BumpError::Msg(format!("{m}: {e}")))?;
        let src = cache.join("download").join(&ep).join("@v");
        let dst = dir.join(&ep).join("@v");
        std::fs::create_dir_all(&dst).map_err(io(format!("creating {}", dst.display())))?;
        let zip = src.join(format!("{ev}.zip"));
        let module_file = src.join(format!("{ev}.mod"));
        let gomod = if module_file.is_file() {
            std::fs::read(&module_file).map_err(io(format!("reading {}", module_file.display())))?
        } else if zip.is_file() {
            go_mod_in_zip(&zip, m)?
        } else {
            missing.push(m.to_string());
            continue;
        };
        std::fs::write(dst.join(format!("{ev}.mod")), gomod).map_err(io(format!("writing {}", dst.display())))?;
        std::fs::write(dst.join(format!("{ev}.info")), format!("{{\"Version\":\"{}\"}}\n", m.version))
            .map_err(io(format!("writing {}", dst.display())))?;
        if *need == Need::Zip {
            if !zip.is_file() {
                missing.push(format!("{m} (zip)"));
                continue;
            }
            std::fs::copy(&zip, dst.join(format!("{ev}.zip"))).map_err(io(format!("copying {}", zip.display())))?;
        }
    }
    if !missing.is_empty() {
        return Err(BumpError::Msg(format!(
            "{} module version(s) are not in the resolve cache as proxy files (a git-only source cannot feed `go \
             list` offline):\n  {}",
            missing.len(),
            missing.join("\n  ")
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

/// Runs `go list -deps` for `build` in `src` over the proxy at `proxy`, for each of [`GOARCHES`]; the union.
pub fn linked(go: &Path, src: &Path, proxy: &Path, modcache: &Path, build: &Build) -> Result<LinkedSet, BumpError> {
    let mut all = LinkedSet::default();
    for arch in GOARCHES {
        let mut c = Command::new(go);
        c.current_dir(src)
            .args(["list", "-deps", "-tags", &build.tags.join(","), "-f", GO_LIST_FORMAT])
            .args(&build.packages)
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
            .env("GOARCH", arch)
            .env("CGO_ENABLED", "1");
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
