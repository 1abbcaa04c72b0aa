//! `hash-type consistent` and `balance random` (HAProxy manual, section 4.2
//! `balance` and `hash-type`): HAProxy's `lb_chash`.
//!
//! Each usable server owns `eweight` (= weight x 16) points on a 32-bit ring,
//! point `i` of server `id` sitting at `full_hash(id * 4096 + i)`; the points
//! depend only on the server's id and weight, which is why HAProxy and Sluice
//! agree when ids agree, and why a server going down only moves its own keys.
//! A key goes to the nearer of the two points around it.

use crate::hash::full_hash;
use crate::{Change, Counts, Rng, Srv, Target, SRV_EWGHT_RANGE};

/// One ring point: (position, server index).
type Node = (u32, usize);

#[derive(Debug, Clone)]
pub(crate) struct Chash {
    /// Active and backup rings, sorted by position (positions are distinct:
    /// `full_hash` is a bijection and ids times 4096 plus index never repeat).
    rings: [Vec<Node>; 2],
    /// Last point handed out by the round-robin walk used when the hash key
    /// is missing: (ring, position).
    last: Option<(usize, u32)>,
}

fn nodes_of(s: &Srv, i: usize) -> impl Iterator<Item = Node> + '_ {
    let base = s.id.wrapping_mul(SRV_EWGHT_RANGE);
    (0..s.eweight).map(move |n| (full_hash(base.wrapping_add(n)), i))
}

impl Chash {
    pub(crate) fn new(srvs: &[Srv]) -> Self {
        let mut c = Chash {
            rings: [Vec::new(), Vec::new()],
            last: None,
        };
        for (i, s) in srvs.iter().enumerate().filter(|(_, s)| s.usable()) {
            c.rings[s.group()].extend(nodes_of(s, i));
        }
        c.rings.iter_mut().for_each(|r| r.sort_unstable());
        c
    }

    /// Puts exactly `eweight` points of the server on its ring (none when
    /// unusable). If the round-robin cursor sat on a removed point it moves
    /// to the next surviving one, as HAProxy's `chash_skip_node` does.
    pub(crate) fn changed(&mut self, srvs: &[Srv], ch: Change) {
        let s = &srvs[ch.idx];
        let g = s.group();
        let ring = &mut self.rings[g];
        ring.retain(|&(_, i)| i != ch.idx);
        if s.usable() {
            ring.extend(nodes_of(s, ch.idx));
            ring.sort_unstable();
        }
        if let Some((lg, key)) = self.last {
            if lg == g && ring.binary_search_by_key(&key, |&(k, _)| k).is_err() {
                self.last = if ring.is_empty() {
                    None
                } else {
                    let p = ring.partition_point(|&(k, _)| k < key);
                    Some((g, ring[if p == ring.len() { 0 } else { p }].0))
                };
            }
        }
    }

    fn ring_for(&self, counts: &Counts) -> Result<usize, Option<usize>> {
        match counts.target() {
            Target::Group(g) => Ok(g),
            Target::Single(f) => Err(Some(f)),
            Target::Nothing => Err(None),
        }
    }

    /// `chash_get_server_hash`: the point at or after the key and the one
    /// before it are compared by distance (ties go to the one before); when
    /// that server is the one to avoid, walk on along the ring.
    pub(crate) fn hash(&self, counts: &Counts, h: u32, avoid: Option<usize>) -> Option<usize> {
        let g = match self.ring_for(counts) {
            Ok(g) => g,
            Err(r) => return r,
        };
        let ring = &self.rings[g];
        if ring.is_empty() {
            return None;
        }
        let mut next = ring.partition_point(|&(k, _)| k < h);
        if next == ring.len() {
            next = 0;
        }
        let prev = if next == 0 { ring.len() - 1 } else { next - 1 };
        let dp = h.wrapping_sub(ring[prev].0);
        let dn = ring[next].0.wrapping_sub(h);
        let mut at = if dp <= dn { prev } else { next };
        let mut srv = ring[at].1;
        // HAProxy gives up after wrapping twice (only the avoided server left).
        let mut wraps = 0;
        while Some(srv) == avoid {
            at += 1;
            if at == ring.len() {
                at = 0;
                wraps += 1;
                if wraps > 1 {
                    break;
                }
            }
            srv = ring[at].1;
        }
        Some(srv)
    }

    /// `chash_get_next_server`: round robin along the ring from the last
    /// point used, skipping saturated servers and the one to avoid. Like
    /// HAProxy, when there is no last point only the first one is tried.
    pub(crate) fn rr(
        &mut self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let g = match self.ring_for(counts) {
            Ok(g) => g,
            Err(r) => return r,
        };
        let ring = &self.rings[g];
        if ring.is_empty() {
            self.last = None;
            return None;
        }
        // HAProxy keeps a node pointer that may belong to the other ring after
        // a failover; continuing from the same position in the ring in use is
        // the closest well-defined equivalent.
        let mut node: Option<usize> = self
            .last
            .map(|(_, key)| ring.partition_point(|&(k, _)| k < key))
            .map(|p| {
                // position of the last point, or of the one just before where
                // it would be, so that the walk resumes after it
                if p < ring.len() && self.last.is_some_and(|(_, k)| ring[p].0 == k) {
                    p
                } else if p == 0 {
                    ring.len() - 1
                } else {
                    p - 1
                }
            });
        let mut stop = node;
        let mut avoided: Option<(usize, usize)> = None;
        loop {
            let n = match node {
                Some(p) if p + 1 < ring.len() => p + 1,
                _ => 0,
            };
            node = Some(n);
            self.last = Some((g, ring[n].0));
            if stop.is_none() {
                stop = Some(n);
            }
            let s = ring[n].1;
            if !srvs[s].full() {
                if Some(s) != avoid {
                    return Some(s);
                }
                avoided = Some((s, n));
            }
            if node == stop {
                break;
            }
        }
        match avoided {
            Some((s, n)) => {
                self.last = Some((g, ring[n].0));
                Some(s)
            }
            None => {
                self.last = None;
                None
            }
        }
    }

    /// `get_server_rnd`: `draws` random ring lookups, keeping the server with
    /// the fewest connections relative to its weight; a saturated winner
    /// sends the request to the backend queue.
    pub(crate) fn random(
        &self,
        srvs: &[Srv],
        counts: &Counts,
        draws: u32,
        rng: &mut dyn Rng,
        avoid: Option<usize>,
    ) -> crate::Pick {
        let mut curr: Option<usize> = None;
        for _ in 0..draws.max(1) {
            let prev = curr;
            curr = self.hash(counts, rng.next_u32(), avoid);
            let Some(c) = curr else { break };
            if let Some(p) = prev {
                let (sc, sp) = (&srvs[c], &srvs[p]);
                if p != c
                    && u64::from(sc.served) * u64::from(sp.eweight)
                        > u64::from(sp.served) * u64::from(sc.eweight)
                {
                    curr = Some(p);
                }
            }
        }
        match curr {
            Some(c) if !srvs[c].full() => crate::Pick::Server(c),
            _ => crate::Pick::Queue(None),
        }
    }
}
