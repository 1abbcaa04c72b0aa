//! Behaviour tests for [`crate::Lb`] (HAProxy manual, section 4.2 `balance`,
//! `hash-type`; section 5.2 `weight`, `backup`, `maxconn`).
//!
//! Sequences marked "observed" were recorded from the real HAProxy 2.6.12
//! (`/usr/sbin/haproxy`, `nbthread 1`, no health checks): a frontend on
//! 127.0.0.1 in front of N tiny Python HTTP servers answering their own name
//! (`s1`..`sN`, declared in that order so `id` = position), one fresh
//! `Connection: close` request per step from a Python client (bound to the
//! listed source address for `balance source`). State changes were made
//! through the stats socket (`disable server`, `enable server`,
//! `set weight`); "hold" requests were kept open by the server until released
//! one by one; `disabled` on a server line stands for a server marked down.
//! The same steps were replayed through `Lb` and compared verbatim.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use std::net::IpAddr;

/// A server list as `w[:b][:d]` items: weight, backup, down.
fn servers(list: &str, maxconn: u32) -> (Vec<ServerSpec>, Vec<usize>) {
    let mut down = Vec::new();
    let specs = list
        .split(',')
        .enumerate()
        .map(|(i, item)| {
            let mut parts = item.split(':');
            let weight = parts.next().and_then(|w| w.parse().ok()).unwrap_or(1);
            let flags: Vec<&str> = parts.collect();
            if flags.contains(&"d") {
                down.push(i);
            }
            ServerSpec {
                id: i as u32 + 1,
                weight,
                backup: flags.contains(&"b"),
                maxconn,
            }
        })
        .collect();
    (specs, down)
}

/// How a request step turns into a hash key.
#[derive(Clone, Copy)]
enum Key {
    None,
    Uri(hash::Function, bool),
    Source(bool, bool),
    Param(bool),
}

/// Replays steps like the HAProxy harness did and returns the names of the
/// servers picked (`s1`..), `Q` for a queued request, `-` for no server.
/// Steps: a request (URI or source address), `@down:N`, `@up:N`, `@w:N=W`,
/// `hold<tag>` (request kept open), `release<tag>`.
fn replay(lb: &mut Lb, key: Key, steps: &str) -> String {
    let mut rng = XorShift64::new(7);
    let mut held: Vec<(String, usize)> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for step in steps.split_whitespace() {
        if let Some(op) = step.strip_prefix('@') {
            let (what, arg) = op.split_once(':').unwrap_or((op, ""));
            let n = |s: &str| s.parse::<usize>().unwrap_or(1) - 1;
            match what {
                "down" => lb.set_up(n(arg), false),
                "up" => lb.set_up(n(arg), true),
                "w" => {
                    let (i, w) = arg.split_once('=').unwrap_or(("1", "1"));
                    lb.set_weight(n(i), w.parse().unwrap_or(1));
                }
                other => panic!("unknown step {other}"),
            }
            continue;
        }
        if let Some(tag) = step.strip_prefix("release") {
            if let Some(p) = held.iter().position(|(t, _)| t == tag) {
                let (_, i) = held.remove(p);
                lb.conn_ended(i);
            }
            continue;
        }
        let k = match key {
            Key::None => None,
            Key::Uri(f, aval) => Some(hash::uri_key(
                step.as_bytes(),
                false,
                None,
                None,
                false,
                f,
                aval,
            )),
            Key::Source(cons, aval) => {
                let ip: IpAddr = step.parse().expect("source step is an address");
                Some(hash::source_key(ip, cons, aval))
            }
            Key::Param(aval) => {
                hash::url_param_key(step.as_bytes(), b"u", hash::Function::Sdbm, aval)
            }
        };
        match lb.pick(k, &mut rng, None) {
            Pick::Server(i) => {
                lb.conn_started(i);
                match step.strip_prefix("hold") {
                    Some(tag) => held.push((tag.to_string(), i)),
                    None => lb.conn_ended(i),
                }
                out.push(format!("s{}", i + 1));
            }
            Pick::Queue(_) => out.push("Q".into()),
            Pick::NoServer => out.push("-".into()),
        }
    }
    out.join(" ")
}

