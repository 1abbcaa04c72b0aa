//! Map values and lookups (manual section 7.3.1 `map_<match>_<output>`:
//! the value of the first matching key, or the default).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::entries::Entry;
use super::{Entries, IndexCell, OutKind};
use crate::error::ExprError;
use crate::sample::{parse_int_full, Sample};

/// The values of a map, found from the payload a lookup gives.
#[derive(Debug)]
pub(crate) enum Values {
    /// No values (ACLs): every match is `true`.
    None,
    /// Strings: the payload is the entry's offset in the shared entries,
    /// whose record holds the value (no copy).
    Str(Arc<Entries>),
    /// Parsed values, deduplicated; the payload is an index.
    Int(Vec<i64>),
    Ip(Vec<IpAddr>),
}

/// Parse a value (or default) to the map's output type.
pub(crate) fn parse_value(out: OutKind, v: &[u8]) -> Result<Sample<'static>, ExprError> {
    let s = String::from_utf8_lossy(v);
    match out {
        OutKind::Int => parse_int_full(s.trim())
            .map(Sample::Int)
            .ok_or_else(|| ExprError::new(format!("unable to parse '{s}' as integer"))),
        OutKind::Ip => s
            .trim()
            .parse()
            .map(Sample::Ip)
            .map_err(|_| ExprError::new(format!("'{s}' is not a valid IPv4 or IPv6 address"))),
        OutKind::Str | OutKind::None => Ok(Sample::Str(Cow::Owned(v.to_vec()))),
    }
}

/// Gives each entry its payload while an index is built, then the values.
pub(crate) struct ValuesBuilder {
    out: OutKind,
    strs: Option<Dedup>,
    ints: Vec<i64>,
    int_ids: HashMap<i64, u32>,
    ips: Vec<IpAddr>,
    ip_ids: HashMap<IpAddr, u32>,
}

impl ValuesBuilder {
    /// With `shared`, entries with equal string values get the same
    /// payload (that of the first), so that an IP set can merge their
    /// neighbouring intervals and lookups of common values hit cached
    /// records.
    pub fn new(out: OutKind, shared: bool, entries: &Entries) -> Self {
        ValuesBuilder {
            out,
            strs: (shared && out == OutKind::Str).then(|| Dedup::new(entries.len())),
            ints: Vec::new(),
            int_ids: HashMap::new(),
            ips: Vec::new(),
            ip_ids: HashMap::new(),
        }
    }

    /// The payload of `e` (of `entries`): its offset, or that of the first
    /// entry with its value, or for parsed values the index of its value.
    pub fn payload(&mut self, entries: &Entries, e: &Entry<'_>) -> Result<u32, ExprError> {
        let v = e.value.unwrap_or_default();
        Ok(match self.out {
            OutKind::None => e.off,
            OutKind::Str => match &mut self.strs {
                Some(d) => d.first(entries, e.off, v),
                None => e.off,
            },
            OutKind::Int | OutKind::Ip => match parse_value(self.out, v)? {
                Sample::Int(i) => *self.int_ids.entry(i).or_insert_with(|| {
                    self.ints.push(i);
                    self.ints.len() as u32 - 1
                }),
                Sample::Ip(a) => *self.ip_ids.entry(a).or_insert_with(|| {
                    self.ips.push(a);
                    self.ips.len() as u32 - 1
                }),
                _ => 0,
            },
        })
    }

    pub fn finish(mut self, entries: &Arc<Entries>) -> Values {
        match self.out {
            OutKind::None => Values::None,
            OutKind::Str => Values::Str(entries.clone()),
            OutKind::Int => {
                self.ints.shrink_to_fit();
                Values::Int(self.ints)
            }
            OutKind::Ip => {
                self.ips.shrink_to_fit();
                Values::Ip(self.ips)
            }
        }
    }
}

/// Open-addressing set of string values, each known by the offset of the
/// first entry holding it: 8 bytes a slot, half full at most.
struct Dedup {
    /// (hash >> 32) << 32 | (offset + 1); 0: empty.
    slots: Vec<u64>,
}

fn hash(b: &[u8]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ b.len() as u64;
    for c in b.chunks(8) {
        let mut x = [0u8; 8];
        x[..c.len()].copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(x))
            .wrapping_mul(0xff51_afd7_ed55_8ccd)
            .rotate_left(31);
    }
    (h ^ (h >> 29)).wrapping_mul(0xc4ce_b9fe_1a85_ec53)
}

impl Dedup {
    fn new(n: usize) -> Self {
        Dedup {
            slots: vec![0; (n * 2).max(16).next_power_of_two()],
        }
    }

    /// The offset of the first entry whose value is `v` (`off` if none).
    fn first(&mut self, entries: &Entries, off: u32, v: &[u8]) -> u32 {
        let h = hash(v);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                self.slots[i] = (h & !0xffff_ffff) | (u64::from(off) + 1);
                return off;
            }
            if s >> 32 == h >> 32 {
                let o = (s as u32).wrapping_sub(1);
                if entries.at(o).and_then(|e| e.value).unwrap_or_default() == v {
                    return o;
                }
            }
            i = (i + 1) & mask;
        }
    }
}

impl Values {
    /// The value for a lookup's payload.
    pub fn get(&self, payload: u32) -> Option<Sample<'static>> {
        let i = payload as usize;
        match self {
            Values::None => Some(Sample::Bool(true)),
            Values::Str(e) => {
                let v = e.at(payload)?.value.unwrap_or_default();
                Some(Sample::Str(Cow::Owned(v.to_vec())))
            }
            Values::Int(v) => v.get(i).map(|x| Sample::Int(*x)),
            Values::Ip(v) => v.get(i).map(|x| Sample::Ip(*x)),
        }
    }

    /// Heap bytes (shared entries not counted).
    pub fn bytes(&self) -> usize {
        match self {
            Values::None | Values::Str(_) => 0,
            Values::Int(v) => v.capacity() * 8,
            Values::Ip(v) => v.capacity() * std::mem::size_of::<IpAddr>(),
        }
    }
}

/// A compiled `map*` converter.
#[derive(Debug)]
pub(crate) struct MapConv {
    pub cell: Arc<IndexCell>,
    pub default: Option<Sample<'static>>,
}

impl MapConv {
    pub fn out_type(&self) -> crate::sample::SmpType {
        use crate::sample::SmpType as T;
        match self.cell.spec.out {
            OutKind::Int => T::Int,
            OutKind::Ip => T::Ip,
            _ => T::Str,
        }
    }

    pub fn apply(&self, smp: &Sample<'_>) -> Option<Sample<'static>> {
        let idx = self.cell.load();
        match idx.lookup(smp) {
            Some(i) => idx.values.get(i),
            None => self.default.clone(),
        }
    }
}
