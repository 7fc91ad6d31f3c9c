//! The linux-yocto kernel fragment (`k3s.cfg`) and the `.scc` that applies it, rendered from
//! [`k3s_model::kernel::OPTIONS`] so the fragment the layer ships and the checker the node tools ship read one list.
//!
//! Every option becomes `CONFIG_<NAME>=y`: built-in rather than `=m` because a bool symbol set to `m` is coerced by
//! Kconfig (an audit warning on every build) and because built-in needs no module autoloading on minimal images.
//! Options are grouped by [`Area`] with the reason for each as a comment, so a reviewer of the kernel config sees
//! why k3s asks for it.

use std::fmt::Write as _;

use anyhow::Result;
use k3s_model::kernel::{Area, KernelOption, Level, OPTIONS, Want};

use crate::context::Context;

/// Path of the fragment, relative to the layer root.
pub const CFG_PATH: &str = "recipes-kernel/linux/files/k3s-kmeta/features/k3s-rs/k3s.cfg";
/// Path of the kernel-cache feature description that applies the fragment.
pub const SCC_PATH: &str = "recipes-kernel/linux/files/k3s-kmeta/features/k3s-rs/k3s.scc";

/// The layer's distro feature (`K3S_DISTRO_FEATURE` in conf/layer.conf, which the bbappend reads; the layer checks
/// compare the two). Not "k3s": meta-virtualization sets that one for its own k3s.
pub const DISTRO_FEATURE: &str = "k3s-rs";

/// Renders `k3s.cfg`, after checking it against linux-yocto's recorded inputs
/// ([`crate::kernel_inputs::FACTS`]): nothing kernel-yocto merges after the fragment may set one of its options
/// (the fragment is a KERNEL_FEATURES entry, so it is merged last), and the facts must be in canonical form.
pub fn render_cfg(ctx: &Context) -> Result<String> {
    let facts = crate::kernel_inputs::Facts::load(&ctx.root)?;
    for m in facts.machines.keys() {
        let (_, after) = facts.lines_around_k3s(m)?;
        for (file, line) in after {
            if let Ok(Some((name, _))) = k3s_kconfig::dotconfig::parse_line(&line)
                && OPTIONS.iter().any(|o| o.name == name)
            {
                anyhow::bail!("{m}: {file} is merged after the k3s fragment and sets {line}");
            }
        }
    }
    Ok(cfg(OPTIONS))
}

/// Renders `k3s.scc`.
pub fn render_scc(_ctx: &Context) -> Result<String> {
    let required = OPTIONS.iter().filter(|o| o.level == Level::Required).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}: a KERNEL_FEATURES entry of linux-yocto-k3s.inc, so kernel-yocto merges it after every other fragment.",
        crate::kernel_inputs::K3S_FEATURE
    );
    let _ =
        writeln!(out, "# Applied by linux-yocto_%.bbappend only when DISTRO_FEATURES contains \"{DISTRO_FEATURE}\".");
    let _ = writeln!(
        out,
        "define KFEATURE_DESCRIPTION \"Kernel options k3s needs ({required} required, {} recommended)\"",
        OPTIONS.len() - required
    );
    out.push_str("define KFEATURE_COMPATIBILITY all\n\n");
    // non-hardware: these are software features, so the kernel tools' audit must not treat them as board options.
    out.push_str("kconf non-hardware k3s.cfg\n");
    Ok(out)
}

