//! Facts + module set → `<bpn>-go-mods.inc` and `<bpn>-licenses.inc`.
//!
//! Which fetcher per module version:
//! - `gomod://…;sha256sum=` when the zip's SHA-256 is known (the go command needs the zip to build);
//! - `gomod://…;mod=1;sha256sum=` for go.mod-only members of the module graph (go.sum lists only `/go.mod`);
//! - `gomodgit://…;repo=…;srcrev=…[;subdir=…]` when only a git commit is known. The fetcher synthesises both the
//!   `.zip` and the `.mod` from the commit, so it also serves go.mod-only members.
//!
//! The module set is either a go.sum (the real build graph: zips vs go.mod-only) or, when no go.sum of the exact
//! source is at hand, every module version in the facts file (each needs its zip or commit).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bb_value::{Op, Val};
use gomod::{GoSum, ModuleVersion};

use crate::license::{Decisions, UNKNOWN, oe_terms};
use crate::{Facts, ModFacts, cache_dir_name};

/// Which module versions a recipe needs, and in what form.
#[derive(Debug, Clone, Copy)]
pub enum ModuleSet<'a> {
    /// Every module version the facts hold a source for (zip, go.mod or git).
    AllFacts,
    /// The graph recorded in a go.sum: `h1:` lines need the zip, `/go.mod`-only versions need the go.mod.
    GoSum(&'a GoSum),
}

/// What the recipe needs of one module version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The module zip (source is compiled).
    Zip,
    /// Only its go.mod (graph member for version selection).
    GoMod,
}

/// Why rendering failed. Every variant lists all offending entries, not just the first.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Facts missing for module versions the set needs.
    #[error("missing facts for {} module version(s) (run `k3s-bake go resolve`):\n  {}", .0.len(), .0.join("\n  "))]
    Missing(Vec<String>),
    /// License files no fact, md5 match or decision identifies.
    #[error(
        "{} license file(s) are not identified (no SPDX id in the facts, no other file with the same md5, no entry in the decisions file):\n  {}",
        .0.len(), .0.join("\n  ")
    )]
    Unidentified(Vec<String>),
    /// gomodgit sources in a subdirectory whose go.mod nobody read: BitBake writes a bare go.mod for a subdir
    /// without one and the zip holds the wrong tree (etcd's `client` vs `client/v3`).
    #[error(
        "{} gomodgit subdir(s) not verified (record the module line of <subdir>/go.mod: `k3s-bake go verify-git` or `go resolve`):\n  {}",
        .0.len(), .0.join("\n  ")
    )]
    UnverifiedSubdir(Vec<String>),
    /// A fact that cannot be written into a recipe.
    #[error("{0}")]
    Invalid(String),
}

/// Both include files' bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `<bpn>-go-mods.inc` body.
    pub go_mods: String,
    /// `<bpn>-licenses.inc` body.
    pub licenses: String,
}

/// The module versions a set needs.
pub fn needs(facts: &Facts, set: ModuleSet<'_>) -> BTreeMap<ModuleVersion, Need> {
    match set {
        // A module version with only license facts is needed too: its missing source is reported, not dropped.
        ModuleSet::AllFacts => facts
            .modules
            .iter()
            .map(|(m, f)| {
                let mod_only = f.zip_sha256.is_none() && f.git.is_none() && f.mod_sha256.is_some();
                (m.clone(), if mod_only { Need::GoMod } else { Need::Zip })
            })
            .collect(),
        ModuleSet::GoSum(sum) => {
            sum.entries().into_iter().map(|(m, e)| (m, if e.zip.is_some() { Need::Zip } else { Need::GoMod })).collect()
        }
    }
}

/// `urllib.parse.quote_plus`, as OE's go-mod-update-modules writes `spdx=`.
fn quote_plus(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `https://github.com/x/y` → (`github.com/x/y`, None); other schemes become `protocol=`.
fn gomodgit_repo(url: &str) -> Result<(String, Option<String>), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("git repository {url:?} is not a URL"))?;
    if rest.is_empty() || rest.contains(';') || rest.contains(char::is_whitespace) {
        return Err(format!("git repository {url:?} cannot be written into SRC_URI"));
    }
    let rest = rest.trim_end_matches('/');
    match scheme {
        "https" => Ok((rest.to_owned(), None)),
        "http" | "git" | "ssh" | "file" => Ok((rest.to_owned(), Some(scheme.to_owned()))),
        _ => Err(format!("git repository {url:?}: unsupported scheme {scheme:?}")),
    }
}

