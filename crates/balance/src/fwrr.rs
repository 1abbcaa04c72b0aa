//! `balance roundrobin` (HAProxy manual, section 4.2 `balance`): HAProxy's
//! "fast weighted round robin" (`lb_fwrr`).
//!
//! Each group (active, backup) has three ordered lists: `curr`, sorted by the
//! position at which each server is next due; `init`, servers not yet placed
//! in this cycle, heaviest first; and `next`, servers whose next position
//! falls beyond the current window. A cycle spans the group's total effective
//! weight; picking a server advances it by `total / weight` positions, the
//! remainder being carried in `rweight` so that every cycle of `total`
//! positions hands out exactly `weight` turns to each server. The exact
//! placement rules are kept because the order of servers within a cycle is
//! observable and must match HAProxy.

use crate::{
    Change, Counts, KeyList, Srv, Target, BE_WEIGHT_SCALE, SRV_EWGHT_MAX, SRV_UWGHT_RANGE,
};

/// Which list a server is in (HAProxy's `lb_tree` pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    None,
    Curr,
    /// One of the two lists that alternate as `init` and `next`.
    Alt(usize),
}

#[derive(Debug, Clone, Copy)]
struct Pos {
    /// Next position at which the server is due (`npos`).
    npos: i64,
    /// Position of its last pick (`lpos`).
    lpos: i64,
    /// Carried remainder of `next_weight % eweight` (`rweight`).
    rweight: i64,
    tree: Tree,
}

