//! Access logs in HAProxy's formats, written to stdout.

use crate::support::{free_port, get, Backend, Behaviour, Client, Sluice};
use crate::{defaults, servers};

#[test]
fn httplog_line_has_haproxy_fields() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/hello?x=1").status, 200);
    let out = s.wait_output("\"GET /hello?x=1 HTTP/1.1\"");
    let line = out.lines().find(|l| l.contains("/hello?x=1")).unwrap();
    // %ac/%fc/%bc/%sc/%rc: the backend and server counts are taken once this request let
    // go of them, as HAProxy logs them.
    assert!(line.contains(" ---- 1/1/0/0/0 0/0 "), "{line}");
    // 127.0.0.1:PORT [dd/Mmm/yyyy:hh:mm:ss.mmm] web app/s1 TR/Tw/Tc/Tr/Ta 200 BYTES - - ---- a/f/b/s/r 0/0 "GET /hello?x=1 HTTP/1.1"
    let f: Vec<&str> = line.split(' ').collect();
    assert!(f[0].starts_with("127.0.0.1:"), "{line}");
    assert!(
        f[1].starts_with('[') && f[1].ends_with(']') && f[1].len() == 26,
        "{line}"
    );
    assert_eq!(f[2], "web");
    assert_eq!(f[3], "app/s1");
    assert_eq!(f[4].split('/').count(), 5, "{line}");
    assert_eq!(f[5], "200");
    assert!(f[6].parse::<u64>().unwrap() > 0);
    assert_eq!((f[7], f[8], f[9]), ("-", "-", "----"), "{line}");
    assert_eq!(f[10].split('/').count(), 5);
    assert_eq!(f[11], "0/0");
}

#[test]
fn tcplog_line_has_haproxy_fields() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend tfe\n    bind 127.0.0.1:{port}\n    default_backend tbe\nbackend tbe\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/").status, 200);
    // The harness's readiness probe is logged too (0 bytes): take the proxied session.
    let line = crate::support::wait_for("the tcplog line of the session", || {
        let out = s.stdout();
        out.lines()
            .find(|l| l.contains(" tfe tbe/s1 ") && l.split(' ').nth(5).is_some_and(|b| b != "0"))
            .map(str::to_string)
    });
    // 127.0.0.1:PORT [date] tfe tbe/s1 Tw/Tc/Tt BYTES -- a/f/b/s/r 0/0
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(f[4].split('/').count(), 3, "{line}");
    assert!(f[5].parse::<u64>().unwrap() > 0, "{line}");
    assert_eq!(f[6], "--", "{line}");
    assert_eq!(f[8], "0/0", "{line}");
}

#[test]
fn bad_request_is_logged_as_badreq_with_pr_state() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    let r = crate::support::raw(port, b"GET / HTTP/1.1\r\nho st: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 400);
    let line = crate::support::wait_for("the PR-- line", || {
        s.stdout()
            .lines()
            .find(|l| l.contains(" PR-- "))
            .map(str::to_string)
    });
    // As HAProxy 2.6 logs it: no timers, 0 bytes, the request shown as <BADREQ>.
    assert!(line.contains(" web web/<NOSRV> -1/-1/-1/-1/"), "{line}");
    assert!(line.contains(" 400 0 - - PR-- "), "{line}");
    assert!(line.ends_with("\"<BADREQ>\""), "{line}");
    // The readiness probe (connect, close) is logged as HAProxy does: 400, CR--.
    assert!(
        s.stdout().lines().any(|l| l.contains(" 400 0 - - CR-- ")),
        "{}",
        s.stdout()
    );
}

#[test]
fn custom_log_format_renders_variables_and_samples() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    log-format \"client=%ci method=%HM uri=%HU status=%ST route=%b/%s req=%{{+Q}}r src=%[src]\"\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/lf?a=1").status, 200);
    let line = crate::support::wait_for("the log-format line", || {
        s.stdout()
            .lines()
            .find(|l| l.contains("uri=/lf?a=1"))
            .map(str::to_string)
    });
    assert_eq!(
        line,
        "client=127.0.0.1 method=GET uri=/lf?a=1 status=200 route=app/s1 req=\"GET /lf?a=1 HTTP/1.1\" src=127.0.0.1"
    );
    assert!(
        !s.stdout().contains("Connect from"),
        "log-format replaces the default line"
    );
}

