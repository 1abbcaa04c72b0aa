//! Byte classes of HAProxy's `http_char_classes` table (`src/http.c`), the ones the parser
//! needs.

/// `token` of RFC 9110: any visible ASCII except separators. HAProxy uses it for methods and
/// header names.
const fn token_class(c: u8) -> bool {
    matches!(c,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z')
}

/// [`token_class`] as a table, as HAProxy's `http_char_classes`: one load per byte of every
/// header name, where the ranges cost a chain of compares.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = token_class(c as u8);
        c += 1;
    }
    t
};

pub fn is_token(c: u8) -> bool {
    TOKEN[c as usize]
}

/// Bytes allowed in the version token of a start line. HAProxy 2.6.12 accepts any upper-case
/// letter there (a response `HTTX/1.1` gets through; the request side later insists on
/// `HTTP/`), digits, `.` and `/`; lower case is refused.
pub(crate) fn is_ver_token(c: u8) -> bool {
    matches!(c, b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'/')
}

/// SP or HT.
pub(crate) fn is_spht(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// SP, HT, CR or LF (HAProxy's LWS class).
pub(crate) fn is_lws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// CR or LF.
pub(crate) fn is_crlf(c: u8) -> bool {
    c == b'\r' || c == b'\n'
}

/// Case-insensitive equality with `lit`, a literal of lower-case letters and `-` only, eight
/// bytes at a time: setting bit 0x20 lower-cases a letter and keeps `-`. The only other byte
/// it maps onto one of those is CR (onto `-`), which no header name holds and which a header
/// value holds only in an obs-fold, always followed by LF and then SP/HT, never a letter.
/// `eq_ignore_ascii_case` lower-cases both sides byte by byte: several times the cost, and
/// this runs on every header of every head.
pub fn eq_lower(a: &[u8], lit: &[u8]) -> bool {
    debug_assert!(lit.iter().all(|&c| c.is_ascii_lowercase() || c == b'-'));
    if a.len() != lit.len() {
        return false;
    }
    let (mut a8, mut l8) = (a.chunks_exact(8), lit.chunks_exact(8));
    for (x, y) in (&mut a8).zip(&mut l8) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else {
            return false;
        };
        if u64::from_le_bytes(x) | 0x2020_2020_2020_2020 != u64::from_le_bytes(y) {
            return false;
        }
    }
    a8.remainder()
        .iter()
        .zip(l8.remainder())
        .all(|(&x, &y)| x | 0x20 == y)
}

/// Trims LWS at both ends of `[start, end)` in `buf`.
pub(crate) fn trim_lws(buf: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && buf.get(start).is_some_and(|&c| is_lws(c)) {
        start += 1;
    }
    while end > start && buf.get(end - 1).is_some_and(|&c| is_lws(c)) {
        end -= 1;
    }
    (start, end)
}

/// Splits a header value into comma-separated elements the way HAProxy's
/// `http_find_hdr_value_end` does (commas inside a quoted string do not split), yielding each
/// element trimmed of LWS together with the offset (relative to `v`) of the comma that ends it,
/// or `v.len()`.
pub(crate) fn for_each_element(v: &[u8], mut f: impl FnMut(&[u8], usize)) {
    let mut i = 0;
    while i < v.len() {
        if v.get(i).is_some_and(|&c| is_lws(c)) {
            i += 1;
            continue;
        }
        let end = element_end(v, i);
        let word = v.get(i..end).unwrap_or(&[]);
        let mut wl = word.len();
        while wl > 0 && word.get(wl - 1).is_some_and(|&c| is_lws(c)) {
            wl -= 1;
        }
        f(word.get(..wl).unwrap_or(&[]), end);
        // Step over the comma itself.
        i = end + 1;
    }
}

/// Offset of the comma ending the element that starts at `from`, or `v.len()`.
pub(crate) fn element_end(v: &[u8], from: usize) -> usize {
    let mut quoted = false;
    let mut i = from;
    while let Some(&c) = v.get(i) {
        if quoted {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                quoted = false;
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            return i;
        }
        i += 1;
    }
    v.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn elements_split_on_commas_outside_quotes() {
        let mut got = Vec::new();
        for_each_element(b" a , \"b,c\" ,, d ", |w, _| got.push(w.to_vec()));
        assert_eq!(
            got,
            vec![
                b"a".to_vec(),
                b"\"b,c\"".to_vec(),
                b"".to_vec(),
                b"d".to_vec()
            ]
        );
    }

    #[test]
    fn eq_lower_is_case_insensitive_equality_for_its_literals() {
        for lit in [
            &b"content-length"[..],
            b"transfer-encoding",
            b"host",
            b"keep-alive",
            b"x",
        ] {
            assert!(eq_lower(lit, lit));
            assert!(eq_lower(&lit.to_ascii_uppercase(), lit));
            let mut mixed = lit.to_vec();
            mixed[0] = mixed[0].to_ascii_uppercase();
            assert!(eq_lower(&mixed, lit));
            // Every single-byte change that is not a case change is seen, in the 8-byte
            // part and in the tail alike.
            for i in 0..lit.len() {
                for c in 0..=255u8 {
                    let mut other = lit.to_vec();
                    other[i] = c;
                    let same = c.eq_ignore_ascii_case(&lit[i]) || (c == b'\r' && lit[i] == b'-');
                    assert_eq!(
                        eq_lower(&other, lit),
                        same,
                        "{:?}",
                        String::from_utf8_lossy(&other)
                    );
                }
            }
            assert!(!eq_lower(&lit[..lit.len() - 1], lit));
        }
    }

    #[test]
    fn token_and_version_classes() {
        assert!(is_token(b'G') && is_token(b'~') && !is_token(b'(') && !is_token(b' '));
        assert!(is_ver_token(b'X') && !is_ver_token(b'x') && is_ver_token(b'/'));
        // The table and the class agree on every byte, and only visible ASCII is a token.
        for c in 0..=255u8 {
            assert_eq!(is_token(c), token_class(c), "byte {c}");
            if is_token(c) {
                assert!(c.is_ascii_graphic());
            }
        }
        let tokens = (0..=255u8).filter(|&c| is_token(c)).count();
        assert_eq!(tokens, 26 * 2 + 10 + 15);
    }
}