fn build(algo: Algo, list: &str, allbackups: bool, maxconn: u32) -> Lb {
    let (specs, down) = servers(list, maxconn);
    let mut lb = Lb::new(algo, &specs, allbackups);
    for i in down {
        lb.set_up(i, false);
    }
    lb
}

fn repeat(step: &str, n: usize) -> String {
    vec![step; n].join(" ")
}

const URIS: &str = "/ /a /b /c /index.html /img/logo.png /api/v1/users /x?y=1 /foo/bar /z \
                    /alpha /beta /gamma /delta /epsilon /1 /2 /3 /4 /5";
const URIS2: &str = "/ /a /b /c /index.html /img/logo.png /api/v1/users /x?y=1 /x?y=2 /foo/bar \
                     /foo/baz /foo/bar/qux /z?q /alpha /beta /gamma /delta /epsilon /1 /2";
const IPS: &str = "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 \
                   127.0.0.8 127.0.0.9 127.0.0.10 127.1.2.3 127.200.0.1";

struct Case {
    what: &'static str,
    algo: Algo,
    servers: &'static str,
    allbackups: bool,
    maxconn: u32,
    key: Key,
    steps: String,
    observed: &'static str,
}

fn check(cases: &[Case]) {
    for c in cases {
        let mut lb = build(c.algo, c.servers, c.allbackups, c.maxconn);
        assert_eq!(replay(&mut lb, c.key, &c.steps), c.observed, "{}", c.what);
    }
}

const SDBM: hash::Function = hash::Function::Sdbm;

#[test]
fn roundrobin_matches_haproxy_sequences() {
    let r13 = repeat("/", 13);
    check(&[
        Case {
            what: "weights 2:1:3",
            algo: Algo::RoundRobin,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 12),
            observed: "s3 s1 s3 s2 s3 s1 s3 s1 s3 s2 s3 s1",
        },
        Case {
            what: "down then up at runtime",
            algo: Algo::RoundRobin,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: format!("{r13} @down:1 {r13} @up:1 {r13} {r13}"),
            observed: "s3 s1 s3 s2 s3 s1 s3 s1 s3 s2 s3 s1 s3 s3 s3 s2 s3 s3 s3 s2 s3 s3 s3 \
                       s2 s3 s3 s3 s2 s1 s3 s1 s3 s3 s2 s1 s3 s1 s3 s3 s2 s1 s3 s1 s3 s3 s2 \
                       s1 s3 s1 s3 s3 s2",
        },
        Case {
            what: "runtime weight changes, including to 0 and back",
            algo: Algo::RoundRobin,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: format!("{r13} @w:3=10 {r13} {r13} @w:2=0 {r13} @w:2=4 {r13} {r13}"),
            observed: "s3 s1 s3 s2 s3 s1 s3 s1 s3 s2 s3 s1 s3 s1 s3 s3 s2 s3 s3 s3 s1 s3 s3 \
                       s3 s3 s3 s1 s3 s3 s2 s3 s3 s3 s1 s3 s3 s3 s3 s3 s1 s3 s3 s3 s3 s3 s1 \
                       s3 s3 s3 s3 s3 s1 s3 s3 s3 s2 s3 s1 s3 s2 s3 s3 s3 s2 s3 s1 s3 s2 s3 \
                       s3 s3 s2 s3 s1 s3 s2 s3 s3",
        },
        Case {
            what: "a down server from the start",
            algo: Algo::RoundRobin,
            servers: "2,1:d,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 12),
            observed: "s3 s3 s1 s3 s1 s3 s3 s1 s3 s1 s3 s3",
        },
        Case {
            what: "full servers are skipped (maxconn 1, held connections)",
            algo: Algo::RoundRobin,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 1,
            key: Key::None,
            steps: "holda / / / / holdb / / / releasea / / / releaseb / / /".into(),
            observed: "s3 s1 s2 s1 s1 s2 s1 s1 s1 s3 s3 s1 s3 s2 s3",
        },
        Case {
            what: "full servers are skipped, four servers",
            algo: Algo::RoundRobin,
            servers: "5,3,7,1",
            allbackups: false,
            maxconn: 1,
            key: Key::None,
            steps: "holda / / / holdb / / / holdc / / / releasea / / / releaseb / / /".into(),
            observed: "s3 s1 s2 s1 s4 s1 s2 s1 s2 s1 s1 s1 s3 s3 s1 s3 s1 s3",
        },
    ]);
}

