//! `[target.'<spec>'.dependencies]` specs and the facts they are evaluated against.
//!
//! A spec is a target triple (`x86_64-pc-windows-msvc`, equal or not) or `cfg(<expr>)` with cargo's grammar:
//! `name`, `key = "value"`, `all(…)`, `any(…)`, `not(…)`, `true`, `false`. Cargo evaluates it against what
//! `rustc --print cfg --target T` prints (plus rustflags; [`crate::features`] leaves builds with rustflags to cargo).
//! The facts of the layer's three triples are recorded in `target-cfgs.txt` (checked against the installed rustc
//! by `tests/target_cfgs.rs`), so the common case spawns no rustc.

use std::collections::BTreeSet;
use std::fmt;

/// The recorded facts (`target-cfgs.sh` writes them).
const RECORDED: &str = include_str!("target-cfgs.txt");

/// The cfg values of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCfg {
    /// The triple (what a non-cfg spec is compared with).
    pub triple: String,
    names: BTreeSet<String>,
    pairs: BTreeSet<(String, String)>,
}

impl TargetCfg {
    /// Reads `rustc --print cfg` output: one `name` or `key="value"` per line.
    pub fn from_rustc(triple: &str, text: &str) -> Result<TargetCfg, String> {
        let mut cfg = TargetCfg { triple: triple.to_owned(), names: BTreeSet::new(), pairs: BTreeSet::new() };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once('=') {
                Some((k, v)) => {
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .ok_or_else(|| format!("{triple}: cfg line `{line}`: expected key=\"value\""))?;
                    cfg.pairs.insert((k.to_owned(), v.to_owned()));
                }
                None => {
                    cfg.names.insert(line.to_owned());
                }
            }
        }
        Ok(cfg)
    }

    /// The recorded facts of `triple`, if it is one of the recorded ones.
    pub fn recorded(triple: &str) -> Option<TargetCfg> {
        let mut section: Option<&str> = None;
        let mut body = String::new();
        for line in RECORDED.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                if section == Some(triple) {
                    break;
                }
                section = Some(t);
                continue;
            }
            if section == Some(triple) {
                body.push_str(line);
                body.push('\n');
            }
        }
        if section == Some(triple) { TargetCfg::from_rustc(triple, &body).ok() } else { None }
    }

    /// The triples whose facts are recorded.
    pub fn recorded_triples() -> Vec<String> {
        RECORDED
            .lines()
            .filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
            .map(str::to_owned)
            .collect()
    }

    fn has(&self, c: &Cfg) -> bool {
        match c {
            Cfg::Name(n) => self.names.contains(n),
            Cfg::KeyPair(k, v) => self.pairs.contains(&(k.clone(), v.clone())),
        }
    }
}

/// One cfg atom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cfg {
    /// `unix`, `debug_assertions`.
    Name(String),
    /// `target_os = "linux"`.
    KeyPair(String, String),
}

/// A cfg expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfgExpr {
    /// `not(e)`.
    Not(Box<CfgExpr>),
    /// `all(e, …)` (true when empty).
    All(Vec<CfgExpr>),
    /// `any(e, …)` (false when empty).
    Any(Vec<CfgExpr>),
    /// An atom.
    Value(Cfg),
    /// `true` / `false`.
    Bool(bool),
}

impl CfgExpr {
    /// Evaluates against a target's facts.
    pub fn eval(&self, t: &TargetCfg) -> bool {
        match self {
            CfgExpr::Not(e) => !e.eval(t),
            CfgExpr::All(es) => es.iter().all(|e| e.eval(t)),
            CfgExpr::Any(es) => es.iter().any(|e| e.eval(t)),
            CfgExpr::Value(c) => t.has(c),
            CfgExpr::Bool(b) => *b,
        }
    }
}

/// What a `[target.<spec>]` table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// A target triple.
    Name(String),
    /// `cfg(…)`.
    Cfg(CfgExpr),
}

impl Platform {
    /// Parses a spec as cargo does.
    pub fn parse(spec: &str) -> Result<Platform, String> {
        let s = spec.trim();
        if let Some(inner) = s.strip_prefix("cfg(").and_then(|r| r.strip_suffix(')')) {
            let mut p = Parser { s: inner.as_bytes(), i: 0 };
            let e = p.expr().map_err(|m| format!("target spec `{spec}`: {m}"))?;
            p.ws();
            if p.i != p.s.len() {
                return Err(format!("target spec `{spec}`: unexpected `{}`", &inner[p.i..]));
            }
            return Ok(Platform::Cfg(e));
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Ok(Platform::Name(s.to_owned()));
        }
        Err(format!("target spec `{spec}`: neither a target triple nor `cfg(…)`"))
    }

