//! String pattern sets (manual section 7.1.3 "Matching strings": exact,
//! prefix, suffix, substring, dir, dom, regex; `-i` case folding).

use std::collections::HashMap;

use regex::bytes::{Regex, RegexBuilder};

use super::MatchKind;
use crate::error::ExprError;

/// A compiled set of string patterns for one match method.
#[derive(Debug)]
pub(crate) struct StrSet {
    kind: MatchKind,
    icase: bool,
    /// Exact keys, or prefixes/suffixes, to the first entry index.
    map: HashMap<Box<[u8]>, u32>,
    /// Distinct key lengths in `map`, longest first (beg/end).
    lens: Vec<usize>,
    /// Linear list (sub, dir, dom).
    list: Vec<(Box<[u8]>, u32)>,
    /// Regexes (reg).
    regs: Vec<(Regex, u32)>,
}

/// Run `f` with an ASCII-lowercased view of `s`, avoiding allocation for
/// short inputs.
pub(crate) fn with_lower<R>(s: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    if s.len() <= 256 {
        let mut buf = [0u8; 256];
        for (d, c) in buf.iter_mut().zip(s) {
            *d = c.to_ascii_lowercase();
        }
        f(&buf[..s.len()])
    } else {
        f(&s.to_ascii_lowercase())
    }
}

impl StrSet {
    /// Build from (pattern, entry index).
    pub fn build<'a>(
        kind: MatchKind,
        icase: bool,
        keys: impl Iterator<Item = (&'a [u8], u32)>,
    ) -> Result<Self, ExprError> {
        let mut s = StrSet {
            kind,
            icase,
            map: HashMap::new(),
            lens: Vec::new(),
            list: Vec::new(),
            regs: Vec::new(),
        };
        for (k, idx) in keys {
            let key: Box<[u8]> = if icase && kind != MatchKind::Reg {
                k.to_ascii_lowercase().into()
            } else {
                k.into()
            };
            match kind {
                MatchKind::Str | MatchKind::Beg | MatchKind::End => {
                    s.map.entry(key).or_insert(idx);
                }
                MatchKind::Reg => {
                    let text = String::from_utf8_lossy(k);
                    let re = RegexBuilder::new(&text)
                        .case_insensitive(icase)
                        .unicode(false)
                        .build()
                        .map_err(|e| {
                            ExprError::new(format!(
                                "regex '{text}' is invalid (error={})",
                                regex_err(&e)
                            ))
                        })?;
                    s.regs.push((re, idx));
                }
                _ => s.list.push((key, idx)),
            }
        }
        if matches!(kind, MatchKind::Beg | MatchKind::End) {
            let mut lens: Vec<usize> = s.map.keys().map(|k| k.len()).collect();
            lens.sort_unstable_by(|a, b| b.cmp(a));
            lens.dedup();
            s.lens = lens;
        }
        Ok(s)
    }

    /// Entry index of the pattern matching `smp`: exact and regex give the
    /// first in file order, `beg` the longest prefix (HAProxy's prefix
    /// tree), the others the first in file order.
    pub fn lookup(&self, smp: &[u8]) -> Option<u32> {
        if self.kind == MatchKind::Reg {
            return self
                .regs
                .iter()
                .find(|(r, _)| r.is_match(smp))
                .map(|(_, i)| *i);
        }
        if self.icase {
            with_lower(smp, |l| self.lookup_folded(l))
        } else {
            self.lookup_folded(smp)
        }
    }

    fn lookup_folded(&self, smp: &[u8]) -> Option<u32> {
        match self.kind {
            MatchKind::Str => self.map.get(smp).copied(),
            MatchKind::Beg => self
                .lens
                .iter()
                .filter(|&&l| l <= smp.len())
                .find_map(|&l| self.map.get(&smp[..l]).copied()),
            MatchKind::End => self
                .lens
                .iter()
                .filter(|&&l| l <= smp.len())
                .filter_map(|&l| self.map.get(&smp[smp.len() - l..]).copied())
                .min(),
            MatchKind::Sub => self
                .list
                .iter()
                .find(|(p, _)| find(smp, p).is_some())
                .map(|(_, i)| *i),
            MatchKind::Dir => self
                .list
                .iter()
                .find(|(p, _)| match_word(smp, p, b"/?"))
                .map(|(_, i)| *i),
            MatchKind::Dom => self
                .list
                .iter()
                .find(|(p, _)| match_word(smp, p, b"/?.:"))
                .map(|(_, i)| *i),
            _ => None,
        }
    }

