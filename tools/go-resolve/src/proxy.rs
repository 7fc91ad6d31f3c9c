//! The Go module proxy protocol (<https://go.dev/ref/mod#goproxy-protocol>) over http(s) and file://, with the
//! GOPROXY list semantics of the go command, retries with backoff and a content cache.

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gomod::{escape_path, escape_version};
use sha2::{Digest, Sha256};

/// One GOPROXY list element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyEntry {
    /// A proxy base URL (`https://proxy.golang.org`, `file:///srv/goproxy`).
    Url(String),
    /// Fetch from the origin version control system.
    Direct,
    /// Disallow downloads.
    Off,
}

/// A GOPROXY list element plus whether *any* error (`|`) or only "not found" (`,`) falls through to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyListItem {
    /// The element.
    pub entry: ProxyEntry,
    /// True when followed by `|`: fall back on any error, not only 404/410.
    pub fallback_on_any_error: bool,
}

/// A GOPROXY value that is not a list the go command accepts.
#[derive(Debug, thiserror::Error)]
pub enum GoproxyError {
    /// Nothing given.
    #[error("GOPROXY is empty (the go command would use https://proxy.golang.org,direct)")]
    Empty,
    /// An element that is neither a URL nor a keyword.
    #[error("GOPROXY element {0:?} is not a http(s):// or file:// URL, direct or off")]
    Element(String),
}

/// Parses a GOPROXY value (`https://proxy.golang.org,direct`, `a|b,off`).
pub fn parse_goproxy(value: &str) -> Result<Vec<ProxyListItem>, GoproxyError> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    if rest.is_empty() {
        return Err(GoproxyError::Empty);
    }
    while !rest.is_empty() {
        let end = rest.find([',', '|']).unwrap_or(rest.len());
        let item = rest[..end].trim();
        let sep = rest[end..].chars().next();
        rest = rest.get(end + 1..).unwrap_or("");
        let entry = match item {
            "" => continue,
            "direct" => ProxyEntry::Direct,
            "off" => ProxyEntry::Off,
            url if url.starts_with("https://") || url.starts_with("http://") || url.starts_with("file://") => {
                ProxyEntry::Url(url.trim_end_matches('/').to_owned())
            }
            other => {
                return Err(GoproxyError::Element(other.to_owned()));
            }
        };
        out.push(ProxyListItem { entry, fallback_on_any_error: sep == Some('|') });
    }
    Ok(out)
}

/// Why one proxy request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// 404 or 410 (or a missing file): the proxy does not have it; the next proxy is asked.
    #[error("{url}: not found ({status})")]
    NotFound {
        /// Requested URL.
        url: String,
        /// Status text.
        status: String,
    },
    /// The server answered with another failure (after retries).
    #[error("{url}: {message}")]
    Other {
        /// Requested URL.
        url: String,
        /// What was wrong (`HTTP 500 (after 4 attempts)`).
        message: String,
    },
    /// The request itself failed (connection, TLS, ...; after retries).
    #[error("{url}")]
    Http {
        /// Requested URL.
        url: String,
        /// Why.
        source: Box<ureq::Error>,
    },
    /// A local file step failed.
    #[error("{url}: {what}")]
    Io {
        /// Requested URL.
        url: String,
        /// What was being done (`writing /cache/...part`).
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The module path or version cannot be escaped for a proxy URL.
    #[error("{url}")]
    Escape {
        /// The module's URL prefix.
        url: String,
        /// Why.
        source: gomod::EscapeError,
    },
    /// A `.info` document is not JSON.
    #[error("{url}: bad .info JSON")]
    Json {
        /// Requested URL.
        url: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// What a proxy has for one module version file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// Where it lies in the content cache.
    pub path: PathBuf,
}

/// An http(s)/file:// proxy client with retries and an on-disk content cache.
#[derive(Debug, Clone)]
pub struct ProxyClient {
    agent: ureq::Agent,
    cache: PathBuf,
    retries: u32,
    backoff: Duration,
}

/// File kinds the protocol serves per version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    /// `.info` (JSON: Version, Time).
    Info,
    /// `.mod`.
    Mod,
    /// `.zip`.
    Zip,
}

impl Ext {
    fn as_str(self) -> &'static str {
        match self {
            Ext::Info => "info",
            Ext::Mod => "mod",
            Ext::Zip => "zip",
        }
    }
}

pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex(&h.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ProxyClient {
    /// A client caching under `cache`, retrying transient failures `retries` times with exponential backoff
    /// starting at `backoff`.
    pub fn new(cache: &Path, retries: u32, backoff: Duration) -> ProxyClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .timeout_connect(Some(Duration::from_secs(30)))
            .user_agent(concat!("k3s-bake/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        ProxyClient { agent, cache: cache.to_owned(), retries, backoff }
    }

    /// The content cache root.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// GETs `url` into `dest` (atomically: temp file + rename), retrying transient failures.
    pub fn download(&self, url: &str, dest: &Path) -> Result<(), FetchError> {
        let io = |what: String| move |source| FetchError::Io { url: url.to_owned(), what, source };
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.part{}", std::process::id()));
        let mut attempt = 0;
        loop {
            match self.try_download(url, &tmp) {
                Ok(()) => {
                    return std::fs::rename(&tmp, dest).map_err(io("renaming into the cache".into()));
                }
                Err(e @ FetchError::NotFound { .. }) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                Err(e) if attempt >= self.retries => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(match e {
                        FetchError::Other { url, message } => {
                            FetchError::Other { url, message: format!("{message} (after {} attempts)", attempt + 1) }
                        }
                        e => e,
                    });
                }
                Err(_) => {
                    std::thread::sleep(self.backoff * 2u32.saturating_pow(attempt));
                    attempt += 1;
                }
            }
        }
    }

    fn try_download(&self, url: &str, tmp: &Path) -> Result<(), FetchError> {
        let other = |m: String| FetchError::Other { url: url.to_owned(), message: m };
        let io = |what: String| move |source| FetchError::Io { url: url.to_owned(), what, source };
        if let Some(path) = url.strip_prefix("file://") {
            return match std::fs::copy(path, tmp) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(FetchError::NotFound { url: url.to_owned(), status: "no such file".into() })
                }
                Err(e) => Err(io(format!("copying {path}"))(e)),
            };
        }
        let mut resp =
            self.agent.get(url).call().map_err(|e| FetchError::Http { url: url.to_owned(), source: Box::new(e) })?;
        let status = resp.status().as_u16();
        if status == 404 || status == 410 {
            return Err(FetchError::NotFound { url: url.to_owned(), status: status.to_string() });
        }
        if status != 200 {
            return Err(other(format!("HTTP {status}")));
        }
        let mut f = std::fs::File::create(tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let mut reader = resp.body_mut().as_reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(io("reading the body".into()))?;
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(io(format!("writing {}", tmp.display())))?;
        }
        f.sync_all().map_err(io(format!("syncing {}", tmp.display())))?;
        Ok(())
    }

    /// GETs a small document into memory (no cache).
    pub fn get_text(&self, url: &str) -> Result<String, FetchError> {
        let dir = self.cache.join("tmp");
        let dest = dir.join(format!("get-{}-{:?}", std::process::id(), std::thread::current().id()));
        self.download(url, &dest)?;
        let text = std::fs::read(&dest).map_err(|source| FetchError::Io {
            url: url.into(),
            what: format!("reading {}", dest.display()),
            source,
        });
        let _ = std::fs::remove_file(&dest);
        Ok(String::from_utf8_lossy(&text?).into_owned())
    }

    /// `<base>/<module>/@v/<version>.<ext>`, from the content cache when present (a rerun costs no network).
    pub fn fetch(&self, base: &str, module: &str, version: &str, ext: Ext) -> Result<Fetched, FetchError> {
        let bad = |source| FetchError::Escape { url: format!("{base}/{module}"), source };
        let em = escape_path(module).map_err(bad)?;
        let ev = escape_version(version).map_err(bad)?;
        let rel = format!("{em}/@v/{ev}.{}", ext.as_str());
        let path = self.cache.join("download").join(&rel);
        let url = format!("{base}/{rel}");
        if !path.is_file() {
            self.download(&url, &path)?;
        }
        let sha256 = sha256_file(&path).map_err(|source| FetchError::Io {
            url,
            what: format!("hashing {}", path.display()),
            source,
        })?;
        Ok(Fetched { sha256, path })
    }

    /// `<base>/<module>/@v/list`: the versions the proxy knows (not cached: it changes).
    pub fn list(&self, base: &str, module: &str) -> Result<Vec<String>, FetchError> {
        let em = escape_path(module).map_err(|source| FetchError::Escape { url: base.into(), source })?;
        let text = self.get_text(&format!("{base}/{em}/@v/list"))?;
        Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    /// `<base>/<module>/@v/<version>.info` → (Version, Time).
    pub fn info(&self, base: &str, module: &str, version: &str) -> Result<(String, String), FetchError> {
        let f = self.fetch(base, module, version, Ext::Info)?;
        let url = format!("{base}/{module}/@v/{version}.info");
        let text = std::fs::read_to_string(&f.path).map_err(|source| FetchError::Io {
            url: url.clone(),
            what: format!("reading {}", f.path.display()),
            source,
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| FetchError::Json { url: url.clone(), source })?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        match (s("Version"), s("Time")) {
            (Some(ver), time) => Ok((ver, time.unwrap_or_default())),
            _ => Err(FetchError::Other { url, message: ".info lacks Version".into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goproxy_lists() {
        let l = parse_goproxy("https://a.example/,file:///srv/p|direct,off").unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(
            l[0],
            ProxyListItem { entry: ProxyEntry::Url("https://a.example".into()), fallback_on_any_error: false }
        );
        assert!(l[1].fallback_on_any_error);
        assert_eq!(l[2].entry, ProxyEntry::Direct);
        assert_eq!(l[3].entry, ProxyEntry::Off);
        assert!(parse_goproxy("proxy.golang.org").is_err());
        assert!(parse_goproxy("").is_err());
    }
}
