//! SPDX license expressions (Cargo's `license` field) converted to OE `LICENSE` syntax: `OR` → `|`, `AND` → `&`,
//! `WITH` → OE's combined `<license>-with-<exception>` name where OE-Core ships one, SPDX ids → the names of
//! OE-Core's `meta/files/common-licenses` (deprecated ids through OE's `SPDXLICENSEMAP`).

/// OE-Core wrynose's `meta/files/common-licenses` file names (facts, one per line).
const COMMON_LICENSES: &str = include_str!("common-licenses.txt");

/// Deprecated/alias SPDX ids and the OE-Core name they map to (from OE-Core's `SPDXLICENSEMAP` and SPDX's
/// deprecated-id list).
const ALIASES: &[(&str, &str)] = &[
    ("AGPL-3.0", "AGPL-3.0-only"),
    ("AGPL-3.0+", "AGPL-3.0-or-later"),
    ("BSD-0-Clause", "0BSD"),
    ("BSD-2-Clause-FreeBSD", "BSD-2-Clause"),
    ("BSD-2-Clause-NetBSD", "BSD-2-Clause"),
    ("GPL-1.0", "GPL-1.0-only"),
    ("GPL-1.0+", "GPL-1.0-or-later"),
    ("GPL-2.0", "GPL-2.0-only"),
    ("GPL-2.0+", "GPL-2.0-or-later"),
    ("GPL-3.0", "GPL-3.0-only"),
    ("GPL-3.0+", "GPL-3.0-or-later"),
    ("LGPL-2.0", "LGPL-2.0-only"),
    ("LGPL-2.0+", "LGPL-2.0-or-later"),
    ("LGPL-2.1", "LGPL-2.1-only"),
    ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("LGPL-3.0", "LGPL-3.0-only"),
    ("LGPL-3.0+", "LGPL-3.0-or-later"),
    ("Apache-2", "Apache-2.0"),
    ("MIT-X", "MIT"),
    ("FreeType", "FTL"),
    ("StandardML-NJ", "SMLNJ"),
    ("wxWindows", "WXwindows"),
];

/// True when OE-Core ships a generic license text of that name.
pub fn is_common_license(name: &str) -> bool {
    // Looked up for every id of every linked crate: a set, built once.
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| COMMON_LICENSES.lines().collect()).contains(name)
}

/// A parse error in an SPDX expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SPDX expression `{expr}`: {message}")]
pub struct SpdxError {
    /// The expression.
    pub expr: String,
    /// What is wrong.
    pub message: String,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A license id with an optional exception.
    License {
        /// The SPDX id (`MIT`, `GPL-2.0-or-later`, `LicenseRef-x`).
        id: String,
        /// `WITH <exception>`.
        exception: Option<String>,
    },
    /// All of them.
    And(Vec<Expr>),
    /// Any of them.
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Id(String),
    And,
    Or,
    With,
    Open,
    Close,
}

fn lex(expr: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::Open);
            }
            ')' => {
                chars.next();
                toks.push(Tok::Close);
            }
            // Cargo's deprecated `MIT/Apache-2.0` form means OR.
            '/' => {
                chars.next();
                toks.push(Tok::Or);
            }
            c if c.is_ascii_alphanumeric() || "-.+_:".contains(c) => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || "-.+_:".contains(c) {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                toks.push(match word.as_str() {
                    "AND" | "and" => Tok::And,
                    "OR" | "or" => Tok::Or,
                    "WITH" | "with" => Tok::With,
                    _ => Tok::Id(word),
                });
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.with()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.with()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }
    fn with(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Id(id)) => {
                self.pos += 1;
                let exception = if self.peek() == Some(&Tok::With) {
                    self.pos += 1;
                    match self.toks.get(self.pos).cloned() {
                        Some(Tok::Id(e)) => {
                            self.pos += 1;
                            Some(e)
                        }
                        _ => return Err("`WITH` must be followed by an exception id".into()),
                    }
                } else {
                    None
                };
                Ok(Expr::License { id, exception })
            }
            Some(t) => Err(format!("expected a license id or `(`, found {t:?}")),
            None => Err("expected a license id, found the end".into()),
        }
    }
}

