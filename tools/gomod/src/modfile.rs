//! go.mod: the grammar of `golang.org/x/mod/modfile`, minus formatting preservation.

use crate::{ModuleVersion, ParseError, is_valid_version};

/// A parsed go.mod file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoMod {
    /// `module` path.
    pub module: String,
    /// `// Deprecated:` text on the module line, if any.
    pub deprecated: Option<String>,
    /// `go` language version (`1.26.7`).
    pub go: Option<String>,
    /// `toolchain` (`go1.26.7`).
    pub toolchain: Option<String>,
    /// `godebug key=value` settings, in file order.
    pub godebug: Vec<(String, String)>,
    /// `require` lines, in file order.
    pub require: Vec<Require>,
    /// `replace` lines, in file order.
    pub replace: Vec<Replace>,
    /// `exclude` lines.
    pub exclude: Vec<Exclude>,
    /// `retract` lines.
    pub retract: Vec<Retract>,
    /// `tool` package paths.
    pub tool: Vec<String>,
    /// `ignore` directories.
    pub ignore: Vec<String>,
}

/// `require path version [// indirect]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    /// The module required.
    pub module: ModuleVersion,
    /// Marked `// indirect`.
    pub indirect: bool,
    /// 1-based line in the file.
    pub line: usize,
}

/// `replace old [version] => new [version]` or `=> ./local/dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    /// Replaced module path.
    pub old_path: String,
    /// Replaced version; `None` replaces every version.
    pub old_version: Option<String>,
    /// What it is replaced by.
    pub new: ReplaceTarget,
    /// 1-based line in the file.
    pub line: usize,
}

/// The right-hand side of a `replace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceTarget {
    /// Another module version, fetched like any other.
    Module(ModuleVersion),
    /// A directory on disk (`./staging/foo`): part of the main source tree, never fetched.
    Local(String),
}

/// `exclude path version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclude {
    /// The excluded module version.
    pub module: ModuleVersion,
    /// 1-based line in the file.
    pub line: usize,
}

/// `retract version` or `retract [low, high]`, with the rationale comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retract {
    /// Lowest retracted version.
    pub low: String,
    /// Highest retracted version (equal to `low` for a single version).
    pub high: String,
    /// The comment giving the reason, if any.
    pub rationale: Option<String>,
    /// 1-based line in the file.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Arrow,
}

struct Line {
    toks: Vec<Tok>,
    comment: Option<String>,
}

fn is_ident(c: char) -> bool {
    !matches!(c, ' ' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | '"' | '`') && !c.is_whitespace() && !c.is_control()
}

/// Splits one line into tokens and its trailing `//` comment.
fn lex(text: &str) -> Result<Line, String> {
    let mut toks = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '/' if text[i..].starts_with("//") => {
                return Ok(Line { toks, comment: Some(text[i + 2..].trim().to_owned()) });
            }
            '(' | ')' | '[' | ']' | ',' => {
                chars.next();
                toks.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBrack,
                    ']' => Tok::RBrack,
                    _ => Tok::Comma,
                });
            }
            '=' if text[i..].starts_with("=>") => {
                chars.next();
                chars.next();
                toks.push(Tok::Arrow);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".into()),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '"')) => s.push('"'),
                            Some((_, '\\')) => s.push('\\'),
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            other => return Err(format!("unsupported escape in quoted string: {other:?}")),
                        },
                        Some((_, c)) => s.push(c),
                    }
                }
                toks.push(Tok::Word(s));
            }
            '`' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated raw string".into()),
                        Some((_, '`')) => break,
                        Some((_, c)) => s.push(c),
                    }
                }
                toks.push(Tok::Word(s));
            }
            c if is_ident(c) => {
                let start = i;
                let mut end = text.len();
                while let Some(&(j, d)) = chars.peek() {
                    if !is_ident(d) || text[j..].starts_with("//") || (j > start && text[j..].starts_with("=>")) {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                toks.push(Tok::Word(text[start..end].to_owned()));
            }
            c => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(Line { toks, comment: None })
}

fn word(t: &Tok) -> Option<&str> {
    match t {
        Tok::Word(w) => Some(w),
        _ => None,
    }
}

fn words<'a>(toks: &'a [Tok], want: usize, usage: &str) -> Result<Vec<&'a str>, String> {
    let ws: Option<Vec<&str>> = toks.iter().map(word).collect();
    match ws {
        Some(ws) if ws.len() == want => Ok(ws),
        _ => Err(format!("usage: {usage}")),
    }
}

