SUMMARY = "CNI reference plugins: bridge, host-local, portmap, bandwidth, loopback, ..."
DESCRIPTION = "The Container Network Interface reference plugins at the version k3s's go.mod pins, installed in \
K3S_CNI_BIN_DIR where k3s's containerd looks for them (conf/include/k3s-cni.inc explains how k3s finds them)."
HOMEPAGE = "https://github.com/containernetworking/plugins"
BUGTRACKER = "https://github.com/containernetworking/plugins/issues"
SECTION = "console/network"

require conf/include/k3s-spec.inc
require conf/include/k3s-cni.inc

# The plugins' own licence and the licence of every vendored module the plugins link (go list -deps of every
# plugin built at the pin; test-only and Windows-only vendored modules are not linked). filepath-securejoin's
# pathrs-lite is MPL-2.0.
LICENSE = "Apache-2.0 & BSD-2-Clause & BSD-3-Clause & MIT & MPL-2.0"
LIC_FILES_CHKSUM = "file://src/${GO_IMPORT}/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/alexflint/go-filemutex/LICENSE;md5=85e5af4c3102b5be82eeaa92b393071c \
                    file://src/${GO_IMPORT}/vendor/github.com/containernetworking/cni/LICENSE;md5=fa818a259cbed7ce8bc2a22d35a464fc \
                    file://src/${GO_IMPORT}/vendor/github.com/coreos/go-iptables/LICENSE;md5=19cbd64715b51267a47bf3750cc6a8a5 \
                    file://src/${GO_IMPORT}/vendor/github.com/coreos/go-systemd/v22/LICENSE;md5=19cbd64715b51267a47bf3750cc6a8a5 \
                    file://src/${GO_IMPORT}/vendor/github.com/cyphar/filepath-securejoin/LICENSE.BSD;md5=7e05df0b39896d74600ef94ab46dce89 \
                    file://src/${GO_IMPORT}/vendor/github.com/cyphar/filepath-securejoin/LICENSE.MPL-2.0;md5=f75d2927d3c1ed2414ef72048f5ad640 \
                    file://src/${GO_IMPORT}/vendor/github.com/godbus/dbus/v5/LICENSE;md5=09042bd5c6c96a2b9e45ddf1bc517eed \
                    file://src/${GO_IMPORT}/vendor/github.com/insomniacslk/dhcp/LICENSE;md5=ceaf33b8b657b2d342dbd3bb59578d8a \
                    file://src/${GO_IMPORT}/vendor/github.com/josharian/native/license;md5=22904acb291752d818959e01847de4c5 \
                    file://src/${GO_IMPORT}/vendor/github.com/mattn/go-shellwords/LICENSE;md5=e5116fc268f5118168ff06a271b50ef9 \
                    file://src/${GO_IMPORT}/vendor/github.com/mdlayher/packet/LICENSE.md;md5=2601a9c0685eda4a9e7d372db5dbea00 \
                    file://src/${GO_IMPORT}/vendor/github.com/mdlayher/socket/LICENSE.md;md5=bdcb2fcb7aea8a34d189ef572a59ff88 \
                    file://src/${GO_IMPORT}/vendor/github.com/networkplumbing/go-nft/LICENSE;md5=86d3f3a95c324c9479bd8986968f4327 \
                    file://src/${GO_IMPORT}/vendor/github.com/opencontainers/selinux/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/pierrec/lz4/v4/LICENSE;md5=09ece85f3c312a63b522bfc6ebd44943 \
                    file://src/${GO_IMPORT}/vendor/github.com/pkg/errors/LICENSE;md5=6fe682a02df52c6653f33bd0f7126b5a \
                    file://src/${GO_IMPORT}/vendor/github.com/safchain/ethtool/LICENSE;md5=8e1a430c9c6b9fa0c191191e83efa169 \
                    file://src/${GO_IMPORT}/vendor/github.com/u-root/uio/LICENSE;md5=52bf39fc1e426b6459f5c9a142e5bfbd \
                    file://src/${GO_IMPORT}/vendor/github.com/vishvananda/netlink/LICENSE;md5=2ade771c7d7211af507864e8dd520529 \
                    file://src/${GO_IMPORT}/vendor/github.com/vishvananda/netns/LICENSE;md5=2ade771c7d7211af507864e8dd520529 \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/net/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/sync/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/sys/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    file://src/${GO_IMPORT}/vendor/sigs.k8s.io/knftables/LICENSE;md5=86d3f3a95c324c9479bd8986968f4327 \
                    "

PV = "${CNI_PLUGINS_PV}"
GO_IMPORT = "github.com/containernetworking/plugins"
SRC_URI = "${CNI_PLUGINS_GIT_URI};destsuffix=${GO_SRCURI_DESTSUFFIX}"
SRCREV = "${CNI_PLUGINS_SRCREV}"

inherit go

# Dependencies are vendored upstream (build_linux.sh builds with -mod=vendor): never the network.
export GOFLAGS = "-mod=vendor"
export GOPROXY = "off"
export GOTOOLCHAIN = "local"

# The go class's linker flags (loader, rpath, target LDFLAGS), repeated because -ldflags is given once per build.
CNI_GO_LDFLAGS = "${GO_RPATH} ${GO_LINKMODE} ${GO_LINUXLOADER} ${GO_EXTRA_LDFLAGS} -extldflags '${GO_EXTLDFLAGS}'"

do_compile() {
    cd ${B}/src/${GO_IMPORT}
    export TMPDIR="${GOTMPDIR}"
    install -d ${B}/cni
    # Every plugin upstream's build_linux.sh builds: plugins/{main,ipam,meta}/* except the Windows-only ones.
    for dir in plugins/main/* plugins/ipam/* plugins/meta/*; do
        [ -d "$dir" ] || continue
        name=$(basename $dir)
        case "$name" in windows|win-*) continue ;; esac
        ${GO} build ${GOBUILDFLAGS} -buildvcs=false \
            -ldflags "-X ${GO_IMPORT}/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION} ${CNI_GO_LDFLAGS}" \
            -o ${B}/cni/$name ./$dir
    done
}

do_install() {
    install -d ${D}${K3S_CNI_BIN_DIR}
    install -m 0755 ${B}/cni/* ${D}${K3S_CNI_BIN_DIR}/
}

FILES:${PN} += "${K3S_CNI_BIN_DIR}"
# meta-virtualization's cni installs its plugins in ${libexecdir}/cni and /opt/cni/bin as a link to there: our
# /opt/cni/bin directory and that link cannot be in one rootfs.
RCONFLICTS:${PN} = "cni"
