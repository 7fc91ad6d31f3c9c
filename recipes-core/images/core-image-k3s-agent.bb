SUMMARY = "A k3s agent image: joins a k3s server with k3s-agent -s URL -t TOKEN"
DESCRIPTION = "core-image with the k3s agent (k3s-agent.service, enabled once k3s-agent has written the server URL \
and token, or by k3s-role-setup from the kernel command line), the node tools and an SSH server. Memory and \
rootfs-space defaults come from the core-image-k3s-agent profile in k3s-spec.yaml."
LICENSE = "MIT"

require conf/include/k3s-spec.inc

inherit core-image k3s_image k3s_distro_check

IMAGE_FEATURES += "k3s-${@d.getVarFlag('K3S_IMAGE_ROLE', d.getVar('PN'))} ssh-server-dropbear"
# k3s's airgap images: the node's packaged components come up on first boot without network or registry, which is
# what a flashed embedded node needs; the cost is the archive in the rootfs (zstd) plus its unpacked
# copy in containerd's store, inside the profile's rootfs extra space. Drop it with
# IMAGE_FEATURES:remove:pn-${PN} = "k3s-airgap-images" when every node can pull from a registry (README: Offline).
IMAGE_FEATURES += "k3s-airgap-images"