#[test]
fn roundrobin_weights_2_1_3_hold_over_600_picks() {
    let mut lb = build(Algo::RoundRobin, "2,1,3", false, 0);
    let mut rng = XorShift64::new(1);
    // HAProxy's observed cycle; every window of 6 is exactly 2:1:3.
    let cycle = [2, 0, 2, 1, 2, 0];
    for n in 0..600 {
        assert_eq!(
            lb.pick(None, &mut rng, None),
            Pick::Server(cycle[n % 6]),
            "pick {n}"
        );
    }
}

#[test]
fn roundrobin_keeps_weight_ratios_for_uneven_weights() {
    let cases: &[&[u32]] = &[&[5, 3, 7, 1, 2], &[256, 17, 3, 99], &[1, 1, 1], &[10, 1]];
    for ws in cases {
        let specs: Vec<ServerSpec> = ws
            .iter()
            .enumerate()
            .map(|(i, &w)| ServerSpec {
                id: i as u32 + 1,
                weight: w,
                backup: false,
                maxconn: 0,
            })
            .collect();
        let mut lb = Lb::new(Algo::RoundRobin, &specs, false);
        let total: u32 = ws.iter().sum();
        let mut rng = XorShift64::new(1);
        for cycle in 0..3 {
            let mut got = vec![0u32; ws.len()];
            for _ in 0..total {
                match lb.pick(None, &mut rng, None) {
                    Pick::Server(i) => got[i] += 1,
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(got, ws.to_vec(), "weights {ws:?} cycle {cycle}");
        }
    }
}

#[test]
fn weight_zero_is_never_picked() {
    let mut lb = build(Algo::RoundRobin, "0,2,2", false, 0);
    assert_eq!(
        replay(&mut lb, Key::None, &repeat("/", 10)),
        "s2 s3 s2 s3 s2 s3 s2 s3 s2 s3"
    );
    assert_eq!(lb.usable_count(), (2, 0));
}

#[test]
fn static_rr_matches_haproxy_map_order() {
    check(&[
        Case {
            what: "weights 2:1:3",
            algo: Algo::StaticRr,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 12),
            observed: "s1 s3 s1 s3 s2 s3 s1 s3 s1 s3 s2 s3",
        },
        Case {
            what: "weights reduced by their gcd",
            algo: Algo::StaticRr,
            servers: "4,2,6",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 6),
            observed: "s1 s3 s1 s3 s2 s3",
        },
        Case {
            what: "full servers are skipped",
            algo: Algo::StaticRr,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 1,
            key: Key::None,
            steps: "holda / / / / holdb / / / releasea / / / releaseb / / /".into(),
            observed: "s1 s3 s3 s2 s3 s3 s2 s2 s2 s1 s1 s2 s3 s1 s3",
        },
    ]);
}