fn check_path(p: &str) -> Result<(), String> {
    if p.is_empty() || p.contains('@') || p.starts_with('/') || p.ends_with('/') || p.contains("//") {
        return Err(format!("malformed module path {p:?}"));
    }
    Ok(())
}

fn check_version(path: &str, v: &str) -> Result<(), String> {
    if !is_valid_version(v) {
        return Err(format!("{path}: invalid version {v:?} (expected a canonical semantic version like v1.2.3)"));
    }
    Ok(())
}

fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
}

fn check_go_version(v: &str) -> Result<(), String> {
    // 1.21, 1.21.0, 1.21rc1, 1.22beta2
    let (num, pre) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let parts: Vec<&str> = num.split('.').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && pre.is_none_or(|p| {
            (p.starts_with("rc") || p.starts_with("beta"))
                && p.trim_start_matches(char::is_alphabetic).bytes().all(|b| b.is_ascii_digit())
        });
    if ok { Ok(()) } else { Err(format!("invalid go version {v:?} (expected like 1.21 or 1.21.0)")) }
}

impl GoMod {
    /// Parses go.mod text; `file` names the file in errors.
    pub fn parse(file: &str, text: &str) -> Result<GoMod, ParseError> {
        let mut m = GoMod::default();
        let mut have_module = false;
        let mut block: Option<(String, usize)> = None;
        for (idx, raw) in text.lines().enumerate() {
            let lineno = idx + 1;
            let err = |message: String| ParseError { file: file.to_owned(), line: lineno, message };
            let line = lex(raw).map_err(err)?;
            if line.toks.is_empty() {
                continue;
            }
            if let Some((verb, _)) = &block {
                if line.toks == [Tok::RParen] {
                    block = None;
                    continue;
                }
                let verb = verb.clone();
                m.directive(&verb, &line.toks, line.comment.as_deref(), lineno).map_err(err)?;
                continue;
            }
            let Some(verb) = word(&line.toks[0]) else {
                return Err(err(format!(
                    "expected a directive (module, go, require, replace, …), found {:?}",
                    line.toks[0]
                )));
            };
            let args = &line.toks[1..];
            if args == [Tok::LParen] {
                if verb == "module" || verb == "go" || verb == "toolchain" {
                    return Err(err(format!("{verb} directive cannot be a block")));
                }
                block = Some((verb.to_owned(), lineno));
                continue;
            }
            if args == [Tok::LParen, Tok::RParen] {
                continue;
            }
            if verb == "module" {
                if have_module {
                    return Err(err("repeated module directive".into()));
                }
                let ws = words(args, 1, "module module/path").map_err(err)?;
                check_path(ws[0]).map_err(err)?;
                m.module = ws[0].to_owned();
                m.deprecated =
                    line.comment.as_deref().and_then(|c| c.strip_prefix("Deprecated:")).map(|d| d.trim().to_owned());
                have_module = true;
                continue;
            }
            m.directive(verb, args, line.comment.as_deref(), lineno).map_err(err)?;
        }
        if let Some((verb, start)) = block {
            return Err(ParseError {
                file: file.to_owned(),
                line: start,
                message: format!("{verb} block opened here is never closed with ')'"),
            });
        }
        if !have_module {
            return Err(ParseError { file: file.to_owned(), line: 1, message: "no module directive".into() });
        }
        Ok(m)
    }

