//! Line formats checked byte for byte against HAProxy 2.6.12.
//!
//! Captured from `/usr/sbin/haproxy` 2.6.12 (`log stdout format raw local0`, a Python HTTP
//! backend on 127.0.0.1:18080, requests sent with curl and raw sockets). Ports, dates and
//! timers vary per run; the tests below rebuild each line from the same field values:
//!
//! ```text
//! option httplog:
//! 127.0.0.1:42316 [23/Nov/2026:06:27:46.844] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /foo?x=1 HTTP/1.1"
//! 127.0.0.1:53124 [23/Nov/2026:06:27:46.897] fe_bad be_down/s2 0/0/-1/-1/3004 503 217 - - SC-- 1/1/0/0/3 0/0 "GET /bad HTTP/1.1"
//! 127.0.0.1:53462 [23/Nov/2026:06:28:43.441] fe_http fe_http/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"
//! ::1:54654 [23/Nov/2026:06:28:43.572] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /v6 HTTP/1.1"
//! 127.0.0.1:47998 [23/Nov/2026:06:29:13.293] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /a#22b#23c{|}%20#E9 HTTP/1.1"
//! 127.0.0.1:48008 [23/Nov/2026:06:29:15.450] fe_http be_http/s1 0/0/1/0/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /a#7Fb HTTP/1.1"
//! 127.0.0.1:48024 [23/Nov/2026:06:29:17.702] fe_http be_http/s1 0/0/0/0/0 200 127 - - ---- 1/1/0/0/0 0/0 "GET /a\b HTTP/1.1"
//! option httplog clf (note the single trailing space):
//! 127.0.0.1 - - [23/Nov/2026:06:27:46 +0000] "GET /clf HTTP/1.1" 200 127 "" "" 42884 854 "fe_clf" "be_http" "s1" 0 0 0 0 0 ---- 1 1 0 0 0 0 0 "" ""
//! option tcplog:
//! 127.0.0.1:33878 [23/Nov/2026:06:27:46.865] fe_tcp be_tcp/s1 1/0/1 124 -- 1/1/0/0/0 0/0
//! neither (sent at accept):
//! Connect from 127.0.0.1:50978 to 127.0.0.1:18004 (fe_def/HTTP)
//! Connect from 127.0.0.1:37092 to 127.0.0.1:18005 (fe_deftcp/TCP)
//! Connect from ::1:45598 to ::1:18004 (fe_def/HTTP)
//! ```

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sluice_config::Mode;

use crate::{
    format_connect, format_default, format_httplog, format_httplog_clf, format_tcplog, LogFields,
    Timers,
};

/// 2026-11-23T06:27:46Z, the second of the captured lines.
const SECS: u64 = 1_795_415_266;

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(SECS) + Duration::from_millis(ms)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn fields<'a>(request_line: &'a [u8]) -> LogFields<'a> {
    LogFields {
        client: addr("127.0.0.1:42316"),
        accept_time: at(844),
        frontend: "fe_http",
        frontend_tls: false,
        backend: "be_http",
        server: "s1",
        timers: Timers {
            th: 0,
            ti: 0,
            tr_req: 0,
            tw: 0,
            tc: 0,
            tr_resp: 1,
            ta: 1,
            tt: 1,
        },
        status: 200,
        bytes_read: 127,
        bytes_uploaded: 0,
        termination: *b"----",
        actconn: 1,
        feconn: 1,
        beconn: 0,
        srv_conn: 0,
        retries: 0,
        redispatched: false,
        srv_queue: 0,
        backend_queue: 0,
        request_line,
        captured_request: None,
        captured_response: None,
        cookie_request: None,
        cookie_response: None,
    }
}

/// The dates in these lines are local time; the expected strings assume UTC (as on the
/// machine the captures were made on). Elsewhere, compare with the bracketed date masked.
fn assert_line(got: &[u8], want: &str) {
    let got = String::from_utf8_lossy(got).into_owned();
    if crate::sys::local(SECS as i64).gmtoff == 0 {
        assert_eq!(got, want);
    } else {
        let mask = |s: &str| {
            let (a, rest) = s.split_once('[').unwrap();
            let (_, b) = rest.split_once(']').unwrap();
            format!("{a}[]{b}")
        };
        assert_eq!(mask(&got), mask(want));
    }
}

