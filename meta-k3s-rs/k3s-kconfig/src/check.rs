//! A kernel configuration against [`k3s_model::kernel::OPTIONS`]: the one verdict both `k3s-check-config` (on
//! the node) and `k3s-bake check-kernel` (on the build host) print and exit with.
//!
//! Exit status of both tools ([`Exit`]): **0** every required option is as wanted; **1** a required option is
//! missing (or, with `--builtin`, only a module; or an option that must be off is on); **2** the configuration
//! could not be read or parsed, or the command line was wrong. Recommended options never change the status.

use crate::dotconfig::{KernelConfig, Value};
use k3s_model::kernel::{KernelOption, Level, OPTIONS, Want};

/// How strictly `=m` is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// `=m` fails where the fragment asks `=y` (a build that should carry the fragment; kconfig suite). Off: a
    /// module passes (a distribution kernel loads it on demand) and is reported as a module.
    pub builtin: bool,
}

/// What one option's value means for k3s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As wanted (`=y`, or off when it must be off).
    Ok,
    /// `=m` where `=y` is asked: usable once the module loads; a failure under [`Policy::builtin`].
    Module,
    /// Not set, empty, or absent, where it is wanted.
    Missing,
    /// Enabled where it must be off.
    Enabled,
}

/// One option's result.
#[derive(Debug, Clone)]
pub struct OptionResult {
    /// The model's entry.
    pub option: &'static KernelOption,
    /// The configured value, `None` when the config does not mention it.
    pub value: Option<Value>,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether the verdict fails this option under the policy it was checked with.
    pub failed: bool,
}

impl OptionResult {
    /// `CONFIG_X=y`, `CONFIG_X=m`, `# CONFIG_X is not set` (absent reads as not set).
    pub fn shown(&self) -> String {
        self.value.clone().unwrap_or(Value::NotSet).line(self.option.name)
    }

    /// The verdict in words, the same in both tools: `ok`, `=m, the fragment asks =y`, ...
    pub fn explain(&self) -> &'static str {
        match (self.verdict, self.option.want) {
            (Verdict::Ok, _) => "ok",
            (Verdict::Module, _) => "a module (=m) where the fragment asks built-in (=y)",
            (Verdict::Missing, _) => "not set",
            (Verdict::Enabled, _) => "enabled where k3s needs it off",
        }
    }

    /// The report tag: `ok`, `module`, `MISSING` (required) or `warn` (recommended).
    pub fn tag(&self) -> &'static str {
        match (self.verdict, self.failed, self.option.level) {
            (Verdict::Ok, _, _) => "ok",
            (_, false, Level::Required) => "module",
            (_, true, Level::Required) => "MISSING",
            (_, _, Level::Recommended) => "warn",
        }
    }
}

/// Judges one value against one option.
pub fn verdict(option: &KernelOption, value: Option<&Value>) -> Verdict {
    match (option.want, value) {
        (Want::On, Some(Value::Yes | Value::Other(_))) => Verdict::Ok,
        (Want::On, Some(Value::Module)) => Verdict::Module,
        (Want::On, _) => Verdict::Missing,
        (Want::Off, Some(Value::Yes | Value::Module)) => Verdict::Enabled,
        (Want::Off, _) => Verdict::Ok,
    }
}

/// Checks `cfg` against every model option, in model order.
pub fn check(cfg: &KernelConfig, policy: Policy) -> Vec<OptionResult> {
    OPTIONS
        .iter()
        .map(|option| {
            let value = cfg.get(option.name).cloned();
            let verdict = verdict(option, value.as_ref());
            let failed = match verdict {
                Verdict::Ok => false,
                Verdict::Module => policy.builtin,
                Verdict::Missing | Verdict::Enabled => true,
            };
            OptionResult { option, value, verdict, failed }
        })
        .collect()
}

/// The required options that fail.
pub fn failed_required(results: &[OptionResult]) -> impl Iterator<Item = &OptionResult> {
    results.iter().filter(|r| r.failed && r.option.level == Level::Required)
}

/// The exit status both tools use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Every required item is as wanted.
    Ok = 0,
    /// A required item is missing.
    Missing = 1,
    /// Nothing could be judged: unreadable or unparsable input, bad arguments.
    Unreadable = 2,
}

impl Exit {
    /// The status for a set of results.
    pub fn of(results: &[OptionResult]) -> Exit {
        if failed_required(results).next().is_some() { Exit::Missing } else { Exit::Ok }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dotconfig::parse;

    fn all(value: &str) -> KernelConfig {
        let text: String = OPTIONS
            .iter()
            .map(|o| match o.want {
                Want::On => format!("CONFIG_{}={value}\n", o.name),
                Want::Off => format!("# CONFIG_{} is not set\n", o.name),
            })
            .collect();
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn everything_built_in_passes_under_both_policies() {
        for builtin in [false, true] {
            let r = check(&all("y"), Policy { builtin });
            assert_eq!(Exit::of(&r), Exit::Ok);
            assert!(r.iter().all(|r| r.verdict == Verdict::Ok));
        }
    }

    #[test]
    fn modules_are_reported_and_fail_only_when_built_in_is_demanded() {
        let r = check(&all("m"), Policy::default());
        assert_eq!(Exit::of(&r), Exit::Ok);
        let veth = r.iter().find(|r| r.option.name == "VETH").unwrap();
        assert_eq!((veth.verdict, veth.tag(), veth.shown().as_str()), (Verdict::Module, "module", "CONFIG_VETH=m"));
        let r = check(&all("m"), Policy { builtin: true });
        assert_eq!(Exit::of(&r), Exit::Missing);
        assert_eq!(r.iter().find(|r| r.option.name == "VETH").unwrap().tag(), "MISSING");
    }

    #[test]
    fn absent_empty_and_off_are_missing() {
        for line in ["", "CONFIG_VETH=\n", "# CONFIG_VETH is not set\n", "CONFIG_VETH=n\n"] {
            let mut cfg = all("y");
            cfg.options.remove("VETH");
            cfg.options.extend(parse(line.as_bytes()).unwrap().options);
            let r = check(&cfg, Policy::default());
            assert_eq!(Exit::of(&r), Exit::Missing, "{line:?}");
            let names: Vec<_> = failed_required(&r).map(|r| r.option.name).collect();
            assert_eq!(names, ["VETH"], "{line:?}");
        }
    }

    #[test]
    fn an_option_that_must_be_off_fails_when_on() {
        let Some(off) = OPTIONS.iter().find(|o| o.want == Want::Off) else { return };
        let mut cfg = all("y");
        cfg.options.insert(off.name.into(), Value::Yes);
        let r = check(&cfg, Policy::default());
        let got = r.iter().find(|r| r.option.name == off.name).unwrap();
        assert_eq!(got.verdict, Verdict::Enabled);
        assert!(got.failed);
    }
}
