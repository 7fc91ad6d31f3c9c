//! `recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.tsv`: the airgap image archives of a k3s release
//! (URL and sha256 per architecture), the k3s commit they were checked for and how the archive's image list was
//! compared with that k3s. `k3s-bake bump` writes it from the release's assets; `k3s-bake gen` renders it into the
//! airgap recipe's include. One reader and one writer here, so both agree on the format, the architectures and the
//! release URLs.
//!
//! ```text
//! tag         TAG                          the k3s release tag the archives are assets of
//! k3s-commit  COMMIT                       the k3s commit these facts were checked for
//! image-list  compared|not-compared  WHY   how the archive's image list was compared with the built k3s
//! archive     ARCH  URL  SHA256            one per architecture as k3s names them (amd64 arm64 arm)
//! ```

use std::fmt::Write as _;

use crate::{Error, is_hex};

/// The facts file, relative to the layer root.
pub const FACTS: &str = "recipes-containers/k3s-airgap-images/k3s-airgap-images-facts.tsv";

/// Where k3s publishes its release assets: `<RELEASES>/<tag, + as %2B>/<asset>`.
pub const RELEASES: &str = "https://github.com/k3s-io/k3s/releases/download";

/// OE's TARGET_ARCH → the architecture in k3s's release asset names (Go's GOARCH), in file order.
pub const ARCHES: [(&str, &str); 3] = [("x86_64", "amd64"), ("aarch64", "arm64"), ("arm", "arm")];

/// The tag as it appears in a release asset URL (`+` escaped, as GitHub's own links write it).
pub fn url_tag(tag: &str) -> String {
    tag.replace('+', "%2B")
}

/// The archive's asset name for a k3s architecture.
pub fn asset(arch: &str) -> String {
    format!("k3s-airgap-images-{arch}.tar.zst")
}

/// The release URL of the archive of `arch` for `tag`.
pub fn archive_url(tag: &str, arch: &str) -> String {
    format!("{RELEASES}/{}/{}", url_tag(tag), asset(arch))
}

/// How the archive's image list was compared with the k3s the layer builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageList {
    /// `compared` (true) or `not-compared`.
    pub compared: bool,
    /// Why (one line, no tab).
    pub why: String,
}

impl ImageList {
    /// The record's word.
    pub fn word(&self) -> &'static str {
        if self.compared { "compared" } else { "not-compared" }
    }
}

/// The parsed facts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Release tag the archives are assets of.
    pub tag: String,
    /// The k3s commit the facts were checked for.
    pub k3s_commit: String,
    /// How the image list was compared.
    pub image_list: ImageList,
    /// (k3s arch, URL, sha256) in the order of [`ARCHES`].
    pub archives: Vec<(String, String, String)>,
}

impl Facts {
    /// The file: `header` (each line written as a `#` comment) and the records, in [`ARCHES`] order. The result is
    /// parsed back, so what is written is what [`parse`] accepts.
    pub fn to_tsv(&self, header: &str) -> Result<String, Error> {
        let mut s = String::new();
        for l in header.lines() {
            let _ = writeln!(s, "{}", if l.is_empty() { "#".to_owned() } else { format!("# {l}") });
        }
        let _ = writeln!(s, "tag\t{}\nk3s-commit\t{}", self.tag, self.k3s_commit);
        let _ = writeln!(s, "image-list\t{}\t{}", self.image_list.word(), self.image_list.why);
        for (arch, url, sha) in &self.archives {
            let _ = writeln!(s, "archive\t{arch}\t{url}\t{sha}");
        }
        let back = parse(&s)?;
        if back != *self {
            return Err(Error {
                file: FACTS.into(),
                line: None,
                message: "the facts do not survive writing (a field holds a tab or a newline)".into(),
            });
        }
        Ok(s)
    }
}