fn httplog(f: &LogFields) -> Vec<u8> {
    let mut out = Vec::new();
    format_httplog(f, &mut out);
    out
}

#[test]
fn httplog_line_matches_haproxy_format() {
    let f = fields(b"GET /foo?x=1 HTTP/1.1");
    assert_line(
        &httplog(&f),
        r#"127.0.0.1:42316 [23/Nov/2026:06:27:46.844] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /foo?x=1 HTTP/1.1""#,
    );
}

#[test]
fn httplog_prints_unreached_timers_as_minus_one() {
    let mut f = fields(b"GET /bad HTTP/1.1");
    f.client = addr("127.0.0.1:53124");
    f.accept_time = at(897);
    f.frontend = "fe_bad";
    f.backend = "be_down";
    f.server = "s2";
    f.timers.tc = -1;
    f.timers.tr_resp = -1;
    f.timers.ta = 3004;
    f.status = 503;
    f.bytes_read = 217;
    f.termination = *b"SC--";
    f.retries = 3;
    assert_line(
        &httplog(&f),
        r#"127.0.0.1:53124 [23/Nov/2026:06:27:46.897] fe_bad be_down/s2 0/0/-1/-1/3004 503 217 - - SC-- 1/1/0/0/3 0/0 "GET /bad HTTP/1.1""#,
    );
}

#[test]
fn httplog_bad_request_without_server() {
    let mut f = fields(b"");
    f.client = addr("127.0.0.1:53462");
    f.accept_time = at(441);
    f.backend = "fe_http";
    f.server = "<NOSRV>";
    f.timers = Timers {
        th: 0,
        ti: 0,
        tr_req: -1,
        tw: -1,
        tc: -1,
        tr_resp: -1,
        ta: 0,
        tt: 0,
    };
    f.status = 400;
    f.bytes_read = 0;
    f.termination = *b"PR--";
    assert_line(
        &httplog(&f),
        r#"127.0.0.1:53462 [23/Nov/2026:06:27:46.441] fe_http fe_http/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>""#,
    );
}

#[test]
fn httplog_ipv6_client_has_no_brackets() {
    let mut f = fields(b"GET /v6 HTTP/1.1");
    f.client = addr("[::1]:54654");
    assert_line(
        &httplog(&f),
        r#"::1:54654 [23/Nov/2026:06:27:46.844] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 "GET /v6 HTTP/1.1""#,
    );
}

#[test]
fn request_line_quotes_and_escapes() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"GET /a\"b#c{|}%20\xe9 HTTP/1.1",
            "GET /a#22b#23c{|}%20#E9 HTTP/1.1",
        ),
        (b"GET /a\x7fb HTTP/1.1", "GET /a#7Fb HTTP/1.1"),
        (b"GET /a\\b HTTP/1.1", r"GET /a\b HTTP/1.1"),
        (b"GET /\x01\t\r\n HTTP/1.1", "GET /#01#09#0D#0A HTTP/1.1"),
    ];
    for (line, want) in cases {
        let out = httplog(&fields(line));
        let s = String::from_utf8(out).unwrap();
        let quoted = s.split_once(" 0/0 ").unwrap().1;
        assert_eq!(quoted, format!("\"{want}\""));
    }
}

#[test]
fn request_line_is_cut_like_haproxys_capture() {
    let mut line = b"GET /".to_vec();
    line.resize(1100, b'x');
    let s = String::from_utf8(httplog(&fields(&line))).unwrap();
    let quoted = s.split_once(" 0/0 \"").unwrap().1;
    // tune.http.logurilen 1024 keeps 1023 bytes.
    assert_eq!(quoted.len(), 1023 + 1);
    assert!(quoted.ends_with("x\""));
}

