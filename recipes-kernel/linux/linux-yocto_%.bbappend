# The kernel options k3s needs (files/k3s.cfg, rendered by k3s-bake from the shared model that k3s-check-config
# also checks against), applied only when DISTRO_FEATURES contains "k3s". Without the feature this append requires
# nothing, so adding the layer alone changes no kernel's task signatures (yocto-check-layer tests that).
require ${@bb.utils.contains('DISTRO_FEATURES', 'k3s', 'linux-yocto-k3s.inc', '', d)}
