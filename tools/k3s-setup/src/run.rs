//! `k3s-bake build` and `k3s-bake qemu`: bitbake and runqemu in the setup's environment.
//!
//! OE-Core's `oe-init-build-env` must be sourced by a shell. The shell line is a constant ([`ENV_SCRIPT`]); the
//! OE-Core path, the build directory and every argument reach it as positional parameters, so no user value is
//! ever parsed as shell.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::layers::Repo;
use crate::setup::{build_dir, repo_dir};
use crate::{Error, Result};

/// The one shell line: source oe-init-build-env for the build directory, then exec the command given as argv.
pub const ENV_SCRIPT: &str =
    "oecore=$1; builddir=$2; shift 2; . \"$oecore/oe-init-build-env\" \"$builddir\" >/dev/null || exit 1; exec \"$@\"";

/// A setup directory `build`/`qemu` work in.
#[derive(Debug, Clone)]
pub struct Env {
    oe_core: PathBuf,
    build: PathBuf,
}

impl Env {
    /// Checks that `dir` is a finished setup (`k3s-bake setup --dir DIR`).
    pub fn open(dir: &Path) -> Result<Env> {
        let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, "--dir", e))?;
        let oe_core = repo_dir(&dir, Repo::OeCore);
        let build = build_dir(&dir);
        for need in [oe_core.join("oe-init-build-env"), build.join("conf/local.conf"), build.join("conf/bblayers.conf")]
        {
            if !need.is_file() {
                return Err(Error::invalid(
                    "--dir",
                    format!(
                        "{} is not a setup directory ({} is missing); run `k3s-bake setup --dir {}` first",
                        dir.display(),
                        need.display(),
                        dir.display()
                    ),
                ));
            }
        }
        Ok(Env { oe_core, build })
    }

    /// The build directory (TOPDIR).
    pub fn build_dir(&self) -> &Path {
        &self.build
    }

    /// `program args…` inside the build environment.
    pub fn cmd(&self, program: &str, args: &[String]) -> duct::Expression {
        let mut argv: Vec<std::ffi::OsString> = vec![
            "-c".into(),
            ENV_SCRIPT.into(),
            "k3s-bake".into(),
            self.oe_core.clone().into(),
            self.build.clone().into(),
            program.into(),
        ];
        argv.extend(args.iter().map(Into::into));
        duct::cmd("bash", argv).dir(&self.build)
    }

    /// `bitbake -e TARGET`, as a variable lookup (`NAME="value"` and `export NAME="value"` lines).
    pub fn variables(&self, target: &str, names: &[&str]) -> Result<Vec<(String, String)>> {
        let out = self
            .cmd("bitbake", &["-e".into(), target.into()])
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| Error::Command { command: "bitbake -e".into(), message: e.to_string() })?;
        if !out.status.success() {
            let tail: Vec<_> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .chain(String::from_utf8_lossy(&out.stderr).lines())
                .filter(|l| l.starts_with("ERROR"))
                .map(str::to_owned)
                .collect();
            return Err(Error::Command {
                command: format!("bitbake -e {target}"),
                message: format!("failed: {}", tail.join("; ")),
            });
        }
        Ok(parse_env_output(&String::from_utf8_lossy(&out.stdout), names))
    }
}

/// The named variables of `bitbake -e` output, in the order asked (missing ones as empty).
pub fn parse_env_output(text: &str, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let value = text
                .lines()
                .filter_map(|l| {
                    l.strip_prefix("export ").unwrap_or(l).strip_prefix(name)?.strip_prefix("=\"")?.strip_suffix('"')
                })
                .next_back()
                .unwrap_or_default();
            ((*name).to_owned(), value.to_owned())
        })
        .collect()
}

fn lookup<'a>(vars: &'a [(String, String)], name: &str) -> &'a str {
    vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// An image recipe name as bitbake takes it, not an option.
