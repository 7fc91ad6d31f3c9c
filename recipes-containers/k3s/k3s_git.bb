SUMMARY = "k3s: lightweight, certified Kubernetes in one binary"
DESCRIPTION = "k3s built from source as upstream's scripts/build does (version ldflags, build tags, embedded \
manifests and static charts), with kubectl, crictl, ctr and containerd as links to the multi-call binary, \
systemd units for server and agent and a k3s config file per role rendered from BitBake variables."
HOMEPAGE = "https://k3s.io"
BUGTRACKER = "https://github.com/k3s-io/k3s/issues"
SECTION = "console/network"

require conf/include/k3s-spec.inc
require conf/include/k3s-cni.inc
# Each role's config file and the flags k3s server / k3s agent define (rendered by k3s-bake from k3s_model).
require k3s-config-facts.inc
# Where k3s reads baked images/manifests/charts and its state directories (rendered from k3s_model::paths).
require conf/include/k3s_data_paths.inc

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
           file://crictl.yaml \
           file://k3s-data-prepare \
           "
SRCREV_k3s = "${K3S_SRCREV}"
SRCREV_FORMAT = "k3s"

# The Go module graph: gomod:// (proxy zip + sha256) and gomodgit:// (k3s-io forks known by commit) lines for
# OE-Core's go-mod class, and the modules' licences. Both are rendered by `k3s-bake`; never edit them by hand.
require k3s-go-mods.inc
require k3s-licenses.inc

# Traefik's Helm charts, embedded into the binary (pkg/static) and served by the supervisor at
# https://<server>/static/charts/, as upstream's scripts/download + scripts/build do. Fetched only when traefik is
# deployed. Versions, SRC_URI entries (name= the chart) and checksums: k3s-charts.inc, rendered by `k3s-bake gen`
# from the chart records `k3s-bake bump` reads (recipes-containers/k3s/k3s-upstream-facts.tsv, provenance there).
# do_compile stops unless the charts embedded are exactly the ones manifests/traefik.yaml of the fetched source
# references.
K3S_TRAEFIK_CHART_BASE = "https://k3s.io/k3s-charts/assets"
require k3s-charts.inc
# Each archive's file name carries its chart version (a chart release of its own, not PV).
# nooelint: oelint.vars.downloadfilename
SRC_URI += "${@d.getVar('K3S_TRAEFIK_CHARTS') if d.getVar('K3S_DEPLOY_TRAEFIK') == '1' else ''}"

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
# Extra settings for the server's config (K3S_SERVER_CONFIG) and the agent's (K3S_AGENT_CONFIG): "key: value"
# lines ("\n"-separated), each key a flag of that role, checked at parse time (lib/k3s_config/knobs.py).
K3S_EXTRA_CONFIG ??= ""
K3S_AGENT_EXTRA_CONFIG ??= ""
# "1": stop every pod and clean up mounts, links and iptables chains when the k3s unit stops (see the drop-in).
K3S_CLEANUP_ON_STOP ??= "1"
# Offline, flash-once nodes (README: Offline and flash-once nodes; lib/k3s_config/knobs.py check_offline).
# "1": `with-node-id: true` for both roles: each device appends the id it makes on first start to its node name.
K3S_WITH_NODE_ID ??= "1"
# Mount point of a persistent partition (e.g. /data): k3s's state directories are bind-mounted from it (read-only
# or A/B root). Empty: the state stays where k3s keeps it.
K3S_DATA_PARTITION ??= ""
# The kubeconfig k3s writes when K3S_DATA_PARTITION is set (/etc may be read-only).
K3S_DATA_KUBECONFIG = "${localstatedir}/lib/rancher/k3s/k3s.yaml"
# "1": k3s starts only after systemd-timesyncd synchronised the clock (boards without an RTC).
K3S_WAIT_FOR_TIME_SYNC ??= "0"

# K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR and K3S_VALID_FLANNEL_BACKENDS come from conf/include/k3s-spec.inc.
K3S_VALID_COMPONENTS = "coredns servicelb traefik local-storage metrics-server runtimes"

