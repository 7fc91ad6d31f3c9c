//! The layer's one licence vocabulary: SPDX expressions → OE `LICENSE` terms.
//!
//! Every generator that writes a LICENSE (cargo-recipe for Rust crates, go-facts for Go modules) goes through this
//! crate, so one SPDX expression always becomes the same OE text.
//!
//! - **Parsing** is the `spdx` crate's (what cargo-deny uses), in [`PARSE_MODE`] = `ParseMode::LAX`: Cargo's legacy
//!   `MIT/Apache-2.0` (`/` as `OR`), deprecated ids (`GPL-2.0`, `LGPL-2.0+`) and the crate's list of imprecise
//!   names are accepted; ids that are neither SPDX ids nor `LicenseRef-…` are errors.
//! - **Names**: an SPDX id that is a file of OE-Core's `meta/files/common-licenses` is used as it is; else OE-Core's
//!   `SPDXLICENSEMAP` (the map license.bbclass's `canonical_license` applies) gives the name; else OE-Core has no
//!   text of that name and the caller must set `NO_GENERIC_LICENSE[name]` (reported as unknown).
//! - **`WITH`**: OE's LICENSE has no `WITH` operator; OE-Core ships some combinations as one text
//!   (`GPL-2.0-with-Linux-syscall-note`). [`WITH_NAMES`] lists them; any other `A WITH E` is written `A & E`
//!   (both texts apply, the safe reading for licence checks), `E` then being a name without generic text.
//!
//! Facts (`facts/`): OE-Core wrynose's common-licenses names and SPDXLICENSEMAP, with their provenance.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// How SPDX expressions are parsed: lax, for Cargo's `/` and deprecated ids (see the crate docs).
pub const PARSE_MODE: spdx::ParseMode = spdx::ParseMode::LAX;

/// OE-Core wrynose's `meta/files/common-licenses` names (facts, `#` lines are provenance).
const COMMON_LICENSES: &str = include_str!("../facts/common-licenses.txt");

/// OE-Core wrynose's `SPDXLICENSEMAP` (facts: `KEY<TAB>OE name`, `#` lines are provenance).
const SPDXLICENSEMAP: &str = include_str!("../facts/spdxlicensemap.tsv");

/// `(OE name of the licence, SPDX exception id)` → the combined text OE-Core ships in common-licenses
/// (file names of OE-Core wrynose's `meta/files/common-licenses`; the exception ids are SPDX's exceptions list).
/// Only the `-only` / exact-version licences: OE-Core's combined texts name one version, so `-or-later WITH E`
/// stays `<licence> & E`. OE-Core's `GPL-2.0-with-OpenSSL-exception` has no SPDX exception id to come from.
pub const WITH_NAMES: &[(&str, &str, &str)] = &[
    ("Apache-2.0", "LLVM-exception", "Apache-2.0-with-LLVM-exception"),
    ("GPL-2.0-only", "Linux-syscall-note", "GPL-2.0-with-Linux-syscall-note"),
    ("GPL-2.0-only", "GCC-exception-2.0", "GPL-2.0-with-GCC-exception"),
    ("GPL-2.0-only", "Autoconf-exception-2.0", "GPL-2.0-with-autoconf-exception"),
    ("GPL-2.0-only", "Classpath-exception-2.0", "GPL-2.0-with-classpath-exception"),
    ("GPL-2.0-only", "Font-exception-2.0", "GPL-2.0-with-font-exception"),
    ("GPL-2.0-only", "Bison-exception-2.2", "GPL-2-with-bison-exception"),
    ("GPL-3.0-only", "GCC-exception-3.1", "GPL-3.0-with-GCC-exception"),
    ("GPL-3.0-only", "Autoconf-exception-3.0", "GPL-3.0-with-autoconf-exception"),
    ("GPL-3.0-only", "Bison-exception-2.2", "GPL-3-with-bison-exception"),
];

/// Deprecated SPDX ids that SPDX's licence list declares identical to another id OE-Core ships, and that
/// SPDXLICENSEMAP does not cover (SPDX License List: "deprecated" entries and their replacement).
pub const DEPRECATED_IDS: &[(&str, &str)] = &[("BSD-2-Clause-NetBSD", "BSD-2-Clause"), ("StandardML-NJ", "SMLNJ")];

fn facts(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Every name of OE-Core's common-licenses (the committed facts), for checks.
pub fn common_licenses() -> impl Iterator<Item = &'static str> {
    facts(COMMON_LICENSES)
}

/// OE-Core's SPDXLICENSEMAP as `(key, OE name)` pairs (the committed facts), for checks.
pub fn spdx_license_map() -> impl Iterator<Item = (&'static str, &'static str)> {
    facts(SPDXLICENSEMAP).filter_map(|l| l.split_once('\t'))
}

/// True when OE-Core ships a generic license text of that name.
pub fn is_common_license(name: &str) -> bool {
    // Looked up for every id of every linked crate or module: a set, built once.
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| common_licenses().collect()).contains(name)
}

fn map_entry(key: &str) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| spdx_license_map().chain(DEPRECATED_IDS.iter().copied()).collect()).get(key).copied()
}

