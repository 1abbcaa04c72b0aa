//! Server selection for a backend, reproducing HAProxy 2.6's load-balancing
//! algorithms pick for pick (HAProxy manual, section 4.2: `balance`,
//! `hash-type`; section 5.2: server `weight`, `backup`, `maxconn`, `id`; and
//! `option allbackups`).
//!
//! The crate is a pure leaf: no I/O, no clock, no threads. The caller owns the
//! connections and the queues; it tells [`Lb`] when a connection starts or ends
//! and when a server changes state, and passes an [`Rng`] for `random`.
//!
//! Each algorithm mirrors the HAProxy module it is named after, because mixed
//! fleets must agree on which server a given hash key lands on and because
//! operators expect the same round-robin order HAProxy gives:
//! roundrobin = `lb_fwrr`, static-rr and map-based hashing = `lb_map`,
//! consistent hashing and random = `lb_chash`, leastconn = `lb_fwlc`,
//! first = `lb_fas`.

mod chash;
mod fwlc;
mod fwrr;
pub mod hash;
mod map;

use chash::Chash;
use fwlc::{Fas, Fwlc};
use fwrr::Fwrr;
use map::MapLb;

/// A source of random numbers for `balance random`; injected so that the crate
/// stays deterministic under test.
pub trait Rng {
    /// Returns the next 32 random bits.
    fn next_u32(&mut self) -> u32;
}

/// A small xorshift64 generator (Marsaglia's 13/7/17 triple), good enough to
/// spread random draws over the ring; not for anything security related.
#[derive(Debug, Clone)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// Creates a generator; a zero seed (the one fixed point of xorshift) is
    /// replaced by a fixed non-zero constant.
    pub fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
}

impl Rng for XorShift64 {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        // The high half has the better statistical quality.
        (x >> 32) as u32
    }
}

/// The `balance` algorithm of a backend (with `hash-type` folded in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// `roundrobin`: dynamic weighted round robin (`lb_fwrr`).
    RoundRobin,
    /// `static-rr`: weighted round robin over a static map (`lb_map`).
    StaticRr,
    /// `leastconn` (`lb_fwlc`).
    LeastConn,
    /// `first` (`lb_fas`).
    First,
    /// `random(<draws>)`: `draws` random points on the consistent-hash ring,
    /// keeping the least loaded server (HAProxy's default is 2).
    Random {
        /// Number of draws, at least 1 (0 is treated as 1).
        draws: u32,
    },
    /// Any hashing `balance` (`source`, `uri`, `url_param`, `hdr`,
    /// `rdp-cookie`, `hash`); the key is computed by the caller with
    /// [`hash`]. `consistent` selects `hash-type consistent` (ring) over the
    /// default `map-based`.
    Hash {
        /// `hash-type consistent`.
        consistent: bool,
    },
}

impl Algo {
    /// Whether runtime weight changes take effect (HAProxy's `BE_LB_PROP_DYN`).
    /// Static algorithms only accept a weight of 0 or the configured weight.
    pub fn is_dynamic(self) -> bool {
        !matches!(self, Algo::StaticRr | Algo::Hash { consistent: false })
    }
}

/// One `server` line as far as load balancing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSpec {
    /// HAProxy's `puid` (the `id` keyword, else the 1-based position). It
    /// places the server on the consistent-hash ring and orders `first`, so it
    /// must match the HAProxy configuration for mixed fleets to agree.
    pub id: u32,
    /// User weight, 0..=256 (values above 256 are clamped).
    pub weight: u32,
    /// `backup` server.
    pub backup: bool,
    /// `maxconn`; 0 means unlimited.
    pub maxconn: u32,
}

/// The outcome of [`Lb::pick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Connect to this server (index into the `servers` given to [`Lb::new`]).
    Server(usize),
    /// Every candidate is at its `maxconn`: the caller queues the request.
    /// `Some(i)`: on server `i`'s own queue (the algorithm designated a full
    /// server, e.g. a hash pick); `None`: on the backend queue.
    Queue(Option<usize>),
    /// No usable server at all (HAProxy answers 503).
    NoServer,
}

