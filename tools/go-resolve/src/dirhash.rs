//! The go command's `h1:` hashes (golang.org/x/mod/sumdb/dirhash `Hash1`), so downloads are checked against go.sum.
//!
//! `Hash1` sorts the file names, writes `"<sha256 hex>  <name>\n"` for each into one SHA-256, and prints it as
//! `h1:<base64>`. A module zip hashes its entries under their zip names (`<module>@<version>/…`); a go.mod hashes
//! as the single file `go.mod`.

use std::io::Read as _;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::proxy::hex;

/// `h1:` of named file contents.
pub fn hash1<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut files: Vec<(&str, &[u8])> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut summary = Sha256::new();
    for (name, data) in files {
        summary.update(format!("{}  {name}\n", hex(&Sha256::digest(data))).as_bytes());
    }
    format!("h1:{}", base64(&summary.finalize()))
}

/// `h1:` of a go.mod file.
pub fn hash_go_mod(data: &[u8]) -> String {
    hash1([("go.mod", data)])
}

/// `h1:` of a module zip (every file entry; directories are not hashed).
pub fn hash_zip(path: &Path) -> Result<String, HashError> {
    let f = std::fs::File::open(path).map_err(HashError::Io)?;
    let mut z = zip::ZipArchive::new(f).map_err(HashError::Zip)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(z.len());
    for i in 0..z.len() {
        let mut e = z.by_index(i).map_err(HashError::Zip)?;
        if e.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).map_err(HashError::Io)?;
        files.push((e.name().to_owned(), data));
    }
    Ok(hash1(files.iter().map(|(n, d)| (n.as_str(), d.as_slice()))))
}

/// Why a zip could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Reading failed.
    #[error("reading")]
    Io(#[source] std::io::Error),
    /// Not a zip.
    #[error("not a zip")]
    Zip(#[source] zip::result::ZipError),
}

/// Standard base64 with padding (go.sum's encoding).
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= c.len() { char::from(A[(n >> shift) as usize & 63]) } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_hash_matches_a_published_go_sum_line() {
        // golang.org/x/text v0.3.0 has no go.mod; the proxy serves `module golang.org/x/text\n`, and every go.sum
        // (k3s's among them, shared/fixtures/go/k3s/go.sum) records this hash for it.
        assert_eq!(hash_go_mod(b"module golang.org/x/text\n"), "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=");
        for (raw, b64) in [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foobar", "Zm9vYmFy")] {
            assert_eq!(base64(raw), b64);
        }
    }
}
