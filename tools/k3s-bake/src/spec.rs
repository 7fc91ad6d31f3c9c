//! `k3s-spec.yaml`: the one file of pins, image profiles and feature toggles.
//!
//! Deserialised strictly: unknown keys, wrong types and missing fields are errors that name the file, line and
//! column, so a typo in the spec never silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// File name of the spec at the repository root.
pub const SPEC_FILE: &str = "k3s-spec.yaml";

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("{path}: cannot read")]
    Read { path: PathBuf, source: std::io::Error },
    /// The YAML is malformed or does not match the schema.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The YAML matches the schema but a value is not acceptable.
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The whole spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Upstream sources the layer builds, each pinned to a tag and the commit it names.
    pub pins: Pins,
    /// Image recipes the layer ships, by recipe name.
    pub images: BTreeMap<String, ImageProfile>,
    /// Build-time choices for k3s itself.
    pub features: Features,
    /// The layers a build needs besides this one (OE-Core, BitBake, meta-openembedded): what `k3s-bake setup`
    /// clones and the kas files pin.
    pub layers: k3s_setup::layers::Layers,
}

/// Every pinned upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pins {
    /// k3s itself.
    pub k3s: Pin,
    /// The OCI runtime containerd starts containers with.
    pub runc: Pin,
    /// containernetworking/plugins (bridge, host-local, loopback, portmap, bandwidth, firewall).
    pub cni_plugins: Pin,
    /// flannel-io/cni-plugin: the `flannel` CNI plugin k3s's default network uses.
    pub flannel_cni_plugin: Pin,
}

impl Pins {
    /// The pins with the key they have in the spec, in a stable order.
    pub fn all(&self) -> [(&'static str, &Pin); 4] {
        [
            ("k3s", &self.k3s),
            ("runc", &self.runc),
            ("cni-plugins", &self.cni_plugins),
            ("flannel-cni-plugin", &self.flannel_cni_plugin),
        ]
    }
}

/// One upstream source pinned to a tag and a commit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The version stamped into what is built: the upstream tag (`v1.36.2+k3s1`) when the commit is the tag's, else
    /// upstream's own label for an untagged commit (k3s's scripts/version.sh: `v1.36.2+k3s-2390b65e`).
    pub version: String,
    /// The nearest upstream tag when the commit is not the tag's own (then `commits-after-tag` is required).
    #[serde(default)]
    pub tag: Option<String>,
    /// How many commits the pinned commit is past `tag` (`git describe`), giving PV `<tag>+git<N>+<commit:8>`.
    #[serde(default, rename = "commits-after-tag")]
    pub commits_after_tag: Option<u32>,
    /// HTTPS URL of the git repository.
    pub git: String,
    /// Branch that contains the commit (BitBake's git fetcher verifies it).
    pub branch: String,
    /// Full 40-hex commit that is built: the tag's commit, or the one `commits-after-tag` past `tag`.
    pub commit: String,
}

/// What a node built from an image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the k3s server (control plane + agent).
    Server,
    /// Runs only the k3s agent and joins a server.
    Agent,
}

/// Defaults of one image recipe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageProfile {
    /// The node role the image is built for.
    pub role: Role,
    /// Default memory for runqemu, in MiB (QB_MEM; `qemuparams` still wins).
    pub qemu_memory_mb: u32,
    /// Default free space for container images, in KiB (IMAGE_ROOTFS_EXTRA_SPACE; local.conf still wins).
    pub rootfs_extra_space_kb: u64,
}

/// The flannel backends k3s supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlannelBackend {
    /// VXLAN overlay (k3s's default).
    Vxlan,
    /// Direct routes between nodes on one L2 network.
    HostGw,
    /// WireGuard-encrypted overlay in the kernel.
    WireguardNative,
    /// No flannel: bring your own CNI.
    None,
}

