//! `balance leastconn` and `balance first` (HAProxy manual, section 4.2
//! `balance`): HAProxy's `lb_fwlc` and `lb_fas`.
//!
//! leastconn keeps servers ordered by load relative to weight; a server is
//! re-inserted behind its equals whenever its load changes, which is what
//! makes equally loaded servers take turns. first orders servers by id and
//! fills each one up to its `maxconn` before using the next.

use crate::{Change, Counts, KeyList, Srv, Target, SRV_EWGHT_MAX};

#[derive(Debug, Clone)]
pub(crate) struct Fwlc {
    trees: [KeyList; 2],
    /// Current key of each server while it is in a tree.
    keys: Vec<Option<u32>>,
}

/// `fwlc_queue_srv`'s key: idle servers sort first whatever their weight (so a
/// light server is not starved under low load); otherwise
/// `(inflight + 1) / weight`, scaled to keep precision.
fn key(s: &Srv) -> u32 {
    let inflight = u64::from(s.served) + u64::from(s.pending);
    if inflight == 0 || s.eweight == 0 {
        0
    } else {
        ((inflight + 1) * u64::from(SRV_EWGHT_MAX) / u64::from(s.eweight)) as u32
    }
}

impl Fwlc {
    pub(crate) fn new(srvs: &[Srv]) -> Self {
        let n = srvs.len();
        let mut f = Fwlc {
            trees: [KeyList::with_capacity(n), KeyList::with_capacity(n)],
            keys: vec![None; n],
        };
        for i in (0..n).filter(|&i| srvs[i].usable()) {
            f.enqueue(srvs, i);
        }
        f
    }

    fn enqueue(&mut self, srvs: &[Srv], i: usize) {
        let k = key(&srvs[i]);
        self.trees[srvs[i].group()].insert(k, i);
        self.keys[i] = Some(k);
    }

    fn dequeue(&mut self, srvs: &[Srv], i: usize) {
        if self.keys[i].take().is_some() {
            self.trees[srvs[i].group()].remove(i);
        }
    }

    /// After a connection starts or ends: move the server only if its key
    /// changed (HAProxy 2.6 skips no-op repositions, which keeps its place
    /// among equals).
    pub(crate) fn reposition(&mut self, srvs: &[Srv], i: usize) {
        match self.keys[i] {
            Some(k) if k != key(&srvs[i]) => {
                self.dequeue(srvs, i);
                self.enqueue(srvs, i);
            }
            _ => {}
        }
    }

    pub(crate) fn changed(&mut self, srvs: &[Srv], ch: Change) {
        // Down removes, up inserts, a weight change re-inserts with the new
        // key (behind its new equals).
        self.dequeue(srvs, ch.idx);
        if ch.now_usable {
            self.enqueue(srvs, ch.idx);
        }
    }

    /// `fwlc_get_next_server`: least loaded non-saturated server.
    pub(crate) fn next(
        &self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let g = match counts.target() {
            Target::Group(g) => g,
            Target::Single(f) => return Some(f),
            Target::Nothing => return None,
        };
        first_fit(self.trees[g].iter(), srvs, avoid)
    }
}

/// First non-saturated server in order, the one to avoid only as a last resort.
fn first_fit(
    order: impl Iterator<Item = usize>,
    srvs: &[Srv],
    avoid: Option<usize>,
) -> Option<usize> {
    let mut avoided = None;
    for i in order {
        if !srvs[i].full() {
            if Some(i) != avoid {
                return Some(i);
            }
            avoided = Some(i);
        }
    }
    avoided
}

#[derive(Debug, Clone)]
pub(crate) struct Fas {
    /// All servers by id (`puid`); usability is checked at pick time since
    /// the order never changes.
    by_id: Vec<usize>,
}

impl Fas {
    pub(crate) fn new(srvs: &[Srv]) -> Self {
        let mut by_id: Vec<usize> = (0..srvs.len()).collect();
        by_id.sort_by_key(|&i| (srvs[i].id, i));
        Fas { by_id }
    }

    /// `fas_get_next_server`: lowest id with a free slot.
    pub(crate) fn next(
        &self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let g = match counts.target() {
            Target::Group(g) => g,
            Target::Single(f) => return Some(f),
            Target::Nothing => return None,
        };
        let order = self
            .by_id
            .iter()
            .copied()
            .filter(|&i| srvs[i].usable() && srvs[i].group() == g);
        first_fit(order, srvs, avoid)
    }
}
