//! Compact storage of a pattern file's entries (manual section 7.1 "-f":
//! one pattern per line, '#' comments, blank lines ignored; maps: key and
//! value separated by blanks, section 7.3.1 `map`).
//!
//! All entries live in one buffer, one record after the other, in file
//! order. Keys and values never hold NUL or newline bytes, so a record is
//! either text, `key [\0 value] \n`, or starts with a NUL marker:
//!
//! * `\0 T_EMPTY value \n`: an empty key with a value;
//! * `\0 T_V4 a b c d [value \n]`: a key written exactly as IPv4 `a.b.c.d`;
//! * `\0 T_V4_LEN a b c d len [value \n]`: a key written exactly as
//!   `a.b.c.d/len`, in canonical form (no leading zeros).
//!
//! With `T_VALUE` or'ed into the tag when a value follows. A million
//! addresses thus take 6 to 7 bytes each instead of their text, and keys
//! still read back exactly as written. A record's offset in the buffer
//! (`Entry::off`) identifies it for indexes.

use std::borrow::Cow;
use std::net::Ipv4Addr;

const MARK: u8 = 0;
const T_EMPTY: u8 = 0;
const T_V4: u8 = 1;
const T_V4_LEN: u8 = 2;
const T_VALUE: u8 = 4;

/// A stored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// Any text.
    Text(&'a [u8]),
    /// Canonical IPv4 text: `a.b.c.d` (no length) or `a.b.c.d/len`.
    V4(u32, Option<u8>),
}

impl<'a> Key<'a> {
    /// The key as a user wrote it: binary keys when the text is canonical
    /// IPv4, so that equal texts give equal keys.
    pub fn encode(text: &'a [u8]) -> Self {
        match compact_v4(text) {
            Some((a, l)) => Key::V4(a, l),
            None => Key::Text(text),
        }
    }

    /// The key's text.
    pub fn text(&self) -> Cow<'a, [u8]> {
        match *self {
            Key::Text(t) => Cow::Borrowed(t),
            Key::V4(a, None) => Cow::Owned(Ipv4Addr::from(a).to_string().into_bytes()),
            Key::V4(a, Some(l)) => Cow::Owned(format!("{}/{l}", Ipv4Addr::from(a)).into_bytes()),
        }
    }
}

/// One decimal number of at most `max` without leading zeros.
fn canon_num(s: &[u8], max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 3 || (s.len() > 1 && s[0] == b'0') {
        return None;
    }
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    (v <= max).then_some(v)
}

/// `a.b.c.d` or `a.b.c.d/len` in exactly the form `Key::text` writes back.
fn compact_v4(s: &[u8]) -> Option<(u32, Option<u8>)> {
    if s.len() < 7 || s.len() > 18 || !s[0].is_ascii_digit() {
        return None;
    }
    let (a, len) = match s.iter().position(|&c| c == b'/') {
        Some(p) => (&s[..p], Some(canon_num(&s[p + 1..], 32)? as u8)),
        None => (s, None),
    };
    let mut v = 0u32;
    let mut n = 0;
    for part in a.split(|&c| c == b'.') {
        v = (v << 8) | canon_num(part, 255)?;
        n += 1;
    }
    (n == 4).then_some((v, len))
}

fn be32(s: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(s.get(..4)?.try_into().ok()?))
}

/// One entry, as read back from the buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The record's offset in the buffer (a stable id for this content).
    pub off: u32,
    pub key: Key<'a>,
    pub value: Option<&'a [u8]>,
    raw: &'a [u8],
}

