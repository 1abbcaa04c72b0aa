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

pub(crate) use entries::Entries;
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
#[derive(Debug)]
pub(crate) struct Index {
    kind: MatchKind,
    body: Body,
    pub(crate) values: map::Values,
}

impl Index {
    /// Compile `entries` for `spec`.
    pub fn build(spec: IndexSpec, entries: &Entries) -> Result<Index, ExprError> {
        let keys = entries.iter().enumerate().map(|(i, (k, _))| (k, i as u32));
        let body = match spec.kind {
            MatchKind::Found | MatchKind::Bool => Body::Empty,
            MatchKind::Int | MatchKind::Len => {
                let mut v = Vec::new();
                for (k, i) in keys {
                    let (lo, hi) = parse_range(&String::from_utf8_lossy(k))?;
                    v.push((lo, hi, i));
                }
                Body::Int(v)
            }
            MatchKind::Ip => {
                let mut nets = Vec::with_capacity(entries.len());
                for (k, i) in keys {
                    let (a, l) = ip::parse_net(&String::from_utf8_lossy(k))?;
                    nets.push((a, l, if spec.out == OutKind::None { 0 } else { i }));
                }
                Body::Ip(IpSet::build(nets))
            }
            MatchKind::Bin => {
                let mut bins = Vec::new();
                for (k, i) in keys {
                    let b = decode_hex(k).ok_or_else(|| {
                        ExprError::new(format!(
                            "'{}' is not a valid hex string",
                            String::from_utf8_lossy(k)
                        ))
                    })?;
                    bins.push((b, i));
                }
                Body::Str(StrSet::build(
                    MatchKind::Str,
                    false,
                    bins.iter().map(|(b, i)| (&b[..], *i)),
                )?)
            }
            k => Body::Str(StrSet::build(k, spec.icase, keys)?),
        };
        let values = map::Values::build(spec.out, entries)?;
        Ok(Index {
            kind: spec.kind,
            body,
            values,
        })
    }

    /// Entry index of the pattern that `smp` matches, if any.
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
    entries: Entries,
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
                entries,
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
            .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
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
        let cell = self.cell(IndexSpec {
            kind,
            icase: false,
            out,
        })?;
        let idx = cell.load();
        Ok(idx.lookup(smp).map(|i| i as usize))
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
        let mut st = self.lock();
        if let Some(c) = st.cells.get(&spec) {
            return Ok(c.clone());
        }
        let idx = Index::build(spec, &st.entries)?;
        let c = IndexCell::fixed(spec, idx);
        st.cells.insert(spec, c.clone());
        Ok(c)
    }

    fn commit(&self, st: &mut RefState, entries: Entries) -> Result<(), ExprError> {
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
        let mut e = st.entries.clone();
        e.push(key, value);
        self.commit(&mut st, e)
    }

    /// Set the value of every entry with `key` (`set map`); false if none.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<bool, ExprError> {
        let mut st = self.lock();
        let mut e = Entries::default();
        let mut found = false;
        for (k, v) in st.entries.iter() {
            if k == key {
                found = true;
                e.push(k, Some(value));
            } else {
                e.push(k, v);
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
        for (k, v) in st.entries.iter().filter(|(k, _)| *k != key) {
            e.push(k, v);
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
    Ok(IndexCell::fixed(spec, Index::build(spec, &e)?))
}