# Parse-time validation (lib/k3s_config/knobs.py): a wrong knob stops parsing with its name and what is expected,
# rather than producing a config k3s refuses: the flannel backend, disabled components, 0/1 switches, kubeconfig
# mode, K3S_CLUSTER_CIDR/K3S_SERVICE_CIDR (networks, one per address family, disjoint), K3S_CNI_BIN_DIR
# (absolute), K3S_GO_TAGS (non-empty tags), and every key of each role's config against that role's flags.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    import k3s_config.knobs
    try:
        k3s_config.knobs.validate(d)
    except k3s_config.knobs.KnobError as e:
        bb.fatal("k3s: %s (set it in local.conf)" % e)
    if d.getVar('K3S_FLANNEL_BACKEND') == 'wireguard-native':
        d.appendVar('RRECOMMENDS:' + d.getVar('PN'), ' kernel-module-wireguard')
}

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

    # >>> k3s-version-lookups (extracted and run by .ci/test.d/32-k3s-compile-shell-stand-in.sh)
    # Module versions, looked up the way upstream's scripts/version.sh does, offline: BitBake's fetchers write
    # no .info files, and without -e `go list -m` fails on the missing .info (every version would be v0.0.0);
    # with -e the version from the module graph is printed. A module missing from the graph gets v0.0.0.
    modver() {
        v=$(${GO} list -m -e -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1" 2>/dev/null)
        echo "${v:-v0.0.0}"
    }
    modpath() {
        p=$(${GO} list -m -e -f '{{if .Replace}}{{.Replace.Path}}{{else}}{{.Path}}{{end}}' "$1" 2>/dev/null)
        echo "${p:-$1}"
    }
    # helm-controller's job image: klipper-helm at the version scripts/version.sh of this very source names
    # (`VERSION_HELM_JOB="v…"`), as upstream's scripts/build passes it to DefaultJobImage.
    helmjobver() {
        sed -n 's/^VERSION_HELM_JOB=["'\'']*\([^"'\'' ]*\).*/\1/p' scripts/version.sh | head -n1
    }
    # <<< k3s-version-lookups
    PKG=github.com/k3s-io/k3s
    PKG_CONTAINERD=github.com/containerd/containerd/v2
    PKG_CONTAINERD_K3S=$(modpath $PKG_CONTAINERD)
    VERSION_CONTAINERD=$(modver $PKG_CONTAINERD)
    VERSION_CRICTL=$(modver sigs.k8s.io/cri-tools)
    VERSION_FLANNEL=$(modver github.com/flannel-io/flannel)
    VERSION_KUBE_ROUTER=$(modver github.com/cloudnativelabs/kube-router/v2)
    VERSION_CRI_DOCKERD=$(modver github.com/Mirantis/cri-dockerd)
    VERSION_HELM_JOB=$(helmjobver)
    [ -n "$VERSION_HELM_JOB" ] || bbfatal "k3s: no VERSION_HELM_JOB= in scripts/version.sh (helm-controller's DefaultJobImage)"
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
        -X github.com/k3s-io/helm-controller/pkg/controllers/chart.DefaultJobImage=rancher/klipper-helm:$VERSION_HELM_JOB \
        -X go.etcd.io/etcd/api/v3/version.GitSHA=HEAD"

    # Embed what the server deploys and serves on first start (upstream: cp manifests/* pkg/deploy/embed/ and
    # build/static/* pkg/static/embed/): coredns, local-storage (local-path-provisioner), metrics-server,
    # rolebindings, runtimes, and traefik's charts when it is deployed.
    # >>> k3s-embed (extracted and run by .ci/test.d/32-k3s-compile-shell-stand-in.sh)
    install -d pkg/deploy/embed pkg/static/embed
    cp -R manifests/. pkg/deploy/embed/
    if [ "${K3S_DEPLOY_TRAEFIK}" = "1" ]; then
        install -d pkg/static/embed/charts
        install -m 0644 ${UNPACKDIR}/charts/*.tgz pkg/static/embed/charts/
        # The charts embedded must be exactly the ones manifests/traefik.yaml references (static/charts/*.tgz).
        want=$(grep -o 'static/charts/[^"/ ]*\.tgz' manifests/traefik.yaml | sed 's#.*/##' | sort -u | tr '\n' ' ')
        have=$(cd pkg/static/embed/charts && ls *.tgz | sort -u | tr '\n' ' ')
        if [ "$want" != "$have" ]; then
            bbfatal "k3s: manifests/traefik.yaml references charts '$want' but '$have' are embedded (k3s-charts.inc: run k3s-bake bump)"
        fi
    fi
    # `//go:embed embed/*` needs a file to match, and patterns skip names starting with '.' or '_' (a .keep
    # would not count): without traefik, embed a visible placeholder so the pattern matches.
    if [ -z "$(ls pkg/static/embed)" ]; then
        echo "No static content: traefik's charts are embedded only with K3S_DEPLOY_TRAEFIK = 1." \
            > pkg/static/embed/README
    fi
    # <<< k3s-embed

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
    # crictl (a link to k3s) reads /etc/crictl.yaml: point it at k3s's containerd socket.
    install -d ${D}${sysconfdir}
    install -m 0644 ${UNPACKDIR}/crictl.yaml ${D}${sysconfdir}/crictl.yaml

    # Manifests dropped here are applied by the server on start (k3s's auto-deploy directory).
    install -d -m 0700 ${D}${localstatedir}/lib/rancher/k3s/server/manifests
    install -d -m 0755 ${D}${localstatedir}/lib/rancher/k3s/agent/images
}

# Units (with @BINDIR@, @BASE_SBINDIR@, @CNI_BIN_DIR@, @AGENT_CONFIG@ replaced), the cleanup drop-ins and each role's
# config file, written from Python with d.getVar: no knob's value ever reaches a shell line. The systemd suite
# (.ci/test.d/70-systemd.sh) runs this very do_install, postfunc included, to build the root it boots.
do_install[postfuncs] += "k3s_install_units_and_config"
python k3s_install_units_and_config() {
    import k3s_config.knobs
    try:
        k3s_config.knobs.install(d)
    except k3s_config.knobs.KnobError as e:
        bb.fatal("k3s: %s" % e)
}
k3s_install_units_and_config[vardeps] += "K3S_EXTRA_CONFIG K3S_AGENT_EXTRA_CONFIG K3S_KUBECONFIG_MODE \
    K3S_FLANNEL_BACKEND K3S_CLUSTER_CIDR K3S_SERVICE_CIDR K3S_DISABLE_COMPONENTS K3S_DEPLOY_TRAEFIK \
    K3S_CLEANUP_ON_STOP K3S_CNI_BIN_DIR K3S_SERVER_CONFIG K3S_AGENT_CONFIG K3S_SERVER_CONFIG_DROPIN_DIR \
    K3S_AGENT_CONFIG_DROPIN_DIR K3S_SERVER_FLAGS K3S_AGENT_FLAGS K3S_WITH_NODE_ID K3S_DATA_PARTITION \
    K3S_DATA_KUBECONFIG K3S_WAIT_FOR_TIME_SYNC K3S_PERSISTENT_STATE_DIRS"

# Names under which the multi-call binary acts as another program (upstream's cmd/server reexec table).
K3S_MULTICALL_LINKS = "kubectl crictl ctr containerd"

PACKAGES =+ "${PN}-server ${PN}-agent"

SYSTEMD_PACKAGES = "${PN}-server ${PN}-agent"
SYSTEMD_SERVICE:${PN}-server = "k3s.service"
SYSTEMD_SERVICE:${PN}-agent = "k3s-agent.service"
# An agent needs a server URL and a token first: k3s-agent (node tools) or role setup enables it.
SYSTEMD_AUTO_ENABLE:${PN}-agent = "disable"

# Config per role: the server's settings are server-only keys that `k3s agent` refuses, so they ship with the server
# unit, and the agent reads its own file (K3S_CONFIG_FILE in k3s-agent.service); both can be installed together.
FILES:${PN}-server += "${systemd_system_unitdir}/k3s.service ${systemd_system_unitdir}/k3s.service.d \
                      ${K3S_SERVER_CONFIG} ${localstatedir}/lib/rancher/k3s/server"
FILES:${PN}-agent += "${systemd_system_unitdir}/k3s-agent.service ${systemd_system_unitdir}/k3s-agent.service.d \
                     ${K3S_AGENT_CONFIG}"
FILES:${PN} += "${sysconfdir}/rancher ${sysconfdir}/crictl.yaml ${localstatedir}/lib/rancher/k3s/agent"
# K3S_DATA_PARTITION: the bind mounts of the state directories, their prepare service and script, the mount points.
FILES:${PN} += "${@'${systemd_system_unitdir}/*.mount ${systemd_system_unitdir}/k3s-data-prepare.service \
                ${libexecdir}/k3s-rs ${K3S_PERSISTENT_STATE_DIRS} ${K3S_DATA_PARTITION}' \
                if d.getVar('K3S_DATA_PARTITION') else ''}"
CONFFILES:${PN}-server = "${K3S_SERVER_CONFIG}"
CONFFILES:${PN}-agent = "${K3S_AGENT_CONFIG}"
CONFFILES:${PN} = "${sysconfdir}/crictl.yaml"

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

