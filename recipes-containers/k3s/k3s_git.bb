SUMMARY = "k3s: lightweight, certified Kubernetes in one binary"
DESCRIPTION = "k3s built from source as upstream's scripts/build does (version ldflags, build tags, embedded \
manifests and static charts), with kubectl, crictl, ctr and containerd as links to the multi-call binary, \
systemd units for server and agent and /etc/rancher/k3s/config.yaml rendered from BitBake variables."
HOMEPAGE = "https://k3s.io"
BUGTRACKER = "https://github.com/k3s-io/k3s/issues"
SECTION = "console/network"

require conf/include/k3s-spec.inc
require conf/include/k3s-cni.inc

# k3s's own licence first; k3s-licenses.inc (rendered by k3s-bake from the module graph) appends every Go
# module's licence and LIC_FILES_CHKSUM entry ("+="), the way OE-Core's recipetool go handler writes it.
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://src/${GO_IMPORT}/LICENSE;md5=2ee41112a44fe7014dce33e26468ba93"

DEPENDS += "libseccomp"

PV = "${K3S_PV}"
GO_IMPORT = "github.com/k3s-io/k3s"
SRC_URI = "${K3S_GIT_URI};name=k3s;destsuffix=${GO_SRCURI_DESTSUFFIX} \
           file://k3s.service \
           file://k3s-agent.service \
           file://cleanup-on-stop.conf \
           "
SRCREV_k3s = "${K3S_SRCREV}"
SRCREV_FORMAT = "k3s"

# The Go module graph: gomod:// (proxy zip + sha256) and gomodgit:// (k3s-io forks known by commit) lines for
# OE-Core's go-mod class, and the modules' licences. Both are rendered by `k3s-bake`; never edit them by hand.
require k3s-go-mods.inc
require k3s-licenses.inc

# Traefik's Helm charts, embedded into the binary (pkg/static) and served by the supervisor at
# https://<server>/static/charts/, as upstream's scripts/download + scripts/build do. Fetched only when traefik is
# deployed. Version and checksums: the charts published for k3s v1.36.2+k3s1 (as other layers
# building this commit use them); they are verified by the fetcher, not yet by a build of this layer.
K3S_TRAEFIK_CHART_VERSION = "39.0.501+up39.0.5"
K3S_TRAEFIK_CHART_BASE = "https://k3s.io/k3s-charts/assets"
SRC_URI += "${@oe.utils.conditional('K3S_DEPLOY_TRAEFIK', '1', \
    '${K3S_TRAEFIK_CHART_BASE}/traefik-crd/traefik-crd-${K3S_TRAEFIK_CHART_VERSION}.tgz;name=traefik-crd;unpack=0;subdir=charts \
     ${K3S_TRAEFIK_CHART_BASE}/traefik/traefik-${K3S_TRAEFIK_CHART_VERSION}.tgz;name=traefik;unpack=0;subdir=charts', '', d)}"
SRC_URI[traefik-crd.sha256sum] = "c6245bdcfd193d10ec956d90c50e0d1a3fa1bde541df80744e72eee91b054640"
SRC_URI[traefik.sha256sum] = "888de9d098769b9199238076bee225d1b10dba1e889b0e28127eddc38cdb435b"

# k3s_distro_check: skips the recipe with a message naming the `require` line when DISTRO_FEATURES lacks systemd
# (the units are the only supervision shipped), seccomp (containerd is built with libseccomp) or k3s.
inherit go-mod systemd k3s_distro_check

# mips: k3s does not support it (no upstream builds, sqlite/cgo issues).
COMPATIBLE_HOST = "^(?!mips).*"

# --- knobs (README "Knobs" table); ??= so local.conf, a distro or a bbappend always wins ---
# Components k3s must not deploy, in addition to traefik when K3S_DEPLOY_TRAEFIK != "1".
# Valid: coredns servicelb traefik local-storage metrics-server runtimes.
K3S_DISABLE_COMPONENTS ??= ""
K3S_KUBECONFIG_MODE ??= "0600"
# Extra YAML lines appended to config.yaml verbatim (each "\n"-separated); prefer a config.yaml.d/*.yaml file.
K3S_EXTRA_CONFIG ??= ""
# "1": stop every pod and clean up mounts, links and iptables chains when the k3s unit stops (see the drop-in).
K3S_CLEANUP_ON_STOP ??= "1"

# K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR and K3S_VALID_FLANNEL_BACKENDS come from conf/include/k3s-spec.inc.
K3S_VALID_COMPONENTS = "coredns servicelb traefik local-storage metrics-server runtimes"

