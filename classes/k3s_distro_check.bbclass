# Skip a recipe of meta-k3s-rs, with a message that says how to fix it, unless DISTRO_FEATURES has what k3s needs.
#
# OE-Core's features_check would skip too, but only names the missing feature; users then have to find out that
# `require conf/distro/include/k3s.inc` in local.conf (or the same lines in their distro) is the whole fix.
#
# K3S_REQUIRED_DISTRO_FEATURES:
#   systemd  k3s is supervised by its systemd units (Type=notify, Delegate=yes)
#   seccomp  containerd/runc apply the default seccomp profile (libseccomp is gated by this feature)
#   k3s-rs   this layer's feature (K3S_DISTRO_FEATURE, conf/layer.conf): applies the kernel fragment; adding the
#            layer without it changes nothing. meta-virtualization's "k3s" feature is not it.

K3S_REQUIRED_DISTRO_FEATURES ?= "systemd seccomp ${K3S_DISTRO_FEATURE}"

# A recipe must be skipped at parse time (like features_check does), so this cannot wait for a task.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    have = set(d.getVar('DISTRO_FEATURES').split())
    missing = [f for f in d.getVar('K3S_REQUIRED_DISTRO_FEATURES').split() if f not in have]
    if missing:
        raise bb.parse.SkipRecipe(
            "meta-k3s-rs needs DISTRO_FEATURES '%s' (missing: %s). Add this line to conf/local.conf "
            "(or the same settings to your distro): require conf/distro/include/k3s.inc"
            % (d.getVar('K3S_REQUIRED_DISTRO_FEATURES'), ' '.join(missing)))
}
