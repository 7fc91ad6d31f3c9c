//! `recipes-containers/k3s/k3s-config-facts.inc`: what the k3s recipe's Python (`lib/k3s_config`) needs from
//! [`k3s_model`] — each role's config file and the flags `k3s server` / `k3s agent` define — so the keys the
//! layer writes are checked at parse time against the same table the stand-in k3s refuses unknown flags from.

use anyhow::Result;
use bb_value::{Op, Val};
use k3s_model::flags::{Command, Kind};
use k3s_model::paths;

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s/k3s-config-facts.inc";

/// A path under /etc as `${sysconfdir}/...` (oelint's rule, and the form the recipe's other paths take).
fn bb_path(path: &str) -> String {
    match path.strip_prefix("/etc/") {
        Some(rest) => format!("${{sysconfdir}}/{rest}"),
        None => path.to_string(),
    }
}

fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Int => "int",
        Kind::Duration => "duration",
        Kind::Slice => "slice",
    }
}

/// Renders the config paths and `K3S_SERVER_FLAGS` / `K3S_AGENT_FLAGS` (`NAME=KIND`, aliases included).
pub fn render(_ctx: &Context) -> Result<String> {
    let mut out = String::from(
        "# Required by k3s_git.bb. Each role's k3s config file, and the flags each subcommand defines as NAME=KIND\n\
         # (KIND: bool string int duration slice; one-letter aliases listed too): lib/k3s_config checks every config\n\
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
        for f in cmd.flags() {
            items.push(format!("{}={}", f.name, kind(f.kind)));
            if let Some(a) = f.alias {
                items.push(format!("{a}={}", kind(f.kind)));
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
    use std::path::{Path, PathBuf};

    #[test]
    fn every_flag_of_each_role_once() {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k3s-spec.yaml");
        let ctx = Context { root: PathBuf::new(), spec: crate::spec::Spec::load(&spec).unwrap() };
        let text = render(&ctx).unwrap();
        let (server, agent) = text.split_once("K3S_AGENT_FLAGS").unwrap();
        assert!(server.contains("    disable=slice \\\n") && !agent.contains("    disable="));
        assert!(agent.contains("    token=string \\\n    t=string \\\n"));
        assert!(text.contains("K3S_AGENT_CONFIG = \"${sysconfdir}/rancher/k3s/agent.yaml\"\n"));
    }
}
