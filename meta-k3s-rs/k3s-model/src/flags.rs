//! The flags `k3s server` and `k3s agent` define, and how k3s turns its config files into flags.
//!
//! k3s reads `/etc/rancher/k3s/config.yaml` (or `$K3S_CONFIG_FILE`, or `--config`) and then every `*.yaml`/`*.yml`
//! file in `<config>.d/` in lexical order; each key becomes `--key=value` (a one-letter key `-k=value`, a list one
//! flag per item), and a key ending in `+` appends to the value an earlier file gave. The flags go in right after
//! the subcommand, so command-line flags win. Then the subcommand parses them with urfave/cli v1 (Go's `flag`
//! package), which refuses a flag it does not define: `flag provided but not defined: -disable`. Only `server`
//! (and `etcd-snapshot`) first drops config keys it does not define, with a warning; `agent` does not, so one
//! server-only key in an agent's config stops the agent (k3s-io/k3s#6565). Hence the layer writes config per role
//! and checks every key it writes against that role's table here, and the stand-in k3s of the systemd suite
//! refuses exactly what k3s refuses.
//!
//! Provenance: k3s's `pkg/cli/cmds` (`agent.go`: `NewAgentCommand`'s flag list; `server.go`: `ServerFlags`;
//! `config.go`, `log.go`, `root.go`: the shared config, logging, debug and prefer-bundled-bin flags) and
//! `pkg/configfilearg` (`defaultparser.go`: `ValidFlags` holds only server and etcd-snapshot; `parser.go`: the
//! merge and append rules). Read through the public code index, which does not hold the pinned commit
//! 2390b65e1ae38c786b150e6f4113b55d1c3a9492 (release-1.36) itself: the versions read are the newest urfave/cli v1
//! ones it holds (k3s 1.36's module graph has urfave/cli v1.22.16 and no v3), with the agent flags of 1.3x (no
//! `cluster-secret`, `no-flannel` or `docker` as visible flags; `vpn-auth`, `flannel-cni-conf`,
//! `disable-apiserver-lb`, `bind-address` present). `k3s-bake bump` re-reads them from the pinned tree when it has
//! one (DESIGN: facts from upstream source). Recorded from the reading: `pkg/configfilearg/parser.go` at k3s commit
//! f646604010affc6a1d3233a8a0870bca46bf80cf (`ConfigFlags`, `.d` drop-ins, `key+`, `stripInvalidFlags`); the
//! index gave `agent.go`, `server.go` and the newest `defaultparser.go` without a commit.

/// A k3s subcommand whose flags the layer's config must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `k3s server`.
    Server,
    /// `k3s agent`.
    Agent,
}

impl Command {
    /// The subcommand as typed.
    pub const fn as_str(self) -> &'static str {
        match self {
            Command::Server => "server",
            Command::Agent => "agent",
        }
    }

    /// Every flag the subcommand defines.
    pub const fn flags(self) -> &'static [Flag] {
        match self {
            Command::Server => SERVER,
            Command::Agent => AGENT,
        }
    }

    /// Whether k3s drops config-file keys this subcommand does not define (with a warning) instead of failing.
    /// `pkg/configfilearg/defaultparser.go`: `ValidFlags` has `server` (and `etcd-snapshot`), not `agent`.
    pub const fn drops_unknown_config_keys(self) -> bool {
        matches!(self, Command::Server)
    }

    /// The flag called `name` (its long name or its one-letter alias), if the subcommand defines it.
    pub fn find(self, name: &str) -> Option<&'static Flag> {
        self.flags().iter().find(|f| f.name == name || f.alias == Some(name))
    }
}

/// What a flag's value is (urfave/cli v1 flag types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `BoolFlag`/`BoolTFlag`: no value, or `=true`/`=false`.
    Bool,
    /// `StringFlag`.
    String,
    /// `IntFlag`.
    Int,
    /// `DurationFlag` (Go duration syntax, e.g. `5m0s`).
    Duration,
    /// `StringSliceFlag`: repeatable, each occurrence adds one item.
    Slice,
}

/// One flag of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flag {
    /// The long name, also the config-file key.
    pub name: &'static str,
    /// The one-letter alias (`token,t` in urfave/cli's `Name`), if any.
    pub alias: Option<&'static str>,
    /// The value type.
    pub kind: Kind,
}