# Parse-time validation: a wrong knob must stop the build with its name, not produce a broken config.yaml.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    def bad(var, value, valid):
        bb.fatal("k3s: %s = \"%s\" is not valid; expected %s (set it in local.conf)" % (var, value, valid))

    backend = d.getVar('K3S_FLANNEL_BACKEND')
    if backend not in d.getVar('K3S_VALID_FLANNEL_BACKENDS').split():
        bad('K3S_FLANNEL_BACKEND', backend, ' | '.join(d.getVar('K3S_VALID_FLANNEL_BACKENDS').split()))
    valid = d.getVar('K3S_VALID_COMPONENTS').split()
    for c in d.getVar('K3S_DISABLE_COMPONENTS').split():
        if c not in valid:
            bad('K3S_DISABLE_COMPONENTS', c, 'a list of ' + ' '.join(valid))
    for var in ('K3S_DEPLOY_TRAEFIK', 'K3S_CLEANUP_ON_STOP'):
        if d.getVar(var) not in ('0', '1'):
            bad(var, d.getVar(var), '"0" or "1"')
    mode = d.getVar('K3S_KUBECONFIG_MODE')
    if len(mode) not in (3, 4) or any(ch not in '01234567' for ch in mode):
        bad('K3S_KUBECONFIG_MODE', mode, 'an octal file mode such as 0600')
    if d.getVar('K3S_FLANNEL_BACKEND') == 'wireguard-native':
        d.appendVar('RRECOMMENDS:' + d.getVar('PN'), ' kernel-module-wireguard')
}

def k3s_disabled(d):
    disabled = d.getVar('K3S_DISABLE_COMPONENTS').split()
    if d.getVar('K3S_DEPLOY_TRAEFIK') != '1' and 'traefik' not in disabled:
        disabled.insert(0, 'traefik')
    return ' '.join(disabled)

# Build tags of upstream's scripts/build for linux, dynamic (OE links against the target's glibc and libseccomp):
# ctrd (embedded containerd), netcgo/osusergo, providerless (no in-tree cloud providers), apparmor/seccomp.
K3S_GO_TAGS ?= "ctrd netcgo osusergo providerless urfave_cli_no_docs sqlite_omit_load_extension apparmor seccomp"

# The module cache is complete (go-mod class + k3s-go-mods.inc): never reach for the network or another toolchain.
export GOPROXY = "off"
export GOSUMDB = "off"
export GOTOOLCHAIN = "local"
export GOFLAGS = "-mod=readonly"

