//! The server's kubeconfig, as it comes out of the guest's virtio-serial port: complete or not, and rewritten for
//! the host (k3s writes `server: https://127.0.0.1:6443`; on the host that is the forwarded port).

/// Whether `text` is a whole k3s kubeconfig: k3s writes the admin user's `client-key-data` last.
pub fn is_complete(text: &str) -> bool {
    text.ends_with('\n')
        && text.lines().any(|l| l.starts_with("apiVersion:"))
        && text.lines().any(|l| l.starts_with("clusters:"))
        && text.lines().last().is_some_and(|l| l.trim_start().starts_with("client-key-data:"))
}

/// Every cluster's `server:` pointed at `127.0.0.1:port`.
pub fn for_host(text: &str, port: u16) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("server: https://") {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(&format!("{indent}server: https://127.0.0.1:{port}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const K3S_YAML: &str = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: QQ==\n    server: \
        https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  \
        name: default\ncurrent-context: default\nkind: Config\npreferences: {}\nusers:\n- name: default\n  user:\n    \
        client-certificate-data: Qg==\n    client-key-data: Qw==\n";

    #[test]
    fn complete_only_with_the_key() {
        assert!(is_complete(K3S_YAML));
        assert!(!is_complete(&K3S_YAML[..K3S_YAML.len() - 1]));
        assert!(!is_complete(&K3S_YAML[..K3S_YAML.find("users:").unwrap()]));
        assert!(!is_complete(""));
    }

    #[test]
    fn server_points_at_the_forward() {
        let t = for_host(K3S_YAML, 40123);
        assert!(t.contains("\n    server: https://127.0.0.1:40123\n"), "{t}");
        assert_eq!(t.len(), K3S_YAML.len() - 4 + 5);
    }
}