// HAProxy's weight constants (include/haproxy/backend-t.h, server-t.h).
/// Effective weights are user weights times this scale for dynamic algorithms.
pub(crate) const BE_WEIGHT_SCALE: u32 = 16;
/// Range of user weights (0..=256).
pub(crate) const SRV_UWGHT_RANGE: u32 = 256;
/// Largest user weight.
pub(crate) const SRV_UWGHT_MAX: u32 = SRV_UWGHT_RANGE;
/// Range of effective weights; also the stride between servers' ring keys.
pub(crate) const SRV_EWGHT_RANGE: u32 = SRV_UWGHT_RANGE * BE_WEIGHT_SCALE;
/// Largest effective weight.
pub(crate) const SRV_EWGHT_MAX: u32 = SRV_UWGHT_MAX * BE_WEIGHT_SCALE;

/// Per-server state shared by all algorithms.
#[derive(Debug, Clone)]
pub(crate) struct Srv {
    pub(crate) id: u32,
    /// Configured user weight (static algorithms may only go back to it).
    pub(crate) iweight: u32,
    /// Effective weight in the algorithm's scale (`eweight` in HAProxy).
    pub(crate) eweight: u32,
    pub(crate) backup: bool,
    pub(crate) maxconn: u32,
    pub(crate) up: bool,
    /// Connections currently served (`served`).
    pub(crate) served: u32,
    /// Requests waiting in this server's own queue (`queue.length`).
    pub(crate) pending: u32,
}

impl Srv {
    /// `srv_willbe_usable`: running and with a non-zero weight. A weight-0
    /// server counts as down, so all-weight-0 actives let backups take over.
    pub(crate) fn usable(&self) -> bool {
        self.up && self.eweight > 0
    }

    /// The saturation test every HAProxy algorithm uses: a server with a
    /// `maxconn` is full when it already has a queue or reached the limit.
    pub(crate) fn full(&self) -> bool {
        self.maxconn != 0 && (self.pending > 0 || self.served >= self.maxconn)
    }

    /// Index of the group (0 = active, 1 = backup) this server belongs to.
    pub(crate) fn group(&self) -> usize {
        usize::from(self.backup)
    }
}

/// Backend-wide counters HAProxy keeps in `struct proxy`/`lbprm`
/// (`recount_servers` + `update_backend_weight`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    pub(crate) srv_act: usize,
    pub(crate) srv_bck: usize,
    pub(crate) tot_wact: u32,
    pub(crate) tot_wbck: u32,
    /// First usable backup when `allbackups` is off.
    pub(crate) fbck: Option<usize>,
    pub(crate) tot_weight: u32,
    pub(crate) tot_used: usize,
}

impl Counts {
    fn recount(srvs: &[Srv], allbackups: bool) -> Counts {
        let mut c = Counts::default();
        for (i, s) in srvs.iter().enumerate().filter(|(_, s)| s.usable()) {
            if s.backup {
                if c.srv_bck == 0 && !allbackups {
                    c.fbck = Some(i);
                }
                c.srv_bck += 1;
                c.tot_wbck += s.eweight;
            } else {
                c.srv_act += 1;
                c.tot_wact += s.eweight;
            }
        }
        if c.srv_act > 0 {
            c.tot_weight = c.tot_wact;
            c.tot_used = c.srv_act;
        } else if let Some(f) = c.fbck {
            // only the first backup is used
            c.tot_weight = srvs[f].eweight;
            c.tot_used = 1;
        } else {
            c.tot_weight = c.tot_wbck;
            c.tot_used = c.srv_bck;
        }
        c
    }

    /// Which group the tree-based algorithms draw from, or the single backup
    /// they return directly (HAProxy returns `fbck` without looking at its
    /// load), or nothing.
    pub(crate) fn target(&self) -> Target {
        if self.srv_act > 0 {
            Target::Group(0)
        } else if let Some(f) = self.fbck {
            Target::Single(f)
        } else if self.srv_bck > 0 {
            Target::Group(1)
        } else {
            Target::Nothing
        }
    }
}

