//! Body framing: where a message ends, for a proxy that forwards the body bytes unchanged.
//!
//! The chunked grammar follows HAProxy 2.6's `h1_parse_chunk_size`, `h1_skip_chunk_crlf` and
//! its trailer parsing: hex size of at most 13 significant digits (HAProxy refuses sizes of
//! 2^52 and above so that peers using floats never see them), optional SP/HT, `;extensions`,
//! then CRLF or a bare LF; data followed by CRLF or LF; trailers as header lines.

use crate::chars::{is_spht, is_token};
use crate::BodyKind;

/// Bytes a chunk-size line (digits, blanks and extensions) may take. HAProxy is bounded by its
/// 16 KiB buffer; we stop at the same order of size so that a peer cannot make us scan
/// forever.
const MAX_CHUNK_LINE: usize = 16320;
/// Bytes the whole trailer section may take (same reasoning).
const MAX_TRAILERS: usize = 16320;
/// Trailer fields allowed (`tune.http.maxhdr` - 1, as for headers).
const MAX_TRAILER_FIELDS: usize = 100;

/// Malformed chunked framing. The request side answers 400; for a response the caller
/// answers 502 (or aborts if the head was already forwarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("invalid chunk size")]
    BadSize,
    #[error("chunk size of 2^52 or more")]
    SizeOverflow,
    #[error("chunk-size line too long")]
    LineTooLong,
    #[error("missing CRLF after chunk data")]
    BadDataEnd,
    #[error("CR not followed by LF")]
    BadLineEnd,
    #[error("invalid trailer field")]
    BadTrailer,
    #[error("trailer section too large")]
    TrailersTooLarge,
}

impl ChunkError {
    /// What HAProxy answers a request with such a body: 400.
    pub fn status(&self) -> u16 {
        400
    }
}

/// Result of feeding bytes to a decoder or tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Bytes at the start of the fed slice that belong to this message.
    pub consumed: usize,
    /// The message ends exactly at `consumed`.
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Reading hex digits; `digits` counts them (at least one is required).
    Size {
        size: u64,
        digits: bool,
    },
    /// Blanks after the digits.
    SizeWs {
        size: u64,
    },
    /// Inside `;extension` up to the line end.
    Ext {
        size: u64,
    },
    /// CR seen at the end of the size line.
    SizeLf {
        size: u64,
    },
    /// Chunk payload.
    Data {
        left: u64,
    },
    /// After the payload: CR or LF expected.
    DataEnd,
    /// CR seen after the payload.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field name.
    TrailerName {
        len: usize,
    },
    /// Inside a trailer value.
    TrailerValue,
    /// CR seen at the end of a trailer line.
    TrailerLf,
    /// CR seen on the final empty line.
    LastLf,
    Done,
}

