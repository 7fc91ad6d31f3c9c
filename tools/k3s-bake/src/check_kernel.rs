//! `k3s-bake check-kernel <.config>`: a kernel configuration (a build's `.config`, `/proc/config.gz`, plain or
//! gzip) against [`k3s_model::kernel::OPTIONS`], the list the layer's fragment is rendered from, with the same
//! reader, verdicts and exit status as the node's `k3s-check-config` ([`k3s_kconfig::check`]):
//! 0 every required option as wanted, 1 one is missing, 2 the input could not be read.
//!
//! `--fragment` asks more: every fragment line, required or recommended, must be in the final config exactly as
//! the fragment requests it (`=y` that ended `=m` fails) — the proof that `merge_config` kept the fragment, since
//! it drops a line whose dependencies are unmet with nothing but a note in its log. `--kconfig DIR` reads that
//! kernel's Kconfig files and says, for each option not as wanted, which dependency dropped it; it also tells an
//! option the kernel does not define (allowed only where the model says the option is newer than the kernel).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use k3s_kconfig::check::{self, Exit, Policy, Verdict};
use k3s_kconfig::dotconfig;
use k3s_kconfig::lang::{self, Tree};
use k3s_model::kernel::{Exists, Level, Release, Want};

/// The options of the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckKernelArgs {
    /// The kernel configuration (plain or gzip).
    pub config: PathBuf,
    /// `=m` fails where the fragment asks `=y` (a kernel built with the layer's fragment).
    #[arg(long)]
    pub builtin: bool,
    /// Every fragment line, recommended ones included, must be in the config as requested (implies --builtin).
    #[arg(long)]
    pub fragment: bool,
    /// A kernel source tree: explain from its Kconfig files why an option is not as requested.
    #[arg(long, value_name = "DIR")]
    pub kconfig: Option<PathBuf>,
    /// The kernel's source architecture for --kconfig (arch/<ARCH>/Kconfig): x86, arm64, arm, ...
    #[arg(long, value_name = "ARCH", default_value = "x86", requires = "kconfig")]
    pub arch: String,
}

/// The `VERSION`/`PATCHLEVEL` of a kernel tree's top Makefile.
pub fn tree_release(tree: &Path) -> Result<Release> {
    let path = tree.join("Makefile");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let field = |name: &str| -> Result<u16> {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')))
            .with_context(|| format!("{}: no {name} = line", path.display()))?
            .trim()
            .parse()
            .with_context(|| format!("{}: {name} is not a number", path.display()))
    };
    Ok((field("VERSION")?, field("PATCHLEVEL")?))
}

