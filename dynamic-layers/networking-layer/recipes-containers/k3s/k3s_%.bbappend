# Parsed only when meta-networking is in BBLAYERS (BBFILES_DYNAMIC in conf/layer.conf). The append matches every
# layer's k3s recipe (meta-virtualization has one too), so it is a conditional require, like the kernel bbappend:
# without this layer's distro feature it adds nothing, and another layer's k3s keeps its task signatures.
require ${@bb.utils.contains('DISTRO_FEATURES', d.getVar('K3S_DISTRO_FEATURE'), 'k3s-networking.inc', '', d)}