#[derive(Debug, Clone)]
struct Group {
    curr: KeyList,
    alt: [KeyList; 2],
    /// Which of `alt` is `init`; the other one is `next`.
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn new(total: u32, n: usize) -> Self {
        let t = i64::from(total);
        Group {
            curr: KeyList::with_capacity(n),
            alt: [KeyList::with_capacity(n), KeyList::with_capacity(n)],
            init: 0,
            curr_pos: t,
            curr_weight: t,
            next_weight: t,
        }
    }
    fn next_tree(&self) -> usize {
        1 - self.init
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Fwrr {
    groups: [Group; 2],
    pos: Vec<Pos>,
    /// Servers taken out while looking for a non-saturated one; reused so
    /// that picking does not allocate.
    full: Vec<usize>,
}

impl Fwrr {
    pub(crate) fn new(srvs: &[Srv], counts: &Counts) -> Self {
        let n = srvs.len();
        let mut f = Fwrr {
            groups: [
                Group::new(counts.tot_wact, n),
                Group::new(counts.tot_wbck, n),
            ],
            pos: vec![
                Pos {
                    npos: 0,
                    lpos: 0,
                    rweight: 0,
                    tree: Tree::None,
                };
                n
            ],
            full: Vec::with_capacity(n),
        };
        for (i, s) in srvs.iter().enumerate().filter(|(_, s)| s.usable()) {
            let g = s.group();
            let init = f.groups[g].init;
            f.queue_by_weight(srvs, i, init);
        }
        f
    }

    /// Puts a server in an `alt` list keyed by inverted weight, so the
    /// heaviest servers are placed first in a new cycle (smoother spread).
    fn queue_by_weight(&mut self, srvs: &[Srv], i: usize, alt: usize) {
        let s = &srvs[i];
        self.groups[s.group()].alt[alt].insert(SRV_EWGHT_MAX - s.eweight, i);
        self.pos[i].tree = Tree::Alt(alt);
    }

    /// Takes a server out of whatever list it is in, leaving `tree` as the
    /// list it came from (HAProxy's `eb32_delete` keeps `lb_tree`).
    fn dequeue(&mut self, srvs: &[Srv], i: usize) {
        let g = &mut self.groups[srvs[i].group()];
        match self.pos[i].tree {
            Tree::None => {}
            Tree::Curr => g.curr.remove(i),
            Tree::Alt(a) => g.alt[a].remove(i),
        }
    }

    /// Places a server according to `npos`: in `curr` if it is due within
    /// this window, else in `next` with its position rebased on the next one.
    fn queue_srv(&mut self, srvs: &[Srv], i: usize) {
        let s = &srvs[i];
        let gi = s.group();
        if !s.usable() {
            self.pos[i].tree = Tree::None;
            return;
        }
        let (cw, nw) = (self.groups[gi].curr_weight, self.groups[gi].next_weight);
        let p = &mut self.pos[i];
        if p.npos >= 2 * cw || p.npos >= cw + nw {
            p.npos -= cw;
            let next = self.groups[gi].next_tree();
            self.queue_by_weight(srvs, i, next);
        } else {
            // Sort by position, then by remaining weight so that on a tie the
            // server with the most turns left in the cycle goes first. The
            // arithmetic is modulo 2^32 like HAProxy's unsigned key.
            let key = (i64::from(SRV_UWGHT_RANGE) * p.npos).wrapping_add(
                (i64::from(SRV_EWGHT_MAX) + p.rweight - i64::from(s.eweight))
                    / i64::from(BE_WEIGHT_SCALE),
            ) as u32;
            p.tree = Tree::Curr;
            self.groups[gi].curr.insert(key, i);
        }
    }

    /// Resets a server's position relative to the list it is leaving
    /// (HAProxy's `fwrr_get_srv`).
    fn get_srv(&mut self, srvs: &[Srv], i: usize) {
        let g = &self.groups[srvs[i].group()];
        let p = &mut self.pos[i];
        match p.tree {
            Tree::Alt(a) if a == g.init => {
                p.npos = 0;
                p.rweight = 0;
            }
            Tree::Alt(_) => p.npos += g.curr_weight,
            Tree::None => p.npos = g.curr_pos,
            Tree::Curr => {}
        }
    }

    /// Next server of a group: the head of `curr` if it is due, else the
    /// heaviest unplaced server from `init`, else whatever heads `curr`.
    fn candidate(&mut self, srvs: &[Srv], gi: usize) -> Option<usize> {
        let g = &self.groups[gi];
        let s1 = g.curr.first();
        if let Some(s) = s1 {
            if srvs[s].eweight > 0 && self.pos[s].npos <= g.curr_pos {
                return s1;
            }
        }
        if let Some(s) = g.alt[g.init].first() {
            if srvs[s].eweight > 0 {
                self.pos[s].npos = 0;
                self.pos[s].rweight = 0;
                return Some(s);
            }
        }
        s1
    }

    /// Advances a picked server by `next_weight / eweight` positions,
    /// carrying the remainder.
    fn update_position(&mut self, srvs: &[Srv], gi: usize, i: usize) {
        let ew = i64::from(srvs[i].eweight);
        if ew == 0 {
            return;
        }
        let g = &self.groups[gi];
        let p = &mut self.pos[i];
        if p.npos == 0 {
            p.npos = g.curr_pos;
        }
        p.lpos = p.npos;
        p.npos += g.next_weight / ew;
        p.rweight += g.next_weight % ew;
        if p.rweight >= ew {
            p.rweight -= ew;
            p.npos += 1;
        }
    }

    fn switch_trees(&mut self, gi: usize) {
        let g = &mut self.groups[gi];
        g.init = 1 - g.init;
        g.curr_weight = g.next_weight;
        g.curr_pos = g.curr_weight;
    }

    /// `fwrr_get_next_server`: saturated servers (and the one to avoid) are
    /// taken out, advanced as if consumed, and put back afterwards.
    pub(crate) fn next(
        &mut self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let gi = match counts.target() {
            Target::Group(g) => g,
            Target::Single(f) => return Some(f),
            Target::Nothing => return None,
        };
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        self.full.clear();
        let mut chosen: Option<usize> = None;
        'outer: loop {
            {
                let g = &mut self.groups[gi];
                if g.curr_weight == 0 {
                    g.curr_weight = g.next_weight;
                    g.curr_pos = g.next_weight;
                }
            }
            let srv = loop {
                if let Some(s) = self.candidate(srvs, gi) {
                    break s;
                }
                if switched {
                    if let Some(a) = avoided {
                        chosen = Some(a);
                    }
                    break 'outer;
                }
                switched = true;
                self.switch_trees(gi);
            };
            self.update_position(srvs, gi, srv);
            self.dequeue(srvs, srv);
            self.groups[gi].curr_pos += 1;
            if !srvs[srv].full() {
                if Some(srv) != avoid || avoided.is_some() {
                    chosen = Some(srv);
                    break;
                }
                avoided = Some(srv);
            }
            self.full.push(srv);
        }
        if let Some(c) = chosen {
            self.queue_srv(srvs, c);
        }
        // HAProxy chains the skipped servers LIFO and requeues from the head,
        // so the last one skipped goes back first.
        for k in (0..self.full.len()).rev() {
            let f = self.full[k];
            if Some(f) == chosen {
                continue;
            }
            if switched {
                // the cycle changed: their place is lost, only weight matters
                let init = self.groups[gi].init;
                self.queue_by_weight(srvs, f, init);
            } else {
                self.queue_srv(srvs, f);
            }
        }
        chosen
    }

    /// State or weight change, as `fwrr_set_server_status_up/down` and
    /// `fwrr_update_server_weight`. `counts` were already recomputed, so the
    /// group's `next_weight` is simply its new total.
    pub(crate) fn changed(&mut self, srvs: &[Srv], counts: &Counts, ch: Change) {
        let i = ch.idx;
        let gi = srvs[i].group();
        self.groups[gi].next_weight = i64::from(if gi == 0 {
            counts.tot_wact
        } else {
            counts.tot_wbck
        });
        match (ch.was_usable, ch.now_usable) {
            (false, false) => {}
            (true, false) => {
                self.dequeue(srvs, i);
                self.pos[i].tree = Tree::None;
            }
            (false, true) => {
                // re-enter at a position proportional to the rest of the cycle
                self.get_srv(srvs, i);
                let g = &self.groups[gi];
                let ew = i64::from(srvs[i].eweight);
                self.pos[i].npos = g.curr_pos + (g.next_weight + g.curr_weight - g.curr_pos) / ew;
                self.queue_srv(srvs, i);
            }
            (true, true) => self.reweight(srvs, gi, i),
        }
    }

    fn reweight(&mut self, srvs: &[Srv], gi: usize, i: usize) {
        let ew = i64::from(srvs[i].eweight);
        match self.pos[i].tree {
            Tree::Alt(a) if a == self.groups[gi].init => {
                self.dequeue(srvs, i);
                self.queue_by_weight(srvs, i, a);
            }
            Tree::None => {
                self.get_srv(srvs, i);
                let g = &self.groups[gi];
                self.pos[i].npos = g.curr_pos + (g.next_weight + g.curr_weight - g.curr_pos) / ew;
                self.queue_srv(srvs, i);
            }
            _ => {
                // In `curr` or `next`: if it still has turns left in this
                // cycle, bring its next turn closer (never later).
                self.get_srv(srvs, i);
                let g = &self.groups[gi];
                let p = &mut self.pos[i];
                if ew > 0 {
                    let prev_next = p.npos;
                    let step = g.next_weight / ew;
                    p.npos = (p.lpos + step).min(prev_next);
                    p.rweight = 0;
                    if p.npos < g.curr_pos + 2 {
                        p.npos = g.curr_pos + step;
                    }
                } else {
                    p.npos = g.curr_pos + g.curr_weight;
                }
                self.dequeue(srvs, i);
                self.queue_srv(srvs, i);
            }
        }
    }
}
