//! linux-yocto's configuration inputs per MACHINE, as facts: which config lines kernel-yocto hands
//! `merge_config.sh`, in which order, and where the layer's fragment lands among them.
//!
//! `k3s-bake kernel import --cache DIR` walks a yocto-kernel-cache checkout the way kern-tools' `spp`/`scc` do
//! (the BSP definition found by `define KMACHINE`/`define KTYPE`, `include` depth first, `kconf` lines in order,
//! `if [ "$KARCH" = … ]` blocks) for each machine's BSP and default `KERNEL_FEATURES` (OE-Core wrynose, recorded in
//! [`MACHINES`] with provenance), and writes [`FACTS`]: only derived facts (file names and config lines), no
//! kernel-cache text. `k3s-bake gen` reads the facts back, refuses a file that is not in the importer's canonical
//! form, and checks the fragment against them (nothing merged after it may change one of its lines), so
//! `gen --check` covers the facts too. The kconfig suite (`.ci/test.d/20-kconfig.sh`) writes each machine's
//! inputs out with `k3s-bake kernel inputs` and merges them with the kernel's own `merge_config.sh`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail, ensure};

/// The facts file, relative to the layer root.
pub const FACTS: &str = "recipes-kernel/linux/linux-yocto-6.18-config-inputs.tsv";

/// The queue entry standing for the layer's fragment (`features/k3s-rs/k3s.scc`).
pub const K3S_ENTRY: &str = "@k3s";

/// The queue entry marking where kernel-yocto merges `.scc`/`.cfg` files listed in SRC_URI (after the BSP
/// definition, before KERNEL_FEATURES): where the fragment used to land, and would be `=m`-capped.
pub const SRC_URI_ENTRY: &str = "@src-uri";

/// The kernel-cache feature the layer's kmeta directory provides (`recipes-kernel/linux/files/k3s-kmeta`).
pub const K3S_FEATURE: &str = "features/k3s-rs/k3s.scc";

/// OE-Core wrynose's `SRCREV_meta` for linux-yocto 6.18 (meta/recipes-kernel/linux/linux-yocto_6.18.bb at
/// ef022bf82d79015802309d14c28b13373ebe53f5).
pub const PINNED_SRCREV_META: &str = "2f71b0a288c307062fc60948ac793d8d51c685e2";

/// One MACHINE as OE-Core wrynose configures linux-yocto 6.18 for it.
#[derive(Debug, Clone, Copy)]
pub struct Machine {
    /// `MACHINE`.
    pub name: &'static str,
    /// `KMACHINE` (meta/conf/machine/qemuarm.conf sets qemuarma15; otherwise the machine name).
    pub kmachine: &'static str,
    /// The kernel's `ARCH`.
    pub arch: &'static str,
    /// `KERNEL_FEATURES` in the order BitBake appends them: conf/machine/include/qemu.inc (nfsd, :pn-linux-yocto),
    /// recipes-kernel/linux/linux-yocto.inc (qemuall printk/taskstats; MACHINE_FEATURES vfat from qemu.inc's
    /// MACHINE_FEATURES; qemuall kernel-sample), then linux-yocto_6.18.bb (KERNEL_EXTRA_FEATURES netfilter; qemuall
    /// virtio/drm-bochs/mdio; qemux86-64 sound/paravirt_kvm). Without the ptest distro feature or KERNEL_DEBUG.
    pub features: &'static [&'static str],
}

const COMMON_HEAD: [&str; 5] = [
    "features/nfsd/nfsd-enable.scc",
    "features/debug/printk.scc",
    "features/taskstats/taskstats.scc",
    "cfg/fs/vfat.scc",
    "features/kernel-sample/kernel-sample.scc",
];

