//! Facts out of existing files: BitBake includes/recipes (ours or another layer's) and TSV fact tables.
//!
//! BitBake input understood (after joining `\` continuations):
//! - `gomod://PATH;version=V[;mod=1][;sha256sum=S]`, the checksum also as `SRC_URI[PATH@V.sha256sum] = "S"`;
//! - `gomodgit://PATH;version=V[;repo=R][;protocol=P][;srcrev=C][;subdir=D]`, the commit also as `SRCREV_PATH@V`;
//! - `git://HOST/REPO;…;rev=C` (or `name=N` + `SRCREV_N`) when the module is named: `module=` and `version=`
//!   parameters, or a comment line right above it `# MODULE@VERSION` (or `# MODULE VERSION`); `subdir=`/`subpath=`
//!   give the module's directory and `tag=` the ref;
//! - `LIC_FILES_CHKSUM` entries `file://pkg/mod/MODULE@VERSION/FILE;md5=M[;spdx=S]` (module cache spelling; also
//!   `file://pkg/mod-licenses/…`, where this layer's go_mod_licenses class extracts them).
//!
//! Anything else in the file is ignored; a gomod/gomodgit/git entry that lacks what it needs is an error naming
//! the line.

use std::collections::BTreeMap;

use gomod::{ModuleVersion, is_valid_version, unescape};

use crate::license::UNKNOWN;
use crate::store::is_hex;
use crate::{Facts, FactsError, GitFact, LicenseFact};

fn perr(file: &str, line: usize, message: String) -> FactsError {
    FactsError::Parse { file: file.to_owned(), line, message }
}

/// Splits `MODULE@VERSION/FILE` (module cache spelling, escaped) into its parts.
pub fn split_cache_path(p: &str) -> Result<(ModuleVersion, String), String> {
    let (m, rest) = p.split_once('@').ok_or_else(|| format!("{p:?}: expected MODULE@VERSION/FILE"))?;
    let (v, file) = rest.split_once('/').ok_or_else(|| format!("{p:?}: expected MODULE@VERSION/FILE"))?;
    let path = unescape(m).map_err(|e| e.to_string())?;
    let version = unescape(v).map_err(|e| e.to_string())?;
    if !is_valid_version(&version) || file.is_empty() {
        return Err(format!("{p:?}: expected MODULE@VERSION/FILE with a valid version"));
    }
    Ok((ModuleVersion { path, version }, file.to_owned()))
}

/// Imports one TSV table of the kinds in shared/fixtures (recognised by its header line):
/// `module version zip_sha256`, `module version repo commit ref subdir`, `path_in_module_cache md5 spdx`.
pub fn fixture_tsv(file: &str, text: &str) -> Result<Facts, FactsError> {
    let mut facts = Facts::default();
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else { return Ok(facts) };
    let header: Vec<&str> = header.split('\t').collect();
    enum Kind {
        Zip,
        Git,
        License,
    }
    let kind = match header[..] {
        ["module", "version", "zip_sha256"] => Kind::Zip,
        ["module", "version", "repo", "commit", "ref", "subdir"] => Kind::Git,
        ["path_in_module_cache", "md5", "spdx"] => Kind::License,
        _ => {
            return Err(perr(
                file,
                1,
                format!(
                    "unrecognised header {header:?} (expected `module version zip_sha256`, `module version repo commit ref subdir` or `path_in_module_cache md5 spdx`)"
                ),
            ));
        }
    };
    for (idx, raw) in lines {
        let line = idx + 1;
        if raw.is_empty() {
            continue;
        }
        let src = format!("{file}:{line}");
        let f: Vec<&str> = raw.split('\t').collect();
        let module = |p: &str, v: &str| -> Result<ModuleVersion, FactsError> {
            if p.is_empty() || p.contains(char::is_whitespace) || !is_valid_version(v) {
                return Err(perr(file, line, format!("malformed module {p:?} or version {v:?}")));
            }
            Ok(ModuleVersion { path: p.into(), version: v.into() })
        };
        let r = match (&kind, &f[..]) {
            (Kind::Zip, [p, v, sha]) if is_hex(sha, 64) => facts.set_zip(&module(p, v)?, sha, &src),
            (Kind::Git, [p, v, repo, commit, reference, subdir]) if is_hex(commit, 40) && repo.contains("://") => {
                let g = GitFact {
                    repo: (*repo).into(),
                    commit: (*commit).into(),
                    reference: (*reference).into(),
                    subdir: (*subdir).into(),
                    module: String::new(),
                    checked_at: String::new(),
                };
                facts.set_git(&module(p, v)?, g, &src)
            }
            (Kind::License, [p, md5, spdx]) if is_hex(md5, 32) && !spdx.is_empty() => {
                let (m, lic) = split_cache_path(p).map_err(|e| perr(file, line, e))?;
                facts.set_license(&m, &lic, LicenseFact { md5: (*md5).into(), spdx: (*spdx).into() }, &src)
            }
            _ => Err(perr(
                file,
                line,
                format!("expected {} TAB-separated fields as the header names, well-formed", header.len()),
            )),
        };
        r.map_err(|e| match e {
            FactsError::Conflict { .. } => perr(file, line, e.to_string()),
            other => other,
        })?;
    }
    Ok(facts)
}

