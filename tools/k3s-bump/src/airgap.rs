//! The airgap image archives of the new tag, recorded from the k3s release itself.
//!
//! A k3s release publishes, next to `k3s-airgap-images-<arch>.tar.zst`, one `sha256sum-<arch>.txt` per architecture
//! (`<sha256>  <asset name>` lines, as `sha256sum` prints them) and `k3s-images.txt`, the images the archives hold.
//! Bump reads the sums (never the archives: hundreds of MiB each, and BitBake's fetcher checks the sum anyway) and
//! compares `k3s-images.txt` with `scripts/airgap/image-list.txt` of the source at the tag's commit, which is what
//! the k3s built from that commit deploys. Equal lists make the facts `compared`; a difference is recorded as
//! `not-compared` with the images that differ, and said in the summary, so the recipe's facts never claim more than
//! was checked. The facts file's format is `k3s-bake gen`'s (`render/airgap_inc.rs`), which parses what is written
//! here when bump renders the layer; the URLs written are the release's own (GitHub), whatever mirror was read.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use k3s_upstream_facts::airgap::{ARCHES, Facts, ImageList, archive_url, asset, url_tag};
pub use k3s_upstream_facts::airgap::{FACTS, RELEASES};

use crate::BumpError;

/// Reads release assets (small text files only).
pub trait Assets {
    /// The text of `url`, or None when the server says it does not exist (404/410).
    fn text(&self, url: &str) -> Result<Option<String>, BumpError>;
}

impl Assets for go_resolve::proxy::ProxyClient {
    fn text(&self, url: &str) -> Result<Option<String>, BumpError> {
        match self.get_text(url) {
            Ok(t) => Ok(Some(t)),
            Err(go_resolve::proxy::FetchError::NotFound { .. }) => Ok(None),
            Err(e) => Err(BumpError::step(format!("downloading {url}"), e)),
        }
    }
}

fn required(assets: &dyn Assets, url: &str) -> Result<String, BumpError> {
    assets.text(url)?.ok_or_else(|| {
        BumpError::Msg(format!("{url}: not published, while other assets of the release are (an incomplete release?)"))
    })
}

/// The sha256 `sums` (the text of `sha256sum-<arch>.txt`, read from `url`) gives for `asset`.
pub fn sum_of(sums: &str, url: &str, asset: &str) -> Result<String, BumpError> {
    let mut found = None;
    for (n, line) in sums.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // `sha256sum` writes "<hex>  <name>" (or "<hex> *<name>" in binary mode).
        let (sha, name) = line
            .split_once(char::is_whitespace)
            .map(|(s, n)| (s, n.trim_start().trim_start_matches('*')))
            .ok_or_else(|| BumpError::Msg(format!("{url}:{}: expected `<sha256>  <asset name>`", n + 1)))?;
        if name != asset {
            continue;
        }
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(BumpError::Msg(format!(
                "{url}:{}: the sha256 of {asset} is not 64 lower-case hex digits: {sha:?}",
                n + 1
            )));
        }
        if found.replace(sha.to_owned()).is_some() {
            return Err(BumpError::Msg(format!("{url}:{}: {asset} listed twice", n + 1)));
        }
    }
    found.ok_or_else(|| BumpError::Msg(format!("{url}: no sha256 line for {asset}")))
}

/// Image references of an image list (one per line; blank lines and `#` comments skipped).
pub fn images(text: &str) -> BTreeSet<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// What [`record`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The new facts file.
    pub facts: String,
    /// One summary line per architecture, plus the image comparison.
    pub summary: String,
}

