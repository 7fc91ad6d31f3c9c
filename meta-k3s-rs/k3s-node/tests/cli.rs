//! The multi-call binary from the outside: argv[0] dispatch, k3s-check-config, k3s-role-setup, the unit file.

mod common;

use k3s_model::kernel::{Level, OPTIONS};
use k3s_model::tools::TOOLS;
use std::path::Path;

#[test]
fn every_tool_runs_under_its_own_name_and_as_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    for t in TOOLS {
        let link = dir.path().join(t.name());
        std::os::unix::fs::symlink(common::binary(), &link).unwrap();
        let out = common::command(&link).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {}", t.name(), String::from_utf8_lossy(&out.stderr));
        assert!(help.contains(&format!("Usage: {}", t.name())), "{}: {help}", t.name());
        let out = common::tool(t.name()).arg("--help").output().unwrap();
        assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Usage:"), "{}", t.name());
    }
    let out = common::tool("agent").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["-t, --token", "--token-file", "-s, --server", "--node-name", "--resolv-conf", "--cluster-secret"] {
        assert!(help.contains(flag), "k3s-agent --help lacks {flag}");
    }
    let out = common::tool("no-such-tool").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("k3s-check-config"));
    let out = common::command(&common::binary()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn write_config(dir: &Path, skip: &[&str], levels: &[Level]) -> std::path::PathBuf {
    let text: String = OPTIONS
        .iter()
        .filter(|o| levels.contains(&o.level))
        .map(|o| {
            if skip.contains(&o.name) {
                format!("# CONFIG_{} is not set\n", o.name)
            } else {
                format!("CONFIG_{}=m\n", o.name)
            }
        })
        .collect();
    let p = dir.join("config");
    std::fs::write(&p, format!("#\n# Linux/arm64 6.18 Kernel Configuration\n#\n{text}")).unwrap();
    p
}

#[test]
fn check_config_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let full = write_config(dir.path(), &[], &[Level::Required]);
    let out = common::tool("check-config").arg("--config").arg(&full).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("result: all required present"), "{text}");

    // The same config gzip-compressed by the real gzip, as /proc/config.gz is.
    assert!(std::process::Command::new("gzip").arg("-k").arg(&full).status().unwrap().success());
    let out = common::tool("check-config").arg("--config").arg(dir.path().join("config.gz")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let missing = write_config(dir.path(), &["VETH", "MEMCG"], &[Level::Required, Level::Recommended]);
    let out = common::tool("check-config").arg("--config").arg(&missing).arg("--json").output().unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert!(json.contains("\"ok\":false,\"missing_required\":[\"CONFIG_MEMCG\",\"CONFIG_VETH\"]"), "{json}");
    assert!(json.contains("{\"name\":\"CONFIG_VETH\",\"level\":\"required\""), "{json}");
    assert!(json.contains("\"system\":null"), "--config alone does not judge this machine: {json}");

    std::fs::write(dir.path().join("bad"), "CONFIG_A=y\nthis is not a config\n").unwrap();
    let out = common::tool("check-config").arg("--config").arg(dir.path().join("bad")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad:line 2: expected CONFIG_NAME=value"), "{err}");
}

#[test]
fn check_config_system_part_matches_its_verdict() {
    // The running system's cgroups and PATH vary by machine: check that the report is consistent, not a verdict.
    let dir = tempfile::tempdir().unwrap();
    let full = write_config(dir.path(), &[], &[Level::Required]);
    let out = common::tool("check-config").arg("--config").arg(&full).args(["--system", "--json"]).output().unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    for c in k3s_model::kernel::CGROUP_V2_CONTROLLERS {
        assert!(json.contains(&format!("{{\"name\":\"{c}\",\"present\":")), "{json}");
    }
    for c in k3s_model::kernel::REQUIRED_COMMANDS {
        assert!(json.contains(&format!("{{\"name\":\"{c}\",\"path\":")), "{json}");
    }
    let ok = json.contains("\"ok\":true,\"missing_required\":[]");
    assert_eq!(out.status.code(), Some(if ok { 0 } else { 1 }), "{json}");
}

#[test]
fn role_setup_from_a_command_line_file() {
    let root = tempfile::tempdir().unwrap();
    // The image's agent unit, as the k3s recipe installs it; the real `systemctl --root` enables it offline.
    let units = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(
        units.join("k3s-agent.service"),
        "[Service]\nExecStart=/usr/bin/k3s agent\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    let cmdline = root.path().join("cmdline");
    std::fs::write(
        &cmdline,
        "console=ttyS0 k3s.role=agent k3s.server=192.168.7.1 k3s.token=\"s3cr%t\" k3s.iface=eth1\n",
    )
    .unwrap();
    let proc_dir = common::quiet_proc(root.path());
    let role_setup = || {
        common::tool("role-setup")
            .arg("--cmdline")
            .arg(&cmdline)
            .arg("--root")
            .arg(root.path())
            .arg("--proc")
            .arg(&proc_dir)
            .output()
            .unwrap()
    };
    let out = role_setup();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dropin =
        std::fs::read_to_string(root.path().join("etc/systemd/system/k3s-agent.service.d/10-env.conf")).unwrap();
    assert!(dropin.contains("Environment=\"K3S_TOKEN_FILE=/etc/rancher/k3s/agent-token\"\n"), "{dropin}");
    assert_eq!(std::fs::read_to_string(root.path().join("etc/rancher/k3s/agent-token")).unwrap(), "s3cr%t\n");
    assert!(dropin.contains("Environment=\"K3S_URL=https://192.168.7.1:6443\"\n"), "{dropin}");
    let cfg = std::fs::read_to_string(root.path().join("etc/rancher/k3s/agent.yaml.d/50-role-setup.yaml")).unwrap();
    assert!(cfg.contains("flannel-iface: \"eth1\"\n"), "{cfg}");
    let wants = root.path().join("etc/systemd/system/multi-user.target.wants/k3s-agent.service");
    assert!(wants.symlink_metadata().is_ok(), "systemctl --root enable made no link");

    std::fs::write(&cmdline, "k3s.role=agent k3s.servr=x\n").unwrap();
    let out = role_setup();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown parameter k3s.servr"));
}

#[test]
fn role_setup_takes_the_token_from_fw_cfg_not_the_command_line() {
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(
        units.join("k3s-agent.service"),
        "[Service]\nExecStart=/usr/bin/k3s agent\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    // A stand-in for the kernel's qemu_fw_cfg sysfs directory, laid out as the driver lays it out.
    let fw_cfg = root.path().join("fw_cfg");
    std::fs::create_dir_all(fw_cfg.join("by_name/opt/k3s/token")).unwrap();
    std::fs::write(fw_cfg.join("by_name/opt/k3s/token/raw"), "fw-cfg-token").unwrap();
    let cmdline = root.path().join("cmdline");
    std::fs::write(&cmdline, "k3s.role=agent k3s.server=192.168.76.10 k3s.node-name=k3s-agent-1\n").unwrap();
    let proc_dir = common::quiet_proc(root.path());
    let run = || {
        common::tool("role-setup")
            .arg("--cmdline")
            .arg(&cmdline)
            .arg("--root")
            .arg(root.path())
            .arg("--proc")
            .arg(&proc_dir)
            .arg("--fw-cfg")
            .arg(&fw_cfg)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("token from fw_cfg"));
    let token = root.path().join("etc/rancher/k3s/agent-token");
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "fw-cfg-token\n");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    // A second token on the command line is a setup mistake, not a preference.
    std::fs::write(&cmdline, "k3s.role=agent k3s.server=192.168.76.10 k3s.token=other\n").unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the token is given 2 times"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn role_setup_unit_file_is_a_valid_oneshot_running_the_tool() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/k3s-role-setup.service");
    let text = std::fs::read_to_string(path).unwrap();
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('[') {
            section = line.to_string();
        } else {
            let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("not key=value: {line}"));
            keys.push((section.clone(), k.to_string(), v.to_string()));
        }
    }
    let get = |s: &str, k: &str| keys.iter().find(|(ss, kk, _)| ss == s && kk == k).map(|(_, _, v)| v.as_str());
    assert_eq!(get("[Service]", "Type"), Some("oneshot"));
    assert_eq!(get("[Service]", "RemainAfterExit"), Some("yes"));
    assert_eq!(get("[Service]", "ExecStart"), Some("/usr/bin/k3s-role-setup"));
    assert!(TOOLS.iter().any(|t| t.name() == "k3s-role-setup"));
    assert_eq!(get("[Unit]", "ConditionKernelCommandLine"), Some("k3s.role"));
    let before = get("[Unit]", "Before").unwrap();
    for unit in [k3s_model::units::SERVER_SERVICE, k3s_model::units::AGENT_SERVICE] {
        assert!(before.split_whitespace().any(|u| u == unit), "Before= lacks {unit}");
    }
    assert_eq!(get("[Install]", "WantedBy"), Some("multi-user.target"));

    // systemd's own parser: unknown keys or bad values are reported on stderr. ExecStart is pointed at a program
    // that exists here, since verify checks that the binary is executable.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(k3s_model::units::ROLE_SETUP_SERVICE);
    std::fs::write(&copy, text.replace("ExecStart=/usr/bin/k3s-role-setup", "ExecStart=/bin/true")).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze (Debian package systemd) installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "systemd-analyze verify: {err}");
}

