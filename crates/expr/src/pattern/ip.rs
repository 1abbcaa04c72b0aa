//! IP address pattern sets (manual section 7.1.6 "Matching IPv4 and IPv6
//! addresses"): CIDR networks, most specific network wins, IPv4 and IPv6.
//!
//! The networks are flattened once into sorted disjoint intervals, each
//! carrying the payload of the most specific network covering it (longest
//! prefix match is resolved when building, by splitting ranges). A lookup
//! is a jump through a bucket table on the top bits of the address and a
//! binary search among the few interval starts of that bucket. Large IPv4
//! sets keep only the low 16 bits of each start, plus a 4-byte payload
//! (none at all for ACLs, whose covered and uncovered intervals alternate):
//! 2 or 6 bytes an interval, at most two intervals a network, in three flat
//! arrays (no allocation per entry).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::entries::{Entries, Key};
use super::NONE;
use crate::error::ExprError;

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

/// The network a stored key names.
pub(crate) fn key_net(k: Key<'_>) -> Result<(IpAddr, u8), ExprError> {
    match k {
        Key::V4(a, len) => Ok((IpAddr::V4(Ipv4Addr::from(a)), len.unwrap_or(32))),
        Key::Text(t) => parse_net(&String::from_utf8_lossy(t)),
    }
}

/// The low bits of an interval start, as stored. The bits above the
/// bucket are the same for every start of a bucket, so truncating to any
/// width at least as wide as the bucket's keeps their order.
trait Low: Copy + Ord {
    const BITS: u32;
    fn trunc(v: u128) -> Self;
}
impl Low for u16 {
    const BITS: u32 = 16;
    fn trunc(v: u128) -> Self {
        v as u16
    }
}
impl Low for u32 {
    const BITS: u32 = 32;
    fn trunc(v: u128) -> Self {
        v as u32
    }
}
impl Low for u128 {
    const BITS: u32 = 128;
    fn trunc(v: u128) -> Self {
        v
    }
}

/// Disjoint intervals covering one address family, in address order:
/// `starts[i]` is where interval `i` begins (the first begins at address
/// 0), and it runs to the next start. Interval starts are found through a
/// bucket table on the top bits of the address, then a binary search
/// among the few starts of that bucket.
#[derive(Debug, Default)]
struct Table<L> {
    /// `address >> shift` is the address's bucket.
    shift: u32,
    /// `top[h]..top[h + 1]`: the intervals starting in bucket `h`.
    top: Vec<u32>,
    starts: Vec<L>,
    /// The payload of each interval (NONE: no network). Empty for a
    /// presence set: its intervals alternate between `alt[0]` and `alt[1]`.
    vals: Vec<u32>,
    presence: bool,
    alt: [u32; 2],
    buckets: usize,
}

impl<L: Low> Table<L> {
    /// An empty table for `n` intervals of `addr_bits`-bit addresses, with
    /// `2^bucket_bits` buckets.
    fn new(addr_bits: u32, bucket_bits: u32, n: usize, presence: bool) -> Self {
        debug_assert!(addr_bits - bucket_bits <= L::BITS);
        Table {
            shift: addr_bits - bucket_bits,
            top: Vec::with_capacity((1 << bucket_bits) + 1),
            starts: Vec::with_capacity(n),
            vals: Vec::with_capacity(if presence { 0 } else { n }),
            presence,
            alt: [NONE; 2],
            buckets: 1 << bucket_bits,
        }
    }

    /// Append the next interval.
    fn push(&mut self, start: u128, val: u32) {
        let i = self.starts.len() as u32;
        if i == 0 {
            self.alt = [val, if val == NONE { 0 } else { NONE }];
        }
        let h = (start >> self.shift) as usize;
        while self.top.len() <= h {
            self.top.push(i);
        }
        self.starts.push(L::trunc(start));
        if !self.presence {
            self.vals.push(val);
        }
    }

    fn finish(&mut self) {
        let n = self.starts.len() as u32;
        while self.top.len() <= self.buckets {
            self.top.push(n);
        }
    }

    #[inline]
    fn lookup(&self, a: u128) -> u32 {
        let h = (a >> self.shift) as usize;
        let (Some(&s), Some(&e)) = (self.top.get(h), self.top.get(h + 1)) else {
            return NONE;
        };
        let (s, e) = (s as usize, e as usize);
        // Load every cache line the search and the payload may need at
        // once, instead of the payload's only after the search: with a
        // large table both miss the cache, and this takes one wait, not two.
        touch(&self.starts[s..e]);
        if !self.presence {
            touch(&self.vals[s.saturating_sub(1)..e]);
        }
        let x = L::trunc(a);
        let pos = s + self.starts[s..e].partition_point(|&v| v <= x);
        // Interval 0 starts at address 0, so pos is at least 1.
        let Some(i) = pos.checked_sub(1) else {
            return NONE;
        };
        if self.presence {
            self.alt[i & 1]
        } else {
            self.vals[i]
        }
    }

