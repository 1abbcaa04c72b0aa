//! `mode http` behaviour: keep-alive and reuse, bodies, upgrades, malformed requests,
//! timeouts, queueing, forwardfor, connection modes, errorfile.

use std::io::{Read, Write};
use std::sync::Arc;

use crate::support::{free_port, raw, Backend, Behaviour, Client, Gate, Haproxy, Sluice};
use crate::{defaults, servers};

fn proxy_cfg(port: u16, backend_lines: &str, fe_extra: &str) -> String {
    format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n{fe_extra}    default_backend be\nbackend be\n{backend_lines}",
        defaults("http")
    )
}

#[test]
fn keepalive_client_requests_reuse_one_server_connection() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    for _ in 0..20 {
        let r = c.get("/");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello from s1\n");
    }
    assert_eq!(b.requests.load(std::sync::atomic::Ordering::SeqCst), 20);
    assert_eq!(
        b.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "server connection reused"
    );
}

#[test]
fn http_server_close_opens_a_server_connection_per_request() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(
        &proxy_cfg(port, &servers(&[&b], ""), "    option http-server-close\n"),
        port,
    );
    let mut c = Client::connect(port);
    for _ in 0..5 {
        assert_eq!(c.get("/").status, 200);
    }
    assert_eq!(b.connections.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[test]
fn httpclose_closes_the_client_after_one_response() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(
        &proxy_cfg(port, &servers(&[&b], ""), "    option httpclose\n"),
        port,
    );
    let mut c = Client::connect(port);
    let r = c.get("/");
    assert_eq!(r.status, 200);
    assert!(c.is_closed());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let b = Backend::start("s1", Behaviour::EchoBody);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nhost: t\r\n\r\n");
    assert!(c.read_response().unwrap().text().starts_with("len=3 "));
    assert!(c.read_response().unwrap().text().starts_with("len=5 "));
    assert!(c.read_response().unwrap().text().starts_with("len=0 "));
}

#[test]
fn chunked_upload_larger_than_buffers_streams_through() {
    let b = Backend::start("s1", Behaviour::EchoBody);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"POST /up HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n");
    let chunk = vec![7u8; 65536];
    let mut total = 0u64;
    for _ in 0..32 {
        c.send(format!("{:x}\r\n", chunk.len()).as_bytes());
        c.send(&chunk);
        c.send(b"\r\n");
        total += chunk.len() as u64;
    }
    c.send(b"0\r\n\r\n");
    let r = c.read_response().expect("response");
    assert_eq!(r.text(), format!("len={total} sum={}\n", total * 7));
    // The connection stays usable after a streamed body.
    assert_eq!(c.get("/").status, 200);
}

#[test]
fn content_length_download_larger_than_buffers() {
    let size = 3 * 1024 * 1024;
    let mut resp = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n").into_bytes();
    resp.extend(std::iter::repeat_n(b'z', size));
    let b = Backend::start("s1", Behaviour::Raw(resp));
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let r = crate::support::get(port, "/big");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), size);
}

#[test]
fn expect_100_continue_is_relayed() {
    let b = Backend::start("s1", Behaviour::EchoBody);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"POST /x HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n");
    let interim = c.read_response().expect("100");
    assert_eq!(interim.status, 100);
    c.send(b"data");
    let r = c.read_response().expect("final");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("len=4 "));
}

#[test]
fn websocket_upgrade_switches_to_a_tunnel() {
    let b = Backend::start("s1", Behaviour::WebSocketEcho);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"GET /ws HTTP/1.1\r\nhost: t\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n");
    let r = c.read_response_to(true).expect("101");
    assert_eq!(r.status, 101);
    assert!(b
        .last_head
        .lock()
        .unwrap()
        .to_ascii_lowercase()
        .contains("upgrade: websocket"));
    c.send(b"\x81\x05hello");
    let mut got = [0u8; 7];
    c.r.read_exact(&mut got).expect("echo");
    assert_eq!(&got, b"\x81\x05hello");
}

#[test]
fn http10_client_gets_its_response_and_close() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    let r = c.read_response().expect("resp");
    assert_eq!(r.status, 200);
    assert!(c.is_closed());
}

#[test]
fn forwardfor_adds_the_client_address() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(
        &proxy_cfg(port, &servers(&[&b], ""), "    option forwardfor\n"),
        port,
    );
    assert_eq!(crate::support::get(port, "/").status, 200);
    let head = b.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(head.contains("x-forwarded-for: 127.0.0.1"), "{head}");
}

#[test]
fn forwardfor_except_skips_the_network_and_custom_header_name() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(
        &proxy_cfg(
            port,
            &servers(&[&b], ""),
            "    option forwardfor except 127.0.0.0/8\n",
        ),
        port,
    );
    assert_eq!(crate::support::get(port, "/").status, 200);
    assert!(!b
        .last_head
        .lock()
        .unwrap()
        .to_ascii_lowercase()
        .contains("x-forwarded-for"));

    let port2 = free_port();
    let _s2 = Sluice::start(
        &proxy_cfg(
            port2,
            &servers(&[&b], ""),
            "    option forwardfor header X-Client\n",
        ),
        port2,
    );
    assert_eq!(crate::support::get(port2, "/").status, 200);
    assert!(b
        .last_head
        .lock()
        .unwrap()
        .to_ascii_lowercase()
        .contains("x-client: 127.0.0.1"));
}