/// Entries packed in one buffer (see the module documentation).
#[derive(Debug, Clone, Default)]
pub(crate) struct Entries {
    buf: Vec<u8>,
    count: usize,
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

/// `s` without NUL and newline bytes.
fn clean(s: &[u8]) -> Cow<'_, [u8]> {
    if s.iter().any(|&c| c == 0 || c == b'\n') {
        Cow::Owned(
            s.iter()
                .copied()
                .filter(|&c| c != 0 && c != b'\n')
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// The record of one file line into `rec`; false for blank and comment
/// lines. ACL lines are one key, with NULs turned into spaces; map lines
/// are a key up to the first blank, then the value, NULs dropped.
fn line_record(line: &[u8], is_map: bool, rec: &mut Vec<u8>) -> bool {
    let l = trim(line);
    if l.is_empty() || l[0] == b'#' {
        return false;
    }
    if is_map {
        let k_end = l
            .iter()
            .position(|&c| c == b' ' || c == b'\t')
            .unwrap_or(l.len());
        let k = clean(&l[..k_end]);
        encode(rec, Key::encode(&k), Some(&clean(trim(&l[k_end..]))));
    } else if l.contains(&0) {
        let k: Vec<u8> = l.iter().map(|&c| if c == 0 { b' ' } else { c }).collect();
        encode(rec, Key::encode(&k), None);
    } else {
        encode(rec, Key::encode(l), None);
    }
    true
}

/// Append the record of `key` and `value` (clean bytes) to `buf`.
fn encode(buf: &mut Vec<u8>, key: Key<'_>, value: Option<&[u8]>) {
    let vflag = if value.is_some() { T_VALUE } else { 0 };
    match key {
        Key::V4(a, len) => {
            buf.push(MARK);
            buf.push(if len.is_some() { T_V4_LEN } else { T_V4 } | vflag);
            buf.extend_from_slice(&a.to_be_bytes());
            buf.extend(len);
        }
        Key::Text([]) if value.is_some() => {
            buf.push(MARK);
            buf.push(T_EMPTY);
        }
        Key::Text(t) => {
            buf.extend_from_slice(t);
            if value.is_some() {
                buf.push(0);
            }
        }
    }
    if let Some(v) = value {
        buf.extend_from_slice(v);
    }
    if !matches!(key, Key::V4(..)) || value.is_some() {
        buf.push(b'\n');
    }
}

impl Entries {
    /// Parse a pattern file (`is_map`: split key and value). Records are
    /// written over the text as it is read, so loading needs no second copy
    /// of it; should a record not fit before the next unread line (a map
    /// key with no value gains a byte), the rest of the text is copied.
    pub fn parse_file(mut buf: Vec<u8>, is_map: bool) -> Self {
        let n = buf.len();
        let (mut r, mut w, mut count) = (0, 0, 0);
        let mut rec = Vec::new();
        while r < n {
            let end = buf[r..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(n, |p| r + p);
            let line = r..end;
            r = end + 1;
            rec.clear();
            if !line_record(&buf[line], is_map, &mut rec) {
                continue;
            }
            count += 1;
            if r <= n && w + rec.len() <= r {
                buf[w..w + rec.len()].copy_from_slice(&rec);
                w += rec.len();
                continue;
            }
            // The last line, or no room: append the rest.
            let rest = buf.get(r..).unwrap_or_default().to_vec();
            buf.truncate(w);
            buf.extend_from_slice(&rec);
            for line in rest.split(|&c| c == b'\n') {
                rec.clear();
                if line_record(line, is_map, &mut rec) {
                    count += 1;
                    buf.extend_from_slice(&rec);
                }
            }
            w = buf.len();
            break;
        }
        buf.truncate(w);
        buf.shrink_to_fit();
        Entries { buf, count }
    }

    /// Append one entry; NUL and newline bytes are dropped.
    pub fn push(&mut self, key: &[u8], value: Option<&[u8]>) {
        let k = clean(key);
        let v = value.map(clean);
        self.push_key(Key::encode(&k), v.as_deref());
    }

    /// Append one entry with a key already encoded (and clean bytes).
    fn push_key(&mut self, key: Key<'_>, value: Option<&[u8]>) {
        encode(&mut self.buf, key, value);
        self.count += 1;
    }

    /// Append a copy of an entry of another list.
    pub fn push_entry(&mut self, e: &Entry<'_>) {
        self.buf.extend_from_slice(e.raw);
        self.count += 1;
    }

    /// Append `e` with its value replaced.
    pub fn push_with_value(&mut self, e: &Entry<'_>, value: &[u8]) {
        self.push_key(e.key, Some(&clean(value)));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Size of the buffer (every record offset is below it).
    pub fn buf_len(&self) -> usize {
        self.buf.len()
    }

    /// The record at `off`, and the offset of the next one.
    fn record(&self, off: usize) -> Option<(Entry<'_>, usize)> {
        let b = self.buf.get(off..)?;
        let nl = |s: &[u8]| s.iter().position(|&c| c == b'\n').unwrap_or(s.len());
        let (key, value, len) = match *b {
            [] => return None,
            [MARK, tag, ref rest @ ..] => {
                let (key, klen) = match tag & !T_VALUE {
                    T_EMPTY => (Key::Text(&[]), 0),
                    T_V4 => (Key::V4(be32(rest)?, None), 4),
                    T_V4_LEN => (Key::V4(be32(rest)?, Some(*rest.get(4)?)), 5),
                    _ => return None,
                };
                if tag & T_VALUE != 0 || tag == T_EMPTY {
                    let v = rest.get(klen..)?;
                    let e = nl(v);
                    (key, Some(&v[..e]), 2 + klen + e + 1)
                } else {
                    (key, None, 2 + klen)
                }
            }
            _ => {
                let e = nl(b);
                let l = &b[..e];
                match l.iter().position(|&c| c == 0) {
                    Some(p) => (Key::Text(&l[..p]), Some(&l[p + 1..]), e + 1),
                    None => (Key::Text(l), None, e + 1),
                }
            }
        };
        let len = len.min(b.len());
        Some((
            Entry {
                off: off as u32,
                key,
                value,
                raw: &b[..len],
            },
            off + len,
        ))
    }

    /// The entry whose record starts at `off` (an [`Entry::off`]).
    pub fn at(&self, off: u32) -> Option<Entry<'_>> {
        self.record(off as usize).map(|(e, _)| e)
    }

    /// Position in file order of the entry at `off`.
    pub fn position(&self, off: u32) -> Option<usize> {
        self.iter().position(|e| e.off == off)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = Entry<'_>> {
        let mut off = 0;
        std::iter::from_fn(move || {
            let (e, next) = self.record(off)?;
            off = next;
            Some(e)
        })
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn texts(e: &Entries) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        e.iter()
            .map(|e| (e.key.text().into_owned(), e.value.map(<[u8]>::to_vec)))
            .collect()
    }
    fn t(k: &str, v: Option<&str>) -> (Vec<u8>, Option<Vec<u8>>) {
        (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))
    }

    #[test]
    fn parse() {
        let e = Entries::parse_file(b"# c\n\n  /a  \nb c\r\n".to_vec(), false);
        assert_eq!(texts(&e), vec![t("/a", None), t("b c", None)]);
        let e = Entries::parse_file(b"vip deluxe\n  k \t v w \nlonely\n".to_vec(), true);
        assert_eq!(
            texts(&e),
            vec![
                t("vip", Some("deluxe")),
                t("k", Some("v w")),
                t("lonely", Some(""))
            ]
        );
        assert_eq!(Entries::default().iter().count(), 0);
        let e = Entries::parse_file(b"a\n#x\nb".to_vec(), false);
        assert_eq!(texts(&e), vec![t("a", None), t("b", None)]);
        let mut e = Entries::default();
        e.push(b"", None);
        assert_eq!(e.iter().count(), 1);
    }

    #[test]
    fn compact_keys_read_back_as_written() {
        let acl = "10.0.0.0/8\n1.2.3.4\n0.0.0.0/0\n255.255.255.255/32\n10.1.2.3/8\n\
                   010.0.0.1\n1.2.3.4/08\n1.2.3.4/33\n1.2.3\n1.2.3.4.5\n256.1.1.1\n::1\n\
                   1.2.3.4/+8\n1.2.3.4 \n";
        let e = Entries::parse_file(acl.as_bytes().to_vec(), false);
        let want: Vec<_> = acl.lines().map(|l| t(l.trim(), None)).collect();
        assert_eq!(texts(&e), want);
        let keys: Vec<_> = e.iter().map(|e| e.key).collect();
        assert_eq!(keys[0], Key::V4(0x0a00_0000, Some(8)));
        assert_eq!(keys[1], Key::V4(0x0102_0304, None));
        assert_eq!(keys[4], Key::V4(0x0a01_0203, Some(8)));
        for k in &keys[5..12] {
            assert!(matches!(k, Key::Text(_)), "{k:?}");
        }
        // Compact records are smaller than their text.
        assert!(e.bytes() < acl.len());

        let map =
            "10.0.0.0/8 a b\n1.2.3.4\tx\n2.3.4.5\n\0\0 nul\nk\0ey v\0al\n\0 \n1.2.\x003.4 y\n";
        let e = Entries::parse_file(map.as_bytes().to_vec(), true);
        assert_eq!(
            texts(&e),
            vec![
                t("10.0.0.0/8", Some("a b")),
                t("1.2.3.4", Some("x")),
                t("2.3.4.5", Some("")),
                t("", Some("nul")),
                t("key", Some("val")),
                t("", Some("")),
                t("1.2.3.4", Some("y")),
            ]
        );
        assert_eq!(e.iter().last().unwrap().key, Key::V4(0x0102_0304, None));
        // No room to write a record in place: the rest is appended.
        for text in ["lonely\nk v\n1.2.3.4 x\nlast", "a\nb\n\n# c\n1.2.3.4/8\n"] {
            let e = Entries::parse_file(text.as_bytes().to_vec(), true);
            let mut p = Entries::default();
            for l in text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let (k, v) = l.split_once(' ').unwrap_or((l, ""));
                p.push(k.as_bytes(), Some(v.as_bytes()));
            }
            assert_eq!((e.buf, e.count), (p.buf, p.count), "{text:?}");
        }
        let mut p = Entries::default();
        for (k, v) in texts(&e) {
            p.push(&k, v.as_deref());
        }
        assert_eq!(p.buf, e.buf);
        p.push(b"", None);
        p.push(b"1.1.1.1/32", None);
        p.push(b"", Some(b""));
        let all = texts(&p);
        assert_eq!(all.len(), 10);
        assert_eq!(
            all[7..],
            [t("", None), t("1.1.1.1/32", None), t("", Some(""))]
        );
        // Offsets lead back to their entries.
        for (i, x) in p.iter().enumerate() {
            assert_eq!(p.position(x.off), Some(i));
            assert_eq!(p.at(x.off).unwrap().key, x.key);
        }
        // Copies and value changes keep keys.
        let mut q = Entries::default();
        for x in p.iter() {
            if x.key == Key::encode(b"10.0.0.0/8") {
                q.push_with_value(&x, b"new\nvalue");
            } else {
                q.push_entry(&x);
            }
        }
        assert_eq!(q.len(), p.len());
        assert_eq!(texts(&q)[0], t("10.0.0.0/8", Some("newvalue")));
        assert_eq!(texts(&q)[1..], texts(&p)[1..]);
    }
}
