//! `k3s-bake cross --target aarch64|armv7|x86_64 [--sdk ENV]`: the node tools built outside BitBake, for fast
//! iteration on a board or under qemu-user.
//!
//! Toolchain, in this order (what .ci/test.d/50-node-cross.sh established on Debian 12):
//! 1. a `rustc` that has the target's standard library: the one on PATH (rustup with the target added), else
//!    Debian's `/usr/bin/rustc` (rustc-web with libstd-rust-web-dev:arm64), called with Debian's own cargo;
//! 2. else, with Debian's rust-web-src, the standard library built from source (`-Zbuild-std`, the armv7 route);
//! 3. else an error naming the packages.
//!
//! The linker is Debian's cross gcc, or with `--sdk` the SDK's `CC` (first word, found on the SDK's PATH; its
//! flags, `--sysroot` included, and LDFLAGS as link arguments). A separate target directory (`target/cross`)
//! keeps these artifacts apart from the host build's.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::machine::Target;
use crate::sdkenv::SdkEnv;
use crate::{Error, Result};

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// The target.
    pub target: Target,
    /// A Yocto SDK environment-setup file.
    pub sdk: Option<PathBuf>,
    /// The repository root (where `meta-k3s-rs/` is).
    pub root: PathBuf,
    /// A debug build instead of release.
    pub debug: bool,
}

/// The cargo invocation `cross` runs, decided before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The cargo binary.
    pub cargo: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment set for it.
    pub env: Vec<(String, String)>,
    /// Where the binary lands.
    pub binary: PathBuf,
    /// How to run it on this (x86-64) host, for a foreign target.
    pub run_hint: Option<String>,
}

fn env_key(triple: &str) -> String {
    triple.to_ascii_uppercase().replace('-', "_")
}

