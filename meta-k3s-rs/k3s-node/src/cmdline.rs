//! The kernel command line, split the way the kernel splits it (`next_arg` in lib/cmdline.c): words separated
//! by whitespace, double quotes group, `key="value with spaces"` and `"key=value"` lose their quotes, and
//! everything after a lone `--` belongs to init.

/// One parameter: `key` or `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param<'a> {
    /// Text before the first `=`.
    pub key: &'a [u8],
    /// Text after it, if there is one.
    pub value: Option<&'a [u8]>,
}

fn strip_quotes(mut s: &[u8]) -> &[u8] {
    if let Some(r) = s.strip_prefix(b"\"") {
        s = r;
    }
    s.strip_suffix(b"\"").unwrap_or(s)
}

/// Splits a command line into parameters.
pub fn parse(line: &[u8]) -> Vec<Param<'_>> {
    let mut params = Vec::new();
    let mut rest = line;
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        rest = &rest[start..];
        if rest.is_empty() {
            break;
        }
        let mut in_quote = false;
        let mut end = rest.len();
        for (i, &b) in rest.iter().enumerate() {
            if b == b'"' {
                in_quote = !in_quote;
            } else if b.is_ascii_whitespace() && !in_quote {
                end = i;
                break;
            }
        }
        let word = &rest[..end];
        rest = &rest[end..];
        if word == b"--" {
            break;
        }
        let param = match word.iter().position(|&b| b == b'=') {
            Some(eq) => Param { key: strip_quotes(&word[..eq]), value: Some(strip_quotes(&word[eq + 1..])) },
            None => Param { key: strip_quotes(word), value: None },
        };
        params.push(param);
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv<'a>(k: &'a str, v: Option<&'a str>) -> Param<'a> {
        Param { key: k.as_bytes(), value: v.map(str::as_bytes) }
    }

    #[test]
    fn splits_like_the_kernel() {
        let line = b"console=ttyS0 root=/dev/vda rw k3s.role=agent k3s.token=\"a b\" \"k3s.node-name=n1\" quiet -- k3s.role=x\n";
        assert_eq!(
            parse(line),
            vec![
                kv("console", Some("ttyS0")),
                kv("root", Some("/dev/vda")),
                kv("rw", None),
                kv("k3s.role", Some("agent")),
                kv("k3s.token", Some("a b")),
                kv("k3s.node-name", Some("n1")),
                kv("quiet", None),
            ]
        );
        assert!(parse(b"").is_empty());
        assert_eq!(parse(b"a=\"unterminated x"), vec![kv("a", Some("unterminated x"))]);
        assert_eq!(parse(b"k=v=w"), vec![kv("k", Some("v=w"))]);
    }
}