    /// Does a dependency under this spec apply to the target?
    pub fn matches(&self, t: &TargetCfg) -> bool {
        match self {
            Platform::Name(n) => *n == t.triple,
            Platform::Cfg(e) => e.eval(t),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Platform::Name(n) => f.write_str(n),
            Platform::Cfg(e) => write!(f, "cfg({e:?})"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        // Raw identifiers (`r#name`) name the same cfg.
        if self.s[self.i..].starts_with(b"r#") {
            self.i += 2;
        }
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        let id = &self.s[start..self.i];
        if id.is_empty() || id[0].is_ascii_digit() {
            return Err(format!("expected an identifier at byte {start}"));
        }
        Ok(String::from_utf8_lossy(id).into_owned())
    }

    fn string(&mut self) -> Result<String, String> {
        self.ws();
        if !self.eat(b'"') {
            return Err(format!("expected a string at byte {}", self.i));
        }
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != b'"' {
            self.i += 1;
        }
        if self.i == self.s.len() {
            return Err("unterminated string".into());
        }
        let v = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(v)
    }

    fn list(&mut self) -> Result<Vec<CfgExpr>, String> {
        if !self.eat(b'(') {
            return Err(format!("expected `(` at byte {}", self.i));
        }
        let mut out = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(out);
            }
            out.push(self.expr()?);
            if self.eat(b',') {
                continue;
            }
            if self.eat(b')') {
                return Ok(out);
            }
            return Err(format!("expected `,` or `)` at byte {}", self.i));
        }
    }

    fn expr(&mut self) -> Result<CfgExpr, String> {
        let id = self.ident()?;
        self.ws();
        let next = self.s.get(self.i).copied();
        match (id.as_str(), next) {
            ("all", Some(b'(')) => Ok(CfgExpr::All(self.list()?)),
            ("any", Some(b'(')) => Ok(CfgExpr::Any(self.list()?)),
            ("not", Some(b'(')) => {
                let mut l = self.list()?;
                match (l.pop(), l.is_empty()) {
                    (Some(e), true) => Ok(CfgExpr::Not(Box::new(e))),
                    _ => Err("`not` takes exactly one expression".into()),
                }
            }
            (_, Some(b'=')) => {
                self.i += 1;
                Ok(CfgExpr::Value(Cfg::KeyPair(id, self.string()?)))
            }
            ("true", _) => Ok(CfgExpr::Bool(true)),
            ("false", _) => Ok(CfgExpr::Bool(false)),
            _ => Ok(CfgExpr::Value(Cfg::Name(id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_evaluate_against_recorded_facts() {
        let x86 = TargetCfg::recorded("x86_64-unknown-linux-gnu").unwrap();
        let arm = TargetCfg::recorded("armv7-unknown-linux-gnueabihf").unwrap();
        let m = |spec: &str, t: &TargetCfg| Platform::parse(spec).unwrap().matches(t);
        assert!(m("cfg(unix)", &x86));
        assert!(!m("cfg(windows)", &x86));
        assert!(m("cfg(target_os = \"linux\")", &x86));
        assert!(m("cfg(all(target_os = \"linux\", target_arch = \"x86_64\"))", &x86));
        assert!(!m("cfg(all(target_os = \"linux\", target_arch = \"x86_64\"))", &arm));
        assert!(m("cfg(any(target_arch = \"arm\", target_arch = \"aarch64\",))", &arm));
        assert!(m("cfg(not(target_pointer_width = \"64\"))", &arm));
        assert!(m("cfg(all())", &arm) && !m("cfg(any())", &arm));
        assert!(m("cfg(true)", &arm) && !m("cfg(false)", &arm));
        assert!(m("x86_64-unknown-linux-gnu", &x86) && !m("x86_64-pc-windows-msvc", &x86));
        assert!(m("cfg(target_has_atomic = \"64\")", &arm));
        for bad in ["cfg(", "cfg(all(unix)", "cfg(a = b)", "cfg(not(a, b))", "a b", "cfg(unix) x"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TargetCfg::recorded_triples().len(), 3);
        assert!(TargetCfg::recorded("riscv64gc-unknown-linux-gnu").is_none());
    }
}
