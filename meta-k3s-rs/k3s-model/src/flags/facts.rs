//! The flag facts file, `recipes-containers/k3s/k3s-cli-flags.tsv`: the one place the flags of `k3s agent` and
//! `k3s server` are recorded. `k3s-bake bump` writes it from k3s's source, `k3s-bake gen` reads it and renders
//! [`super::AGENT`] / [`super::SERVER`] (`flags_table.rs`) and the recipe's `k3s-config-facts.inc` from one parse.
//!
//! Format (UTF-8; columns separated by one tab, shown here as `→`):
//!
//! ```text
//! # provenance: where and how the rows were read (one or more comment lines, first in the file)
//! command→name→aliases→kind
//! agent→token→t→string
//! agent→debug→-→bool
//! ```
//!
//! `command` is `agent` or `server`; rows keep k3s's order within a command; `aliases` is a comma-separated list
//! or `-`; `kind` is one of `bool string int duration slice` ([`Kind::as_str`]). Names and aliases are lowercase
//! ASCII letters, digits and `-` (they reach BitBake values and Rust string literals), unique per command.
//!
//! Pure: text in, values out (the crate does no I/O); errors name file:line and what was expected.

use super::{Command, Flag, Kind};

/// Path of the facts file, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s/k3s-cli-flags.tsv";

/// The column header line.
pub const COLUMNS: &str = "command\tname\taliases\tkind";

/// One flag as read from the facts (owned: parsed at run time, unlike the compiled [`Flag`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagFact {
    /// The long name, also the config-file key.
    pub name: String,
    /// Other names, in k3s's order.
    pub aliases: Vec<String>,
    /// The value type.
    pub kind: Kind,
}

impl From<&Flag> for FlagFact {
    fn from(f: &Flag) -> FlagFact {
        FlagFact { name: f.name.into(), aliases: f.aliases.iter().map(|a| (*a).into()).collect(), kind: f.kind }
    }
}

/// The whole facts file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlagFacts {
    /// The comment lines before the column header, without their `# `.
    pub provenance: Vec<String>,
    /// `k3s agent`'s flags, in k3s's order.
    pub agent: Vec<FlagFact>,
    /// `k3s server`'s flags, in k3s's order.
    pub server: Vec<FlagFact>,
}

