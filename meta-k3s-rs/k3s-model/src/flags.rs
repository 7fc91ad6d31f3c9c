//! The flags `k3s server` and `k3s agent` define, and how k3s turns its config files into flags.
//!
//! k3s reads `/etc/rancher/k3s/config.yaml` (or `$K3S_CONFIG_FILE`, or `--config`) and then every `*.yaml`/`*.yml`
//! file in `<config>.d/` in lexical order; each key becomes `--key=value` (a one-letter key `-k=value`, a list one
//! flag per item), and a key ending in `+` appends to the value an earlier file gave. The flags go in right after
//! the subcommand, so command-line flags win. Then the subcommand parses them with urfave/cli (over Go's `flag`
//! package), which refuses a flag it does not define: `flag provided but not defined: -disable`. Only `server`
//! (and `etcd-snapshot`) first drops config keys it does not define, with a warning; `agent` does not, so one
//! server-only key in an agent's config stops the agent (k3s-io/k3s#6565). Hence the layer writes config per role
//! and checks every key it writes against that role's table here, and the stand-in k3s of the systemd suite
//! refuses exactly what k3s refuses.
//!
//! The tables ([`AGENT`], [`SERVER`]) are facts, not code: `recipes-containers/k3s/k3s-cli-flags.tsv` (format and
//! parser in [`facts`]) is the one place, `k3s-bake gen` renders it into `flags_table.rs` here and into the
//! recipe's `k3s-config-facts.inc`, and `k3s-bake bump` rewrites it from the k3s source it checks out by running
//! k3s's own code (`cmds.NewAgentCommand(nil).Flags`, `cmds.NewServerCommand(nil).Flags` under the go command,
//! with the recipe's build tags), so hidden and build-tagged flags count as k3s counts them. The facts file's
//! header says where its rows were read; the committed rows are still the earlier hand reading (below) until a
//! bump runs against the pinned commit.
//!
//! Provenance of the rest: `pkg/configfilearg` (`defaultparser.go`: `ValidFlags` holds only server and
//! etcd-snapshot; `parser.go`: the merge and append rules), recorded from `pkg/configfilearg/parser.go` at k3s
//! commit f646604010affc6a1d3233a8a0870bca46bf80cf (`ConfigFlags`, `.d` drop-ins, `key+`, `stripInvalidFlags`)
//! and the newest `defaultparser.go` the public code index gave (without a commit). The hand reading of the flag
//! rows came from the same index, which does not hold the pinned commit 2390b65e1ae38c786b150e6f4113b55d1c3a9492
//! (release-1.36): the newest `agent.go` / `server.go` it holds with urfave/cli v1 (`Name: "token,t"`). That was
//! an approximation of 1.36, not a reading of it. k3s 1.36's `pkg/cli/cmds` very likely imports urfave/cli
//! **v2** (`Name` + `Aliases`), not v1: the layer's Go facts for 2390b65e hold a licence record for
//! `github.com/urfave/cli/v2` v2.27.7 and none for v1.22.16 (a go.sum entry only), and a v2-era k3s `token.go` in
//! the index imports `github.com/urfave/cli/v2`. Evidence, not proof: those licence records are another layer's
//! (README, "Go modules": they also list md2man/blackfriday, which `urfave_cli_no_docs` drops). Bump detects the
//! version from the package's imports and reads the flags from the code.

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

    /// The flag called `name` (its long name or one of its aliases), if the subcommand defines it.
    pub fn find(self, name: &str) -> Option<&'static Flag> {
        self.flags().iter().find(|f| f.name == name || f.aliases.contains(&name))
    }

    /// Both subcommands, agent first (the facts file's order).
    pub const ALL: [Command; 2] = [Command::Agent, Command::Server];

    /// The subcommand called `s` (`agent`, `server`).
    pub fn from_name(s: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What a flag's value is. `k3s-bake bump` maps each flag's Go type to one of these: urfave/cli v1/v2 by the flag
/// type's name (below), v3 by the type of its `Value` field (v3's flag types are all `FlagBase[T, …]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `BoolFlag`/`BoolTFlag` (v3: `bool`): no value, or `=true`/`=false`.
    Bool,
    /// `StringFlag`, `PathFlag`, `GenericFlag` (v3: `string`, or a `GenericFlag`'s `Value`).
    String,
    /// `IntFlag`, `Int64Flag`, `UintFlag`, `Uint64Flag` (v3: any Go integer).
    Int,
    /// `DurationFlag` (v3: `time.Duration`; Go duration syntax, e.g. `5m0s`).
    Duration,
    /// `StringSliceFlag` (and the other `*SliceFlag`s; v3: `[]string` or a slice of integers): repeatable, each
    /// occurrence adds one item.
    Slice,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 5] = [Kind::Bool, Kind::String, Kind::Int, Kind::Duration, Kind::Slice];

    /// The kind's word in the facts file and the recipe's `K3S_*_FLAGS` (`NAME=KIND`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::String => "string",
            Kind::Int => "int",
            Kind::Duration => "duration",
            Kind::Slice => "slice",
        }
    }

    /// The kind called `s` (see [`Kind::as_str`]).
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One flag of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flag {
    /// The long name, also the config-file key.
    pub name: &'static str,
    /// Other names of the flag (`t` of `token`: `Name: "token,t"` in urfave/cli v1, `Aliases` in v2 and v3).
    pub aliases: &'static [&'static str],
    /// The value type.
    pub kind: Kind,
}

// `AGENT` and `SERVER`: rendered by `k3s-bake gen` from the flag facts (recipes-containers/k3s/k3s-cli-flags.tsv),
// which `k3s-bake bump` reads from k3s's own pkg/cli/cmds. A test in k3s-bake holds this table equal to the facts.
include!("flags_table.rs");

/// The error text k3s (Go's `flag` package under urfave/cli) gives for a flag the subcommand does not define.
/// `name` is the flag without its dashes and without `=value`.
pub fn not_defined_error(name: &str) -> std::string::String {
    format!("flag provided but not defined: -{name}")
}

pub mod facts;

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
                for al in fl.aliases {
                    assert!(seen.insert(al), "alias {al} twice in {}", cmd.as_str());
                    assert!(facts::valid_name(al), "{al}");
                }
                assert!(facts::valid_name(fl.name), "{}", fl.name);
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