pub(crate) enum Target {
    Group(usize),
    Single(usize),
    Nothing,
}

#[derive(Debug, Clone)]
enum Engine {
    Fwrr(Fwrr),
    Map(MapLb),
    Chash(Chash),
    Fwlc(Fwlc),
    Fas(Fas),
}

/// A backend's load balancer: server states plus the algorithm's structures.
#[derive(Debug, Clone)]
pub struct Lb {
    algo: Algo,
    allbackups: bool,
    srvs: Vec<Srv>,
    counts: Counts,
    /// `wdiv`/`wmult` turn user weights into effective weights: dynamic
    /// algorithms scale by 16, map-based ones divide by the weights' GCD.
    wdiv: u32,
    wmult: u32,
    /// Requests in the backend queue; HAProxy sends new requests there for
    /// roundrobin, static-rr, leastconn and first while it is not empty.
    backend_pending: u32,
    engine: Engine,
}

fn gcd_of_weights(specs: &[ServerSpec]) -> u32 {
    let mut g = 0u32;
    for w in specs.iter().map(|s| s.weight.min(SRV_UWGHT_MAX)) {
        let (mut a, mut b) = (g, w);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        g = a;
    }
    g.max(1)
}

impl Lb {
    /// Builds the balancer with every server up (the caller marks servers down
    /// afterwards if their checks start failed).
    pub fn new(algo: Algo, servers: &[ServerSpec], allbackups: bool) -> Lb {
        let (wdiv, wmult) = match algo {
            Algo::StaticRr | Algo::Hash { consistent: false } => (1, gcd_of_weights(servers)),
            _ => (BE_WEIGHT_SCALE, 1),
        };
        let srvs: Vec<Srv> = servers
            .iter()
            .map(|s| {
                let w = s.weight.min(SRV_UWGHT_MAX);
                Srv {
                    id: s.id,
                    iweight: w,
                    eweight: (w * wdiv).div_ceil(wmult),
                    backup: s.backup,
                    maxconn: s.maxconn,
                    up: true,
                    served: 0,
                    pending: 0,
                }
            })
            .collect();
        let counts = Counts::recount(&srvs, allbackups);
        let engine = match algo {
            Algo::RoundRobin => Engine::Fwrr(Fwrr::new(&srvs, &counts)),
            Algo::StaticRr | Algo::Hash { consistent: false } => {
                Engine::Map(MapLb::new(&srvs, &counts))
            }
            Algo::Random { .. } | Algo::Hash { consistent: true } => {
                Engine::Chash(Chash::new(&srvs))
            }
            Algo::LeastConn => Engine::Fwlc(Fwlc::new(&srvs)),
            Algo::First => Engine::Fas(Fas::new(&srvs)),
        };
        Lb {
            algo,
            allbackups,
            srvs,
            counts,
            wdiv,
            wmult,
            backend_pending: 0,
            engine,
        }
    }

    /// The algorithm this balancer was built with.
    pub fn algo(&self) -> Algo {
        self.algo
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.srvs.len()
    }

    /// Whether the backend has no servers at all.
    pub fn is_empty(&self) -> bool {
        self.srvs.is_empty()
    }

    /// Health state change (check result, `set server state`, maintenance).
    pub fn set_up(&mut self, idx: usize, up: bool) {
        if let Some(s) = self.srvs.get_mut(idx) {
            let (was, prev_e) = (s.usable(), s.eweight);
            s.up = up;
            self.changed(idx, was, prev_e);
        }
    }

    /// Whether `set_weight(idx, weight)` is something HAProxy accepts: any
    /// 0..=256 for dynamic algorithms, only 0 or the configured weight for
    /// static ones ("Backend is using a static LB algorithm and only accepts
    /// weights '0%' and '100%'"). The caller should refuse the rest.
    pub fn weight_change_allowed(&self, idx: usize, weight: u32) -> bool {
        match self.srvs.get(idx) {
            None => false,
            Some(_) if weight > SRV_UWGHT_MAX => false,
            Some(s) => self.algo.is_dynamic() || weight == 0 || weight == s.iweight,
        }
    }

