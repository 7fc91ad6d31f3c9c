//! `recipes-containers/k3s/k3s-config-facts.inc`: what the k3s recipe's Python (`lib/k3s_config`) needs — each
//! role's config file ([`k3s_model::paths`]) and the flags `k3s server` / `k3s agent` define — so the keys the
//! layer writes are checked at parse time against the same facts the stand-in k3s refuses unknown flags from.
//! The flags come from the facts file as parsed in this `gen` run ([`super::flags_table::render_files`] renders
//! this include and `k3s_model::flags`' table from one parse).

use anyhow::Result;
use bb_value::{Op, Val};
use k3s_model::flags::Command;
use k3s_model::flags::facts::FlagFacts;
use k3s_model::paths;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s/k3s-config-facts.inc";

/// A path under /etc as `${sysconfdir}/...` (oelint's rule, and the form the recipe's other paths take).
fn bb_path(path: &str) -> String {
    match path.strip_prefix("/etc/") {
        Some(rest) => format!("${{sysconfdir}}/{rest}"),
        None => path.to_string(),
    }
}

/// Renders the config paths and `K3S_SERVER_FLAGS` / `K3S_AGENT_FLAGS` (`NAME=KIND`, aliases included) of
/// `flags`.
pub fn render(flags: &FlagFacts) -> Result<String> {
    let mut out = String::from(
        "# Required by k3s_git.bb. Each role's k3s config file, and the flags each subcommand defines as NAME=KIND\n\
         # (KIND: bool string int duration slice; aliases listed too): lib/k3s_config checks every config\n\
         # key the layer writes against its role's list. `k3s server` drops config keys it does not define; `k3s\n\
         # agent` refuses them (flag provided but not defined), so the agent gets a config file of its own.\n",
    );
    // `${sysconfdir}` is a deliberate BitBake expression; everything else is data (bb-value refuses `${` in it).
    let (server, server_d) = (bb_path(paths::CONFIG_FILE), bb_path(paths::CONFIG_DROPIN_DIR));
    let (agent, agent_d) = (bb_path(paths::AGENT_CONFIG_FILE), bb_path(paths::AGENT_CONFIG_DROPIN_DIR));
    bb_value::assign(&mut out, "K3S_SERVER_CONFIG", Op::Set, Val::Bb(&server))?;
    bb_value::assign(&mut out, "K3S_SERVER_CONFIG_DROPIN_DIR", Op::Set, Val::Bb(&server_d))?;
    bb_value::assign(&mut out, "K3S_AGENT_CONFIG", Op::Set, Val::Bb(&agent))?;
    bb_value::assign(&mut out, "K3S_AGENT_CONFIG_DROPIN_DIR", Op::Set, Val::Bb(&agent_d))?;
    for (var, cmd) in [("K3S_SERVER_FLAGS", Command::Server), ("K3S_AGENT_FLAGS", Command::Agent)] {
        let mut items = Vec::new();
        for f in flags.flags(cmd) {
            for n in std::iter::once(&f.name).chain(&f.aliases) {
                items.push(format!("{n}={}", f.kind.as_str()));
            }
        }
        let items: Vec<Val<'_>> = items.iter().map(|i| Val::Lit(i)).collect();
        bb_value::list(&mut out, var, Op::Set, &items)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_flag_of_each_role_once() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(k3s_model::flags::facts::PATH);
        let facts = FlagFacts::parse("facts", &std::fs::read_to_string(path).unwrap()).unwrap();
        let text = render(&facts).unwrap();
        let (server, agent) = text.split_once("K3S_AGENT_FLAGS").unwrap();
        assert!(server.contains("    disable=slice \\\n") && !agent.contains("    disable="));
        assert!(agent.contains("    token=string \\\n    t=string \\\n"));
        assert!(text.contains("K3S_AGENT_CONFIG = \"${sysconfdir}/rancher/k3s/agent.yaml\"\n"));
    }
}

#[cfg(test)]
mod from_the_parsed_facts {
    use super::*;

    /// After a bump the facts hold flags the compiled table does not have yet: the include follows the facts.
    #[test]
    fn a_flag_only_in_the_facts_reaches_the_include_for_its_command_only() {
        let mut f = FlagFacts::compiled();
        f.provenance.push("test".into());
        let k = k3s_model::flags::facts::FlagFact {
            name: "brand-new-flag".into(),
            aliases: vec!["b".into()],
            kind: k3s_model::flags::Kind::Duration,
        };
        f.push(Command::Agent, k).unwrap();
        let text = render(&f).unwrap();
        let (server, agent) = text.split_once("K3S_AGENT_FLAGS").unwrap();
        assert!(agent.contains("    brand-new-flag=duration \\\n    b=duration \\\n"), "{agent}");
        assert!(!server.contains("brand-new-flag"));
    }
}
