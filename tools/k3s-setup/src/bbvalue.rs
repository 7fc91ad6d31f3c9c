//! The checks every user value passes before it is written into BitBake syntax (`conf/local.conf`,
//! `conf/bblayers.conf`) or handed to git.
//!
//! Values are written inside double quotes, where BitBake still expands `${VAR}` and runs `${@python}`, and where
//! a `"` or a newline would end the value and start new statements; BBLAYERS is split at whitespace. So rather than
//! escaping (BitBake has no escape for `${`), only characters that mean nothing to BitBake are accepted, and the
//! error names the option, the character and what is expected.

use std::path::Path;

use crate::{Error, Result};

/// Characters a path written into BitBake syntax may have besides ASCII letters and digits.
const PATH_EXTRA: &[u8] = b"/._-+~,=@";
/// Characters a URL written into BitBake syntax may have besides ASCII letters and digits.
const URL_EXTRA: &[u8] = b"-._~:/%+,=@";

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '"' => "a double quote".into(),
        '\'' => "a single quote".into(),
        '$' => "'$' (BitBake expands ${…} and runs ${@…} inside values)".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_control() => format!("the control character {c:?}"),
        c => format!("{c:?}"),
    }
}

fn first_bad(s: &str, extra: &[u8]) -> Option<char> {
    s.chars().find(|&c| !(c.is_ascii_alphanumeric() || (c.is_ascii() && extra.contains(&(c as u8)))))
}

/// An absolute path that can be written into a BitBake value and a BBLAYERS list as it is.
pub fn path(what: &str, p: &Path) -> Result<String> {
    let Some(s) = p.to_str() else {
        return Err(Error::invalid(what, format!("{} is not UTF-8", p.display())));
    };
    if !p.is_absolute() {
        return Err(Error::invalid(what, format!("{s:?} is not an absolute path")));
    }
    if let Some(c) = first_bad(s, PATH_EXTRA) {
        return Err(Error::invalid(
            what,
            format!(
                "{s:?} contains {}; paths written into BitBake configuration may only have letters, digits and / . _ - + ~ , = @",
                describe(c)
            ),
        ));
    }
    let trimmed = s.trim_end_matches('/');
    Ok(if trimmed.is_empty() { "/".to_owned() } else { trimmed.to_owned() })
}

/// A git URL: `https://host/path` or `file:///path` (a local mirror), nothing git or a shell could read as an option
/// or BitBake as syntax.
pub fn git_url(s: &str) -> std::result::Result<(), String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("file:///"));
    match rest {
        Some(rest) if !rest.is_empty() => {}
        _ => return Err(format!("expected an https:// or file:/// URL of a git repository, got {s:?}")),
    }
    if let Some(c) = first_bad(s, URL_EXTRA) {
        return Err(format!("{s:?} contains {}", describe(c)));
    }
    Ok(())
}

/// `--sstate-mirror URL`: a shared-state mirror with SSTATE_DIR's layout (`https://`, `http://` or `file:///`).
/// Returns the `SSTATE_MIRRORS` value (`file://.* URL/PATH;downloadfilename=PATH`, the form OE-Core's
/// local.conf.sample documents).
pub fn sstate_mirror(s: &str) -> Result<String> {
    const WHAT: &str = "--sstate-mirror";
    let ok_scheme =
        ["https://", "http://", "file:///"].iter().any(|p| s.strip_prefix(p).is_some_and(|r| !r.is_empty()));
    if !ok_scheme {
        return Err(Error::invalid(WHAT, format!("expected an https://, http:// or file:/// URL, got {s:?}")));
    }
    if let Some(c) = first_bad(s, URL_EXTRA) {
        return Err(Error::invalid(
            WHAT,
            format!("{s:?} contains {}; expected a URL of letters, digits and - . _ ~ : / % + , = @", describe(c)),
        ));
    }
    Ok(format!("file://.* {}/PATH;downloadfilename=PATH", s.trim_end_matches('/')))
}