fn check_param(what: &str, m: &ModuleVersion, v: &str) -> Result<(), String> {
    if v.contains([';', '"', '\\', '$']) || v.contains(char::is_whitespace) {
        return Err(format!("{m}: {what} {v:?} cannot be written into SRC_URI"));
    }
    Ok(())
}

fn src_uri(m: &ModuleVersion, need: Need, f: &ModFacts) -> Result<Option<String>, String> {
    check_param("module path", m, &m.path)?;
    check_param("version", m, &m.version)?;
    let (p, v) = (&m.path, &m.version);
    Ok(match (need, f) {
        (Need::Zip, ModFacts { zip_sha256: Some(s), .. }) => Some(format!("gomod://{p};version={v};sha256sum={s}")),
        (Need::GoMod, ModFacts { mod_sha256: Some(s), .. }) => {
            Some(format!("gomod://{p};version={v};mod=1;sha256sum={s}"))
        }
        (_, ModFacts { git: Some(g), .. }) => {
            let (repo, proto) = gomodgit_repo(&g.repo)?;
            let mut u = format!("gomodgit://{p};version={v};repo={repo};srcrev={}", g.commit);
            if let Some(proto) = proto {
                let _ = write!(u, ";protocol={proto}");
            }
            if !g.subdir.is_empty() {
                check_param("subdir", m, &g.subdir)?;
                let _ = write!(u, ";subdir={}", g.subdir);
            }
            Some(u)
        }
        // A go.mod-only member whose zip hash is known: the zip carries the go.mod too.
        (Need::GoMod, ModFacts { zip_sha256: Some(s), .. }) => Some(format!("gomod://{p};version={v};sha256sum={s}")),
        _ => None,
    })
}

/// A subdir the go command could look for in only one place: the module path is the repository's path plus the
/// subdir, with no `/vN` suffix (with one, `<dir>/vN` and `<dir>` are both possible: etcd's `client/v3` lives in
/// `client/v3`, its `api/v3` in `api`). Such a subdir needs no recorded go.mod to be unambiguous.
fn subdir_follows_from_path(m: &ModuleVersion, g: &crate::GitFact) -> bool {
    let Ok((repo, _)) = gomodgit_repo(&g.repo) else { return false };
    let major = gomod::major_suffix(&m.path).is_some_and(|s| s.starts_with('/'));
    !major && m.path == format!("{}/{}", repo.trim_end_matches(".git"), g.subdir)
}

/// This layer's class that extracts every listed licence file from the fetched module zips after do_unpack.
pub const LICENSE_CLASS: &str = "go_mod_licenses";
/// Where [`LICENSE_CLASS`] puts the licence files, relative to `${S}` (next to GOMODCACHE = `${S}/pkg/mod`).
pub const LICENSE_DIR: &str = "pkg/mod-licenses";

