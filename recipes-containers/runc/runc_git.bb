SUMMARY = "runc, the OCI container runtime k3s runs containers with"
DESCRIPTION = "The OCI runtime k3s's containerd starts containers with (through containerd-shim-runc-v2, which \
looks up runc on PATH). The version is the one k3s's go.mod pins."
HOMEPAGE = "https://github.com/opencontainers/runc"
BUGTRACKER = "https://github.com/opencontainers/runc/issues"
SECTION = "console/utils"

require conf/include/k3s-spec.inc

# runc's own licence and the licence of every vendored module the build links (go list -deps with RUNC_GO_TAGS
# at the pin: no cyphar.com/go-pathrs without the libpathrs tag, no go-md2man/blackfriday with
# urfave_cli_no_docs; filepath-securejoin's pathrs-lite is MPL-2.0, the rest of it BSD-3-Clause).
LICENSE = "Apache-2.0 & BSD-2-Clause & BSD-3-Clause & MIT & MPL-2.0"
LIC_FILES_CHKSUM = "file://src/${GO_IMPORT}/LICENSE;md5=435b266b3899aa8a959f17d41c56def8 \
                    file://src/${GO_IMPORT}/vendor/github.com/checkpoint-restore/go-criu/v7/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/cilium/ebpf/LICENSE;md5=011d5eef39494cc16bc0b1848fe42759 \
                    file://src/${GO_IMPORT}/vendor/github.com/containerd/console/LICENSE;md5=1269f40c0d099c21a871163984590d89 \
                    file://src/${GO_IMPORT}/vendor/github.com/coreos/go-systemd/v22/LICENSE;md5=19cbd64715b51267a47bf3750cc6a8a5 \
                    file://src/${GO_IMPORT}/vendor/github.com/cyphar/filepath-securejoin/LICENSE.BSD;md5=7e05df0b39896d74600ef94ab46dce89 \
                    file://src/${GO_IMPORT}/vendor/github.com/cyphar/filepath-securejoin/LICENSE.MPL-2.0;md5=f75d2927d3c1ed2414ef72048f5ad640 \
                    file://src/${GO_IMPORT}/vendor/github.com/docker/go-units/LICENSE;md5=04424bc6f5a5be60691b9824d65c2ad8 \
                    file://src/${GO_IMPORT}/vendor/github.com/godbus/dbus/v5/LICENSE;md5=09042bd5c6c96a2b9e45ddf1bc517eed \
                    file://src/${GO_IMPORT}/vendor/github.com/moby/sys/capability/LICENSE;md5=9fb69cc4971ab0f8fd79631959bf0616 \
                    file://src/${GO_IMPORT}/vendor/github.com/moby/sys/mountinfo/LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://src/${GO_IMPORT}/vendor/github.com/moby/sys/user/LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://src/${GO_IMPORT}/vendor/github.com/moby/sys/userns/LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://src/${GO_IMPORT}/vendor/github.com/mrunalp/fileutils/LICENSE;md5=435b266b3899aa8a959f17d41c56def8 \
                    file://src/${GO_IMPORT}/vendor/github.com/opencontainers/cgroups/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/opencontainers/runtime-spec/LICENSE;md5=b355a61a394a504dacde901c958f662c \
                    file://src/${GO_IMPORT}/vendor/github.com/opencontainers/selinux/LICENSE;md5=e3fc50a88d0a364313df4b21ef20c29e \
                    file://src/${GO_IMPORT}/vendor/github.com/seccomp/libseccomp-golang/LICENSE;md5=343b433e752e8b44a543cdf61f14b628 \
                    file://src/${GO_IMPORT}/vendor/github.com/sirupsen/logrus/LICENSE;md5=8dadfef729c08ec4e631c4f6fc5d43a0 \
                    file://src/${GO_IMPORT}/vendor/github.com/urfave/cli/LICENSE;md5=75d9e324acacf92aca82397b81c225b0 \
                    file://src/${GO_IMPORT}/vendor/github.com/vishvananda/netlink/LICENSE;md5=2ade771c7d7211af507864e8dd520529 \
                    file://src/${GO_IMPORT}/vendor/github.com/vishvananda/netns/LICENSE;md5=2ade771c7d7211af507864e8dd520529 \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/net/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    file://src/${GO_IMPORT}/vendor/golang.org/x/sys/LICENSE;md5=7998cb338f82d15c0eff93b7004d272a \
                    file://src/${GO_IMPORT}/vendor/google.golang.org/protobuf/LICENSE;md5=02d4002e9171d41a8fad93aa7faf3956 \
                    "

# What meta-virtualization's containerd and its other container engines ask for (its layer.conf points
# PREFERRED_PROVIDER_virtual/runc at the recipe named runc, which k3s.inc makes this one).
PROVIDES += "virtual/runc"

PV = "${RUNC_PV}"
GO_IMPORT = "github.com/opencontainers/runc"
SRC_URI = "${RUNC_GIT_URI};destsuffix=${GO_SRCURI_DESTSUFFIX}"
SRCREV = "${RUNC_SRCREV}"

# pkgconfig: the seccomp tag builds libseccomp-golang, whose cgo preamble says `#cgo pkg-config: libseccomp`;
# without pkgconfig-native in the recipe sysroot `go build` stops ("exec: pkg-config: executable file not found").
inherit go pkgconfig

# seccomp: apply containers' seccomp profiles (needs libseccomp, which OE-Core gates behind the distro feature).
PACKAGECONFIG ??= "${@bb.utils.filter('DISTRO_FEATURES', 'seccomp', d)}"
PACKAGECONFIG[seccomp] = ",,libseccomp"

# Upstream's Makefile BUILDTAGS, minus seccomp when it is off.
RUNC_GO_TAGS = "urfave_cli_no_docs ${@bb.utils.filter('PACKAGECONFIG', 'seccomp', d)}"

# Dependencies are vendored upstream: build from vendor/, never from the network.
export GOFLAGS = "-mod=vendor"
export GOPROXY = "off"
export GOTOOLCHAIN = "local"

do_compile() {
    cd ${B}/src/${GO_IMPORT}
    export TMPDIR="${GOTMPDIR}"
    # Upstream's Makefile: -X main.gitCommit; the version itself comes from the VERSION file (go:embed).
    ${GO} build ${GOBUILDFLAGS} -tags "${RUNC_GO_TAGS}" -buildvcs=false \
        -ldflags "-X main.gitCommit=${RUNC_SRCREV} ${GO_RPATH} ${GO_LINKMODE} ${GO_LINUXLOADER} ${GO_EXTRA_LDFLAGS} -extldflags '${GO_EXTLDFLAGS}'" \
        -o ${B}/runc .
}

do_install() {
    install -d ${D}${bindir}
    install -m 0755 ${B}/runc ${D}${bindir}/runc
}

# meta-virtualization calls its runc "runc-opencontainers" and provides virtual-runc; one runc per image.
RPROVIDES:${PN} = "virtual-runc"
RCONFLICTS:${PN} = "runc-opencontainers"
