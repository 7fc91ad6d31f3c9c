//! Entry points of the fuzz targets in `fuzz/` (cargo-fuzz), kept here so ordinary `cargo test` replays them
//! over seeds and generated inputs, and so the invariants they check are compiled with the crate.

use crate::{cmdline, roles};
use k3s_kconfig::{dotconfig as kconfig, gzip};

/// Kernel-config parser: never panics; what it accepts renders back to text that parses to the same options.
pub fn kconfig_entry(data: &[u8]) {
    if let Ok(text) = gzip::decompress(data) {
        let _ = kconfig::parse(&text);
    }
    let Ok(cfg) = kconfig::parse(data) else { return };
    let mut rendered = String::new();
    for (name, value) in &cfg.options {
        assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name:?}");
        match value.as_config() {
            Some(v) => rendered.push_str(&format!("CONFIG_{name}={v}\n")),
            None => rendered.push_str(&format!("# CONFIG_{name} is not set\n")),
        }
    }
    let again = kconfig::parse(rendered.as_bytes()).expect("rendered config parses");
    assert_eq!(again, cfg);
    let _ = crate::checkconfig::check_options(&cfg, k3s_kconfig::check::Policy::default());
}

/// Command-line parser: never panics; keys never hold `=`; the parameters never add up to more than the input;
/// role parsing never panics.
pub fn cmdline_entry(data: &[u8]) {
    let params = cmdline::parse(data);
    let mut total = 0;
    for p in &params {
        assert!(!p.key.contains(&b'='), "{:?}", String::from_utf8_lossy(p.key));
        total += p.key.len() + p.value.map_or(0, |v| v.len() + 1);
    }
    assert!(total <= data.len());
    if let Ok(req) = roles::parse_request(data) {
        for role in [roles::Role::Server, roles::Role::Agent] {
            let _ = roles::render_config(&req, role);
        }
        if let Some(s) = &req.server {
            let _ = roles::server_url(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeds plus deterministic mutations of them (byte flips, inserts of interesting bytes, truncations).
    fn inputs(seeds: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
        let interesting = [b'"', b'=', b' ', b'\n', b'#', b'\\', 0, 0xff, b'\t', b'_'];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for seed in seeds {
            for _ in 0..2000 {
                let mut v = seed.to_vec();
                for _ in 0..1 + next() % 4 {
                    let r = next();
                    let at = if v.is_empty() { 0 } else { (r as usize >> 8) % v.len() };
                    match r % 4 {
                        0 if !v.is_empty() => v[at] ^= 1 << (r >> 3 & 7),
                        1 => v.insert(at, interesting[(r >> 16) as usize % interesting.len()]),
                        2 => v.truncate(at),
                        _ => v.insert(at, (r >> 24) as u8),
                    }
                }
                out.push(v);
            }
        }
        out
    }

    #[test]
    fn kconfig_entry_survives_seeds_and_mutations() {
        for input in inputs(&[
            b"CONFIG_NET_NS=y\n# CONFIG_USER_NS is not set\nCONFIG_VETH=m\nCONFIG_LOCALVERSION=\"-x\"\n",
            b"#\n# comment\n\nCONFIG_A=0x10\r\n",
            &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x4b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0],
        ]) {
            kconfig_entry(&input);
        }
    }

    #[test]
    fn cmdline_entry_survives_seeds_and_mutations() {
        for input in inputs(&[
            b"console=ttyS0 k3s.role=agent k3s.server=10.0.0.1 k3s.token=\"a b\" k3s.node-ip=10.0.0.2 -- x",
            b"\"k3s.role=server\" k3s.token=t k3s.iface=eth0 k3s.node-name=n1",
        ]) {
            cmdline_entry(&input);
        }
    }
}
