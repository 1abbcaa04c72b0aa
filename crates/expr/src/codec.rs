//! Encodings and hashes used by converters (manual section 7.3.1: base64,
//! b64dec, hex, url_dec, url_enc, json, crc32, djb2, sdbm, wt6).

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(input: &[u8], out: &mut Vec<u8>) {
    for ch in input.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63]);
        out.push(B64[(n >> 12) as usize & 63]);
        out.push(if ch.len() > 1 {
            B64[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if ch.len() > 2 {
            B64[n as usize & 63]
        } else {
            b'='
        });
    }
}

fn b64_val(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Base64 decoding (padding optional); `None` on invalid input.
pub fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let trimmed = match input.iter().rposition(|&c| c != b'=') {
        Some(p) => &input[..=p],
        None => &input[..0],
    };
    if input.len() - trimmed.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in trimmed {
        acc = (acc << 6) | b64_val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Upper-case hexadecimal.
pub fn hex_encode(input: &[u8], out: &mut Vec<u8>) {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    for &c in input {
        out.push(H[(c >> 4) as usize]);
        out.push(H[(c & 15) as usize]);
    }
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|v| v as u8)
}

/// Percent-decoding; `in_query` also turns '+' into a space.
pub fn url_decode(input: &[u8], in_query: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let h = hexval(*input.get(i + 1)?)?;
                let l = hexval(*input.get(i + 2)?)?;
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            b'+' if in_query => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Percent-encoding of everything but unreserved characters (RFC 3986).
pub fn url_encode(input: &[u8], out: &mut Vec<u8>) {
    for &c in input {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c);
        } else {
            out.push(b'%');
            hex_encode(&[c], out);
        }
    }
}

/// JSON string escaping (HAProxy `json` converter, "utf8" modes treated alike).
pub fn json_escape(input: &[u8], out: &mut Vec<u8>) {
    for &c in input {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 => {
                out.extend_from_slice(b"\\u00");
                hex_encode(&[c], out);
            }
            c => out.push(c),
        }
    }
}

/// CRC32 (IEEE, as zlib).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// DJB2 hash.
pub fn djb2(data: &[u8]) -> u32 {
    data.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// SDBM hash.
pub fn sdbm(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// Willy Tarreau's WT6 hash.
pub fn wt6(data: &[u8]) -> u32 {
    let mut hash: u32 = 0;
    for &c in data {
        let c = u32::from(c);
        hash = (hash << 6).wrapping_add(hash >> 6).wrapping_add(c);
        hash = hash.wrapping_add(hash << 1) ^ c;
    }
    hash
}

/// Thomas Wang's 32-bit avalanche (HAProxy `full_hash`).
pub fn avalanche(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn b64_roundtrip() {
        for (p, e) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            (
                "vip:ipaygoodmoneyforthis",
                "dmlwOmlwYXlnb29kbW9uZXlmb3J0aGlz",
            ),
        ] {
            let mut o = Vec::new();
            base64_encode(p.as_bytes(), &mut o);
            assert_eq!(o, e.as_bytes());
            assert_eq!(base64_decode(e.as_bytes()).unwrap(), p.as_bytes());
        }
        assert!(base64_decode(b"Zm9v!").is_none());
    }

    #[test]
    fn hashes() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(url_decode(b"a%20b+c", true).unwrap(), b"a b c");
        assert!(url_decode(b"%zz", false).is_none());
        let mut o = Vec::new();
        url_encode(b"a b/", &mut o);
        assert_eq!(o, b"a%20b%2F");
    }
}
