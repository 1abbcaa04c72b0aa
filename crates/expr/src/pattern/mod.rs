//! Pattern matching (manual section 7.1 "ACL basics" and 7.1.1-7.1.6):
//! match methods, pattern lists loaded from files (`-f`), their compiled
//! indexes, and the registry that shares them between ACLs and maps by file
//! name, with run-time updates that swap the whole index atomically.

mod entries;
pub(crate) mod ip;
pub(crate) mod map;
pub(crate) mod str;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;

pub(crate) use entries::{Entries, Key};
use ip::IpSet;
use str::StrSet;

use crate::error::{err, ExprError};
use crate::sample::{parse_int_full, Sample};

/// A match method (`-m` argument, section 7.1.1 / 7.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `found`: the sample exists.
    Found,
    /// `bool`: the sample is true.
    Bool,
    /// `int`: integer ranges.
    Int,
    /// `ip`: networks.
    Ip,
    /// `bin`: hex-encoded binary equality.
    Bin,
    /// `len`: length in ranges.
    Len,
    /// `str`: exact.
    Str,
    /// `sub`: substring.
    Sub,
    /// `reg`: regex.
    Reg,
    /// `beg`: prefix.
    Beg,
    /// `end`: suffix.
    End,
    /// `dir`: slash-delimited word.
    Dir,
    /// `dom`: dot-delimited word.
    Dom,
}

impl MatchKind {
    /// Parse a `-m` method name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "found" => MatchKind::Found,
            "bool" => MatchKind::Bool,
            "int" => MatchKind::Int,
            "ip" => MatchKind::Ip,
            "bin" => MatchKind::Bin,
            "len" => MatchKind::Len,
            "str" => MatchKind::Str,
            "sub" => MatchKind::Sub,
            "reg" => MatchKind::Reg,
            "beg" => MatchKind::Beg,
            "end" => MatchKind::End,
            "dir" => MatchKind::Dir,
            "dom" => MatchKind::Dom,
            _ => return None,
        })
    }
    /// Whether patterns are integers (operators allowed).
    pub fn is_int(self) -> bool {
        matches!(self, MatchKind::Int | MatchKind::Len)
    }
}

/// What a map's values are turned into (`_str`, `_int`, `_ip` suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutKind {
    /// ACL: no value.
    None,
    /// String values.
    Str,
    /// Integer values.
    Int,
    /// Address values.
    Ip,
}

/// How an index is built from a reference's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct IndexSpec {
    pub kind: MatchKind,
    pub icase: bool,
    pub out: OutKind,
}

/// Parse an integer pattern: `n`, `a:b`, `:b`, `a:`.
pub(crate) fn parse_range(s: &str) -> Result<(i64, i64), ExprError> {
    match s.split_once(':') {
        None => match parse_int_full(s) {
            Some(v) => Ok((v, v)),
            None => err(format!("'{s}' is not a number")),
        },
        Some((a, b)) => {
            let lo = if a.is_empty() {
                Some(i64::MIN)
            } else {
                parse_int_full(a)
            };
            let hi = if b.is_empty() {
                Some(i64::MAX)
            } else {
                parse_int_full(b)
            };
            match (lo, hi) {
                (Some(lo), Some(hi)) if !(a.is_empty() && b.is_empty()) => Ok((lo, hi)),
                _ => err(format!("'{s}' is not a valid number range")),
            }
        }
    }
}

#[derive(Debug)]
enum Body {
    Empty,
    Str(StrSet),
    Int(Vec<(i64, i64, u32)>),
    Ip(IpSet),
}

/// A compiled, immutable pattern index (with map values when `out` is set).
/// Lookups give a payload: the matching entry's offset in the entries
/// (`Entry::off`; for IP sets, that of the first entry with the same
/// value), or for `_int`/`_ip` maps the index of its parsed value, or for
/// IP ACLs just Some(0).
#[derive(Debug)]
pub(crate) struct Index {
    kind: MatchKind,
    body: Body,
    pub(crate) values: map::Values,
}