do_compile() {
    cd ${B}/src/${GO_IMPORT}
    export TMPDIR="${GOTMPDIR}"

    # Module versions, looked up the way upstream's scripts/version.sh does (offline, from the module cache),
    # with its fallback: a module missing from the graph only loses its version string.
    modver() {
        ${GO} list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1" 2>/dev/null || echo v0.0.0
    }
    modpath() {
        ${GO} list -m -f '{{if .Replace}}{{.Replace.Path}}{{else}}{{.Path}}{{end}}' "$1" 2>/dev/null || echo "$1"
    }
    PKG=github.com/k3s-io/k3s
    PKG_CONTAINERD=github.com/containerd/containerd/v2
    PKG_CONTAINERD_K3S=$(modpath $PKG_CONTAINERD)
    VERSION_CONTAINERD=$(modver $PKG_CONTAINERD)
    VERSION_CRICTL=$(modver github.com/kubernetes-sigs/cri-tools)
    VERSION_FLANNEL=$(modver github.com/flannel-io/flannel)
    VERSION_KUBE_ROUTER=$(modver github.com/cloudnativelabs/kube-router/v2)
    VERSION_CRI_DOCKERD=$(modver github.com/Mirantis/cri-dockerd)
    VERSION=${K3S_VERSION}
    COMMIT=${K3S_SRCREV}
    # Reproducible: the build date upstream embeds is the sources' date (SOURCE_DATE_EPOCH), not "now".
    sde="$SOURCE_DATE_EPOCH"
    [ -n "$sde" ] || sde=0
    DATE=$(date -u -d "@$sde" +%Y-%m-%dT%H:%M:%SZ)

    VERSIONFLAGS="-X $PKG/pkg/version.Version=$VERSION -X $PKG/pkg/version.GitCommit=$(echo $COMMIT | cut -c1-8) \
        -X $PKG/pkg/version.UpstreamGolang=$(${GO} env GOVERSION) \
        -X k8s.io/client-go/pkg/version.gitVersion=$VERSION -X k8s.io/client-go/pkg/version.gitCommit=$COMMIT \
        -X k8s.io/client-go/pkg/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.buildDate=$DATE \
        -X k8s.io/component-base/version.gitVersion=$VERSION -X k8s.io/component-base/version.gitCommit=$COMMIT \
        -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=$DATE \
        -X sigs.k8s.io/cri-tools/pkg/version.Version=$VERSION_CRICTL \
        -X $PKG_CONTAINERD/version.Version=$VERSION_CONTAINERD -X $PKG_CONTAINERD/version.Package=$PKG_CONTAINERD_K3S \
        -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION} \
        -X github.com/containernetworking/plugins/plugins/meta/flannel.Program=flannel \
        -X github.com/containernetworking/plugins/plugins/meta/flannel.Version=${FLANNEL_CNI_PLUGIN_VERSION}+$VERSION_FLANNEL \
        -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$VERSION_KUBE_ROUTER \
        -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=$DATE \
        -X github.com/Mirantis/cri-dockerd/cmd/version.Version=$VERSION_CRI_DOCKERD \
        -X go.etcd.io/etcd/api/v3/version.GitSHA=HEAD"

    # Embed what the server deploys and serves on first start (upstream: cp manifests/* pkg/deploy/embed/ and
    # build/static/* pkg/static/embed/): coredns, local-storage (local-path-provisioner), metrics-server,
    # rolebindings, runtimes, and traefik's charts when it is deployed.
    install -d pkg/deploy/embed pkg/static/embed
    cp -R manifests/. pkg/deploy/embed/
    if [ "${K3S_DEPLOY_TRAEFIK}" = "1" ]; then
        install -d pkg/static/embed/charts
        install -m 0644 ${UNPACKDIR}/charts/*.tgz pkg/static/embed/charts/
    fi
    # `//go:embed embed/*` fails on an empty directory; without traefik nothing else is staged.
    if [ -z "$(ls -A pkg/static/embed)" ]; then
        install -d pkg/static/embed/charts
        : > pkg/static/embed/charts/.keep
    fi

    mkdir -p ${B}/bin
    CGO_CFLAGS="${CFLAGS} -DSQLITE_ENABLE_DBSTAT_VTAB=1 -DSQLITE_USE_ALLOCA=1" \
    ${GO} build ${GOBUILDFLAGS} -tags "${K3S_GO_TAGS}" -buildvcs=false \
        -ldflags "$VERSIONFLAGS ${GO_RPATH} ${GO_LINKMODE} ${GO_LINUXLOADER} ${GO_EXTRA_LDFLAGS} -extldflags '${GO_EXTLDFLAGS}'" \
        -o ${B}/bin/k3s ./cmd/server

    # containerd's runc shim, from the containerd fork k3s pins (upstream builds it from the same module).
    ${GO} build ${GOBUILDFLAGS} -tags "$(echo ${K3S_GO_TAGS} | sed 's/netcgo/netgo/')" -buildvcs=false \
        -ldflags "$VERSIONFLAGS ${GO_RPATH} ${GO_LINKMODE} ${GO_LINUXLOADER} ${GO_EXTRA_LDFLAGS} -extldflags '${GO_EXTLDFLAGS}'" \
        -o ${B}/bin/containerd-shim-runc-v2 $PKG_CONTAINERD/cmd/containerd-shim-runc-v2
}

do_install() {
    install -d ${D}${bindir}
    install -m 0755 ${B}/bin/k3s ${D}${bindir}/k3s
    install -m 0755 ${B}/bin/containerd-shim-runc-v2 ${D}${bindir}/containerd-shim-runc-v2
    for link in ${K3S_MULTICALL_LINKS}; do
        ln -sf k3s ${D}${bindir}/$link
    done

    install -d ${D}${systemd_system_unitdir}
    for unit in k3s.service k3s-agent.service; do
        sed -e 's#@BINDIR@#${bindir}#g' -e 's#@BASE_SBINDIR@#${base_sbindir}#g' \
            -e 's#@CNI_BIN_DIR@#${K3S_CNI_BIN_DIR}#g' \
            ${UNPACKDIR}/$unit > ${D}${systemd_system_unitdir}/$unit
        chmod 0644 ${D}${systemd_system_unitdir}/$unit
        if [ "${K3S_CLEANUP_ON_STOP}" = "1" ]; then
            install -d ${D}${systemd_system_unitdir}/$unit.d
            sed -e 's#@BINDIR@#${bindir}#g' ${UNPACKDIR}/cleanup-on-stop.conf \
                > ${D}${systemd_system_unitdir}/$unit.d/50-cleanup-on-stop.conf
            chmod 0644 ${D}${systemd_system_unitdir}/$unit.d/50-cleanup-on-stop.conf
        fi
    done

    # /etc/rancher/k3s/config.yaml from the knobs above; k3s merges config.yaml.d/*.yaml over it in lexical
    # order, so images and users extend it without editing this file.
    install -d -m 0755 ${D}${sysconfdir}/rancher/k3s/config.yaml.d
    cfg=${D}${sysconfdir}/rancher/k3s/config.yaml
    {
        echo "# Written by meta-k3s-rs from BitBake variables (README: Knobs)."
        echo "# Add settings as ${sysconfdir}/rancher/k3s/config.yaml.d/*.yaml instead of editing this file."
        echo "write-kubeconfig-mode: \"${K3S_KUBECONFIG_MODE}\""
        echo "flannel-backend: \"${K3S_FLANNEL_BACKEND}\""
        echo "cluster-cidr: \"${K3S_CLUSTER_CIDR}\""
        echo "service-cidr: \"${K3S_SERVICE_CIDR}\""
        disabled="${@k3s_disabled(d)}"
        if [ -n "$disabled" ]; then
            echo "disable:"
            for c in $disabled; do
                echo "  - \"$c\""
            done
        fi
        if [ -n "${K3S_EXTRA_CONFIG}" ]; then
            printf '%b\n' "${K3S_EXTRA_CONFIG}"
        fi
    } > $cfg
    chmod 0644 $cfg

    # Manifests dropped here are applied by the server on start (k3s's auto-deploy directory).
    install -d -m 0700 ${D}${localstatedir}/lib/rancher/k3s/server/manifests
    install -d -m 0755 ${D}${localstatedir}/lib/rancher/k3s/agent/images
}

do_install[vardeps] += "K3S_DISABLE_COMPONENTS K3S_DEPLOY_TRAEFIK K3S_EXTRA_CONFIG"

# Names under which the multi-call binary acts as another program (upstream's cmd/server reexec table).
K3S_MULTICALL_LINKS = "kubectl crictl ctr containerd"

PACKAGES =+ "${PN}-server ${PN}-agent"

SYSTEMD_PACKAGES = "${PN}-server ${PN}-agent"
SYSTEMD_SERVICE:${PN}-server = "k3s.service"
SYSTEMD_SERVICE:${PN}-agent = "k3s-agent.service"
# An agent needs a server URL and a token first: k3s-agent (node tools) or role setup enables it.
SYSTEMD_AUTO_ENABLE:${PN}-agent = "disable"

FILES:${PN}-server += "${systemd_system_unitdir}/k3s.service ${systemd_system_unitdir}/k3s.service.d \
                      ${localstatedir}/lib/rancher/k3s/server"
FILES:${PN}-agent += "${systemd_system_unitdir}/k3s-agent.service ${systemd_system_unitdir}/k3s-agent.service.d"
FILES:${PN} += "${sysconfdir}/rancher ${localstatedir}/lib/rancher/k3s/agent"
CONFFILES:${PN} = "${sysconfdir}/rancher/k3s/config.yaml"

# What k3s runs from PATH or needs on the node: runc (containerd's runtime), the CNI plugins and flannel's
# (found through PATH, see the units), iptables (kube-proxy, flannel, network policy), iproute2, kmod (modprobe in
# the units), util-linux nsenter/mount, ca-certificates for pulling images. conntrack-tools and ipset are added by
# dynamic-layers/networking-layer when meta-networking is present.
RDEPENDS:${PN} = "ca-certificates cni-plugins flannel-cni-plugin iproute2 iptables kmod runc util-linux-mount \
                  util-linux-nsenter"
RDEPENDS:${PN}-server = "${PN}"
RDEPENDS:${PN}-agent = "${PN} k3s-node"
# The node tools (k3s-killall.sh, k3s-clean, k3s-check-config) are wanted on a server too; the cleanup drop-in
# calls k3s-clean.
RRECOMMENDS:${PN}-server = "k3s-node"
RRECOMMENDS:${PN} = "kernel-module-br-netfilter kernel-module-bridge kernel-module-ip-set kernel-module-ip-vs \
                     kernel-module-ip-vs-rr kernel-module-iptable-filter kernel-module-iptable-nat \
                     kernel-module-nf-conntrack kernel-module-nf-nat kernel-module-nfnetlink-log \
                     kernel-module-overlay kernel-module-veth kernel-module-vxlan kernel-module-xt-addrtype \
                     kernel-module-xt-comment kernel-module-xt-conntrack kernel-module-xt-mark \
                     kernel-module-xt-masquerade kernel-module-xt-multiport kernel-module-xt-nat \
                     kernel-module-xt-nflog kernel-module-xt-physdev kernel-module-xt-set \
                     kernel-module-xt-statistic"
# A name only this layer's k3s provides: k3s-node requires it, so the node tools never meet another layer's k3s
# package of the same name (meta-virtualization's ships its own k3s-role-setup.service, k3s-agent, k3s-clean).
RPROVIDES:${PN} = "k3s-rs"
# Our kubectl/crictl/ctr/containerd links must not meet another package's binaries of the same name
# (meta-virtualization's containerd RPROVIDES containerd-opencontainers).
RCONFLICTS:${PN} = "kubectl cri-tools containerd-opencontainers"

