SUMMARY = "flannel CNI plugin: pod networking on flannel subnets via the bridge plugin"
DESCRIPTION = "The 'flannel' CNI plugin named in the 10-flannel.conflist k3s writes. It is built the way k3s's \
scripts/build builds it: inside the CNI plugins' source tree (plugins/meta/flannel), against the plugins' vendored \
modules, because flannel-io/cni-plugin itself does not vendor its Go dependencies while everything it imports \
(containernetworking/cni) is vendored there. The flannel daemon itself is built into k3s."
HOMEPAGE = "https://github.com/flannel-io/cni-plugin"
BUGTRACKER = "https://github.com/flannel-io/cni-plugin/issues"
SECTION = "console/network"

require conf/include/k3s-spec.inc
require conf/include/k3s-cni.inc

# flannel's licence, the CNI plugins' licence (the module it is built in) and the vendored modules it links
# (go list -deps at the pins: containernetworking/cni, vishvananda/netns, golang.org/x/sys).
LICENSE = "Apache-2.0 & BSD-3-Clause"
LIC_FILES_CHKSUM = "file://flannel-cni-plugin/LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://src/${GO_IMPORT}/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/containernetworking/cni/LICENSE;md5=fa818a259cbed7ce8bc2a22d35a464fc \
                    file://src/${GO_IMPORT}/vendor/github.com/vishvananda/netns/LICENSE;md5=2ade771c7d7211af507864e8dd520529 \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/sys/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    "

PV = "${FLANNEL_CNI_PLUGIN_PV}"
GO_IMPORT = "github.com/containernetworking/plugins"
SRC_URI = "${FLANNEL_CNI_PLUGIN_GIT_URI};name=flannel;destsuffix=${BP}/flannel-cni-plugin/ \
           ${CNI_PLUGINS_GIT_URI};name=plugins;destsuffix=${GO_SRCURI_DESTSUFFIX} \
           "
SRCREV_flannel = "${FLANNEL_CNI_PLUGIN_SRCREV}"
SRCREV_plugins = "${CNI_PLUGINS_SRCREV}"
SRCREV_FORMAT = "flannel_plugins"

inherit go

export GOFLAGS = "-mod=vendor"
export GOPROXY = "off"
export GOTOOLCHAIN = "local"

FLANNEL_GO_LDFLAGS = "${GO_RPATH} ${GO_LINKMODE} ${GO_LINUXLOADER} ${GO_EXTRA_LDFLAGS} -extldflags '${GO_EXTLDFLAGS}'"

# Place flannel's sources (not its tests, which need ginkgo) as plugins/meta/flannel, as k3s's scripts/build does.
do_configure:append() {
    dst=${S}/src/${GO_IMPORT}/plugins/meta/flannel
    rm -rf $dst
    install -d $dst
    for f in ${S}/flannel-cni-plugin/*.go; do
        case "$f" in
        *_test.go) ;;
        *) install -m 0644 "$f" $dst/ ;;
        esac
    done
}

do_compile() {
    cd ${B}/src/${GO_IMPORT}
    export TMPDIR="${GOTMPDIR}"
    commit=$(echo ${FLANNEL_CNI_PLUGIN_SRCREV} | cut -c1-8)
    ${GO} build ${GOBUILDFLAGS} -buildvcs=false \
        -ldflags "-X main.Version=${FLANNEL_CNI_PLUGIN_VERSION} -X main.Commit=$commit -X main.Program=flannel ${FLANNEL_GO_LDFLAGS}" \
        -o ${B}/flannel ./plugins/meta/flannel
}

do_install() {
    install -d ${D}${K3S_CNI_BIN_DIR}
    install -m 0755 ${B}/flannel ${D}${K3S_CNI_BIN_DIR}/flannel
}

FILES:${PN} += "${K3S_CNI_BIN_DIR}/flannel"
# flannel delegates to these: the bridge plugin with host-local IPAM (and portmap/bandwidth in k3s's conflist).
RDEPENDS:${PN} = "cni-plugins"
# Installs into ${K3S_CNI_BIN_DIR}, which meta-virtualization's cni makes a link (see cni-plugins).
RCONFLICTS:${PN} = "cni"