/// The machines the layer supports.
pub const MACHINES: &[Machine] = &[
    Machine {
        name: "qemux86-64",
        kmachine: "qemux86-64",
        arch: "x86_64",
        features: &[
            COMMON_HEAD[0],
            COMMON_HEAD[1],
            COMMON_HEAD[2],
            COMMON_HEAD[3],
            COMMON_HEAD[4],
            "features/netfilter/netfilter.scc",
            "cfg/virtio.scc",
            "features/drm-bochs/drm-bochs.scc",
            "cfg/net/mdio.scc",
            "cfg/sound.scc",
            "cfg/paravirt_kvm.scc",
        ],
    },
    Machine {
        name: "qemuarm64",
        kmachine: "qemuarm64",
        arch: "arm64",
        features: &[
            COMMON_HEAD[0],
            COMMON_HEAD[1],
            COMMON_HEAD[2],
            COMMON_HEAD[3],
            COMMON_HEAD[4],
            "features/netfilter/netfilter.scc",
            "cfg/virtio.scc",
            "features/drm-bochs/drm-bochs.scc",
            "cfg/net/mdio.scc",
        ],
    },
    Machine {
        name: "qemuarm",
        kmachine: "qemuarma15",
        arch: "arm",
        features: &[
            COMMON_HEAD[0],
            COMMON_HEAD[1],
            COMMON_HEAD[2],
            COMMON_HEAD[3],
            COMMON_HEAD[4],
            "features/netfilter/netfilter.scc",
            "cfg/virtio.scc",
            "features/drm-bochs/drm-bochs.scc",
            "cfg/net/mdio.scc",
        ],
    },
];

/// A config line with the cfg file it comes from.
pub type Sourced = (String, String);

/// The recorded inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The kernel-cache commit the facts were imported from.
    pub cache_commit: String,
    /// Per machine: BSP definition and the ordered queue of cfg files (with [`K3S_ENTRY`] where ours lands).
    pub machines: BTreeMap<String, (String, Vec<String>)>,
    /// Each cfg file's config lines, in file order.
    pub cfgs: BTreeMap<String, Vec<String>>,
}

struct Walker<'a> {
    root: &'a Path,
    vars: BTreeMap<String, String>,
    queue: Vec<String>,
    depth: usize,
}

