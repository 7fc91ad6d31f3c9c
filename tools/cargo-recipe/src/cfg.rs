//! Does a `[target.<spec>]` dependency table apply to a Linux target? Three-valued, so that anything we cannot
//! decide (architecture, libc flavour, unknown keys) counts as "may apply" and its licenses are kept.

/// The answer for one spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Applies to every Linux target.
    Yes,
    /// Applies to no Linux target.
    No,
    /// Depends on the architecture or something else we do not decide.
    Maybe,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }
}

/// Evaluates a target spec (`cfg(...)` or a target triple) for "some Linux target".
pub fn linux(spec: &str) -> Tri {
    let spec = spec.trim();
    match spec.strip_prefix("cfg(").and_then(|s| s.strip_suffix(')')) {
        Some(inner) => {
            let toks = tokens(inner);
            let mut pos = 0;
            let v = pred(&toks, &mut pos);
            if pos == toks.len() { v } else { Tri::Maybe }
        }
        None if spec.contains("-linux-") || spec.ends_with("-linux") => Tri::Maybe,
        None => Tri::No,
    }
}

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if "(),=".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut w = String::from("\"");
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                w.push(c);
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' {
                    w.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if w.is_empty() {
                chars.next();
            }
            out.push(w);
        }
    }
    out
}

fn pred(t: &[String], pos: &mut usize) -> Tri {
    let Some(word) = t.get(*pos).cloned() else { return Tri::Maybe };
    *pos += 1;
    if t.get(*pos).map(String::as_str) == Some("(") {
        *pos += 1;
        let mut args = Vec::new();
        while t.get(*pos).map(String::as_str) != Some(")") && *pos < t.len() {
            args.push(pred(t, pos));
            if t.get(*pos).map(String::as_str) == Some(",") {
                *pos += 1;
            }
        }
        *pos += 1;
        return match word.as_str() {
            "not" if args.len() == 1 => args[0].not(),
            "all" if args.contains(&Tri::No) => Tri::No,
            "all" if args.iter().all(|a| *a == Tri::Yes) => Tri::Yes,
            "any" if args.contains(&Tri::Yes) => Tri::Yes,
            "any" if args.iter().all(|a| *a == Tri::No) => Tri::No,
            _ => Tri::Maybe,
        };
    }
    if t.get(*pos).map(String::as_str) == Some("=") {
        *pos += 1;
        let value = t.get(*pos).map(|v| v.trim_start_matches('"').to_owned()).unwrap_or_default();
        *pos += 1;
        return match word.as_str() {
            "target_os" => bool_tri(value == "linux"),
            "target_family" => bool_tri(value == "unix"),
            "target_vendor" if value == "apple" || value == "pc" => Tri::No,
            "target_arch" if value.starts_with("wasm") => Tri::No,
            "target_env" if value == "msvc" || value == "sgx" => Tri::No,
            _ => Tri::Maybe,
        };
    }
    match word.as_str() {
        "unix" => Tri::Yes,
        "windows" | "wasm" => Tri::No,
        _ => Tri::Maybe,
    }
}

fn bool_tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_decisions() {
        assert_eq!(linux("cfg(windows)"), Tri::No);
        assert_eq!(linux("cfg(unix)"), Tri::Yes);
        assert_eq!(linux("cfg(not(windows))"), Tri::Yes);
        assert_eq!(linux("cfg(any(target_os = \"linux\", target_os = \"android\"))"), Tri::Yes);
        assert_eq!(linux("cfg(all(target_os = \"wasi\", target_env = \"p2\"))"), Tri::No);
        assert_eq!(linux("cfg(target_arch = \"x86_64\")"), Tri::Maybe);
        assert_eq!(linux("cfg(target_arch = \"wasm32\")"), Tri::No);
        assert_eq!(linux("cfg(not(target_arch = \"x86_64\"))"), Tri::Maybe);
        assert_eq!(linux("x86_64-pc-windows-gnu"), Tri::No);
        assert_eq!(linux("aarch64-unknown-linux-gnu"), Tri::Maybe);
        assert_eq!(linux("cfg(any(target_os = \"macos\", target_os = \"ios\"))"), Tri::No);
    }
}
