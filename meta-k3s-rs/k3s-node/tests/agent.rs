//! k3s-agent through the real binary under `--root`: hostile values, mode bits, env fallbacks, crash safety.

mod common;

use k3s_node::unitesc::parse_environment_line;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DROPIN: &str = "etc/systemd/system/k3s-agent.service.d/10-env.conf";
const TOKEN: &str = "etc/rancher/k3s/agent-token";

fn agent(root: &Path, args: &[&OsStr]) -> Output {
    let mut c = common::tool("agent");
    // A proc of its own: what runs on the machine running the tests never decides them.
    let proc_dir = common::quiet_proc(root);
    c.arg("--root").arg(root).arg("--proc").arg(&proc_dir).arg("--no-start").args(args);
    for v in ["K3S_TOKEN", "K3S_TOKEN_FILE", "K3S_URL", "K3S_NODE_NAME", "K3S_RESOLV_CONF", "K3S_CLUSTER_SECRET"] {
        c.env_remove(v);
    }
    c.output().unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// The drop-in as systemd would read it: every line, and the environment it sets.
fn read_dropin(root: &Path) -> (Vec<String>, Vec<(String, String)>) {
    let text = std::fs::read_to_string(root.join(DROPIN)).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let env = lines.iter().filter_map(|l| parse_environment_line(l)).collect();
    (lines, env)
}

#[test]
fn hostile_tokens_stay_one_assignment() {
    let big: String = (0..64 * 1024).map(|i| ['%', '"', '\\', 'a', 'ü', ' ', '$'][i % 7]).collect();
    for token in ["%n%H%%", "\"quoted\" 'single'", "back\\slash\\", "a\\\"\\nb", "x\" \"ExecStartPre=/bin/sh", &big] {
        let root = tempfile::tempdir().unwrap();
        let out = agent(root.path(), &[os("-t"), os(token), os("-s"), os("https://10.0.0.1:6443")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (lines, env) = read_dropin(root.path());
        assert_eq!(lines.len(), 5, "2 comments, [Service], K3S_URL, K3S_TOKEN_FILE: {lines:?}");
        assert_eq!(lines[2], "[Service]");
        assert_eq!(
            env,
            vec![
                ("K3S_URL".into(), "https://10.0.0.1:6443".into()),
                ("K3S_TOKEN_FILE".into(), "/etc/rancher/k3s/agent-token".into())
            ]
        );
        // The token file holds exactly the token (k3s trims the newline).
        assert_eq!(std::fs::read(root.path().join(TOKEN)).unwrap(), format!("{token}\n").into_bytes());
    }
}

#[test]
fn control_characters_and_non_utf8_are_refused_before_writing() {
    let nl = "tok\nExecStartPre=/bin/sh -c id";
    let cases: Vec<Vec<&OsStr>> = vec![
        vec![os("-t"), os(nl), os("-s"), os("https://h:6443")],
        vec![os("-t"), os("t\r"), os("-s"), os("https://h:6443")],
        vec![os("-t"), OsStr::from_bytes(b"t\xff\xfe"), os("-s"), os("https://h:6443")],
        vec![os("-t"), os("t"), os("-s"), os("https://h:6443\n[Service]")],
        vec![os("-t"), os("t"), os("-s"), os("http://h:6443")],
        vec![os("-t"), os("t"), os("-s"), os("https://h")],
        vec![os("-t"), os("t"), os("-s"), os("https://h:6443"), os("--node-name"), os("n\n1")],
        vec![os("-t"), os("t"), os("-s"), os("https://h:6443"), os("--resolv-conf"), os("relative")],
        vec![os("-s"), os("https://h:6443")],
    ];
    for args in cases {
        let root = tempfile::tempdir().unwrap();
        let out = agent(root.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stderr).contains("k3s-agent: error:"), "{args:?}");
        let written: Vec<_> =
            std::fs::read_dir(root.path()).unwrap().flatten().filter(|e| e.file_name() != "proc").collect();
        assert!(written.is_empty(), "{args:?} wrote something");
    }
}

#[test]
fn secret_mode_regardless_of_umask_and_old_mode() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join(TOKEN);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let proc_dir = common::quiet_proc(root.path());
    let mut c = Command::new("sh");
    c.args(["-c", "umask 000; exec \"$@\"", "sh"]);
    if let Ok(runner) = std::env::var("K3S_NODE_TEST_RUNNER") {
        c.args(runner.split_whitespace());
    }
    let out = c
        .arg(common::binary())
        .args(["agent", "--no-start", "-t", "s3cret", "-s", "https://h:6443", "--root"])
        .arg(root.path())
        .arg("--proc")
        .arg(&proc_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
    assert_eq!(std::fs::metadata(root.path().join(DROPIN)).unwrap().permissions().mode() & 0o7777, 0o600);
}

#[test]
fn environment_fallbacks_and_token_file_argument() {
    let root = tempfile::tempdir().unwrap();
    let token_file = root.path().join("node-token");
    std::fs::write(&token_file, "K10abc::server:fromfile\n").unwrap();
    let proc_dir = common::quiet_proc(root.path());
    let out = common::tool("agent")
        .args(["--no-start", "--root"])
        .arg(root.path())
        .arg("--proc")
        .arg(&proc_dir)
        .env("K3S_URL", "https://[fd00::1]:6443")
        .env("K3S_TOKEN", &token_file)
        .env("K3S_NODE_NAME", "node-2")
        .env("K3S_RESOLV_CONF", "/etc/k3s-resolv.conf")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, env) = read_dropin(root.path());
    // K3S_TOKEN stands in for -t, so a value naming a file is read as one there too.
    assert!(env.contains(&("K3S_TOKEN_FILE".into(), "/etc/rancher/k3s/agent-token".into())), "{env:?}");
    assert_eq!(std::fs::read_to_string(root.path().join(TOKEN)).unwrap(), "K10abc::server:fromfile\n");
    assert!(env.contains(&("K3S_NODE_NAME".into(), "node-2".into())));
    assert!(env.contains(&("K3S_URL".into(), "https://[fd00::1]:6443".into())));

    let out = agent(root.path(), &[os("-t"), token_file.as_os_str(), os("-s"), os("https://localhost:6443")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, env) = read_dropin(root.path());
    assert_eq!(
        env,
        vec![
            ("K3S_URL".into(), "https://localhost:6443".into()),
            ("K3S_TOKEN_FILE".into(), "/etc/rancher/k3s/agent-token".into())
        ]
    );
    assert_eq!(std::fs::read_to_string(root.path().join(TOKEN)).unwrap(), "K10abc::server:fromfile\n");
}

#[test]
fn kill_9_during_writes_leaves_old_or_new_file() {
    // Big values (just under Linux's 128 KiB limit for one argument) make each write take long enough for the
    // kill to land mid-way in many iterations.
    let root = tempfile::tempdir().unwrap();
    let values: Vec<String> = ["a", "b"].iter().map(|c| c.repeat(120 * 1024)).collect();
    // Reference runs give the expected files and how long a full run takes here (native or under qemu-user), so
    // the kills below spread from "before anything" to "after completion" on any machine.
    let mut full_run = std::time::Duration::ZERO;
    let expected: Vec<String> = values
        .iter()
        .map(|v| {
            let r = tempfile::tempdir().unwrap();
            let t = std::time::Instant::now();
            assert!(agent(r.path(), &[os("-t"), os(v), os("-s"), os("https://h:6443")]).status.success());
            full_run = full_run.max(t.elapsed());
            std::fs::read_to_string(r.path().join(TOKEN)).unwrap()
        })
        .collect();
    let span_us = (full_run.as_micros() as u64 * 3 / 2).max(1);
    assert!(agent(root.path(), &[os("-t"), os(&values[0]), os("-s"), os("https://h:6443")]).status.success());
    let path: PathBuf = root.path().join(TOKEN);
    let proc_dir = common::quiet_proc(root.path());
    let mut seen_new = false;
    let mut interrupted = false;
    for i in 0..60u64 {
        let v = &values[(i % 2) as usize];
        let mut child = common::tool("agent")
            .args(["--no-start", "-s", "https://h:6443", "-t", v, "--root"])
            .arg(root.path())
            .arg("--proc")
            .arg(&proc_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if i % 10 == 9 {
            // Every tenth run completes, so the loop also alternates the file under the kills (load on a shared
            // machine or under qemu-user can make every killed run land early).
            assert!(child.wait().unwrap().success());
        } else {
            std::thread::sleep(std::time::Duration::from_micros((i * 7919) % span_us));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(now == expected[0] || now == expected[1], "iteration {i}: torn file of {} bytes", now.len());
        seen_new |= now == expected[1];
        interrupted |= now != expected[(i % 2) as usize];
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // A temp file a killed writer left behind must not leak the token either.
        for e in std::fs::read_dir(path.parent().unwrap()).unwrap() {
            let e = e.unwrap();
            assert_eq!(e.metadata().unwrap().permissions().mode() & 0o077, 0, "{:?} readable by others", e.path());
        }
    }
    assert!(seen_new, "no write ever completed; the loop proves nothing");
    assert!(interrupted, "every write completed before the kill; the loop proves nothing");
}

/// `systemd-analyze verify` over the agent unit with its drop-in: systemd's own parser must not complain.
fn systemd_complaints(unit_dir: &Path) -> String {
    std::fs::write(unit_dir.join("k3s-agent.service"), "[Unit]\nDescription=agent\n[Service]\nExecStart=/bin/true\n")
        .unwrap();
    let mut search = unit_dir.as_os_str().to_owned();
    search.push(":");
    let out = Command::new("systemd-analyze")
        .args(["verify", "k3s-agent.service"])
        .env("SYSTEMD_UNIT_PATH", search)
        .current_dir(unit_dir)
        .output()
        .expect("systemd-analyze (Debian package systemd) installed");
    format!("{}{}", String::from_utf8_lossy(&out.stderr), if out.status.success() { "" } else { "(failed)" })
}

#[test]
fn systemd_reads_hostile_dropins_without_complaint() {
    for token in ["%n%Z%%", "\"q\" 'q' \\ \\\\ \\\"", "ü € $X ${Y} ; & |"] {
        let root = tempfile::tempdir().unwrap();
        let out =
            agent(root.path(), &[os("-t"), os(token), os("-s"), os("https://h:6443"), os("--node-name"), os("n1")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let complaints = systemd_complaints(&root.path().join("etc/systemd/system"));
        assert!(complaints.trim().is_empty(), "{token:?}: {complaints}");
    }
    // Control: the same values written naively are rejected by systemd, so the check above can fail.
    let dir = tempfile::tempdir().unwrap();
    let dropin = dir.path().join("k3s-agent.service.d");
    std::fs::create_dir(&dropin).unwrap();
    std::fs::write(dropin.join("10-env.conf"), "[Service]\nEnvironment=\"K3S_TOKEN=%Z\"\nEnvironment=\"X=\"q\"\n")
        .unwrap();
    let complaints = systemd_complaints(dir.path());
    assert!(complaints.contains("10-env.conf:2") && complaints.contains("10-env.conf:3"), "{complaints}");
}
