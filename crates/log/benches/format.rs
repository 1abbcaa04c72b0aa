//! Nanoseconds per access-log line for each format, measured with a plain `Instant` loop
//! (`cargo bench -p sluice-log`). The line buffer is reused across iterations, as the proxy
//! does, so this is the steady-state cost on the request path.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use sluice_log::{format_httplog, format_httplog_clf, format_tcplog, LogFields, Timers};

fn bench(name: &str, f: &LogFields, format: fn(&LogFields, &mut Vec<u8>)) {
    let mut out = Vec::with_capacity(512);
    // Warm the date cache and the buffer.
    for _ in 0..10_000 {
        out.clear();
        format(black_box(f), &mut out);
    }
    let iters: u32 = 2_000_000;
    let start = Instant::now();
    for _ in 0..iters {
        out.clear();
        format(black_box(f), &mut out);
        black_box(&out);
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("{name:<10} {per:>7.1} ns/line ({} bytes)", out.len());
}

fn main() {
    let f = LogFields {
        client: "192.168.10.21:51234"
            .parse()
            .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 1))),
        accept_time: SystemTime::now() - Duration::from_millis(5),
        frontend: "fe_main",
        frontend_tls: false,
        backend: "be_app",
        server: "app-03",
        timers: Timers {
            th: 0,
            ti: 0,
            tr_req: 1,
            tw: 0,
            tc: 1,
            tr_resp: 12,
            ta: 14,
            tt: 14,
        },
        status: 200,
        bytes_read: 18_342,
        bytes_uploaded: 412,
        termination: *b"--VN",
        actconn: 120,
        feconn: 98,
        beconn: 40,
        srv_conn: 12,
        retries: 0,
        redispatched: false,
        srv_queue: 0,
        backend_queue: 0,
        request_line: b"GET /api/v1/items?page=2&sort=desc HTTP/1.1",
        captured_request: None,
        captured_response: None,
        cookie_request: None,
        cookie_response: None,
    };
    bench("httplog", &f, format_httplog);
    bench("clf", &f, format_httplog_clf);
    bench("tcplog", &f, format_tcplog);
}
