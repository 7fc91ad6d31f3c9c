//! Every real go.mod/go.sum pair in tests/data (copied from public repositories; see each SOURCE).

use std::collections::BTreeSet;
use std::path::Path;

use gomod::{GoMod, GoSum, ReplaceTarget};

fn pair(name: &str) -> (GoMod, GoSum, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let m = std::fs::read_to_string(dir.join("go.mod")).unwrap();
    let s = std::fs::read_to_string(dir.join("go.sum")).unwrap();
    (GoMod::parse("go.mod", &m).unwrap(), GoSum::parse("go.sum", &s).unwrap(), s)
}

/// Every requirement (after replacement) of a tidy module has its go.mod hash in go.sum.
fn requirements_are_summed(m: &GoMod, s: &GoSum) {
    let summed: BTreeSet<_> = s.lines.iter().filter(|l| l.go_mod_only).map(|l| l.module.clone()).collect();
    for r in m.effective_requirements() {
        assert!(summed.contains(&r), "{r} required but not in go.sum");
    }
}

#[test]
fn k3s() {
    let (m, s, text) = pair("k3s");
    assert_eq!(m.module, "github.com/k3s-io/k3s");
    assert_eq!(m.go.as_deref(), Some("1.26.7"));
    assert_eq!(s.lines.len(), text.lines().count());
    assert_eq!(s.lines.len(), 2782);
    assert!(m.replace.len() > 50);
    assert!(m.require.iter().any(|r| r.indirect));
    let local = m.replace.iter().filter(|r| matches!(r.new, ReplaceTarget::Local(_))).count();
    let modules = m.replace.iter().filter(|r| matches!(r.new, ReplaceTarget::Module(_))).count();
    assert_eq!(local + modules, m.replace.len());
    requirements_are_summed(&m, &s);
}

#[test]
fn cni_plugins_flannel_runc() {
    for (name, module) in [
        ("cni-plugins", "github.com/containernetworking/plugins"),
        ("flannel-cni-plugin", "github.com/flannel-io/cni-plugin"),
        ("runc", "github.com/opencontainers/runc"),
    ] {
        let (m, s, text) = pair(name);
        assert_eq!(m.module, module);
        assert_eq!(s.lines.len(), text.lines().filter(|l| !l.trim().is_empty()).count(), "{name}");
        requirements_are_summed(&m, &s);
        // Some module versions are go.mod-only graph members (the `;mod=1` case).
        assert!(s.entries().values().any(|e| e.zip.is_none()), "{name}");
    }
}