const fn f(name: &'static str, kind: Kind) -> Flag {
    Flag { name, alias: None, kind }
}

const fn a(name: &'static str, alias: &'static str, kind: Kind) -> Flag {
    Flag { name, alias: Some(alias), kind }
}

use Kind::*;

/// `k3s agent` (`NewAgentCommand`), in k3s's order.
pub const AGENT: &[Flag] = &[
    a("config", "c", String),
    f("debug", Bool),
    f("v", Int),
    f("vmodule", String),
    a("log", "l", String),
    f("alsologtostderr", Bool),
    a("token", "t", String),
    f("token-file", String),
    a("server", "s", String),
    a("data-dir", "d", String),
    f("node-name", String),
    f("with-node-id", Bool),
    f("node-label", Slice),
    f("node-taint", Slice),
    f("image-credential-provider-bin-dir", String),
    f("image-credential-provider-config", String),
    f("selinux", Bool),
    f("lb-server-port", Int),
    f("protect-kernel-defaults", Bool),
    f("container-runtime-endpoint", String),
    f("default-runtime", String),
    f("image-service-endpoint", String),
    f("pause-image", String),
    f("snapshotter", String),
    f("private-registry", String),
    f("disable-default-registry-endpoint", Bool),
    f("airgap-extra-registry", Slice),
    a("node-ip", "i", Slice),
    f("bind-address", String),
    f("node-external-ip", Slice),
    f("node-internal-dns", Slice),
    f("node-external-dns", Slice),
    f("resolv-conf", String),
    f("flannel-iface", String),
    f("flannel-conf", String),
    f("flannel-cni-conf", String),
    f("kubelet-arg", Slice),
    f("kube-proxy-arg", Slice),
    f("enable-pprof", Bool),
    f("rootless", Bool),
    f("prefer-bundled-bin", Bool),
    f("docker", Bool),
    f("vpn-auth", String),
    f("vpn-auth-file", String),
    f("disable-apiserver-lb", Bool),
];