    fn bytes(&self) -> usize {
        self.top.capacity() * 4
            + self.starts.capacity() * std::mem::size_of::<L>()
            + self.vals.capacity() * 4
    }

    fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Read one element per cache line of `s` (at most eight lines), for the
/// loads to be under way together.
#[inline]
fn touch<T: Copy>(s: &[T]) {
    let step = (64 / std::mem::size_of::<T>()).max(1);
    for v in s.iter().step_by(step).take(8) {
        std::hint::black_box(*v);
    }
    if let Some(v) = s.last() {
        std::hint::black_box(*v);
    }
}

/// Flatten networks sorted by start then widest first, without duplicates,
/// given as (first address, last address, payload), into disjoint
/// intervals: `emit(start, payload)` for each in order, NONE where no
/// network covers; neighbours with equal payloads are merged. Nested
/// networks split the wider one, so each interval carries the payload of
/// the most specific network covering it. Returns the interval count.
fn sweep(
    nets: impl Iterator<Item = (u128, u128, u32)>,
    max: u128,
    mut emit: impl FnMut(u128, u32),
) -> usize {
    let mut n = 0;
    let mut last = None;
    let mut out = |start: u128, v: u32| {
        if last != Some(v) {
            last = Some(v);
            n += 1;
            emit(start, v);
        }
    };
    // Open networks, innermost last: (last address, payload).
    let mut stack: Vec<(u128, u32)> = Vec::with_capacity(130);
    // Next address not yet emitted; None once past the end of the space.
    let mut p: Option<u128> = Some(0);
    for (s, e, v) in nets {
        while let Some(&(te, tv)) = stack.last() {
            if te >= s {
                break;
            }
            if let Some(pp) = p.filter(|&pp| pp <= te) {
                out(pp, tv);
                p = te.checked_add(1);
            }
            stack.pop();
        }
        if let Some(pp) = p.filter(|&pp| pp < s) {
            out(pp, stack.last().map_or(NONE, |x| x.1));
            p = Some(s);
        }
        stack.push((e, v));
    }
    while let Some((te, tv)) = stack.pop() {
        if let Some(pp) = p.filter(|&pp| pp <= te) {
            out(pp, tv);
            p = te.checked_add(1);
        }
    }
    if let Some(pp) = p.filter(|&pp| pp <= max) {
        out(pp, NONE);
    }
    n
}

/// Buckets for `n` intervals: about eight intervals each, within limits.
fn bucket_bits(n: usize, min: u32, max: u32) -> u32 {
    (n / 8)
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(min, max)
}

/// Sort by start, widest first, file order (the sort is stable), and keep
/// the first of identical networks.
fn sort_nets<A: Ord + Copy>(nets: &mut Vec<(A, u8, u32)>, presence: bool) {
    if presence {
        nets.sort_unstable_by_key(|n| (n.0, n.1));
    } else {
        nets.sort_by_key(|n| (n.0, n.1));
    }
    nets.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
}

/// The IPv4 table: 32-bit starts for small sets; 16-bit starts under
/// 2^16 buckets or more for large ones (six bytes an interval).
#[derive(Debug)]
enum V4Table {
    Small(Table<u32>),
    Large(Table<u16>),
}

/// The IPv4 networks.
#[derive(Debug)]
struct V4 {
    t: V4Table,
    /// Large sparse sets: one bit per /22 block holding any covered
    /// address (512 KiB, mostly cached), so that most misses are answered
    /// without reading the table. Empty when most blocks are covered.
    blocks: Vec<u64>,
}

/// Addresses per coverage block: 2^BLOCK_BITS.
const BLOCK_BITS: u32 = 10;

impl V4 {
    fn build(mut nets: Vec<(u32, u8, u32)>, presence: bool) -> Self {
        sort_nets(&mut nets, presence);
        let iter = || {
            nets.iter().map(|&(s, len, v)| {
                let host = u64::from(u32::MAX) >> len;
                let s = u64::from(s);
                (
                    u128::from(s),
                    u128::from(s | host),
                    if presence { 0 } else { v },
                )
            })
        };
        let max = u128::from(u32::MAX);
        let n = sweep(iter(), max, |_, _| {});
        if n < LARGE {
            let mut t = Table::new(32, bucket_bits(n, 4, 16), n, presence);
            sweep(iter(), max, |s, v| t.push(s, v));
            t.finish();
            return V4 {
                t: V4Table::Small(t),
                blocks: Vec::new(),
            };
        }
        let mut t = Table::new(32, bucket_bits(n, 16, LARGE_MAX_BITS), n, presence);
        let mut blocks = vec![0u64; 1 << (32 - BLOCK_BITS - 6)];
        let mut mark = |from: u128, to: u128| {
            for b in (from >> BLOCK_BITS) as usize..=(to >> BLOCK_BITS) as usize {
                blocks[b >> 6] |= 1 << (b & 63);
            }
        };
        let mut prev: Option<u128> = None;
        sweep(iter(), max, |s, v| {
            if let Some(p) = prev.take() {
                mark(p, s - 1);
            }
            if v != NONE {
                prev = Some(s);
            }
            t.push(s, v);
        });
        if let Some(p) = prev {
            mark(p, max);
        }
        t.finish();
        let covered: u32 = blocks.iter().map(|b| b.count_ones()).sum();
        if covered as usize * 2 > blocks.len() * 64 {
            blocks = Vec::new();
        }
        V4 {
            t: V4Table::Large(t),
            blocks,
        }
    }

