//! Chunked HTTP/1 bodies between the HTTP/1 stream and HTTP/2: taken apart into chunk data
//! and a trailer section as their bytes come (for DATA frames and a trailing HEADERS
//! frame), and chunk-size lines written. Both HTTP/2 sides use it: the client connection
//! (`mux_h2`) for responses, the server side (`server_h2`) for uploads.

/// Where the decoding of a chunked body stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unchunk {
    Size,
    /// Inside a chunk, with this many data bytes to come.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    Trailers,
}

/// What the bytes at the front of a body's buffer are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// This many bytes of chunk data (no more than the chunk holds): the caller takes some
    /// or all of them and says how many with [`Unchunk::took`].
    Data(usize),
    /// Framing, consumed: the caller drops this many bytes.
    Skip(usize),
    /// The body's end: `len` bytes in all, of which the first `fields` are trailer lines
    /// (see [`trailer_fields`]; 0 when there are none).
    End {
        len: usize,
        fields: usize,
    },
    NeedBytes,
    Bad,
}

/// The longest size line taken (with its extensions).
const MAX_SIZE_LINE: usize = 1024;
/// The largest trailer section taken.
const MAX_TRAILERS: usize = 16 * 1024;

impl Unchunk {
    /// Looks at the front of the body bytes not taken yet.
    pub(crate) fn next(&mut self, avail: &[u8]) -> Piece {
        match *self {
            Unchunk::Size => {
                let Some(eol) = find_crlf(avail) else {
                    return if avail.len() > MAX_SIZE_LINE {
                        Piece::Bad
                    } else {
                        Piece::NeedBytes
                    };
                };
                let digits = avail[..eol].split(|&b| b == b';').next().unwrap_or(b"");
                let Some(size) = parse_hex(digits) else {
                    return Piece::Bad;
                };
                *self = if size == 0 {
                    Unchunk::Trailers
                } else {
                    Unchunk::Data(size)
                };
                Piece::Skip(eol + 2)
            }
            Unchunk::Data(left) => {
                if avail.is_empty() {
                    Piece::NeedBytes
                } else {
                    Piece::Data(left.min(avail.len() as u64) as usize)
                }
            }
            Unchunk::DataEnd => match avail.get(..2) {
                None => Piece::NeedBytes,
                Some(b"\r\n") => {
                    *self = Unchunk::Size;
                    Piece::Skip(2)
                }
                Some(_) => Piece::Bad,
            },
            Unchunk::Trailers => {
                if avail.starts_with(b"\r\n") {
                    return Piece::End { len: 2, fields: 0 };
                }
                match avail.windows(4).position(|w| w == b"\r\n\r\n") {
                    Some(p) => Piece::End {
                        len: p + 4,
                        fields: p + 2,
                    },
                    None if avail.len() > MAX_TRAILERS => Piece::Bad,
                    None => Piece::NeedBytes,
                }
            }
        }
    }

    /// The caller took `n` bytes of a [`Piece::Data`].
    pub(crate) fn took(&mut self, n: usize) {
        if let Unchunk::Data(left) = self {
            *left = left.saturating_sub(n as u64);
            if *left == 0 {
                *self = Unchunk::DataEnd;
            }
        }
    }
}

/// The (name, value) fields of a trailer section, trimmed; lines without a name are skipped.
pub(crate) fn trailer_fields(section: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    section.split(|&b| b == b'\n').filter_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let name = line[..colon].trim_ascii();
        (!name.is_empty()).then(|| (name, line[colon + 1..].trim_ascii()))
    })
}

/// The position of the first CRLF.
fn find_crlf(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = b[from..].iter().position(|&c| c == b'\n') {
        let at = from + p;
        if at > 0 && b[at - 1] == b'\r' {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

fn parse_hex(digits: &[u8]) -> Option<u64> {
    let digits = digits.trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut v = 0u64;
    for &d in digits {
        v = (v << 4) | u64::from((d as char).to_digit(16)?);
    }
    Some(v)
}

/// A chunk-size line (`n` in hex, then CRLF), on the stack.
pub(crate) struct SizeLine {
    buf: [u8; 18],
    len: usize,
}

impl SizeLine {
    pub(crate) fn new(mut n: usize) -> SizeLine {
        let mut digits = [0u8; 16];
        let mut count = 0;
        loop {
            digits[count] = b"0123456789abcdef"[n & 0xf];
            n >>= 4;
            count += 1;
            if n == 0 {
                break;
            }
        }
        let mut buf = [0u8; 18];
        for i in 0..count {
            buf[i] = digits[count - 1 - i];
        }
        buf[count] = b'\r';
        buf[count + 1] = b'\n';
        SizeLine {
            buf,
            len: count + 2,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a whole body through, taking `take` data bytes at a time: the data, and the
    /// trailer section.
    fn decode(body: &[u8], take: usize) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut u = Unchunk::Size;
        let mut at = 0;
        let mut data = Vec::new();
        loop {
            match u.next(&body[at..]) {
                Piece::Data(n) => {
                    let n = n.min(take);
                    data.extend_from_slice(&body[at..at + n]);
                    u.took(n);
                    at += n;
                }
                Piece::Skip(n) => at += n,
                Piece::End { len, fields } => {
                    assert_eq!(at + len, body.len(), "the end is the body's end");
                    return Some((data, body[at..at + fields].to_vec()));
                }
                Piece::NeedBytes | Piece::Bad => return None,
            }
        }
    }

    #[test]
    fn chunks_come_apart_into_data_and_trailers() {
        let body = b"3\r\nabc\r\n2;ext=1\r\nde\r\nA\r\n0123456789\r\n0\r\ngrpc-status: 0\r\nx:  y \r\n\r\n";
        for take in [1, 2, 100] {
            let (data, trailers) = decode(body, take).unwrap();
            assert_eq!(data, b"abcde0123456789");
            let fields: Vec<_> = trailer_fields(&trailers).collect();
            assert_eq!(fields, vec![(&b"grpc-status"[..], &b"0"[..]), (b"x", b"y")]);
        }
        let (data, trailers) = decode(b"0\r\n\r\n", 10).unwrap();
        assert!(data.is_empty() && trailers.is_empty());
    }

    #[test]
    fn bad_and_short_bodies() {
        // not hex, no CRLF after the data, a size line too long
        assert_eq!(Unchunk::Size.next(b"zz\r\n"), Piece::Bad);
        assert_eq!(decode(b"1\r\nab\r\n0\r\n\r\n", 10), None);
        assert_eq!(Unchunk::Size.next(&[b'1'; 2000]), Piece::Bad);
        // short: more bytes needed
        assert_eq!(Unchunk::Size.next(b"1"), Piece::NeedBytes);
        assert_eq!(Unchunk::DataEnd.next(b"\r"), Piece::NeedBytes);
        assert_eq!(Unchunk::Trailers.next(b"a: b\r\n"), Piece::NeedBytes);
        assert_eq!(parse_hex(b"1A2f"), Some(0x1a2f));
        assert_eq!(parse_hex(b""), None);
    }

    #[test]
    fn size_lines() {
        assert_eq!(SizeLine::new(0x1a2f).bytes(), b"1a2f\r\n");
        assert_eq!(SizeLine::new(0).bytes(), b"0\r\n");
        assert_eq!(SizeLine::new(usize::MAX).bytes(), b"ffffffffffffffff\r\n");
    }
}