fn on_path(program: &str, path: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::split_paths(path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Does this rustc have the target's standard library?
fn has_target_std(rustc: &Path, triple: &str) -> bool {
    let Ok(out) = duct::cmd(rustc, ["--print", "sysroot"]).stdout_capture().stderr_null().unchecked().run() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    out.status.success() && Path::new(&sysroot).join("lib/rustlib").join(triple).join("lib").is_dir()
}

/// The manifest and package of the node tools: meta-k3s-rs/ as its own workspace when it is one, else the
/// package in the repository's workspace.
fn manifest(root: &Path) -> PathBuf {
    let own = root.join("meta-k3s-rs/Cargo.toml");
    if own.is_file() { own } else { root.join("Cargo.toml") }
}

/// Decides toolchain, linker and arguments; runs nothing but `rustc --print sysroot`.
pub fn plan(opts: &Options) -> Result<Invocation> {
    let triple = opts.target.triple();
    let key = env_key(triple);
    let path = std::env::var("PATH").unwrap_or_default();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut run_path = path.clone();

    let linker = if let Some(sdk_file) = &opts.sdk {
        let sdk = SdkEnv::load(sdk_file)?;
        let arch = sdk.get("OECORE_TARGET_ARCH")?;
        let sdk_target = match arch {
            "aarch64" => Target::Aarch64,
            "arm" => Target::Armv7,
            "x86_64" => Target::X86_64,
            other => {
                return Err(Error::invalid(
                    "--sdk",
                    format!("OECORE_TARGET_ARCH {other:?} is none of aarch64, arm, x86_64"),
                ));
            }
        };
        if sdk_target != opts.target {
            return Err(Error::invalid("--sdk", format!("the SDK is for {arch}, not --target {}", opts.target.name())));
        }
        run_path = sdk.get("PATH")?.to_owned();
        let cc = sdk.get("CC")?;
        let mut words = cc.split_whitespace();
        let compiler = words.next().ok_or_else(|| Error::invalid("--sdk", "CC is empty"))?;
        let compiler = on_path(compiler, &run_path)
            .ok_or_else(|| Error::invalid("--sdk", format!("CC's compiler {compiler:?} is not on the SDK's PATH")))?;
        let link_args: Vec<String> = words
            .chain(sdk.vars.get("LDFLAGS").map(String::as_str).unwrap_or_default().split_whitespace())
            .map(|w| format!("-Clink-arg={w}"))
            .collect();
        if !link_args.is_empty() {
            env.push((format!("CARGO_TARGET_{key}_RUSTFLAGS"), link_args.join(" ")));
        }
        compiler
    } else {
        let gcc = opts.target.debian_linker();
        on_path(gcc, &path).ok_or_else(|| {
            Error::invalid(
                "--target",
                format!("{gcc} is not on PATH; install Debian's {}", opts.target.debian_linker_package()),
            )
        })?;
        // The name, not the path: the same linker setting as .ci/test.d/50-node-cross.sh, so cargo reuses its build.
        PathBuf::from(gcc)
    };
    env.push((format!("CARGO_TARGET_{key}_LINKER"), linker.display().to_string()));
    if run_path != path {
        env.push(("PATH".into(), run_path));
    }

    let mut args: Vec<String> = vec!["build".into(), "--locked".into()];
    let rustc_on_path = on_path("rustc", &path);
    let debian = Path::new("/usr/bin/rustc");
    let cargo = if rustc_on_path.as_deref().is_some_and(|r| has_target_std(r, triple)) {
        on_path("cargo", &path).unwrap_or_else(|| PathBuf::from("cargo"))
    } else if debian.is_file() && has_target_std(debian, triple) {
        env.push(("RUSTC".into(), debian.display().to_string()));
        PathBuf::from("/usr/bin/cargo")
    } else if debian.is_file() && Path::new("/usr/lib/rustlib/src/rust/library").is_dir() {
        // No packaged std for this target (armhf): build it from Debian's rust-web-src.
        env.push(("RUSTC".into(), debian.display().to_string()));
        env.push(("RUSTC_BOOTSTRAP".into(), "1".into()));
        args.push("-Zbuild-std=std,panic_abort".into());
        PathBuf::from("/usr/bin/cargo")
    } else {
        return Err(Error::invalid(
            "--target",
            format!(
                "no Rust standard library for {triple}: `rustup target add {triple}`, or Debian's rustc-web cargo-web \
                 with libstd-rust-web-dev:<arch> (or rust-web-src to build it)"
            ),
        ));
    };
    let target_dir = opts.root.join("target/cross");
    env.push(("CARGO_TARGET_DIR".into(), target_dir.display().to_string()));
    let manifest = manifest(&opts.root);
    args.extend([
        "--manifest-path".into(),
        manifest.display().to_string(),
        "-p".into(),
        k3s_model::tools::MULTICALL_BINARY.into(),
    ]);
    args.extend(["--target".into(), triple.into()]);
    if !opts.debug {
        args.push("--release".into());
    }
    let profile = if opts.debug { "debug" } else { "release" };
    let binary = target_dir.join(triple).join(profile).join(k3s_model::tools::MULTICALL_BINARY);
    let run_hint =
        opts.target.qemu_user().map(|(qemu, prefix)| format!("{qemu} -L {prefix} {} --help", binary.display()));
    Ok(Invocation { cargo, args, env, binary, run_hint })
}

/// Runs the build (cargo's output on this terminal) and prints where the binary landed; returns cargo's exit code.
pub fn run(inv: &Invocation, out: &mut dyn Write) -> Result<i32> {
    let mut cmd = duct::cmd(&inv.cargo, &inv.args);
    for (k, v) in &inv.env {
        cmd = cmd.env(k, v);
    }
    let _ = writeln!(out, "{} {}", inv.cargo.display(), inv.args.join(" "));
    let status = cmd
        .stdout_to_stderr()
        .unchecked()
        .run()
        .map_err(|e| Error::Command { command: inv.cargo.display().to_string(), message: e.to_string() })?
        .status;
    let code = status.code().unwrap_or(1);
    if code == 0 {
        let size = std::fs::metadata(&inv.binary).map(|m| m.len()).unwrap_or(0);
        let _ = writeln!(out, "{} ({size} bytes)", inv.binary.display());
        for tool in k3s_model::tools::TOOLS {
            let _ =
                writeln!(out, "  {}: link or `{} {}`", tool.name(), k3s_model::tools::MULTICALL_BINARY, tool.name());
        }
        if let Some(hint) = &inv.run_hint {
            let _ = writeln!(out, "on this host: {hint}");
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_for_another_arch_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("environment-setup-cortexa15t2hf-neon-oe-linux-gnueabi");
        std::fs::write(&env, "export OECORE_TARGET_ARCH=\"arm\"\nexport CC=\"arm-oe-linux-gnueabi-gcc -mthumb\"\nexport PATH=/nonexistent\n").unwrap();
        let opts = Options { target: Target::Aarch64, sdk: Some(env.clone()), root: dir.path().into(), debug: false };
        assert!(plan(&opts).unwrap_err().to_string().contains("the SDK is for arm"));
        let opts = Options { target: Target::Armv7, ..opts };
        assert!(plan(&opts).unwrap_err().to_string().contains("not on the SDK's PATH"));
    }
}