#[test]
fn backup_takes_over_when_all_actives_down() {
    check(&[
        Case {
            what: "roundrobin: first backup only",
            algo: Algo::RoundRobin,
            servers: "2:d,1:d,3:b,5:b",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 6),
            observed: "s3 s3 s3 s3 s3 s3",
        },
        Case {
            // HAProxy quirk, observed: the map is filled from every usable
            // backup over the first backup's weight, so a heavier later
            // backup wins the only slot.
            what: "static-rr: map filled from all backups",
            algo: Algo::StaticRr,
            servers: "2:d,1:d,2:b,5:b",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 6),
            observed: "s4 s4 s4 s4 s4 s4",
        },
    ]);
    // and actives take back over as soon as one is usable again
    let mut lb = build(Algo::LeastConn, "1,1:b,1:b", false, 0);
    let mut rng = XorShift64::new(1);
    lb.set_up(0, false);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(1));
    assert_eq!(lb.usable_count(), (0, 2));
    lb.set_up(1, false);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(2));
    lb.set_up(0, true);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(0));
}

#[test]
fn allbackups_spreads_over_backups() {
    check(&[
        Case {
            what: "roundrobin",
            algo: Algo::RoundRobin,
            servers: "2:d,1:d,3:b,5:b",
            allbackups: true,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 12),
            observed: "s4 s4 s3 s4 s3 s4 s4 s3 s4 s4 s3 s4",
        },
        Case {
            what: "static-rr",
            algo: Algo::StaticRr,
            servers: "2:d,1:d,2:b,5:b",
            allbackups: true,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 12),
            observed: "s3 s4 s4 s3 s4 s4 s4 s3 s4 s4 s3 s4",
        },
    ]);
}

#[test]
fn leastconn_prefers_fewest() {
    check(&[
        Case {
            what: "equal weights rotate when idle",
            algo: Algo::LeastConn,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: repeat("/", 9),
            observed: "s1 s2 s3 s1 s2 s3 s1 s2 s3",
        },
        Case {
            what: "held connections, equal weights",
            algo: Algo::LeastConn,
            servers: "1,1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: format!(
                "hold1 hold2 {r} hold3 {r} release2 {r} release3 release1 {r}",
                r = repeat("/", 6)
            ),
            observed: "s1 s2 s3 s4 s3 s4 s3 s4 s3 s4 s4 s4 s4 s4 s4 s4 s2 s4 s2 s4 s2 s4 s2 \
                       s3 s1 s4 s2",
        },
        Case {
            what: "held connections, weights 2:1:3",
            algo: Algo::LeastConn,
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::None,
            steps: format!(
                "holda holdb holdc holdd holde holdf holdg {r} releasec {r} releasea releaseg \
                 {r} holdh holdi {r}",
                r = repeat("/", 6)
            ),
            observed: "s1 s2 s3 s3 s1 s3 s3 s1 s1 s1 s1 s1 s1 s3 s3 s3 s3 s3 s3 s1 s3 s1 s3 \
                       s1 s3 s1 s3 s3 s3 s3 s3 s3 s3",
        },
    ]);
}

#[test]
fn first_fills_in_id_order() {
    check(&[Case {
        what: "maxconn 2",
        algo: Algo::First,
        servers: "1,1,1",
        allbackups: false,
        maxconn: 2,
        key: Key::None,
        steps: "holda holdb holdc / holdd holde releasec / holdf / releasea releaseb / /".into(),
        observed: "s1 s1 s2 s2 s2 s3 s2 s2 s3 s1 s1",
    }]);
    // ids, not declaration order, decide
    let specs = [
        ServerSpec {
            id: 9,
            weight: 1,
            backup: false,
            maxconn: 1,
        },
        ServerSpec {
            id: 3,
            weight: 1,
            backup: false,
            maxconn: 1,
        },
    ];
    let mut lb = Lb::new(Algo::First, &specs, false);
    let mut rng = XorShift64::new(1);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(1));
    lb.conn_started(1);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(0));
    // unlimited maxconn always takes the first
    let mut lb = build(Algo::First, "1,1", false, 0);
    for _ in 0..5 {
        assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(0));
        lb.conn_started(0);
    }
}