    #[inline]
    fn lookup(&self, a: u32) -> u32 {
        if !self.blocks.is_empty() {
            let b = (a >> BLOCK_BITS) as usize;
            if self.blocks[b >> 6] & (1 << (b & 63)) == 0 {
                return NONE;
            }
        }
        match &self.t {
            V4Table::Small(t) => t.lookup(u128::from(a)),
            V4Table::Large(t) => t.lookup(u128::from(a)),
        }
    }

    fn bytes(&self) -> usize {
        self.blocks.capacity() * 8
            + match &self.t {
                V4Table::Small(t) => t.bytes(),
                V4Table::Large(t) => t.bytes(),
            }
    }

    fn is_empty(&self) -> bool {
        match &self.t {
            V4Table::Small(t) => t.is_empty(),
            V4Table::Large(t) => t.is_empty(),
        }
    }
}

impl Default for V4 {
    fn default() -> Self {
        V4 {
            t: V4Table::Small(Table::default()),
            blocks: Vec::new(),
        }
    }
}

/// From this many IPv4 intervals on, the large layout.
const LARGE: usize = 1 << 16;
/// At most 2^LARGE_MAX_BITS buckets in the large layout.
const LARGE_MAX_BITS: u32 = 16;

/// Networks to build an [`IpSet`] from: (network, prefix length, payload).
#[derive(Debug, Default)]
pub(crate) struct Nets {
    v4: Vec<(u32, u8, u32)>,
    v6: Vec<(u128, u8, u32)>,
}

impl Nets {
    pub fn with_capacity(n: usize) -> Self {
        Nets {
            v4: Vec::with_capacity(n),
            v6: Vec::new(),
        }
    }

    /// Add `a/len` (host bits are ignored).
    pub fn push(&mut self, a: IpAddr, len: u8, payload: u32) {
        match a {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                self.v4.push((u32::from(a) & mask, len, payload));
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                self.v6.push((u128::from(a) & mask, len, payload));
            }
        }
    }
}

/// A set of IPv4 and IPv6 networks; lookups give the payload of the most
/// specific network containing the address (of the first in file order
/// among identical networks).
#[derive(Debug, Default)]
pub(crate) struct IpSet {
    v4: V4,
    v6: Table<u128>,
}

impl IpSet {
    /// Build from networks. A `presence` set only tells whether some
    /// network contains the address (its lookups give Some(0)), which
    /// merges neighbouring networks into one interval.
    pub fn build(nets: Nets, presence: bool) -> Self {
        let Nets { mut v4, mut v6 } = nets;
        v4.shrink_to_fit();
        let v4 = if v4.is_empty() {
            V4::default()
        } else {
            V4::build(v4, presence)
        };
        let v6 = if v6.is_empty() {
            Table::default()
        } else {
            sort_nets(&mut v6, presence);
            let iter = || {
                v6.iter().map(|&(s, len, v)| {
                    let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                    (s, s | host, if presence { 0 } else { v })
                })
            };
            let n = sweep(iter(), u128::MAX, |_, _| {});
            let mut t = Table::new(128, bucket_bits(n, 4, 20), n, presence);
            sweep(iter(), u128::MAX, |s, v| t.push(s, v));
            t.finish();
            t
        };
        IpSet { v4, v6 }
    }