/// What is wrong with a facts file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file as the caller named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What was found and what was expected.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Whether `s` may be a flag name or alias: `[a-z0-9][a-z0-9-]*`, at most 64 bytes.
pub fn valid_name(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl FlagFacts {
    /// The compiled tables ([`super::AGENT`], [`super::SERVER`]) as facts, provenance empty.
    pub fn compiled() -> FlagFacts {
        FlagFacts {
            provenance: Vec::new(),
            agent: super::AGENT.iter().map(FlagFact::from).collect(),
            server: super::SERVER.iter().map(FlagFact::from).collect(),
        }
    }

    /// The flags of `cmd`.
    pub fn flags(&self, cmd: Command) -> &[FlagFact] {
        match cmd {
            Command::Agent => &self.agent,
            Command::Server => &self.server,
        }
    }

    /// Appends `flag` to `cmd`'s flags; refuses an invalid name or a name/alias `cmd` already has (the error says
    /// which).
    pub fn push(&mut self, cmd: Command, flag: FlagFact) -> Result<(), String> {
        for n in std::iter::once(&flag.name).chain(&flag.aliases) {
            if !valid_name(n) {
                return Err(format!(
                    "{} flag name {n:?}: expected lowercase ASCII letters, digits and '-' (at most 64)",
                    cmd.as_str()
                ));
            }
            if let Some(other) = self.flags(cmd).iter().find(|f| f.name == *n || f.aliases.contains(n)) {
                return Err(format!("{} flag {n:?} is already defined (by {:?})", cmd.as_str(), other.name));
            }
        }
        if flag.aliases.iter().enumerate().any(|(i, a)| *a == flag.name || flag.aliases[..i].contains(a)) {
            return Err(format!("{} flag {:?} lists a name twice", cmd.as_str(), flag.name));
        }
        match cmd {
            Command::Agent => self.agent.push(flag),
            Command::Server => self.server.push(flag),
        }
        Ok(())
    }

    /// Parses a facts file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<FlagFacts, ParseError> {
        let err = |line: usize, message: String| ParseError { file: file.to_owned(), line, message };
        let mut facts = FlagFacts::default();
        let mut header_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            if let Some(c) = raw.strip_prefix('#') {
                if header_seen {
                    return Err(err(n, "a comment after the column header: provenance comments come first".into()));
                }
                facts.provenance.push(c.strip_prefix(' ').unwrap_or(c).to_owned());
                continue;
            }
            if !header_seen {
                if facts.provenance.is_empty() {
                    return Err(err(n, "expected a `# ` provenance comment first (where the flags were read)".into()));
                }
                if raw != COLUMNS {
                    return Err(err(n, format!("expected the column header {COLUMNS:?}, found {raw:?}")));
                }
                header_seen = true;
                continue;
            }
            let cols: Vec<&str> = raw.split('\t').collect();
            let [command, name, aliases, kind] = cols[..] else {
                return Err(err(n, format!("expected 4 tab-separated columns ({COLUMNS:?}), found {}", cols.len())));
            };
            let cmd = Command::from_name(command)
                .ok_or_else(|| err(n, format!("command {command:?}: expected \"agent\" or \"server\"")))?;
            let kind = Kind::from_name(kind).ok_or_else(|| {
                let words: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                err(n, format!("kind {kind:?}: expected one of {}", words.join(" ")))
            })?;
            let aliases = match aliases {
                "-" => Vec::new(),
                "" => return Err(err(n, "empty aliases: expected a comma-separated list or \"-\"".into())),
                a => a.split(',').map(str::to_owned).collect(),
            };
            facts.push(cmd, FlagFact { name: name.to_owned(), aliases, kind }).map_err(|m| err(n, m))?;
        }
        if !header_seen {
            return Err(err(text.lines().count().max(1), format!("no column header {COLUMNS:?}")));
        }
        for cmd in Command::ALL {
            if facts.flags(cmd).is_empty() {
                return Err(err(text.lines().count(), format!("no {} flags", cmd.as_str())));
            }
        }
        Ok(facts)
    }

    /// The facts file's text ([`FlagFacts::parse`] reads it back equal).
    pub fn to_tsv(&self) -> String {
        let mut out = String::new();
        for p in &self.provenance {
            out.push('#');
            if !p.is_empty() {
                out.push(' ');
                out.push_str(p);
            }
            out.push('\n');
        }
        out.push_str(COLUMNS);
        out.push('\n');
        for cmd in Command::ALL {
            for f in self.flags(cmd) {
                let aliases = if f.aliases.is_empty() { "-".to_owned() } else { f.aliases.join(",") };
                out.push_str(&format!("{}\t{}\t{aliases}\t{}\n", cmd.as_str(), f.name, f.kind.as_str()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# read from k3s v1 (commit c)\ncommand\tname\taliases\tkind\nagent\ttoken\tt\tstring\n\
                        agent\tdebug\t-\tbool\nserver\tdisable\t-\tslice\nserver\tnode-ip\ti,ip\tslice\n";

    #[test]
    fn parses_and_writes_back_the_same_text() {
        let f = FlagFacts::parse("f.tsv", GOOD).unwrap();
        assert_eq!(f.provenance, ["read from k3s v1 (commit c)"]);
        assert_eq!(f.agent[0], FlagFact { name: "token".into(), aliases: vec!["t".into()], kind: Kind::String });
        assert_eq!(f.server[1].aliases, ["i", "ip"]);
        assert_eq!(f.to_tsv(), GOOD);
        assert_eq!(FlagFacts::parse("f.tsv", &f.to_tsv()).unwrap(), f);
    }

    #[test]
    fn the_compiled_table_round_trips() {
        let mut c = FlagFacts::compiled();
        c.provenance.push("x".into());
        assert_eq!(FlagFacts::parse("t", &c.to_tsv()).unwrap(), c);
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            ("command\tname\taliases\tkind\n", "f.tsv:1: expected a `# ` provenance comment"),
            ("# p\ncommand name\n", "f.tsv:2: expected the column header"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t-\n", "f.tsv:3: expected 4 tab-separated columns"),
            ("# p\ncommand\tname\taliases\tkind\nnode\tx\t-\tbool\n", "f.tsv:3: command \"node\": expected"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t-\tfloat\n", "f.tsv:3: kind \"float\": expected one of"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tX\t-\tbool\n", "f.tsv:3: agent flag name \"X\": expected"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t\tbool\n", "f.tsv:3: empty aliases"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t-\tbool\nagent\ty\tx\tbool\n", "f.tsv:4: agent flag \"x\""),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t-\tbool\n# late\n", "f.tsv:4: a comment after"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\t-\tbool\n", "f.tsv:3: no server flags"),
            ("# p\n", "f.tsv:1: no column header"),
            ("# p\ncommand\tname\taliases\tkind\nagent\tx\ta\"b\tbool\n", "f.tsv:3: agent flag name \"a\\\"b\""),
        ];
        for (text, want) in cases {
            let e = FlagFacts::parse("f.tsv", text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }
}