    /// Runtime weight change (`set weight`). Dynamic algorithms apply it at
    /// once. A value HAProxy refuses (see [`Lb::weight_change_allowed`]:
    /// above 256, or for static-rr / map-based hashing anything but 0 and the
    /// configured weight) leaves the server unchanged, as the refused CLI
    /// command does.
    pub fn set_weight(&mut self, idx: usize, weight: u32) {
        if !self.weight_change_allowed(idx, weight) {
            return;
        }
        let (wdiv, wmult) = (self.wdiv, self.wmult);
        if let Some(s) = self.srvs.get_mut(idx) {
            let (was, prev_e) = (s.usable(), s.eweight);
            s.eweight = (weight * wdiv).div_ceil(wmult);
            self.changed(idx, was, prev_e);
        }
    }

    /// Recounts and lets the algorithm update its structures, as HAProxy's
    /// `set_server_status_up/down` and `update_server_eweight` callbacks do.
    fn changed(&mut self, idx: usize, was_usable: bool, prev_eweight: u32) {
        let now_usable = self.srvs[idx].usable();
        if was_usable == now_usable && prev_eweight == self.srvs[idx].eweight {
            return;
        }
        self.counts = Counts::recount(&self.srvs, self.allbackups);
        let ch = Change {
            idx,
            was_usable,
            now_usable,
        };
        match &mut self.engine {
            Engine::Fwrr(e) => e.changed(&self.srvs, &self.counts, ch),
            Engine::Map(e) => e.recalc(&self.srvs, &self.counts),
            Engine::Chash(e) => e.changed(&self.srvs, ch),
            Engine::Fwlc(e) => e.changed(&self.srvs, ch),
            Engine::Fas(_) => {}
        }
    }

    /// Whether server `idx` is marked up (it may still be unusable with
    /// weight 0).
    pub fn is_up(&self, idx: usize) -> bool {
        self.srvs.get(idx).is_some_and(|s| s.up)
    }

    /// Chooses a server. `key` is the hash for [`Algo::Hash`] (`None` when the
    /// sample was not found: HAProxy then round-robins over the same map or
    /// ring); other algorithms ignore it. `avoid` is the server a redispatch
    /// should skip if any other one can take the request (map-based hashing
    /// ignores it, as HAProxy's `map_get_server_hash` does).
    ///
    /// When a single server is usable, HAProxy skips hashing and looks up
    /// hash 0; `pick` does the same with any `Some` key. HAProxy also takes
    /// that shortcut for `hdr()` and `balance hash` *before* fetching the
    /// sample, so with one usable server a caller wanting exact parity passes
    /// `Some(0)` for those even when the sample is missing (`url_param` has no
    /// shortcut). The difference only shows with a single backup in use under
    /// map-based hashing, or when that server is full.
    ///
    /// Never allocates: all structures were sized when the state last changed.
    pub fn pick(&mut self, key: Option<u32>, rng: &mut dyn Rng, avoid: Option<usize>) -> Pick {
        if self.counts.tot_weight == 0 {
            return Pick::NoServer;
        }
        // With a backend queue, HAProxy knows every server is full for the
        // connection-based and round-robin algorithms and queues right away,
        // so that queued requests keep their order.
        if self.backend_pending > 0
            && matches!(
                self.algo,
                Algo::RoundRobin | Algo::StaticRr | Algo::LeastConn | Algo::First
            )
        {
            return Pick::Queue(None);
        }
        let srvs = &self.srvs;
        let counts = &self.counts;
        let chosen = match (&mut self.engine, self.algo) {
            (Engine::Fwrr(e), _) => e.next(srvs, counts, avoid),
            (Engine::Fwlc(e), _) => e.next(srvs, counts, avoid),
            (Engine::Fas(e), _) => e.next(srvs, counts, avoid),
            (Engine::Map(e), Algo::Hash { .. }) => match key {
                // HAProxy skips hashing when one server is left and looks up
                // hash 0; it matters when that one server is the single
                // backup and the map was filled from several backups.
                Some(h) => e.hash(counts, if counts.tot_used == 1 { 0 } else { h }),
                None => e.rr(srvs, counts, avoid),
            },
            (Engine::Map(e), _) => e.rr(srvs, counts, avoid),
            (Engine::Chash(e), Algo::Random { draws }) => {
                return e.random(srvs, counts, draws, rng, avoid);
            }
            (Engine::Chash(e), _) => match key {
                Some(h) => e.hash(counts, if counts.tot_used == 1 { 0 } else { h }, avoid),
                None => e.rr(srvs, counts, avoid),
            },
        };
        match chosen {
            None => Pick::Queue(None),
            Some(i) if self.srvs[i].full() => Pick::Queue(Some(i)),
            Some(i) => Pick::Server(i),
        }
    }

