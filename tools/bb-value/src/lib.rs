//! The one BitBake writer of the layer's generators.
//!
//! Every generated BitBake file (k3s-bake's renderers, cargo-recipe's recipes, go-facts' includes) writes its
//! assignments, varflags, lists, comments, `inherit` and `require` lines through this crate, which refuses anything
//! BitBake would interpret instead of storing:
//!
//! - in every value: `"` (ends the value), `\` (escapes, line continuation), newlines and other control characters
//!   (a new line is a new statement);
//! - in a [`Val::Lit`] (data from a spec, a manifest, a lockfile, a facts file): any `${` — an expansion, and
//!   `${@…}` runs Python when the value is expanded, at parse time for `:=`;
//! - in a [`Val::Bb`] (a value the generator's own code writes as a BitBake expression on purpose, such as
//!   `${sysconfdir}/rancher`): `${@…}` still, and any `${` that is not `${NAME}` with a valid variable name;
//! - in names: variable names are `[A-Za-z0-9_.+-]` segments joined by `:` (override syntax, `FILESPATH:prepend`);
//!   flags and class names `[A-Za-z0-9_.+-]`.
//! - in list items, also whitespace (it would split the item in two).
//!
//! Errors name the variable and, through [`Error::at`], where the value came from
//! (`k3s-spec.yaml: pins.k3s.branch: …`).
#![forbid(unsafe_code)]

use std::fmt;

/// Why a value, name or line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{what} {value:?}: {reason}", origin.as_deref().map(|o| format!("{o}: ")).unwrap_or_default())]
pub struct Error {
    /// Where the value came from (file and field), when the caller said.
    pub origin: Option<String>,
    /// What was being written (`value of K3S_GIT_URI`, `variable name`, …).
    pub what: String,
    /// The refused text.
    pub value: String,
    /// What BitBake would do with it.
    pub reason: &'static str,
}

impl Error {
    /// Names where the refused value came from (`k3s-spec.yaml: pins.k3s.branch`), unless already named.
    #[must_use]
    pub fn at(mut self, origin: impl fmt::Display) -> Error {
        if self.origin.is_none() {
            self.origin = Some(origin.to_string());
        }
        self
    }
}

/// A value to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    /// Data: written as it is, never expanded (`${` refused).
    Lit(&'a str),
    /// A BitBake expression the generator writes on purpose: `${NAME}` references allowed, `${@` never.
    Bb(&'a str),
}

impl Val<'_> {
    fn text(&self) -> &str {
        match self {
            Val::Lit(s) | Val::Bb(s) => s,
        }
    }
}

/// Assignment operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Set,
    /// `?=`
    Default,
    /// `??=`
    Weak,
    /// `:=` (expanded at parse time).
    Immediate,
    /// `+=`
    Append,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Set => "=",
            Op::Default => "?=",
            Op::Weak => "??=",
            Op::Immediate => ":=",
            Op::Append => "+=",
        }
    }
}

fn refuse(what: impl Into<String>, value: &str, reason: &'static str) -> Error {
    Error { origin: None, what: what.into(), value: value.to_owned(), reason }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.+-".contains(c)
}

/// Checks a variable name: `[A-Za-z0-9_.+-]` segments joined by `:` (overrides).
pub fn check_var(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.split(':').any(|seg| seg.is_empty() || !seg.chars().all(is_name_char)) {
        return Err(refuse(
            "variable name",
            name,
            "expected [A-Za-z0-9_.+-] segments joined by ':' (BitBake would parse something else)",
        ));
    }
    Ok(())
}

/// Checks a varflag name or class name: `[A-Za-z0-9_.+-]`, non-empty.
pub fn check_word(what: &str, word: &str) -> Result<(), Error> {
    if word.is_empty() || !word.chars().all(is_name_char) {
        return Err(refuse(what, word, "expected [A-Za-z0-9_.+-] (BitBake would parse something else)"));
    }
    Ok(())
}