/// `+` and `%XX` decoding (the reverse of Python's `quote_plus`).
fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Logical {
    line: usize,
    text: String,
    comment_above: Option<String>,
}

/// Joins continuation lines; remembers the comment line right above each statement.
fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut cur: Option<Logical> = None;
    let mut last_comment: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_end();
        let (body, cont) = match trimmed.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        match &mut cur {
            Some(l) => {
                l.text.push(' ');
                l.text.push_str(body);
            }
            None => {
                if body.trim_start().starts_with('#') && !cont {
                    last_comment = Some(body.trim_start().trim_start_matches('#').trim().to_owned());
                    continue;
                }
                cur = Some(Logical { line: idx + 1, text: body.to_owned(), comment_above: last_comment.take() });
            }
        }
        if !cont && let Some(l) = cur.take() {
            out.push(l);
        }
    }
    out.extend(cur);
    out
}

/// `VAR[flag] op "value"` → (VAR, flag, value).
fn assignment(text: &str) -> Option<(&str, Option<&str>, &str)> {
    let t = text.trim_start();
    let open = t.find('"')?;
    let close = t.rfind('"')?;
    if close <= open {
        return None;
    }
    let lhs = t[..open].trim_end();
    let lhs = lhs.trim_end_matches(['=', '+', '?', ':', '.']).trim_end();
    let (var, flag) = match lhs.split_once('[') {
        Some((v, f)) => (v.trim(), Some(f.trim_end_matches(']'))),
        None => (lhs, None),
    };
    Some((var, flag, &t[open + 1..close]))
}

struct Pending {
    line: usize,
    url: String,
    params: BTreeMap<String, String>,
    comment_above: Option<String>,
}

fn split_url(tok: &str) -> (String, BTreeMap<String, String>) {
    let mut parts = tok.split(';');
    let url = parts.next().unwrap_or_default().to_owned();
    let params = parts.filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    (url, params)
}

