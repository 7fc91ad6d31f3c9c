//! Kernel `.config` files: `CONFIG_FOO=y`, `CONFIG_BAR=m`, `CONFIG_S="text"`, `# CONFIG_BAZ is not set`.
//!
//! One rule set for every tool: comments and blank lines are skipped, any other line must be `CONFIG_NAME=value`
//! with a symbol of letters, digits and `_`; later lines win (as in Kconfig's own merge); `CONFIG_A=` (an empty
//! value, which Kconfig writes for nothing but which hand-made fragments contain) is accepted as
//! [`Value::Empty`], which counts as not enabled, the way Kconfig treats an empty bool or tristate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The value of one option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `=y`: built in.
    Yes,
    /// `=m`: a module.
    Module,
    /// `# CONFIG_X is not set` or `=n`.
    NotSet,
    /// `=` with nothing after it.
    Empty,
    /// A string or number (`="..."`, `=0x10`).
    Other(String),
}

impl Value {
    /// Whether the feature is available (built in or as a module).
    pub fn enabled(&self) -> bool {
        matches!(self, Value::Yes | Value::Module)
    }

    /// As written after `=` (`y`, `m`, `""`...); `None` for not set.
    pub fn as_config(&self) -> Option<&str> {
        match self {
            Value::Yes => Some("y"),
            Value::Module => Some("m"),
            Value::NotSet => None,
            Value::Empty => Some(""),
            Value::Other(s) => Some(s),
        }
    }

    /// The `.config` line for `name` with this value.
    pub fn line(&self, name: &str) -> String {
        match self.as_config() {
            None => format!("# CONFIG_{name} is not set"),
            Some(v) => format!("CONFIG_{name}={v}"),
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
    /// The value of `name` (without `CONFIG_`), `None` when the config does not mention it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.options.get(name)
    }
}

/// Whether `s` is a Kconfig symbol name.
pub fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses one line: `Ok(None)` for blank lines and comments that are not `# CONFIG_X is not set`.
pub fn parse_line(line: &str) -> Result<Option<(String, Value)>, String> {
    let line = line.trim_end_matches('\r').trim();
    if line.is_empty() {
        return Ok(None);
    }
    if let Some(comment) = line.strip_prefix('#') {
        let name = comment.trim().strip_prefix("CONFIG_").and_then(|r| r.strip_suffix(" is not set"));
        return Ok(name.filter(|n| is_symbol(n)).map(|n| (n.to_string(), Value::NotSet)));
    }
    let rest = line.strip_prefix("CONFIG_").ok_or("expected CONFIG_NAME=value or a # comment")?;
    let (name, value) = rest.split_once('=').ok_or("expected '=' after the option name")?;
    if !is_symbol(name) {
        return Err("option name may hold only letters, digits and '_'".into());
    }
    let value = match value {
        "y" => Value::Yes,
        "m" => Value::Module,
        "n" => Value::NotSet,
        "" => Value::Empty,
        v => Value::Other(v.to_string()),
    };
    Ok(Some((name.to_string(), value)))
}

/// Parses a `.config` (or a fragment: the same syntax).
pub fn parse(text: &[u8]) -> Result<KernelConfig, ParseError> {
    let mut cfg = KernelConfig::default();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let err = |what: String| ParseError { line: i + 1, what };
        let line = std::str::from_utf8(raw).map_err(|_| err("not UTF-8".into()))?;
        if let Some((name, value)) = parse_line(line).map_err(err)? {
            cfg.options.insert(name, value);
        }
    }
    Ok(cfg)
}

/// Why a config file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading failed (the cause is the source: whoever prints the chain says it once).
    #[error("{}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Decompression failed (the cause is the source).
    #[error("{}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The error.
        source: crate::gzip::GzipError,
    },
    /// The text is not a kernel config: `FILE:LINE: what`, the line in the message, so the parse error is not
    /// also a source (it would be said twice).
    #[error("{}:{error}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        error: ParseError,
    },
}

/// Decodes bytes read from `path`: gunzipped when they start with the gzip magic (whatever the file is called).
pub fn decode(path: &Path, data: &[u8]) -> Result<KernelConfig, LoadError> {
    let text;
    let text = if data.starts_with(&[0x1f, 0x8b]) {
        text = crate::gzip::decompress(data).map_err(|source| LoadError::Gzip { path: path.into(), source })?;
        &text[..]
    } else {
        data
    };
    parse(text).map_err(|error| LoadError::Parse { path: path.into(), error })
}

/// Reads and parses a config file, plain or gzip.
pub fn load(path: &Path) -> Result<KernelConfig, LoadError> {
    let data = std::fs::read(path).map_err(|source| LoadError::Read { path: path.into(), source })?;
    decode(path, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms() {
        let cfg = parse(b"#\n# Automatically generated\nCONFIG_NET_NS=y\nCONFIG_VETH=m\n\n# CONFIG_USER_NS is not set\nCONFIG_LOCALVERSION=\"-k3s\"\r\nCONFIG_X=1\nCONFIG_X=n\nCONFIG_E=\n").unwrap();
        assert_eq!(cfg.get("NET_NS"), Some(&Value::Yes));
        assert_eq!(cfg.get("VETH"), Some(&Value::Module));
        assert_eq!(cfg.get("USER_NS"), Some(&Value::NotSet));
        assert_eq!(cfg.get("LOCALVERSION"), Some(&Value::Other("\"-k3s\"".into())));
        assert_eq!(cfg.get("X"), Some(&Value::NotSet), "later lines win");
        assert_eq!(cfg.get("E"), Some(&Value::Empty), "CONFIG_A= is accepted");
        assert!(!Value::Empty.enabled());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse(b"CONFIG_A=y\nNET_NS=y\n").unwrap_err().line, 2);
        assert_eq!(parse(b"CONFIG_A=y\n\nCONFIG_B\n").unwrap_err().line, 3);
        assert_eq!(parse(b"CONFIG_A B=y\n").unwrap_err().line, 1);
        assert_eq!(parse(b"CONFIG_A=\xff\n").unwrap_err().line, 1);
    }

    #[test]
    fn lines_round_trip() {
        for (v, l) in
            [(Value::Yes, "CONFIG_A=y"), (Value::NotSet, "# CONFIG_A is not set"), (Value::Empty, "CONFIG_A=")]
        {
            assert_eq!(v.line("A"), l);
            assert_eq!(parse_line(l).unwrap(), Some(("A".into(), v)));
        }
    }

    #[test]
    fn load_reads_gzip_by_content_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, "CONFIG_VETH=y\n").unwrap();
        assert!(std::process::Command::new("gzip").arg("-k").arg(&f).status().expect("gzip").success());
        let plain = load(&f).unwrap();
        assert_eq!(load(&dir.path().join("config.gz")).unwrap(), plain);
        std::fs::write(&f, "CONFIG_VETH=y\nnonsense\n").unwrap();
        let e = load(&f).unwrap_err().to_string();
        assert!(e.ends_with("config:line 2: expected CONFIG_NAME=value or a # comment"), "{e}");
        assert!(matches!(load(&dir.path().join("absent")), Err(LoadError::Read { .. })));
    }
}