fn strip_quotes(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// Evaluates an scc `if` condition: `[ "$KARCH" = "arm" ] || [ "$KMACHINE" != "x" ]` (and `&&`).
fn condition(vars: &BTreeMap<String, String>, text: &str, origin: &str) -> Result<bool> {
    let text = text.trim().trim_end_matches("then").trim().trim_end_matches(';').trim();
    let mut result: Option<bool> = None;
    let mut op = "||";
    let mut rest = text;
    loop {
        let open = rest.find('[').with_context(|| format!("{origin}: expected [ … ] in {text:?}"))?;
        let close = rest[open..].find(']').with_context(|| format!("{origin}: unclosed [ in {text:?}"))? + open;
        let inner: Vec<&str> = rest[open + 1..close].split_whitespace().collect();
        let [a, cmp, b] = inner[..] else { bail!("{origin}: expected [ \"$VAR\" = \"value\" ] in {text:?}") };
        let value = |s: &str| {
            let s = strip_quotes(s);
            s.strip_prefix('$').map_or_else(|| s.to_string(), |v| vars.get(v).cloned().unwrap_or_default())
        };
        let t = match cmp {
            "=" | "==" => value(a) == value(b),
            "!=" => value(a) != value(b),
            _ => bail!("{origin}: unknown comparison {cmp:?}"),
        };
        result = Some(match (result, op) {
            (None, _) => t,
            (Some(r), "&&") => r && t,
            (Some(r), _) => r || t,
        });
        rest = rest[close + 1..].trim();
        if rest.is_empty() {
            break;
        }
        op = if rest.starts_with("&&") {
            "&&"
        } else if rest.starts_with("||") {
            "||"
        } else {
            bail!("{origin}: expected || or && in {text:?}")
        };
        rest = &rest[2..];
    }
    Ok(result.unwrap_or(false))
}

impl Walker<'_> {
    /// spp's search: in each directory, NAME(.ext), NAME, NAME/NAME(.ext), NAME/NAME, NAME/BASE(.ext); an
    /// `include` searches the include path (the cache root) before the including file's directory, a `kconf`
    /// the other way round.
    fn resolve(&self, from: &Path, name: &str, local_first: bool) -> Result<PathBuf> {
        let ext = [".scc", ".cfg", ".patch", ".config"].into_iter().find(|e| name.ends_with(e)).unwrap_or("");
        let stem = &name[..name.len() - ext.len()];
        let base = Path::new(stem).file_name().and_then(|b| b.to_str()).unwrap_or(stem);
        let local = from.parent().unwrap_or(Path::new("")).to_path_buf();
        let dirs = if local_first { [local, PathBuf::new()] } else { [PathBuf::new(), local] };
        for d in dirs {
            for c in [
                format!("{stem}{ext}"),
                stem.to_string(),
                format!("{stem}/{stem}{ext}"),
                format!("{stem}/{stem}"),
                format!("{stem}/{base}{ext}"),
            ] {
                let rel = normalize(&d.join(&c));
                if self.root.join(&rel).is_file() {
                    return Ok(rel);
                }
            }
        }
        bail!("{}: {name} not found in the kernel cache or next to it", from.display())
    }

    fn walk(&mut self, rel: &Path, with_cfg: bool) -> Result<()> {
        self.depth += 1;
        ensure!(self.depth < 64, "{}: include nesting deeper than 64 (a loop?)", rel.display());
        let path = self.root.join(rel);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        // Stack of (this branch is taken, some branch of this if was taken).
        let mut conds: Vec<(bool, bool)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let origin = format!("{}:{}", rel.display(), n + 1);
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (kw, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let active = conds.iter().all(|c| c.0);
            match kw {
                "if" => {
                    let t = active && condition(&self.vars, rest, &origin)?;
                    conds.push((t, t));
                    continue;
                }
                "elif" => {
                    let outer = conds.len() < 2 || conds[..conds.len() - 1].iter().all(|c| c.0);
                    let top = conds.last_mut().with_context(|| format!("{origin}: elif without if"))?;
                    let t = outer && !top.1 && condition(&self.vars, rest, &origin)?;
                    *top = (t, top.1 || t);
                    continue;
                }
                "else" => {
                    let outer = conds.len() < 2 || conds[..conds.len() - 1].iter().all(|c| c.0);
                    let top = conds.last_mut().with_context(|| format!("{origin}: else without if"))?;
                    *top = (outer && !top.1, true);
                    continue;
                }
                "fi" => {
                    conds.pop().with_context(|| format!("{origin}: fi without if"))?;
                    continue;
                }
                _ if !active => continue,
                _ => {}
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let words = if words.first() == Some(&"force") { &words[1..] } else { &words[..] };
            match words.first().copied() {
                Some("define") if words.len() >= 3 => {
                    self.vars.insert(words[1].to_string(), strip_quotes(&words[2..].join(" ")).to_string());
                }
                Some("include") if words.len() >= 2 => {
                    let target = self.resolve(rel, words[1], false)?;
                    let cfg = with_cfg && !words[2..].contains(&"nocfg");
                    if target.extension().is_some_and(|e| e == "cfg") {
                        // spp queues an included .cfg as if it were a kconf line.
                        if cfg {
                            self.queue.push(target.to_string_lossy().into_owned());
                        }
                    } else {
                        self.walk(&target, cfg)?;
                    }
                }
                Some("kconf" | "kconfig") if words.len() >= 3 && with_cfg => {
                    let target = self.resolve(rel, words[2], true)?;
                    self.queue.push(target.to_string_lossy().into_owned());
                }
                // patch, branch, git, mark, merge, …: source changes, not configuration.
                _ => {}
            }
        }
        ensure!(conds.is_empty(), "{}: if without fi", rel.display());
        self.depth -= 1;
        Ok(())
    }
}

/// `a/b/../c` → `a/c`, so every cfg has one name in the facts.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn scc_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(root.join(dir)).with_context(|| format!("reading {}", root.join(dir).display()))? {
        let e = e?;
        let rel = dir.join(e.file_name());
        if e.file_type()?.is_dir() {
            if e.file_name() != ".git" {
                scc_files(root, &rel, out)?;
            }
        } else if rel.extension().is_some_and(|x| x == "scc") {
            out.push(rel);
        }
    }
    Ok(())
}

/// The BSP definition for `kmachine`/`ktype`: the one `.scc` under bsp/ defining both (spp `--find`).
pub fn find_bsp(root: &Path, kmachine: &str, ktype: &str) -> Result<PathBuf> {
    let mut files = Vec::new();
    scc_files(root, Path::new("bsp"), &mut files)?;
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(root.join(&f)).with_context(|| format!("reading {}", f.display()))?;
        let defines = |var: &str, val: &str| {
            text.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() >= 3 && w[0] == "define" && w[1] == var && strip_quotes(w[2]) == val
            })
        };
        if defines("KMACHINE", kmachine) && defines("KTYPE", ktype) {
            found.push(f);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("no BSP definition under bsp/ defines KMACHINE {kmachine} and KTYPE {ktype}"),
        _ => bail!("several BSP definitions for {kmachine}/{ktype}: {found:?}"),
    }
}

