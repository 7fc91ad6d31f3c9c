//! Enough of the Kconfig language to say why a requested option did not end up as requested.
//!
//! `merge_config.sh` only prints "Value requested for CONFIG_X not in final .config"; the reason is in the
//! kernel's Kconfig files: an unmet `depends on` (an `n` dependency drops the option, an `m` one caps a tristate
//! at `m`), an enclosing `if`/`menu … depends on`, a prompt's `if`, or a symbol the kernel does not define. This
//! module reads the tree from `Kconfig` through every `source` (with `$(SRCARCH)`), records for each symbol its
//! definitions with their dependencies, and evaluates them against the final `.config` the way Kconfig does
//! (tristate: n < m < y; `&&` is min, `||` max, `!` is y minus the value).
//!
//! It is not a Kconfig implementation: no defaults, selects or choices are evaluated (the kernel's own
//! `scripts/kconfig` computes the config; this only explains the result), and `$(…)` macros other than the
//! architecture are taken as true.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::dotconfig::{KernelConfig, Value};

/// Why a Kconfig tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LangError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line could not be understood.
    #[error("{}:{line}: {what}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What was expected.
        what: String,
    },
}

/// A dependency expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A symbol or constant (`y`, `m`, `n`, a number).
    Sym(String),
    /// A quoted string.
    Str(String),
    /// A `$(…)` macro: taken as true.
    Macro(String),
    /// `!e`
    Not(Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a = b`, `a != b`, `a < b`, … (the operator as written)
    Cmp(&'static str, Box<Expr>, Box<Expr>),
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Sym(s) | Expr::Macro(s) => f.write_str(s),
            Expr::Str(s) => write!(f, "\"{s}\""),
            Expr::Not(e) => match **e {
                Expr::Sym(_) => write!(f, "!{e}"),
                _ => write!(f, "!({e})"),
            },
            Expr::And(a, b) => {
                let wrap = |e: &Expr| if matches!(e, Expr::Or(..)) { format!("({e})") } else { e.to_string() };
                write!(f, "{} && {}", wrap(a), wrap(b))
            }
            Expr::Or(a, b) => write!(f, "{a} || {b}"),
            Expr::Cmp(op, a, b) => write!(f, "{a}{op}{b}"),
        }
    }
}

/// Tristate values: n = 0, m = 1, y = 2.
pub type Tri = u8;

fn tri_of(v: Option<&Value>) -> Tri {
    match v {
        Some(Value::Yes) => 2,
        Some(Value::Module) => 1,
        _ => 0,
    }
}

fn string_of(cfg: &KernelConfig, e: &Expr) -> String {
    match e {
        Expr::Sym(s) if matches!(s.as_str(), "y" | "m" | "n") => s.clone(),
        Expr::Sym(s) => match cfg.get(s) {
            Some(v) => v.as_config().unwrap_or("n").trim_matches('"').to_string(),
            None if s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
            None => "n".into(),
        },
        Expr::Str(s) => s.clone(),
        other => ["n", "m", "y"][usize::from(eval(cfg, other))].into(),
    }
}

/// Evaluates `e` against `cfg`.
pub fn eval(cfg: &KernelConfig, e: &Expr) -> Tri {
    match e {
        Expr::Sym(s) => match s.as_str() {
            "y" => 2,
            "m" => 1,
            "n" => 0,
            _ => tri_of(cfg.get(s)),
        },
        Expr::Str(_) => 0,
        Expr::Macro(_) => 2,
        Expr::Not(a) => 2 - eval(cfg, a),
        Expr::And(a, b) => eval(cfg, a).min(eval(cfg, b)),
        Expr::Or(a, b) => eval(cfg, a).max(eval(cfg, b)),
        Expr::Cmp(op, a, b) => {
            let (a, b) = (string_of(cfg, a), string_of(cfg, b));
            let num = |s: &str| {
                s.strip_prefix("0x").map_or_else(|| s.parse::<i64>().ok(), |h| i64::from_str_radix(h, 16).ok())
            };
            let ord = match (num(&a), num(&b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => a.cmp(&b),
            };
            let t = match *op {
                "=" => ord.is_eq(),
                "!=" => !ord.is_eq(),
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                ">" => ord.is_gt(),
                _ => ord.is_ge(),
            };
            if t { 2 } else { 0 }
        }
    }
}

/// The symbols `e` names (not constants), in order of appearance.
pub fn symbols(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Sym(s)
            if !matches!(s.as_str(), "y" | "m" | "n") && !s.bytes().all(|b| b.is_ascii_digit()) && !out.contains(s) =>
        {
            out.push(s.clone());
        }
        Expr::Not(a) => symbols(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
            symbols(a, out);
            symbols(b, out);
        }
        _ => {}
    }
}

struct Parser<'a> {
    toks: Vec<&'a str>,
    pos: usize,
}

fn tokenize(s: &str) -> Result<Vec<&str>, String> {
    let mut toks = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'#' {
            break;
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else if c == b'$' && b.get(i + 1) == Some(&b'(') {
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'.')) {
                i += 1;
            }
        } else if ["&&", "||", "!=", "<=", ">="].iter().any(|op| s[i..].starts_with(op)) {
            i += 2;
        } else if matches!(c, b'!' | b'(' | b')' | b'=' | b'<' | b'>') {
            i += 1;
        } else {
            return Err(format!("unexpected character {:?}", c as char));
        }
        toks.push(&s[start..i]);
    }
    Ok(toks)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<&'a str> {
        let t = self.peek();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek() == Some("||") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while self.peek() == Some("&&") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some("!") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let a = self.primary()?;
        let op = match self.peek() {
            Some("=") => "=",
            Some("!=") => "!=",
            Some("<") => "<",
            Some("<=") => "<=",
            Some(">") => ">",
            Some(">=") => ">=",
            _ => return Ok(a),
        };
        self.pos += 1;
        Ok(Expr::Cmp(op, Box::new(a), Box::new(self.primary()?)))
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some("(") => {
                let e = self.or()?;
                if self.next() != Some(")") {
                    return Err("expected ')'".into());
                }
                Ok(e)
            }
            Some(t) if t.starts_with('"') || t.starts_with('\'') => Ok(Expr::Str(t[1..t.len().max(2) - 1].into())),
            Some(t) if t.starts_with("$(") => Ok(Expr::Macro(t.into())),
            Some(t) if t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) => {
                Ok(Expr::Sym(t.into()))
            }
            Some(t) => Err(format!("unexpected {t:?} in an expression")),
            None => Err("expression ends early".into()),
        }
    }
}

/// Parses a dependency expression (`A && (B || !C)`, `X = "y"`).
pub fn parse_expr(s: &str) -> Result<Expr, String> {
    let mut p = Parser { toks: tokenize(s)?, pos: 0 };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(format!("unexpected {t:?} after the expression"));
    }
    Ok(e)
}

/// One `config`/`menuconfig` entry of a symbol.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The file, relative to the tree.
    pub file: PathBuf,
    /// 1-based line of `config`.
    pub line: usize,
    /// `bool`, `tristate`, `string`, `int`, `hex` (empty when only set elsewhere).
    pub kind: String,
    /// Every condition the entry depends on: enclosing `if` blocks and `menu … depends on`, own `depends on`.
    pub depends: Vec<Expr>,
    /// Conditions of the prompt (`bool "x" if E`): without a visible prompt a fragment cannot set the symbol.
    pub prompt_if: Vec<Expr>,
    /// Whether the entry has a prompt at all.
    pub has_prompt: bool,
}

/// The symbols of a Kconfig tree.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Definitions by symbol.
    pub symbols: BTreeMap<String, Vec<Definition>>,
    /// `source` lines that could not be followed (macros other than the architecture); reported, not fatal.
    pub skipped_sources: Vec<String>,
}

enum Block {
    If(Expr),
    Menu(Vec<Expr>),
    Choice(Vec<Expr>),
}

/// `text` up to a `#` outside quotes.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &text[..i],
            _ => {}
        }
    }
    text
}

fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).fold(0, |n, c| if c == '\t' { (n / 8 + 1) * 8 } else { n + 1 })
}

impl Tree {
    /// Reads `srctree/Kconfig` and everything it sources, for architecture `srcarch` (`x86`, `arm64`, `arm`).
    pub fn load(srctree: &Path, srcarch: &str) -> Result<Tree, LangError> {
        let mut tree = Tree::default();
        let mut blocks = Vec::new();
        tree.read(srctree, Path::new("Kconfig"), srcarch, &mut blocks)?;
        Ok(tree)
    }

    fn read(&mut self, root: &Path, rel: &Path, arch: &str, blocks: &mut Vec<Block>) -> Result<(), LangError> {
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|source| LangError::Read { path: path.clone(), source })?;
        let lines: Vec<&str> = text.lines().collect();
        // Which entry `depends on`/types attach to: a config (index into its definitions), a menu/choice (top
        // block), or nothing (a comment, or after `endmenu`).
        enum Cur {
            None,
            Sym(String, usize),
            Block,
        }
        let mut cur = Cur::None;
        let mut i = 0;
        while i < lines.len() {
            let line_no = i + 1;
            let mut line = lines[i].to_string();
            i += 1;
            while line.ends_with('\\') && i < lines.len() {
                line.pop();
                line.push(' ');
                line.push_str(lines[i]);
                i += 1;
            }
            let trimmed = strip_comment(&line).trim();
            if trimmed.is_empty() {
                continue;
            }
            let syntax = |what: String| LangError::Syntax { path: path.clone(), line: line_no, what };
            let (kw, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
            let rest = rest.trim();
            let expr = |s: &str| parse_expr(s).map_err(|e| syntax(format!("{e} in {s:?}")));
            // `bool "prompt" if EXPR` / `default X if EXPR`: split off the condition.
            let cond_of = |s: &str| -> Result<(bool, Option<Expr>), LangError> {
                let toks = tokenize(s).map_err(&syntax)?;
                let has_prompt = toks.first().is_some_and(|t| t.starts_with('"') || t.starts_with('\''));
                match toks.iter().position(|t| *t == "if") {
                    Some(p) => Ok((has_prompt, Some(expr(&toks[p + 1..].join(" "))?))),
                    None => Ok((has_prompt, None)),
                }
            };
            // Macro variables (`comma := ,`, `cc-option = $(…)`): the language's preprocessor, not entries.
            if kw.starts_with('$')
                || rest.starts_with(":=")
                || rest.starts_with("+=")
                || rest.starts_with('=')
                || kw.contains(":=")
            {
                continue;
            }
            match kw {
                "help" | "---help---" => {
                    let mut first = None;
                    while i < lines.len() {
                        let l = lines[i];
                        if l.trim().is_empty() {
                            i += 1;
                            continue;
                        }
                        let ind = indent_of(l);
                        let want = *first.get_or_insert(ind);
                        if ind == 0 || ind < want {
                            break;
                        }
                        i += 1;
                    }
                }
                "config" | "menuconfig" => {
                    let name = rest.to_string();
                    if !crate::dotconfig::is_symbol(&name) {
                        return Err(syntax(format!("expected a symbol after {kw}")));
                    }
                    let depends = blocks
                        .iter()
                        .flat_map(|b| match b {
                            Block::If(e) => vec![e.clone()],
                            Block::Menu(d) | Block::Choice(d) => d.clone(),
                        })
                        .collect();
                    let defs = self.symbols.entry(name.clone()).or_default();
                    defs.push(Definition {
                        file: rel.to_path_buf(),
                        line: line_no,
                        kind: String::new(),
                        depends,
                        prompt_if: Vec::new(),
                        has_prompt: false,
                    });
                    cur = Cur::Sym(name, defs.len() - 1);
                }
                "bool" | "tristate" | "string" | "int" | "hex" | "def_bool" | "def_tristate" | "prompt" => {
                    if let Cur::Sym(name, idx) = &cur
                        && let Some(d) = self.symbols.get_mut(name).and_then(|v| v.get_mut(*idx))
                    {
                        if kw != "prompt" {
                            d.kind = kw.trim_start_matches("def_").to_string();
                        }
                        let (has_prompt, cond) = if kw.starts_with("def_") { (false, None) } else { cond_of(rest)? };
                        if has_prompt || kw == "prompt" {
                            d.has_prompt = true;
                            d.prompt_if.extend(cond);
                        }
                    }
                }
                "depends" => {
                    let cond = rest.strip_prefix("on").ok_or_else(|| syntax("expected 'depends on'".into()))?;
                    // `depends on A if B` (Kconfig since 6.19): A is needed only when B holds.
                    let cond = strip_comment(cond);
                    let e = match cond.split_once(" if ") {
                        Some((a, b)) => {
                            Expr::Or(Box::new(Expr::Not(Box::new(expr(b.trim())?))), Box::new(expr(a.trim())?))
                        }
                        None => expr(cond.trim())?,
                    };
                    match &cur {
                        Cur::Sym(name, idx) => {
                            if let Some(d) = self.symbols.get_mut(name).and_then(|v| v.get_mut(*idx)) {
                                d.depends.push(e);
                            }
                        }
                        Cur::Block => {
                            if let Some(Block::Menu(d) | Block::Choice(d)) = blocks.last_mut() {
                                d.push(e);
                            }
                        }
                        Cur::None => {}
                    }
                }
                "visible" => {
                    if let (Cur::Block, Some(Block::Menu(d))) = (&cur, blocks.last_mut())
                        && let Some(c) = rest.strip_prefix("if")
                    {
                        d.push(expr(c.trim())?);
                    }
                }
                "if" => {
                    blocks.push(Block::If(expr(rest)?));
                    cur = Cur::None;
                }
                "endif" => {
                    if !matches!(blocks.pop(), Some(Block::If(_))) {
                        return Err(syntax("endif without if".into()));
                    }
                    cur = Cur::None;
                }
                "menu" => {
                    blocks.push(Block::Menu(Vec::new()));
                    cur = Cur::Block;
                }
                "endmenu" => {
                    if !matches!(blocks.pop(), Some(Block::Menu(_))) {
                        return Err(syntax("endmenu without menu".into()));
                    }
                    cur = Cur::None;
                }
                "choice" => {
                    blocks.push(Block::Choice(Vec::new()));
                    cur = Cur::Block;
                }
                "endchoice" => {
                    if !matches!(blocks.pop(), Some(Block::Choice(_))) {
                        return Err(syntax("endchoice without choice".into()));
                    }
                    cur = Cur::None;
                }
                "comment" | "mainmenu" => cur = Cur::None,
                "source" | "osource" | "rsource" | "orsource" => {
                    let target = rest.trim_matches('"').replace("$(SRCARCH)", arch).replace("$SRCARCH", arch);
                    if target.contains('$') {
                        self.skipped_sources.push(format!("{}:{line_no}: {target}", rel.display()));
                        continue;
                    }
                    let target = if kw.starts_with('r') || kw == "orsource" {
                        rel.parent().unwrap_or(Path::new("")).join(&target)
                    } else {
                        PathBuf::from(&target)
                    };
                    // Globs (`source "drivers/*/Kconfig"`) are rare; expand the one-star form.
                    let targets: Vec<PathBuf> = match target.to_str().and_then(|t| t.split_once('*')) {
                        Some((pre, post)) => {
                            let dir = root.join(pre);
                            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                                .into_iter()
                                .flatten()
                                .flatten()
                                .map(|e| PathBuf::from(pre).join(e.file_name()).join(post.trim_start_matches('/')))
                                .filter(|p| root.join(p).is_file())
                                .collect();
                            found.sort();
                            found
                        }
                        None => vec![target],
                    };
                    for t in targets {
                        if kw.starts_with('o') && !root.join(&t).exists() {
                            continue;
                        }
                        self.read(root, &t, arch, blocks)?;
                    }
                    cur = Cur::None;
                }
                // Attributes that do not change whether a fragment line can take effect.
                "default" | "select" | "imply" | "range" | "option" | "modules" | "optional" | "defconfig_list"
                | "allnoconfig_y" | "transitional" => {}
                other => return Err(syntax(format!("unknown Kconfig keyword {other:?}"))),
            }
        }
        Ok(())
    }
}