/// The airgap facts of `tag` (whose own commit is `commit`), from the release assets under `base` (the release
/// location, or a mirror of it) and the image list of the source at that commit (`image_list`, None when the
/// tree has no scripts/airgap/image-list.txt). None when the release has not published its sums yet (a tag is
/// pushed before its release is built): the caller keeps the old facts, which name the old commit, so the airgap
/// recipe skips itself until a later bump records them.
pub fn record(
    assets: &dyn Assets,
    base: &str,
    tag: &str,
    commit: &str,
    image_list: Option<&str>,
) -> Result<Option<Recorded>, BumpError> {
    let base = base.trim_end_matches('/');
    let t = url_tag(tag);
    let mut summary = String::new();
    let mut archives = Vec::new();
    for (i, (_, arch)) in ARCHES.into_iter().enumerate() {
        let url = format!("{base}/{t}/sha256sum-{arch}.txt");
        let name = asset(arch);
        let sums = match assets.text(&url)? {
            Some(s) => s,
            None if i == 0 => return Ok(None),
            None => required(assets, &url)?,
        };
        let sha = sum_of(&sums, &url, &name)?;
        let _ = writeln!(summary, "  {name} sha256 {sha}");
        // The release's own URL, whatever mirror the sums were read from.
        archives.push((arch.to_owned(), archive_url(tag, arch), sha));
    }
    let list_url = format!("{base}/{t}/k3s-images.txt");
    let released = images(&required(assets, &list_url)?);
    let (compared, why) = match image_list.map(images) {
        Some(source) if source == released => (
            true,
            format!(
                "k3s-images.txt of release {tag} lists the {} images of scripts/airgap/image-list.txt at {commit}",
                released.len()
            ),
        ),
        Some(source) => {
            let only_release: Vec<&String> = released.difference(&source).collect();
            let only_source: Vec<&String> = source.difference(&released).collect();
            (
                false,
                format!(
                    "k3s-images.txt of release {tag} differs from scripts/airgap/image-list.txt at {commit}: only in \
                     the release {only_release:?}, only in the source {only_source:?}"
                ),
            )
        }
        None => (false, format!("k3s {tag} ({commit}) has no scripts/airgap/image-list.txt to compare with")),
    };
    let image_list = ImageList { compared, why };
    let _ = writeln!(summary, "  image list: {}: {}", image_list.word(), image_list.why);
    let header = format!(
        "Facts: k3s release airgap image archives (k3s-airgap-images-<arch>.tar.zst), read by `k3s-bake gen`, which \
         renders\nk3s-airgap-images-facts.inc for k3s-airgap-images.bb. Written by `k3s-bake bump k3s {tag}`; do not \
         edit by hand.\nFormat: k3s_upstream_facts::airgap (tag, k3s-commit, image-list, one archive per \
         architecture).\n\nProvenance: the sha256 of each archive from the release's sha256sum-<arch>.txt, the image \
         list from its\nk3s-images.txt (assets of release {tag} of k3s-io/k3s), compared with \
         scripts/airgap/image-list.txt of the\nsource at the tag's own commit {commit}, which the layer pins."
    );
    let facts = Facts { tag: tag.to_owned(), k3s_commit: commit.to_owned(), image_list, archives }
        .to_tsv(&header)
        .map_err(|e| BumpError::step(format!("the airgap facts of k3s {tag}"), e))?;
    Ok(Some(Recorded { facts, summary }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Fake(BTreeMap<String, String>);

    impl Assets for Fake {
        fn text(&self, url: &str) -> Result<Option<String>, BumpError> {
            Ok(self.0.get(url).cloned())
        }
    }

    fn release(list: &str) -> Fake {
        let mut m = BTreeMap::new();
        for (i, (_, a)) in ARCHES.iter().enumerate() {
            let sha = format!("{i}").repeat(64);
            m.insert(
                format!("http://m/v1.2.3%2Bk3s1/sha256sum-{a}.txt"),
                format!(
                    "{}  k3s\n{sha}  k3s-airgap-images-{a}.tar.zst\n{}  k3s-images.txt\n",
                    "f".repeat(64),
                    "e".repeat(64)
                ),
            );
        }
        m.insert("http://m/v1.2.3%2Bk3s1/k3s-images.txt".into(), list.into());
        Fake(m)
    }

    #[test]
    fn records_sums_and_compares_the_image_list() {
        let c = "a".repeat(40);
        let r = record(&release("b:1\na:1\n"), "http://m/", "v1.2.3+k3s1", &c, Some("a:1\n\nb:1\n")).unwrap().unwrap();
        assert!(r.facts.contains(&format!(
            "archive\tarm64\t{RELEASES}/v1.2.3%2Bk3s1/k3s-airgap-images-arm64.tar.zst\t{}\n",
            "1".repeat(64)
        )));
        assert!(r.facts.contains(&format!("k3s-commit\t{c}\nimage-list\tcompared\t")), "{}", r.facts);
        let r = record(&release("a:1\nc:2\n"), "http://m", "v1.2.3+k3s1", &c, Some("a:1\nb:1\n")).unwrap().unwrap();
        assert!(r.facts.contains("image-list\tnot-compared\t"), "{}", r.facts);
        assert!(r.summary.contains(r#"only in the release ["c:2"], only in the source ["b:1"]"#), "{}", r.summary);
        let r = record(&release("a:1\n"), "http://m", "v1.2.3+k3s1", &c, None).unwrap().unwrap();
        assert!(r.facts.contains("image-list\tnot-compared\tk3s v1.2.3+k3s1"), "{}", r.facts);
    }

    #[test]
    fn bad_sum_files_name_the_url_and_line() {
        let u = "http://m/x/sha256sum-arm.txt";
        let a = "k3s-airgap-images-arm.tar.zst";
        assert!(sum_of("", u, a).unwrap_err().to_string().contains("no sha256 line for k3s-airgap-images-arm"));
        let e = sum_of(&format!("k3s\n{}  {a}\n", "0".repeat(64)), u, a).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{u}:1: expected")), "{e}");
        let e = sum_of(&format!("{}  k3s\nXYZ  {a}\n", "0".repeat(64)), u, a).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{u}:2: the sha256")), "{e}");
        let l = format!("{}  {a}\n", "0".repeat(64));
        assert!(sum_of(&format!("{l}{l}"), u, a).unwrap_err().to_string().contains("listed twice"));
        assert_eq!(sum_of(&format!("{} *{a}\n", "0".repeat(64)), u, a).unwrap(), "0".repeat(64));
        // Not published yet: no facts (the caller keeps the old ones); published in part: an error naming the asset.
        assert_eq!(record(&Fake(BTreeMap::new()), "http://m", "v1.2.3+k3s1", &"a".repeat(40), None).unwrap(), None);
        let mut partial = release("a:1\n");
        partial.0.remove("http://m/v1.2.3%2Bk3s1/sha256sum-arm.txt");
        let e = record(&partial, "http://m", "v1.2.3+k3s1", &"a".repeat(40), None).unwrap_err().to_string();
        assert!(e.starts_with("http://m/v1.2.3%2Bk3s1/sha256sum-arm.txt: not published"), "{e}");
    }
}
