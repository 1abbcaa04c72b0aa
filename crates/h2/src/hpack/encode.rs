//! The HPACK encoder for response heads: `:status` indexed when the static table has it,
//! every other field a literal without indexing, named by its static index where there is
//! one, strings as they are. The peer's table is never touched, so no state is kept.

use super::table::STATIC;
use super::write_int;

/// Appends `:status`.
pub fn encode_status(out: &mut Vec<u8>, status: u16) {
    let index = match status {
        200 => 8,
        204 => 9,
        206 => 10,
        304 => 11,
        400 => 12,
        404 => 13,
        500 => 14,
        _ => 0,
    };
    if index != 0 {
        out.push(0x80 | index);
        return;
    }
    // literal without indexing, name `:status` (index 8)
    out.push(0x08);
    let mut digits = [0u8; 5];
    let mut n = status;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 || len == digits.len() {
            break;
        }
    }
    write_int(out, 0, 7, len);
    out.extend(digits[..len].iter().rev());
}

/// Appends a field as a literal without indexing. HTTP/2 wants lower-case names: `name` is
/// lower-cased as it is written.
pub fn encode_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    match static_name(name) {
        Some(i) => write_int(out, 0, 4, i),
        None => {
            out.push(0);
            write_int(out, 0, 7, name.len());
            out.extend(name.iter().map(u8::to_ascii_lowercase));
        }
    }
    write_int(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// The longest static-table name.
const MAX_NAME: usize = 27;
/// The most static-table names of one length.
const PER_LEN: usize = 8;

/// The static-table indexes of the regular header names (15 on: each name once), by name
/// length; 0 ends a list. Built at compile time, so a lookup compares a handful of names.
const BY_LEN: [[u8; PER_LEN]; MAX_NAME + 1] = {
    let mut t = [[0u8; PER_LEN]; MAX_NAME + 1];
    let mut i = 14;
    while i < STATIC.len() {
        let len = STATIC[i].0.len();
        let mut k = 0;
        while t[len][k] != 0 {
            k += 1;
        }
        t[len][k] = (i + 1) as u8;
        i += 1;
    }
    t
};

/// The static-table index of a regular header name, whatever its case.
fn static_name(name: &[u8]) -> Option<usize> {
    let candidates = BY_LEN.get(name.len())?;
    candidates
        .iter()
        .take_while(|&&i| i != 0)
        .map(|&i| usize::from(i))
        .find(|&i| STATIC[i - 1].0.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::super::Decoder;
    use super::*;

    fn decode(block: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        Decoder::new(4096)
            .decode(block, |n, v| out.push((n.to_vec(), v.to_vec())))
            .unwrap();
        out
    }

    #[test]
    fn statuses_and_fields_decode_back() {
        let mut out = Vec::new();
        for s in [200, 204, 206, 304, 400, 404, 500, 100, 302, 503, 999] {
            out.clear();
            encode_status(&mut out, s);
            assert_eq!(
                decode(&out),
                vec![(b":status".to_vec(), s.to_string().into_bytes())]
            );
        }
        out.clear();
        encode_field(&mut out, b"Content-Type", b"text/html");
        encode_field(&mut out, b"X-Custom-Header", b"");
        encode_field(&mut out, b"www-authenticate", &[b'a'; 300]);
        encode_field(&mut out, b"Accept-Charset", b"utf-8");
        assert_eq!(
            decode(&out),
            vec![
                (b"content-type".to_vec(), b"text/html".to_vec()),
                (b"x-custom-header".to_vec(), b"".to_vec()),
                (b"www-authenticate".to_vec(), vec![b'a'; 300]),
                (b"accept-charset".to_vec(), b"utf-8".to_vec()),
            ]
        );
        // a known name costs one byte
        out.clear();
        encode_field(&mut out, b"date", b"x");
        assert_eq!(out, [0x0f, 0x12, 0x01, b'x']);
    }

    /// The length buckets hold every regular name, and nothing else.
    #[test]
    fn every_static_name_is_found_by_its_bucket() {
        for (i, (n, _)) in STATIC.iter().enumerate().skip(14) {
            assert_eq!(static_name(n), Some(i + 1));
            assert_eq!(static_name(&n.to_ascii_uppercase()), Some(i + 1));
        }
        assert_eq!(static_name(&[b'a'; 40]), None);
    }

    #[test]
    fn pseudo_headers_are_not_names_of_regular_fields() {
        assert_eq!(static_name(b":path"), None);
        assert_eq!(static_name(b"host"), Some(38));
        assert_eq!(static_name(b"SET-COOKIE"), Some(55));
        assert_eq!(static_name(b""), None);
    }
}
