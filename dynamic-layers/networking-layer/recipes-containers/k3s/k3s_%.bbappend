# Parsed only when meta-networking is in BBLAYERS (BBFILES_DYNAMIC in conf/layer.conf): kube-proxy and flannel
# flush and inspect connection-tracking entries with conntrack, and k3s's network policy controller keeps pod
# and namespace sets in ipsets. OE-Core alone has neither tool; k3s then runs with reduced functionality.
RDEPENDS:${PN}:append = " conntrack-tools ipset"
