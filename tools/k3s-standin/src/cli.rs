//! The subcommand's flag parsing, as urfave/cli v1 does it through Go's `flag` package: `-name`, `--name`,
//! `-name=value`, `--name value` (not for bools), `--` ends the flags, the first non-flag argument ends them too.
//! A flag the subcommand does not define is an error with Go's text; so is a bad bool or a missing value.
//! Environment variables stand in for unset flags where k3s defines one (`K3S_TOKEN`, `K3S_URL`, ...).

use k3s_model::flags::{Command, Kind, not_defined_error};
use std::collections::BTreeMap;

/// Parsed flags: long name → every value given, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed(pub BTreeMap<&'static str, Vec<String>>);

impl Parsed {
    /// The last value of `name`, else the environment variable k3s binds to it.
    pub fn get(&self, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if let Some(v) = self.0.get(name).and_then(|v| v.last()) {
            return Some(v.clone());
        }
        env_var(name).and_then(env).filter(|v| !v.is_empty())
    }
}

/// The `EnvVar` k3s binds to the flags the stand-in reads.
fn env_var(name: &str) -> Option<&'static str> {
    Some(match name {
        "token" => "K3S_TOKEN",
        "token-file" => "K3S_TOKEN_FILE",
        "server" => "K3S_URL",
        "node-name" => "K3S_NODE_NAME",
        "resolv-conf" => "K3S_RESOLV_CONF",
        "data-dir" => "K3S_DATA_DIR",
        "write-kubeconfig-mode" => "K3S_KUBECONFIG_MODE",
        "agent-token" => "K3S_AGENT_TOKEN",
        _ => return None,
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses the arguments after the subcommand.
pub fn parse(cmd: Command, args: &[String]) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.len() < 2 || !arg.starts_with('-') {
            break;
        }
        let body = match arg.strip_prefix("--") {
            Some("") => break,
            Some(b) => b,
            None => &arg[1..],
        };
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(format!("bad flag syntax: {arg}"));
        }
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(flag) = cmd.find(name) else {
            return Err(not_defined_error(name));
        };
        let value = match (flag.kind, value) {
            (Kind::Bool, Some(v)) => {
                parse_bool(&v).ok_or_else(|| format!("invalid boolean value {v:?} for -{name}: parse error"))?;
                v
            }
            (Kind::Bool, None) => "true".to_string(),
            (_, Some(v)) => v,
            (_, None) => {
                let v = args.get(i).ok_or_else(|| format!("flag needs an argument: -{name}"))?;
                i += 1;
                v.clone()
            }
        };
        if flag.kind == Kind::Int && value.parse::<i64>().is_err() {
            return Err(format!("invalid value {value:?} for flag -{name}: parse error"));
        }
        out.0.entry(flag.name).or_default().push(value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn go_flag_rules() {
        let p = parse(
            Command::Agent,
            &s(&["--token=a=b", "-s", "https://h:6443", "--debug", "-i=1.2.3.4", "-i", "5.6.7.8"]),
        )
        .unwrap();
        assert_eq!(p.get("token", &|_| None).as_deref(), Some("a=b"));
        assert_eq!(p.get("server", &|_| None).as_deref(), Some("https://h:6443"));
        assert_eq!(p.0["node-ip"], s(&["1.2.3.4", "5.6.7.8"]));
        assert_eq!(p.get("node-name", &|v| (v == "K3S_NODE_NAME").then(|| "n".to_string())).as_deref(), Some("n"));
        assert_eq!(
            parse(Command::Agent, &s(&["--disable=traefik"])).unwrap_err(),
            "flag provided but not defined: -disable"
        );
        assert!(parse(Command::Server, &s(&["--disable=traefik", "--write-kubeconfig-mode=0644"])).is_ok());
        assert_eq!(parse(Command::Agent, &s(&["--token"])).unwrap_err(), "flag needs an argument: -token");
        assert!(parse(Command::Agent, &s(&["--debug=maybe"])).is_err());
        assert!(parse(Command::Agent, &s(&["---x"])).is_err());
        assert_eq!(parse(Command::Agent, &s(&["--", "--nope"])).unwrap(), Parsed::default());
    }
}