/// Checks a value (see the crate docs); `what` names it in the error.
pub fn check_value(what: &str, v: Val<'_>) -> Result<(), Error> {
    let s = v.text();
    if s.contains('"') {
        return Err(refuse(what, s, "`\"` would end the quoted value"));
    }
    if s.contains('\\') {
        return Err(refuse(what, s, "`\\` is an escape or a line continuation to BitBake"));
    }
    if s.contains(['\n', '\r']) {
        return Err(refuse(what, s, "a newline would start a new BitBake statement"));
    }
    if s.chars().any(char::is_control) {
        return Err(refuse(what, s, "control characters are not written into BitBake files"));
    }
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        if after.starts_with('@') {
            return Err(refuse(what, s, "`${@` is inline Python BitBake runs when it expands the value"));
        }
        match v {
            Val::Lit(_) => {
                return Err(refuse(what, s, "`${` would be expanded by BitBake (this is data, not an expression)"));
            }
            Val::Bb(_) => {
                let end = after.find('}').ok_or_else(|| refuse(what, s, "`${` without `}`"))?;
                let name = &after[..end];
                if name.is_empty() || !name.chars().all(|c| is_name_char(c) || c == ':') {
                    return Err(refuse(what, s, "only `${NAME}` references are written as BitBake expressions"));
                }
                rest = &after[end + 1..];
            }
        }
    }
    Ok(())
}

/// Checks a list item: a value without whitespace.
pub fn check_item(what: &str, v: Val<'_>) -> Result<(), Error> {
    check_value(what, v)?;
    if v.text().is_empty() || v.text().contains(char::is_whitespace) {
        return Err(refuse(what, v.text(), "a list item must be one non-empty word (whitespace splits it)"));
    }
    Ok(())
}

/// Checks data meant for a part of a value (a branch inside a SRC_URI): [`Val::Lit`] rules. `Ok` gives it back.
pub fn lit<'a>(what: &str, s: &'a str) -> Result<&'a str, Error> {
    check_value(what, Val::Lit(s)).map(|()| s)
}

/// `VAR op "value"`.
pub fn assign(out: &mut String, var: &str, op: Op, v: Val<'_>) -> Result<(), Error> {
    check_var(var)?;
    check_value(&format!("value of {var}"), v)?;
    line(out, &format!("{var} {} \"{}\"", op.as_str(), v.text()));
    Ok(())
}

/// `export VAR op "value"`.
pub fn export(out: &mut String, var: &str, op: Op, v: Val<'_>) -> Result<(), Error> {
    check_var(var)?;
    check_value(&format!("value of {var}"), v)?;
    line(out, &format!("export {var} {} \"{}\"", op.as_str(), v.text()));
    Ok(())
}

/// `VAR[flag] op "value"`.
pub fn assign_flag(out: &mut String, var: &str, flag: &str, op: Op, v: Val<'_>) -> Result<(), Error> {
    check_var(var)?;
    check_word(&format!("flag of {var}"), flag)?;
    check_value(&format!("value of {var}[{flag}]"), v)?;
    line(out, &format!("{var}[{flag}] {} \"{}\"", op.as_str(), v.text()));
    Ok(())
}