/// Imports facts from a BitBake recipe or include.
pub fn bitbake(file: &str, text: &str) -> Result<Facts, FactsError> {
    let mut facts = Facts::default();
    let mut sha_flags: BTreeMap<String, String> = BTreeMap::new();
    let mut srcrevs: BTreeMap<String, String> = BTreeMap::new();
    let mut uris: Vec<Pending> = Vec::new();
    let mut lics: Vec<(usize, String)> = Vec::new();
    for l in logical_lines(text) {
        let Some((var, flag, value)) = assignment(&l.text) else { continue };
        let base = var.split(':').next().unwrap_or(var);
        match (base, flag) {
            ("SRC_URI", Some(flag)) => {
                if let Some(name) = flag.strip_suffix(".sha256sum") {
                    sha_flags.insert(name.to_owned(), value.trim().to_owned());
                }
            }
            ("SRC_URI", None) => {
                for tok in value.split_whitespace() {
                    if tok.starts_with("gomod://") || tok.starts_with("gomodgit://") || tok.starts_with("git://") {
                        let (url, params) = split_url(tok);
                        uris.push(Pending { line: l.line, url, params, comment_above: l.comment_above.clone() });
                    }
                }
            }
            ("LIC_FILES_CHKSUM", None) => {
                lics.extend(value.split_whitespace().map(|t| (l.line, t.to_owned())));
            }
            (v, None) if v.starts_with("SRCREV_") => {
                srcrevs.insert(v["SRCREV_".len()..].to_owned(), value.trim().to_owned());
            }
            _ => {}
        }
    }
    for p in uris {
        let line = p.line;
        let src = format!("{file}:{line}");
        let err = |m: String| perr(file, line, m);
        let (scheme, rest) = p.url.split_once("://").unwrap_or_default();
        let version = p.params.get("version").cloned();
        match scheme {
            "gomod" | "gomodgit" => {
                let version = version.ok_or_else(|| err(format!("{}: missing version= parameter", p.url)))?;
                let m = ModuleVersion { path: rest.trim_end_matches('/').to_owned(), version };
                if !is_valid_version(&m.version) || m.path.is_empty() {
                    return Err(err(format!("{}: malformed module path or version", p.url)));
                }
                let name = m.to_string();
                if scheme == "gomod" {
                    let sha = p.params.get("sha256sum").or_else(|| sha_flags.get(&name)).ok_or_else(|| {
                        err(format!("{name}: no sha256sum= parameter and no SRC_URI[{name}.sha256sum]"))
                    })?;
                    if !is_hex(sha, 64) {
                        return Err(err(format!("{name}: sha256sum {sha:?} is not 64 hex digits")));
                    }
                    if p.params.get("mod").map(String::as_str) == Some("1") {
                        facts.set_mod(&m, sha, &src)?;
                    } else {
                        facts.set_zip(&m, sha, &src)?;
                    }
                } else {
                    let commit = p
                        .params
                        .get("srcrev")
                        .or_else(|| srcrevs.get(&name))
                        .ok_or_else(|| err(format!("{name}: no srcrev= parameter and no SRCREV_{name}")))?;
                    if !is_hex(commit, 40) {
                        return Err(err(format!("{name}: srcrev {commit:?} is not a full 40-hex commit")));
                    }
                    let proto = p.params.get("protocol").map_or("https", String::as_str);
                    let repo = p.params.get("repo").map_or(m.path.as_str(), String::as_str);
                    let g = GitFact {
                        repo: format!("{proto}://{repo}"),
                        commit: commit.clone(),
                        reference: String::new(),
                        subdir: p.params.get("subdir").cloned().unwrap_or_default(),
                        module: String::new(),
                        checked_at: String::new(),
                    };
                    facts.set_git(&m, g, &src)?;
                }
            }
            _ => {
                // git://: needs the module named next to it.
                let from_comment = p.comment_above.as_deref().and_then(|c| {
                    let c = c.trim();
                    c.split_once('@')
                        .or_else(|| c.split_once(' '))
                        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                });
                let module = p.params.get("module").cloned().or_else(|| from_comment.as_ref().map(|c| c.0.clone()));
                let version = version.or_else(|| from_comment.as_ref().map(|c| c.1.clone()));
                let (Some(path), Some(version)) = (module, version) else {
                    return Err(err(format!(
                        "{}: a git:// entry needs module= and version= parameters or a `# MODULE@VERSION` comment above it",
                        p.url
                    )));
                };
                let m = ModuleVersion { path, version };
                if !is_valid_version(&m.version) {
                    return Err(err(format!("{m}: invalid version")));
                }
                let commit = p
                    .params
                    .get("rev")
                    .or_else(|| p.params.get("name").and_then(|n| srcrevs.get(n)))
                    .ok_or_else(|| err(format!("{m}: no rev= parameter and no SRCREV_<name>")))?;
                if !is_hex(commit, 40) {
                    return Err(err(format!("{m}: rev {commit:?} is not a full 40-hex commit")));
                }
                let proto = p.params.get("protocol").map_or("git", String::as_str);
                let g = GitFact {
                    repo: format!("{proto}://{}", rest.trim_end_matches(".git").trim_end_matches('/')),
                    commit: commit.clone(),
                    reference: p.params.get("tag").map(|t| format!("refs/tags/{t}")).unwrap_or_default(),
                    subdir: p.params.get("subdir").or_else(|| p.params.get("subpath")).cloned().unwrap_or_default(),
                    module: String::new(),
                    checked_at: String::new(),
                };
                facts.set_git(&m, g, &src)?;
            }
        }
    }
    for (line, tok) in lics {
        let (url, params) = split_url(&tok);
        let Some(path) = url.strip_prefix("file://pkg/mod/").or_else(|| url.strip_prefix("file://pkg/mod-licenses/"))
        else {
            continue;
        };
        let (m, lic) = split_cache_path(path).map_err(|e| perr(file, line, e))?;
        let md5 = params
            .get("md5")
            .filter(|m| is_hex(m, 32))
            .ok_or_else(|| perr(file, line, format!("{tok}: no 32-hex md5=")))?;
        let spdx = params.get("spdx").map_or_else(|| UNKNOWN.to_owned(), |s| unquote_plus(s));
        facts.set_license(&m, &lic, LicenseFact { md5: md5.clone(), spdx }, &format!("{file}:{line}"))?;
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "c895c6fe62f9a4ab59c3e780be29059e3ed71a80e12e36ac61708fd906bc0039";

    #[test]
    fn bitbake_includes_all_forms() {
        let c = "a".repeat(40);
        let text = format!(
            "# header\nSRC_URI += \"\\\n    gomod://example.com/a;version=v1.0.0;sha256sum={SHA} \\\n    gomod://example.com/b;version=v1.0.0;mod=1 \\\n    \
             gomodgit://example.com/c/v2;version=v2.0.0;repo=github.com/x/c;srcrev={c};subdir=sub \\\n\"\n\
             SRC_URI[example.com/b@v1.0.0.sha256sum] = \"{SHA}\"\n\
             # example.com/d@v0.1.0\nSRC_URI += \"git://github.com/x/d.git;protocol=https;name=d;nobranch=1\"\nSRCREV_d = \"{c}\"\n\
             LIC_FILES_CHKSUM += \"file://pkg/mod/example.com/a@v1.0.0/LICENSE;md5={};spdx=MIT+OR+Apache-2.0\"\n",
            "1".repeat(32)
        );
        let f = bitbake("x.inc", &text).unwrap();
        let get = |p: &str, v: &str| f.modules[&ModuleVersion { path: p.into(), version: v.into() }].clone();
        assert_eq!(get("example.com/a", "v1.0.0").zip_sha256.as_deref(), Some(SHA));
        assert_eq!(get("example.com/b", "v1.0.0").mod_sha256.as_deref(), Some(SHA));
        let g = get("example.com/c/v2", "v2.0.0").git.unwrap();
        assert_eq!((g.repo.as_str(), g.subdir.as_str()), ("https://github.com/x/c", "sub"));
        let d = get("example.com/d", "v0.1.0").git.unwrap();
        assert_eq!((d.repo.as_str(), d.commit.as_str()), ("https://github.com/x/d", c.as_str()));
        assert_eq!(get("example.com/a", "v1.0.0").licenses["LICENSE"].spdx, "MIT OR Apache-2.0");
    }

    #[test]
    fn bitbake_errors_name_the_line() {
        let e = bitbake("x.inc", "A = \"1\"\nSRC_URI += \"gomod://example.com/a;version=v1.0.0\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.inc:2: example.com/a@v1.0.0: no sha256sum= parameter and no SRC_URI[example.com/a@v1.0.0.sha256sum]"
        );
        let e = bitbake("x.inc", "SRC_URI += \"git://h/r;rev=abc\"\n").unwrap_err().to_string();
        assert!(e.starts_with("x.inc:1: git://h/r: a git:// entry needs module="), "{e}");
    }

    #[test]
    fn fixture_tables() {
        let z = fixture_tsv("z.tsv", &format!("module\tversion\tzip_sha256\nexample.com/a\tv1.0.0\t{SHA}\n")).unwrap();
        assert_eq!(z.modules.len(), 1);
        let l = fixture_tsv(
            "l.tsv",
            &format!(
                "path_in_module_cache\tmd5\tspdx\ngithub.com/!data!dog/zstd@v1.5.7/LICENSE\t{}\tUnknown\n",
                "1".repeat(32)
            ),
        )
        .unwrap();
        assert!(l.modules.keys().any(|m| m.path == "github.com/DataDog/zstd"));
        let e = fixture_tsv("g.tsv", "module\tversion\trepo\tcommit\tref\tsubdir\na\tv1.0.0\thttps://x\tnothex\t\t\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("g.tsv:2:"), "{e}");
        assert!(
            fixture_tsv("q.tsv", "what\never\n").unwrap_err().to_string().starts_with("q.tsv:1: unrecognised header")
        );
    }

    #[test]
    fn unquote() {
        assert_eq!(unquote_plus("MIT+OR+Apache-2.0"), "MIT OR Apache-2.0");
        assert_eq!(unquote_plus("%28MIT%29"), "(MIT)");
        assert_eq!(unquote_plus("a%"), "a%");
    }
}
