SUMMARY = "k3s-bitbake-check's recipe for classes/k3s_workloads.bbclass"
DESCRIPTION = "Not part of the layer (outside BBFILES): scripts/k3s-bitbake-check parses it with bitbake -e -b to \
check the workload class's variables and parse-time refusals with real BitBake."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

SRC_URI = "file://hello.yaml"

inherit k3s_workloads

K3S_MANIFESTS = "hello.yaml"
K3S_REGISTRY_MIRRORS = "docker.io=https://mirror.local:5000"
K3S_REGISTRY_CONFIGS = "mirror.local:5000"
