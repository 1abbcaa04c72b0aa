//! HPACK (RFC 7541): a decoder with the dynamic table and Huffman strings, and an encoder
//! that writes literal fields without indexing.

mod decode;
mod encode;
mod huffman;
mod huffman_table;
mod table;

pub use decode::{DecodeError, Decoder};
pub use encode::{encode_field, encode_status};

/// Reads an integer with an `n`-bit prefix (RFC 7541 section 5.1) from `b[*at..]`,
/// advancing `at`. `None` when truncated or past `u32`.
fn read_int(b: &[u8], at: &mut usize, n: u8) -> Option<usize> {
    let mask = (1u32 << n) - 1;
    let first = u32::from(*b.get(*at)?) & mask;
    *at += 1;
    if first < mask {
        return Some(first as usize);
    }
    let mut v = u64::from(mask);
    let mut shift = 0;
    loop {
        let byte = *b.get(*at)?;
        *at += 1;
        v += u64::from(byte & 0x7f) << shift;
        if v > u64::from(u32::MAX) {
            return None;
        }
        if byte & 0x80 == 0 {
            return Some(v as usize);
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

/// Appends `v` with an `n`-bit prefix, the prefix's upper bits taken from `high`.
fn write_int(out: &mut Vec<u8>, high: u8, n: u8, v: usize) {
    let mask = (1usize << n) - 1;
    if v < mask {
        out.push(high | v as u8);
        return;
    }
    out.push(high | mask as u8);
    let mut rest = v - mask;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Bytes from hex digits, spaces and line breaks ignored (as the RFC prints them).
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit one.
    #[test]
    fn integers_as_in_the_rfc_examples() {
        for (v, n, bytes) in [
            (10usize, 5u8, vec![0x0a]),
            (1337, 5, vec![0x1f, 0x9a, 0x0a]),
            (42, 8, vec![0x2a]),
        ] {
            let mut out = Vec::new();
            write_int(&mut out, 0, n, v);
            assert_eq!(out, bytes);
            let mut at = 0;
            assert_eq!(read_int(&bytes, &mut at, n), Some(v));
            assert_eq!(at, bytes.len());
        }
        // truncated, and too large
        assert_eq!(read_int(&[0x1f, 0x9a], &mut 0, 5), None);
        assert_eq!(
            read_int(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f], &mut 0, 5),
            None
        );
        assert_eq!(
            read_int(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], &mut 0, 5),
            None
        );
    }
}