    fn directive(&mut self, verb: &str, args: &[Tok], comment: Option<&str>, line: usize) -> Result<(), String> {
        match verb {
            "go" => {
                if self.go.is_some() {
                    return Err("repeated go directive".into());
                }
                let ws = words(args, 1, "go 1.23.0")?;
                check_go_version(ws[0])?;
                self.go = Some(ws[0].to_owned());
            }
            "toolchain" => {
                if self.toolchain.is_some() {
                    return Err("repeated toolchain directive".into());
                }
                let ws = words(args, 1, "toolchain go1.23.0")?;
                if ws[0] != "default" {
                    let v = ws[0].strip_prefix("go").ok_or_else(|| format!("invalid toolchain {:?}", ws[0]))?;
                    check_go_version(v.split('-').next().unwrap_or(v))?;
                }
                self.toolchain = Some(ws[0].to_owned());
            }
            "godebug" => {
                let ws = words(args, 1, "godebug key=value")?;
                let (k, v) = ws[0].split_once('=').ok_or("usage: godebug key=value")?;
                self.godebug.push((k.to_owned(), v.to_owned()));
            }
            "require" => {
                let ws = words(args, 2, "require module/path v1.2.3")?;
                check_path(ws[0])?;
                check_version(ws[0], ws[1])?;
                let indirect = comment.is_some_and(|c| c == "indirect" || c.starts_with("indirect;"));
                self.require.push(Require { module: mv(ws[0], ws[1]), indirect, line });
            }
            "exclude" => {
                let ws = words(args, 2, "exclude module/path v1.2.3")?;
                check_path(ws[0])?;
                check_version(ws[0], ws[1])?;
                self.exclude.push(Exclude { module: mv(ws[0], ws[1]), line });
            }
            "replace" => self.replace.push(parse_replace(args, line)?),
            "retract" => {
                let rationale = comment.map(str::to_owned);
                let (low, high) = match args {
                    [Tok::Word(v)] => (v.clone(), v.clone()),
                    [Tok::LBrack, Tok::Word(lo), Tok::Comma, Tok::Word(hi), Tok::RBrack] => (lo.clone(), hi.clone()),
                    _ => return Err("usage: retract v1.2.3 or retract [v1.0.0, v1.9.9]".into()),
                };
                check_version("retract", &low)?;
                check_version("retract", &high)?;
                self.retract.push(Retract { low, high, rationale, line });
            }
            "tool" => self.tool.push(words(args, 1, "tool package/path")?[0].to_owned()),
            "ignore" => self.ignore.push(words(args, 1, "ignore ./dir")?[0].to_owned()),
            "module" => return Err("module directive cannot appear in a block".into()),
            other => {
                return Err(format!(
                    "unknown directive {other:?} (expected module, go, toolchain, godebug, require, replace, exclude, retract, tool or ignore)"
                ));
            }
        }
        Ok(())
    }

    /// The module versions this go.mod names as requirements, after applying its `replace` directives.
    /// Local-directory replacements are dropped: they are part of the source tree, not fetched.
    pub fn effective_requirements(&self) -> Vec<ModuleVersion> {
        self.require
            .iter()
            .filter_map(|r| match self.replacement(&r.module) {
                Some(ReplaceTarget::Local(_)) => None,
                Some(ReplaceTarget::Module(m)) => Some(m.clone()),
                None => Some(r.module.clone()),
            })
            .collect()
    }

    /// The replacement that applies to `m`, if any (a version-specific one wins over a wildcard).
    pub fn replacement(&self, m: &ModuleVersion) -> Option<&ReplaceTarget> {
        self.replace
            .iter()
            .find(|r| r.old_path == m.path && r.old_version.as_deref() == Some(m.version.as_str()))
            .or_else(|| self.replace.iter().find(|r| r.old_path == m.path && r.old_version.is_none()))
            .map(|r| &r.new)
    }
}

fn mv(path: &str, version: &str) -> ModuleVersion {
    ModuleVersion { path: path.to_owned(), version: version.to_owned() }
}