/// `VAR op "\` + one item per line + `"` (the OE style oelint expects), whatever the number of items.
pub fn list(out: &mut String, var: &str, op: Op, items: &[Val<'_>]) -> Result<(), Error> {
    check_var(var)?;
    for i in items {
        check_item(&format!("item of {var}"), *i)?;
    }
    line(out, &format!("{var} {} \"\\", op.as_str()));
    for i in items {
        line(out, &format!("    {} \\", i.text()));
    }
    line(out, "\"");
    Ok(())
}

/// Comment lines: `# ` before each line of `text` (`#` alone for an empty one).
pub fn comment(out: &mut String, text: &str) -> Result<(), Error> {
    for l in text.split('\n') {
        if l.chars().any(char::is_control) {
            return Err(refuse("comment", text, "control characters are not written into BitBake files"));
        }
        if l.ends_with('\\') {
            return Err(refuse("comment", text, "a comment ending in `\\` continues onto the next line"));
        }
        if l.is_empty() { line(out, "#") } else { line(out, &format!("# {l}")) }
    }
    Ok(())
}

/// `inherit CLASS`.
pub fn inherit(out: &mut String, class: &str) -> Result<(), Error> {
    check_word("class name", class)?;
    line(out, &format!("inherit {class}"));
    Ok(())
}

/// `require PATH` (a path, `${BPN}`-style references allowed as [`Val::Bb`]).
pub fn require(out: &mut String, path: Val<'_>) -> Result<(), Error> {
    check_item("required file", path)?;
    line(out, &format!("require {}", path.text()));
    Ok(())
}

fn line(out: &mut String, l: &str) {
    out.push_str(l);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &["${@os.system(\"x\")}", "${@os.system('x')}", "a\"b", "a\nb", "a\\b", "a\rb", "a\x07b"];

    #[test]
    fn data_that_bitbake_would_interpret_is_refused() {
        for h in HOSTILE {
            let mut out = String::new();
            assert!(assign(&mut out, "X", Op::Set, Val::Lit(h)).is_err(), "{h:?}");
            assert!(assign(&mut out, "X", Op::Set, Val::Bb(h)).is_err(), "{h:?}");
            assert!(list(&mut out, "X", Op::Append, &[Val::Lit(h)]).is_err(), "{h:?}");
            assert!(out.is_empty(), "nothing half-written");
        }
        let e = assign(&mut String::new(), "X", Op::Set, Val::Lit("${HOME}")).unwrap_err();
        assert!(e.to_string().contains("would be expanded"), "{e}");
        let e = assign(&mut String::new(), "X", Op::Set, Val::Bb("${@d.getVar('X')}")).unwrap_err();
        assert!(e.to_string().contains("inline Python"), "{e}");
    }

    #[test]
    fn deliberate_expressions_and_plain_data_are_written() {
        let mut out = String::new();
        assign(&mut out, "K3S_CONFIG", Op::Set, Val::Bb("${sysconfdir}/rancher/k3s/config.yaml")).unwrap();
        assign(&mut out, "FILESPATH:prepend", Op::Immediate, Val::Bb("${THISDIR}/../..:")).unwrap();
        assign_flag(&mut out, "K3S_IMAGE_ROLE", "core-image-k3s", Op::Set, Val::Lit("server")).unwrap();
        assign(&mut out, "LICENSE", Op::Append, Val::Lit("& (MIT | Apache-2.0) & 0BSD")).unwrap();
        export(&mut out, "CARGO_PROFILE_RELEASE_STRIP", Op::Set, Val::Lit("false")).unwrap();
        list(&mut out, "SRC_URI", Op::Append, &[Val::Lit("crate://crates.io/a/1.0.0;name=a-1.0.0")]).unwrap();
        comment(&mut out, "one\n\ntwo").unwrap();
        inherit(&mut out, "cargo").unwrap();
        require(&mut out, Val::Bb("${BPN}-crates.inc")).unwrap();
        assert_eq!(
            out,
            "K3S_CONFIG = \"${sysconfdir}/rancher/k3s/config.yaml\"\nFILESPATH:prepend := \"${THISDIR}/../..:\"\n\
             K3S_IMAGE_ROLE[core-image-k3s] = \"server\"\nLICENSE += \"& (MIT | Apache-2.0) & 0BSD\"\n\
             export CARGO_PROFILE_RELEASE_STRIP = \"false\"\n\
             SRC_URI += \"\\\n    crate://crates.io/a/1.0.0;name=a-1.0.0 \\\n\"\n# one\n#\n# two\ninherit cargo\n\
             require ${BPN}-crates.inc\n"
        );
        // `$` alone is not an expansion.
        assign(&mut out, "X", Op::Set, Val::Lit("cost $5")).unwrap();
    }

    #[test]
    fn names_flags_items_and_comments_are_checked() {
        let mut out = String::new();
        for bad in ["", "A B", "A=B", "A[x]", "A::B", ":A", "A${B}", "A\"", "A\n"] {
            assert!(assign(&mut out, bad, Op::Set, Val::Lit("x")).is_err(), "{bad:?}");
        }
        assert!(assign_flag(&mut out, "A", "x]y", Op::Set, Val::Lit("x")).is_err());
        assert!(assign_flag(&mut out, "A", "", Op::Set, Val::Lit("x")).is_err());
        assert!(list(&mut out, "A", Op::Set, &[Val::Lit("two words")]).is_err());
        assert!(list(&mut out, "A", Op::Set, &[Val::Lit("")]).is_err());
        assert!(comment(&mut out, "ends in \\").is_err());
        assert!(comment(&mut out, "bell \x07").is_err());
        assert!(inherit(&mut out, "a b").is_err());
        assert!(require(&mut out, Val::Lit("x y")).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn errors_name_the_origin_and_the_variable() {
        let e = assign(&mut String::new(), "K3S_GIT_URI", Op::Set, Val::Lit("git://x\";branch=y"))
            .map_err(|e| e.at("k3s-spec.yaml: pins.k3s.git"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "k3s-spec.yaml: pins.k3s.git: value of K3S_GIT_URI \"git://x\\\";branch=y\": `\"` would end the quoted value"
        );
    }
}