#[test]
fn uri_map_based_matches_haproxy_for_pinned_keys() {
    check(&[
        Case {
            what: "sdbm, weights 1:1:1",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, false),
            steps: URIS.into(),
            observed: "s3 s1 s2 s3 s1 s1 s3 s3 s2 s2 s2 s1 s1 s2 s1 s1 s2 s3 s1 s2",
        },
        Case {
            what: "sdbm, weights 2:1:3",
            algo: Algo::Hash { consistent: false },
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, false),
            steps: URIS.into(),
            observed: "s3 s1 s3 s1 s1 s3 s1 s3 s3 s3 s3 s3 s1 s3 s3 s1 s3 s1 s3 s2",
        },
        Case {
            what: "hash-type map-based sdbm avalanche",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, true),
            steps: URIS.into(),
            observed: "s1 s2 s3 s3 s1 s3 s1 s1 s1 s3 s2 s1 s3 s2 s2 s1 s2 s2 s3 s3",
        },
        Case {
            what: "hash-type map-based djb2",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(hash::Function::Djb2, false),
            steps: URIS2.into(),
            observed: "s1 s2 s3 s4 s4 s1 s2 s1 s1 s1 s1 s2 s3 s3 s1 s4 s3 s3 s2 s3",
        },
        Case {
            what: "hash-type map-based wt6",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(hash::Function::Wt6, false),
            steps: URIS2.into(),
            observed: "s2 s4 s4 s4 s3 s4 s1 s4 s4 s1 s4 s4 s4 s1 s2 s2 s4 s1 s4 s4",
        },
        Case {
            what: "hash-type map-based crc32",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(hash::Function::Crc32, false),
            steps: URIS2.into(),
            observed: "s1 s1 s3 s1 s3 s3 s1 s1 s1 s4 s2 s2 s1 s4 s4 s1 s1 s2 s1 s3",
        },
        Case {
            what: "server down then up",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1,2",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, false),
            steps: format!("{URIS} @down:2 {URIS} @up:2 {URIS}"),
            observed: "s4 s1 s2 s4 s2 s4 s1 s3 s4 s1 s2 s2 s2 s3 s4 s4 s3 s4 s1 s2 s4 s3 s4 \
                       s1 s3 s4 s1 s4 s4 s4 s4 s4 s1 s4 s4 s3 s4 s1 s4 s3 s4 s1 s2 s4 s2 s4 \
                       s1 s3 s4 s1 s2 s2 s2 s3 s4 s4 s3 s4 s1 s2",
        },
    ]);
}

#[test]
fn uri_consistent_matches_haproxy_for_pinned_keys() {
    check(&[
        Case {
            what: "bare hash-type consistent (sdbm + avalanche), 1:1:1",
            algo: Algo::Hash { consistent: true },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, true),
            steps: URIS.into(),
            observed: "s2 s2 s2 s1 s3 s2 s3 s2 s3 s3 s2 s2 s1 s2 s2 s3 s2 s1 s1 s2",
        },
        Case {
            what: "bare hash-type consistent, 2:1:3",
            algo: Algo::Hash { consistent: true },
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, true),
            steps: URIS.into(),
            observed: "s1 s2 s2 s1 s1 s1 s3 s3 s3 s1 s2 s2 s1 s1 s2 s3 s1 s1 s3 s2",
        },
        Case {
            what: "hash-type consistent sdbm (no avalanche)",
            algo: Algo::Hash { consistent: true },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, false),
            steps: URIS.into(),
            observed: "s3 s3 s3 s3 s2 s3 s3 s3 s3 s3 s1 s2 s1 s1 s2 s3 s3 s3 s3 s3",
        },
        Case {
            what: "hash-type consistent wt6 avalanche",
            algo: Algo::Hash { consistent: true },
            servers: "1,1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(hash::Function::Wt6, true),
            steps: URIS2.into(),
            observed: "s4 s1 s4 s2 s2 s1 s3 s1 s1 s1 s2 s1 s1 s4 s4 s1 s2 s1 s1 s4",
        },
        Case {
            what: "down, weight change, up",
            algo: Algo::Hash { consistent: true },
            servers: "1,1,1,2",
            allbackups: false,
            maxconn: 0,
            key: Key::Uri(SDBM, true),
            steps: format!("{URIS} @down:2 {URIS} @w:4=7 {URIS} @up:2 {URIS}"),
            observed: "s2 s4 s2 s1 s4 s4 s4 s4 s4 s3 s2 s4 s1 s4 s2 s3 s2 s1 s4 s2 s4 s4 s4 \
                       s1 s4 s4 s4 s4 s4 s3 s4 s4 s1 s4 s3 s3 s1 s1 s4 s1 s4 s4 s4 s4 s4 s4 \
                       s4 s4 s4 s4 s4 s4 s1 s4 s3 s4 s4 s1 s4 s4 s2 s4 s2 s4 s4 s4 s4 s4 s4 \
                       s4 s2 s4 s1 s4 s2 s4 s2 s1 s4 s4",
        },
    ]);
}