/// Tracks chunked framing; the bytes themselves are forwarded by the caller unchanged.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    st: St,
    /// Bytes of the current size line, or of the trailer section.
    line: usize,
    fields: usize,
    /// Whether the previous trailer line was a field (an obs-fold may then follow).
    after_field: bool,
    /// Chunk data bytes seen, framing excluded.
    payload: u64,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> Self {
        ChunkedDecoder {
            st: St::Size {
                size: 0,
                digits: false,
            },
            line: 0,
            fields: 0,
            after_field: false,
            payload: 0,
        }
    }

    /// Chunk data bytes seen so far, without the framing.
    pub fn payload(&self) -> u64 {
        self.payload
    }

    /// Whether the last chunk and the trailers have been seen.
    pub fn is_done(&self) -> bool {
        self.st == St::Done
    }

    /// Advances over `data`. `consumed` is all of `data` unless the message ends inside it.
    /// After an error the decoder must not be fed again.
    pub fn feed(&mut self, data: &[u8]) -> Result<ChunkProgress, ChunkError> {
        let mut i = 0;
        while i < data.len() {
            if let St::Data { left } = self.st {
                // Skip payload in one step: this is where large bodies spend their time.
                let avail = (data.len() - i) as u64;
                let take = left.min(avail);
                i += take as usize;
                self.payload += take;
                let left = left - take;
                self.st = if left == 0 {
                    St::DataEnd
                } else {
                    St::Data { left }
                };
                continue;
            }
            if self.st == St::Done {
                break;
            }
            let Some(&c) = data.get(i) else { break };
            self.step(c)?;
            i += 1;
        }
        Ok(ChunkProgress {
            consumed: i,
            done: self.st == St::Done,
        })
    }

    fn line_byte(&mut self) -> Result<(), ChunkError> {
        self.line += 1;
        if self.line > MAX_CHUNK_LINE {
            return Err(ChunkError::LineTooLong);
        }
        Ok(())
    }

    fn trailer_byte(&mut self) -> Result<(), ChunkError> {
        self.line += 1;
        if self.line > MAX_TRAILERS {
            return Err(ChunkError::TrailersTooLarge);
        }
        Ok(())
    }

    /// The size line is complete.
    fn size_done(&mut self, size: u64) {
        self.line = 0;
        self.st = if size == 0 {
            self.fields = 0;
            self.after_field = false;
            St::TrailerStart
        } else {
            St::Data { left: size }
        };
    }

    fn step(&mut self, c: u8) -> Result<(), ChunkError> {
        match self.st {
            St::Size { size, digits } => {
                self.line_byte()?;
                if let Some(d) = hex(c) {
                    let size = (size << 4) | u64::from(d);
                    if size & 0xF0_0000_0000_0000 != 0 {
                        return Err(ChunkError::SizeOverflow);
                    }
                    self.st = St::Size { size, digits: true };
                } else if !digits {
                    return Err(ChunkError::BadSize);
                } else {
                    self.after_size(size, c)?;
                }
            }
            St::SizeWs { size } => {
                self.line_byte()?;
                self.after_size(size, c)?;
            }
            St::Ext { size } => {
                self.line_byte()?;
                match c {
                    b'\r' => self.st = St::SizeLf { size },
                    b'\n' => self.size_done(size),
                    _ => {}
                }
            }
            St::SizeLf { size } => {
                if c != b'\n' {
                    return Err(ChunkError::BadLineEnd);
                }
                self.size_done(size);
            }
            St::DataEnd => match c {
                b'\r' => self.st = St::DataLf,
                b'\n' => {
                    self.st = St::Size {
                        size: 0,
                        digits: false,
                    }
                }
                _ => return Err(ChunkError::BadDataEnd),
            },
            St::DataLf => {
                if c != b'\n' {
                    return Err(ChunkError::BadDataEnd);
                }
                self.st = St::Size {
                    size: 0,
                    digits: false,
                };
            }
            St::TrailerStart => {
                self.trailer_byte()?;
                match c {
                    b'\r' => self.st = St::LastLf,
                    b'\n' => self.st = St::Done,
                    // obs-fold: continues the previous field's value.
                    _ if is_spht(c) && self.after_field => self.st = St::TrailerValue,
                    _ if is_token(c) => {
                        self.fields += 1;
                        if self.fields > MAX_TRAILER_FIELDS {
                            return Err(ChunkError::TrailersTooLarge);
                        }
                        self.st = St::TrailerName { len: 1 };
                    }
                    _ => return Err(ChunkError::BadTrailer),
                }
            }
            St::TrailerName { len } => {
                self.trailer_byte()?;
                match c {
                    b':' if len > 0 => self.st = St::TrailerValue,
                    _ if is_token(c) => self.st = St::TrailerName { len: len + 1 },
                    _ => return Err(ChunkError::BadTrailer),
                }
            }
            St::TrailerValue => {
                self.trailer_byte()?;
                match c {
                    b'\r' => self.st = St::TrailerLf,
                    b'\n' => {
                        self.after_field = true;
                        self.st = St::TrailerStart;
                    }
                    _ => {}
                }
            }
            St::TrailerLf => {
                self.trailer_byte()?;
                if c != b'\n' {
                    return Err(ChunkError::BadLineEnd);
                }
                self.after_field = true;
                self.st = St::TrailerStart;
            }
            St::LastLf => {
                if c != b'\n' {
                    return Err(ChunkError::BadLineEnd);
                }
                self.st = St::Done;
            }
            St::Data { .. } | St::Done => {}
        }
        Ok(())
    }

    /// A non-hex byte after at least one digit: blanks, extension or line end.
    fn after_size(&mut self, size: u64, c: u8) -> Result<(), ChunkError> {
        match c {
            _ if is_spht(c) => self.st = St::SizeWs { size },
            b';' => self.st = St::Ext { size },
            b'\r' => self.st = St::SizeLf { size },
            b'\n' => self.size_done(size),
            _ => return Err(ChunkError::BadSize),
        }
        Ok(())
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Track {
    Empty,
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

/// One framing tracker for every [`BodyKind`], so the proxy has a single thing to call.
#[derive(Debug, Clone)]
pub struct BodyTracker {
    track: Track,
    /// Body bytes taken for a length-delimited or until-close body.
    taken: u64,
}

impl BodyTracker {
    /// A tracker at the start of a body of this kind.
    pub fn new(kind: BodyKind) -> Self {
        let track = match kind {
            BodyKind::Empty | BodyKind::ContentLength(0) => Track::Empty,
            BodyKind::ContentLength(n) => Track::Length(n),
            BodyKind::Chunked => Track::Chunked(ChunkedDecoder::new()),
            BodyKind::UntilClose => Track::UntilClose,
        };
        BodyTracker { track, taken: 0 }
    }

    /// Advances over `data`. For `UntilClose` every byte belongs to the body and `done` stays
    /// false: the end is the server closing.
    pub fn feed(&mut self, data: &[u8]) -> Result<ChunkProgress, ChunkError> {
        match &mut self.track {
            Track::Empty => Ok(ChunkProgress {
                consumed: 0,
                done: true,
            }),
            Track::Length(left) => {
                let take = (*left).min(data.len() as u64);
                *left -= take;
                self.taken += take;
                Ok(ChunkProgress {
                    consumed: take as usize,
                    done: *left == 0,
                })
            }
            Track::Chunked(d) => d.feed(data),
            Track::UntilClose => {
                self.taken += data.len() as u64;
                Ok(ChunkProgress {
                    consumed: data.len(),
                    done: false,
                })
            }
        }
    }

    /// The body's size as HAProxy counts it for `%B` (in HTX): its data bytes, without the
    /// chunk framing, and one more for the end of a chunked body once seen. Trailer fields
    /// are not counted.
    pub fn htx_size(&self) -> u64 {
        match &self.track {
            Track::Chunked(d) => d.payload() + u64::from(d.is_done()),
            Track::Empty | Track::Length(_) | Track::UntilClose => self.taken,
        }
    }

    /// Whether the whole body has been seen.
    pub fn is_done(&self) -> bool {
        match &self.track {
            Track::Empty => true,
            Track::Length(left) => *left == 0,
            Track::Chunked(d) => d.is_done(),
            Track::UntilClose => false,
        }
    }

    /// Bytes still expected for a `Content-Length` body, when known.
    pub fn remaining(&self) -> Option<u64> {
        match &self.track {
            Track::Empty => Some(0),
            Track::Length(left) => Some(*left),
            Track::Chunked(_) | Track::UntilClose => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Feeds `data` in the given pieces; returns (total consumed, done) or the error.
    fn feed_split(data: &[u8], cuts: &[usize]) -> Result<(usize, bool), ChunkError> {
        let mut d = ChunkedDecoder::new();
        let mut pos = 0;
        let mut total = 0;
        let mut points: Vec<usize> = cuts.iter().copied().filter(|&c| c <= data.len()).collect();
        points.push(data.len());
        points.sort_unstable();
        for p in points {
            if p < pos {
                continue;
            }
            let prog = d.feed(&data[pos..p])?;
            total += prog.consumed;
            if prog.done {
                return Ok((total, true));
            }
            assert_eq!(prog.consumed, p - pos, "consumes everything until done");
            pos = p;
        }
        Ok((total, d.is_done()))
    }

    fn whole(data: &[u8]) -> Result<(usize, bool), ChunkError> {
        feed_split(data, &[])
    }

    fn byte_by_byte(data: &[u8]) -> Result<(usize, bool), ChunkError> {
        let cuts: Vec<usize> = (1..data.len()).collect();
        feed_split(data, &cuts)
    }

    /// Small deterministic PRNG so the split tests are reproducible without a dependency.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    const BODY: &[u8] = b"5\r\nhello\r\n1A;ext=\"x;y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n3 \r\nabc\n0\r\nX-Trailer: 1\r\nX-Other: a\r\n b\r\n\r\nNEXT REQUEST";

    #[test]
    fn chunked_ends_at_same_place_for_any_split() {
        let end = BODY.len() - b"NEXT REQUEST".len();
        assert_eq!(whole(BODY), Ok((end, true)));
        assert_eq!(byte_by_byte(BODY), Ok((end, true)));
        let mut rng = XorShift(0x5eed_1234_abcd_0001);
        for _ in 0..500 {
            let n = (rng.next() % 6) as usize;
            let cuts: Vec<usize> = (0..n)
                .map(|_| (rng.next() as usize) % (BODY.len() + 1))
                .collect();
            assert_eq!(feed_split(BODY, &cuts), Ok((end, true)), "cuts {cuts:?}");
        }
    }

    #[test]
    fn chunked_incomplete_is_not_done() {
        for cut in 0..BODY.len() - b"NEXT REQUEST".len() {
            let r = whole(&BODY[..cut]).unwrap();
            assert_eq!(r, (cut, false), "cut {cut}");
        }
    }

    #[test]
    fn chunked_table() {
        let cases: &[(&str, &[u8], Result<bool, ChunkError>)] = &[
            ("last chunk only", b"0\r\n\r\n", Ok(true)),
            ("bare lf everywhere", b"3\nabc\n0\n\n", Ok(true)),
            ("uppercase hex", b"A\r\n0123456789\r\n0\r\n\r\n", Ok(true)),
            (
                "leading zeros",
                b"0000000000000000000000003\r\nabc\r\n0\r\n\r\n",
                Ok(true),
            ),
            ("13 hex digits", b"fffffffffffff\r\n", Ok(false)),
            (
                "14 hex digits overflow",
                b"10000000000000\r\n",
                Err(ChunkError::SizeOverflow),
            ),
            (
                "64-bit overflow",
                b"10000000000000000\r\n",
                Err(ChunkError::SizeOverflow),
            ),
            ("empty size", b"\r\n", Err(ChunkError::BadSize)),
            ("non hex size", b"zz\r\n", Err(ChunkError::BadSize)),
            ("space then junk", b"3 x\r\n", Err(ChunkError::BadSize)),
            ("cr without lf", b"3\rabc", Err(ChunkError::BadLineEnd)),
            (
                "data not followed by crlf",
                b"3\r\nabcX\r\n",
                Err(ChunkError::BadDataEnd),
            ),
            ("trailers", b"0\r\nA: 1\r\nB: 2\r\n\r\n", Ok(true)),
            (
                "trailer without colon",
                b"0\r\nA\r\n\r\n",
                Err(ChunkError::BadTrailer),
            ),
            (
                "trailer space before colon",
                b"0\r\nA : 1\r\n\r\n",
                Err(ChunkError::BadTrailer),
            ),
            (
                "trailer starting with space",
                b"0\r\n A: 1\r\n\r\n",
                Err(ChunkError::BadTrailer),
            ),
            (
                "trailer bare cr",
                b"0\r\nA: 1\rx\r\n\r\n",
                Err(ChunkError::BadLineEnd),
            ),
        ];
        for (name, data, want) in cases {
            let got = whole(data).map(|(_, done)| done);
            assert_eq!(&got, want, "{name}");
            let got = byte_by_byte(data).map(|(_, done)| done);
            assert_eq!(&got, want, "{name} byte by byte");
        }
    }

    #[test]
    fn chunk_line_and_trailers_are_bounded() {
        let mut long_ext = b"1;".to_vec();
        long_ext.extend(std::iter::repeat_n(b'x', MAX_CHUNK_LINE));
        assert_eq!(whole(&long_ext), Err(ChunkError::LineTooLong));
        let mut big = b"0\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_TRAILERS));
        assert_eq!(whole(&big), Err(ChunkError::TrailersTooLarge));
        let mut many = b"0\r\n".to_vec();
        for _ in 0..=MAX_TRAILER_FIELDS {
            many.extend_from_slice(b"a: b\r\n");
        }
        assert_eq!(whole(&many), Err(ChunkError::TrailersTooLarge));
    }

    #[test]
    fn huge_chunk_is_skipped_without_scanning() {
        let mut d = ChunkedDecoder::new();
        d.feed(b"fffffffffffff\r\n").unwrap();
        let data = vec![0u8; 1 << 20];
        let p = d.feed(&data).unwrap();
        assert_eq!(
            p,
            ChunkProgress {
                consumed: data.len(),
                done: false
            }
        );
    }

    #[test]
    fn tracker_content_length_countdown() {
        let mut t = BodyTracker::new(BodyKind::ContentLength(5));
        assert_eq!(
            t.feed(b"abc").unwrap(),
            ChunkProgress {
                consumed: 3,
                done: false
            }
        );
        assert_eq!(t.remaining(), Some(2));
        assert_eq!(
            t.feed(b"defGET").unwrap(),
            ChunkProgress {
                consumed: 2,
                done: true
            }
        );
        assert!(t.is_done());
    }

    #[test]
    fn tracker_other_kinds() {
        let mut t = BodyTracker::new(BodyKind::Empty);
        assert!(t.is_done());
        assert_eq!(
            t.feed(b"x").unwrap(),
            ChunkProgress {
                consumed: 0,
                done: true
            }
        );
        assert!(BodyTracker::new(BodyKind::ContentLength(0)).is_done());
        let mut t = BodyTracker::new(BodyKind::UntilClose);
        assert_eq!(
            t.feed(b"xyz").unwrap(),
            ChunkProgress {
                consumed: 3,
                done: false
            }
        );
        assert!(!t.is_done());
        let mut t = BodyTracker::new(BodyKind::Chunked);
        assert_eq!(
            t.feed(b"1\r\na\r\n0\r\n\r\nrest").unwrap(),
            ChunkProgress {
                consumed: 11,
                done: true
            }
        );
        assert!(t.is_done());
        assert_eq!(ChunkError::BadSize.status(), 400);
    }
}
