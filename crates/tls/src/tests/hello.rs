//! The ClientHello sniffer (manual 7.3.5 `req.ssl_sni`, `req.ssl_hello_type`).

use crate::{client_config, fuzz_client_hello, parse_client_hello, HelloParse, ServerTls, Verify};

use super::client_conn;

fn real_hello(sni: &str, alpn: &[&[u8]]) -> Vec<u8> {
    let cfg = client_config(&ServerTls {
        verify: Verify::None,
        alpn: alpn.iter().map(|a| a.to_vec()).collect(),
        ..ServerTls::default()
    })
    .unwrap();
    let mut c = client_conn(cfg, sni);
    let mut buf = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut buf).unwrap();
    }
    buf
}

#[test]
fn parses_sni_and_alpn_of_a_real_client_hello() {
    let buf = real_hello("www.example.org", &[b"h2", b"http/1.1"]);
    let HelloParse::Hello(h) = parse_client_hello(&buf) else {
        panic!("not parsed")
    };
    assert_eq!(h.hello_type, 1);
    assert_eq!(h.sni.as_deref(), Some("www.example.org"));
    assert_eq!(h.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(h.hello_version, 0x0303);
    assert!(h.has_ec_ext);
    // Trailing bytes after the hello do not matter.
    let mut more = buf.clone();
    more.extend_from_slice(b"\x17\x03\x03garbage");
    assert_eq!(parse_client_hello(&more), HelloParse::Hello(h));
}

#[test]
fn every_truncation_is_incomplete() {
    let buf = real_hello("a.example", &[]);
    for n in 0..buf.len() {
        assert_eq!(
            parse_client_hello(&buf[..n]),
            HelloParse::Incomplete,
            "prefix {n}"
        );
    }
}

#[test]
fn a_hello_split_over_two_records_is_reassembled() {
    let buf = real_hello("split.example", &[b"h2"]);
    let body = &buf[5..];
    let (a, b) = body.split_at(40);
    let mut two = Vec::new();
    for part in [a, b] {
        two.extend_from_slice(&[0x16, 0x03, 0x01]);
        two.extend_from_slice(&(part.len() as u16).to_be_bytes());
        two.extend_from_slice(part);
    }
    let HelloParse::Hello(h) = parse_client_hello(&two) else {
        panic!("not parsed")
    };
    assert_eq!(h.sni.as_deref(), Some("split.example"));
    assert_eq!(
        parse_client_hello(&two[..two.len() - 1]),
        HelloParse::Incomplete
    );
}

#[test]
fn non_tls_and_garbage_are_refused_without_panic() {
    assert_eq!(
        parse_client_hello(b"GET / HTTP/1.1\r\n"),
        HelloParse::NotTls
    );
    assert_eq!(parse_client_hello(b"\x16\x02\x00"), HelloParse::NotTls);
    assert_eq!(
        parse_client_hello(b"\x16\x03\x01\x00\x00"),
        HelloParse::NotTls
    );
    // A ServerHello reports its type (req.ssl_hello_type = 2).
    let HelloParse::Hello(h) = parse_client_hello(b"\x16\x03\x03\x00\x04\x02\x00\x00\x00") else {
        panic!()
    };
    assert_eq!((h.hello_type, h.sni), (2, None));
    // Corrupt lengths inside a real hello.
    let buf = real_hello("x.example", &[b"h2"]);
    for i in 5..buf.len() {
        for v in [0x00, 0xff] {
            let mut m = buf.clone();
            m[i] = v;
            fuzz_client_hello(&m);
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..2000 {
        let mut g: Vec<u8> = (0..len % 300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        if len % 2 == 0 && g.len() > 3 {
            g[0] = 0x16;
            g[1] = 0x03;
        }
        fuzz_client_hello(&g);
    }
}