/// Runs the subcommand; errors reading input become exit status 2 (printed by the caller).
pub fn run(args: &CheckKernelArgs) -> Result<ExitCode> {
    let cfg = match dotconfig::load(&args.config) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("k3s-bake check-kernel: {e}");
            return Ok(ExitCode::from(Exit::Unreadable as u8));
        }
    };
    let kernel = match &args.kconfig {
        None => None,
        Some(dir) => {
            let loaded =
                Tree::load(dir, &args.arch).map_err(anyhow::Error::from).and_then(|t| Ok((t, tree_release(dir)?)));
            match loaded {
                Ok(k) => Some(k),
                Err(e) => {
                    eprintln!("k3s-bake check-kernel: --kconfig {}: {e:#}", dir.display());
                    return Ok(ExitCode::from(Exit::Unreadable as u8));
                }
            }
        }
    };
    let policy = Policy { builtin: args.builtin || args.fragment };
    let results = check::check(&cfg, policy);
    let mut failed = 0usize;
    let mut warned = 0usize;
    for r in &results {
        if r.verdict == Verdict::Ok {
            continue;
        }
        let o = r.option;
        // Does this kernel define the symbol at all? Only a tree can say.
        if let Some((tree, release)) = &kernel
            && !tree.symbols.contains_key(o.name)
        {
            let allowed = !o.exists_in(*release);
            let since = match o.exists {
                Exists::Since((a, b)) => format!(" (the model: exists since {a}.{b})"),
                Exists::Until((a, b)) => format!(" (the model: removed by {a}.{b})"),
                Exists::Always => " (the model expects it in every supported kernel)".into(),
            };
            let tag = if allowed { "absent" } else { "UNDEFINED" };
            println!("{tag}: CONFIG_{} is not defined by this {}.{} kernel{since}", o.name, release.0, release.1);
            if !allowed {
                failed += 1;
            }
            continue;
        }
        // An option the board cannot have (its hardware symbol is off) is not the fragment's failure.
        if let Some(hw) = o.hardware
            && !cfg.get(hw).is_some_and(|v| v.enabled())
        {
            println!("hardware: CONFIG_{} needs CONFIG_{hw}, which this architecture/board leaves off", o.name);
            continue;
        }
        let hard = r.failed && (o.level == Level::Required || args.fragment);
        let tag = if hard { "MISSING" } else { "warning" };
        let wanted = match o.want {
            Want::On => "CONFIG_".to_string() + o.name + "=y",
            Want::Off => format!("# CONFIG_{} is not set", o.name),
        };
        let is = match r.value.as_ref().and_then(|v| v.as_config()) {
            Some(v) => format!("={v}"),
            None => String::new(),
        };
        println!(
            "{tag}: CONFIG_{}{is}: {} (wanted {wanted}; {} {}: {})",
            o.name,
            r.explain(),
            o.level.as_str(),
            o.area.title(),
            o.why
        );
        if let Some((tree, _)) = &kernel
            && o.want == Want::On
            && let Some(why) = lang::explain(tree, &cfg, o.name, 2)
        {
            print!("{}", why.text());
        }
        if hard {
            failed += 1;
        } else {
            warned += 1;
        }
    }
    let ok = results.iter().filter(|r| r.verdict == Verdict::Ok).count();
    println!(
        "{}: {ok} of {} options as wanted; {failed} failing, {warned} warnings{}",
        args.config.display(),
        results.len(),
        if args.fragment { " (every fragment line must hold)" } else { "" }
    );
    Ok(ExitCode::from(if failed > 0 { Exit::Missing as u8 } else { Exit::Ok as u8 }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k3s_model::kernel::OPTIONS;

    fn full_config() -> String {
        OPTIONS
            .iter()
            .map(|o| match o.want {
                Want::On => format!("CONFIG_{}=y\n", o.name),
                Want::Off => format!("# CONFIG_{} is not set\n", o.name),
            })
            .collect()
    }

    fn args(config: &Path) -> CheckKernelArgs {
        CheckKernelArgs { config: config.into(), builtin: false, fragment: false, kconfig: None, arch: "x86".into() }
    }

    #[test]
    fn exit_codes_match_the_node_tool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".config");
        std::fs::write(&path, full_config()).unwrap();
        assert_eq!(run(&args(&path)).unwrap(), ExitCode::from(0));
        std::fs::write(&path, full_config().replace("CONFIG_VXLAN=y\n", "")).unwrap();
        assert_eq!(run(&args(&path)).unwrap(), ExitCode::from(0), "a recommended option only warns");
        let mut a = args(&path);
        a.fragment = true;
        assert_eq!(run(&a).unwrap(), ExitCode::from(1), "--fragment: every line must hold");
        std::fs::write(&path, full_config().replace("CONFIG_VETH=y\n", "CONFIG_VETH=\n")).unwrap();
        assert_eq!(run(&args(&path)).unwrap(), ExitCode::from(1), "CONFIG_A= is read, and is not set");
        std::fs::write(&path, full_config().replace("CONFIG_VETH=y\n", "CONFIG_VETH=m\n")).unwrap();
        assert_eq!(run(&args(&path)).unwrap(), ExitCode::from(0), "a module passes by default");
        let mut a = args(&path);
        a.builtin = true;
        assert_eq!(run(&a).unwrap(), ExitCode::from(1), "=m where =y is asked fails with --builtin");
        std::fs::write(&path, "CONFIG_A=y\nnonsense\n").unwrap();
        assert_eq!(run(&args(&path)).unwrap(), ExitCode::from(2), "unreadable is 2, as in k3s-check-config");
        assert_eq!(run(&args(&dir.path().join("absent"))).unwrap(), ExitCode::from(2));
    }

    #[test]
    fn reads_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, full_config()).unwrap();
        assert!(std::process::Command::new("gzip").arg(&path).status().unwrap().success());
        assert_eq!(run(&args(&dir.path().join("config.gz"))).unwrap(), ExitCode::from(0));
    }

    #[test]
    fn tree_release_reads_the_makefile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Makefile"), "# SPDX\nVERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\n").unwrap();
        assert_eq!(tree_release(dir.path()).unwrap(), (7, 2));
        std::fs::write(dir.path().join("Makefile"), "VERSION = x\n").unwrap();
        assert!(tree_release(dir.path()).unwrap_err().to_string().contains("VERSION is not a number"));
    }
}
