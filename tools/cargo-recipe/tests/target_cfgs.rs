//! The recorded cfg facts (src/target-cfgs.txt) are what the installed rustc reports for each triple: the resolver
//! evaluates `[target.'cfg(…)']` tables against them instead of running rustc.

use cargo_recipe::cfg::TargetCfg;

#[test]
fn recorded_cfg_facts_are_what_rustc_prints() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let triples = TargetCfg::recorded_triples();
    assert_eq!(triples, cargo_recipe::resolve::DEFAULT_TARGETS, "the recorded triples are the default targets");
    for t in triples {
        let o = std::process::Command::new(&rustc).args(["--print", "cfg", "--target", &t]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let now = TargetCfg::from_rustc(&t, &String::from_utf8_lossy(&o.stdout)).unwrap();
        assert_eq!(
            TargetCfg::recorded(&t).as_ref(),
            Some(&now),
            "{t}: rustc's cfgs differ from src/target-cfgs.txt; regenerate it with \
             `bash tools/cargo-recipe/target-cfgs.sh > tools/cargo-recipe/src/target-cfgs.txt`"
        );
    }
}
