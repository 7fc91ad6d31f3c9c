//! `conf/include/k3s-spec.inc`: k3s-spec.yaml as BitBake variables, required by every recipe of the layer.
//!
//! Pins become hard assignments (a pin is a fact, not a knob); feature toggles and k3s's network defaults (from
//! `k3s_model::net`) become weak defaults (`??=`) so local.conf or a distro still wins; image profiles become varflags keyed by image recipe name, read by the
//! image class.

use std::fmt::Write as _;

use anyhow::Result;

use crate::context::Context;
use crate::spec::{FlannelBackend, Role};

/// Renders pins, feature defaults and image profiles.
pub fn render(ctx: &Context) -> Result<String> {
    let spec = &ctx.spec;
    let mut out =
        String::from("# Recipes `require conf/include/k3s-spec.inc`; change k3s-spec.yaml, never this file.\n");
    for (key, pin) in spec.pins.all() {
        let prefix = key.to_ascii_uppercase().replace('-', "_");
        let _ = write!(
            out,
            "\n# pin: {key}{described}\n\
             {prefix}_VERSION = \"{version}\"\n\
             {prefix}_PV = \"{pv}\"\n\
             {prefix}_SRCREV = \"{commit}\"\n\
             {prefix}_GIT_URI = \"git://{host_path};protocol=https;branch={branch}\"\n",
            version = pin.version,
            described = match pin.commits_after_tag {
                Some(n) => format!(" ({n} commits after tag {})", pin.tag()),
                None => String::new(),
            },
            pv = pin.pv(),
            commit = pin.commit,
            host_path = pin.git_host_path(),
            branch = pin.branch,
        );
    }
    let f = &spec.features;
    let valid: Vec<&str> = FlannelBackend::ALL.iter().map(|b| b.as_str()).collect();
    let _ = write!(
        out,
        "\n# feature defaults (override in local.conf)\n\
         K3S_DEPLOY_TRAEFIK ??= \"{traefik}\"\n\
         K3S_FLANNEL_BACKEND ??= \"{backend}\"\n\
         K3S_CLUSTER_CIDR ??= \"{cluster}\"\n\
         K3S_SERVICE_CIDR ??= \"{service}\"\n\
         # what the k3s recipe accepts for K3S_FLANNEL_BACKEND\n\
         K3S_VALID_FLANNEL_BACKENDS = \"{valid}\"\n",
        traefik = u8::from(f.traefik),
        backend = f.flannel_backend.as_str(),
        cluster = k3s_model::net::DEFAULT_CLUSTER_CIDR,
        service = k3s_model::net::DEFAULT_SERVICE_CIDR,
        valid = valid.join(" "),
    );
    for (name, image) in &spec.images {
        let role = match image.role {
            Role::Server => "server",
            Role::Agent => "agent",
        };
        let _ = write!(
            out,
            "\n# image profile: {name}\n\
             K3S_IMAGE_ROLE[{name}] = \"{role}\"\n\
             K3S_IMAGE_QEMU_MEMORY_MB[{name}] = \"{mem}\"\n\
             K3S_IMAGE_ROOTFS_EXTRA_SPACE_KB[{name}] = \"{space}\"\n",
            mem = image.qemu_memory_mb,
            space = image.rootfs_extra_space_kb,
        );
    }
    Ok(out)
}