#[test]
fn source_hash_matches_haproxy_for_pinned_clients() {
    check(&[
        Case {
            what: "map-based 1:1:1",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Source(false, false),
            steps: IPS.into(),
            observed: "s3 s1 s2 s3 s1 s2 s3 s1 s2 s3 s2 s2",
        },
        Case {
            what: "map-based 2:1:3",
            algo: Algo::Hash { consistent: false },
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::Source(false, false),
            steps: IPS.into(),
            observed: "s3 s1 s3 s1 s3 s2 s3 s1 s3 s1 s3 s3",
        },
        Case {
            what: "consistent 1:1:1",
            algo: Algo::Hash { consistent: true },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Source(true, true),
            steps: IPS.into(),
            observed: "s2 s1 s3 s1 s2 s1 s3 s1 s1 s3 s3 s3",
        },
        Case {
            what: "consistent 2:1:3",
            algo: Algo::Hash { consistent: true },
            servers: "2,1,3",
            allbackups: false,
            maxconn: 0,
            key: Key::Source(true, true),
            steps: IPS.into(),
            observed: "s3 s1 s3 s1 s3 s3 s3 s1 s3 s3 s3 s3",
        },
        Case {
            what: "map-based sdbm avalanche",
            algo: Algo::Hash { consistent: false },
            servers: "1,1,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Source(false, true),
            steps: IPS.into(),
            observed: "s2 s1 s1 s1 s2 s1 s3 s3 s1 s2 s2 s2",
        },
    ]);
}

#[test]
fn missing_hash_key_falls_back_to_round_robin_like_haproxy() {
    let p = "/?u=1 /?u=2 /?x=1 /?x=2 /?x=3 / /p /q /?u=3 /r /s /t /u /v /w";
    check(&[
        Case {
            what: "url_param, consistent ring walk",
            algo: Algo::Hash { consistent: true },
            servers: "1,2,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Param(true),
            steps: format!("{p} {p} @down:1 {p} @up:1 {p}"),
            observed: "s3 s2 s3 s3 s2 s1 s3 s1 s3 s1 s2 s3 s1 s1 s1 s3 s2 s2 s2 s3 s1 s3 s3 \
                       s3 s2 s3 s1 s2 s2 s3 s3 s2 s3 s2 s2 s2 s3 s2 s3 s2 s2 s3 s2 s2 s3 s3 \
                       s2 s2 s1 s2 s2 s2 s2 s3 s2 s3 s2 s2 s2 s1",
        },
        Case {
            what: "url_param, map walk",
            algo: Algo::Hash { consistent: false },
            servers: "1,2,1",
            allbackups: false,
            maxconn: 0,
            key: Key::Param(false),
            steps: format!("{p} {p} @down:1 {p} @up:1 {p}"),
            observed: "s2 s2 s1 s2 s2 s3 s1 s2 s3 s2 s3 s1 s2 s2 s3 s2 s2 s1 s2 s2 s3 s1 s2 \
                       s3 s2 s3 s1 s2 s2 s3 s2 s3 s2 s2 s3 s2 s2 s3 s2 s2 s2 s3 s2 s2 s3 s2 \
                       s2 s3 s1 s2 s2 s3 s1 s3 s2 s2 s3 s1 s2 s2",
        },
    ]);
}