    /// Payload of the most specific network containing `a`. An IPv4
    /// address also matches IPv6 networks through its v4-mapped form, and a
    /// v4-mapped or v4-compatible IPv6 address matches IPv4 networks.
    #[inline]
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

/// Position of the entry a lookup of `a` in an [`IpSet`] built from
/// `entries` finds, by a scan (for sets that keep no payloads).
pub(crate) fn find_entry(entries: &Entries, a: IpAddr) -> Option<usize> {
    let (q4, q6) = match a {
        IpAddr::V4(v4) => (Some(v4), v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => (embedded_v4(&v6), v6),
    };
    let (q4, q6) = (q4.map(u32::from), u128::from(q6));
    // Best (prefix length, position) per family; the first wins ties.
    let mut best: [Option<(u8, usize)>; 2] = [None, None];
    for (i, e) in entries.iter().enumerate() {
        let Ok((net, len)) = key_net(e.key) else {
            continue;
        };
        let (fam, hit) = match net {
            IpAddr::V4(n) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                (0, q4.is_some_and(|q| q & mask == u32::from(n) & mask))
            }
            IpAddr::V6(n) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                (1, q6 & mask == u128::from(n) & mask)
            }
        };
        if hit && best[fam].is_none_or(|(l, _)| len > l) {
            best[fam] = Some((len, i));
        }
    }
    let order = if a.is_ipv4() { [0, 1] } else { [1, 0] };
    order.iter().find_map(|&f| best[f]).map(|(_, i)| i)
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

