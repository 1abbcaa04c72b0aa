//! Health checks: state changes logged as HAProxy logs them, traffic avoiding down servers,
//! backup takeover, 503 when nothing is left.

use std::net::TcpListener;

use crate::support::{free_port, get, Backend, Behaviour, Sluice};
use crate::{defaults, servers};

#[test]
fn failing_server_goes_down_and_traffic_avoids_it() {
    let good = Backend::start("good", Behaviour::Hello);
    let dead = free_port();
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    balance roundrobin\n    server bad 127.0.0.1:{dead} check inter 100ms fall 1 rise 1\n{}",
        defaults("http"),
        servers(&[&good], "check inter 100ms")
    );
    let s = Sluice::start(&cfg, port);
    let out = s.wait_output("Server be/bad is DOWN");
    assert!(out.contains("reason: Layer4 connection problem"), "{out}");
    assert!(out.contains("1 active and 0 backup servers left"), "{out}");
    for _ in 0..6 {
        assert_eq!(get(port, "/").server(), "good");
    }
}

#[test]
fn server_coming_up_is_announced_and_used() {
    // Reserve a port, let the check fail, then start a backend on it.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server late {addr} check inter 100ms rise 1 fall 1\n",
        defaults("http")
    );
    let s = Sluice::start(&cfg, port);
    s.wait_output("Server be/late is DOWN");
    let r = get(port, "/");
    assert_eq!(r.status, 503, "no server left");
    let listener = TcpListener::bind(addr).expect("rebind the reserved port");
    let b = Backend::start_on(listener, "late", Behaviour::Hello);
    s.wait_output("Server be/late is UP");
    assert_eq!(get(port, "/").server(), b.name);
}

#[test]
fn backup_takes_over_when_all_actives_are_down() {
    let backup = Backend::start("spare", Behaviour::Hello);
    let dead = free_port();
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server main 127.0.0.1:{dead} check inter 100ms fall 1\n{}",
        defaults("http"),
        servers(&[&backup], "backup")
    );
    let s = Sluice::start(&cfg, port);
    s.wait_output("Server be/main is DOWN");
    for _ in 0..3 {
        assert_eq!(get(port, "/").server(), "spare");
    }
}

#[test]
fn http_check_with_expect_status_marks_wrong_status_down() {
    let bad = Backend::start(
        "bad",
        Behaviour::Raw(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_vec()),
    );
    let good = Backend::start("good", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    option httpchk\n    http-check send meth GET uri /health\n    http-check expect status 200\n{}",
        defaults("http"),
        servers(&[&bad, &good], "check inter 100ms fall 1")
    );
    let s = Sluice::start(&cfg, port);
    let out = s.wait_output("Server be/bad is DOWN");
    assert!(out.contains("Layer7 wrong status"), "{out}");
    assert!(out.contains("code: 500"), "{out}");
    crate::support::wait_for("a check to reach the good server", || {
        (good.requests.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    });
    let head = good.last_head.lock().unwrap().clone();
    assert!(
        head.starts_with("GET /health HTTP/1.0"),
        "check request sent as configured: {head}"
    );
    for _ in 0..4 {
        assert_eq!(get(port, "/").server(), "good");
    }
}