pub fn check_image(image: &str) -> Result<()> {
    let ok = !image.is_empty()
        && !image.starts_with('-')
        && image.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("IMAGE", format!("{image:?} is not a recipe name (lower-case letters, digits, + . - _)")))
    }
}

/// The exit code a child's status stands for (a signal as 128 + its number, as a shell reports it).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Progress of a bitbake run, read from its non-interactive output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// `Running task N of M`, the last seen.
    pub task: Option<(u64, u64)>,
}

impl Progress {
    /// Reads one line; true when it is worth showing above the bar (errors, warnings, the summary).
    pub fn line(&mut self, line: &str) -> bool {
        if let Some(rest) = line.split("Running task ").nth(1) {
            let mut words = rest.split_whitespace();
            if let (Some(n), Some("of"), Some(m)) = (words.next(), words.next(), words.next())
                && let (Ok(n), Ok(m)) = (n.parse(), m.trim_end_matches(|c: char| !c.is_ascii_digit()).parse())
            {
                self.task = Some((n, m));
            }
            return false;
        }
        line.starts_with("ERROR")
            || line.starts_with("WARNING")
            || line.starts_with("Summary")
            || line.starts_with("NOTE: Tasks Summary")
    }
}

/// `k3s-bake build [IMAGE]`: bitbake IMAGE with a progress bar on a terminal (every line otherwise), the whole
/// output in `build/k3s-bake-build.log`; returns bitbake's exit code. On success prints the image files.
pub fn build(env: &Env, image: &str, out: &mut dyn Write) -> Result<i32> {
    check_image(image)?;
    let log_path = env.build.join("k3s-bake-build.log");
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| Error::io(&log_path, "cannot create the build log", e))?;
    let _ = writeln!(out, "bitbake {image} (full output: {})", log_path.display());
    let tty = std::io::stdout().is_terminal();
    // Until bitbake says how many tasks there are (it parses recipes first), a spinner with the last line.
    let bar = if tty { indicatif::ProgressBar::new_spinner() } else { indicatif::ProgressBar::hidden() };
    let spinner = indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let tasks =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} tasks {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(spinner);
    bar.set_message(format!("bitbake {image}"));
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    let mut counting = false;
    let reader = env
        .cmd("bitbake", &[image.to_owned()])
        .stderr_to_stdout()
        .unchecked()
        .reader()
        .map_err(|e| Error::Command { command: "bitbake".into(), message: e.to_string() })?;
    let mut progress = Progress::default();
    let mut lines = std::io::BufReader::new(&reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match lines.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(Error::Command { command: "bitbake".into(), message: format!("reading its output: {e}") });
            }
        }
        let _ = log.write_all(&buf);
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end();
        let show = progress.line(line);
        if let Some((n, m)) = progress.task {
            if !counting {
                bar.set_style(tasks.clone());
                counting = true;
            }
            bar.set_length(m);
            bar.set_position(n);
        }
        if !line.is_empty() && !show {
            // The task (or parsing step) running now: the text after the counter, else the line itself.
            let now = line
                .rsplit_once(" (")
                .filter(|_| line.contains("Running task"))
                .map_or(line, |(_, r)| r.trim_end_matches(')'));
            bar.set_message(now.to_owned());
        }
        if tty {
            if show {
                bar.println(line);
            }
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    bar.finish_and_clear();
    let status = reader
        .try_wait()
        .map_err(|e| Error::Command { command: "bitbake".into(), message: e.to_string() })?
        .map(|o| o.status)
        .ok_or_else(|| Error::Command {
            command: "bitbake".into(),
            message: "output ended before the process".into(),
        })?;
    let code = exit_code(status);
    if code != 0 {
        let _ = writeln!(out, "bitbake {image} failed (exit status {code}); see {}", log_path.display());
        return Ok(code);
    }
    let vars = env.variables(image, &["DEPLOY_DIR_IMAGE", "MACHINE"])?;
    let (deploy, machine) = (lookup(&vars, "DEPLOY_DIR_IMAGE"), lookup(&vars, "MACHINE"));
    let files = image_files(Path::new(deploy), image, machine);
    if files.is_empty() {
        let _ = writeln!(out, "bitbake {image} succeeded, but {deploy} holds no {image}-{machine}.rootfs.* file");
    } else {
        let _ = writeln!(out, "{image} for {machine} is in {deploy}:");
        for f in files {
            let _ = writeln!(out, "  {}", f.display());
        }
        let _ = writeln!(out, "boot it with: k3s-bake qemu");
    }
    Ok(0)
}