    /// Approximate heap bytes.
    pub fn bytes(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<(Box<[u8]>, u32)>() + 1)
            + self.map.keys().map(|k| k.len()).sum::<usize>()
            + self.list.iter().map(|(k, _)| k.len() + 24).sum::<usize>()
    }
}

fn regex_err(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .unwrap_or("syntax error")
            .trim_start_matches("error: ")
            .to_string(),
        other => other.to_string(),
    }
}

/// Substring search.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > hay.len() {
        return None;
    }
    let first = needle[0];
    let last = hay.len() - needle.len();
    let mut i = 0;
    while i <= last {
        match hay[i..=last].iter().position(|&c| c == first) {
            None => return None,
            Some(p) => {
                i += p;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// HAProxy's `match_word`: `pat` (stripped of surrounding delimiters) must
/// appear in `smp` bounded by delimiters or the ends.
pub(crate) fn match_word(smp: &[u8], pat: &[u8], delims: &[u8]) -> bool {
    let is_d = |c: u8| delims.contains(&c);
    let mut p = pat;
    while let [f, rest @ ..] = p {
        if is_d(*f) {
            p = rest
        } else {
            break;
        }
    }
    while let [rest @ .., l] = p {
        if is_d(*l) {
            p = rest
        } else {
            break;
        }
    }
    if p.is_empty() {
        return true;
    }
    let mut may = true;
    let mut i = 0;
    while i < smp.len() {
        if is_d(smp[i]) {
            may = true;
            i += 1;
            continue;
        }
        if may {
            if smp.len() - i < p.len() {
                return false;
            }
            if &smp[i..i + p.len()] == p && (i + p.len() == smp.len() || is_d(smp[i + p.len()])) {
                return true;
            }
            may = false;
        }
        i += 1;
    }
    false
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(kind: MatchKind, icase: bool, pats: &[&str]) -> StrSet {
        StrSet::build(
            kind,
            icase,
            pats.iter()
                .enumerate()
                .map(|(i, p)| (p.as_bytes(), i as u32)),
        )
        .unwrap()
    }

    #[test]
    fn kinds() {
        type Case<'a> = (MatchKind, bool, &'a [&'a str], &'a str, Option<u32>);
        let cases: &[Case<'_>] = &[
            (MatchKind::Str, false, &["/a", "/b"], "/b", Some(1)),
            (MatchKind::Str, false, &["/a"], "/A", None),
            (MatchKind::Str, true, &["/A"], "/a", Some(0)),
            (
                MatchKind::Beg,
                false,
                &["/api", "/api/v2", "/"],
                "/api/v2/x",
                Some(1),
            ),
            (MatchKind::Beg, false, &["/static"], "/stat", None),
            (MatchKind::Beg, true, &["/STATIC"], "/static/x", Some(0)),
            (
                MatchKind::End,
                false,
                &[".jpg", ".png", "g"],
                "a.png",
                Some(1),
            ),
            (MatchKind::End, false, &[".jpg"], "a.jpeg", None),
            (
                MatchKind::Sub,
                true,
                &["mobile"],
                "Mozilla Mobile Safari",
                Some(0),
            ),
            (
                MatchKind::Sub,
                false,
                &["mobile"],
                "Mozilla Mobile Safari",
                None,
            ),
            (
                MatchKind::Dir,
                false,
                &["/images/"],
                "/x/images/a.png",
                Some(0),
            ),
            (MatchKind::Dir, false, &["images"], "/x/imagesx/a.png", None),
            (MatchKind::Dir, false, &["img"], "/x?img", Some(0)),
            (
                MatchKind::Dom,
                false,
                &["example.com"],
                "www.example.com:80",
                Some(0),
            ),
            (
                MatchKind::Dom,
                false,
                &["example.com"],
                "www.myexample.com",
                None,
            ),
            (MatchKind::Dom, false, &["www"], "www.example.com", Some(0)),
            (MatchKind::Reg, false, &["^/a+$", "b"], "/aaa", Some(0)),
            (MatchKind::Reg, true, &["^/A+$"], "/aaa", Some(0)),
            (MatchKind::Reg, false, &["^/A+$"], "/aaa", None),
        ];
        for (k, ic, pats, smp, want) in cases {
            assert_eq!(
                set(*k, *ic, pats).lookup(smp.as_bytes()),
                *want,
                "{k:?} {pats:?} {smp}"
            );
        }
    }

    #[test]
    fn bad_regex() {
        let e = StrSet::build(MatchKind::Reg, false, [(&b"("[..], 0)].into_iter()).unwrap_err();
        assert!(e.msg.starts_with("regex '(' is invalid"), "{}", e.msg);
    }
}
