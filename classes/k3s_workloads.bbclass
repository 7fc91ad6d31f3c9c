# Baked workloads for k3s nodes: a user's recipe ships manifests, Helm charts, container image archives and a
# registries.yaml where k3s reads them on first start (README: Baked workloads).
#
#   inherit k3s_workloads
#   SRC_URI += "file://hello.yaml file://hello-0.1.0.tgz file://hello-image.tar file://reg-auth"
#   K3S_MANIFESTS = "hello.yaml"                 # -> server/manifests (HelmChart resources too)
#   K3S_CHARTS = "hello-0.1.0.tgz"               # -> server/static/charts, https://<server>:6443/static/charts/...
#   K3S_IMAGE_ARCHIVES = "hello-image.tar"       # -> agent/images ("deploy:<name>" for DEPLOY_DIR_IMAGE)
#   K3S_IMAGE_ARCHIVE_RECIPES = ""               # recipes whose do_image_complete deploys those archives
#   K3S_REGISTRY_MIRRORS = "docker.io=https://mirror.local:5000"
#   K3S_REGISTRY_CONFIGS = "mirror.local:5000"
#   K3S_REGISTRY_TLS[mirror.local_5000] = "ca_file=/etc/ssl/certs/mirror.pem"
#   K3S_REGISTRY_AUTH[mirror.local_5000] = "reg-auth"   # a source file: "username: ..." / "password: ..." lines
#   (the flag is the host with ":" written as "_": BitBake flag names cannot hold ":")
#
# Checked at parse time (lib/k3s_config/workloads.py): file names, suffixes k3s accepts, mirror endpoints, TLS
# keys and paths, auth file names; the auth file's lines at do_install. registries.yaml is 0600 when it holds
# credentials. Only one package of an image should carry registries.yaml.

require conf/include/k3s_data_paths.inc

K3S_MANIFESTS ??= ""
K3S_CHARTS ??= ""
K3S_IMAGE_ARCHIVES ??= ""
K3S_IMAGE_ARCHIVE_RECIPES ??= ""
K3S_REGISTRY_MIRRORS ??= ""
K3S_REGISTRY_CONFIGS ??= ""

# nooelint: oelint.task.noanonpython
python __anonymous() {
    import k3s_config.workloads
    try:
        k3s_config.workloads.validate(d)
    except k3s_config.knobs.KnobError as e:
        bb.fatal("k3s_workloads: %s" % e)
    for r in (d.getVar('K3S_IMAGE_ARCHIVE_RECIPES') or '').split():
        d.appendVarFlag('do_install', 'depends', ' %s:do_image_complete' % r)
}

do_configure[noexec] = "1"
do_compile[noexec] = "1"

python do_install() {
    import k3s_config.workloads
    try:
        k3s_config.workloads.install(d)
    except k3s_config.knobs.KnobError as e:
        bb.fatal("k3s_workloads: %s" % e)
}
do_install[vardeps] += "K3S_MANIFESTS K3S_CHARTS K3S_IMAGE_ARCHIVES K3S_REGISTRY_MIRRORS K3S_REGISTRY_CONFIGS \
    K3S_REGISTRY_TLS K3S_REGISTRY_AUTH"

FILES:${PN} += "${K3S_SERVER_MANIFESTS_DIR} ${K3S_SERVER_STATIC_CHARTS_DIR} ${K3S_AGENT_IMAGES_DIR} \
                ${K3S_REGISTRIES_FILE}"
RDEPENDS:${PN} += "k3s"