/// `<image>-<machine>.rootfs.*` in the deploy directory, sorted.
pub fn image_files(deploy: &Path, image: &str, machine: &str) -> Vec<PathBuf> {
    let prefix = format!("{image}-{machine}.rootfs.");
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// The image's defaults from the spec (`images:`): used when the build left QB_MEM empty, and named in warnings.
#[derive(Debug, Clone, Copy)]
pub struct ImageDefaults {
    /// `qemu-memory-mb`.
    pub memory_mb: u32,
    /// `rootfs-extra-space-kb`.
    pub rootfs_extra_space_kb: u64,
}

/// Memory below which k3s is likely to be OOM-killed once pods run (issue 13; k3s's own minimum for a server).
pub const MEMORY_WARN_MB: u32 = 2048;

/// What `qemu` will run and warn about, from `bitbake -e IMAGE`.
#[derive(Debug, PartialEq, Eq)]
pub struct QemuPlan {
    /// runqemu's arguments.
    pub args: Vec<String>,
    /// Warnings to print first.
    pub warnings: Vec<String>,
}

/// runqemu's arguments from the image's variables: `MACHINE IMAGE nographic slirp`, plus `qemuparams=-m N` only
/// when the build set no QB_MEM (the image class sets it from the spec, local.conf may override).
pub fn qemu_plan(image: &str, vars: &[(String, String)], defaults: ImageDefaults) -> Result<QemuPlan> {
    let machine = lookup(vars, "MACHINE");
    if machine.is_empty() {
        return Err(Error::Command { command: format!("bitbake -e {image}"), message: "MACHINE is empty".into() });
    }
    let mut args = vec![machine.to_owned(), image.to_owned(), "nographic".into(), "slirp".into()];
    let qb_mem = lookup(vars, "QB_MEM");
    let memory = match qb_mem.split_whitespace().collect::<Vec<_>>()[..] {
        ["-m", n] => n.trim_end_matches(['M', 'm']).parse::<u32>().ok(),
        [] => None,
        _ => None,
    };
    let memory = match memory {
        Some(m) => m,
        None => {
            args.push(format!("qemuparams=-m {}", defaults.memory_mb));
            defaults.memory_mb
        }
    };
    let mut warnings = Vec::new();
    if memory < MEMORY_WARN_MB {
        warnings.push(format!(
            "{image} boots with {memory} MiB (QB_MEM {qb_mem:?}): under {MEMORY_WARN_MB} MiB k3s may be OOM-killed once pods run; \
             K3S_QEMU_MEMORY_MB or QB_MEM in local.conf raise it"
        ));
    }
    let extra = lookup(vars, "IMAGE_ROOTFS_EXTRA_SPACE");
    if extra.trim().is_empty() || extra.trim() == "0" {
        warnings.push(format!(
            "{image} was built with IMAGE_ROOTFS_EXTRA_SPACE {extra:?}: the root file system has no room for container images \
             (the spec's default is {} KiB; K3S_ROOTFS_EXTRA_SPACE_KB or IMAGE_ROOTFS_EXTRA_SPACE in local.conf)",
            defaults.rootfs_extra_space_kb
        ));
    }
    Ok(QemuPlan { args, warnings })
}

/// `k3s-bake qemu`: checks the image is built, prints the warnings, runs runqemu on this terminal; returns its exit code.
pub fn qemu(env: &Env, image: &str, defaults: ImageDefaults, kvm: bool, err: &mut dyn Write) -> Result<i32> {
    check_image(image)?;
    let vars = env.variables(image, &["DEPLOY_DIR_IMAGE", "MACHINE", "QB_MEM", "IMAGE_ROOTFS_EXTRA_SPACE"])?;
    let mut plan = qemu_plan(image, &vars, defaults)?;
    if kvm {
        plan.args.push("kvm".into());
    }
    let deploy = lookup(&vars, "DEPLOY_DIR_IMAGE");
    let qemuboot = Path::new(deploy).join(format!("{image}-{}.qemuboot.conf", lookup(&vars, "MACHINE")));
    if !qemuboot.is_file() {
        return Err(Error::invalid(
            image,
            format!("{} is missing: build the image first (k3s-bake build {image})", qemuboot.display()),
        ));
    }
    for w in &plan.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    let _ = writeln!(err, "runqemu {}", plan.args.join(" "));
    let out = env
        .cmd("runqemu", &plan.args)
        .unchecked()
        .run()
        .map_err(|e| Error::Command { command: "runqemu".into(), message: e.to_string() })?;
    Ok(exit_code(out.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }
    const D: ImageDefaults = ImageDefaults { memory_mb: 2048, rootfs_extra_space_kb: 2097152 };

    #[test]
    fn env_output_is_read_like_bitbake_writes_it() {
        let text = "# comment\nMACHINE=\"qemuarm64\"\nexport DEPLOY_DIR_IMAGE=\"/b/tmp/deploy/images/qemuarm64\"\nQB_MEM=\"-m 2048\"\n";
        let v = parse_env_output(text, &["DEPLOY_DIR_IMAGE", "MACHINE", "QB_MEM", "NOPE"]);
        assert_eq!(lookup(&v, "DEPLOY_DIR_IMAGE"), "/b/tmp/deploy/images/qemuarm64");
        assert_eq!(lookup(&v, "MACHINE"), "qemuarm64");
        assert_eq!(lookup(&v, "NOPE"), "");
    }

    #[test]
    fn qemu_uses_the_image_memory_and_warns_when_low_or_no_space() {
        let p = qemu_plan(
            "core-image-k3s",
            &vars(&[("MACHINE", "qemux86-64"), ("QB_MEM", "-m 2048"), ("IMAGE_ROOTFS_EXTRA_SPACE", "2097152")]),
            D,
        )
        .unwrap();
        assert_eq!(p.args, ["qemux86-64", "core-image-k3s", "nographic", "slirp"]);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let p = qemu_plan(
            "core-image-k3s-agent",
            &vars(&[("MACHINE", "qemuarm"), ("QB_MEM", "-m 1024"), ("IMAGE_ROOTFS_EXTRA_SPACE", "0")]),
            D,
        )
        .unwrap();
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("1024 MiB") && p.warnings[1].contains("no room"));
        // No QB_MEM from the build: the spec's default is passed explicitly.
        let p = qemu_plan("core-image-k3s", &vars(&[("MACHINE", "qemuarm64"), ("IMAGE_ROOTFS_EXTRA_SPACE", "1")]), D)
            .unwrap();
        assert_eq!(p.args.last().unwrap(), "qemuparams=-m 2048");
    }

    #[test]
    fn progress_reads_task_counts() {
        let mut p = Progress::default();
        assert!(!p.line("NOTE: Running task 12 of 4711 (/x/busybox.bb:do_compile)"));
        assert_eq!(p.task, Some((12, 4711)));
        assert!(p.line("ERROR: busybox-1.0-r0 do_compile: oops"));
        assert!(!p.line("NOTE: recipe busybox: task do_compile: Started"));
    }

    #[test]
    fn image_names_are_not_options() {
        assert!(check_image("core-image-k3s").is_ok());
        for bad in ["-e", "a b", "x;y", "", "A"] {
            assert!(check_image(bad).is_err(), "{bad}");
        }
    }
}