/// Renders both includes. `decisions` identifies license texts by md5 where the facts say `Unknown`.
/// `rezip_class`, when given, is inherited by the SRC_URI include if it holds `gomodgit://` entries: a class that
/// rebuilds the zips BitBake's gomodgit fetcher synthesises (see this layer's `classes/gomodgit_rezip.bbclass`).
/// With a class given (this layer's classes are available), the licence include also inherits [`LICENSE_CLASS`]
/// and points LIC_FILES_CHKSUM into [`LICENSE_DIR`], so every listed file exists before do_populate_lic whatever
/// the build loads; without, it points into `pkg/mod`, where the go command extracts only what a build loads.
pub fn render(
    facts: &Facts,
    decisions: &Decisions,
    set: ModuleSet<'_>,
    rezip_class: Option<&str>,
) -> Result<Rendered, RenderError> {
    let needs = needs(facts, set);
    let empty = ModFacts::default();
    let mut uris = Vec::with_capacity(needs.len());
    let mut missing = Vec::new();
    let (mut n_zip, mut n_mod, mut n_git) = (0, 0, 0);
    let mut unverified = Vec::new();
    for (m, need) in &needs {
        let f = facts.modules.get(m).unwrap_or(&empty);
        if let Some(g) = f.git.as_ref().filter(|_| f.zip_sha256.is_none() && f.mod_sha256.is_none()) {
            if !g.subdir.is_empty() && g.module.is_empty() && !subdir_follows_from_path(m, g) {
                unverified.push(format!("{m}: subdir {:?} of {} (no go.mod module line recorded)", g.subdir, g.repo));
            } else if !g.module.is_empty() && gomod::major_suffix(&g.module) != gomod::major_suffix(&m.path) {
                unverified.push(format!(
                    "{m}: {}/go.mod declares {:?} (read at {}), another major version",
                    if g.subdir.is_empty() { "." } else { &g.subdir },
                    g.module,
                    g.checked_at
                ));
            }
        }
        match src_uri(m, *need, f).map_err(RenderError::Invalid)? {
            Some(u) => {
                if u.starts_with("gomodgit://") {
                    n_git += 1;
                } else if u.contains(";mod=1;") {
                    n_mod += 1;
                } else {
                    n_zip += 1;
                }
                uris.push(u);
            }
            None => missing.push(format!(
                "{m}: needs {}",
                if *need == Need::Zip {
                    "a zip sha256 or a git commit"
                } else {
                    "a go.mod sha256, zip sha256 or git commit"
                }
            )),
        }
    }
    if !missing.is_empty() {
        return Err(RenderError::Missing(missing));
    }
    if !unverified.is_empty() {
        return Err(RenderError::UnverifiedSubdir(unverified));
    }

    // md5 → SPDX from every identified license fact, to identify `Unknown` copies of the same text.
    let mut by_md5: BTreeMap<&str, &str> = BTreeMap::new();
    for l in facts.modules.values().flat_map(|f| f.licenses.values()) {
        if l.spdx != UNKNOWN {
            by_md5.entry(&l.md5).or_insert(&l.spdx);
        }
    }
    // Terms by their order-independent key (`MIT | Apache-2.0` and `Apache-2.0 | MIT` are one term).
    let mut lic_terms: BTreeMap<String, String> = BTreeMap::new();
    // Names OE-Core ships no text for → the first licence file that declares them (license.bbclass copies it).
    let mut no_generic: BTreeMap<String, String> = BTreeMap::new();
    let mut lic_files = Vec::new();
    let mut unidentified = Vec::new();
    for m in needs.keys() {
        let Some(f) = facts.modules.get(m) else { continue };
        if f.licenses.is_empty() {
            continue;
        }
        let dir = cache_dir_name(m).map_err(|e| RenderError::Invalid(format!("{m}: {e}")))?;
        for (file, l) in &f.licenses {
            check_param("license file", m, file).map_err(RenderError::Invalid)?;
            let spdx = if l.spdx != UNKNOWN {
                Some(l.spdx.as_str())
            } else {
                by_md5.get(l.md5.as_str()).copied().or_else(|| decisions.by_md5.get(&l.md5).map(|d| d.spdx.as_str()))
            };
            let Some(spdx) = spdx else {
                unidentified.push(format!("{dir}/{file} md5={}", l.md5));
                continue;
            };
            let (terms, unknown) = oe_terms(spdx).map_err(|e| RenderError::Invalid(format!("{m} {file}: {e}")))?;
            let base = if rezip_class.is_some() { LICENSE_DIR } else { "pkg/mod" };
            for t in terms {
                lic_terms.entry(t.key).or_insert(t.text);
            }
            for n in unknown {
                no_generic.entry(n).or_insert_with(|| format!("{base}/{dir}/{file}"));
            }
            lic_files.push(format!("file://{base}/{dir}/{file};md5={};spdx={}", l.md5, quote_plus(spdx)));
        }
    }
    if !unidentified.is_empty() {
        return Err(RenderError::Unidentified(unidentified));
    }

    let mut go_mods = String::new();
    let _ = writeln!(
        go_mods,
        "# {} Go module versions: {n_zip} module zips and {n_mod} go.mod files from the module proxy (GO_MOD_PROXY),\n\
         # {n_git} from git. For OE-Core's go-mod class (GOMODCACHE = ${{S}}/pkg/mod); BitBake's gomod:// and\n\
         # gomodgit:// fetchers verify every file.\n",
        uris.len()
    );
    // Every value goes through the one BitBake writer: facts are data, never BitBake syntax.
    let bb = |e: bb_value::Error| RenderError::Invalid(e.to_string());
    let items: Vec<Val<'_>> = uris.iter().map(|u| Val::Lit(u)).collect();
    bb_value::list(&mut go_mods, "SRC_URI", Op::Append, &items).map_err(bb)?;
    if n_git > 0 {
        // BitBake refuses a recipe with several SCM entries (each gomodgit:// is one) unless SRCREV_FORMAT is set;
        // the recipe names its own source there (e.g. "k3s"), weakly defaulted here.
        go_mods.push('\n');
        bb_value::comment(
            &mut go_mods,
            "gomodgit:// entries are SCMs: BitBake needs SRCREV_FORMAT; the recipe may name its own source instead.",
        )
        .map_err(bb)?;
        bb_value::assign(&mut go_mods, "SRCREV_FORMAT", Op::Default, Val::Lit("default")).map_err(bb)?;
    }
    if let Some(class) = rezip_class.filter(|_| n_git > 0) {
        go_mods.push('\n');
        bb_value::comment(
            &mut go_mods,
            &format!(
                "gomodgit:// zips keep a subdirectory module's prefix and include nested modules; {class} rebuilds them\n\
                 after do_unpack as the go command would, so go.sum hashes match."
            ),
        )
        .map_err(bb)?;
        bb_value::inherit(&mut go_mods, class).map_err(bb)?;
    }

    let mut licenses = String::new();
    let _ = writeln!(
        licenses,
        "# Licenses of the Go modules above: {} files. The recipe sets LICENSE for its own source before requiring this.\n",
        lic_files.len()
    );
    if !lic_terms.is_empty() {
        let joined = lic_terms.into_values().collect::<Vec<_>>().join(" & ");
        bb_value::assign(&mut licenses, "LICENSE", Op::Append, Val::Lit(&format!("& {joined}"))).map_err(bb)?;
        licenses.push('\n');
    }
    let items: Vec<Val<'_>> = lic_files.iter().map(|l| Val::Lit(l)).collect();
    bb_value::list(&mut licenses, "LIC_FILES_CHKSUM", Op::Append, &items).map_err(bb)?;
    if !no_generic.is_empty() {
        // OE-Core ships no text of these names: license.bbclass copies the module's own file (one listed above).
        licenses.push('\n');
        for (name, path) in &no_generic {
            bb_value::assign_flag(&mut licenses, "NO_GENERIC_LICENSE", name, Op::Set, Val::Lit(path)).map_err(bb)?;
        }
    }
    if rezip_class.is_some() && !lic_files.is_empty() {
        licenses.push('\n');
        bb_value::comment(
            &mut licenses,
            &format!(
                "The go command extracts only the modules a build loads into pkg/mod: {LICENSE_CLASS} extracts every file\n\
                 above from the fetched module zips into {LICENSE_DIR}/ after do_unpack, whatever the build tags."
            ),
        )
        .map_err(bb)?;
        bb_value::inherit(&mut licenses, LICENSE_CLASS).map_err(bb)?;
    }
    Ok(Rendered { go_mods, licenses })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GitFact, LicenseFact};

    const SHA: &str = "c895c6fe62f9a4ab59c3e780be29059e3ed71a80e12e36ac61708fd906bc0039";
    const H: &str = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn mv(p: &str, v: &str) -> ModuleVersion {
        ModuleVersion { path: p.into(), version: v.into() }
    }

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.set_zip(&mv("example.com/Zip", "v1.0.0"), SHA, "t").unwrap();
        f.set_mod(&mv("example.com/old", "v0.1.0"), SHA, "t").unwrap();
        f.set_git(
            &mv("example.com/etcd/api/v3", "v3.6.12"),
            GitFact {
                repo: "https://github.com/etcd-io/etcd".into(),
                commit: "a".repeat(40),
                reference: "refs/tags/api/v3.6.12".into(),
                subdir: "api".into(),
                module: "go.etcd.io/etcd/api/v3".into(),
                checked_at: format!("https://github.com/etcd-io/etcd@{}", "a".repeat(40)),
            },
            "t",
        )
        .unwrap();
        let l = |md5: char, spdx: &str| LicenseFact { md5: md5.to_string().repeat(32), spdx: spdx.into() };
        f.set_license(&mv("example.com/Zip", "v1.0.0"), "LICENSE", l('1', "MIT OR Apache-2.0"), "t").unwrap();
        f.set_license(&mv("example.com/etcd/api/v3", "v3.6.12"), "LICENSE", l('2', "Unknown"), "t").unwrap();
        f
    }

    #[test]
    fn renders_every_fetcher_kind_and_licenses() {
        let d = Decisions::parse("d", &format!("{}\tApache-2.0\tread it\n", "2".repeat(32))).unwrap();
        let r = render(&facts(), &d, ModuleSet::AllFacts, Some("gomodgit_rezip")).unwrap();
        assert!(r.go_mods.ends_with("inherit gomodgit_rezip\n"), "{}", r.go_mods);
        assert!(r.go_mods.contains("\nSRCREV_FORMAT ?= \"default\"\n"), "{}", r.go_mods);
        assert!(r.go_mods.contains(&format!("    gomod://example.com/Zip;version=v1.0.0;sha256sum={SHA} \\\n")));
        assert!(r.go_mods.contains(&format!("    gomod://example.com/old;version=v0.1.0;mod=1;sha256sum={SHA} \\\n")));
        assert!(r.go_mods.contains(&format!(
            "    gomodgit://example.com/etcd/api/v3;version=v3.6.12;repo=github.com/etcd-io/etcd;srcrev={};subdir=api \\\n",
            "a".repeat(40)
        )));
        assert!(r.licenses.contains("LICENSE += \"& (MIT | Apache-2.0) & Apache-2.0\"\n"), "{}", r.licenses);
        assert!(r.licenses.contains("inherit go_mod_licenses"), "{}", r.licenses);
        assert!(r.licenses.contains("file://pkg/mod-licenses/example.com/!zip@v1.0.0/LICENSE;md5=11111111111111111111111111111111;spdx=MIT+OR+Apache-2.0 \\"));
        assert_eq!(render(&facts(), &d, ModuleSet::AllFacts, Some("gomodgit_rezip")).unwrap(), r, "deterministic");
    }

    #[test]
    fn license_facts_without_a_source_are_missing_not_dropped() {
        let mut f = facts();
        let m = mv("example.com/orphan", "v1.0.0");
        f.set_license(&m, "LICENSE", LicenseFact { md5: "3".repeat(32), spdx: "MIT".into() }, "t").unwrap();
        let d = Decisions::parse("d", &format!("{}\tApache-2.0\tread it\n", "2".repeat(32))).unwrap();
        let e = render(&f, &d, ModuleSet::AllFacts, None).unwrap_err().to_string();
        assert!(e.contains("example.com/orphan@v1.0.0: needs a zip sha256 or a git commit"), "{e}");
    }

    #[test]
    fn unknown_licenses_are_loud() {
        let e = render(&facts(), &Decisions::default(), ModuleSet::AllFacts, None).unwrap_err().to_string();
        assert!(
            e.contains("1 license file(s) are not identified")
                && e.contains("example.com/etcd/api/v3@v3.6.12/LICENSE md5=2222"),
            "{e}"
        );
    }

    #[test]
    fn go_sum_graph_and_missing_facts() {
        let sum = GoSum::parse(
            "go.sum",
            &format!(
                "example.com/Zip v1.0.0 {H}\nexample.com/Zip v1.0.0/go.mod {H}\nexample.com/old v0.1.0/go.mod {H}\n\
                 example.com/new v1.0.0 {H}\nexample.com/new2 v1.0.0/go.mod {H}\n"
            ),
        )
        .unwrap();
        let d = Decisions::parse("d", &format!("{}\tApache-2.0\tread it\n", "2".repeat(32))).unwrap();
        let e = render(&facts(), &d, ModuleSet::GoSum(&sum), None).unwrap_err().to_string();
        assert!(e.contains("missing facts for 2 module version(s)"), "{e}");
        assert!(e.contains("example.com/new@v1.0.0: needs a zip sha256 or a git commit"), "{e}");
        assert!(e.contains("example.com/new2@v1.0.0: needs a go.mod sha256"), "{e}");
        let mut f = facts();
        f.set_zip(&mv("example.com/new", "v1.0.0"), SHA, "t").unwrap();
        f.set_zip(&mv("example.com/new2", "v1.0.0"), SHA, "t").unwrap();
        let r = render(&f, &d, ModuleSet::GoSum(&sum), Some("gomodgit_rezip")).unwrap();
        assert!(!r.go_mods.contains("etcd"), "not in the graph");
        assert!(!r.go_mods.contains("inherit") && !r.go_mods.contains("SRCREV_FORMAT"), "no gomodgit entries");
        assert!(r.go_mods.contains("gomod://example.com/old;version=v0.1.0;mod=1;"));
    }

    #[test]
    fn names_without_generic_text_get_no_generic_license() {
        let mut f = facts();
        let m = mv("example.com/Zip", "v1.0.0");
        let l = LicenseFact { md5: "4".repeat(32), spdx: "GPL-2.0-or-later WITH Linux-syscall-note".into() };
        f.set_license(&m, "COPYING", l, "t").unwrap();
        let d = Decisions::parse("d", &format!("{}\tApache-2.0\tread it\n", "2".repeat(32))).unwrap();
        let r = render(&f, &d, ModuleSet::AllFacts, Some("gomodgit_rezip")).unwrap();
        assert!(r.licenses.contains("& GPL-2.0-or-later & Linux-syscall-note"), "{}", r.licenses);
        assert!(
            r.licenses.contains(
                "\nNO_GENERIC_LICENSE[Linux-syscall-note] = \"pkg/mod-licenses/example.com/!zip@v1.0.0/COPYING\"\n"
            ),
            "{}",
            r.licenses
        );
    }

    /// A facts file is data: a repository URL with a `"` would end SRC_URI's value (and `${@` run Python); the one
    /// BitBake writer refuses it.
    #[test]
    fn hostile_facts_never_reach_a_bitbake_value() {
        for hostile in
            ["https://github.com/a/b\"c", "https://github.com/a/${@os.system('x')}", "https://github.com/a/b\\c"]
        {
            let mut f = Facts::default();
            let g = GitFact::new(hostile, &"c".repeat(40), "", "");
            f.set_git(&mv("github.com/a/b", "v1.0.0"), g, "t").unwrap();
            let e = render(&f, &Decisions::default(), ModuleSet::AllFacts, None).unwrap_err().to_string();
            assert!(e.contains("item of SRC_URI"), "{hostile}: {e}");
        }
    }

    #[test]
    fn repo_urls() {
        assert_eq!(gomodgit_repo("https://github.com/a/b").unwrap(), ("github.com/a/b".into(), None));
        assert_eq!(gomodgit_repo("file:///srv/git/b.git").unwrap(), ("/srv/git/b.git".into(), Some("file".into())));
        assert!(gomodgit_repo("github.com/a/b").is_err());
        assert!(gomodgit_repo("https://x;y").is_err());
    }

    #[test]
    fn unverified_or_wrong_subdirs_are_refused() {
        let c = "b".repeat(40);
        let mut f = Facts::default();
        // etcd's client/v3: `client` has no go.mod (the old fact), and a major-suffixed path is ambiguous.
        let mut g = GitFact::new("https://github.com/k3s-io/etcd", &c, "", "client");
        f.set_git(&mv("github.com/k3s-io/etcd/client/v3", "v3.6.12-k3s1"), g.clone(), "t").unwrap();
        // A module line with another major version than the module.
        g.subdir = "server".into();
        g.module = "go.etcd.io/etcd/server/v2".into();
        g.checked_at = format!("https://github.com/k3s-io/etcd@{c}");
        f.set_git(&mv("github.com/k3s-io/etcd/server/v3", "v3.6.12-k3s1"), g, "t").unwrap();
        // Follows from the path (no /vN): accepted without a go.mod read.
        let k = GitFact::new("https://github.com/k3s-io/kubernetes", &c, "", "staging/src/k8s.io/api");
        f.set_git(&mv("github.com/k3s-io/kubernetes/staging/src/k8s.io/api", "v1.36.2-k3s1"), k, "t").unwrap();
        let e = render(&f, &Decisions::default(), ModuleSet::AllFacts, None).unwrap_err().to_string();
        assert!(e.starts_with("2 gomodgit subdir(s) not verified"), "{e}");
        assert!(e.contains("client/v3@v3.6.12-k3s1: subdir \"client\""), "{e}");
        assert!(e.contains("declares \"go.etcd.io/etcd/server/v2\""), "{e}");
        assert!(!e.contains("k8s.io/api"), "{e}");
        // Verified at the commit, with the right subdir: renders.
        let mut ok = Facts::default();
        let mut g = GitFact::new("https://github.com/k3s-io/etcd", &c, "", "client/v3");
        g.module = "go.etcd.io/etcd/client/v3".into();
        g.checked_at = format!("https://github.com/k3s-io/etcd@{c}");
        assert!(g.verified_at_commit());
        ok.set_git(&mv("github.com/k3s-io/etcd/client/v3", "v3.6.12-k3s1"), g, "t").unwrap();
        let r = render(&ok, &Decisions::default(), ModuleSet::AllFacts, None).unwrap();
        assert!(r.go_mods.contains(";subdir=client/v3 \\"), "{}", r.go_mods);
    }
}