#[test]
fn unique_id_goes_to_the_server_header_and_the_log() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n    unique-id-header X-Unique-ID\n    log-format \"id=%ID\"\n    default_backend app\nbackend app\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/").status, 200);
    let head = b.last_head.lock().unwrap().clone();
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-unique-id: "))
        .unwrap_or_else(|| panic!("no unique id header: {head}"))
        .to_string();
    // %{+X}o: addresses and numbers in hex. HAProxy 2.6.12 sent, for the same format and
    // the first request: 7F000001:DFB6_7F000001:4AEC_6B03F606_0000:758C.
    let pid = format!("{:04X}", s.child.id());
    assert!(id.starts_with("7F000001:"), "{id}");
    assert!(id.contains(&format!("_7F000001:{port:04X}_")), "{id}");
    assert!(
        id.ends_with(&format!("_0000:{pid}")),
        "{id} ends with request 0 and the hex pid {pid}"
    );
    let line = crate::support::wait_for("the id line", || {
        // The harness's readiness probe logs too, with no id ("id=-").
        s.stdout()
            .lines()
            .find(|l| l.starts_with("id=") && *l != "id=-")
            .map(str::to_string)
    });
    assert_eq!(
        line,
        format!("id={id}"),
        "the log carries the same id as the header"
    );
}

/// Captured headers appear in the httplog line as `{req} {res}` before the request, the
/// last occurrence of each, cut to `len`, as HAProxy logs them. HAProxy 2.6.12 with the same
/// config and request logged `... 0/0 {example.||se#7Ccond} {s1} "GET /cap HTTP/1.1"`.
#[test]
fn captured_headers_are_logged_like_haproxy() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    capture request header Host len 8\n    capture request header X-Missing len 5\n    capture request header X-Dup len 10\n    capture response header X-Server len 20\n    default_backend app\nbackend app\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    let mut c = crate::support::Client::connect(port);
    c.send(b"GET /cap HTTP/1.1\r\nhost: example.test\r\nx-dup: first\r\nx-dup: se|cond\r\n\r\n");
    assert_eq!(c.read_response().expect("response").status, 200);
    let line = crate::support::wait_for("the log line", || {
        s.stdout()
            .lines()
            .find(|l| l.contains("/cap"))
            .map(str::to_string)
    });
    assert!(
        line.ends_with(" 0/0 {example.||se#7Ccond} {s1} \"GET /cap HTTP/1.1\""),
        "{line}"
    );
}

/// `http-request capture` (len and id), `declare capture`, `http-response capture` and
/// `capture cookie` in the httplog line, in declaration order with the header captures,
/// as HAProxy 2.6.12 writes them for the same configuration and requests.
#[test]
fn rule_and_cookie_captures_in_httplog() {
    let b = Backend::start(
        "s1",
        Behaviour::Raw(
            b"HTTP/1.1 200 OK\r\nset-cookie: SESSIONID=abc123def; path=/\r\nset-cookie: other=1\r\nx-res: r1\r\ncontent-length: 2\r\n\r\nok"
                .to_vec(),
        ),
    );
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request capture req.hdr(x-a) len 5\n    capture request header Host len 20\n    declare capture request len 8\n    capture response header x-res len 10\n    declare capture response len 4\n    http-request capture path id 2\n    http-response capture res.hdr(x-res),upper id 1\n    capture cookie SESS len 12\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    let r = crate::support::raw(
        port,
        b"GET /path/to HTTP/1.1\r\nhost: h:1\r\nx-a: 123456789\r\ncookie: a=1; SESSIONID=zzzzzzzzzzzzzzzzzz; SESS=2\r\n\r\n",
    )
    .expect("response");
    assert_eq!(r.status, 200);
    let out = s.wait_output("\"GET /path/to HTTP/1.1\"");
    let line = out.lines().find(|l| l.contains("/path/to")).unwrap();
    assert!(
        line.contains(" SESSIONID=zz SESSIONID=ab ---- "),
        "cookies as %CC %CS: {line}"
    );
    assert!(
        line.ends_with(" 0/0 {12345|h:1|/path/to} {r1|R1} \"GET /path/to HTTP/1.1\""),
        "{line}"
    );
}