fn cfg(options: &[KernelOption]) -> String {
    let mut out = String::from(
        "# Kernel options k3s needs, from meta-k3s-rs/k3s-model (k3s-check-config checks a node against the same list).\n\
         # \"required\": k3s does not work without it; \"recommended\": a feature degrades without it.\n",
    );
    let mut areas: Vec<Area> = options.iter().map(|o| o.area).collect();
    areas.sort();
    areas.dedup();
    for area in areas {
        let _ = writeln!(out, "\n# --- {} ---", area.title());
        for o in options.iter().filter(|o| o.area == area) {
            let _ = writeln!(out, "# {}: {}", o.level.as_str(), o.why);
            match o.want {
                Want::On => {
                    let _ = writeln!(out, "CONFIG_{}=y", o.name);
                }
                Want::Off => {
                    let _ = writeln!(out, "# CONFIG_{} is not set", o.name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `CONFIG_X=y` lines back, the way Kconfig's merge reads a fragment.
    fn symbols(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| k3s_kconfig::dotconfig::parse_line(l).expect("a fragment line").map(|kv| (l, kv)))
            .map(|(l, (k, v))| {
                let o = k3s_model::kernel::find(&k).expect("a model option");
                let want = if o.want == Want::On {
                    k3s_kconfig::dotconfig::Value::Yes
                } else {
                    k3s_kconfig::dotconfig::Value::NotSet
                };
                assert_eq!(v, want, "{l}");
                k
            })
            .collect()
    }

    #[test]
    fn fragment_sets_every_model_option_exactly_once() {
        let text = cfg(OPTIONS);
        let got = symbols(&text);
        assert_eq!(got.len(), OPTIONS.len());
        for o in OPTIONS {
            assert_eq!(got.iter().filter(|s| *s == o.name).count(), 1, "{}", o.name);
        }
    }

    #[test]
    fn fragment_follows_the_model_when_the_model_changes() {
        let one = [KernelOption {
            name: "VETH",
            level: Level::Required,
            area: Area::Networking,
            why: "pods",
            want: k3s_model::kernel::Want::On,
            exists: k3s_model::kernel::Exists::Always,
            hardware: None,
        }];
        let text = cfg(&one);
        assert_eq!(symbols(&text), ["VETH"]);
        assert!(text.contains("# --- pod networking ---\n# required: pods\nCONFIG_VETH=y\n"), "{text}");
    }

    #[test]
    fn gen_refuses_a_fragment_a_later_input_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::copy(repo.join("k3s-spec.yaml"), dir.path().join("k3s-spec.yaml")).unwrap();
        let facts = dir.path().join(crate::kernel_inputs::FACTS);
        std::fs::create_dir_all(facts.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(repo.join(crate::kernel_inputs::FACTS)).unwrap();
        std::fs::write(&facts, &text).unwrap();
        let ctx = Context::load(dir.path()).unwrap();
        render_cfg(&ctx).unwrap();
        // The fragment back where a SRC_URI .scc lands: netfilter.cfg (=m) then comes after it.
        let mut parsed = crate::kernel_inputs::Facts::parse(&text, "facts").unwrap();
        for (_, queue) in parsed.machines.values_mut() {
            queue.retain(|q| q != crate::kernel_inputs::K3S_ENTRY);
            let at = queue.iter().position(|q| q == crate::kernel_inputs::SRC_URI_ENTRY).unwrap();
            queue.insert(at + 1, crate::kernel_inputs::K3S_ENTRY.into());
        }
        std::fs::write(&facts, parsed.render()).unwrap();
        let err = format!("{:#}", render_cfg(&ctx).unwrap_err());
        assert!(err.contains("is merged after the k3s fragment and sets CONFIG_"), "{err}");
        // A hand edit of the facts is refused with the file named.
        std::fs::write(&facts, text.replace("\tCONFIG_NET_SCHED=y", "\tCONFIG_NET_SCHED=m")).unwrap();
        let err = format!("{:#}", render_cfg(&ctx).unwrap_err());
        assert!(err.contains("linux-yocto-6.18-config-inputs.tsv"), "{err}");
    }

    #[test]
    fn scc_names_the_fragment_as_non_hardware() {
        let ctx_free = render_scc_text();
        assert!(ctx_free.contains("kconf non-hardware k3s.cfg\n"));
        assert!(ctx_free.contains("KFEATURE_DESCRIPTION"));
    }

    fn render_scc_text() -> String {
        let dir = tempfile::tempdir().unwrap();
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k3s-spec.yaml");
        std::fs::copy(spec, dir.path().join("k3s-spec.yaml")).unwrap();
        let ctx = Context::load(dir.path()).unwrap();
        render_scc(&ctx).unwrap()
    }
}
