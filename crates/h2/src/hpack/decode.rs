//! The HPACK decoder: a header block to (name, value) fields, keeping the dynamic table in
//! step with the peer's encoder.

use std::collections::VecDeque;

use super::table::STATIC;
use super::{huffman, read_int};

/// Why a header block could not be decoded. Any of these is a connection error
/// (COMPRESSION_ERROR): the dynamic table can no longer be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The block ends inside a field.
    Truncated,
    /// An integer past `u32`.
    Integer,
    /// Index 0, or past the end of the tables.
    Index,
    /// A Huffman string with EOS or bad padding.
    Huffman,
    /// A table size update past the limit, or after a field.
    TableSize,
}

/// One dynamic table entry: name and value in one allocation.
struct Entry {
    bytes: Box<[u8]>,
    name_len: usize,
}

impl Entry {
    fn name(&self) -> &[u8] {
        &self.bytes[..self.name_len]
    }

    fn value(&self) -> &[u8] {
        &self.bytes[self.name_len..]
    }

    fn size(&self) -> usize {
        self.bytes.len() + 32
    }
}

/// Decodes the header blocks of one connection, in order.
pub struct Decoder {
    /// Newest first (index 62 is `table[0]`).
    table: VecDeque<Entry>,
    size: usize,
    /// The size the encoder last chose (at most `limit`).
    max: usize,
    /// Our `SETTINGS_HEADER_TABLE_SIZE`.
    limit: usize,
    name: Vec<u8>,
    value: Vec<u8>,
}

enum Name {
    Indexed(usize),
    Literal,
}

