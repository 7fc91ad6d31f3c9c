//! The committed k3s includes, imported back (the migration path from another layer's recipe), give the facts
//! they were rendered from: every zip checksum, git source and license file survives the trip.

use std::path::Path;

use go_facts::Facts;
use go_facts::import::bitbake;
use go_facts::license::Decisions;
use go_facts::render::{ModuleSet, render};

#[test]
fn rendered_k3s_includes_import_back_to_the_same_facts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes-containers/k3s");
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let facts = Facts::parse("k3s-go-facts.tsv", &read("k3s-go-facts.tsv")).unwrap();
    let mut back = bitbake("k3s-go-mods.inc", &read("k3s-go-mods.inc")).unwrap();
    back.merge(&bitbake("k3s-licenses.inc", &read("k3s-licenses.inc")).unwrap(), "k3s-licenses.inc").unwrap();
    assert_eq!(back.modules.len(), facts.modules.len());
    for (m, f) in &facts.modules {
        let b = &back.modules[m];
        assert_eq!(b.zip_sha256, f.zip_sha256, "{m}");
        assert_eq!(b.mod_sha256, f.mod_sha256, "{m}");
        match (&b.git, &f.git) {
            (Some(bg), Some(fg)) => {
                assert_eq!((&bg.repo, &bg.commit, &bg.subdir), (&fg.repo, &fg.commit, &fg.subdir), "{m}")
            }
            (None, None) => {}
            other => panic!("{m}: {other:?}"),
        }
        assert_eq!(b.licenses.keys().collect::<Vec<_>>(), f.licenses.keys().collect::<Vec<_>>(), "{m}");
        for (file, l) in &f.licenses {
            assert_eq!(b.licenses[file].md5, l.md5, "{m} {file}");
        }
    }
    // An include carries no go.mod evidence: imported subdir sources must be verified again before they render.
    let e = render(&back, &Decisions::default(), ModuleSet::AllFacts, None).unwrap_err().to_string();
    assert!(e.contains("gomodgit subdir(s) not verified") && e.contains("k3s-io/etcd/client/v3"), "{e}");
    for (m, f) in &facts.modules {
        if let (Some(bg), Some(fg)) = (back.modules.get_mut(m).and_then(|b| b.git.as_mut()), &f.git) {
            (bg.module, bg.checked_at) = (fg.module.clone(), fg.checked_at.clone());
        }
    }
    // The imported facts carry every license identified, so they render the same includes without decisions.
    let again = render(&back, &Decisions::default(), ModuleSet::AllFacts, Some("gomodgit_rezip")).unwrap();
    let strip = |s: &str| s.lines().skip(2).collect::<Vec<_>>().join("\n") + "\n";
    assert_eq!(again.go_mods, strip(&read("k3s-go-mods.inc")));
    assert_eq!(again.licenses, strip(&read("k3s-licenses.inc")));
}
