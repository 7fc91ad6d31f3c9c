//! Values written into systemd unit files: validation and quoting.
//!
//! systemd reads `Environment="NAME=value"` by first expanding `%` specifiers over the whole line, then splitting
//! it into words with C-style unescaping inside double quotes (systemd.exec(5), systemd.syntax(7)). So a value is
//! safe to embed when `%` is doubled, `\` and `"` are backslash-escaped, and it has no control character: a
//! newline would end the line and start a new directive, and systemd drops lines that are not UTF-8 clean.

use std::ffi::OsStr;

/// Longest value accepted. systemd reads unit lines of up to 1 MiB (`LONG_LINE_MAX`); escaping can double a value.
pub const MAX_VALUE_LEN: usize = 256 * 1024;

/// Why a value cannot go into a unit file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Empty where a value is required.
    #[error("{name}: empty value")]
    Empty {
        /// What the value is (flag or variable name).
        name: String,
    },
    /// Not UTF-8.
    #[error("{name}: not valid UTF-8 (systemd ignores unit lines that are not UTF-8 clean)")]
    NotUtf8 {
        /// What the value is.
        name: String,
    },
    /// A control character, which could end the line and add a directive.
    #[error("{name}: control character U+{code:04X} at byte {at} (newlines and control characters are not allowed)")]
    Control {
        /// What the value is.
        name: String,
        /// The character's code point.
        code: u32,
        /// Its byte offset in the value.
        at: usize,
    },
    /// Longer than [`MAX_VALUE_LEN`].
    #[error("{name}: {len} bytes, longer than the {MAX_VALUE_LEN} bytes allowed in a unit line")]
    TooLong {
        /// What the value is.
        name: String,
        /// Its length.
        len: usize,
    },
}

/// Checks that `value` can be written into a unit file and returns it as a string.
pub fn check(name: &str, value: &OsStr) -> Result<String, ValueError> {
    let s = value.to_str().ok_or_else(|| ValueError::NotUtf8 { name: name.to_string() })?;
    check_str(name, s)?;
    Ok(s.to_string())
}

/// [`check`] for a value that is already a string.
pub fn check_str(name: &str, s: &str) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::Empty { name: name.to_string() });
    }
    if s.len() > MAX_VALUE_LEN {
        return Err(ValueError::TooLong { name: name.to_string(), len: s.len() });
    }
    if let Some((at, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(ValueError::Control { name: name.to_string(), code: c as u32, at });
    }
    Ok(())
}

/// Renders `Environment="NAME=value"` for a value that passed [`check`]. `name` must be a shell variable name.
pub fn environment_line(name: &str, value: &str) -> String {
    debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let mut line = String::with_capacity(value.len() + name.len() + 16);
    line.push_str("Environment=\"");
    line.push_str(name);
    line.push('=');
    for c in value.chars() {
        match c {
            '%' => line.push_str("%%"),
            '\\' => line.push_str("\\\\"),
            '"' => line.push_str("\\\""),
            c => line.push(c),
        }
    }
    line.push('"');
    line
}

/// Reads an `Environment=` line back the way systemd does (specifiers, then quotes and C escapes), for the
/// assignments our own renderer produces. Returns `None` for anything it would not write.
pub fn parse_environment_line(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("Environment=")?;
    // 1. Specifier expansion over the whole value: `%%` is a literal `%`, any other `%x` would be expanded.
    let mut expanded = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '%' && chars.next()? != '%' {
            return None;
        }
        expanded.push(c);
    }
    // 2. One double-quoted word with C escapes.
    let inner = expanded.strip_prefix('"')?.strip_suffix('"')?;
    let mut word = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                c @ ('\\' | '"') => word.push(c),
                _ => return None,
            },
            '"' => return None,
            c => word.push(c),
        }
    }
    let (name, value) = word.split_once('=')?;
    Some((name.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn hostile_values_round_trip_on_one_line() {
        for v in ["a%b%%c", "quote\"d", "back\\slash\\", "%n%H", "\\\"", "K10abc::server:s3cr3t", "ünïcödé $HOME ${X}"]
        {
            let line = environment_line("K3S_TOKEN", v);
            assert!(!line.contains('\n'));
            assert_eq!(parse_environment_line(&line), Some(("K3S_TOKEN".to_string(), v.to_string())), "{line}");
        }
    }

    #[test]
    fn control_characters_and_bad_encodings_are_refused() {
        for v in ["a\nb", "a\rb", "\0", "tab\there", "del\x7f", "c1\u{85}"] {
            assert!(matches!(check("t", OsStr::new(v)), Err(ValueError::Control { .. })), "{v:?}");
        }
        assert!(matches!(check("t", OsStr::from_bytes(b"\xff\xfe")), Err(ValueError::NotUtf8 { .. })));
        assert!(matches!(check("t", OsStr::new("")), Err(ValueError::Empty { .. })));
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        assert!(matches!(check("t", OsStr::new(&long)), Err(ValueError::TooLong { .. })));
    }
}