/// A parse error in an SPDX expression (the `spdx` crate's message, which points at the offending token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SPDX expression `{expr}`: {message}")]
pub struct SpdxError {
    /// The expression.
    pub expr: String,
    /// What is wrong.
    pub message: String,
}

/// A parsed expression, as a tree (nested operators of one kind flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A license id with an optional exception.
    License {
        /// The SPDX id as SPDX spells it (`MIT`, `GPL-2.0-or-later`, `LicenseRef-x`; deprecated ids as written).
        id: String,
        /// `WITH <exception>`.
        exception: Option<String>,
    },
    /// All of them.
    And(Vec<Expr>),
    /// Any of them.
    Or(Vec<Expr>),
}

/// Parses an SPDX expression in [`PARSE_MODE`] (precedence WITH > AND > OR, parentheses, Cargo's legacy `/`).
pub fn parse(expr: &str) -> Result<Expr, SpdxError> {
    let err = |message: String| SpdxError { expr: expr.to_owned(), message };
    let parsed = spdx::Expression::parse_mode(expr, PARSE_MODE).map_err(|e| err(e.reason.to_string()))?;
    // The crate keeps the expression in postfix order: rebuild the tree with a stack.
    let mut stack: Vec<Expr> = Vec::new();
    for node in parsed.iter() {
        match node {
            spdx::expression::ExprNode::Req(r) => stack.push(Expr::License {
                id: r.req.license.to_string(),
                exception: r.req.addition.as_ref().map(ToString::to_string),
            }),
            spdx::expression::ExprNode::Op(op) => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return Err(err("operator without two operands".into()));
                };
                let and = *op == spdx::expression::Operator::And;
                let mut items = Vec::new();
                for side in [a, b] {
                    match side {
                        Expr::And(v) if and => items.extend(v),
                        Expr::Or(v) if !and => items.extend(v),
                        other => items.push(other),
                    }
                }
                stack.push(if and { Expr::And(items) } else { Expr::Or(items) });
            }
        }
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(e), true) => Ok(e),
        _ => Err(err("not one expression".into())),
    }
}

/// The OE name of one SPDX id; `false` when OE-Core ships no text for it (the recipe then needs
/// `NO_GENERIC_LICENSE`).
pub fn oe_name(id: &str) -> (String, bool) {
    if is_common_license(id) {
        return (id.to_owned(), true);
    }
    match map_entry(id) {
        Some(oe) => (oe.to_owned(), true),
        None => (id.to_owned(), false),
    }
}

/// `A WITH E`: OE-Core's combined text, else both names (see the crate docs).
fn license_with(id: &str, exception: &str) -> Vec<(String, bool)> {
    let (base, known) = oe_name(id);
    if let Some((_, _, combined)) = WITH_NAMES.iter().find(|(l, e, _)| *l == base && *e == exception) {
        return vec![((*combined).to_owned(), true)];
    }
    vec![(base, known), (exception.to_owned(), is_common_license(exception))]
}

fn parts(id: &str, exception: Option<&String>) -> Vec<(String, bool)> {
    match exception {
        None => vec![oe_name(id)],
        Some(x) => license_with(id, x),
    }
}

/// Renders `expr` as an OE LICENSE value; also returns the names OE-Core has no generic text for.
pub fn to_oe(expr: &Expr) -> (String, Vec<String>) {
    fn go(e: &Expr, parent_and: bool, unknown: &mut Vec<String>) -> String {
        match e {
            Expr::License { id, exception } => {
                let parts = parts(id, exception.as_ref());
                for (n, known) in &parts {
                    if !known && !unknown.contains(n) {
                        unknown.push(n.clone());
                    }
                }
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

impl Term {
    /// A term of one name that is not an SPDX expression (e.g. `LicenseRef-<crate>` for a licence file).
    pub fn name(name: &str) -> Term {
        Term { text: name.to_owned(), bare: name.to_owned(), key: name.to_owned() }
    }
}

/// The top-level `&` operands of `expr` in OE syntax (nested `AND`s flattened), and the names OE-Core has no
/// generic text for.
pub fn terms(expr: &Expr) -> (Vec<Term>, Vec<String>) {
    fn canon(e: &Expr) -> String {
        match e {
            Expr::License { id, exception } => {
                let mut names: Vec<String> = parts(id, exception.as_ref()).into_iter().map(|p| p.0).collect();
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
        assert_eq!(oe("MIT OR (ISC OR Zlib)"), "MIT | ISC | Zlib");
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
        for bad in ["", "MIT OR", "(MIT", "MIT WITH", "MIT; rm -rf", "MIT)", "Not-A-Licence-Id", "M I T"] {
            assert!(convert(bad).is_err(), "{bad}");
        }
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
        let w: Vec<_> = t("GPL-2.0-or-later WITH Linux-syscall-note").into_iter().map(|t| t.text).collect();
        assert_eq!(w, ["GPL-2.0-or-later", "Linux-syscall-note"]);
    }

    #[test]
    fn and_operands_get_parentheses_only_for_top_level_or() {
        assert_eq!(and_operand("MIT | Apache-2.0"), "(MIT | Apache-2.0)");
        assert_eq!(and_operand("(MIT | Apache-2.0) & Zlib"), "(MIT | Apache-2.0) & Zlib");
        assert_eq!(and_operand("MIT"), "MIT");
    }
}