#[test]
fn consistent_hash_moves_only_the_down_servers_keys() {
    let mut lb = build(Algo::Hash { consistent: true }, "1,2,1,3", false, 0);
    let mut rng = XorShift64::new(1);
    let keys: Vec<u32> = (0..5000u32)
        .map(|k| hash::full_hash(k.wrapping_mul(2_654_435_761)))
        .collect();
    let before: Vec<Pick> = keys
        .iter()
        .map(|&k| lb.pick(Some(k), &mut rng, None))
        .collect();
    lb.set_up(1, false);
    let during: Vec<Pick> = keys
        .iter()
        .map(|&k| lb.pick(Some(k), &mut rng, None))
        .collect();
    let mut moved = 0;
    for (b, d) in before.iter().zip(&during) {
        if *b == Pick::Server(1) {
            assert_ne!(*d, Pick::Server(1));
            moved += 1;
        } else {
            assert_eq!(b, d, "a key of a surviving server moved");
        }
    }
    assert!(moved > 0);
    lb.set_up(1, true);
    let after: Vec<Pick> = keys
        .iter()
        .map(|&k| lb.pick(Some(k), &mut rng, None))
        .collect();
    assert_eq!(before, after, "coming back restores every key");
}

#[test]
fn full_servers_queue() {
    let mut rng = XorShift64::new(3);
    // round-robin family: all full -> backend queue
    for algo in [
        Algo::RoundRobin,
        Algo::StaticRr,
        Algo::LeastConn,
        Algo::First,
    ] {
        let mut lb = build(algo, "1,1", false, 1);
        for _ in 0..2 {
            match lb.pick(None, &mut rng, None) {
                Pick::Server(i) => lb.conn_started(i),
                other => panic!("{algo:?}: {other:?}"),
            }
        }
        assert_eq!(lb.pick(None, &mut rng, None), Pick::Queue(None), "{algo:?}");
        lb.conn_ended(0);
        assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(0), "{algo:?}");
        // a non-empty backend queue keeps newcomers behind it
        lb.set_backend_queue(1);
        assert_eq!(lb.pick(None, &mut rng, None), Pick::Queue(None), "{algo:?}");
    }
    // hashing designates a server even when it is full: queue on it
    for consistent in [false, true] {
        let mut lb = build(Algo::Hash { consistent }, "1,1", false, 1);
        let key = Some(12345);
        let Pick::Server(i) = lb.pick(key, &mut rng, None) else {
            panic!("hash pick")
        };
        lb.conn_started(i);
        assert_eq!(lb.pick(key, &mut rng, None), Pick::Queue(Some(i)));
        // a server with its own queue counts as full even below maxconn
        lb.conn_ended(i);
        lb.set_server_queue(i, 1);
        assert_eq!(lb.pick(key, &mut rng, None), Pick::Queue(Some(i)));
    }
    // random: a full winner goes to the backend queue
    let mut lb = build(Algo::Random { draws: 2 }, "1", false, 1);
    lb.conn_started(0);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Queue(None));
    // single backup in use is returned even when full: queue on it
    let mut lb = build(Algo::RoundRobin, "1:d,1:b", false, 1);
    lb.conn_started(1);
    assert_eq!(lb.pick(None, &mut rng, None), Pick::Queue(Some(1)));
}

