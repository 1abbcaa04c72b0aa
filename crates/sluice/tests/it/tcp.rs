//! `mode tcp`: relaying both ways, half-close, round robin per connection, timeouts.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::support::{free_port, Sluice, DEADLINE};

/// A server on a free loopback port running `handle` on each connection in a thread of its
/// own (the proxy's start-up probe arrives as a connection too).
fn tcp_server(handle: impl Fn(TcpStream) + Send + Copy + 'static) -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            std::thread::spawn(move || handle(s));
        }
    });
    a
}

/// An echo server that answers `NAME:` + what it read, after the client half-closed.
fn echo_server(name: &'static str) -> std::net::SocketAddr {
    tcp_server(move |mut s| {
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got); // until the client's FIN arrives through the proxy
        let _ = s.write_all(format!("{name}:").as_bytes());
        let _ = s.write_all(&got);
    })
}

fn tcp_cfg(port: u16, servers: &str, extra: &str) -> String {
    format!(
        "global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n{extra}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    balance roundrobin\n{servers}"
    )
}

fn exchange(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(DEADLINE)).unwrap();
    c.write_all(payload).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn tcp_relays_both_ways_with_half_close_and_round_robin() {
    let a = echo_server("a");
    let b = echo_server("b");
    let port = free_port();
    let _s = Sluice::start(
        &tcp_cfg(port, &format!("    server a {a}\n    server b {b}\n"), ""),
        port,
    );
    let mut seen = Vec::new();
    for i in 0..4 {
        let payload = format!("payload-{i}");
        let out = String::from_utf8(exchange(port, payload.as_bytes())).unwrap();
        let (name, echoed) = out.split_once(':').unwrap();
        assert_eq!(echoed, payload);
        seen.push(name.to_string());
    }
    // Equal weights alternate (HAProxy starts from the last server of the tree).
    assert_ne!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    assert_eq!(seen[1], seen[3]);
}

#[test]
fn tcp_relays_a_large_stream_intact() {
    let a = echo_server("a");
    let port = free_port();
    let _s = Sluice::start(&tcp_cfg(port, &format!("    server a {a}\n"), ""), port);
    let payload: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut w = c.try_clone().unwrap();
    let p2 = payload.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&p2).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    assert_eq!(&out[..2], b"a:");
    assert!(out[2..] == payload[..], "stream corrupted");
}

#[test]
fn tcp_client_timeout_closes_an_idle_session() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut b = [0u8; 1];
        // Returns when the proxy closes its side after the timeout.
        let r = s.read(&mut b);
        matches!(r, Ok(0))
    });
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 200ms\n    timeout server 200ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server a {a}\n"
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut b = [0u8; 1];
    assert!(
        matches!(c.read(&mut b), Ok(0)),
        "client side closed by timeout"
    );
    assert!(holder.join().unwrap(), "server side closed too");
}

#[test]
fn tcp_connect_failure_closes_the_client() {
    let port = free_port();
    let dead = free_port();
    let _s = Sluice::start(
        &tcp_cfg(
            port,
            &format!("    retries 0\n    server a 127.0.0.1:{dead}\n"),
            "",
        ),
        port,
    );
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut b = [0u8; 8];
    assert!(matches!(c.read(&mut b), Ok(0) | Err(_)));
}

#[test]
fn tcp_use_backend_routes_on_the_source_address() {
    let a = echo_server("a");
    let b = echo_server("b");
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:{port}\n    acl from_two src 127.0.0.2\n    use_backend two if from_two\n    default_backend one\nbackend one\n    server a {a}\nbackend two\n    server b {b}\n"
    );
    let _s = Sluice::start(&cfg, port);
    for (src, want) in [("127.0.0.1", "a:x"), ("127.0.0.2", "b:x")] {
        let mut c = crate::support::Client::connect_from(src, port);
        c.w.write_all(b"x").unwrap();
        c.w.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        c.r.read_to_string(&mut out).unwrap();
        assert_eq!(out, want, "from {src}");
    }
}

/// A session busy for several times its timeouts stays open: the timeouts count from the
/// last activity, not from the start (the relay's one timer fires early and is re-armed).
/// Once it falls silent, it is still closed by them.
#[test]
fn tcp_timeouts_count_from_the_last_activity() {
    // Echoes each message at once.
    let a = tcp_server(|mut s| {
        let mut b = [0u8; 64];
        while let Ok(n @ 1..) = s.read(&mut b) {
            if s.write_all(&b[..n]).is_err() {
                break;
            }
        }
    });
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 2s\n    timeout client 400ms\n    timeout server 400ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server a {a}\n"
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(DEADLINE)).unwrap();
    // 12 exchanges 100 ms apart: 1.2 s in all, three times the timeouts.
    for i in 0..12u8 {
        // The pacing is the behaviour under test, not a synchronisation.
        std::thread::park_timeout(std::time::Duration::from_millis(100));
        c.write_all(&[b'a' + i]).unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], b'a' + i, "echo {i} came back");
    }
    let mut b = [0u8; 1];
    assert!(
        matches!(c.read(&mut b), Ok(0)),
        "the silent session is closed by the timeout"
    );
}
