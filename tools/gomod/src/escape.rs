//! The module cache and the proxy protocol spell upper-case letters as `!` + lower case, so that paths stay
//! unique on case-insensitive file systems (`github.com/BurntSushi/toml` → `github.com/!burnt!sushi/toml`).

/// A path or version that cannot be escaped or unescaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// Input contained `!`, which only escaped text may.
    #[error("{0:?} contains '!', which is reserved for case escaping")]
    Bang(String),
    /// Input was empty or held whitespace/control characters.
    #[error("{0:?} is not a valid module path or version (empty, or holds whitespace/control characters)")]
    Invalid(String),
    /// Escaped text held `!` not followed by a lower-case ASCII letter, or an upper-case letter.
    #[error("{0:?} is not validly escaped ('!' must precede a lower-case letter; no upper case allowed)")]
    BadEscape(String),
}

fn check(s: &str) -> Result<(), EscapeError> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EscapeError::Invalid(s.to_owned()));
    }
    Ok(())
}

fn escape(s: &str) -> Result<String, EscapeError> {
    check(s)?;
    if s.contains('!') {
        return Err(EscapeError::Bang(s.to_owned()));
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Escapes a module path for the module cache and proxy URLs.
pub fn escape_path(path: &str) -> Result<String, EscapeError> {
    escape(path)
}

/// Escapes a version the same way (pseudo-versions and `+incompatible` never hold upper case, tags may).
pub fn escape_version(version: &str) -> Result<String, EscapeError> {
    escape(version)
}

/// Reverses [`escape_path`] / [`escape_version`].
pub fn unescape(escaped: &str) -> Result<String, EscapeError> {
    check(escaped)?;
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '!' => match chars.next() {
                Some(n) if n.is_ascii_lowercase() => out.push(n.to_ascii_uppercase()),
                _ => return Err(EscapeError::BadEscape(escaped.to_owned())),
            },
            c if c.is_ascii_uppercase() => return Err(EscapeError::BadEscape(escaped.to_owned())),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for p in [
            "github.com/BurntSushi/toml",
            "github.com/Microsoft/hcsshim",
            "golang.org/x/net",
            "github.com/DataDog/zstd",
        ] {
            let e = escape_path(p).unwrap();
            assert!(!e.chars().any(|c| c.is_ascii_uppercase()));
            assert_eq!(unescape(&e).unwrap(), p);
        }
        assert_eq!(escape_path("github.com/DataDog/zstd").unwrap(), "github.com/!data!dog/zstd");
    }

    #[test]
    fn rejects() {
        assert!(matches!(escape_path("a!b"), Err(EscapeError::Bang(_))));
        assert!(matches!(escape_path(""), Err(EscapeError::Invalid(_))));
        assert!(matches!(escape_path("a b"), Err(EscapeError::Invalid(_))));
        assert!(matches!(unescape("a!"), Err(EscapeError::BadEscape(_))));
        assert!(matches!(unescape("a!1"), Err(EscapeError::BadEscape(_))));
        assert!(matches!(unescape("aB"), Err(EscapeError::BadEscape(_))));
    }
}