impl FlannelBackend {
    /// Every backend, in the order the spec documents them.
    pub const ALL: [FlannelBackend; 4] =
        [FlannelBackend::Vxlan, FlannelBackend::HostGw, FlannelBackend::WireguardNative, FlannelBackend::None];

    /// The value k3s's `flannel-backend` option takes.
    pub fn as_str(self) -> &'static str {
        match self {
            FlannelBackend::Vxlan => "vxlan",
            FlannelBackend::HostGw => "host-gw",
            FlannelBackend::WireguardNative => "wireguard-native",
            FlannelBackend::None => "none",
        }
    }
}

/// Build-time defaults for k3s (each becomes a BitBake variable users can still override).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Features {
    /// Deploy the traefik ingress controller on first start.
    pub traefik: bool,
    /// flannel's backend.
    pub flannel_backend: FlannelBackend,
}

impl Spec {
    /// Reads and validates the spec at `path`.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_owned(), source })?;
        Spec::parse(path, &text)
    }

    /// Parses and validates spec text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecError> {
        let spec: Spec = serde_saphyr::from_str(text)
            .map_err(|e| SpecError::Parse { path: path.to_owned(), message: e.to_string() })?;
        spec.validate_bitbake_data().map_err(|(key, field, message)| SpecError::Invalid {
            path: path.to_owned(),
            message: format!("pins.{key}.{field}: {}{message}", pin_line(text, key, field)),
        })?;
        spec.validate().map_err(|message| SpecError::Invalid { path: path.to_owned(), message })?;
        Ok(spec)
    }

    /// Every pin string lands in a BitBake value (conf/include/k3s-spec.inc): refused here already, naming the
    /// spec field, when the one BitBake writer (`bb-value`) would refuse it (`${@…}`, `${`, `"`, `\\`, newlines,
    /// control characters); and `;` or whitespace, which would add SRC_URI parameters or split the URL.
    fn validate_bitbake_data(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (key, pin) in self.pins.all() {
            let fields = [
                ("version", Some(&pin.version)),
                ("tag", pin.tag.as_ref()),
                ("git", Some(&pin.git)),
                ("branch", Some(&pin.branch)),
                ("commit", Some(&pin.commit)),
            ];
            for (field, value) in fields {
                let Some(value) = value else { continue };
                bb_value::lit("value", value).map_err(|e| (key, field, e.to_string()))?;
                if value.contains(|c: char| c == ';' || c.is_whitespace()) {
                    return Err((
                        key,
                        field,
                        format!("value {value:?}: `;` or whitespace would change the SRC_URI it is written into"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        for (key, pin) in self.pins.all() {
            let at = Located { section: "pins", key };
            if pin.commit.len() != 40 || !pin.commit.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err(format!(
                    "{at}.commit: expected a full 40-digit lower-case hex commit, got {:?}",
                    pin.commit
                ));
            }
            if !pin.git.starts_with("https://")
                || pin.git["https://".len()..].split('/').filter(|s| !s.is_empty()).count() < 2
            {
                return Err(format!("{at}.git: expected an https:// URL of a git repository, got {:?}", pin.git));
            }
            for (field, value) in [("version", &pin.version), ("branch", &pin.branch)] {
                if value.is_empty()
                    || value.chars().any(|c| c.is_whitespace() || c == ';' || c == '"' || c.is_control())
                {
                    return Err(format!(
                        "{at}.{field}: expected a non-empty value without spaces, quotes or ';', got {value:?}"
                    ));
                }
            }
        }
        for (key, pin) in self.pins.all() {
            let at = Located { section: "pins", key };
            match (&pin.tag, pin.commits_after_tag) {
                (None, None) => {}
                (Some(tag), Some(n)) if n > 0 => {
                    if tag.is_empty() || tag.chars().any(|c| c.is_whitespace() || c == ';' || c == '"') {
                        return Err(format!("{at}.tag: expected a tag without spaces, quotes or ';', got {tag:?}"));
                    }
                    if !pin.version.contains(&pin.commit[..8]) {
                        return Err(format!(
                            "{at}.version: {:?} is {n} commits past {tag}, so it must name the commit ({}), as \
                             upstream labels an untagged build",
                            pin.version,
                            &pin.commit[..8]
                        ));
                    }
                }
                _ => {
                    return Err(format!(
                        "{at}: `tag` and `commits-after-tag` (> 0) go together: the commit is that many commits past \
                         the tag"
                    ));
                }
            }
        }
        self.layers.validate()?;
        for (name, image) in &self.images {
            let at = Located { section: "images", key: name };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err(format!("{at}: image names are recipe names (lower-case letters, digits, '-')"));
            }
            if image.qemu_memory_mb < 1024 {
                return Err(format!("{at}.qemu-memory-mb: k3s needs at least 1024 MiB, got {}", image.qemu_memory_mb));
            }
        }
        Ok(())
    }
}

/// ` line N: ` of `pins.<key>.<field>` in the spec text, or nothing when it cannot be told (a second, lenient pass
/// that records only where each pin field is).
fn pin_line(text: &str, key: &str, field: &str) -> String {
    type Lines = BTreeMap<String, BTreeMap<String, serde_saphyr::Spanned<serde::de::IgnoredAny>>>;
    #[derive(Deserialize)]
    struct Where {
        pins: Lines,
    }
    serde_saphyr::from_str::<Where>(text)
        .ok()
        .and_then(|w| w.pins.get(key)?.get(field).map(|s| s.referenced.line()))
        .filter(|l| *l > 0)
        .map(|l| format!("line {l}: "))
        .unwrap_or_default()
}

struct Located<'a> {
    section: &'a str,
    key: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.section, self.key)
    }
}

