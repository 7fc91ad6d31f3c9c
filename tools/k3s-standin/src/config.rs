//! k3s's config files turned into flags, as `pkg/configfilearg` does it (see `k3s_model::flags` for provenance).
//!
//! - Which file: `$K3S_CONFIG_FILE`, else `--config FILE`/`--config=FILE`/`-c FILE`/`-c=FILE` in the arguments,
//!   else `/etc/rancher/k3s/config.yaml`. Then every `*.yaml`/`*.yml` (suffix case-insensitive) in `FILE.d/`, in
//!   lexical order. No file and no drop-in: the arguments are used as they are.
//! - Merge: keys in the order first seen; a later value replaces an earlier one, except `key+:` which appends (a
//!   scalar counts as a one-item list).
//! - Flags: `--key=value` (`-k=value` for a one-letter key), one per list item, inserted right after the
//!   subcommand so that command-line flags come later and win.
//! - `server` drops keys it does not define, warning `Unknown flag --key found in config.yaml, skipping`; `agent`
//!   keeps them, so its flag parser refuses them.

use k3s_model::flags::Command;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};

/// k3s's default config file.
pub const DEFAULT_CONFIG: &str = k3s_model::paths::CONFIG_FILE;

/// A config value, as `convert.ToString` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A YAML string (kept verbatim).
    Str(String),
    /// A bool, number or null, already in Go's string form (null is "").
    Other(String),
    /// A sequence, each item in string form.
    List(Vec<String>),
}

impl Value {
    fn to_slice(&self) -> Vec<String> {
        match self {
            Value::Str(s) => vec![s.clone()],
            Value::List(l) => l.clone(),
            Value::Other(s) => {
                let t = s.trim();
                if t.is_empty() { Vec::new() } else { vec![t.to_string()] }
            }
        }
    }
}

/// One config file: `(key, value)` in file order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Doc(pub Vec<(String, Value)>);

struct ScalarText;

impl<'de> Visitor<'de> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.to_string())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(String::new())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(String::new())
    }
}

struct Scalar(String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarText).map(Scalar)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar or a list of scalars")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Other(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Other(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Other(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Other(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Other(String::new()))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Other(String::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Scalar(s)) = seq.next_element()? {
            items.push(s);
        }
        Ok(Value::List(items))
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of flag names to values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut out = Vec::new();
        while let Some((Scalar(k), v)) = map.next_entry::<Scalar, Value>()? {
            out.push((k, v));
        }
        Ok(Doc(out))
    }
    fn visit_unit<E>(self) -> Result<Doc, E> {
        Ok(Doc::default())
    }
    fn visit_none<E>(self) -> Result<Doc, E> {
        Ok(Doc::default())
    }
}

impl<'de> serde::Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

/// Parses one config file's text.
pub fn parse(text: &str) -> Result<Doc, String> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Doc::default());
    }
    serde_saphyr::from_str::<Doc>(text).map_err(|e| e.to_string())
}

/// The drop-ins of `config`: `*.yaml`/`*.yml` files of `config.d`, lexical order (Go's `os.ReadDir` sorts).
pub fn dropins(config: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dir = config.as_os_str().to_owned();
    dir.push(".d");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if e.file_type()?.is_dir() || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        files.push(e.path());
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// The merged flags of several files, in order.
pub fn merge(docs: &[Doc]) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut values: Vec<(String, Value)> = Vec::new();
    for doc in docs {
        for (key, v) in &doc.0 {
            let (key, append) = match key.strip_suffix('+') {
                Some(k) => (k.to_string(), true),
                None => (key.clone(), false),
            };
            if !order.contains(&key) {
                order.push(key.clone());
            }
            match values.iter_mut().find(|(k, _)| *k == key) {
                Some((_, old)) if append => {
                    let mut l = old.to_slice();
                    l.extend(v.to_slice());
                    *old = Value::List(l);
                }
                Some((_, old)) => *old = v.clone(),
                None => values.push((key, v.clone())),
            }
        }
    }
    let mut out = Vec::new();
    for key in order {
        let Some((_, v)) = values.iter().find(|(k, _)| *k == key) else { continue };
        let prefix = if key.chars().count() == 1 { "-" } else { "--" };
        match v {
            Value::List(items) => out.extend(items.iter().map(|i| format!("{prefix}{key}={i}"))),
            Value::Str(s) | Value::Other(s) => out.push(format!("{prefix}{key}={s}")),
        }
    }
    out
}

/// The config file k3s reads: `$K3S_CONFIG_FILE`, `--config`/`-c` in `args`, or the default.
pub fn config_file(args: &[String], env: Option<String>) -> String {
    if let Some(v) = env.filter(|v| !v.is_empty()) {
        return v;
    }
    for (i, arg) in args.iter().enumerate() {
        for flag in ["--config", "-c"] {
            if arg == flag {
                return args.get(i + 1).cloned().unwrap_or_default();
            }
            if let Some(v) = arg.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                return v.to_string();
            }
        }
    }
    DEFAULT_CONFIG.to_string()
}

