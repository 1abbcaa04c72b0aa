//! Compact storage of a pattern file's entries (manual section 7.1 "-f":
//! one pattern per line, '#' comments, blank lines ignored; maps: key and
//! value separated by blanks, section 7.3.1 `map`).

/// Entries packed in one buffer: `key [\0 value] \n` each.
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

impl Entries {
    /// Parse a pattern file (`is_map`: split key and value). ACL files are
    /// compacted in place, so loading needs no second copy of the text.
    pub fn parse_file(mut buf: Vec<u8>, is_map: bool) -> Self {
        if is_map {
            let mut e = Entries {
                buf: Vec::with_capacity(buf.len()),
                count: 0,
            };
            for line in buf.split(|&c| c == b'\n') {
                let l = trim(line);
                if l.is_empty() || l[0] == b'#' {
                    continue;
                }
                let k_end = l
                    .iter()
                    .position(|&c| c == b' ' || c == b'\t')
                    .unwrap_or(l.len());
                e.push(&l[..k_end], Some(trim(&l[k_end..])));
            }
            e.buf.shrink_to_fit();
            return e;
        }
        let n = buf.len();
        let (mut r, mut w, mut count) = (0, 0, 0);
        while r < n {
            let end = buf[r..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(n, |p| r + p);
            let (mut a, mut b) = (r, end);
            while a < b && matches!(buf[a], b' ' | b'\t' | b'\r') {
                a += 1;
            }
            while b > a && matches!(buf[b - 1], b' ' | b'\t' | b'\r') {
                b -= 1;
            }
            r = end + 1;
            if a == b || buf[a] == b'#' {
                continue;
            }
            buf.copy_within(a..b, w);
            for c in &mut buf[w..w + (b - a)] {
                if *c == 0 {
                    *c = b' ';
                }
            }
            w += b - a;
            if w < buf.len() {
                buf[w] = b'\n';
            } else {
                buf.push(b'\n');
            }
            w += 1;
            count += 1;
        }
        buf.truncate(w);
        buf.shrink_to_fit();
        Entries { buf, count }
    }

    /// Append one entry; NUL and newline bytes are dropped.
    pub fn push(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.buf
            .extend(key.iter().filter(|&&c| c != 0 && c != b'\n'));
        if let Some(v) = value {
            self.buf.push(0);
            self.buf.extend(v.iter().filter(|&&c| c != 0 && c != b'\n'));
        }
        self.buf.push(b'\n');
        self.count += 1;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        let mut b = &self.buf[..];
        if let [rest @ .., b'\n'] = b {
            b = rest;
        }
        let none = self.count == 0;
        b.split(|&c| c == b'\n').filter(move |_| !none).map(|l| {
            match l.iter().position(|&c| c == 0) {
                Some(p) => (&l[..p], Some(&l[p + 1..])),
                None => (l, None),
            }
        })
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let e = Entries::parse_file(b"# c\n\n  /a  \nb c\r\n".to_vec(), false);
        let v: Vec<_> = e.iter().collect();
        assert_eq!(v, vec![(&b"/a"[..], None), (&b"b c"[..], None)]);
        let e = Entries::parse_file(b"vip deluxe\n  k \t v w \nlonely\n".to_vec(), true);
        let v: Vec<_> = e.iter().collect();
        assert_eq!(
            v,
            vec![
                (&b"vip"[..], Some(&b"deluxe"[..])),
                (&b"k"[..], Some(&b"v w"[..])),
                (&b"lonely"[..], Some(&b""[..]))
            ]
        );
        assert_eq!(Entries::default().iter().count(), 0);
        let e = Entries::parse_file(b"a\n#x\nb".to_vec(), false);
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            vec![(&b"a"[..], None), (&b"b"[..], None)]
        );
        let mut e = Entries::default();
        e.push(b"", None);
        assert_eq!(e.iter().count(), 1);
    }
}