impl Decoder {
    /// A decoder whose table may hold `limit` bytes (4096 unless we said otherwise).
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max: limit,
            limit,
            name: Vec::new(),
            value: Vec::new(),
        }
    }

    /// Decodes `block`, handing each field to `emit` in order.
    pub fn decode(
        &mut self,
        block: &[u8],
        mut emit: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), DecodeError> {
        let mut at = 0;
        let mut fields = false;
        while let Some(&b) = block.get(at) {
            if b & 0x80 != 0 {
                let i = read_int(block, &mut at, 7).ok_or(DecodeError::Integer)?;
                let (n, v) = self.get(i)?;
                emit(n, v);
                fields = true;
            } else if b & 0xc0 == 0x40 {
                let name = self.read_name(block, &mut at, 6)?;
                self.read_string(block, &mut at, false)?;
                self.emit_and_maybe_insert(name, true, &mut emit)?;
                fields = true;
            } else if b & 0xe0 == 0x20 {
                if fields {
                    return Err(DecodeError::TableSize);
                }
                let max = read_int(block, &mut at, 5).ok_or(DecodeError::Integer)?;
                if max > self.limit {
                    return Err(DecodeError::TableSize);
                }
                self.max = max;
                self.evict(0);
            } else {
                // without indexing (0000) or never indexed (0001): the same to a decoder
                let name = self.read_name(block, &mut at, 4)?;
                self.read_string(block, &mut at, false)?;
                self.emit_and_maybe_insert(name, false, &mut emit)?;
                fields = true;
            }
        }
        Ok(())
    }

    fn get(&self, i: usize) -> Result<(&[u8], &[u8]), DecodeError> {
        match i {
            0 => Err(DecodeError::Index),
            1..=61 => Ok(STATIC[i - 1]),
            _ => self
                .table
                .get(i - 62)
                .map(|e| (e.name(), e.value()))
                .ok_or(DecodeError::Index),
        }
    }

    /// The name of a literal field: an index into the tables, or a string that follows
    /// (read into `self.name`).
    fn read_name(&mut self, b: &[u8], at: &mut usize, prefix: u8) -> Result<Name, DecodeError> {
        let i = read_int(b, at, prefix).ok_or(DecodeError::Integer)?;
        if i == 0 {
            self.read_string(b, at, true)?;
            Ok(Name::Literal)
        } else {
            self.get(i)?;
            Ok(Name::Indexed(i))
        }
    }

    /// Reads a string literal into `self.name` or `self.value`.
    fn read_string(&mut self, b: &[u8], at: &mut usize, name: bool) -> Result<(), DecodeError> {
        let huff = b.get(*at).ok_or(DecodeError::Truncated)? & 0x80 != 0;
        let len = read_int(b, at, 7).ok_or(DecodeError::Integer)?;
        let end = at.checked_add(len).ok_or(DecodeError::Truncated)?;
        let raw = b.get(*at..end).ok_or(DecodeError::Truncated)?;
        *at = end;
        let out = if name {
            &mut self.name
        } else {
            &mut self.value
        };
        out.clear();
        if huff {
            huffman::decode(raw, out).map_err(|()| DecodeError::Huffman)
        } else {
            out.extend_from_slice(raw);
            Ok(())
        }
    }

    fn emit_and_maybe_insert(
        &mut self,
        name: Name,
        insert: bool,
        emit: &mut impl FnMut(&[u8], &[u8]),
    ) -> Result<(), DecodeError> {
        let n = match name {
            Name::Indexed(i) => self.get(i)?.0,
            Name::Literal => &self.name,
        };
        emit(n, &self.value);
        if insert {
            let mut bytes = Vec::with_capacity(n.len() + self.value.len());
            bytes.extend_from_slice(n);
            bytes.extend_from_slice(&self.value);
            let e = Entry {
                bytes: bytes.into_boxed_slice(),
                name_len: n.len(),
            };
            let size = e.size();
            if size > self.max {
                // An entry larger than the table empties it and is not added.
                self.table.clear();
                self.size = 0;
            } else {
                self.evict(size);
                self.size += size;
                self.table.push_front(e);
            }
        }
        Ok(())
    }

    /// Drops the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max {
            match self.table.pop_back() {
                Some(e) => self.size -= e.size(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::tests::hex;

    fn fields(d: &mut Decoder, block: &str) -> Result<Vec<(String, String)>, DecodeError> {
        let mut out = Vec::new();
        d.decode(&hex(block), |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })?;
        Ok(out)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// RFC 7541 C.3 (requests without Huffman) and C.4 (with), three on one connection.
    #[test]
    fn rfc_request_examples_keep_the_table_in_step() {
        for blocks in [
            [
                "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "8286 84be 5808 6e6f 2d63 6163 6865",
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            ],
            [
                "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                "8286 84be 5886 a8eb 1064 9cbf",
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            ],
        ] {
            let mut d = Decoder::new(4096);
            let base = [
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ];
            assert_eq!(fields(&mut d, blocks[0]).unwrap(), pairs(&base));
            let mut second = base.to_vec();
            second.push(("cache-control", "no-cache"));
            assert_eq!(fields(&mut d, blocks[1]).unwrap(), pairs(&second));
            assert_eq!(
                fields(&mut d, blocks[2]).unwrap(),
                pairs(&[
                    (":method", "GET"),
                    (":scheme", "https"),
                    (":path", "/index.html"),
                    (":authority", "www.example.com"),
                    ("custom-key", "custom-value"),
                ])
            );
            assert_eq!(d.size, 164);
        }
    }

    /// RFC 7541 C.5: responses with a 256-byte table, so entries are evicted.
    #[test]
    fn rfc_response_examples_evict_the_oldest() {
        let mut d = Decoder::new(256);
        let first = fields(
            &mut d,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230
             3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65
             7861 6d70 6c65 2e63 6f6d",
        )
        .unwrap();
        assert_eq!(first[0], (":status".into(), "302".into()));
        assert_eq!(d.size, 222);
        let second = fields(&mut d, "4803 3330 37c1 c0bf").unwrap();
        assert_eq!(second[0].1, "307");
        assert_eq!(second[3].1, "https://www.example.com");
        assert_eq!(d.size, 222);
        let third = fields(
            &mut d,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220
             474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157
             454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076
             6572 7369 6f6e 3d31",
        )
        .unwrap();
        assert_eq!(third[0], (":status".into(), "200".into()));
        assert_eq!(third[4], ("content-encoding".into(), "gzip".into()));
        assert_eq!(d.size, 215);
        assert_eq!(d.table.len(), 3);
    }

    /// Random blocks (a fixed xorshift sequence, some built from valid pieces) decode or
    /// fail cleanly, never panic, and keep the table within its size.
    #[test]
    fn random_blocks_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut d = Decoder::new(256);
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let block: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    // bias toward small indexes and short lengths, so fields decode
                    match r % 4 {
                        0 => 0x40 | (r >> 8) as u8 & 0x3f,
                        1 => (r >> 8) as u8 & 0x0f,
                        _ => (r >> 8) as u8,
                    }
                })
                .collect();
            let mut n = 0;
            let _ = d.decode(&block, |_, _| n += 1);
            assert!(d.size <= d.max);
        }
    }

    #[test]
    fn bad_blocks_are_refused() {
        let mut d = Decoder::new(4096);
        assert_eq!(fields(&mut d, "80"), Err(DecodeError::Index));
        assert_eq!(fields(&mut d, "be"), Err(DecodeError::Index));
        assert_eq!(fields(&mut d, "4005 6162"), Err(DecodeError::Truncated));
        assert_eq!(fields(&mut d, "3fe2 1f"), Err(DecodeError::TableSize));
        assert_eq!(fields(&mut d, "82 20"), Err(DecodeError::TableSize));
        assert_eq!(fields(&mut d, "0081 00"), Err(DecodeError::Huffman));
        // a size update at the start is fine, and shrinks the table
        assert_eq!(
            fields(&mut d, "20 82").unwrap(),
            pairs(&[(":method", "GET")])
        );
        assert_eq!(d.max, 0);
    }
}
