//! Samples and their types and casts (manual section 7.3 "Fetching samples":
//! boolean, integer, IPv4/IPv6 address, string, binary).

use std::borrow::Cow;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One sample value. Strings borrow from the transaction where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample<'a> {
    /// Boolean.
    Bool(bool),
    /// Signed 64-bit integer.
    Int(i64),
    /// IPv4 or IPv6 address.
    Ip(IpAddr),
    /// Text.
    Str(Cow<'a, [u8]>),
    /// Binary bytes.
    Bin(Cow<'a, [u8]>),
}

/// The type of a sample, for matching defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpType {
    /// Boolean.
    Bool,
    /// Integer.
    Int,
    /// Address.
    Ip,
    /// String.
    Str,
    /// Binary.
    Bin,
}

impl<'a> Sample<'a> {
    /// A borrowed string sample.
    pub fn str(s: &'a [u8]) -> Self {
        Sample::Str(Cow::Borrowed(s))
    }
    /// An owned string sample.
    pub fn string(s: Vec<u8>) -> Sample<'static> {
        Sample::Str(Cow::Owned(s))
    }
    /// The sample's type.
    pub fn kind(&self) -> SmpType {
        match self {
            Sample::Bool(_) => SmpType::Bool,
            Sample::Int(_) => SmpType::Int,
            Sample::Ip(_) => SmpType::Ip,
            Sample::Str(_) => SmpType::Str,
            Sample::Bin(_) => SmpType::Bin,
        }
    }
    /// Detach from the borrowed transaction.
    pub fn into_owned(self) -> Sample<'static> {
        match self {
            Sample::Bool(b) => Sample::Bool(b),
            Sample::Int(i) => Sample::Int(i),
            Sample::Ip(a) => Sample::Ip(a),
            Sample::Str(s) => Sample::Str(Cow::Owned(s.into_owned())),
            Sample::Bin(s) => Sample::Bin(Cow::Owned(s.into_owned())),
        }
    }
    /// The bytes of a string or binary sample (no cast).
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Sample::Str(s) | Sample::Bin(s) => Some(s),
            _ => None,
        }
    }
    /// Cast to integer, as HAProxy does (strings: leading decimal number).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Sample::Bool(b) => Some(*b as i64),
            Sample::Int(i) => Some(*i),
            Sample::Ip(IpAddr::V4(a)) => Some(u32::from(*a) as i64),
            Sample::Ip(IpAddr::V6(_)) => None,
            Sample::Str(s) => parse_int_prefix(s),
            Sample::Bin(_) => None,
        }
    }
    /// Cast to boolean (non-zero integer, non-empty... as HAProxy's c_int2bool).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Sample::Bool(b) => Some(*b),
            Sample::Int(i) => Some(*i != 0),
            Sample::Str(_) => self.to_int().map(|i| i != 0),
            _ => None,
        }
    }
    /// Cast to an address (strings are parsed).
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Sample::Ip(a) => Some(*a),
            Sample::Int(i) => u32::try_from(*i)
                .ok()
                .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
            Sample::Str(s) => parse_ip(s),
            Sample::Bin(b) if b.len() == 4 => {
                Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            }
            Sample::Bin(b) if b.len() == 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(b);
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            }
            _ => None,
        }
    }
    /// Cast to string bytes, borrowing when already a string.
    pub fn to_str(&self) -> Cow<'_, [u8]> {
        match self {
            Sample::Str(s) | Sample::Bin(s) => Cow::Borrowed(&s[..]),
            other => {
                let mut v = Vec::new();
                other.write_to(&mut v);
                Cow::Owned(v)
            }
        }
    }
    /// Consume into a string sample (cast).
    pub fn into_str(self) -> Sample<'a> {
        match self {
            Sample::Str(s) | Sample::Bin(s) => Sample::Str(s),
            other => {
                let mut v = Vec::new();
                other.write_to(&mut v);
                Sample::Str(Cow::Owned(v))
            }
        }
    }
    /// Consume into the bytes of the string form.
    pub fn into_bytes(self) -> Cow<'a, [u8]> {
        match self.into_str() {
            Sample::Str(s) => s,
            _ => Cow::Borrowed(&[]),
        }
    }
    /// Append the string form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Sample::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
            Sample::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Sample::Ip(a) => {
                let _ = write!(out, "{a}");
            }
            Sample::Str(s) | Sample::Bin(s) => out.extend_from_slice(s),
        }
    }
}

/// Parse an optional sign and decimal digits at the start, as `strtoll` would
/// (HAProxy's `c_str2int` fails when no digit at all).
pub(crate) fn parse_int_prefix(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[i] - b'0') as i64)?;
        i += 1;
    }
    if i == start {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Parse a whole decimal integer.
pub(crate) fn parse_int_full(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b
        .strip_prefix(b"-")
        .or_else(|| b.strip_prefix(b"+"))
        .unwrap_or(b);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.parse().ok()
}

/// Parse an IPv4 or IPv6 address from bytes.
pub(crate) fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}