/// `--hashserv`: a hash-equivalence server as BitBake's `BB_HASHSERVE` takes it: `HOST:PORT`, `ws://HOST:PORT`,
/// `wss://HOST[:PORT][/PATH]` or `unix:///PATH`.
pub fn hashserv(s: &str) -> Result<String> {
    const WHAT: &str = "--hashserv";
    let bad = |why: &str| {
        Error::invalid(
            WHAT,
            format!("{s:?}: {why}; expected HOST:PORT, ws://HOST:PORT, wss://HOST[:PORT][/PATH] or unix:///PATH"),
        )
    };
    if let Some(c) = first_bad(s, b"-._:/[]") {
        return Err(bad(&format!("contains {}", describe(c))));
    }
    if let Some(p) = s.strip_prefix("unix://") {
        if !p.starts_with('/') || p.len() < 2 {
            return Err(bad("a unix socket needs an absolute path"));
        }
        return Ok(s.to_owned());
    }
    let (rest, websocket, port_required) = if let Some(r) = s.strip_prefix("wss://") {
        (r, true, false)
    } else if let Some(r) = s.strip_prefix("ws://") {
        (r, true, true)
    } else {
        (s, false, true)
    };
    let hostport = match rest.split_once('/') {
        Some((hp, _path)) if websocket => hp,
        Some(_) => return Err(bad("a path needs ws:// or wss://")),
        None => rest,
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let Some((h, after)) = v6.split_once(']') else { return Err(bad("unclosed '['")) };
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host_ok = !host.is_empty()
        && !host.starts_with('-')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || (b == b':' && hostport.starts_with('[')));
    if !host_ok {
        return Err(bad("not a host name or address"));
    }
    match port {
        Some(p) if !p.parse::<u16>().is_ok_and(|n| n > 0) => {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
        None if port_required => return Err(bad("a port is needed")),
        _ => {}
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_bitbake_syntax_or_spaces_are_refused() {
        assert_eq!(path("--dir", Path::new("/srv/k3s/build/")).unwrap(), "/srv/k3s/build");
        for bad in ["/srv/my build", "/srv/a\"b", "/srv/${TOPDIR}", "/srv/${@os.system('x')}", "/srv/a\nb", "/srv/a'b"]
        {
            let err = path("--dir", Path::new(bad)).unwrap_err().to_string();
            assert!(err.starts_with("--dir: "), "{err}");
        }
        assert!(path("--dir", Path::new("relative")).unwrap_err().to_string().contains("absolute"));
    }

    #[test]
    fn sstate_mirror_becomes_the_documented_form_and_refuses_syntax() {
        assert_eq!(
            sstate_mirror("https://sstate.example/wrynose/").unwrap(),
            "file://.* https://sstate.example/wrynose/PATH;downloadfilename=PATH"
        );
        for bad in
            ["https://x/\"", "https://x/${@os.system('id')}", "https://x/a;b", "https://x/a b", "ftp://x", "https://"]
        {
            let err = sstate_mirror(bad).unwrap_err().to_string();
            assert!(err.starts_with("--sstate-mirror: "), "{bad}: {err}");
        }
        assert!(sstate_mirror("https://x/${@1}").unwrap_err().to_string().contains("'$'"));
    }

    #[test]
    fn hashserv_forms() {
        for good in [
            "hashserv.example:8686",
            "ws://10.0.0.1:8686",
            "wss://hashserv.yoctoproject.org/ws",
            "[::1]:8686",
            "unix:///run/hs.sock",
        ] {
            assert_eq!(hashserv(good).unwrap(), good);
        }
        for bad in
            ["hashserv.example", "host:0", "host:99999", "host:86\"86", "${@x}:1", "-x:1", "host:1/path", "unix://rel"]
        {
            assert!(hashserv(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn git_urls() {
        assert!(git_url("https://github.com/openembedded/openembedded-core.git").is_ok());
        assert!(git_url("file:///srv/mirror/bitbake").is_ok());
        for bad in ["git://x/y", "https://x/y z", "--upload-pack=x", "https://x/$(id)", "file://rel"] {
            assert!(git_url(bad).is_err(), "{bad}");
        }
    }
}