#[test]
fn no_usable_server_is_no_server() {
    let mut rng = XorShift64::new(3);
    for algo in [
        Algo::RoundRobin,
        Algo::StaticRr,
        Algo::LeastConn,
        Algo::First,
        Algo::Random { draws: 2 },
        Algo::Hash { consistent: false },
        Algo::Hash { consistent: true },
    ] {
        let mut lb = build(algo, "1:d,0,2:b:d", false, 0);
        assert_eq!(lb.pick(Some(1), &mut rng, None), Pick::NoServer, "{algo:?}");
        assert_eq!(lb.usable_count(), (0, 0));
        assert!(!lb.is_up(0) && lb.is_up(1));
        let mut empty = Lb::new(algo, &[], false);
        assert_eq!(
            empty.pick(None, &mut rng, None),
            Pick::NoServer,
            "{algo:?} empty"
        );
    }
}

#[test]
fn avoid_skips_the_failed_server_when_another_is_usable() {
    let mut rng = XorShift64::new(5);
    for algo in [
        Algo::RoundRobin,
        Algo::StaticRr,
        Algo::LeastConn,
        Algo::First,
        Algo::Random { draws: 2 },
        Algo::Hash { consistent: true },
    ] {
        let mut lb = build(algo, "1,1,1", false, 0);
        for _ in 0..20 {
            assert_ne!(
                lb.pick(Some(77), &mut rng, Some(0)),
                Pick::Server(0),
                "{algo:?}"
            );
        }
        // with a single server, the avoided one is still better than nothing
        let mut lb = build(algo, "1", false, 0);
        assert_eq!(
            lb.pick(Some(77), &mut rng, Some(0)),
            Pick::Server(0),
            "{algo:?} alone"
        );
    }
}

#[test]
fn random_prefers_less_loaded_of_draws_and_respects_weights() {
    let mut rng = XorShift64::new(11);
    let mut lb = build(Algo::Random { draws: 1 }, "1,3", false, 0);
    let mut count = [0u32; 2];
    for _ in 0..8000 {
        if let Pick::Server(i) = lb.pick(None, &mut rng, None) {
            count[i] += 1;
        }
    }
    let share = f64::from(count[1]) / 8000.0;
    assert!((0.6..0.9).contains(&share), "weight 3 of 4 got {share}");
    // with many draws the loaded server is avoided
    let mut lb = build(Algo::Random { draws: 8 }, "1,1", false, 0);
    for _ in 0..5 {
        lb.conn_started(0);
    }
    for _ in 0..50 {
        assert_eq!(lb.pick(None, &mut rng, None), Pick::Server(1));
    }
}

#[test]
fn static_algorithms_only_take_zero_or_configured_weight() {
    let mut lb = build(Algo::StaticRr, "2,1,3", false, 0);
    assert!(lb.weight_change_allowed(0, 0));
    assert!(lb.weight_change_allowed(0, 2));
    assert!(!lb.weight_change_allowed(0, 5));
    lb.set_weight(1, 0);
    assert_eq!(lb.usable_count(), (2, 0));
    // observed with HAProxy: `set weight be/s2 0`, 5 requests, `set weight
    // be/s2 1`, 6 requests; the rotating index carries over the rebuild
    assert_eq!(
        replay(&mut lb, Key::None, &repeat("/", 5)),
        "s1 s3 s1 s3 s3"
    );
    // refused like HAProxy's "only accepts weights '0%' and '100%'"
    lb.set_weight(1, 5);
    assert_eq!(lb.usable_count(), (2, 0));
    lb.set_weight(1, 1);
    assert_eq!(
        replay(&mut lb, Key::None, &repeat("/", 6)),
        "s3 s1 s3 s1 s3 s2"
    );
    let lb = build(Algo::RoundRobin, "2", false, 0);
    assert!(lb.weight_change_allowed(0, 200));
    assert!(!lb.weight_change_allowed(0, 257));
}

#[test]
fn xorshift_is_deterministic_and_never_stuck() {
    let mut a = XorShift64::new(0);
    let mut b = XorShift64::new(0);
    let va: Vec<u32> = (0..4).map(|_| a.next_u32()).collect();
    let vb: Vec<u32> = (0..4).map(|_| b.next_u32()).collect();
    assert_eq!(va, vb);
    assert!(va.iter().any(|&v| v != 0));
}