impl Index {
    /// Compile `entries` for `spec`.
    pub fn build(spec: IndexSpec, entries: &Arc<Entries>) -> Result<Index, ExprError> {
        if entries.buf_len() >= NONE as usize {
            return err("pattern list too large");
        }
        let mut vals = map::ValuesBuilder::new(spec.out, spec.kind == MatchKind::Ip, entries);
        let text = |k: &entries::Key<'_>| String::from_utf8_lossy(&k.text()).into_owned();
        let body = match spec.kind {
            MatchKind::Found | MatchKind::Bool => Body::Empty,
            MatchKind::Int | MatchKind::Len => {
                let mut v = Vec::new();
                for e in entries.iter() {
                    let (lo, hi) = parse_range(&text(&e.key))?;
                    v.push((lo, hi, vals.payload(entries, &e)?));
                }
                Body::Int(v)
            }
            MatchKind::Ip => {
                let presence = spec.out == OutKind::None;
                let mut nets = ip::Nets::with_capacity(entries.len());
                for e in entries.iter() {
                    let (a, l) = ip::key_net(e.key)?;
                    nets.push(a, l, vals.payload(entries, &e)?);
                }
                Body::Ip(IpSet::build(nets, presence))
            }
            MatchKind::Bin => {
                let mut bins = Vec::new();
                for e in entries.iter() {
                    let k = e.key.text();
                    let b = decode_hex(&k).ok_or_else(|| {
                        ExprError::new(format!(
                            "'{}' is not a valid hex string",
                            String::from_utf8_lossy(&k)
                        ))
                    })?;
                    bins.push((b, vals.payload(entries, &e)?));
                }
                Body::Str(StrSet::build(
                    MatchKind::Str,
                    false,
                    bins.iter().map(|(b, i)| (&b[..], *i)),
                )?)
            }
            k => {
                let mut keys = Vec::with_capacity(entries.len());
                for e in entries.iter() {
                    keys.push((e.key.text(), vals.payload(entries, &e)?));
                }
                Body::Str(StrSet::build(
                    k,
                    spec.icase,
                    keys.iter().map(|(k, i)| (&k[..], *i)),
                )?)
            }
        };
        Ok(Index {
            kind: spec.kind,
            body,
            values: vals.finish(entries),
        })
    }

    /// Payload of the pattern that `smp` matches, if any.
    pub fn lookup(&self, smp: &Sample<'_>) -> Option<u32> {
        match &self.body {
            Body::Empty => None,
            Body::Str(s) => s.lookup(&smp.to_str()),
            Body::Int(v) => {
                let x = if self.kind == MatchKind::Len {
                    smp.to_str().len() as i64
                } else {
                    smp.to_int()?
                };
                v.iter()
                    .find(|(lo, hi, _)| *lo <= x && x <= *hi)
                    .map(|t| t.2)
            }
            Body::Ip(s) => s.lookup(smp.to_ip()?),
        }
    }

    /// Position in `entries` (those the index was built from) of the
    /// entry that `smp` matches.
    fn entry(&self, entries: &Entries, smp: &Sample<'_>) -> Option<usize> {
        let p = self.lookup(smp)?;
        match &self.body {
            // IP sets share payloads between entries (and ACLs keep none).
            Body::Ip(_) => ip::find_entry(entries, smp.to_ip()?),
            _ => entries.position(p),
        }
    }

    /// Approximate heap bytes.
    pub fn bytes(&self) -> usize {
        let b = match &self.body {
            Body::Empty => 0,
            Body::Str(s) => s.bytes(),
            Body::Int(v) => v.capacity() * 24,
            Body::Ip(s) => s.bytes(),
        };
        b + self.values.bytes()
    }
}

/// No payload (an interval no network covers).
pub(crate) const NONE: u32 = u32::MAX;

fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.chunks(2)
        .map(|c| {
            let h = (c[0] as char).to_digit(16)?;
            let l = (c[1] as char).to_digit(16)?;
            Some((h * 16 + l) as u8)
        })
        .collect()
}

/// A compiled index kept current with its reference.
#[derive(Debug)]
pub(crate) struct IndexCell {
    pub(crate) spec: IndexSpec,
    current: ArcSwap<Index>,
}

impl IndexCell {
    /// A cell that is never updated (inline patterns).
    pub fn fixed(spec: IndexSpec, idx: Index) -> Arc<IndexCell> {
        Arc::new(IndexCell {
            spec,
            current: ArcSwap::from_pointee(idx),
        })
    }
    /// The current index (readers see either the old or the new one).
    pub fn load(&self) -> arc_swap::Guard<Arc<Index>> {
        self.current.load()
    }
}