#[test]
fn httplog_marks_redispatch_and_uses_request_date() {
    let mut f = fields(b"GET / HTTP/1.1");
    f.redispatched = true;
    f.retries = 1;
    // A keep-alive request that arrived 2.5 s after the connection: %tr moves with it.
    f.timers.ti = 2500;
    f.timers.th = 3;
    let s = String::from_utf8(httplog(&f)).unwrap();
    assert!(s.contains(" 1/1/0/0/+1 0/0 "), "{s}");
    if crate::sys::local(SECS as i64).gmtoff == 0 {
        assert!(s.contains("[23/Nov/2026:06:27:49.347]"), "{s}");
    }
}

#[test]
fn clf_line_matches_haproxy_format() {
    let mut f = fields(b"GET /clf HTTP/1.1");
    f.client = addr("127.0.0.1:42884");
    f.accept_time = at(854);
    f.frontend = "fe_clf";
    f.timers.tr_resp = 0;
    f.timers.ta = 0;
    let mut out = Vec::new();
    format_httplog_clf(&f, &mut out);
    // %trg is UTC whatever the local zone, so this one is exact everywhere.
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"127.0.0.1 - - [23/Nov/2026:06:27:46 +0000] "GET /clf HTTP/1.1" 200 127 "" "" 42884 854 "fe_clf" "be_http" "s1" 0 0 0 0 0 ---- 1 1 0 0 0 0 0 "" "" "#
    );
}

#[test]
fn clf_pads_milliseconds() {
    let mut f = fields(b"GET / HTTP/1.1");
    f.accept_time = at(7);
    let mut out = Vec::new();
    format_httplog_clf(&f, &mut out);
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains(" 42316 007 \"fe_http\""), "{s}");
}

#[test]
fn tcplog_line_matches_haproxy_format() {
    let mut f = fields(b"");
    f.client = addr("127.0.0.1:33878");
    f.accept_time = at(865);
    f.frontend = "fe_tcp";
    f.backend = "be_tcp";
    f.timers = Timers {
        th: 0,
        ti: 0,
        tr_req: -1,
        tw: 1,
        tc: 0,
        tr_resp: -1,
        ta: 1,
        tt: 1,
    };
    f.status = -1;
    f.bytes_read = 124;
    f.termination = *b"--NN";
    let mut out = Vec::new();
    format_tcplog(&f, &mut out);
    assert_line(
        &out,
        "127.0.0.1:33878 [23/Nov/2026:06:27:46.865] fe_tcp be_tcp/s1 1/0/1 124 -- 1/1/0/0/0 0/0",
    );
}

#[test]
fn connect_line_matches_haproxy_format() {
    let mut out = Vec::new();
    format_connect(
        addr("127.0.0.1:50978"),
        addr("127.0.0.1:18004"),
        "fe_def",
        Mode::Http,
        &mut out,
    );
    assert_eq!(
        out,
        b"Connect from 127.0.0.1:50978 to 127.0.0.1:18004 (fe_def/HTTP)"
    );
    out.clear();
    format_connect(
        addr("[::1]:45598"),
        addr("[::1]:18004"),
        "fe_def",
        Mode::Tcp,
        &mut out,
    );
    assert_eq!(out, b"Connect from ::1:45598 to ::1:18004 (fe_def/TCP)");
}

#[test]
fn default_format_writes_nothing_at_session_end() {
    let mut out = b"keep".to_vec();
    format_default(&fields(b"GET / HTTP/1.1"), &mut out);
    assert_eq!(out, b"keep");
}

#[test]
fn formatting_appends_without_reallocating_a_warm_buffer() {
    let f = fields(b"GET /foo?x=1 HTTP/1.1");
    let mut out = Vec::with_capacity(512);
    format_httplog(&f, &mut out);
    let cap = out.capacity();
    let ptr = out.as_ptr();
    for _ in 0..100 {
        out.clear();
        format_httplog(&f, &mut out);
    }
    assert_eq!((out.capacity(), out.as_ptr()), (cap, ptr));
}

