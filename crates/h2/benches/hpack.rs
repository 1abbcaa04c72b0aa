//! Nanoseconds per header block, decoded and encoded, measured with a plain `Instant` loop
//! (`cargo bench -p sluice-h2`). The request blocks are what h2load and browsers send: the
//! first of a connection (literals, Huffman, added to the table) and a later one (mostly
//! indexes into the dynamic table). The response is a typical nginx head, encoded as Sluice
//! sends it.

use std::hint::black_box;
use std::time::Instant;

use sluice_h2::hpack::{encode_field, encode_status, Decoder};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn per_iter(iters: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn main() {
    // RFC 7541 C.4.1 (first request, Huffman, incremental indexing), C.4.2 and C.4.3
    // (later requests: indexed fields plus a new literal each).
    let first = hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
    let second = hex("8286 84be 5886 a8eb 1064 9cbf");
    let later = hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
    let indexed = hex("8286 84be");
    let ns = per_iter(1_000_000, || {
        // A fresh decoder each time: the first block of a connection.
        let mut d = Decoder::new(4096);
        let mut n = 0usize;
        let _ = d.decode(black_box(&first), |a, b| n += a.len() + b.len());
        black_box(n);
    });
    println!("decode first request block   {ns:>7.1} ns");
    let mut d = Decoder::new(4096);
    let _ = d.decode(&first, |_, _| {});
    let ns = per_iter(2_000_000, || {
        let mut n = 0usize;
        let _ = d.decode(black_box(&indexed), |a, b| n += a.len() + b.len());
        black_box(n);
    });
    println!("decode indexed request block {ns:>7.1} ns");
    let ns = per_iter(1_000_000, || {
        let mut d = Decoder::new(4096);
        let mut n = 0usize;
        let _ = d.decode(black_box(&first), |_, _| {});
        let _ = d.decode(black_box(&second), |_, _| {});
        if d.decode(black_box(&later), |a, b| n += a.len() + b.len())
            .is_err()
        {
            n = 0;
        }
        black_box(n);
    });
    println!("decode three request blocks  {ns:>7.1} ns");

    let fields: [(&[u8], &[u8]); 7] = [
        (b"Server", b"nginx/1.22.1"),
        (b"Date", b"Sat, 05 Dec 2026 10:20:09 GMT"),
        (b"Content-Type", b"text/html"),
        (b"Content-Length", b"612"),
        (b"Last-Modified", b"Tue, 01 Dec 2026 08:00:00 GMT"),
        (b"ETag", b"\"656d8b00-264\""),
        (b"Accept-Ranges", b"bytes"),
    ];
    let mut out = Vec::with_capacity(512);
    let ns = per_iter(2_000_000, || {
        out.clear();
        encode_status(&mut out, black_box(200));
        for (n, v) in black_box(&fields) {
            encode_field(&mut out, n, v);
        }
        black_box(&out);
    });
    println!(
        "encode nginx response head   {ns:>7.1} ns ({} bytes)",
        out.len()
    );
}
