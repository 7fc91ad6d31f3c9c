//! Edits one pin block of k3s-spec.yaml as text, so its comments and layout survive (k3s-bake's strict parser
//! reads the result back before anything is written).

/// New values of one pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinUpdate {
    /// `version:` (the tag, as scripts/version.sh labels a tagged commit).
    pub version: String,
    /// `branch:`.
    pub branch: String,
    /// `commit:`.
    pub commit: String,
    /// The comment put above the pin (replacing the one there).
    pub comment: String,
}

/// Replaces `pins.<name>`'s version/branch/commit, drops `tag:` / `commits-after-tag:` (the commit is the tag's),
/// and replaces the comment lines directly above the pin.
pub fn set_pin(spec: &str, name: &str, u: &PinUpdate) -> Result<String, String> {
    let lines: Vec<&str> = spec.lines().collect();
    let head = format!("  {name}:");
    let start = lines.iter().position(|l| *l == head).ok_or_else(|| format!("k3s-spec.yaml has no pins.{name}"))?;
    let end = lines[start + 1..].iter().position(|l| !l.starts_with("    ")).map_or(lines.len(), |p| start + 1 + p);
    let mut comment_start = start;
    while comment_start > 0 && lines[comment_start - 1].starts_with("  #") {
        comment_start -= 1;
    }
    let mut out: Vec<String> = lines[..comment_start].iter().map(|l| (*l).to_owned()).collect();
    out.extend(u.comment.lines().map(|c| format!("  # {c}").trim_end().to_owned()));
    out.push(head);
    let (mut saw_version, mut saw_branch, mut saw_commit) = (false, false, false);
    for l in &lines[start + 1..end] {
        let key = l.trim_start().split(':').next().unwrap_or("");
        match key {
            "version" => {
                out.push(format!("    version: {}", u.version));
                saw_version = true;
            }
            "branch" => {
                out.push(format!("    branch: {}", u.branch));
                saw_branch = true;
            }
            "commit" => {
                out.push(format!("    commit: {}", u.commit));
                saw_commit = true;
            }
            "tag" | "commits-after-tag" => {}
            _ => out.push((*l).to_owned()),
        }
    }
    if !(saw_version && saw_branch && saw_commit) {
        return Err(format!("pins.{name} lacks version, branch or commit"));
    }
    out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
    let mut s = out.join("\n");
    s.push('\n');
    Ok(s)
}

/// `pins.<name>.<key>` as written, if present.
pub fn get(spec: &str, name: &str, key: &str) -> Option<String> {
    let head = format!("  {name}:");
    let mut inside = false;
    for l in spec.lines() {
        if l == head {
            inside = true;
            continue;
        }
        if inside {
            if !l.starts_with("    ") {
                return None;
            }
            if let Some(v) = l.trim_start().strip_prefix(&format!("{key}:")) {
                return Some(v.trim().to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_one_pin_keeping_the_rest() {
        let s = "pins:\n  # old\n  # comment\n  k3s:\n    version: v1+k3s-abc\n    tag: v1+k3s1\n    commits-after-tag: 3\n    git: https://g/k3s.git\n    branch: release-1\n    commit: aaa\n  runc:\n    version: v1\n";
        let u = PinUpdate {
            version: "v2+k3s1".into(),
            branch: "release-2".into(),
            commit: "bbb".into(),
            comment: "new".into(),
        };
        let e = set_pin(s, "k3s", &u).unwrap();
        assert_eq!(
            e,
            "pins:\n  # new\n  k3s:\n    version: v2+k3s1\n    git: https://g/k3s.git\n    branch: release-2\n    commit: bbb\n  runc:\n    version: v1\n"
        );
        assert_eq!(get(&e, "k3s", "git").as_deref(), Some("https://g/k3s.git"));
        assert_eq!(get(&e, "runc", "commit"), None);
        assert!(set_pin(s, "nope", &u).is_err());
    }
}
