//! The JSON path subset of the `json_query` converter (manual section
//! 7.3.1: `$.key`, `$['key']`, `$.array[n]`).

use std::borrow::Cow;

/// One path step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// A located JSON value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JVal<'a> {
    Str(Cow<'a, [u8]>),
    Num(&'a [u8]),
    Bool(bool),
    Null,
    Raw(&'a [u8]),
}

/// Parse `$.a.b[0]['c d']`.
pub(crate) fn parse_path(p: &str) -> Option<Vec<Step>> {
    let b = p.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                let s = i + 1;
                i = s;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if i == s {
                    return None;
                }
                steps.push(Step::Key(p[s..i].to_string()));
            }
            b'[' => {
                let close = p[i..].find(']')? + i;
                let inner = p[i + 1..close].trim();
                if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                    steps.push(Step::Key(q.to_string()));
                } else if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn ws(d: &[u8], mut i: usize) -> usize {
    while i < d.len() && matches!(d[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// End of the string starting at the quote `i` (index after closing quote).
fn str_end(d: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < d.len() {
        match d[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End of the value starting at `i`.
fn value_end(d: &[u8], i: usize) -> Option<usize> {
    match *d.get(i)? {
        b'"' => str_end(d, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < d.len() {
                match d[j] {
                    b'"' => {
                        j = str_end(d, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < d.len() && !matches!(d[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

fn unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.contains(&b'\\') {
        return Cow::Borrowed(s);
    }
    let mut o = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            o.push(s[i]);
            i += 1;
            continue;
        }
        i += 1;
        match s[i] {
            b'n' => o.push(b'\n'),
            b't' => o.push(b'\t'),
            b'r' => o.push(b'\r'),
            b'b' => o.push(8),
            b'f' => o.push(12),
            b'u' if i + 4 < s.len() => {
                let cp = std::str::from_utf8(&s[i + 1..i + 5])
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                let mut buf = [0u8; 4];
                o.extend_from_slice(cp.encode_utf8(&mut buf).as_bytes());
                i += 4;
            }
            c => o.push(c),
        }
        i += 1;
    }
    Cow::Owned(o)
}

/// Find the value at `path` in `doc`.
pub(crate) fn query<'a>(doc: &'a [u8], path: &[Step]) -> Option<JVal<'a>> {
    let mut i = ws(doc, 0);
    for step in path {
        match (step, doc.get(i)?) {
            (Step::Key(k), b'{') => {
                i = ws(doc, i + 1);
                loop {
                    if doc.get(i)? != &b'"' {
                        return None;
                    }
                    let ke = str_end(doc, i)?;
                    let key = unescape(&doc[i + 1..ke - 1]);
                    i = ws(doc, ke);
                    if doc.get(i)? != &b':' {
                        return None;
                    }
                    i = ws(doc, i + 1);
                    if &key[..] == k.as_bytes() {
                        break;
                    }
                    i = ws(doc, value_end(doc, i)?);
                    if doc.get(i)? != &b',' {
                        return None;
                    }
                    i = ws(doc, i + 1);
                }
            }
            (Step::Index(n), b'[') => {
                i = ws(doc, i + 1);
                for _ in 0..*n {
                    i = ws(doc, value_end(doc, i)?);
                    if doc.get(i)? != &b',' {
                        return None;
                    }
                    i = ws(doc, i + 1);
                }
                if doc.get(i)? == &b']' {
                    return None;
                }
            }
            _ => return None,
        }
    }
    let end = value_end(doc, i)?;
    let v = &doc[i..end];
    Some(match v[0] {
        b'"' => JVal::Str(unescape(&v[1..v.len() - 1])),
        b'{' | b'[' => JVal::Raw(v),
        _ if v == b"true" => JVal::Bool(true),
        _ if v == b"false" => JVal::Bool(false),
        _ if v == b"null" => JVal::Null,
        _ => JVal::Num(v),
    })
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let d = br#"{"a": {"b": [1, "x\"y", {"c": true}]}, "n": -2.5e3, "s p": "v", "z": null}"#;
        let q = |p: &str| query(d, &parse_path(p).unwrap());
        assert_eq!(q("$.a.b[0]"), Some(JVal::Num(b"1")));
        assert_eq!(q("$.a.b[1]"), Some(JVal::Str(Cow::Owned(b"x\"y".to_vec()))));
        assert_eq!(q("$.a.b[2].c"), Some(JVal::Bool(true)));
        assert_eq!(q("$['s p']"), Some(JVal::Str(Cow::Borrowed(b"v"))));
        assert_eq!(q("$.n"), Some(JVal::Num(b"-2.5e3")));
        assert_eq!(q("$.z"), Some(JVal::Null));
        assert_eq!(q("$.a.b[3]"), None);
        assert_eq!(q("$.nope"), None);
        assert_eq!(q("$.a.b"), Some(JVal::Raw(br#"[1, "x\"y", {"c": true}]"#)));
        assert!(parse_path("a.b").is_none());
    }
}
