//! Network objects k3s, flannel and the CNI plugins create on a node, and the ports they use.

/// The bridge the CNI `bridge` plugin creates for pods.
pub const CNI_BRIDGE: &str = "cni0";
/// Interfaces flannel creates, one per backend and address family.
pub const FLANNEL_INTERFACES: &[&str] = &["flannel.1", "flannel-v6.1", "flannel-wg", "flannel-wg-v6"];
/// Prefix of the network namespaces containerd creates for pods (bind-mounted under `/run/netns`).
pub const POD_NETNS_PREFIX: &str = "cni-";
/// Prefixes of the iptables chains kube-proxy, the CNI plugins and flannel create.
pub const FIREWALL_CHAIN_PREFIXES: &[&str] = &["KUBE-", "CNI-", "FLANNEL"];
/// The supervisor and Kubernetes API port on a server.
pub const API_PORT: u16 = 6443;
/// The kubelet's port.
pub const KUBELET_PORT: u16 = 10250;
/// flannel's VXLAN UDP port (Linux default 8472).
pub const FLANNEL_VXLAN_PORT: u16 = 8472;
/// The VXLAN id flannel uses for `flannel.1`.
pub const FLANNEL_VXLAN_ID: u32 = 1;
/// k3s's default pod network.
pub const DEFAULT_CLUSTER_CIDR: &str = "10.42.0.0/16";
/// k3s's default service network.
pub const DEFAULT_SERVICE_CIDR: &str = "10.43.0.0/16";
