//! `conf/include/k3s-spec.inc`: k3s-spec.yaml as BitBake variables, required by every recipe of the layer.
//!
//! Pins become hard assignments (a pin is a fact, not a knob); feature toggles and k3s's network defaults (from
//! `k3s_model::net`) become weak defaults (`??=`) so local.conf or a distro still wins; image profiles become varflags keyed by image recipe name, read by the
//! image class.

use anyhow::Result;
use bb_value::{Op, Val, assign, assign_flag, comment};

use crate::context::Context;
use crate::spec::{FlannelBackend, Role, SPEC_FILE};

/// Renders pins, feature defaults and image profiles. Every value goes through the one BitBake writer
/// (`bb-value`): a spec value BitBake would interpret is refused naming the spec field, even for a spec that did
/// not come through `Spec::load`'s checks.
pub fn render(ctx: &Context) -> Result<String> {
    let spec = &ctx.spec;
    let mut out =
        String::from("# Recipes `require conf/include/k3s-spec.inc`; change k3s-spec.yaml, never this file.\n");
    for (key, pin) in spec.pins.all() {
        let prefix = key.to_ascii_uppercase().replace('-', "_");
        let at = |field: &str| format!("{SPEC_FILE}: pins.{key}.{field}");
        // The tag reaches a comment and PV: data, one line.
        let tag = bb_value::lit("tag", pin.tag()).map_err(|e| e.at(at("tag")))?;
        let described = match pin.commits_after_tag {
            Some(n) => format!(" ({n} commits after tag {tag})"),
            None => String::new(),
        };
        out.push('\n');
        comment(&mut out, &format!("pin: {key}{described}")).map_err(|e| e.at(at("tag")))?;
        assign(&mut out, &format!("{prefix}_VERSION"), Op::Set, Val::Lit(&pin.version))
            .map_err(|e| e.at(at("version")))?;
        assign(&mut out, &format!("{prefix}_PV"), Op::Set, Val::Lit(&pin.pv())).map_err(|e| e.at(at("version")))?;
        assign(&mut out, &format!("{prefix}_SRCREV"), Op::Set, Val::Lit(&pin.commit))
            .map_err(|e| e.at(at("commit")))?;
        let host_path = bb_value::lit("git URL", pin.git_host_path()).map_err(|e| e.at(at("git")))?;
        let branch = bb_value::lit("branch", &pin.branch).map_err(|e| e.at(at("branch")))?;
        let uri = format!("git://{host_path};protocol=https;branch={branch}");
        assign(&mut out, &format!("{prefix}_GIT_URI"), Op::Set, Val::Lit(&uri)).map_err(|e| e.at(at("git")))?;
    }
    let f = &spec.features;
    let valid: Vec<&str> = FlannelBackend::ALL.iter().map(|b| b.as_str()).collect();
    out.push('\n');
    comment(&mut out, "feature defaults (override in local.conf)")?;
    assign(&mut out, "K3S_DEPLOY_TRAEFIK", Op::Weak, Val::Lit(&u8::from(f.traefik).to_string()))?;
    assign(&mut out, "K3S_FLANNEL_BACKEND", Op::Weak, Val::Lit(f.flannel_backend.as_str()))?;
    assign(&mut out, "K3S_CLUSTER_CIDR", Op::Weak, Val::Lit(k3s_model::net::DEFAULT_CLUSTER_CIDR))?;
    assign(&mut out, "K3S_SERVICE_CIDR", Op::Weak, Val::Lit(k3s_model::net::DEFAULT_SERVICE_CIDR))?;
    comment(&mut out, "what the k3s recipe accepts for K3S_FLANNEL_BACKEND")?;
    assign(&mut out, "K3S_VALID_FLANNEL_BACKENDS", Op::Set, Val::Lit(&valid.join(" ")))?;
    for (name, image) in &spec.images {
        let role = match image.role {
            Role::Server => "server",
            Role::Agent => "agent",
        };
        let at = format!("{SPEC_FILE}: images.{name}");
        out.push('\n');
        comment(&mut out, &format!("image profile: {name}")).map_err(|e| e.at(&at))?;
        let mem = image.qemu_memory_mb.to_string();
        let space = image.rootfs_extra_space_kb.to_string();
        for (var, value) in
            [("K3S_IMAGE_ROLE", role), ("K3S_IMAGE_QEMU_MEMORY_MB", &mem), ("K3S_IMAGE_ROOTFS_EXTRA_SPACE_KB", &space)]
        {
            assign_flag(&mut out, var, name, Op::Set, Val::Lit(value)).map_err(|e| e.at(&at))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::spec::Spec;

    fn ctx() -> Context {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k3s-spec.yaml");
        Context { root: PathBuf::new(), spec: Spec::load(&spec).unwrap() }
    }

    /// A spec that bypassed `Spec::load`'s checks (as a future caller or a refactoring might) still cannot put
    /// BitBake syntax into k3s-spec.inc: the writer refuses, naming the spec field.
    #[test]
    fn hostile_values_are_refused_by_the_writer_naming_the_spec_field() {
        for hostile in ["${@os.system(\"x\")}", "a\"b", "a\nb", "a\\b"] {
            let mut c = ctx();
            c.spec.pins.k3s.branch = hostile.to_owned();
            let e = format!("{:#}", render(&c).unwrap_err());
            assert!(e.starts_with("k3s-spec.yaml: pins.k3s.branch: branch "), "{hostile:?}: {e}");
            let mut c = ctx();
            c.spec.pins.runc.git = format!("https://github.com/opencontainers/runc{hostile}");
            let e = format!("{:#}", render(&c).unwrap_err());
            assert!(e.starts_with("k3s-spec.yaml: pins.runc.git: git URL "), "{hostile:?}: {e}");
        }
        let mut c = ctx();
        c.spec.pins.k3s.tag = Some("v1\nK3S_SRCREV = \"0\"".to_owned());
        assert!(format!("{:#}", render(&c).unwrap_err()).starts_with("k3s-spec.yaml: pins.k3s.tag: tag "));
    }

    #[test]
    fn the_committed_spec_renders() {
        let text = render(&ctx()).unwrap();
        assert!(
            text.contains("\nK3S_GIT_URI = \"git://github.com/k3s-io/k3s.git;protocol=https;branch=release-1.36\"\n")
        );
        assert!(text.contains("K3S_IMAGE_ROLE[core-image-k3s] = \"server\"\n"));
    }
}