#[test]
fn custom_log_format_variables_match_the_httplog_fields() {
    let f = fields(b"GET /foo?x=1 HTTP/1.1");
    let var = |name: &str| {
        let mut out = Vec::new();
        let ok = crate::write_var(&f, name, &mut out);
        (ok, String::from_utf8(out).unwrap())
    };
    let mut line = Vec::new();
    crate::format_httplog(&f, &mut line);
    let line = String::from_utf8(line).unwrap();
    // Every variable prints what the same field of the httplog line prints.
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(format!("{}:{}", var("ci").1, var("cp").1), fields[0]);
    assert_eq!(format!("[{}]", var("tr").1), fields[1]);
    assert_eq!(var("ft").1, fields[2]);
    assert_eq!(format!("{}/{}", var("b").1, var("s").1), fields[3]);
    let timers = format!(
        "{}/{}/{}/{}/{}",
        var("TR").1,
        var("Tw").1,
        var("Tc").1,
        var("Tr").1,
        var("Ta").1
    );
    assert_eq!(timers, fields[4]);
    assert_eq!(var("ST").1, fields[5]);
    assert_eq!(var("B").1, fields[6]);
    assert_eq!(var("tsc").1, fields[9]);
    assert_eq!(var("HM"), (true, "GET".to_string()));
    assert_eq!(var("HU"), (true, "/foo?x=1".to_string()));
    assert_eq!(var("HP"), (true, "/foo".to_string()));
    assert_eq!(var("HQ"), (true, "?x=1".to_string()));
    assert_eq!(var("HV"), (true, "HTTP/1.1".to_string()));
    assert_eq!(var("r"), (true, "GET /foo?x=1 HTTP/1.1".to_string()));
    assert!(!var("nosuch").0, "unknown variables print '-'");
}

/// `capture cookie` and header captures as HAProxy 2.6.12 wrote them (httplog and clf,
/// `%CC %CS %hrl %hsl` in custom formats).
#[test]
fn cookie_and_header_captures_match_haproxy() {
    let mut f = fields(b"GET /clf HTTP/1.1");
    f.cookie_request = Some(b"SESSIONID=c");
    f.cookie_response = Some(b"SESSIONID=abc123def");
    f.captured_request = Some(b"127.0.0.1:18081|");
    assert_line(
        &httplog(&f),
        r#"127.0.0.1:42316 [23/Nov/2026:06:27:46.844] fe_http be_http/s1 0/0/0/1/1 200 127 SESSIONID=c SESSIONID=abc123def ---- 1/1/0/0/0 0/0 {127.0.0.1:18081|} "GET /clf HTTP/1.1""#,
    );
    let clf = |f: &LogFields| {
        let mut out = Vec::new();
        format_httplog_clf(f, &mut out);
        String::from_utf8(out).unwrap()
    };
    let line = clf(&f);
    assert!(
        line.ends_with(r#" 0 0 "SESSIONID=c" "SESSIONID=abc123def" "127.0.0.1:18081" "" "#),
        "{line}"
    );
    f.cookie_request = None;
    f.captured_response = Some(b"r1");
    let line = clf(&f);
    assert!(
        line.ends_with(r#" 0 0 "" "SESSIONID=abc123def" "127.0.0.1:18081" "" "r1""#),
        "{line}"
    );
    let var = |f: &LogFields, name: &str| {
        let mut out = Vec::new();
        let ok = crate::write_var(f, name, &mut out);
        (ok, String::from_utf8(out).unwrap())
    };
    assert_eq!(
        var(&f, "CC"),
        (false, String::new()),
        "absent: the caller writes '-'"
    );
    assert_eq!(var(&f, "CS"), (true, "SESSIONID=abc123def".into()));
    assert_eq!(var(&f, "hrl"), (true, "127.0.0.1:18081 -".into()));
    f.captured_response = None;
    assert_eq!(
        var(&f, "hs"),
        (true, String::new()),
        "nothing when none is declared"
    );
}