/// Walks the kernel cache at `root` for every machine in [`MACHINES`].
pub fn import(root: &Path, commit: &str) -> Result<Facts> {
    let mut facts = Facts { cache_commit: commit.to_string(), ..Facts::default() };
    for m in MACHINES {
        let bsp = find_bsp(root, m.kmachine, "standard")?;
        let mut w = Walker { root, vars: BTreeMap::new(), queue: Vec::new(), depth: 0 };
        w.vars.insert("KMACHINE".into(), m.kmachine.into());
        w.vars.insert("KTYPE".into(), "standard".into());
        w.walk(&bsp, true)?;
        w.queue.push(SRC_URI_ENTRY.into());
        // The SRC_URI .scc files come here (kernel-yocto: bsp_definition, then SRC_URI sccs, then features);
        // the layer applies its fragment as a KERNEL_FEATURES entry instead, so it is merged after all of them.
        for f in m.features {
            w.walk(Path::new(f), true).with_context(|| format!("{}: KERNEL_FEATURES entry {f}", m.name))?;
        }
        w.queue.push(K3S_ENTRY.into());
        let arch = w.vars.get("KARCH").cloned().unwrap_or_default();
        ensure!(
            arch == m.arch,
            "{}: the BSP {} defines KARCH {arch:?}, OE-Core builds ARCH {}",
            m.name,
            bsp.display(),
            m.arch
        );
        for cfg in w.queue.iter().filter(|c| !c.starts_with('@')) {
            if facts.cfgs.contains_key(cfg) {
                continue;
            }
            let text = std::fs::read_to_string(root.join(cfg)).with_context(|| format!("reading {cfg}"))?;
            let mut lines = Vec::new();
            for (n, l) in text.lines().enumerate() {
                match k3s_kconfig::dotconfig::parse_line(l) {
                    Ok(Some((name, value))) => lines.push(value.line(&name)),
                    Ok(None) => {}
                    Err(e) => bail!("{cfg}:{}: {e}", n + 1),
                }
            }
            facts.cfgs.insert(cfg.clone(), lines);
        }
        facts.machines.insert(m.name.to_string(), (bsp.to_string_lossy().into_owned(), w.queue));
    }
    Ok(facts)
}

fn digest(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The facts file's first two lines.
pub fn header(commit: &str) -> String {
    format!(
        "# Imported by k3s-bake kernel import from yocto-kernel-cache {commit}: derived facts only (cfg names, config lines).\n\
         # Regenerate with: k3s-bake kernel import --cache DIR --commit {commit}   (DIR: a yocto-kernel-cache checkout)\n"
    )
}

impl Facts {
    /// The canonical text of the facts file: the header, a digest line over the records (so a hand edit that
    /// keeps the form is still refused), then the records.
    pub fn render(&self) -> String {
        let body = self.records();
        format!("{}# sha256 of the records below: {}\n{body}", header(&self.cache_commit), digest(&body))
    }

    fn records(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "pin\t{PINNED_SRCREV_META}\tOE-Core wrynose linux-yocto_6.18.bb SRCREV_meta");
        let _ = writeln!(out, "cache\t{}", self.cache_commit);
        for (m, (bsp, queue)) in &self.machines {
            let _ = writeln!(out, "machine\t{m}\t{bsp}");
            for q in queue {
                let _ = writeln!(out, "queue\t{m}\t{q}");
            }
        }
        for (cfg, lines) in &self.cfgs {
            let _ = writeln!(out, "file\t{cfg}\t{}", lines.len());
            for l in lines {
                let _ = writeln!(out, "cfg\t{cfg}\t{l}");
            }
        }
        out
    }

    /// Parses the facts file; errors name the line. Anything but the canonical form is refused.
    pub fn parse(text: &str, origin: &str) -> Result<Facts> {
        let mut facts = Facts::default();
        for (n, line) in text.lines().enumerate() {
            let at = || format!("{origin}:{}", n + 1);
            if line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            match f[..] {
                ["pin", rev, _] => {
                    ensure!(rev == PINNED_SRCREV_META, "{}: pin {rev} is not {PINNED_SRCREV_META}", at())
                }
                ["cache", c] => facts.cache_commit = c.to_string(),
                ["machine", m, bsp] => {
                    facts.machines.insert(m.to_string(), (bsp.to_string(), Vec::new()));
                }
                ["queue", m, q] => facts
                    .machines
                    .get_mut(m)
                    .with_context(|| format!("{}: queue of {m} before its machine line", at()))?
                    .1
                    .push(q.to_string()),
                ["file", cfg, n] => {
                    n.parse::<usize>().with_context(|| format!("{}: expected a line count, got {n:?}", at()))?;
                    facts.cfgs.insert(cfg.to_string(), Vec::new());
                }
                ["cfg", cfg, l] => {
                    k3s_kconfig::dotconfig::parse_line(l)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", at()))?
                        .with_context(|| format!("{}: expected a config line", at()))?;
                    facts
                        .cfgs
                        .get_mut(cfg)
                        .with_context(|| format!("{}: lines of {cfg} before its file line", at()))?
                        .push(l.to_string());
                }
                _ => bail!("{}: expected pin, cache, machine, queue, file or cfg with tab-separated fields", at()),
            }
        }
        ensure!(
            facts.render() == text,
            "{origin}: not what `k3s-bake kernel import` writes (edited by hand? the records must match the sha256 line)"
        );
        for (m, (_, queue)) in &facts.machines {
            for q in queue.iter().filter(|q| !q.starts_with('@')) {
                ensure!(facts.cfgs.contains_key(q), "{origin}: {m} queues {q}, which has no cfg lines recorded");
            }
        }
        Ok(facts)
    }

    /// Loads the committed facts of the layer at `root`.
    pub fn load(root: &Path) -> Result<Facts> {
        let path = root.join(FACTS);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let facts = Facts::parse(&text, FACTS)?;
        facts.ensure_at_pin(FACTS)?;
        Ok(facts)
    }

    /// The committed facts must come from the kernel-cache commit OE-Core pins, not a stand-in: an older cache
    /// may queue other cfg files or other lines than the kernel the user builds.
    pub fn ensure_at_pin(&self, origin: &str) -> Result<()> {
        ensure!(
            self.cache_commit == PINNED_SRCREV_META,
            "{origin}: imported from kernel-cache {}, not OE-Core wrynose's SRCREV_meta {PINNED_SRCREV_META}; \
             re-import with `k3s-bake kernel import --cache DIR --commit {PINNED_SRCREV_META}` from a checkout at it",
            self.cache_commit
        );
        Ok(())
    }

    /// The machine's queue as config lines, split where the layer's fragment lands: (before, after).
    pub fn lines_around_k3s(&self, machine: &str) -> Result<(Vec<Sourced>, Vec<Sourced>)> {
        let (_, queue) = self.machines.get(machine).with_context(|| format!("no machine {machine} in the facts"))?;
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let mut seen = false;
        for q in queue {
            if q == K3S_ENTRY {
                seen = true;
            }
            if q.starts_with('@') {
                continue;
            }
            let side = if seen { &mut after } else { &mut before };
            side.extend(self.cfgs[q].iter().map(|l| (q.clone(), l.clone())));
        }
        ensure!(seen, "{machine}: the facts do not say where the k3s fragment lands");
        Ok((before, after))
    }
}

