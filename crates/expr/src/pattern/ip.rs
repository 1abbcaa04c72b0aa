//! IP address pattern sets (manual section 7.1.6 "Matching IPv4 and IPv6
//! addresses"): CIDR networks, most specific network wins, IPv4 and IPv6.
//!
//! The networks are flattened into sorted disjoint intervals, each carrying
//! the entry index of the most specific network covering it; a lookup is a
//! bucket jump on the top 16 bits and a short binary search.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ExprError;

/// No entry covers the interval.
const NONE: u32 = u32::MAX;

/// Parse `addr[/len]` or `addr/dotted.mask` into (address, prefix length).
pub(crate) fn parse_net(s: &str) -> Result<(IpAddr, u8), ExprError> {
    let bad = || ExprError::new(format!("'{s}' is not a valid IPv4 or IPv6 address"));
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match m {
        None => max,
        Some(m) => match m.parse::<u8>() {
            Ok(l) if l <= max => l,
            Ok(_) => return Err(bad()),
            Err(_) => {
                let mask: Ipv4Addr = m.parse().map_err(|_| bad())?;
                let v = u32::from(mask);
                if !addr.is_ipv4() || v.leading_ones() + v.trailing_zeros() != 32 {
                    return Err(bad());
                }
                v.leading_ones() as u8
            }
        },
    };
    Ok((addr, len))
}

/// One address family's flattened table.
#[derive(Debug, Default)]
struct Table<K> {
    /// (interval start, entry index or NONE), sorted by start.
    data: Vec<(K, u32)>,
    /// `top[h]`: first interval whose start's top bits are >= h.
    top: Vec<u32>,
    shift: u32,
    /// IPv4 only, large sets: one bit per /24 block that holds any covered
    /// address, so most misses cost one access to a 2 MiB bitmap.
    blocks: Vec<u64>,
}

trait Key: Copy + Ord + Default {
    const BITS: u32;
    fn from_u128(v: u128) -> Self;
    fn to_u128(self) -> u128;
}
impl Key for u32 {
    const BITS: u32 = 32;
    fn from_u128(v: u128) -> Self {
        v as u32
    }
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
}
impl Key for u128 {
    const BITS: u32 = 128;
    fn from_u128(v: u128) -> Self {
        v
    }
    fn to_u128(self) -> u128 {
        self
    }
}

impl<K: Key> Table<K> {
    /// Build from (network, prefix length, entry index); earlier entries win
    /// over later identical networks.
    fn build(mut nets: Vec<(K, u8, u32)>) -> Self {
        let bits = K::BITS;
        let max: u128 = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        // Sort by start, then widest first, then file order.
        nets.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        nets.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        let mut t: Table<K> = Table {
            data: Vec::with_capacity(nets.len() * 2 + 1),
            top: Vec::new(),
            shift: 0,
            blocks: Vec::new(),
        };
        let mut stack: Vec<(u128, u32)> = Vec::new();
        // Next address not yet emitted; None once past the end of the space.
        let mut p: Option<u128> = Some(0);
        let end_of = |start: u128, len: u8| -> u128 {
            let host = bits - u32::from(len);
            if host >= 128 {
                u128::MAX
            } else {
                start | ((1u128 << host) - 1)
            }
        };
        for &(s, len, v) in &nets {
            let s = s.to_u128();
            while let Some(&(e, tv)) = stack.last() {
                if e >= s {
                    break;
                }
                if let Some(pp) = p {
                    if pp <= e {
                        t.emit(pp, tv);
                        p = e.checked_add(1);
                    }
                }
                stack.pop();
            }
            if let Some(pp) = p {
                if pp < s {
                    t.emit(pp, stack.last().map_or(NONE, |x| x.1));
                    p = Some(s);
                }
            }
            stack.push((end_of(s, len), v));
        }
        drop(nets);
        while let Some((e, tv)) = stack.pop() {
            if let Some(pp) = p {
                if pp <= e {
                    t.emit(pp, tv);
                    p = e.checked_add(1);
                }
            }
        }
        if let Some(pp) = p {
            if pp <= max {
                t.emit(pp, NONE);
            }
        }
        t.data.shrink_to_fit();
        // Bucket index on the top bits: about eight intervals per bucket, so
        // a lookup touches the bucket table and one cache line of intervals.
        let want = (t.data.len() / 8).max(16).next_power_of_two();
        let bucket_bits = want.trailing_zeros().clamp(4, 22);
        t.shift = bits - bucket_bits;
        let buckets = 1usize << bucket_bits;
        t.top = Vec::with_capacity(buckets + 1);
        let mut i = 0usize;
        for h in 0..=buckets {
            while i < t.data.len() && ((t.data[i].0.to_u128() >> t.shift) as usize) < h {
                i += 1;
            }
            t.top.push(i as u32);
        }
        if bits == 32 && t.data.len() > 65536 {
            t.blocks = vec![0u64; 1 << 18];
            for (i, d) in t.data.iter().enumerate() {
                if d.1 == NONE {
                    continue;
                }
                let first = (d.0.to_u128() >> 8) as usize;
                let last = t
                    .data
                    .get(i + 1)
                    .map_or(1usize << 24, |n| ((n.0.to_u128() - 1) >> 8) as usize + 1);
                for b in first..last {
                    t.blocks[b >> 6] |= 1 << (b & 63);
                }
            }
        }
        t
    }

    fn emit(&mut self, start: u128, val: u32) {
        if self.data.last().map(|d| d.1) == Some(val) {
            return;
        }
        self.data.push((K::from_u128(start), val));
    }