/// An error prints what failed and its cause, each once (not `...(os error 2): ...(os error 2)`).
#[test]
fn errors_say_their_cause_once() {
    let missing = tempfile::tempdir().unwrap().path().join("missing");
    let cases: [(&str, Vec<&std::ffi::OsStr>); 2] = [
        ("check-config", vec!["--config".as_ref(), missing.as_os_str()]),
        // Fails in validation, before anything is written or any unit is asked about.
        ("agent", vec!["-s".as_ref(), "https://h:6443".as_ref(), "--token-file".as_ref(), missing.as_os_str()]),
    ];
    for (tool, args) in cases {
        let out = common::tool(tool).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{tool}: {err}");
        assert_eq!(err.matches("No such file or directory").count(), 1, "{tool}: {err}");
        assert_eq!(err.matches(missing.to_str().unwrap()).count(), 1, "{tool}: {err}");
    }
}

/// `--help` of `k3s-node` and of every tool, against the plain expected files in `tests/help/` (a help text is a
/// user interface: a change must show up in review). `K3S_NODE_BLESS=1 cargo test -p k3s-node --test cli` rewrites
/// them after an intended change.
#[test]
fn help_texts_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/help");
    let bless = std::env::var_os("K3S_NODE_BLESS").is_some();
    let mut cases = vec![(k3s_model::tools::MULTICALL_BINARY.to_string(), common::command(&common::binary()))];
    for t in TOOLS {
        cases.push((t.name().to_string(), common::tool(t.name())));
    }
    let mut stale = Vec::new();
    for (name, mut cmd) in cases {
        let out = cmd.arg("--help").output().unwrap();
        assert!(out.status.success(), "{name} --help: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{name} --help wrote to stderr");
        let file = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &out.stdout).unwrap();
        } else if std::fs::read(&file).ok().as_deref() != Some(&out.stdout[..]) {
            stale.push(format!("{}:\n{}", file.display(), String::from_utf8_lossy(&out.stdout)));
        }
    }
    assert!(
        stale.is_empty(),
        "--help differs from (or lacks) its snapshot; if intended, rerun with K3S_NODE_BLESS=1:\n{}",
        stale.join("\n")
    );
    let killall = std::fs::read_to_string(dir.join("k3s-killall.sh.txt")).unwrap();
    let first = killall.lines().next().unwrap_or_default();
    for unit in [k3s_model::units::SERVER_SERVICE, k3s_model::units::AGENT_SERVICE] {
        assert!(
            first.starts_with("Stop ") && first.contains(unit),
            "k3s-killall.sh --help must say it stops {unit}: {first}"
        );
    }
}

/// The units a `k3s-bake cluster` server uses to send its kubeconfig out, through systemd's own parser.
#[test]
fn kubeconfig_export_units_verify() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    let dir = tempfile::tempdir().unwrap();
    for unit in ["k3s-kubeconfig-export.path", "k3s-kubeconfig-export.service"] {
        std::fs::copy(src.join(unit), dir.path().join(unit)).unwrap();
    }
    let service = std::fs::read_to_string(dir.path().join("k3s-kubeconfig-export.service")).unwrap();
    assert!(service.contains("\nConditionPathExists=/dev/virtio-ports/org.k3s-rs.kubeconfig\n"), "{service}");
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "k3s-kubeconfig-export.path", "k3s-kubeconfig-export.service"])
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze (Debian package systemd) installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "systemd-analyze verify: {err}");
}