#[derive(Debug)]
struct RefState {
    entries: Arc<Entries>,
    cells: HashMap<IndexSpec, Arc<IndexCell>>,
}

/// A pattern reference: the entries of one file (or one map), shared by every
/// ACL and converter naming it. Updates rebuild the dependent indexes and
/// swap them in atomically; on a parse error nothing changes.
#[derive(Debug)]
pub struct PatRef {
    name: String,
    is_map: bool,
    state: Mutex<RefState>,
}

impl PatRef {
    fn new(name: &str, is_map: bool, entries: Entries) -> Self {
        PatRef {
            name: name.to_string(),
            is_map,
            state: Mutex::new(RefState {
                entries: Arc::new(entries),
                cells: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RefState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The file name this reference was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether entries carry values (a map).
    pub fn is_map(&self) -> bool {
        self.is_map
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the entries (key, value).
    pub fn entries(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.lock()
            .entries
            .iter()
            .map(|e| (e.key.text().into_owned(), e.value.map(<[u8]>::to_vec)))
            .collect()
    }

    /// Heap bytes of the entries and every index built on them.
    pub fn bytes(&self) -> usize {
        let st = self.lock();
        st.entries.bytes() + st.cells.values().map(|c| c.load().bytes()).sum::<usize>()
    }

    /// Index of the entry that `smp` matches with method `kind` (building
    /// that index on first use), like the runtime API's `get map`/`get acl`.
    pub fn lookup(&self, kind: MatchKind, smp: &Sample<'_>) -> Result<Option<usize>, ExprError> {
        let out = if self.is_map {
            OutKind::Str
        } else {
            OutKind::None
        };
        let mut st = self.lock();
        let cell = Self::cell_in(
            &mut st,
            IndexSpec {
                kind,
                icase: false,
                out,
            },
        )?;
        let idx = cell.load();
        Ok(idx.entry(&st.entries, smp))
    }

    /// Whether some entry matches `smp` with method `kind` (building that
    /// index on first use); cheaper than [`PatRef::lookup`], which also
    /// finds which entry (by a scan of the entries for IP sets).
    pub fn matches(&self, kind: MatchKind, smp: &Sample<'_>) -> Result<bool, ExprError> {
        let out = if self.is_map {
            OutKind::Str
        } else {
            OutKind::None
        };
        let cell = self.cell(IndexSpec {
            kind,
            icase: false,
            out,
        })?;
        let idx = cell.load();
        Ok(idx.lookup(smp).is_some())
    }

    /// The value `smp` maps to with method `kind` (maps only).
    pub fn map_value(
        &self,
        kind: MatchKind,
        smp: &Sample<'_>,
    ) -> Result<Option<Sample<'static>>, ExprError> {
        let cell = self.cell(IndexSpec {
            kind,
            icase: false,
            out: OutKind::Str,
        })?;
        let idx = cell.load();
        Ok(idx.lookup(smp).and_then(|i| idx.values.get(i)))
    }

    pub(crate) fn cell(&self, spec: IndexSpec) -> Result<Arc<IndexCell>, ExprError> {
        Self::cell_in(&mut self.lock(), spec)
    }

    fn cell_in(st: &mut RefState, spec: IndexSpec) -> Result<Arc<IndexCell>, ExprError> {
        if let Some(c) = st.cells.get(&spec) {
            return Ok(c.clone());
        }
        let idx = Index::build(spec, &st.entries)?;
        let c = IndexCell::fixed(spec, idx);
        st.cells.insert(spec, c.clone());
        Ok(c)
    }

    fn commit(&self, st: &mut RefState, entries: Entries) -> Result<(), ExprError> {
        let entries = Arc::new(entries);
        let mut built = Vec::with_capacity(st.cells.len());
        for c in st.cells.values() {
            built.push((c.clone(), Index::build(c.spec, &entries)?));
        }
        for (c, idx) in built {
            c.current.store(Arc::new(idx));
        }
        st.entries = entries;
        Ok(())
    }

    /// Append an entry (`add map` / `add acl`).
    pub fn add(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), ExprError> {
        let mut st = self.lock();
        let mut e = Entries::clone(&st.entries);
        e.push(key, value);
        self.commit(&mut st, e)
    }

    /// Set the value of every entry with `key` (`set map`); false if none.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<bool, ExprError> {
        let mut st = self.lock();
        let mut e = Entries::default();
        let mut found = false;
        let key = Key::encode(key);
        for x in st.entries.iter() {
            if x.key == key {
                found = true;
                e.push_with_value(&x, value);
            } else {
                e.push_entry(&x);
            }
        }
        if found {
            self.commit(&mut st, e)?;
        }
        Ok(found)
    }

    /// Delete every entry with `key` (`del map` / `del acl`); false if none.
    pub fn del(&self, key: &[u8]) -> Result<bool, ExprError> {
        let mut st = self.lock();
        let mut e = Entries::default();
        let before = st.entries.len();
        let key = Key::encode(key);
        for x in st.entries.iter().filter(|x| x.key != key) {
            e.push_entry(&x);
        }
        let found = e.len() != before;
        if found {
            self.commit(&mut st, e)?;
        }
        Ok(found)
    }

    /// Remove all entries (`clear map`).
    pub fn clear(&self) -> Result<(), ExprError> {
        self.replace(std::iter::empty::<(&[u8], Option<&[u8]>)>())
    }

    /// Replace the whole content at once (`prepare`/`commit`).
    pub fn replace<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) -> Result<(), ExprError> {
        let mut e = Entries::default();
        for (k, v) in entries {
            e.push(k, v);
        }
        let mut st = self.lock();
        self.commit(&mut st, e)
    }
}

/// All pattern references of a configuration, keyed by file name (ACL files
/// and map files apart), so that users of one file share one store.
#[derive(Debug, Default)]
pub struct PatternRegistry {
    base: Option<PathBuf>,
    refs: Mutex<HashMap<(String, bool), Arc<PatRef>>>,
}

impl PatternRegistry {
    /// Relative file names are resolved against `base` (default: the
    /// current directory, as HAProxy does).
    pub fn set_base_dir(&mut self, base: Option<PathBuf>) {
        self.base = base;
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, bool), Arc<PatRef>>> {
        match self.refs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The ACL pattern file loaded under `name`.
    pub fn acl(&self, name: &str) -> Option<Arc<PatRef>> {
        self.lock().get(&(name.to_string(), false)).cloned()
    }

    /// The map loaded under `name`.
    pub fn map(&self, name: &str) -> Option<Arc<PatRef>> {
        self.lock().get(&(name.to_string(), true)).cloned()
    }

    /// Names of every loaded reference, with whether it is a map.
    pub fn names(&self) -> Vec<(String, bool)> {
        self.lock().keys().cloned().collect()
    }

    /// Load (once) the file `name` as an ACL list or a map.
    pub(crate) fn load(&self, name: &str, is_map: bool) -> Result<Arc<PatRef>, ExprError> {
        if let Some(r) = self.lock().get(&(name.to_string(), is_map)) {
            return Ok(r.clone());
        }
        let path = match &self.base {
            Some(b) if Path::new(name).is_relative() => b.join(name),
            _ => PathBuf::from(name),
        };
        let text = std::fs::read(&path)
            .map_err(|_| ExprError::new(format!("failed to open pattern file <{name}>")))?;
        let entries = Entries::parse_file(text, is_map);
        let r = Arc::new(PatRef::new(name, is_map, entries));
        self.lock().insert((name.to_string(), is_map), r.clone());
        Ok(r)
    }
}

/// Index cell for inline patterns given on an ACL line.
pub(crate) fn inline_cell(
    spec: IndexSpec,
    pats: &[(String, Option<String>)],
) -> Result<Arc<IndexCell>, ExprError> {
    let mut e = Entries::default();
    for (k, v) in pats {
        e.push(k.as_bytes(), v.as_deref().map(str::as_bytes));
    }
    Ok(IndexCell::fixed(spec, Index::build(spec, &Arc::new(e))?))
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Sample<'static> {
        Sample::Ip(s.parse().unwrap())
    }
    fn value(r: &PatRef, a: &str) -> Option<String> {
        r.map_value(MatchKind::Ip, &ip(a))
            .unwrap()
            .map(|s| String::from_utf8(s.to_str().into_owned()).unwrap())
    }
    fn entry(r: &PatRef, a: &str) -> Option<usize> {
        r.lookup(MatchKind::Ip, &ip(a)).unwrap()
    }
    fn map(text: &str) -> PatRef {
        PatRef::new(
            "m",
            true,
            Entries::parse_file(text.as_bytes().to_vec(), true),
        )
    }

    #[test]
    fn ip_map_values_and_runtime_updates() {
        let r = map("10.0.0.0/8 wide\n10.1.0.0/16 mid\n10.1.2.3 host\n\
                     10.0.0.0/8 second\n10.9.9.9/8 third\n192.168.0.0/16 mid\n\
                     ::ffff:172.16.0.0/108 six\n2001:db8::/32 doc\n");
        // Most specific wins; the first of identical networks wins.
        assert_eq!(value(&r, "10.1.2.3").as_deref(), Some("host"));
        assert_eq!(value(&r, "10.1.2.4").as_deref(), Some("mid"));
        assert_eq!(value(&r, "10.200.0.1").as_deref(), Some("wide"));
        assert_eq!(value(&r, "192.168.3.4").as_deref(), Some("mid"));
        assert_eq!(value(&r, "172.16.0.1").as_deref(), Some("six"));
        assert_eq!(value(&r, "::ffff:10.1.2.3").as_deref(), Some("host"));
        assert_eq!(value(&r, "2001:db8::1").as_deref(), Some("doc"));
        assert_eq!(value(&r, "11.0.0.0"), None);
        // Entries sharing a value share a payload, yet `lookup` tells
        // which entry matched.
        assert_eq!(entry(&r, "10.1.9.9"), Some(1));
        assert_eq!(entry(&r, "192.168.0.1"), Some(5));
        assert_eq!(entry(&r, "10.7.0.0"), Some(0));
        assert_eq!(entry(&r, "::ffff:172.16.1.1"), Some(6));
        assert_eq!(entry(&r, "11.0.0.0"), None);
        assert!(r.matches(MatchKind::Ip, &ip("10.0.0.1")).unwrap());
        assert!(!r.matches(MatchKind::Ip, &ip("9.0.0.1")).unwrap());

        r.add(b"10.1.2.0/24", Some(b"net")).unwrap();
        assert_eq!(value(&r, "10.1.2.4").as_deref(), Some("net"));
        assert_eq!(value(&r, "10.1.2.3").as_deref(), Some("host"));
        // `set` changes every entry with that key, as written.
        assert!(r.set(b"10.0.0.0/8", b"changed").unwrap());
        assert_eq!(value(&r, "10.200.0.1").as_deref(), Some("changed"));
        assert!(!r.set(b"10.0.0.0/08", b"x").unwrap());
        let e = r.entries();
        assert_eq!(e[3], (b"10.0.0.0/8".to_vec(), Some(b"changed".to_vec())));
        assert_eq!(e[4], (b"10.9.9.9/8".to_vec(), Some(b"third".to_vec())));
        // Deleting the first of identical networks uncovers the next one.
        assert!(r.del(b"10.0.0.0/8").unwrap());
        assert_eq!(value(&r, "10.200.0.1").as_deref(), Some("third"));
        assert!(r.del(b"10.9.9.9/8").unwrap());
        assert_eq!(value(&r, "10.200.0.1"), None);
        assert!(!r.del(b"10.9.9.9/8").unwrap());
        assert_eq!(r.len(), 6);
        // A bad key leaves everything as it was.
        assert!(r.add(b"10.0.0.0/33", Some(b"x")).is_err());
        assert_eq!(r.len(), 6);
        assert_eq!(value(&r, "10.1.2.4").as_deref(), Some("net"));

        r.replace([
            (&b"0.0.0.0/0"[..], Some(&b"all"[..])),
            (b"1.2.3.4", Some(b"one")),
        ])
        .unwrap();
        assert_eq!(value(&r, "10.1.2.3").as_deref(), Some("all"));
        assert_eq!(value(&r, "1.2.3.4").as_deref(), Some("one"));
        assert_eq!(value(&r, "::1"), None);
        assert_eq!(entry(&r, "1.2.3.4"), Some(1));
        r.clear().unwrap();
        assert_eq!(value(&r, "1.2.3.4"), None);
        assert!(r.is_empty());
    }

    #[test]
    fn ip_acl_runtime_updates() {
        let r = PatRef::new(
            "a",
            false,
            Entries::parse_file(b"10.0.0.0/8\n10.1.0.0/16\n192.168.1.1\n".to_vec(), false),
        );
        assert_eq!(entry(&r, "10.1.0.1"), Some(1));
        assert_eq!(entry(&r, "10.2.0.1"), Some(0));
        assert_eq!(entry(&r, "192.168.1.1"), Some(2));
        assert_eq!(entry(&r, "192.168.1.2"), None);
        r.add(b"192.168.1.0/24", None).unwrap();
        assert_eq!(entry(&r, "192.168.1.2"), Some(3));
        assert!(r.del(b"10.0.0.0/8").unwrap());
        assert_eq!(entry(&r, "10.2.0.1"), None);
        assert_eq!(entry(&r, "10.1.0.1"), Some(0));
        r.replace([(&b"::/0"[..], None)]).unwrap();
        assert_eq!(entry(&r, "10.1.0.1"), Some(0));
        assert_eq!(entry(&r, "2001::1"), Some(0));
        r.clear().unwrap();
        assert!(!r.matches(MatchKind::Ip, &ip("10.1.0.1")).unwrap());
    }

    /// A map big enough for the large IPv4 layout, with shared values,
    /// against a plain longest-prefix search, before and after updates.
    #[test]
    fn large_ip_map() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut text = String::new();
        let mut nets = Vec::new();
        for i in 0..80_000 {
            let len = 12 + (next() % 21) as u32;
            let a = (next() as u32) & (u32::MAX << (32 - len));
            let v = format!("v{}", i % 97);
            text.push_str(&format!("{}/{len} {v}\n", std::net::Ipv4Addr::from(a)));
            nets.push((a, len, v));
        }
        let r = map(&text);
        let find = |nets: &[(u32, u32, String)], a: u32| {
            let mut best: Option<&(u32, u32, String)> = None;
            for n in nets {
                let mask = u32::MAX << (32 - n.1);
                if a & mask == n.0 && best.is_none_or(|b| n.1 > b.1) {
                    best = Some(n);
                }
            }
            best.map(|b| b.2.clone())
        };
        let probes: Vec<u32> = (0..300)
            .map(|_| next() as u32)
            .chain(nets.iter().step_by(300).map(|n| n.0))
            .collect();
        for &a in &probes {
            let s = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(value(&r, &s), find(&nets, a), "{s}");
        }
        let (a, len, _) = nets[7].clone();
        let key = format!("{}/{len}", std::net::Ipv4Addr::from(a));
        assert!(r.set(key.as_bytes(), b"set").unwrap());
        assert!(r
            .del(format!("{}/{}", std::net::Ipv4Addr::from(nets[9].0), nets[9].1).as_bytes())
            .unwrap());
        for n in &mut nets {
            if (n.0, n.1) == (a, len) {
                n.2 = "set".into();
            }
        }
        let gone = (nets[9].0, nets[9].1);
        nets.retain(|n| (n.0, n.1) != gone);
        for &a in probes.iter().chain([a, gone.0].iter()) {
            let s = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(value(&r, &s), find(&nets, a), "{s}");
        }
    }

    #[test]
    fn ip_map_int_and_ip_outputs() {
        let r = map("10.0.0.0/8 7\n10.1.0.0/16 7\n10.1.1.0/24 -3\n");
        let spec = |out| IndexSpec {
            kind: MatchKind::Ip,
            icase: false,
            out,
        };
        let c = r.cell(spec(OutKind::Int)).unwrap();
        let idx = c.load();
        let get = |a: &str| idx.lookup(&ip(a)).and_then(|p| idx.values.get(p));
        assert_eq!(get("10.1.1.1"), Some(Sample::Int(-3)));
        assert_eq!(get("10.1.2.1"), Some(Sample::Int(7)));
        assert_eq!(get("10.2.2.1"), Some(Sample::Int(7)));
        assert_eq!(get("11.2.2.1"), None);
        assert!(r.cell(spec(OutKind::Ip)).is_err());
        let r = map("10.0.0.0/8 192.0.2.1\n");
        let c = r.cell(spec(OutKind::Ip)).unwrap();
        let idx = c.load();
        let p = idx.lookup(&ip("10.1.1.1")).unwrap();
        assert_eq!(idx.values.get(p), Some(ip("192.0.2.1")));
    }
}