/// Malformed requests get HAProxy's answers.
#[test]
fn malformed_requests_get_haproxy_statuses() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let long_uri = format!("GET /{} HTTP/1.1\r\nhost: t\r\n\r\n", "a".repeat(20000));
    let big_header = format!(
        "GET / HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n",
        "b".repeat(20000)
    );
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "conflicting content-length",
            b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"
                .to_vec(),
            400,
        ),
        (
            "bad content-length",
            b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3x\r\n\r\nabc".to_vec(),
            400,
        ),
        (
            "space before colon",
            b"GET / HTTP/1.1\r\nhost : t\r\n\r\n".to_vec(),
            400,
        ),
        (
            "bad header name",
            b"GET / HTTP/1.1\r\nho(st: t\r\n\r\n".to_vec(),
            400,
        ),
        ("garbage", b"\x01\x02\x03 hello\r\n\r\n".to_vec(), 400),
        // HAProxy 2.6 answers 400, not 414, when the request line overflows its buffer.
        ("uri longer than the buffer", long_uri.into_bytes(), 400),
        ("header too large", big_header.into_bytes(), 400),
    ];
    for (what, bytes, status) in cases {
        let r = raw(port, &bytes).unwrap_or_else(|| panic!("{what}: no response"));
        assert_eq!(r.status, status, "{what}");
    }
    assert_eq!(
        b.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing malformed reached the server"
    );
}

/// The same malformed inputs, side by side with HAProxy: identical statuses.
#[test]
fn malformed_request_statuses_match_haproxy() {
    let hap = crate::require_haproxy!();
    let b = Backend::start("s1", Behaviour::Hello);
    let sport = free_port();
    let hport = free_port();
    let _s = Sluice::start(&proxy_cfg(sport, &servers(&[&b], ""), ""), sport);
    let _h = Haproxy::start(&hap, &proxy_cfg(hport, &servers(&[&b], ""), ""), hport);
    let inputs: Vec<Vec<u8>> = vec![
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"
            .to_vec(),
        b"GET / HTTP/1.1\r\nhost : t\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nho(st: t\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: gzip\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nhost: t\r\n\r\n", "a".repeat(20000)).into_bytes(),
        format!(
            "GET / HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n",
            "b".repeat(20000)
        )
        .into_bytes(),
    ];
    for bytes in inputs {
        let a = raw(sport, &bytes).map(|r| r.status);
        let h = raw(hport, &bytes).map(|r| r.status);
        assert_eq!(
            a,
            h,
            "input {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        );
    }
}

#[test]
fn server_timeout_answers_504() {
    let b = Backend::start("s1", Behaviour::Silent);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 200ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "")
    );
    let _s = Sluice::start(&cfg, port);
    assert_eq!(crate::support::get(port, "/").status, 504);
}

/// A one-connection backend that sends `head`, then the bytes of `body` one by one with
/// `gap` between them, then holds the connection open until `hold` has passed.
fn trickling_backend(
    head: &'static [u8],
    body: &'static [u8],
    gap: std::time::Duration,
    hold: std::time::Duration,
) -> (u16, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(head);
        for b in body {
            // The pacing is the behaviour under test, not a synchronisation.
            std::thread::park_timeout(gap);
            if s.write_all(&[*b]).is_err() {
                return;
            }
        }
        let mut rest = [0u8; 64];
        s.set_read_timeout(Some(hold)).unwrap();
        let _ = s.read(&mut rest);
    });
    (port, t)
}

/// `timeout server` runs from the server's last byte: a body that keeps coming, each byte
/// well within the timeout, arrives whole however long it takes in all.
#[test]
fn a_trickling_body_outlives_the_server_timeout() {
    let (bport, t) = trickling_backend(
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n",
        b"abcdef",
        std::time::Duration::from_millis(150),
        std::time::Duration::from_millis(10),
    );
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 500ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{bport}\n"
    );
    let _s = Sluice::start(&cfg, port);
    let r = crate::support::get(port, "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"abcdef");
    t.join().unwrap();
}

/// A body that stops coming is cut once `timeout server` has passed since its last byte,
/// and the log says so (`sD`).
#[test]
fn a_stalled_body_is_cut_after_the_server_timeout() {
    let (bport, t) = trickling_backend(
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n",
        b"ab",
        std::time::Duration::from_millis(10),
        std::time::Duration::from_secs(20),
    );
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 300ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{bport}\n"
    );
    let s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    c.send(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n");
    let head = crate::support::read_head(&mut c.r).expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut got = Vec::new();
    let _ = c.r.read_to_end(&mut got);
    assert_eq!(got, b"ab", "the partial body, then the close");
    let log = s.wait_output(" sD--");
    assert!(log.contains(" 200 "), "{log}");
    drop(c);
    drop(s);
    t.join().unwrap();
}

