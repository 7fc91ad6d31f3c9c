//! gzip decoding for `/proc/config.gz` (RFC 1952 framing around miniz_oxide's raw inflate).

/// Why a gzip stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    /// Not gzip, or a header field runs past the end.
    #[error("not a gzip stream: {0}")]
    Header(&'static str),
    /// The compressed data is corrupt or exceeds the size limit.
    #[error("corrupt gzip data: {0}")]
    Inflate(String),
    /// CRC-32 or length in the trailer does not match.
    #[error("gzip trailer mismatch: {0}")]
    Trailer(&'static str),
}

/// Largest accepted output; a kernel config is ~200 KiB, so 16 MiB bounds a hostile input's memory.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    !data.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

/// Decompresses a single-member gzip stream.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, GzipError> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(GzipError::Header("bad magic"));
    }
    if data[2] != 8 {
        return Err(GzipError::Header("compression method is not deflate"));
    }
    let flags = data[3];
    let mut pos = 10;
    let short = GzipError::Header("truncated header");
    if flags & FEXTRA != 0 {
        let len = usize::from(u16::from_le_bytes([
            *data.get(pos).ok_or(short.clone())?,
            *data.get(pos + 1).ok_or(short.clone())?,
        ]));
        pos += 2 + len;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = data.get(pos..).and_then(|d| d.iter().position(|&b| b == 0)).ok_or(short.clone())?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos + 8 > data.len() {
        return Err(short);
    }
    let body = &data[pos..data.len() - 8];
    let out = miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_OUTPUT)
        .map_err(|e| GzipError::Inflate(format!("{:?}", e.status)))?;
    let trailer = &data[data.len() - 8..];
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc32(&out) != crc {
        return Err(GzipError::Trailer("CRC-32"));
    }
    if out.len() as u32 != size {
        return Err(GzipError::Trailer("length"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn decodes_real_gzip_and_rejects_corruption() {
        // Produced by the real `gzip` program, as the kernel's own build does for config.gz.
        let plain = b"CONFIG_NET_NS=y\nCONFIG_VETH=m\n".repeat(50);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, &plain).unwrap();
        let status = std::process::Command::new("gzip").arg("-9").arg(&f).status().expect("gzip installed");
        assert!(status.success());
        let gz = std::fs::read(dir.path().join("config.gz")).unwrap();
        assert_eq!(decompress(&gz).unwrap(), plain);
        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 6] ^= 1; // CRC
        assert_eq!(decompress(&bad), Err(GzipError::Trailer("CRC-32")));
        assert!(decompress(&gz[..gz.len() / 2]).is_err());
        assert!(decompress(b"CONFIG_X=y\n").is_err());
    }
}