/// Parses the facts file; errors name `FACTS:line` and what was expected.
pub fn parse(text: &str) -> Result<Facts, Error> {
    let err = |line: Option<usize>, message: String| Error { file: FACTS.into(), line, message };
    let (mut tag, mut commit, mut list) = (None, None, None);
    let mut archives: Vec<(String, String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = Some(n + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        match cols.as_slice() {
            ["tag", t] if tag.is_none() => tag = Some(t.to_string()),
            ["k3s-commit", c] if commit.is_none() => {
                if !is_hex(c, 40) {
                    return Err(err(at, format!("k3s-commit \"{c}\" is not a 40-hex commit")));
                }
                commit = Some(c.to_string());
            }
            ["image-list", how, why] if list.is_none() => {
                if !matches!(*how, "compared" | "not-compared") || why.trim().is_empty() {
                    return Err(err(at, "expected `image-list<TAB>compared|not-compared<TAB>reason`".into()));
                }
                list = Some(ImageList { compared: *how == "compared", why: why.to_string() });
            }
            ["archive", arch, url, sha] => {
                if !ARCHES.iter().any(|(_, a)| a == arch) {
                    return Err(err(at, format!("arch \"{arch}\" is not one of amd64 arm64 arm")));
                }
                if archives.iter().any(|(a, _, _)| a == arch) {
                    return Err(err(at, format!("a second archive line for {arch}")));
                }
                if !is_hex(sha, 64) {
                    return Err(err(at, format!("sha256 \"{sha}\" is not 64 lower-case hex digits")));
                }
                archives.push((arch.to_string(), url.to_string(), sha.to_string()));
            }
            [key, ..] if matches!(*key, "tag" | "k3s-commit" | "image-list") && cols.len() <= 3 => {
                return Err(err(at, format!("{key} given twice, or with the wrong number of columns")));
            }
            _ => {
                return Err(err(
                    at,
                    "expected a `tag`, `k3s-commit`, `image-list` or `archive` record (tab-separated)".into(),
                ));
            }
        }
    }
    let tag = tag.ok_or_else(|| err(None, "no `tag` record".into()))?;
    let k3s_commit = commit.ok_or_else(|| err(None, "no `k3s-commit` record".into()))?;
    let image_list = list.ok_or_else(|| err(None, "no `image-list` record".into()))?;
    let mut ordered = Vec::new();
    for (_, arch) in ARCHES {
        let Some(pos) = archives.iter().position(|(a, _, _)| a == arch) else {
            return Err(err(None, format!("no archive record for {arch}")));
        };
        let (a, url, sha) = archives.swap_remove(pos);
        let want = archive_url(&tag, &a);
        if url != want {
            return Err(err(None, format!("archive {a}: URL {url} is not the release asset of tag {tag} ({want})")));
        }
        ordered.push((a, url, sha));
    }
    Ok(Facts { tag, k3s_commit, image_list, archives: ordered })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(extra: &str) -> String {
        let sha = "a".repeat(64);
        let mut s = format!("# c\ntag\tv1.2.3+k3s1\nk3s-commit\t{}\nimage-list\tnot-compared\twhy\n", "0".repeat(40));
        for a in ["arm", "amd64", "arm64"] {
            let _ = writeln!(s, "archive\t{a}\t{RELEASES}/v1.2.3%2Bk3s1/k3s-airgap-images-{a}.tar.zst\t{sha}");
        }
        s + extra
    }

    #[test]
    fn parses_and_orders_by_arch() {
        let f = parse(&facts("")).unwrap();
        assert_eq!(f.archives.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["amd64", "arm64", "arm"]);
        assert_eq!(f.image_list, ImageList { compared: false, why: "why".into() });
        assert_eq!(f.archives[2].1, archive_url("v1.2.3+k3s1", "arm"));
    }

    #[test]
    fn refuses_bad_records_naming_the_line() {
        let e = |t: &str| parse(t).unwrap_err().to_string();
        let bad_sha = facts("").replace(&"a".repeat(64), "xyz");
        assert!(e(&bad_sha).contains(":5: sha256 \"xyz\""), "{}", e(&bad_sha));
        let other_tag =
            facts("").replacen("v1.2.3%2Bk3s1/k3s-airgap-images-arm.", "v1.2.4%2Bk3s1/k3s-airgap-images-arm.", 1);
        assert!(e(&other_tag).contains("is not the release asset of tag v1.2.3+k3s1"));
        let dup = facts(&format!("archive\tarm\tu\t{}\n", "b".repeat(64)));
        assert!(e(&dup).contains(":8: a second archive line for arm"));
        assert!(e(&facts("archive\tmips\tu\tx\n")).contains("arch \"mips\""));
        let missing = facts("").lines().filter(|l| !l.contains("-arm64.")).collect::<Vec<_>>().join("\n");
        assert!(e(&missing).contains("no archive record for arm64"));
        assert!(e(&facts("version\tv1\n")).contains(":8: expected a `tag`"));
        assert!(e(&bad_sha).starts_with(&format!("{FACTS}:5: ")), "{}", e(&bad_sha));
    }

    #[test]
    fn what_is_written_is_what_is_read() {
        let f = parse(&facts("")).unwrap();
        let text = f.to_tsv("Facts: test.\n\nProvenance: none.").unwrap();
        assert!(text.starts_with("# Facts: test.\n#\n# Provenance: none.\ntag\tv1.2.3+k3s1\n"), "{text}");
        assert_eq!(parse(&text).unwrap(), f);
        let tabbed = Facts { image_list: ImageList { compared: true, why: "a\tb".into() }, ..f };
        assert!(tabbed.to_tsv("").is_err(), "a tab in a field would change the record");
    }

    #[test]
    fn the_committed_facts_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let f = parse(&std::fs::read_to_string(root.join(FACTS)).unwrap()).unwrap();
        assert_eq!(f.tag, "v1.36.2+k3s1");
        assert!(f.archives[0].2.starts_with("da6a3b2d"));
    }
}
