//! `balance static-rr` and map-based hashing (`hash-type map-based`, the
//! default) (HAProxy manual, section 4.2 `balance` and `hash-type`):
//! HAProxy's `lb_map`.
//!
//! The map is an array of `tot_weight` slots (weights divided by their GCD)
//! filled by a smooth weighted interleave that favours declaration order on
//! ties. static-rr walks it with a rotating index; hashing picks slot
//! `hash % tot_weight`. The fill order decides which server a hash lands on,
//! so it follows `recalc_server_map` exactly.

use crate::{Counts, Srv};

#[derive(Debug, Clone)]
pub(crate) struct MapLb {
    map: Vec<usize>,
    /// Next slot for static-rr (`rr_idx`).
    rr_idx: usize,
    /// Per-server running score used while filling the map.
    wscore: Vec<i64>,
}

impl MapLb {
    pub(crate) fn new(srvs: &[Srv], counts: &Counts) -> Self {
        let mut m = MapLb {
            map: Vec::new(),
            rr_idx: 0,
            wscore: vec![0; srvs.len()],
        };
        m.recalc(srvs, counts);
        m
    }

    /// `recalc_server_map`: for each slot, every eligible server adds its
    /// weight to its score; the first one with the highest `(score + tot) /
    /// tot` takes the slot and pays `tot`. Eligible means usable and in the
    /// group in use (actives, else backups: note that with a single backup in
    /// use `tot` is that backup's weight but all usable backups compete, as in
    /// HAProxy).
    pub(crate) fn recalc(&mut self, srvs: &[Srv], counts: &Counts) {
        self.map.clear();
        if counts.tot_used == 0 {
            return;
        }
        let tot = i64::from(counts.tot_weight);
        let backup = counts.srv_act == 0;
        self.wscore.iter_mut().for_each(|w| *w = 0);
        for _ in 0..tot {
            let mut best: Option<usize> = None;
            let mut max = 0i64;
            for (i, s) in srvs.iter().enumerate() {
                if s.backup != backup || !s.usable() {
                    continue;
                }
                if tot == 1 {
                    best = Some(i);
                    break;
                }
                self.wscore[i] += i64::from(s.eweight);
                let v = (self.wscore[i] + tot) / tot;
                if best.is_none() || v > max {
                    max = v;
                    best = Some(i);
                }
            }
            if let Some(b) = best {
                self.map.push(b);
                self.wscore[b] -= tot;
            }
        }
    }

    /// `map_get_server_rr`: first non-saturated slot from `rr_idx` on; the
    /// server to avoid is only returned if nothing else is free.
    pub(crate) fn rr(
        &mut self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let tot = (counts.tot_weight as usize).min(self.map.len());
        if tot == 0 {
            return None;
        }
        if self.rr_idx >= tot {
            self.rr_idx = 0;
        }
        let start = self.rr_idx;
        let mut idx = start;
        let mut avoided: Option<(usize, usize)> = None;
        loop {
            let s = self.map[idx];
            idx += 1;
            if !srvs[s].full() {
                if Some(s) != avoid {
                    self.rr_idx = idx;
                    return Some(s);
                }
                avoided = Some((s, idx));
            }
            if idx == tot {
                idx = 0;
            }
            if idx == start {
                break;
            }
        }
        let (s, at) = avoided?;
        self.rr_idx = at;
        Some(s)
    }

    /// `map_get_server_hash`: the slot `hash % tot_weight`, saturated or not
    /// (a full server then queues the request on itself).
    pub(crate) fn hash(&self, counts: &Counts, h: u32) -> Option<usize> {
        if counts.tot_weight == 0 || self.map.is_empty() {
            return None;
        }
        let slot = (h % counts.tot_weight) as usize;
        self.map.get(slot).copied()
    }
}
