SUMMARY = "A k3s server image: boots into a single-node Kubernetes cluster"
DESCRIPTION = "core-image with the k3s server (k3s.service enabled, coredns, metrics-server and \
local-path-provisioner deployed on first start), the node tools and an SSH server. Memory and rootfs-space \
defaults come from the core-image-k3s profile in k3s-spec.yaml."
LICENSE = "MIT"

require conf/include/k3s-spec.inc

inherit core-image k3s_image k3s_distro_check

# The role comes from the image profile (K3S_IMAGE_ROLE[core-image-k3s] in conf/include/k3s-spec.inc).
IMAGE_FEATURES += "k3s-${@d.getVarFlag('K3S_IMAGE_ROLE', d.getVar('PN'))} ssh-server-dropbear"
# k3s's airgap images: the node's packaged components come up on first boot without network or registry, which is
# what a flashed embedded node needs; the cost is the archive in the rootfs (zstd) plus its unpacked
# copy in containerd's store, inside the profile's rootfs extra space. Drop it with
# IMAGE_FEATURES:remove:pn-${PN} = "k3s-airgap-images" when every node can pull from a registry (README: Offline).
IMAGE_FEATURES += "k3s-airgap-images"