fn parse_replace(args: &[Tok], line: usize) -> Result<Replace, String> {
    const USAGE: &str = "usage: replace module/path [v1.2.3] => other/module v1.4.5 (or => ./local/dir)";
    let arrow = args.iter().position(|t| *t == Tok::Arrow).ok_or(USAGE)?;
    let lhs = words(&args[..arrow], args[..arrow].len(), USAGE)?;
    let rhs = words(&args[arrow + 1..], args[arrow + 1..].len(), USAGE)?;
    let (old_path, old_version) = match lhs[..] {
        [p] => (p, None),
        [p, v] => {
            check_version(p, v)?;
            (p, Some(v.to_owned()))
        }
        _ => return Err(USAGE.into()),
    };
    check_path(old_path)?;
    let new = match rhs[..] {
        [p] if is_local_path(p) => ReplaceTarget::Local(p.to_owned()),
        [p] => {
            return Err(format!(
                "replacement {p:?} has no version: a module replacement needs one, a directory must start with ./, ../ or /"
            ));
        }
        [p, v] => {
            if is_local_path(p) {
                return Err(format!("replacement directory {p:?} cannot have a version"));
            }
            check_path(p)?;
            check_version(p, v)?;
            ReplaceTarget::Module(mv(p, v))
        }
        _ => return Err(USAGE.into()),
    };
    Ok(Replace { old_path: old_path.to_owned(), old_version, new, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"// leading comment
module example.com/main // Deprecated: use example.com/next

go 1.21.0
toolchain go1.22.3
godebug default=go1.21

require example.com/a v1.0.0
require (
	example.com/b v1.2.3 // indirect
	"example.com/quoted" v0.1.0
	example.com/c/v2 v2.0.0-20210101000000-abcdefabcdef
)

replace example.com/a => example.com/fork/a v1.0.1
replace (
	example.com/b v1.2.3 => ../b
	example.com/x=>example.com/y v0.0.1
)
exclude example.com/a v0.9.0
retract [v1.0.0, v1.0.5] // broken build
retract v0.1.0
tool example.com/a/cmd/gen
"#;

    #[test]
    fn parses_every_directive() {
        let m = GoMod::parse("go.mod", SAMPLE).unwrap();
        assert_eq!(m.module, "example.com/main");
        assert_eq!(m.deprecated.as_deref(), Some("use example.com/next"));
        assert_eq!(m.go.as_deref(), Some("1.21.0"));
        assert_eq!(m.toolchain.as_deref(), Some("go1.22.3"));
        assert_eq!(m.godebug, vec![("default".into(), "go1.21".into())]);
        assert_eq!(m.require.len(), 4);
        assert!(m.require[1].indirect && !m.require[0].indirect);
        assert_eq!(m.require[2].module.path, "example.com/quoted");
        assert_eq!(m.require[3].line, 12);
        assert_eq!(m.replace.len(), 3);
        assert_eq!(m.replace[1].new, ReplaceTarget::Local("../b".into()));
        assert_eq!(m.replace[2].new, ReplaceTarget::Module(mv("example.com/y", "v0.0.1")));
        assert_eq!(m.exclude[0].module.version, "v0.9.0");
        assert_eq!(m.retract[0].high, "v1.0.5");
        assert_eq!(m.retract[0].rationale.as_deref(), Some("broken build"));
        assert_eq!(m.tool, vec!["example.com/a/cmd/gen"]);
        let eff = m.effective_requirements();
        assert_eq!(
            eff.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            [
                "example.com/fork/a@v1.0.1",
                "example.com/quoted@v0.1.0",
                "example.com/c/v2@v2.0.0-20210101000000-abcdefabcdef"
            ]
        );
    }

    fn err(text: &str) -> ParseError {
        GoMod::parse("x/go.mod", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_and_expectation() {
        let e = err("module m\n\nrequire example.com/a\n");
        assert_eq!((e.file.as_str(), e.line), ("x/go.mod", 3));
        assert!(e.to_string().starts_with("x/go.mod:3: usage: require"), "{e}");
        assert!(err("module m\nrequire example.com/a 1.0.0\n").message.contains("invalid version"));
        assert_eq!(err("module m\nrequire (\n a v1.0.0\n").line, 2);
        assert!(err("module m\nfrobnicate x\n").message.contains("unknown directive"));
        assert!(err("go 1.21\n").message.contains("no module directive"));
        assert!(err("module m\nreplace a => b\n").message.contains("has no version"));
        assert!(err("module m\nreplace a => ./b v1.0.0\n").message.contains("cannot have a version"));
        assert!(err("module m\nmodule n\n").message.contains("repeated"));
        assert!(err("module \"m\n").message.contains("unterminated"));
        assert!(err("module m\ngo one\n").message.contains("invalid go version"));
        assert!(err("module m\nretract [v1.0.0 v1.0.1]\n").message.contains("usage: retract"));
    }
}
