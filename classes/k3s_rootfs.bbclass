# k3s on a read-only or A/B root (README: Read-only and A/B roots). Inherited by classes/k3s_image.bbclass, so every
# image with a k3s feature gets the check below; other recipes are untouched.
#
# With IMAGE_FEATURES read-only-rootfs, OE-Core's volatile-binds puts /var/lib on an overlay over tmpfs
# (mount-copybind): k3s's state would vanish at every reboot, and containerd's overlayfs snapshotter
# (/var/lib/rancher/k3s/agent/containerd) would stack overlay on overlay, which the kernel refuses for an upper
# directory. So a k3s image with a read-only root must put the state on a persistent partition: K3S_DATA_PARTITION
# (its mount point; the k3s recipe then bind-mounts /var/lib/rancher, /etc/rancher/node, /var/lib/kubelet and
# /var/lib/cni from it). files/wic/k3s-ab-data.wks.in lays out such a disk.

# Size in MiB of the data partition of files/wic/k3s-ab-data.wks.in.
K3S_DATA_PARTITION_SIZE ??= "4096"
K3S_DATA_PARTITION ??= ""

def k3s_rootfs_check(d):
    features = (d.getVar('IMAGE_FEATURES') or '').split()
    k3s = [f for f in ('k3s-server', 'k3s-agent') if f in features]
    data = d.getVar('K3S_DATA_PARTITION')
    if 'read-only-rootfs' in features and k3s and not data:
        bb.fatal("%s: IMAGE_FEATURES has read-only-rootfs and %s, but K3S_DATA_PARTITION is empty: k3s's state "
                 "would live on OE-Core's volatile %s/lib (an overlay on tmpfs), lost at every reboot, and "
                 "containerd's overlayfs snapshotter would stack overlay on overlay. Set K3S_DATA_PARTITION to the "
                 "mount point of a persistent partition (e.g. \"/data\" with WKS_FILE = \"k3s-ab-data.wks.in\")"
                 % (d.getVar('PN'), k3s[0], d.getVar('localstatedir')))
    if (d.getVar('WKS_FILE') or '').strip() == 'k3s-ab-data.wks.in' and not data:
        bb.fatal("%s: WKS_FILE k3s-ab-data.wks.in mounts its data partition at K3S_DATA_PARTITION, which is empty"
                 % d.getVar('PN'))
    if not (d.getVar('K3S_DATA_PARTITION_SIZE') or '').isdigit():
        bb.fatal('K3S_DATA_PARTITION_SIZE = "%s" is not a number of MiB' % d.getVar('K3S_DATA_PARTITION_SIZE'))

# The image's features are final only at the end of parsing.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    if bb.data.inherits_class('image', d):
        k3s_rootfs_check(d)
}