/// Parses an SPDX expression (precedence WITH > AND > OR, parentheses, Cargo's legacy `/`).
pub fn parse(expr: &str) -> Result<Expr, SpdxError> {
    let err = |message: String| SpdxError { expr: expr.to_owned(), message };
    let toks = lex(expr).map_err(err)?;
    let mut p = Parser { toks, pos: 0 };
    let e = p.or().map_err(err)?;
    if p.pos != p.toks.len() {
        return Err(err(format!("unexpected {:?}", p.toks[p.pos])));
    }
    Ok(e)
}

/// The OE name of one SPDX id; `false` when OE-Core ships no text for it (the recipe then needs
/// `NO_GENERIC_LICENSE`).
pub fn oe_name(id: &str) -> (String, bool) {
    if is_common_license(id) {
        return (id.to_owned(), true);
    }
    if let Some((_, oe)) = ALIASES.iter().find(|(a, _)| *a == id) {
        return ((*oe).to_owned(), true);
    }
    (id.to_owned(), false)
}

fn license_with(id: &str, exception: &str) -> Vec<(String, bool)> {
    // OE-Core names combined texts `<license>-with-<exception>`, mostly on the pre-`-only` id.
    let (base, _) = oe_name(id);
    let mut candidates = vec![format!("{base}-with-{exception}"), format!("{id}-with-{exception}")];
    if let Some(stem) = base.strip_suffix("-only") {
        candidates.push(format!("{stem}-with-{exception}"));
    }
    if let Some(hit) = candidates.into_iter().find(|c| is_common_license(c)) {
        return vec![(hit, true)];
    }
    vec![oe_name(id), (exception.to_owned(), is_common_license(exception))]
}

/// Renders `expr` as an OE LICENSE value; also returns the names OE-Core has no generic text for.
pub fn to_oe(expr: &Expr) -> (String, Vec<String>) {
    fn go(e: &Expr, parent_and: bool, unknown: &mut Vec<String>) -> String {
        match e {
            Expr::License { id, exception } => {
                let parts = match exception {
                    None => vec![oe_name(id)],
                    Some(x) => license_with(id, x),
                };
                for (n, known) in &parts {
                    if !known && !unknown.contains(n) {
                        unknown.push(n.clone());
                    }
                }
                // `A WITH E` without a combined OE text means both texts apply.
                parts.into_iter().map(|p| p.0).collect::<Vec<_>>().join(" & ")
            }
            Expr::And(items) => items.iter().map(|i| go(i, true, unknown)).collect::<Vec<_>>().join(" & "),
            Expr::Or(items) => {
                let s = items.iter().map(|i| go(i, false, unknown)).collect::<Vec<_>>().join(" | ");
                if parent_and { format!("({s})") } else { s }
            }
        }
    }
    let mut unknown = Vec::new();
    let s = go(expr, false, &mut unknown);
    (s, unknown)
}

/// One `&` operand of a LICENSE value: its text (parenthesised when it holds a `|`) and a key equal for equal terms
/// whatever the order of their operands (`MIT | Apache-2.0` and `Apache-2.0 | MIT` are one term).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The OE text, ready to be joined with ` & `.
    pub text: String,
    /// The OE text without the parentheses `text` may add (for a LICENSE of this term alone).
    pub bare: String,
    /// Order-independent identity.
    pub key: String,
}

/// The top-level `&` operands of `expr` in OE syntax (nested `AND`s flattened), and the names OE-Core has no
/// generic text for.
pub fn terms(expr: &Expr) -> (Vec<Term>, Vec<String>) {
    fn canon(e: &Expr) -> String {
        match e {
            Expr::License { id, exception } => {
                let parts = match exception {
                    None => vec![oe_name(id)],
                    Some(x) => license_with(id, x),
                };
                let mut names: Vec<String> = parts.into_iter().map(|p| p.0).collect();
                names.sort();
                names.dedup();
                names.join(" & ")
            }
            Expr::And(items) | Expr::Or(items) => {
                let mut keys: Vec<String> = items.iter().map(canon).collect();
                keys.sort();
                keys.dedup();
                let op = if matches!(e, Expr::And(_)) { " & " } else { " | " };
                if keys.len() == 1 { keys.remove(0) } else { format!("({})", keys.join(op)) }
            }
        }
    }
    fn flat(e: &Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::And(items) => items.iter().for_each(|i| flat(i, out)),
            // `A WITH E` without a combined OE text is both texts: two terms.
            Expr::License { id, exception: Some(x) } if license_with(id, x).len() > 1 => {
                out.push(Expr::License { id: id.clone(), exception: None });
                out.push(Expr::License { id: x.clone(), exception: None });
            }
            other => out.push(other.clone()),
        }
    }
    let (_, unknown) = to_oe(expr);
    let mut parts = Vec::new();
    flat(expr, &mut parts);
    let mut out: Vec<Term> = Vec::new();
    for p in &parts {
        let key = canon(p);
        if !out.iter().any(|t| t.key == key) {
            let bare = to_oe(p).0;
            out.push(Term { text: and_operand(&bare), bare, key });
        }
    }
    (out, unknown)
}

