//! `k3s-bake check-kernel <.config>`: checks a kernel configuration (a build's `.config`, or `/proc/config.gz`
//! unpacked) against [`k3s_model::kernel::OPTIONS`], the same list the layer's fragment is rendered from.
//!
//! Exit status: failure when a required option is missing; recommended options only produce warnings. This is how
//! a maintainer proves that a BSP kernel (or linux-yocto after the fragment) really carries what k3s needs, since
//! `merge_config` silently drops a fragment line whose dependencies are missing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use k3s_model::kernel::{KernelOption, Level, OPTIONS};

/// The value of a symbol in a `.config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// `=y`
    BuiltIn,
    /// `=m`
    Module,
    /// `# CONFIG_X is not set`, or absent.
    Off,
    /// Any other value (numbers, strings): present, so it counts as set.
    Other,
}

/// Parses a `.config`; errors name the file and line.
pub fn parse(text: &str, origin: &str) -> Result<BTreeMap<String, Value>> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# CONFIG_") {
            if let Some(name) = rest.strip_suffix(" is not set") {
                map.insert(name.to_owned(), Value::Off);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("{origin}:{}: expected CONFIG_NAME=value or a comment, found {line:?}", n + 1);
        };
        let Some(name) = key.strip_prefix("CONFIG_") else {
            bail!("{origin}:{}: expected a CONFIG_ symbol, found {key:?}", n + 1);
        };
        let value = match value {
            "y" => Value::BuiltIn,
            "m" => Value::Module,
            "n" => Value::Off,
            _ => Value::Other,
        };
        map.insert(name.to_owned(), value);
    }
    Ok(map)
}

/// One option the configuration lacks.
#[derive(Debug, PartialEq, Eq)]
pub struct Missing {
    /// The model's entry.
    pub option: &'static KernelOption,
}

/// Every model option that is off or absent in `config`.
pub fn missing(config: &BTreeMap<String, Value>) -> Vec<Missing> {
    OPTIONS
        .iter()
        .filter(|o| matches!(config.get(o.name).copied().unwrap_or(Value::Off), Value::Off))
        .map(|option| Missing { option })
        .collect()
}

/// Runs the subcommand: prints a report, fails when a required option is missing.
pub fn run(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = parse(&text, &path.display().to_string())?;
    let missing = missing(&config);
    let required: Vec<_> = missing.iter().filter(|m| m.option.level == Level::Required).collect();
    for m in &missing {
        let o = m.option;
        let tag = if o.level == Level::Required { "MISSING" } else { "warning" };
        println!("{tag}: CONFIG_{} ({} {}): {}", o.name, o.level.as_str(), o.area.title(), o.why);
    }
    println!(
        "{}: {} of {} options set; {} required and {} recommended missing",
        path.display(),
        OPTIONS.len() - missing.len(),
        OPTIONS.len(),
        required.len(),
        missing.len() - required.len()
    );
    if !required.is_empty() {
        bail!("{} required kernel option(s) missing in {}", required.len(), path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_config() -> String {
        OPTIONS.iter().map(|o| format!("CONFIG_{}=y\n", o.name)).collect()
    }

    #[test]
    fn a_config_with_every_option_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".config");
        std::fs::write(&path, full_config()).unwrap();
        run(&path).unwrap();
    }

    #[test]
    fn a_missing_required_option_fails_and_a_recommended_one_only_warns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".config");
        let text = full_config().replace("CONFIG_VXLAN=y\n", "# CONFIG_VXLAN is not set\n");
        std::fs::write(&path, &text).unwrap();
        run(&path).unwrap();
        let text = text.replace("CONFIG_VETH=y\n", "");
        std::fs::write(&path, &text).unwrap();
        let err = run(&path).unwrap_err().to_string();
        assert!(err.contains("1 required kernel option(s) missing"), "{err}");
        let names: Vec<_> = missing(&parse(&text, "t").unwrap()).iter().map(|m| m.option.name).collect();
        assert_eq!(names, ["VETH", "VXLAN"]);
    }

    #[test]
    fn modules_and_values_count_as_set() {
        let config = parse("CONFIG_VETH=m\nCONFIG_NR_CPUS=8\nCONFIG_BRIDGE=n\n", "t").unwrap();
        assert_eq!(config["VETH"], Value::Module);
        assert_eq!(config["NR_CPUS"], Value::Other);
        assert_eq!(config["BRIDGE"], Value::Off);
    }

    #[test]
    fn garbage_names_file_and_line() {
        let err = parse("CONFIG_A=y\nnonsense\n", "k.config").unwrap_err().to_string();
        assert_eq!(err, "k.config:2: expected CONFIG_NAME=value or a comment, found \"nonsense\"");
        let err = parse("FOO=y\n", "k.config").unwrap_err().to_string();
        assert!(err.starts_with("k.config:1: expected a CONFIG_ symbol"), "{err}");
    }
}