    /// A connection to server `idx` was established (HAProxy's `served++`,
    /// which repositions the server for leastconn).
    pub fn conn_started(&mut self, idx: usize) {
        if let Some(s) = self.srvs.get_mut(idx) {
            s.served = s.served.saturating_add(1);
            self.load_changed(idx);
        }
    }

    /// A connection to server `idx` ended.
    pub fn conn_ended(&mut self, idx: usize) {
        if let Some(s) = self.srvs.get_mut(idx) {
            s.served = s.served.saturating_sub(1);
            self.load_changed(idx);
        }
    }

    /// Sets the length of server `idx`'s own queue. A server with queued
    /// requests counts as full, and leastconn counts them as load, as HAProxy
    /// does.
    pub fn set_server_queue(&mut self, idx: usize, pending: u32) {
        if let Some(s) = self.srvs.get_mut(idx) {
            s.pending = pending;
            self.load_changed(idx);
        }
    }

    /// Sets the length of the backend queue (see [`Lb::pick`]).
    pub fn set_backend_queue(&mut self, pending: u32) {
        self.backend_pending = pending;
    }

    fn load_changed(&mut self, idx: usize) {
        if let Engine::Fwlc(e) = &mut self.engine {
            e.reposition(&self.srvs, idx);
        }
    }

    /// Connections currently counted on server `idx`.
    pub fn cur_conns(&self, idx: usize) -> u32 {
        self.srvs.get(idx).map_or(0, |s| s.served)
    }

    /// Usable (up, non-zero weight) servers: (active, backup).
    pub fn usable_count(&self) -> (usize, usize) {
        (self.counts.srv_act, self.counts.srv_bck)
    }
}

/// What changed for one server, as the HAProxy callbacks see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Change {
    pub(crate) idx: usize,
    pub(crate) was_usable: bool,
    pub(crate) now_usable: bool,
}

/// A list of servers ordered by a 32-bit key where equal keys keep insertion
/// order: the behaviour of HAProxy's eb32 trees with duplicates, on which the
/// round-robin-among-equals of fwrr and leastconn depends. Backed by a vector
/// with capacity for every server so that pick-time reinsertion never
/// allocates; O(n) updates are fine for backend sizes.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyList {
    items: Vec<(u32, usize)>,
}

impl KeyList {
    pub(crate) fn with_capacity(n: usize) -> Self {
        KeyList {
            items: Vec::with_capacity(n),
        }
    }
    pub(crate) fn insert(&mut self, key: u32, idx: usize) {
        let pos = self.items.partition_point(|&(k, _)| k <= key);
        self.items.insert(pos, (key, idx));
    }
    /// Removes `idx` if present.
    pub(crate) fn remove(&mut self, idx: usize) {
        if let Some(p) = self.items.iter().position(|&(_, i)| i == idx) {
            self.items.remove(p);
        }
    }
    pub(crate) fn first(&self) -> Option<usize> {
        self.items.first().map(|&(_, i)| i)
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.items.iter().map(|&(_, i)| i)
    }
}

#[cfg(test)]
mod tests;