/// A warning k3s logs while expanding.
pub type Warning = String;

/// `configfilearg.Parse`: `args` (argv[0] first) with the config files' flags inserted after the subcommand.
pub fn expand(args: &[String], env_config: Option<String>) -> Result<(Vec<String>, Vec<Warning>), String> {
    let Some(at) = args.iter().position(|a| a == "server" || a == "agent") else {
        return Ok((args.to_vec(), Vec::new()));
    };
    let file = config_file(args, env_config);
    if file.is_empty() {
        return Ok((args.to_vec(), Vec::new()));
    }
    let path = Path::new(&file);
    let mut files = dropins(path).map_err(|e| format!("{file}.d: {e}"))?;
    if path.exists() {
        files.insert(0, path.to_path_buf());
    } else if files.is_empty() {
        return Ok((args.to_vec(), Vec::new()));
    }
    let mut docs = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        docs.push(parse(&text).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    let mut values = merge(&docs);
    let mut warnings = Vec::new();
    let command = match args.get(1).map(String::as_str) {
        Some("server") => Some(Command::Server),
        Some("agent") => Some(Command::Agent),
        _ => None,
    };
    if let Some(cmd) = command.filter(|c| c.drops_unknown_config_keys()) {
        values.retain(|arg| {
            let name = arg.trim_start_matches('-');
            let name = name.split_once('=').map_or(name, |(n, _)| n);
            let known = cmd.find(name).is_some();
            if !known {
                let shown = arg.split('=').next().unwrap_or(arg);
                warnings.push(format!("Unknown flag {shown} found in config.yaml, skipping"));
            }
            known
        });
    }
    let mut out = args[..=at].to_vec();
    out.extend(values);
    out.extend_from_slice(&args[at + 1..]);
    Ok((out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn merge_order_replace_and_append() {
        let a = parse("token: abc\nnode-label:\n  - a=1\ndebug: true\nv: 2\ni: 10.0.0.1\n").unwrap();
        let b = parse("node-label+: [b=2]\ntoken: def\nkubelet-arg+: x=y\nwrite-kubeconfig-mode: \"0644\"\n").unwrap();
        assert_eq!(
            merge(&[a, b]),
            s(&[
                "--token=def",
                "--node-label=a=1",
                "--node-label=b=2",
                "--debug=true",
                "-v=2",
                "-i=10.0.0.1",
                "--kubelet-arg=x=y",
                "--write-kubeconfig-mode=0644",
            ])
        );
        assert_eq!(parse("# only a comment\n").unwrap(), Doc::default());
    }

    #[test]
    fn server_drops_unknown_keys_agent_keeps_them() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("config.yaml");
        std::fs::write(&cfg, "disable: [traefik]\nnode-name: n1\nnot-a-flag: x\n").unwrap();
        std::fs::create_dir(d.path().join("config.yaml.d")).unwrap();
        std::fs::write(d.path().join("config.yaml.d/20-b.YML"), "node-name: n2\n").unwrap();
        std::fs::write(d.path().join("config.yaml.d/10-a.yaml"), "node-name: n3\nnode-ip: 10.0.0.2\n").unwrap();
        std::fs::write(d.path().join("config.yaml.d/30-c.txt"), "ignored: x\n").unwrap();
        let env = Some(cfg.display().to_string());
        let (args, warns) = expand(&s(&["k3s", "server", "--debug"]), env.clone()).unwrap();
        assert_eq!(args, s(&["k3s", "server", "--disable=traefik", "--node-name=n2", "--node-ip=10.0.0.2", "--debug"]));
        assert_eq!(warns, s(&["Unknown flag --not-a-flag found in config.yaml, skipping"]));
        let (args, warns) = expand(&s(&["k3s", "agent"]), env).unwrap();
        assert_eq!(args[2..4], s(&["--disable=traefik", "--node-name=n2"]));
        assert!(args.contains(&"--not-a-flag=x".to_string()) && warns.is_empty());
    }

    #[test]
    fn config_file_choice() {
        assert_eq!(config_file(&s(&["k3s", "agent"]), Some("/x".into())), "/x");
        assert_eq!(config_file(&s(&["k3s", "agent", "-c", "/y"]), None), "/y");
        assert_eq!(config_file(&s(&["k3s", "agent", "--config=/z"]), Some(String::new())), "/z");
        assert_eq!(config_file(&s(&["k3s", "agent"]), None), DEFAULT_CONFIG);
        let (args, _) = expand(&s(&["k3s", "agent", "-c", "/nonexistent/c.yaml"]), None).unwrap();
        assert_eq!(args, s(&["k3s", "agent", "-c", "/nonexistent/c.yaml"]));
    }
}