    fn build(list: &[&str], presence: bool) -> IpSet {
        let mut n = Nets::default();
        for (i, s) in list.iter().enumerate() {
            let (a, l) = parse_net(s).unwrap();
            n.push(a, l, i as u32);
        }
        IpSet::build(n, presence)
    }
    fn set(list: &[&str]) -> IpSet {
        build(list, false)
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
    fn nested_adjacent_and_edges() {
        let list = [
            "10.0.0.0/8",
            "10.0.0.0/9",
            "10.128.0.0/9",
            "10.0.0.0/32",
            "10.255.255.255/32",
            "10.1.0.0/16",
            "10.1.1.0/24",
            "10.1.2.0/24",
            "10.1.2.0/23",
            "9.255.255.255",
            "11.0.0.0",
        ];
        for presence in [false, true] {
            let s = build(&list, presence);
            let want = |i: u32| Some(if presence { 0 } else { i });
            assert_eq!(s.lookup(ip("10.0.0.0")), want(3));
            assert_eq!(s.lookup(ip("10.0.0.1")), want(1));
            assert_eq!(s.lookup(ip("10.127.255.255")), want(1));
            assert_eq!(s.lookup(ip("10.128.0.0")), want(2));
            assert_eq!(s.lookup(ip("10.255.255.254")), want(2));
            assert_eq!(s.lookup(ip("10.255.255.255")), want(4));
            assert_eq!(s.lookup(ip("10.1.0.255")), want(5));
            assert_eq!(s.lookup(ip("10.1.1.0")), want(6));
            assert_eq!(s.lookup(ip("10.1.1.255")), want(6));
            assert_eq!(s.lookup(ip("10.1.2.0")), want(7));
            assert_eq!(s.lookup(ip("10.1.3.0")), want(8));
            assert_eq!(s.lookup(ip("10.1.4.0")), want(5));
            assert_eq!(s.lookup(ip("9.255.255.255")), want(9));
            assert_eq!(s.lookup(ip("11.0.0.0")), want(10));
            assert_eq!(s.lookup(ip("9.255.255.254")), None);
            assert_eq!(s.lookup(ip("11.0.0.1")), None);
            assert_eq!(s.lookup(ip("0.0.0.0")), None);
            assert_eq!(s.lookup(ip("255.255.255.255")), None);
            // The v4-mapped form of an address finds the IPv4 networks.
            assert_eq!(s.lookup(ip("::ffff:10.1.1.7")), want(6));
            assert_eq!(s.lookup(ip("::10.1.1.7")), want(6));
            assert_eq!(s.lookup(ip("2001:db8::10.1.1.7")), None);
        }
        // /0 covers everything; the most specific still wins; the first of
        // identical networks wins, host bits ignored.
        let s = set(&[
            "0.0.0.0/0",
            "0.0.0.0/32",
            "255.255.255.255/32",
            "128.0.0.1/0",
        ]);
        assert_eq!(s.lookup(ip("0.0.0.0")), Some(1));
        assert_eq!(s.lookup(ip("0.0.0.1")), Some(0));
        assert_eq!(s.lookup(ip("255.255.255.254")), Some(0));
        assert_eq!(s.lookup(ip("255.255.255.255")), Some(2));
        let s = build(&["0.0.0.0/0"], true);
        assert_eq!(s.lookup(ip("1.2.3.4")), Some(0));
        assert_eq!(s.lookup(ip("::ffff:1.2.3.4")), Some(0));
        assert_eq!(s.lookup(ip("::1")), None);
        // An IPv6 network is found for IPv4 addresses through their
        // v4-mapped form, after the IPv4 networks.
        let s = set(&["::ffff:0.0.0.0/96", "1.2.3.0/24", "::/0"]);
        assert_eq!(s.lookup(ip("1.2.3.4")), Some(1));
        assert_eq!(s.lookup(ip("1.2.4.4")), Some(0));
        assert_eq!(s.lookup(ip("::ffff:1.2.3.4")), Some(0));
        assert_eq!(s.lookup(ip("2001::1")), Some(2));
        let s = set(&["::/0", "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]);
        assert_eq!(s.lookup(ip("::")), Some(1));
        assert_eq!(s.lookup(ip("::1")), Some(0));
        assert_eq!(
            s.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            Some(2)
        );
        assert_eq!(IpSet::default().lookup(ip("1.2.3.4")), None);
        assert_eq!(IpSet::default().lookup(ip("::1")), None);
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Random sets, small and large (both IPv4 layouts), against a plain
    /// longest-prefix search, at random addresses and at every network's
    /// edges; with payloads and as presence sets.
    #[test]
    fn random_sets_match_reference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (count, min_len) in [(40, 0u32), (3000, 8), (60_000, 12), (70_000, 20)] {
            let mut nets = Nets::default();
            let mut reference = std::collections::HashMap::new();
            let mut edges = Vec::new();
            for i in 0..count {
                let len = min_len + (rng.next() % u64::from(33 - min_len)) as u32;
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                let a = rng.next() as u32;
                nets.push(IpAddr::V4(Ipv4Addr::from(a)), len as u8, i);
                reference.entry((a & mask, len)).or_insert(i);
                edges.extend([
                    a & mask,
                    (a & mask).wrapping_sub(1),
                    a | !mask,
                    (a | !mask).wrapping_add(1),
                ]);
            }
            let find = |a: u32| {
                (0..=32u32).rev().find_map(|len| {
                    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                    reference.get(&(a & mask, len)).copied()
                })
            };
            let v4 = nets.v4.clone();
            let map = IpSet::build(nets, false);
            let acl = IpSet::build(Nets { v4, v6: Vec::new() }, true);
            if count > 50_000 {
                assert!(matches!(map.v4.t, V4Table::Large(_)));
                // Only sparse sets keep a coverage bitmap.
                assert_eq!(map.v4.blocks.is_empty(), min_len < 20);
                assert_eq!(acl.v4.blocks.is_empty(), min_len < 20);
            } else {
                assert!(matches!(map.v4.t, V4Table::Small(_)));
            }
            let probes = (0..20_000).map(|_| rng.next() as u32).chain(edges);
            for a in probes.chain([0, u32::MAX]) {
                let want = find(a);
                let addr = IpAddr::V4(Ipv4Addr::from(a));
                assert_eq!(map.lookup(addr), want, "{addr}");
                assert_eq!(acl.lookup(addr), want.map(|_| 0), "{addr}");
            }
        }
    }

    #[test]
    fn scan_agrees_with_index() {
        let text = "10.0.0.0/8\n10.1.0.0/16\n10.1.0.0/16\n::ffff:10.2.0.0/112\n\
                    2001:db8::/32\n0.0.0.0/0\n10.1.2.3\n";
        let e = Entries::parse_file(text.as_bytes().to_vec(), false);
        let mut n = Nets::default();
        for (i, x) in e.iter().enumerate() {
            let (a, l) = key_net(x.key).unwrap();
            n.push(a, l, i as u32);
        }
        let s = IpSet::build(n, false);
        for a in [
            "10.1.2.3",
            "10.1.2.4",
            "10.2.0.1",
            "10.3.0.0",
            "11.0.0.0",
            "::ffff:10.1.0.1",
            "::ffff:10.2.0.1",
            "2001:db8::1",
            "2001:db9::1",
            "::1",
        ] {
            let a = ip(a);
            assert_eq!(find_entry(&e, a), s.lookup(a).map(|i| i as usize), "{a}");
        }
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
