//! `recipes-containers/k3s-node/k3s-node-tools.inc`: the names the node tools' multi-call binary answers to,
//! from [`k3s_model::tools`] — the binary's own dispatch table — so the recipe's symlinks and the binary agree.

use anyhow::Result;
use bb_value::{Op, Val};
use k3s_model::tools::{MULTICALL_BINARY, TOOLS};

use crate::context::Context;

/// Path of the include, relative to the layer root.
pub const PATH: &str = "recipes-containers/k3s-node/k3s-node-tools.inc";

/// Renders `K3S_NODE_BINARY` and `K3S_NODE_TOOLS` (one symlink per tool).
pub fn render(_ctx: &Context) -> Result<String> {
    let mut out = String::from("# Required by k3s-node.inc: one link per tool to the multi-call binary.\n");
    bb_value::assign(&mut out, "K3S_NODE_BINARY", Op::Set, Val::Lit(MULTICALL_BINARY))?;
    let tools: Vec<Val<'_>> = TOOLS.iter().map(|t| Val::Lit(t.name())).collect();
    bb_value::list(&mut out, "K3S_NODE_TOOLS", Op::Set, &tools)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn lists_every_tool_once() {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k3s-spec.yaml");
        let ctx = Context { root: PathBuf::new(), spec: crate::spec::Spec::load(&spec).unwrap() };
        let text = render(&ctx).unwrap();
        for tool in TOOLS {
            assert_eq!(text.matches(&format!("    {} \\\n", tool.name())).count(), 1, "{}", tool.name());
        }
        assert!(text.contains("K3S_NODE_BINARY = \"k3s-node\""));
    }
}