impl Pin {
    /// BitBake's PV: the tag without a leading `v`, plus `+git<N>+<commit:8>` when the commit is past the tag.
    pub fn pv(&self) -> String {
        match (&self.tag, self.commits_after_tag) {
            (Some(tag), Some(n)) => {
                format!("{}+git{n}+{}", tag.strip_prefix('v').unwrap_or(tag), &self.commit[..8])
            }
            _ => self.version.strip_prefix('v').unwrap_or(&self.version).to_owned(),
        }
    }

    /// The nearest tag (the version itself when the commit is the tag's).
    pub fn tag(&self) -> &str {
        self.tag.as_deref().unwrap_or(&self.version)
    }

    /// `host/path` of the repository, for a `git://` SRC_URI (`protocol=https` is added by the renderer).
    pub fn git_host_path(&self) -> &str {
        self.git.strip_prefix("https://").unwrap_or(&self.git).trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_read_error_says_its_cause_once() {
        let err = anyhow::Error::from(Spec::load(Path::new("/nonexistent/k3s-spec.yaml")).unwrap_err());
        let text = format!("{err:#}");
        assert_eq!(text.matches("No such file or directory").count(), 1, "{text}");
        assert!(text.starts_with("/nonexistent/k3s-spec.yaml: cannot read: "), "{text}");
    }

    use super::*;

    const GOOD: &str = include_str!("../../../k3s-spec.yaml");

    fn parse(text: &str) -> Result<Spec, SpecError> {
        Spec::parse(Path::new("k3s-spec.yaml"), text)
    }

    #[test]
    fn committed_spec_parses() {
        let spec = parse(GOOD).unwrap();
        assert_eq!(spec.pins.k3s.commit, "2390b65e1ae38c786b150e6f4113b55d1c3a9492");
        assert_eq!(spec.pins.k3s.pv(), "1.36.2+k3s1+git35+2390b65e");
        assert_eq!(spec.pins.k3s.git_host_path(), "github.com/k3s-io/k3s.git");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = GOOD.replacen("    branch: release-1.36\n", "    branch: release-1.36\n    brnach: x\n", 1);
        assert_ne!(text, GOOD);
        let line = text.lines().position(|l| l.contains("brnach")).unwrap() + 1;
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("k3s-spec.yaml: "), "{err}");
        assert!(err.contains("brnach"), "{err}");
        assert!(err.contains(&format!("line {line}")), "expected line {line} in: {err}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = GOOD.replacen("traefik: false", "traefik: maybe", 1);
        let line = text.lines().position(|l| l.contains("traefik: maybe")).unwrap() + 1;
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains(&format!("line {line}")), "expected line {line} in: {err}");
    }

