SUMMARY = "k3s release airgap images, imported by k3s on start"
DESCRIPTION = "The airgap image archive of the k3s release (k3s-airgap-images-<arch>.tar.zst: coredns, \
local-path-provisioner, metrics-server, klipper-helm, klipper-lb, traefik, pause, busybox) installed into the \
directory k3s imports image archives from when it starts, so a node brings its packaged components up without \
a registry. Image feature k3s-airgap-images."
HOMEPAGE = "https://docs.k3s.io/installation/airgap"
BUGTRACKER = "https://github.com/k3s-io/k3s/issues"
SECTION = "console/network"

# The archive holds container images built by Rancher from projects under Apache-2.0 (coredns, metrics-server,
# local-path-provisioner, klipper, pause), MIT (traefik) and GPL-2.0-only (busybox); their base layers carry more
# licences. The images are redistributed unchanged; this list was not checked against the archive's content here.
LICENSE = "Apache-2.0 & MIT & GPL-2.0-only"
# The texts are OE-Core's common licences: the archive ships no licence files of its own.
# nooelint: oelint.var.licenseremotefile
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10 \
                    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302 \
                    file://${COMMON_LICENSE_DIR}/GPL-2.0-only;md5=801f80980d171dd6425610833a22dbe6"

require conf/include/k3s-spec.inc
require conf/include/k3s_data_paths.inc
# URL and sha256 per architecture, and the k3s commit they were checked for (rendered by k3s-bake from
# k3s-airgap-images-facts.tsv; never edit it by hand).
require k3s-airgap-images-facts.inc

inherit k3s_distro_check

# The tag's version (the file name says "release"): the archive is a release asset of K3S_AIRGAP_TAG.
PV = "${@d.getVar('K3S_AIRGAP_TAG')[1:]}"

# k3s publishes archives for amd64, arm64 and arm only.
COMPATIBLE_HOST = "(x86_64|aarch64|arm).*-linux.*"

K3S_AIRGAP_ARCH_NAME = "${@d.getVarFlag('K3S_AIRGAP_ARCH', d.getVar('TARGET_ARCH')) or 'unsupported'}"
K3S_AIRGAP_FILE = "k3s-airgap-images-${K3S_AIRGAP_ARCH_NAME}.tar.zst"
# downloadfilename: one DL_DIR holds the archives of several k3s versions under distinct names.
SRC_URI = "${@d.getVarFlag('K3S_AIRGAP_URL', d.getVar('K3S_AIRGAP_ARCH_NAME')) or ''};name=${K3S_AIRGAP_ARCH_NAME};unpack=0;downloadfilename=k3s-airgap-images-${PV}-${K3S_AIRGAP_ARCH_NAME}.tar.zst"

# The archive must belong to the k3s that is built. The facts name the k3s commit they were checked for; any other
# K3S_SRCREV (a bump, a local override) skips the recipe with this message until the facts are re-recorded.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    checked = d.getVar('K3S_AIRGAP_CHECKED_SRCREV')
    built = d.getVar('K3S_SRCREV')
    if built != checked:
        raise bb.parse.SkipRecipe(
            "k3s-airgap-images: the airgap archive facts (recipes-containers/k3s-airgap-images/"
            "k3s-airgap-images-facts.tsv, release %s) were checked for k3s commit %s, but K3S_SRCREV is %s; "
            "re-record them for that k3s or drop the k3s-airgap-images image feature"
            % (d.getVar('K3S_AIRGAP_TAG'), checked, built))
    if d.getVar('K3S_AIRGAP_ARCH_NAME') == 'unsupported':
        raise bb.parse.SkipRecipe("k3s-airgap-images: k3s publishes no airgap archive for TARGET_ARCH %s "
                                  "(only x86_64, aarch64, arm)" % d.getVar('TARGET_ARCH'))
}

INHIBIT_DEFAULT_DEPS = "1"
do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${K3S_AGENT_IMAGES_DIR}
    install -m 0644 ${UNPACKDIR}/k3s-airgap-images-${PV}-${K3S_AIRGAP_ARCH_NAME}.tar.zst \
        ${D}${K3S_AGENT_IMAGES_DIR}/${K3S_AIRGAP_FILE}
}

FILES:${PN} += "${K3S_AGENT_IMAGES_DIR}/${K3S_AIRGAP_FILE}"
# Images without the k3s that imports them are dead weight.
RDEPENDS:${PN} = "k3s"