/// `k3s server` (`ServerFlags`), in k3s's order.
pub const SERVER: &[Flag] = &[
    a("config", "c", String),
    f("debug", Bool),
    f("v", Int),
    f("vmodule", String),
    a("log", "l", String),
    f("alsologtostderr", Bool),
    f("bind-address", String),
    f("https-listen-port", Int),
    f("advertise-address", String),
    f("advertise-port", Int),
    f("tls-san", Slice),
    f("tls-san-security", Bool),
    a("data-dir", "d", String),
    f("cluster-cidr", Slice),
    f("service-cidr", Slice),
    f("service-node-port-range", String),
    f("cluster-dns", Slice),
    f("cluster-domain", String),
    f("flannel-backend", String),
    f("flannel-ipv6-masq", Bool),
    f("flannel-external-ip", Bool),
    f("egress-selector-mode", String),
    f("servicelb-namespace", String),
    a("write-kubeconfig", "o", String),
    f("write-kubeconfig-mode", String),
    f("write-kubeconfig-group", String),
    f("helm-job-image", String),
    a("token", "t", String),
    f("token-file", String),
    f("agent-token", String),
    f("agent-token-file", String),
    a("server", "s", String),
    f("cluster-init", Bool),
    f("cluster-reset", Bool),
    f("cluster-reset-restore-path", String),
    f("kube-apiserver-arg", Slice),
    f("etcd-arg", Slice),
    f("kube-controller-manager-arg", Slice),
    f("kube-scheduler-arg", Slice),
    f("kube-cloud-controller-manager-arg", Slice),
    f("kine-tls", Bool),
    f("datastore-endpoint", String),
    f("datastore-cafile", String),
    f("datastore-certfile", String),
    f("datastore-keyfile", String),
    f("etcd-expose-metrics", Bool),
    f("etcd-disable-snapshots", Bool),
    f("etcd-snapshot-name", String),
    f("etcd-snapshot-schedule-cron", String),
    f("etcd-snapshot-retention", Int),
    f("etcd-snapshot-dir", String),
    f("etcd-snapshot-compress", Bool),
    f("etcd-s3", Bool),
    f("etcd-s3-endpoint", String),
    f("etcd-s3-endpoint-ca", String),
    f("etcd-s3-skip-ssl-verify", Bool),
    f("etcd-s3-access-key", String),
    f("etcd-s3-secret-key", String),
    f("etcd-s3-bucket", String),
    f("etcd-s3-region", String),
    f("etcd-s3-folder", String),
    f("etcd-s3-proxy", String),
    f("etcd-s3-config-secret", String),
    f("etcd-s3-insecure", Bool),
    f("etcd-s3-timeout", Duration),
    f("default-local-storage-path", String),
    f("disable", Slice),
    f("disable-scheduler", Bool),
    f("disable-cloud-controller", Bool),
    f("disable-kube-proxy", Bool),
    f("disable-network-policy", Bool),
    f("disable-helm-controller", Bool),
    f("disable-apiserver", Bool),
    f("disable-controller-manager", Bool),
    f("disable-etcd", Bool),
    f("embedded-registry", Bool),
    f("supervisor-metrics", Bool),
    f("node-name", String),
    f("with-node-id", Bool),
    f("node-label", Slice),
    f("node-taint", Slice),
    f("image-credential-provider-bin-dir", String),
    f("image-credential-provider-config", String),
    f("docker", Bool),
    f("container-runtime-endpoint", String),
    f("default-runtime", String),
    f("image-service-endpoint", String),
    f("disable-default-registry-endpoint", Bool),
    f("pause-image", String),
    f("snapshotter", String),
    f("private-registry", String),
    f("system-default-registry", String),
    f("airgap-extra-registry", Slice),
    a("node-ip", "i", Slice),
    f("node-external-ip", Slice),
    f("node-internal-dns", Slice),
    f("node-external-dns", Slice),
    f("resolv-conf", String),
    f("flannel-iface", String),
    f("flannel-conf", String),
    f("flannel-cni-conf", String),
    f("vpn-auth", String),
    f("vpn-auth-file", String),
    f("kubelet-arg", Slice),
    f("kube-proxy-arg", Slice),
    f("protect-kernel-defaults", Bool),
    f("secrets-encryption", Bool),
    f("enable-pprof", Bool),
    f("rootless", Bool),
    f("prefer-bundled-bin", Bool),
    f("selinux", Bool),
    f("lb-server-port", Int),
    f("disable-agent", Bool),
    f("kube-controller-arg", Slice),
    f("kube-cloud-controller-arg", Slice),
];

/// The error text k3s (Go's `flag` package under urfave/cli v1) gives for a flag the subcommand does not define.
/// `name` is the flag without its dashes and without `=value`.
pub fn not_defined_error(name: &str) -> std::string::String {
    format!("flag provided but not defined: -{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_and_aliases_are_unique_per_command() {
        for cmd in [Command::Server, Command::Agent] {
            let mut seen = BTreeSet::new();
            for fl in cmd.flags() {
                assert!(seen.insert(fl.name), "{} twice in {}", fl.name, cmd.as_str());
                if let Some(al) = fl.alias {
                    assert_eq!(al.len(), 1, "{al}");
                    assert!(seen.insert(al), "alias {al} twice in {}", cmd.as_str());
                }
                assert!(fl.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }
    }

    #[test]
    fn the_keys_that_break_agents_are_server_only() {
        // k3s-io/k3s#6565: what the layer used to write into the config both roles read.
        for key in ["write-kubeconfig-mode", "flannel-backend", "cluster-cidr", "service-cidr", "disable"] {
            assert!(Command::Server.find(key).is_some(), "{key}");
            assert!(Command::Agent.find(key).is_none(), "{key}");
        }
        for key in ["node-name", "node-ip", "flannel-iface", "token", "token-file", "server"] {
            assert!(Command::Server.find(key).is_some() && Command::Agent.find(key).is_some(), "{key}");
        }
        assert_eq!(Command::Agent.find("t").map(|f| f.name), Some("token"));
        assert!(Command::Server.drops_unknown_config_keys() && !Command::Agent.drops_unknown_config_keys());
        assert_eq!(not_defined_error("disable"), "flag provided but not defined: -disable");
    }
}