/// One unmet condition of one definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// The condition as written.
    pub expr: String,
    /// Its value against the final config.
    pub value: Tri,
    /// The symbols in it with their final values (`CONFIG_X=n`), each with its own unmet conditions, one level.
    pub symbols: Vec<(String, String, Vec<String>)>,
}

/// Why `symbol` is not `wanted` in a final config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// The symbol.
    pub symbol: String,
    /// Where each definition is and what of it is unmet (empty when everything is met: then nothing in the
    /// dependencies dropped it, e.g. a later fragment or a `select`/choice decided).
    pub definitions: Vec<(String, Vec<Unmet>)>,
}

fn unmet_of(tree: &Tree, cfg: &KernelConfig, def: &Definition, wanted: Tri, depth: usize) -> Vec<Unmet> {
    let mut out = Vec::new();
    let conds = def.depends.iter().chain(def.prompt_if.iter());
    for e in conds {
        let v = eval(cfg, e);
        if v >= wanted || out.iter().any(|u: &Unmet| u.expr == e.to_string()) {
            continue;
        }
        let mut syms = Vec::new();
        symbols(e, &mut syms);
        let symbols = syms
            .into_iter()
            .map(|s| {
                let shown = cfg.get(&s).cloned().unwrap_or(Value::NotSet).line(&s);
                let deeper = if depth == 0 {
                    match tree.symbols.get(&s) {
                        None => vec!["not defined by this kernel".to_string()],
                        Some(defs) => defs.iter().flat_map(|d| unmet_of(tree, cfg, d, 1, 1)).map(|u| u.expr).collect(),
                    }
                } else {
                    Vec::new()
                };
                (s, shown, deeper)
            })
            .collect();
        out.push(Unmet { expr: e.to_string(), value: v, symbols });
    }
    out
}

