//! `balance` algorithms through the real binary: distributions, hash stability, agreement
//! with HAProxy on the same keys.

use std::collections::HashMap;

use crate::support::{free_port, get, Backend, Behaviour, Client, Haproxy, Sluice};
use crate::{defaults, servers};

fn farm(n: usize) -> Vec<Backend> {
    (1..=n)
        .map(|i| Backend::start(&format!("s{i}"), Behaviour::Hello))
        .collect()
}

fn cfg_for(port: u16, balance: &str, lines: &str) -> String {
    format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    balance {balance}\n{lines}",
        defaults("http")
    )
}

fn count(port: u16, paths: impl Iterator<Item = String>) -> HashMap<String, usize> {
    let mut c = Client::connect(port);
    let mut m = HashMap::new();
    for p in paths {
        let r = c.get(&p);
        assert_eq!(r.status, 200);
        *m.entry(r.server()).or_insert(0) += 1;
    }
    m
}

#[test]
fn roundrobin_weights_2_1_3_hold_in_every_cycle_of_6() {
    let b = farm(3);
    let port = free_port();
    let lines = format!(
        "    server s1 {} weight 2\n    server s2 {} weight 1\n    server s3 {} weight 3\n",
        b[0].addr, b[1].addr, b[2].addr
    );
    let _s = Sluice::start(&cfg_for(port, "roundrobin", &lines), port);
    let mut c = Client::connect(port);
    for cycle in 0..100 {
        let mut m: HashMap<String, usize> = HashMap::new();
        for _ in 0..6 {
            *m.entry(c.get("/").server()).or_insert(0) += 1;
        }
        assert_eq!(
            (m.get("s1"), m.get("s2"), m.get("s3")),
            (Some(&2), Some(&1), Some(&3)),
            "cycle {cycle}: {m:?}"
        );
    }
}

#[test]
fn static_rr_weights_hold_over_600_requests() {
    let b = farm(3);
    let port = free_port();
    let lines = format!(
        "    server s1 {} weight 2\n    server s2 {} weight 1\n    server s3 {} weight 3\n",
        b[0].addr, b[1].addr, b[2].addr
    );
    let _s = Sluice::start(&cfg_for(port, "static-rr", &lines), port);
    let m = count(port, (0..600).map(|_| "/".to_string()));
    assert_eq!((m["s1"], m["s2"], m["s3"]), (200, 100, 300));
}

#[test]
fn first_sends_everything_to_the_first_server_with_room() {
    let b = farm(2);
    let port = free_port();
    let _s = Sluice::start(
        &cfg_for(port, "first", &servers(&[&b[0], &b[1]], "maxconn 10")),
        port,
    );
    let m = count(port, (0..20).map(|_| "/".to_string()));
    assert_eq!(m.get("s1"), Some(&20));
}

#[test]
fn leastconn_spreads_sequential_requests_over_all_servers() {
    let b = farm(3);
    let port = free_port();
    let _s = Sluice::start(
        &cfg_for(port, "leastconn", &servers(&[&b[0], &b[1], &b[2]], "")),
        port,
    );
    let m = count(port, (0..30).map(|_| "/".to_string()));
    assert_eq!(m.len(), 3, "all servers used: {m:?}");
}

#[test]
fn random_2_uses_every_server() {
    let b = farm(3);
    let port = free_port();
    let _s = Sluice::start(
        &cfg_for(port, "random(2)", &servers(&[&b[0], &b[1], &b[2]], "")),
        port,
    );
    let m = count(port, (0..90).map(|_| "/".to_string()));
    assert_eq!(m.len(), 3, "{m:?}");
}

#[test]
fn uri_consistent_hash_is_stable_and_spreads() {
    let b = farm(3);
    let port = free_port();
    let cfg = cfg_for(
        port,
        "uri\n    hash-type consistent",
        &servers(&[&b[0], &b[1], &b[2]], ""),
    );
    let _s = Sluice::start(&cfg, port);
    let mut first: HashMap<String, String> = HashMap::new();
    let mut c = Client::connect(port);
    for round in 0..3 {
        for i in 0..40 {
            let p = format!("/item/{i}?q={round}");
            let srv = c.get(&p).server();
            let key = format!("/item/{i}");
            let prev = first.entry(key).or_insert_with(|| srv.clone());
            assert_eq!(*prev, srv, "same URI path must stay on one server");
        }
    }
    let used: std::collections::HashSet<_> = first.values().collect();
    assert_eq!(used.len(), 3, "40 URIs over 3 servers use all of them");
}