/// Writes a machine's inputs as numbered fragment files `DIR/NNN-<name>.cfg` in merge order, for
/// `merge_config.sh` in the kconfig suite. The k3s fragment is copied in from `fragment` at `at` ([`K3S_ENTRY`],
/// where the layer applies it, or [`SRC_URI_ENTRY`], where a SRC_URI `.scc` would land).
pub fn write_inputs(facts: &Facts, machine: &str, fragment: &Path, at: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let (_, queue) = facts.machines.get(machine).with_context(|| format!("no machine {machine} in the facts"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    ensure!(queue.iter().any(|q| q == at), "{machine}: no {at} in the recorded queue");
    for (i, q) in queue.iter().enumerate() {
        if q.starts_with('@') && q != at {
            continue;
        }
        let name = if q.starts_with('@') { "k3s.cfg".to_string() } else { q.replace('/', "_") };
        let path = dir.join(format!("{i:03}-{name}"));
        let text = if q == at {
            std::fs::read_to_string(fragment).with_context(|| format!("reading {}", fragment.display()))?
        } else {
            facts.cfgs[q].iter().map(|l| format!("{l}\n")).collect()
        };
        k3s_atomic::write(&path, text.as_bytes(), 0o644).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        for (m, k, a) in [
            ("qemux86-64", "qemux86-64", "x86_64"),
            ("qemuarm64", "qemuarm64", "arm64"),
            ("qemuarm", "qemuarma15", "arm"),
        ] {
            w(
                &format!("bsp/{m}/{m}-standard.scc"),
                &format!(
                    "define KMACHINE {k}\ndefine KTYPE standard\ndefine KARCH {a}\ninclude ktypes/standard/standard.scc\nkconf hardware {m}.cfg\n"
                ),
            );
            w(&format!("bsp/{m}/{m}.cfg"), &format!("CONFIG_BOARD_{}=y\n", a.to_uppercase()));
            w(&format!("bsp/{m}/{m}-tiny.scc"), &format!("define KMACHINE {k}\ndefine KTYPE tiny\n"));
        }
        w(
            "ktypes/standard/standard.scc",
            "include ../base/base.scc\nif [ \"$KARCH\" = \"arm\" ] || [ \"$KARCH\" = \"arm64\" ]; then\n  kconf non-hardware arm.cfg\nelif [ \"$KARCH\" = \"x86_64\" ]; then\n  kconf non-hardware x86.cfg\nelse\n  kconf non-hardware other.cfg\nfi\npatch foo.patch\n",
        );
        w("ktypes/base/base.scc", "force kconf non-hardware base.cfg\n");
        w("ktypes/base/base.cfg", "# comment\nCONFIG_NETFILTER=y\n# CONFIG_X is not set\n");
        w("ktypes/standard/arm.cfg", "CONFIG_ARMY=y\n");
        w("ktypes/standard/x86.cfg", "CONFIG_X86Y=y\n");
        for f in MACHINES.iter().flat_map(|m| m.features.iter()) {
            let cfg = f.replace(".scc", ".cfg");
            w(
                f,
                &format!(
                    "kconf non-hardware {}\ninclude ../nocfg.scc nocfg\n",
                    Path::new(&cfg).file_name().unwrap().to_str().unwrap()
                ),
            );
            w(&cfg, "CONFIG_NF_CONNTRACK=m\n");
            w(&format!("{}/../nocfg.scc", Path::new(f).parent().unwrap().display()), "kconf non-hardware never.cfg\n");
        }
        d
    }

    #[test]
    fn import_walks_like_scc_and_round_trips() {
        let d = cache();
        let facts = import(d.path(), "abc").unwrap();
        let (bsp, q) = &facts.machines["qemuarm"];
        assert_eq!(bsp, "bsp/qemuarm/qemuarm-standard.scc");
        assert_eq!(
            &q[..5],
            [
                "ktypes/base/base.cfg",
                "ktypes/standard/arm.cfg",
                "bsp/qemuarm/qemuarm.cfg",
                SRC_URI_ENTRY,
                "features/nfsd/nfsd-enable.cfg"
            ]
        );
        assert_eq!(q.last().unwrap(), K3S_ENTRY, "the fragment is merged after every KERNEL_FEATURES entry");
        assert_eq!(facts.machines["qemux86-64"].1[1], "ktypes/standard/x86.cfg");
        assert!(!facts.cfgs.keys().any(|k| k.ends_with("never.cfg")), "nocfg includes contribute no cfg");
        assert_eq!(facts.cfgs["ktypes/base/base.cfg"], ["CONFIG_NETFILTER=y", "# CONFIG_X is not set"]);
        let text = facts.render();
        assert_eq!(Facts::parse(&text, "f").unwrap(), facts);
        let edited = text.replace("CONFIG_NETFILTER=y", "CONFIG_NETFILTER=m\n");
        assert!(Facts::parse(&edited, "f").is_err());
        let bad =
            text.replacen("cfg\tktypes/base/base.cfg\tCONFIG_NETFILTER=y", "cfg\tktypes/base/base.cfg\tNETFILTER=y", 1);
        let e = Facts::parse(&bad, "f").unwrap_err().to_string();
        assert!(e.starts_with("f:") && e.contains("expected CONFIG_NAME=value"), "{e}");
    }

    #[test]
    fn committed_facts_are_at_the_pinned_srcrev_meta() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Facts::load(&root).unwrap();
        let stand_in = Facts { cache_commit: "127f83ad4e21b6663d72fceba80bfb945c21e4f0".into(), ..Facts::default() };
        let e = stand_in.ensure_at_pin("f").unwrap_err().to_string();
        assert!(e.starts_with("f: imported from kernel-cache 127f83ad") && e.contains(PINNED_SRCREV_META), "{e}");
    }

    #[test]
    fn conditions() {
        let vars: BTreeMap<String, String> = [("KARCH".to_string(), "arm".to_string())].into();
        assert!(condition(&vars, "[ \"$KARCH\" = \"arm\" ]; then", "t").unwrap());
        assert!(!condition(&vars, "[ \"$KARCH\" != \"arm\" ] || [ \"$KMACHINE\" = \"x\" ]; then", "t").unwrap());
        assert!(condition(&vars, "[ \"$KARCH\" = \"arm\" ] && [ \"$KMACHINE\" = \"\" ]; then", "t").unwrap());
        assert!(condition(&vars, "\"$KARCH\" = arm", "t").is_err());
    }
}