#[test]
fn incomplete_request_head_times_out_with_408() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    timeout http-request 200ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "")
    );
    let _s = Sluice::start(&cfg, port);
    let r = raw(port, b"GET / HTTP/1.1\r\nhost: t\r\n").expect("408");
    assert_eq!(r.status, 408);
}

#[test]
fn server_closing_without_response_answers_502() {
    let b = Backend::start(
        "s1",
        Behaviour::Raw(b"garbage without status line\r\n\r\n".to_vec()),
    );
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    assert_eq!(crate::support::get(port, "/").status, 502);
}

#[test]
fn no_usable_server_answers_503() {
    let port = free_port();
    let dead = free_port();
    let cfg = proxy_cfg(
        port,
        &format!("    retries 0\n    server s1 127.0.0.1:{dead}\n"),
        "",
    );
    let _s = Sluice::start(&cfg, port);
    let r = crate::support::get(port, "/");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("No server is available"), "{}", r.text());
}

#[test]
fn redispatch_moves_a_failed_connect_to_another_server() {
    let b = Backend::start("s2", Behaviour::Hello);
    let port = free_port();
    let dead = free_port();
    let cfg = proxy_cfg(
        port,
        &format!("    balance roundrobin\n    retries 1\n    option redispatch 1\n    server s1 127.0.0.1:{dead}\n    server s2 {}\n", b.addr),
        "",
    );
    let _s = Sluice::start(&cfg, port);
    for _ in 0..4 {
        let r = crate::support::get(port, "/");
        assert_eq!(r.status, 200);
        assert_eq!(r.server(), "s2");
    }
}

#[test]
fn queue_timeout_at_server_maxconn_answers_503() {
    let gate = Arc::new(Gate::default());
    let b = Backend::start("s1", Behaviour::Gated(gate.clone()));
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    timeout queue 300ms\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "maxconn 1")
    );
    let _s = Sluice::start(&cfg, port);
    // First request occupies the only slot.
    let mut first = Client::connect(port);
    first.send(b"GET /slow HTTP/1.1\r\nhost: t\r\n\r\n");
    crate::support::wait_for("the first request to reach the server", || {
        (gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 1).then_some(())
    });
    // Second waits in the queue and gives up with 503.
    let r = crate::support::get(port, "/queued");
    assert_eq!(r.status, 503);
    gate.open();
    assert_eq!(first.read_response().expect("first").status, 200);
}

#[test]
fn queued_request_is_served_when_the_slot_frees() {
    let gate = Arc::new(Gate::default());
    let b = Backend::start("s1", Behaviour::Gated(gate.clone()));
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], "maxconn 1"), ""), port);
    let mut first = Client::connect(port);
    first.send(b"GET /a HTTP/1.1\r\nhost: t\r\n\r\n");
    crate::support::wait_for("first request at the server", || {
        (gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 1).then_some(())
    });
    let mut second = Client::connect(port);
    second.send(b"GET /b HTTP/1.1\r\nhost: t\r\n\r\n");
    gate.open();
    assert_eq!(first.read_response().expect("first").status, 200);
    assert_eq!(second.read_response().expect("second").status, 200);
}

#[test]
fn errorfile_replaces_the_builtin_page() {
    let port = free_port();
    let dead = free_port();
    let dir = crate::support::tempdir();
    let page = dir.join("503.http");
    std::fs::write(&page, "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsorry\n").unwrap();
    let cfg = proxy_cfg(
        port,
        &format!(
            "    retries 0\n    errorfile 503 {}\n    server s1 127.0.0.1:{dead}\n",
            page.display()
        ),
        "",
    );
    let _s = Sluice::start(&cfg, port);
    let r = crate::support::get(port, "/");
    assert_eq!(r.status, 503);
    assert_eq!(r.text(), "sorry\n");
}

#[test]
fn listen_section_serves_as_frontend_and_backend() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}listen web\n    bind 127.0.0.1:{port}\n{}",
        defaults("http"),
        servers(&[&b], "")
    );
    let _s = Sluice::start(&cfg, port);
    assert_eq!(crate::support::get(port, "/").server(), "s1");
}

#[test]
fn head_response_has_no_body_and_keeps_the_connection() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    let mut c = Client::connect(port);
    c.send(b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n");
    let r = c.read_response_to(true).expect("head");
    assert_eq!(r.status, 200);
    assert_eq!(c.get("/").text(), "hello from s1\n");
}

#[test]
fn client_closing_mid_body_does_not_hurt_the_next_client() {
    let b = Backend::start("s1", Behaviour::EchoBody);
    let port = free_port();
    let _s = Sluice::start(&proxy_cfg(port, &servers(&[&b], ""), ""), port);
    {
        let mut c = Client::connect(port);
        c.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 100000\r\n\r\npartial");
        c.w.flush().unwrap();
    }
    let mut c = Client::connect(port);
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\nok");
    assert!(c.read_response().unwrap().text().starts_with("len=2 "));
}
