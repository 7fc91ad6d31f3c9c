//! Parser for kernel `.config` files (`CONFIG_FOO=y`, `# CONFIG_BAR is not set`).

use std::collections::BTreeMap;

/// The value of one option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `=y`: built in.
    Yes,
    /// `=m`: a module.
    Module,
    /// `# CONFIG_X is not set`.
    NotSet,
    /// A string or number (`="..."`, `=0x10`).
    Other(String),
}

impl Value {
    /// Whether the feature is available (built in or as a module).
    pub fn enabled(&self) -> bool {
        matches!(self, Value::Yes | Value::Module)
    }

    /// As written after `=` (`y`, `m`, ...); `None` for not set.
    pub fn as_config(&self) -> Option<&str> {
        match self {
            Value::Yes => Some("y"),
            Value::Module => Some("m"),
            Value::NotSet => None,
            Value::Other(s) => Some(s),
        }
    }
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected.
    pub what: String,
}

/// A parsed kernel configuration: symbol (without `CONFIG_`) to value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelConfig {
    /// The options, by symbol.
    pub options: BTreeMap<String, Value>,
}

impl KernelConfig {
    /// The value of `name` (without `CONFIG_`); absent options are [`Value::NotSet`] in Kconfig terms.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.options.get(name)
    }
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses a `.config`. Comments and blank lines are skipped; any other line must be `CONFIG_NAME=value`.
/// Later lines override earlier ones, as in Kconfig.
pub fn parse(text: &[u8]) -> Result<KernelConfig, ParseError> {
    let mut cfg = KernelConfig::default();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let err = |what: &str| ParseError { line: line_no, what: what.to_string() };
        let line = std::str::from_utf8(raw).map_err(|_| err("not UTF-8"))?;
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(name) = comment.trim().strip_prefix("CONFIG_").and_then(|r| r.strip_suffix(" is not set"))
                && is_symbol(name)
            {
                cfg.options.insert(name.to_string(), Value::NotSet);
            }
            continue;
        }
        let rest = line.strip_prefix("CONFIG_").ok_or_else(|| err("expected CONFIG_NAME=value or a # comment"))?;
        let (name, value) = rest.split_once('=').ok_or_else(|| err("expected '=' after the option name"))?;
        if !is_symbol(name) {
            return Err(err("option name may hold only letters, digits and '_'"));
        }
        let value = match value {
            "y" => Value::Yes,
            "m" => Value::Module,
            "n" => Value::NotSet,
            "" => return Err(err("empty value")),
            v => Value::Other(v.to_string()),
        };
        cfg.options.insert(name.to_string(), value);
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        let cfg = parse(b"#\n# Automatically generated\nCONFIG_NET_NS=y\nCONFIG_VETH=m\n\n# CONFIG_USER_NS is not set\nCONFIG_LOCALVERSION=\"-k3s\"\r\nCONFIG_X=1\nCONFIG_X=n\n").unwrap();
        assert_eq!(cfg.get("NET_NS"), Some(&Value::Yes));
        assert_eq!(cfg.get("VETH"), Some(&Value::Module));
        assert_eq!(cfg.get("USER_NS"), Some(&Value::NotSet));
        assert_eq!(cfg.get("LOCALVERSION"), Some(&Value::Other("\"-k3s\"".into())));
        assert_eq!(cfg.get("X"), Some(&Value::NotSet), "later lines win");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse(b"CONFIG_A=y\nNET_NS=y\n").unwrap_err().line, 2);
        assert_eq!(parse(b"CONFIG_A=y\n\nCONFIG_B\n").unwrap_err().line, 3);
        assert_eq!(parse(b"CONFIG_A B=y\n").unwrap_err().line, 1);
        assert_eq!(parse(b"CONFIG_A=\n").unwrap_err().line, 1);
        assert_eq!(parse(b"CONFIG_A=\xff\n").unwrap_err().line, 1);
    }
}
