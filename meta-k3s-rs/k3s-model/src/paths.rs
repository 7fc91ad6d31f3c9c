//! Filesystem locations k3s uses on a node (k3s's defaults; the layer does not move them).

/// k3s's data directory (`--data-dir` default when running as root).
pub const DATA_DIR: &str = "/var/lib/rancher/k3s";
/// Directory of k3s's configuration.
pub const CONFIG_DIR: &str = "/etc/rancher/k3s";
/// The main configuration file k3s reads at start-up.
pub const CONFIG_FILE: &str = "/etc/rancher/k3s/config.yaml";
/// Drop-in directory whose `*.yaml` files k3s merges over [`CONFIG_FILE`], in lexical order.
pub const CONFIG_DROPIN_DIR: &str = "/etc/rancher/k3s/config.yaml.d";
/// The config file of the agent unit (`K3S_CONFIG_FILE` in `k3s-agent.service`). Not [`CONFIG_FILE`]: an image may
/// hold both roles (role setup picks one at boot), and `k3s agent` refuses the server-only keys a server's config
/// holds (it does not drop unknown keys as `k3s server` does; see [`crate::flags`]).
pub const AGENT_CONFIG_FILE: &str = "/etc/rancher/k3s/agent.yaml";
/// Drop-in directory of [`AGENT_CONFIG_FILE`] (k3s reads `<config file>.d/*.yaml`).
pub const AGENT_CONFIG_DROPIN_DIR: &str = "/etc/rancher/k3s/agent.yaml.d";
/// The join token `k3s-agent` and role setup hand the agent through `K3S_TOKEN_FILE` (a secret, mode 0600): never
/// in the unit's environment, which any user can read over D-Bus (`systemctl show`).
pub const AGENT_TOKEN_FILE: &str = "/etc/rancher/k3s/agent-token";
/// The admin kubeconfig the server writes.
pub const KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";
/// The join token a server writes for agents (a secret).
pub const NODE_TOKEN: &str = "/var/lib/rancher/k3s/server/node-token";
/// Runtime state (containerd socket, mounts) that cleanup must unmount.
pub const RUN_DIR: &str = "/run/k3s";
/// The kubelet's root directory.
pub const KUBELET_DIR: &str = "/var/lib/kubelet";
/// Per-pod volume mounts under the kubelet directory.
pub const KUBELET_PODS_DIR: &str = "/var/lib/kubelet/pods";
/// CSI and device plugin sockets under the kubelet directory.
pub const KUBELET_PLUGINS_DIR: &str = "/var/lib/kubelet/plugins";
/// Where CNI plugins keep IPAM leases and caches; removed on cleanup.
pub const CNI_STATE_DIR: &str = "/var/lib/cni";
/// Where named network namespaces are bind-mounted (`ip netns` convention, used by containerd for pods).
pub const NETNS_DIR: &str = "/run/netns";
/// Server-side state (datastore, TLS, tokens).
pub const SERVER_DIR: &str = "/var/lib/rancher/k3s/server";
/// Agent-side state (containerd, kubelet credentials).
pub const AGENT_DIR: &str = "/var/lib/rancher/k3s/agent";
/// Manifests the server deploys automatically on start (coredns, metrics-server, local-path-provisioner, ...).
pub const SERVER_MANIFESTS_DIR: &str = "/var/lib/rancher/k3s/server/manifests";
/// Directory whose image tarballs the agent imports into containerd on start (air-gapped images).
pub const AGENT_IMAGES_DIR: &str = "/var/lib/rancher/k3s/agent/images";
/// Helm chart archives the server serves at `https://<server>/static/charts/` (HelmChart `chartContent`-free
/// references to baked charts); k3s writes its own embedded static files there too.
pub const SERVER_STATIC_CHARTS_DIR: &str = "/var/lib/rancher/k3s/server/static/charts";
/// The node's own identity: `password` (0600, made on first start, sent to the server with every node
/// certificate request) and `id` (with `--with-node-id`, appended to the node name). k3s's pkg/agent/config.
pub const NODE_CONFIG_DIR: &str = "/etc/rancher/node";
/// Registry mirrors, endpoints and credentials containerd gets (`--private-registry` default).
pub const REGISTRIES_FILE: &str = "/etc/rancher/k3s/registries.yaml";
/// Where k3s keeps state that must survive a reboot: on a read-only root these live on a persistent partition.
/// `/run` (RUN_DIR, NETNS_DIR) is a tmpfs already.
pub const PERSISTENT_STATE_DIRS: &[&str] = &["/var/lib/rancher", NODE_CONFIG_DIR, KUBELET_DIR, CNI_STATE_DIR];

/// Trees under which every mount belongs to k3s, its containers or its pods; cleanup unmounts these,
/// deepest first.
pub const CLEANUP_MOUNT_ROOTS: &[&str] = &[RUN_DIR, DATA_DIR, KUBELET_PODS_DIR, KUBELET_PLUGINS_DIR];