    #[inline]
    fn lookup(&self, a: K) -> u32 {
        if self.data.is_empty() {
            return NONE;
        }
        if !self.blocks.is_empty() {
            let b = (a.to_u128() >> 8) as usize;
            if self.blocks[b >> 6] & (1 << (b & 63)) == 0 {
                return NONE;
            }
        }
        let h = (a.to_u128() >> self.shift) as usize;
        let lo = self.top[h] as usize;
        let hi = self.top[h + 1] as usize;
        let pos = lo + self.data[lo..hi].partition_point(|d| d.0 <= a);
        if pos == 0 {
            return NONE;
        }
        self.data[pos - 1].1
    }

    fn bytes(&self) -> usize {
        self.data.capacity() * std::mem::size_of::<(K, u32)>()
            + self.top.capacity() * 4
            + self.blocks.capacity() * 8
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A set of IPv4 and IPv6 networks; lookups give the entry index of the
/// most specific network containing the address.
#[derive(Debug, Default)]
pub(crate) struct IpSet {
    v4: Table<u32>,
    v6: Table<u128>,
}

impl IpSet {
    /// Build from (address, prefix length, entry index).
    pub fn build(nets: impl IntoIterator<Item = (IpAddr, u8, u32)>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (a, len, idx) in nets {
            match a {
                IpAddr::V4(a) => {
                    let mask = if len == 0 {
                        0
                    } else {
                        u32::MAX << (32 - u32::from(len))
                    };
                    v4.push((u32::from(a) & mask, len, idx));
                }
                IpAddr::V6(a) => {
                    let mask = if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - u32::from(len))
                    };
                    v6.push((u128::from(a) & mask, len, idx));
                }
            }
        }
        IpSet {
            v4: if v4.is_empty() {
                Table::default()
            } else {
                Table::build(v4)
            },
            v6: if v6.is_empty() {
                Table::default()
            } else {
                Table::build(v6)
            },
        }
    }

    /// Entry index of the most specific network containing `a`. An IPv4
    /// address also matches IPv6 networks through its v4-mapped form, and a
    /// v4-mapped or v4-compatible IPv6 address matches IPv4 networks.
    pub fn lookup(&self, a: IpAddr) -> Option<u32> {
        let r = match a {
            IpAddr::V4(v4) => {
                let r = self.v4.lookup(u32::from(v4));
                if r == NONE && !self.v6.is_empty() {
                    self.v6.lookup(u128::from(v4.to_ipv6_mapped()))
                } else {
                    r
                }
            }
            IpAddr::V6(v6) => {
                let r = self.v6.lookup(u128::from(v6));
                if r == NONE && !self.v4.is_empty() {
                    match embedded_v4(&v6) {
                        Some(v4) => self.v4.lookup(u32::from(v4)),
                        None => NONE,
                    }
                } else {
                    r
                }
            }
        };
        (r != NONE).then_some(r)
    }

    /// Heap bytes used by the tables.
    pub fn bytes(&self) -> usize {
        self.v4.bytes() + self.v6.bytes()
    }
}

fn embedded_v4(a: &Ipv6Addr) -> Option<Ipv4Addr> {
    let s = a.segments();
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) && !(s[5] == 0 && s[6] == 0) {
        Some(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ))
    } else {
        None
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(list: &[&str]) -> IpSet {
        IpSet::build(list.iter().enumerate().map(|(i, s)| {
            let (a, l) = parse_net(s).unwrap();
            (a, l, i as u32)
        }))
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix() {
        let s = set(&[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.3",
            "192.168.1.0/24",
            "0.0.0.0/0",
            "10.1.0.0/16",
        ]);
        assert_eq!(s.lookup(ip("10.1.2.3")), Some(2));
        assert_eq!(s.lookup(ip("10.1.2.4")), Some(1));
        assert_eq!(s.lookup(ip("10.2.0.0")), Some(0));
        assert_eq!(s.lookup(ip("11.0.0.0")), Some(4));
        assert_eq!(s.lookup(ip("192.168.1.255")), Some(3));
        assert_eq!(s.lookup(ip("255.255.255.255")), Some(4));
        let s = set(&["192.168.1.0/24", "2001:db8::/32", "::ffff:10.0.0.0/104"]);
        assert_eq!(s.lookup(ip("192.168.2.1")), None);
        assert_eq!(s.lookup(ip("192.168.1.1")), Some(0));
        assert_eq!(s.lookup(ip("2001:db8::1")), Some(1));
        assert_eq!(s.lookup(ip("2001:db9::1")), None);
        assert_eq!(s.lookup(ip("::ffff:192.168.1.7")), Some(0));
        assert_eq!(s.lookup(ip("10.9.9.9")), Some(2));
        let s = set(&["255.255.255.255/32", "0.0.0.0/32", "::/0"]);
        assert_eq!(s.lookup(ip("255.255.255.255")), Some(0));
        assert_eq!(s.lookup(ip("0.0.0.0")), Some(1));
        assert_eq!(s.lookup(ip("ffff::1")), Some(2));
    }

    #[test]
    fn parse() {
        assert_eq!(parse_net("10.0.0.0/255.255.0.0").unwrap().1, 16);
        assert_eq!(
            parse_net("1.2.3.4.5").unwrap_err().msg,
            "'1.2.3.4.5' is not a valid IPv4 or IPv6 address"
        );
        assert!(parse_net("1.2.3.4/33").is_err());
        assert!(parse_net("10.0.0.0/255.0.255.0").is_err());
        assert_eq!(parse_net("::1").unwrap().1, 128);
    }
}