/// Parses and converts in one step.
pub fn convert(expr: &str) -> Result<(String, Vec<String>), SpdxError> {
    Ok(to_oe(&parse(expr)?))
}

/// Wraps a converted LICENSE value in parentheses when it has a top-level `|`, so it can be joined with `&`
/// (OE evaluates `&` before `|`).
pub fn and_operand(oe: &str) -> String {
    let mut depth = 0i32;
    let top_or = oe.chars().any(|c| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == '|' && depth == 0
    });
    if top_or { format!("({oe})") } else { oe.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oe(s: &str) -> String {
        convert(s).unwrap().0
    }

    #[test]
    fn operators_and_precedence() {
        assert_eq!(oe("MIT OR Apache-2.0"), "MIT | Apache-2.0");
        assert_eq!(oe("MIT/Apache-2.0"), "MIT | Apache-2.0");
        assert_eq!(oe("(MIT OR Apache-2.0) AND Unicode-3.0"), "(MIT | Apache-2.0) & Unicode-3.0");
        assert_eq!(oe("MIT AND BSD-3-Clause OR Zlib"), "MIT & BSD-3-Clause | Zlib");
        assert_eq!(oe("Apache-2.0 WITH LLVM-exception OR MIT"), "Apache-2.0-with-LLVM-exception | MIT");
        assert_eq!(oe("GPL-2.0-only WITH Linux-syscall-note"), "GPL-2.0-with-Linux-syscall-note");
    }

    #[test]
    fn ids_become_oe_names() {
        assert_eq!(oe("GPL-2.0+"), "GPL-2.0-or-later");
        assert_eq!(oe("LGPL-2.1"), "LGPL-2.1-only");
        assert_eq!(oe("BSD-3-Clause"), "BSD-3-Clause");
        assert_eq!(convert("LicenseRef-acme").unwrap().1, vec!["LicenseRef-acme".to_owned()]);
        assert!(convert("MIT OR Apache-2.0 OR Unicode-3.0 OR ISC OR Zlib OR 0BSD").unwrap().1.is_empty());
    }

    #[test]
    fn malformed_expressions_are_errors() {
        assert!(convert("MIT OR").is_err());
        assert!(convert("(MIT").is_err());
        assert!(convert("MIT WITH").is_err());
        assert!(convert("MIT; rm -rf").is_err());
    }

    #[test]
    fn terms_are_flattened_and_equal_terms_share_a_key() {
        let t = |s: &str| terms(&parse(s).unwrap()).0;
        let a = t("MIT OR Apache-2.0");
        let b = t("Apache-2.0 OR MIT");
        assert_eq!(a[0].text, "(MIT | Apache-2.0)");
        assert_eq!(a[0].key, b[0].key);
        let c: Vec<_> = t("(MIT AND Zlib) AND MIT").into_iter().map(|t| t.text).collect();
        assert_eq!(c, ["MIT", "Zlib"]);
        let w: Vec<_> = t("GPL-2.0-only WITH Foo-exception").into_iter().map(|t| t.text).collect();
        assert_eq!(w, ["GPL-2.0-only", "Foo-exception"]);
    }

    #[test]
    fn and_operands_get_parentheses_only_for_top_level_or() {
        assert_eq!(and_operand("MIT | Apache-2.0"), "(MIT | Apache-2.0)");
        assert_eq!(and_operand("(MIT | Apache-2.0) & Zlib"), "(MIT | Apache-2.0) & Zlib");
        assert_eq!(and_operand("MIT"), "MIT");
    }
}
