//! Times `parse_request` on a typical ~400-byte browser request (std `Instant` loop, no
//! framework). Run with `cargo bench -p sluice-http`.

use std::hint::black_box;
use std::time::Instant;

use sluice_http::{
    parse_request, parse_response, write_request_head, ConnHeader, Limits, Method, RequestHead,
    ResponseHead,
};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.22.1\r\n\
Date: Mon, 23 Nov 2026 15:56:10 GMT\r\n\
Content-Type: text/plain\r\n\
Content-Length: 13\r\n\
Connection: keep-alive\r\n\
\r\n";

const REQUEST: &[u8] =
    b"GET /articles/2024/05/some-article-title?ref=home&utm_source=x HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Cookie: session=0123456789abcdef; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
\r\n";

/// An HTTP/2 request as the HTTP/2 side hands it over: absolute form, `host` first.
const H2_REQUEST: &[u8] = b"GET http://127.0.0.1:18080/ HTTP/2.0\r\n\
host: 127.0.0.1:18080\r\n\
accept-encoding: gzip, deflate\r\n\
user-agent: h2load nghttp2/1.52.0\r\n\
\r\n";

fn time(name: &str, len: usize, iters: u32, mut f: impl FnMut()) {
    // Warm up caches and the branch predictor first.
    for _ in 0..iters / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let el = start.elapsed();
    let ns = el.as_nanos() as f64 / f64::from(iters);
    let mbs = len as f64 / ns * 1e3;
    println!("{name:<28} {ns:>8.1} ns/iter  {mbs:>8.1} MB/s  ({len} bytes)");
}

fn main() {
    let limits = Limits::default();
    let mut head = RequestHead::new();
    time("parse_request", REQUEST.len(), 1_000_000, || {
        let r = parse_request(black_box(REQUEST), &limits, &mut head);
        black_box(r.ok());
    });
    time(
        "parse_request (h2 form)",
        H2_REQUEST.len(),
        1_000_000,
        || {
            let r = parse_request(black_box(H2_REQUEST), &limits, &mut head);
            black_box(r.ok());
        },
    );
    let mut out = Vec::with_capacity(1024);
    parse_request(REQUEST, &limits, &mut head).ok();
    time("write_request_head", REQUEST.len(), 1_000_000, || {
        out.clear();
        write_request_head(REQUEST, &head, ConnHeader::Omit, &[], &mut out);
        black_box(out.len());
    });
    let mut resp = ResponseHead::new();
    time("parse_response", RESPONSE.len(), 1_000_000, || {
        let r = parse_response(black_box(RESPONSE), &limits, Method::Get, &mut resp);
        black_box(r.ok());
    });
}