#[test]
fn url_param_hash_sticks_and_falls_back_to_roundrobin() {
    let b = farm(3);
    let port = free_port();
    let _s = Sluice::start(
        &cfg_for(port, "url_param user", &servers(&[&b[0], &b[1], &b[2]], "")),
        port,
    );
    let mut c = Client::connect(port);
    let a = c.get("/x?user=alice").server();
    for _ in 0..10 {
        assert_eq!(c.get("/y?user=alice").server(), a);
    }
    let m = count(port, (0..9).map(|_| "/none".to_string()));
    assert_eq!(m.len(), 3, "no parameter: round robin, {m:?}");
}

#[test]
fn hdr_hash_sticks_per_header_value() {
    let b = farm(3);
    let port = free_port();
    let _s = Sluice::start(
        &cfg_for(port, "hdr(x-user)", &servers(&[&b[0], &b[1], &b[2]], "")),
        port,
    );
    let mut c = Client::connect(port);
    let mut seen = HashMap::new();
    for round in 0..3 {
        for u in 0..20 {
            c.send(format!("GET /r{round} HTTP/1.1\r\nhost: t\r\nx-user: u{u}\r\n\r\n").as_bytes());
            let s = c.read_response().expect("resp").server();
            assert_eq!(seen.entry(u).or_insert_with(|| s.clone()).as_str(), s);
        }
    }
}

/// Mixed fleets must agree: for the same key and the same servers, Sluice and HAProxy pick
/// the same server (uri map-based and consistent, source).
#[test]
fn hash_picks_agree_with_haproxy() {
    let hap = crate::require_haproxy!();
    let b = farm(3);
    for balance in [
        "uri",
        "uri\n    hash-type consistent",
        "uri whole\n    hash-type consistent",
        "source",
        "source\n    hash-type consistent",
    ] {
        let sport = free_port();
        let hport = free_port();
        let lines = format!(
            "    server s1 {} weight 1\n    server s2 {} weight 2\n    server s3 {} weight 1\n",
            b[0].addr, b[1].addr, b[2].addr
        );
        let _s = Sluice::start(&cfg_for(sport, balance, &lines), sport);
        let _h = Haproxy::start(&hap, &cfg_for(hport, balance, &lines), hport);
        for i in 0..60 {
            let p = format!("/k/{i}?v={}", i * 7);
            let a = get(sport, &p).server();
            let h = get(hport, &p).server();
            assert_eq!(
                a, h,
                "balance {balance:?}: key {p} went to {a} in Sluice, {h} in HAProxy"
            );
        }
    }
}

#[test]
fn roundrobin_sequence_matches_haproxy() {
    let hap = crate::require_haproxy!();
    let b = farm(3);
    let lines = format!(
        "    server s1 {} weight 2\n    server s2 {} weight 1\n    server s3 {} weight 3\n",
        b[0].addr, b[1].addr, b[2].addr
    );
    let sport = free_port();
    let hport = free_port();
    let _s = Sluice::start(&cfg_for(sport, "roundrobin", &lines), sport);
    let _h = Haproxy::start(&hap, &cfg_for(hport, "roundrobin", &lines), hport);
    let mut cs = Client::connect(sport);
    let mut ch = Client::connect(hport);
    let a: Vec<String> = (0..24).map(|_| cs.get("/").server()).collect();
    let h: Vec<String> = (0..24).map(|_| ch.get("/").server()).collect();
    assert_eq!(a, h);
}

#[test]
fn use_server_pins_matching_requests_and_falls_back_when_the_server_is_down() {
    let b = farm(3);
    let port = free_port();
    let dead = free_port();
    let lines = format!(
        "    use-server s2 if {{ req.hdr(x-pin) s2 }}\n    use-server gone if {{ req.hdr(x-pin) gone }}\n    server s1 {}\n    server s2 {}\n    server s3 {}\n    server gone 127.0.0.1:{dead} check inter 100ms fall 1\n",
        b[0].addr, b[1].addr, b[2].addr
    );
    let s = Sluice::start(&cfg_for(port, "roundrobin", &lines), port);
    let mut c = Client::connect(port);
    for _ in 0..6 {
        c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-pin: s2\r\n\r\n");
        assert_eq!(c.read_response().expect("pinned").server(), "s2");
    }
    s.wait_output("Server be/gone is DOWN");
    // A pinned server that is down: the balancer decides, among the servers that are up.
    for _ in 0..6 {
        c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-pin: gone\r\n\r\n");
        let r = c.read_response().expect("balanced");
        assert_eq!(r.status, 200);
        assert_ne!(r.server(), "gone");
    }
}
