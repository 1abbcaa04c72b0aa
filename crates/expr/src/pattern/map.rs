//! Map values and lookups (manual section 7.3.1 `map_<match>_<output>`:
//! the value of the first matching key, or the default).

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use super::{Entries, IndexCell, OutKind};
use crate::error::ExprError;
use crate::sample::{parse_int_full, Sample};

/// The values of a map, by entry index.
#[derive(Debug)]
pub(crate) enum Values {
    None,
    Str { buf: Vec<u8>, ends: Vec<u32> },
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

impl Values {
    pub fn build(out: OutKind, entries: &Entries) -> Result<Self, ExprError> {
        Ok(match out {
            OutKind::None => Values::None,
            OutKind::Str => {
                let mut buf = Vec::new();
                let mut ends = Vec::with_capacity(entries.len());
                for (_, v) in entries.iter() {
                    buf.extend_from_slice(v.unwrap_or_default());
                    ends.push(buf.len() as u32);
                }
                Values::Str { buf, ends }
            }
            OutKind::Int | OutKind::Ip => {
                let mut ints = Vec::new();
                let mut ips = Vec::new();
                for (_, v) in entries.iter() {
                    match parse_value(out, v.unwrap_or_default())? {
                        Sample::Int(i) => ints.push(i),
                        Sample::Ip(a) => ips.push(a),
                        _ => {}
                    }
                }
                if out == OutKind::Int {
                    Values::Int(ints)
                } else {
                    Values::Ip(ips)
                }
            }
        })
    }

    /// The value of entry `idx`.
    pub fn get(&self, idx: u32) -> Option<Sample<'static>> {
        let i = idx as usize;
        match self {
            Values::None => Some(Sample::Bool(true)),
            Values::Str { buf, ends } => {
                let end = *ends.get(i)? as usize;
                let start = if i == 0 { 0 } else { ends[i - 1] as usize };
                Some(Sample::Str(Cow::Owned(buf[start..end].to_vec())))
            }
            Values::Int(v) => v.get(i).map(|x| Sample::Int(*x)),
            Values::Ip(v) => v.get(i).map(|x| Sample::Ip(*x)),
        }
    }

    pub fn bytes(&self) -> usize {
        match self {
            Values::None => 0,
            Values::Str { buf, ends } => buf.capacity() + ends.capacity() * 4,
            Values::Int(v) => v.capacity() * 8,
            Values::Ip(v) => v.capacity() * 17,
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