/// `set-log-level`: `silent` drops the line, a level sets its syslog priority; the last
/// rule that runs wins, the response's after the request's.
#[test]
fn set_log_level_silences_and_sets_priority() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n    log stdout format rfc3164 local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request set-var(txn.p) path\n    http-request set-log-level silent if {{ path_beg /quiet }}\n    http-request set-log-level err if {{ path /err }}\n    http-response set-log-level alert if {{ var(txn.p) -m str /quiet-but-alert }}\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    for p in ["/quiet", "/err", "/quiet-but-alert", "/last"] {
        assert_eq!(c.get(p).status, 200, "{p}");
    }
    // Lines are written in order: once the last one is there, the others are too.
    let out = s.wait_output("\"GET /last HTTP/1.1\"");
    let line = |p: &str| {
        out.lines()
            .find(|l| l.ends_with(&format!("\"GET {p} HTTP/1.1\"")))
            .map(str::to_string)
    };
    assert_eq!(line("/quiet"), None, "{out}");
    // local0 = 16: err is <131>, alert <129>, info <134>.
    assert!(line("/err").unwrap().starts_with("<131>"), "{out}");
    assert!(
        line("/quiet-but-alert").unwrap().starts_with("<129>"),
        "{out}"
    );
    assert!(line("/last").unwrap().starts_with("<134>"), "{out}");
}

/// Missing values as HAProxy 2.6 writes them: in a log line `""` when quoted and `-`
/// otherwise, in a rule argument nothing at all; and the request's variables are still
/// there when the line is written.
#[test]
fn missing_values_and_request_variables_in_log_format() {
    let b = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    log stdout format raw local0\n{}    log global\nfrontend fe\n    bind 127.0.0.1:{port}\n    log-format \"a=%{{+Q}}[var(txn.nope)] b=%[var(txn.nope)] c=%{{+Q}}[var(txn.yes)]\"\n    http-request set-var(txn.yes) str(ok)\n    http-request set-header x-q \"%{{+Q}}[var(txn.nope)]\"\n    http-request set-header x-r \"<%[var(txn.nope)]>\"\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        servers(&[&b], "")
    );
    let s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/").status, 200);
    // (the harness's probe connection, which sent nothing, is logged too, without the var)
    let out = s.wait_output("c=\"ok\"");
    assert!(out.contains("a=\"\" b=- c=\"ok\""), "{out}");
    let head = b.last_head.lock().unwrap().clone();
    assert!(
        head.contains("x-q: \r\n") || head.contains("x-q:\r\n"),
        "{head}"
    );
    assert!(head.contains("x-r: <>"), "{head}");
}

/// A keep-alive backend answering each request with the raw response its path names.
fn raw_responses_backend(responses: &'static [(&'static str, &'static [u8])]) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let path = head.split(' ').nth(1).unwrap_or("/");
                        let resp = responses
                            .iter()
                            .find(|(p, _)| *p == path)
                            .map_or(responses[0].1, |(_, r)| *r);
                        if s.write_all(resp).is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    port
}

