//! Benchmark (not a test): load the committed k3s v1.36.2 facts + license decisions and render both includes,
//! as `k3s-bake gen` does. Goal: well under 0.5 s. Run: `cargo bench -p go-facts` (release build).

use std::path::Path;
use std::time::{Duration, Instant};

use go_facts::Facts;
use go_facts::license::Decisions;
use go_facts::render::{ModuleSet, render};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes-containers/k3s");
    let once = || {
        let start = Instant::now();
        let facts = Facts::load(&root.join("k3s-go-facts.tsv")).expect("facts");
        let decisions = Decisions::load(&root.join("k3s-go-license-decisions.tsv")).expect("decisions");
        let r = render(&facts, &decisions, ModuleSet::AllFacts, Some("gomodgit_rezip")).expect("render");
        std::hint::black_box(&r);
        (start.elapsed(), facts.modules.len(), r.go_mods.len() + r.licenses.len())
    };
    let (_, modules, bytes) = once();
    let mut times: Vec<Duration> = (0..50).map(|_| once().0).collect();
    times.sort();
    println!(
        "render k3s includes from facts ({modules} module versions, {bytes} bytes out), 50 runs: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        times[0].as_secs_f64() * 1e3,
        times[25].as_secs_f64() * 1e3,
        times[49].as_secs_f64() * 1e3
    );
}
