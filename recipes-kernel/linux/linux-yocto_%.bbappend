# The kernel options k3s needs (files/k3s.cfg, rendered by k3s-bake from the shared model that k3s-check-config
# also checks against), applied only when DISTRO_FEATURES contains the layer's own feature (K3S_DISTRO_FEATURE,
# "k3s-rs", conf/layer.conf). Without the feature this append requires nothing, so adding the layer alone changes no
# kernel's task signatures (yocto-check-layer tests that), also next to meta-virtualization's "k3s" feature.
require ${@bb.utils.contains('DISTRO_FEATURES', d.getVar('K3S_DISTRO_FEATURE'), 'linux-yocto-k3s.inc', '', d)}