/// `%B` is what HAProxy counts, the response's size in HTX rather than its bytes on the wire,
/// side by side with HAProxy: servers' answers (with length, chunked, empty headers, a
/// `Connection` header to drop), a deny page, a redirect and a 503.
#[test]
fn bytes_field_matches_haproxy() {
    let hap = crate::require_haproxy!();
    static RESPONSES: &[(&str, &[u8])] = &[
        ("/a", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ("/b", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"),
        ("/c", b"HTTP/1.1 404 Not Found Here\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nno"),
        ("/d", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\nabc\r\n0\r\n\r\n"),
        ("/e", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Empty:\r\n\r\nok"),
    ];
    let bport = raw_responses_backend(RESPONSES);
    let cfg = |port: u16| {
        format!(
            "global\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    http-request deny if {{ path /deny }}\n    http-request redirect location /x if {{ path /redir }}\n    use_backend none if {{ path /none }}\n    default_backend app\nbackend app\n    server s1 127.0.0.1:{bport}\nbackend none\n"
        )
    };
    let sport = free_port();
    let hport = free_port();
    let s = Sluice::start(&cfg(sport), sport);
    let h = crate::support::Haproxy::start(&hap, &cfg(hport), hport);
    let paths = ["/a", "/b", "/c", "/d", "/e", "/deny", "/redir", "/none"];
    for p in paths {
        get(sport, p);
        get(hport, p);
    }
    let bytes_by_path = |log: &str| -> Vec<(String, String)> {
        paths
            .iter()
            .map(|p| {
                let needle = format!("\"GET {p} HTTP/1.1\"");
                let line = log.lines().find(|l| l.ends_with(&needle)).unwrap_or("");
                let f: Vec<&str> = line.split(' ').collect();
                (
                    p.to_string(),
                    format!("{} {}", f.get(5).unwrap_or(&"?"), f.get(6).unwrap_or(&"?")),
                )
            })
            .collect()
    };
    let ours = bytes_by_path(&s.wait_output("\"GET /none HTTP/1.1\""));
    let theirs = bytes_by_path(&h.wait_output("\"GET /none HTTP/1.1\""));
    assert_eq!(ours, theirs);
}

/// `%U` too is HAProxy's count, side by side with it: the request head's size in HTX as
/// received (before rules edit it, without a `close` Connection header), and the body's data
/// bytes, chunk framing excluded; a denied request counts the body that came with it.
#[test]
fn uploaded_bytes_field_matches_haproxy() {
    let hap = crate::require_haproxy!();
    static RESPONSES: &[(&str, &[u8])] =
        &[("/", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")];
    let bport = raw_responses_backend(RESPONSES);
    let cfg = |port: u16| {
        format!(
            "global\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    log-format \"%ST %U %B %{{+Q}}r\"\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\nfrontend web\n    bind 127.0.0.1:{port}\n    http-request set-header x-added 12345 if {{ path /set }}\n    http-request deny if {{ path /deny }}\n    default_backend app\nbackend app\n    server s1 127.0.0.1:{bport}\n"
        )
    };
    let sport = free_port();
    let hport = free_port();
    let s = Sluice::start(&cfg(sport), sport);
    let h = crate::support::Haproxy::start(&hap, &cfg(hport), hport);
    let requests: [&[u8]; 5] = [
        b"GET /get HTTP/1.1\r\nhost: t\r\nuser-agent: test\r\n\r\n",
        b"GET /set HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        b"POST /post HTTP/1.1\r\nhost: t\r\ncontent-length: 11\r\n\r\nhello=world",
        b"POST /chunked HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n6\r\nabcdef\r\n3\r\nxyz\r\n0\r\n\r\n",
        b"POST /deny HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello",
    ];
    for r in requests {
        crate::support::raw(sport, r);
        crate::support::raw(hport, r);
    }
    let fields = |log: &str| -> Vec<String> {
        ["/get", "/set", "/post", "/chunked", "/deny"]
            .iter()
            .map(|p| {
                let needle = format!(" {p} HTTP/1.1\"");
                log.lines()
                    .find(|l| l.ends_with(&needle))
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let ours = fields(&s.wait_output("/deny HTTP/1.1\""));
    let theirs = fields(&h.wait_output("/deny HTTP/1.1\""));
    assert_eq!(ours, theirs);
    assert!(ours.iter().all(|l| !l.is_empty()), "{ours:?}");
}
