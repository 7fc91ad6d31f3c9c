//! A Yocto SDK's `environment-setup-*` file, read without running it.
//!
//! The file is shell, but what `cross` needs from it is a list of `export NAME=value` lines (CC, LDFLAGS, PATH,
//! OECORE_TARGET_ARCH, TARGET_PREFIX, SDKTARGETSYSROOT). Those are read here with the shell's quoting rules for
//! the forms the SDK writes (`"…"` with `$NAME`/`${NAME}` expanded from earlier lines or the environment, `'…'`
//! literal, bare words); anything that would need a shell to evaluate (`$(…)`, backquotes) is refused with its
//! line, so sourcing a hostile file is never the way its values are learned.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

/// The exported variables of an SDK environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkEnv {
    /// NAME → value, after expansion.
    pub vars: BTreeMap<String, String>,
}

impl SdkEnv {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<SdkEnv> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read the SDK environment file", e))?;
        SdkEnv::parse(&text, |name| std::env::var(name).ok())
            .map_err(|(line, m)| Error::invalid(format!("{}:{line}", path.display()), m))
    }

    /// Parses the text; `outer` answers variables the file does not set (the caller's environment).
    pub fn parse(text: &str, outer: impl Fn(&str) -> Option<String>) -> std::result::Result<SdkEnv, (usize, String)> {
        let mut env = SdkEnv::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let Some(assign) = line.strip_prefix("export ") else { continue };
            let Some((name, value)) = assign.split_once('=') else { continue };
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                continue;
            }
            let value = expand(value, &env.vars, &outer).map_err(|m| (i + 1, format!("{name}: {m}")))?;
            env.vars.insert(name.to_owned(), value);
        }
        Ok(env)
    }

    /// One variable, or an error naming it.
    pub fn get(&self, name: &str) -> Result<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Error::invalid("--sdk", format!("the environment file exports no {name}")))
    }
}

fn expand(
    value: &str,
    vars: &BTreeMap<String, String>,
    outer: &impl Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '`') => return Err("backquotes need a shell; refused".into()),
            (None, c) if c.is_whitespace() => return Err("an unquoted space (more than one word); refused".into()),
            (None, ';' | '&' | '|' | '<' | '>') => return Err(format!("{c:?} needs a shell; refused")),
            (_, '$') => {
                let name: String = match chars.peek() {
                    Some('{') => {
                        chars.next();
                        let n: String = chars.by_ref().take_while(|&c| c != '}').collect();
                        n
                    }
                    Some('(') => return Err("$(…) needs a shell; refused".into()),
                    _ => {
                        let mut n = String::new();
                        while let Some(&c) = chars.peek() {
                            if c.is_ascii_alphanumeric() || c == '_' {
                                n.push(c);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        n
                    }
                };
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(format!("${{{name}}} is not a plain variable reference; refused"));
                }
                out.push_str(&vars.get(&name).cloned().or_else(|| outer(&name)).unwrap_or_default());
            }
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (_, c) => out.push(c),
        }
    }
    if quote.is_some() {
        return Err("unclosed quote".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of an OE-Core SDK's environment-setup-cortexa57-poky-linux (written by toolchain-scripts.bbclass).
    const SDK: &str = r#"# Check for LD_LIBRARY_PATH being set, which can break SDK and generally is a bad practice
if [ -n "${LD_LIBRARY_PATH:-}" ]; then
  echo "Your environment is misconfigured"
fi
export SDKTARGETSYSROOT=/opt/oe/6.0/sysroots/cortexa57-oe-linux
export PATH=/opt/oe/6.0/sysroots/x86_64-oesdk-linux/usr/bin:/opt/oe/6.0/sysroots/x86_64-oesdk-linux/usr/bin/aarch64-oe-linux:$PATH
export CC="aarch64-oe-linux-gcc  -mcpu=cortex-a57 -mbranch-protection=standard -fstack-protector-strong  -O2 --sysroot=$SDKTARGETSYSROOT"
export LDFLAGS="-Wl,-O1 -Wl,--hash-style=gnu -Wl,--as-needed  -Wl,-z,relro,-z,now"
export TARGET_PREFIX=aarch64-oe-linux-
export OECORE_TARGET_ARCH="aarch64"
"#;

    #[test]
    fn reads_what_cross_needs_and_expands_earlier_lines() {
        let env = SdkEnv::parse(SDK, |n| (n == "PATH").then(|| "/usr/bin".to_owned())).unwrap();
        assert_eq!(env.get("OECORE_TARGET_ARCH").unwrap(), "aarch64");
        assert!(env.get("CC").unwrap().ends_with("--sysroot=/opt/oe/6.0/sysroots/cortexa57-oe-linux"));
        assert!(env.get("PATH").unwrap().ends_with("aarch64-oe-linux:/usr/bin"));
    }

    #[test]
    fn shell_evaluation_is_refused_with_the_line() {
        for bad in ["export CC=$(touch /tmp/x)", "export CC=`id`", "export CC=gcc; rm -rf /", "export CC=\"unclosed"] {
            let (line, msg) = SdkEnv::parse(&format!("# x\n{bad}\n"), |_| None).unwrap_err();
            assert_eq!(line, 2, "{bad}: {msg}");
            assert!(msg.starts_with("CC: "), "{msg}");
        }
    }
}