    #[test]
    fn missing_field_is_an_error() {
        let text = GOOD.replacen("  flannel-backend: vxlan\n", "", 1);
        assert_ne!(text, GOOD);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("flannel-backend"), "{err}");
    }

    #[test]
    fn untagged_commit_gets_an_honest_version() {
        let spec = parse(GOOD).unwrap();
        assert_eq!(spec.pins.k3s.pv(), "1.36.2+k3s1+git35+2390b65e");
        assert_eq!(spec.pins.k3s.tag(), "v1.36.2+k3s1");
        // Claiming the tag's version for a commit past the tag is refused.
        let text = GOOD.replacen("version: v1.36.2+k3s-2390b65e", "version: v1.36.2+k3s1", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("pins.k3s.version") && err.contains("35 commits past v1.36.2+k3s1"), "{err}");
        let text = GOOD.replacen("    commits-after-tag: 35\n", "", 1);
        assert!(parse(&text).unwrap_err().to_string().contains("go together"));
    }

    /// Spec values are data: each hostile value is refused at load, naming the file, the field and its line, with
    /// what BitBake would have done with it.
    #[test]
    fn hostile_pin_values_are_refused_naming_file_field_and_line() {
        let line = GOOD.lines().position(|l| l.contains("branch: release-1.36")).unwrap() + 1;
        for (hostile, why) in [
            ("\"${@os.system('x')}\"", "inline Python"),
            ("'${@os.system(\"x\")}'", "`\"` would end"),
            ("'release\"1.36'", "`\"` would end"),
            ("\"release\\n1.36\"", "newline"),
            ("'release\\1.36'", "`\\` is an escape"),
            ("'${BRANCH}'", "would be expanded"),
            ("'main;name=x'", "`;` or whitespace"),
        ] {
            let text = GOOD.replacen("branch: release-1.36", &format!("branch: {hostile}"), 1);
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.starts_with(&format!("k3s-spec.yaml: pins.k3s.branch: line {line}: ")), "{hostile}: {err}");
            assert!(err.contains(why), "{hostile}: {err}");
        }
        let text =
            GOOD.replacen("git: https://github.com/k3s-io/k3s.git", "git: 'https://github.com/k3s-io/k3s\".git'", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("k3s-spec.yaml: pins.k3s.git: line "), "{err}");
    }

    #[test]
    fn layer_pins_are_checked_with_their_place() {
        let spec = parse(GOOD).unwrap();
        assert_eq!(spec.layers.release, "wrynose");
        assert_eq!(spec.layers.bitbake.branch, "2.18");
        let text = GOOD.replacen("ef022bf82d79015802309d14c28b13373ebe53f5", "ef022bf8", 1);
        assert!(parse(&text).unwrap_err().to_string().contains("layers.oe-core.commit"));
        let text = GOOD.replacen("https://github.com/openembedded/bitbake.git", "https://x/$(id)", 1);
        assert!(parse(&text).unwrap_err().to_string().contains("layers.bitbake.git"));
        let text = GOOD.replacen("  release: wrynose\n", "  release: wrynose\n  relase: x\n", 1);
        assert!(parse(&text).unwrap_err().to_string().contains("relase"));
    }

    #[test]
    fn short_commit_is_rejected_with_its_place() {
        let text = GOOD.replacen("2390b65e1ae38c786b150e6f4113b55d1c3a9492", "2390b65", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("pins.k3s.commit"), "{err}");
    }
}
