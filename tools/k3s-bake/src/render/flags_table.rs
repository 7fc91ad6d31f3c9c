//! The flag facts (`recipes-containers/k3s/k3s-cli-flags.tsv`, written by `k3s-bake bump` from k3s's
//! `pkg/cli/cmds`) rendered into the two files that use them, from one parse in one `gen` run:
//! `meta-k3s-rs/k3s-model/src/flags_table.rs` (`k3s_model::flags::{AGENT, SERVER}`, which `flags.rs` includes)
//! and the recipe's `k3s-config-facts.inc` ([`super::config_facts_inc`]). The include is rendered from the facts
//! just read, never from the table compiled into k3s-bake, which is one `gen` behind right after a bump.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use k3s_model::flags::Command;
use k3s_model::flags::facts::{FlagFacts, PATH as FACTS};

use crate::context::Context;

/// Path of the generated Rust table, relative to the repository root.
pub const PATH: &str = "meta-k3s-rs/k3s-model/src/flags_table.rs";

/// Reads and parses the facts file under `ctx.root`.
pub fn load(ctx: &Context) -> Result<FlagFacts> {
    let path = ctx.root.join(FACTS);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {FACTS}"))?;
    Ok(FlagFacts::parse(FACTS, &text)?)
}

/// The body of `flags_table.rs` (items `flags.rs` includes; names are checked by the parser, so they are plain
/// string literals).
pub fn render_table(facts: &FlagFacts) -> String {
    // The facts' provenance, so the table says where its rows were read.
    let mut out = String::from("//\n");
    for p in &facts.provenance {
        out.push_str(if p.is_empty() { "//\n" } else { "// " });
        if !p.is_empty() {
            let _ = writeln!(out, "{p}");
        }
    }
    for (cmd, konst, what) in
        [(Command::Agent, "AGENT", "NewAgentCommand"), (Command::Server, "SERVER", "NewServerCommand")]
    {
        let _ = write!(
            out,
            "\n/// `k3s {}`: the flags `{what}` defines, in k3s's order ({} flags).\npub const {konst}: &[Flag] = &[\n",
            cmd.as_str(),
            facts.flags(cmd).len()
        );
        for f in facts.flags(cmd) {
            let aliases: Vec<String> = f.aliases.iter().map(|a| format!("\"{a}\"")).collect();
            let kind = format!("{:?}", f.kind);
            let _ = writeln!(
                out,
                "    Flag {{ name: \"{}\", aliases: &[{}], kind: Kind::{kind} }},",
                f.name,
                aliases.join(", ")
            );
        }
        out.push_str("];\n");
    }
    out
}

/// Renders both files from one parse: `[flags_table.rs, k3s-config-facts.inc]`.
pub fn render_files(ctx: &Context) -> Result<Vec<String>> {
    let facts = load(ctx)?;
    Ok(vec![render_table(&facts), super::config_facts_inc::render(&facts)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn committed() -> FlagFacts {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(root.join(FACTS)).unwrap();
        FlagFacts::parse(FACTS, &text).unwrap()
    }

    /// The table compiled into every binary is the committed facts (a facts edit without `gen` fails here as well
    /// as in `gen --check`).
    #[test]
    fn the_compiled_table_equals_the_committed_facts() {
        let facts = committed();
        let compiled = FlagFacts::compiled();
        assert_eq!(compiled.agent, facts.agent);
        assert_eq!(compiled.server, facts.server);
    }

    #[test]
    fn the_table_is_rust_items_with_every_flag() {
        let t = render_table(&committed());
        assert!(t.contains(
            "pub const AGENT: &[Flag] = &[\n    Flag { name: \"config\", aliases: &[\"c\"], kind: Kind::String },\n"
        ));
        assert!(t.contains("    Flag { name: \"disable\", aliases: &[], kind: Kind::Slice },\n"));
        assert!(!t.contains("//!"), "inner doc comments cannot be include!d");
    }
}