/// Explains why `symbol` is not at `wanted` (2 = y, 1 = m) in `cfg`. `None` when the tree does not define it.
pub fn explain(tree: &Tree, cfg: &KernelConfig, symbol: &str, wanted: Tri) -> Option<Why> {
    let defs = tree.symbols.get(symbol)?;
    let definitions = defs
        .iter()
        .map(|d| {
            let mut unmet = unmet_of(tree, cfg, d, wanted, 0);
            if d.kind == "bool" && wanted == 1 {
                unmet.clear();
            }
            if !d.has_prompt && !d.kind.is_empty() {
                unmet.push(Unmet {
                    expr: "no prompt: only a default or a select can set it".into(),
                    value: 0,
                    symbols: Vec::new(),
                });
            }
            (format!("{}:{}", d.file.display(), d.line), unmet)
        })
        .collect();
    Some(Why { symbol: symbol.to_string(), definitions })
}

impl Why {
    /// Human-readable, one condition per line, indented under the definition.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (place, unmet) in &self.definitions {
            if unmet.is_empty() {
                let _ =
                    writeln!(s, "    {place}: its dependencies are met: not requested, or a default/select decided");
                continue;
            }
            for u in unmet {
                let v = ["n", "m", "y"][usize::from(u.value.min(2))];
                let _ = writeln!(s, "    {place}: depends on {} (={v})", u.expr);
                for (_, shown, deeper) in &u.symbols {
                    if deeper.is_empty() {
                        let _ = writeln!(s, "      {shown}");
                    } else {
                        let _ = writeln!(s, "      {shown}, which depends on {}", deeper.join(" and "));
                    }
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dotconfig::parse;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Tree) {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        let t = Tree::load(d.path(), "x86").unwrap();
        (d, t)
    }

    #[test]
    fn expressions_parse_and_evaluate_as_tristates() {
        let cfg = parse(b"CONFIG_A=y\nCONFIG_B=m\nCONFIG_S=\"x\"\nCONFIG_N=16\n").unwrap();
        for (e, v) in [
            ("A && B", 1),
            ("A || B", 2),
            ("!B", 1),
            ("!(A && C)", 2),
            ("S = \"x\"", 2),
            ("S != \"x\"", 0),
            ("N >= 8", 2),
            ("$(cc-option,-mfoo) && A", 2),
            ("B && m", 1),
        ] {
            assert_eq!(eval(&cfg, &parse_expr(e).unwrap()), v, "{e}");
        }
        assert_eq!(parse_expr("(A && B) || !C").unwrap().to_string(), "A && B || !C");
        assert!(parse_expr("A &&").is_err());
        assert!(parse_expr("A B").is_err());
    }

    #[test]
    fn explains_a_drop_through_if_menu_depends_and_sources() {
        let (_d, t) = tree(&[
            ("Kconfig", "mainmenu \"x\"\nsource \"arch/$(SRCARCH)/Kconfig\"\nsource \"net/Kconfig\"\n"),
            ("arch/x86/Kconfig", "config X86\n\tdef_bool y\n"),
            (
                "net/Kconfig",
                "menuconfig NETFILTER\n\tbool \"nf\"\n\thelp\n\t  config FAKE is help text\n\t  depends on NOTHING\n\nif NETFILTER\nconfig LEGACY\n\ttristate \"legacy\"\n\tdepends on X86\n\nmenu \"tables\"\n\tdepends on LEGACY\nconfig FILTER\n\ttristate \"filter\"\n\tdepends on CONNTRACK || \\\n\t\tX86\nendmenu\nendif\nconfig CONNTRACK\n\ttristate \"ct\"\n",
            ),
        ]);
        assert!(!t.symbols.contains_key("FAKE"), "help text is skipped");
        assert_eq!(t.symbols["FILTER"][0].depends.len(), 3, "if + menu + own depends");
        let cfg = parse(b"CONFIG_X86=y\nCONFIG_NETFILTER=y\nCONFIG_CONNTRACK=m\n").unwrap();
        let why = explain(&t, &cfg, "FILTER", 2).unwrap();
        let text = why.text();
        assert!(text.contains("net/Kconfig:14: depends on LEGACY (=n)"), "{text}");
        assert!(text.contains("      # CONFIG_LEGACY is not set\n"), "its own deps are met: {text}");
        assert!(!text.contains("CONNTRACK || X86"), "a met condition is not listed: {text}");
        // An m dependency caps a tristate at m.
        let cfg = parse(b"CONFIG_X86=y\nCONFIG_NETFILTER=y\nCONFIG_LEGACY=m\n").unwrap();
        let text = explain(&t, &cfg, "FILTER", 2).unwrap().text();
        assert!(text.contains("depends on LEGACY (=m)"), "{text}");
        assert!(explain(&t, &cfg, "NOT_DEFINED", 2).is_none());
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Kconfig"), "config A\n\tbool \"a\"\n\tdepends on (B\n").unwrap();
        let e = Tree::load(d.path(), "x86").unwrap_err().to_string();
        assert!(e.ends_with("Kconfig:3: expected ')' in \"(B\""), "{e}");
        std::fs::write(d.path().join("Kconfig"), "endif\n").unwrap();
        assert!(Tree::load(d.path(), "x86").unwrap_err().to_string().contains("Kconfig:1: endif without if"));
    }
}
