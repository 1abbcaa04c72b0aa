//! TLS fetches (manual 7.3.4 `ssl_fc*`, `ssl_c_*`; 7.3.5 `req.ssl_*`), their ACL match
//! methods, the rule contexts they are refused in, and "undecided" conditions while a
//! ClientHello is still arriving.

use std::net::SocketAddr;

use sluice_tls::{ConnInfo, PeerCertInfo};

use crate::{Compiler, Context, Txn};

#[derive(Default)]
struct T {
    tls: Option<ConnInfo>,
    payload: Option<Vec<u8>>,
    /// `Txn::payload_final`; `None` keeps the trait's default.
    final_: Option<bool>,
}

impl Txn for T {
    fn src(&self) -> Option<SocketAddr> {
        "10.0.0.1:40000".parse().ok()
    }
    fn ssl_client(&self) -> Option<&ConnInfo> {
        self.tls.as_ref()
    }
    fn req_payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }
    fn payload_final(&self) -> bool {
        self.final_.unwrap_or(true)
    }
}

fn cert(verify: i64) -> PeerCertInfo {
    PeerCertInfo {
        subject_dn: "/C=FR/O=Example/OU=a/OU=b/CN=client/emailAddress=x@ex.org/path".into(),
        issuer_dn: "/C=FR/O=Example CA/CN=Example Root".into(),
        serial: vec![0x01, 0x02, 0xab],
        sha1: [0x5a; 20],
        not_before: 1_700_000_000,
        not_after: 2_500_000_000,
        verify_result: verify,
    }
}

fn tls(cert: Option<PeerCertInfo>) -> ConnInfo {
    ConnInfo {
        sni: Some("www.example.com".into()),
        protocol: Some("TLSv1.3"),
        cipher: Some("TLS_AES_256_GCM_SHA384"),
        alpn: Some(b"h2".to_vec()),
        resumed: false,
        client_cert: cert,
    }
}

fn ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A TLS 1.2-style ClientHello in one handshake record.
fn hello(sni: Option<&str>, alpn: &[&[u8]], ec: bool, ticket: bool) -> Vec<u8> {
    let mut exts = Vec::new();
    if let Some(n) = sni {
        let mut list = vec![0u8];
        list.extend_from_slice(&(n.len() as u16).to_be_bytes());
        list.extend_from_slice(n.as_bytes());
        let mut d = (list.len() as u16).to_be_bytes().to_vec();
        d.extend(list);
        ext(&mut exts, 0, &d);
    }
    if ec {
        ext(&mut exts, 10, &[0, 4, 0, 0x1d, 0, 0x17]);
    }
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for p in alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p);
        }
        let mut d = (list.len() as u16).to_be_bytes().to_vec();
        d.extend(list);
        ext(&mut exts, 16, &d);
    }
    if ticket {
        ext(&mut exts, 35, &[]);
    }
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 4, 0x13, 0x01, 0xc0, 0x2f]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

fn expr(c: &Compiler, e: &str, t: &T) -> Option<String> {
    let ex = c
        .compile_expr(e, Context::HttpRequest)
        .unwrap_or_else(|err| panic!("{e}: {err}"));
    let mut out = Vec::new();
    ex.eval_into(t, &mut out)
        .then(|| String::from_utf8_lossy(&out).into_owned())
}

fn acl(c: &mut Compiler, def: &str, t: &T) -> bool {
    c.clear_acls();
    c.compile_acl("x", &def.split_whitespace().collect::<Vec<_>>())
        .unwrap_or_else(|e| panic!("{def}: {e}"));
    c.acl("x").unwrap().eval(t)
}

fn check(c: &Compiler, t: &T, cases: &[(&str, Option<&str>)], what: &str) {
    for (e, want) in cases {
        assert_eq!(expr(c, e, t).as_deref(), *want, "{what}: {e}");
    }
}

#[test]
fn ssl_fc_and_client_cert_fetches() {
    let c = Compiler::new();
    let t = T {
        tls: Some(tls(Some(cert(0)))),
        ..T::default()
    };
    let cases: &[(&str, Option<&str>)] = &[
        ("ssl_fc", Some("1")),
        ("ssl_fc_sni", Some("www.example.com")),
        ("ssl_fc_has_sni", Some("1")),
        ("ssl_fc_protocol", Some("TLSv1.3")),
        ("ssl_fc_cipher", Some("TLS_AES_256_GCM_SHA384")),
        ("ssl_fc_alpn", Some("h2")),
        ("ssl_fc_is_resumed", Some("0")),
        ("ssl_fc_has_crt", Some("1")),
        ("ssl_c_used", Some("1")),
        ("ssl_c_verify", Some("0")),
        (
            "ssl_c_s_dn",
            Some("/C=FR/O=Example/OU=a/OU=b/CN=client/emailAddress=x@ex.org/path"),
        ),
        ("ssl_c_i_dn", Some("/C=FR/O=Example CA/CN=Example Root")),
        ("ssl_c_s_dn(CN)", Some("client")),
        ("ssl_c_s_dn(cn)", Some("client")),
        ("ssl_c_s_dn(OU)", Some("a")),
        ("ssl_c_s_dn(OU,2)", Some("b")),
        ("ssl_c_s_dn(OU,-1)", Some("b")),
        ("ssl_c_s_dn(OU,-2)", Some("a")),
        ("ssl_c_s_dn(OU,3)", None),
        ("ssl_c_s_dn(OU,-3)", None),
        ("ssl_c_s_dn(OU,0)", None),
        ("ssl_c_s_dn(L)", None),
        // A '/' not followed by "name=" stays in the value.
        ("ssl_c_s_dn(emailAddress)", Some("x@ex.org/path")),
        ("ssl_c_s_dn(CN,1,rfc2253)", Some("client")),
        ("ssl_c_i_dn(CN)", Some("Example Root")),
        ("ssl_c_i_dn(O)", Some("Example CA")),
        ("ssl_c_serial,hex", Some("0102AB")),
        ("ssl_c_sha1,hex", Some(&"5A".repeat(20))),
        ("ssl_c_sha1,length", Some("20")),
        ("ssl_c_notbefore", Some("231114221320Z")),
        ("ssl_c_notafter", Some("490322042640Z")),
        ("ssl_fc_sni,upper", Some("WWW.EXAMPLE.COM")),
    ];
    check(&c, &t, cases, "tls with cert");

    // Dates outside 2000..2099 have no sample; 2050 is a GeneralizedTime less its century.
    let mut odd = cert(10);
    odd.not_before = 946_684_799;
    odd.not_after = 2_524_608_000;
    let t2 = T {
        tls: Some(ConnInfo {
            resumed: true,
            sni: None,
            alpn: None,
            ..tls(Some(odd))
        }),
        ..T::default()
    };
    let cases: &[(&str, Option<&str>)] = &[
        ("ssl_c_notbefore", None),
        ("ssl_c_notafter", Some("500101000000Z")),
        ("ssl_c_verify", Some("10")),
        ("ssl_fc_is_resumed", Some("1")),
        ("ssl_fc_has_sni", Some("0")),
        ("ssl_fc_sni", None),
        ("ssl_fc_alpn", None),
    ];
    check(&c, &t2, cases, "resumed, odd dates");
    let mut y2100 = cert(0);
    y2100.not_after = 4_102_444_800;
    let t3 = T {
        tls: Some(tls(Some(y2100))),
        ..T::default()
    };
    assert_eq!(expr(&c, "ssl_c_notafter", &t3), None);
}

#[test]
fn tls_without_cert_and_clear_connections() {
    let c = Compiler::new();
    let nocert = T {
        tls: Some(tls(None)),
        ..T::default()
    };
    let cases: &[(&str, Option<&str>)] = &[
        ("ssl_fc", Some("1")),
        ("ssl_fc_has_crt", Some("0")),
        ("ssl_c_used", Some("0")),
        ("ssl_c_verify", Some("0")),
        ("ssl_c_s_dn", None),
        ("ssl_c_s_dn(CN)", None),
        ("ssl_c_i_dn", None),
        ("ssl_c_serial", None),
        ("ssl_c_sha1", None),
        ("ssl_c_notbefore", None),
        ("ssl_c_notafter", None),
    ];
    check(&c, &nocert, cases, "tls without cert");

    let clear = T::default();
    let cases: &[(&str, Option<&str>)] = &[
        ("ssl_fc", Some("0")),
        ("ssl_fc_has_sni", Some("0")),
        ("ssl_fc_is_resumed", Some("0")),
        ("ssl_fc_sni", None),
        ("ssl_fc_protocol", None),
        ("ssl_fc_cipher", None),
        ("ssl_fc_alpn", None),
        ("ssl_fc_has_crt", None),
        ("ssl_c_used", None),
        ("ssl_c_verify", None),
        ("ssl_c_s_dn", None),
        ("ssl_c_serial", None),
    ];
    check(&c, &clear, cases, "clear connection");
}

#[test]
fn tls_acls() {
    let mut c = Compiler::new();
    let t = T {
        tls: Some(tls(Some(cert(0)))),
        ..T::default()
    };
    let clear = T::default();
    let cases: &[(&str, bool, bool)] = &[
        // (acl, on TLS with a cert, on a clear connection)
        ("ssl_fc", true, false),
        ("ssl_fc_sni -i WWW.Example.com", true, false),
        ("ssl_fc_sni WWW.Example.com", false, false),
        ("ssl_fc_sni www.example.com", true, false),
        ("ssl_fc_sni_end .example.com", true, false),
        ("ssl_fc_sni_reg ^www\\.", true, false),
        ("ssl_fc_sni -m end .example.org", false, false),
        ("ssl_fc_has_sni", true, false),
        ("ssl_fc_protocol TLSv1.3", true, false),
        ("ssl_fc_alpn h2", true, false),
        ("ssl_fc_is_resumed", false, false),
        ("ssl_c_used", true, false),
        ("ssl_c_verify 0", true, false),
        ("ssl_c_verify gt 0", false, false),
        ("ssl_c_s_dn(CN) client", true, false),
        ("ssl_c_s_dn(CN) -m beg cli", true, false),
        ("ssl_c_s_dn -m sub /O=Example/", true, false),
        ("ssl_c_serial 0102ab", true, false),
        ("ssl_c_serial 0102", false, false),
        ("ssl_c_sha1 -m found", true, false),
        ("ssl_c_notafter -m beg 49", true, false),
    ];
    for (def, on_tls, on_clear) in cases {
        assert_eq!(acl(&mut c, def, &t), *on_tls, "acl {def} on tls");
        assert_eq!(acl(&mut c, def, &clear), *on_clear, "acl {def} on clear");
    }
    c.clear_acls();
    c.compile_acl("tls", &["ssl_fc"]).unwrap();
    let cond = c
        .compile_cond(&["if", "!tls"], Context::HttpRequest)
        .unwrap();
    assert!(!cond.eval(&t));
    assert!(cond.eval(&clear));
}

#[test]
fn client_hello_fetches() {
    let c = Compiler::new();
    let t = T {
        payload: Some(hello(
            Some("api.example.com"),
            &[b"h2", b"http/1.1"],
            true,
            true,
        )),
        ..T::default()
    };
    let cases: &[(&str, Option<&str>)] = &[
        ("req.ssl_sni", Some("api.example.com")),
        ("req_ssl_sni", Some("api.example.com")),
        ("req.ssl_hello_type", Some("1")),
        ("req_ssl_hello_type", Some("1")),
        ("req.ssl_ver", Some("196611")),
        ("req_ssl_ver", Some("196611")),
        ("req.ssl_alpn", Some("h2")),
        ("req.ssl_ec_ext", Some("1")),
        ("req.ssl_st_ext", Some("1")),
        ("req.ssl_sni,upper", Some("API.EXAMPLE.COM")),
    ];
    check(&c, &t, cases, "full hello");

    let bare = T {
        payload: Some(hello(None, &[], false, false)),
        ..T::default()
    };
    let cases: &[(&str, Option<&str>)] = &[
        ("req.ssl_sni", None),
        ("req.ssl_hello_type", Some("1")),
        ("req.ssl_alpn", None),
        ("req.ssl_ec_ext", None),
        ("req.ssl_st_ext", Some("0")),
    ];
    check(&c, &bare, cases, "bare hello");

    for payload in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"",
        &t.payload.as_ref().unwrap()[..20],
    ] {
        let t = T {
            payload: Some(payload.to_vec()),
            ..T::default()
        };
        for e in [
            "req.ssl_sni",
            "req.ssl_hello_type",
            "req.ssl_ver",
            "req.ssl_alpn",
            "req.ssl_ec_ext",
            "req.ssl_st_ext",
        ] {
            assert_eq!(expr(&c, e, &t), None, "{e} on {payload:?}");
        }
    }
    // Decrypted connections have no ClientHello in their buffer.
    let t = T {
        tls: Some(tls(None)),
        ..T::default()
    };
    assert_eq!(expr(&c, "req.ssl_sni", &t), None);
}

#[test]
fn client_hello_acls() {
    let mut c = Compiler::new();
    let t = T {
        payload: Some(hello(
            Some("api.example.com"),
            &[b"h2", b"http/1.1"],
            true,
            false,
        )),
        ..T::default()
    };
    let cases: &[(&str, bool)] = &[
        ("req.ssl_sni api.example.com", true),
        ("req.ssl_sni API.example.com", false),
        ("req.ssl_sni -i API.example.com", true),
        ("req_ssl_sni api.example.com", true),
        ("req.ssl_sni -m end .example.com", true),
        ("req.ssl_sni -m end .example.org", false),
        ("req.ssl_sni -m dom example.com", true),
        ("req.ssl_sni -m found", true),
        ("req.ssl_hello_type 1", true),
        ("req.ssl_hello_type 2", false),
        ("req_ssl_hello_type 1", true),
        // HAProxy's dotted versions: 3.3 is TLS 1.2 (and 1.3's legacy version).
        ("req.ssl_ver 3.3", true),
        ("req.ssl_ver 3.1", false),
        ("req_ssl_ver 3.3", true),
        ("req.ssl_ver gt 3.1", true),
        ("req.ssl_ver gt 3.3", false),
        ("req.ssl_ver ge 3.3", true),
        ("req.ssl_ver lt 3.3", false),
        ("req.ssl_ver 3.1:3.3", true),
        ("req.ssl_ver 3.1:", true),
        ("req.ssl_ver :3.2", false),
        ("req.ssl_ver 3", false),
        ("req.ssl_ver 3:4", true),
        ("req.ssl_ver -m int 196611", true),
        ("req.ssl_ver,add(0) 196611", true),
        // Every offered protocol is matched, not only the first.
        ("req.ssl_alpn h2", true),
        ("req.ssl_alpn http/1.1", true),
        ("req.ssl_alpn h3", false),
        ("req.ssl_ec_ext", true),
        ("req.ssl_st_ext 0", true),
        ("req.ssl_st_ext 1", false),
    ];
    for (def, want) in cases {
        assert_eq!(acl(&mut c, def, &t), *want, "acl {def}");
    }
}

fn undecided(c: &Compiler, cond: &str, t: &T) -> Option<bool> {
    c.compile_cond(
        &cond.split_whitespace().collect::<Vec<_>>(),
        Context::TcpContent,
    )
    .unwrap_or_else(|e| panic!("{cond}: {e}"))
    .eval_partial(t)
}

#[test]
fn partial_payload_leaves_conditions_undecided() {
    let c = Compiler::new();
    let full = hello(Some("api.example.com"), &[b"h2"], true, false);
    let at = |n: usize, fin: bool| T {
        payload: Some(full[..n].to_vec()),
        final_: Some(fin),
        ..T::default()
    };
    let partial = at(full.len() - 1, false);
    let cases: &[(&str, Option<bool>)] = &[
        ("if { req.ssl_hello_type 1 }", None),
        ("unless { req.ssl_hello_type 1 }", None),
        ("if !{ req.ssl_sni -m found }", None),
        ("if { req.ssl_sni -m end .example.com }", None),
        ("if { req.ssl_ver 3.3 }", None),
        ("if { req.ssl_alpn h2 }", None),
        ("if { req.ssl_ec_ext }", None),
        // An AND-suite stops at its first term that does not pass, as HAProxy's.
        ("if { req.ssl_hello_type 1 } { src 9.9.9.9 }", None),
        ("if { src 9.9.9.9 } { req.ssl_hello_type 1 }", Some(false)),
        ("if { src 10.0.0.1 } { req.ssl_hello_type 1 }", None),
        // A passing suite settles an OR; a failing one does not.
        (
            "if { req.ssl_hello_type 1 } || { src 10.0.0.1 }",
            Some(true),
        ),
        ("if { req.ssl_hello_type 1 } || { src 9.9.9.9 }", None),
        (
            "unless { src 10.0.0.1 } || { req.ssl_hello_type 1 }",
            Some(false),
        ),
        // Fetches that do not read the buffer are never undecided.
        ("if { ssl_fc }", Some(false)),
        ("if { src 10.0.0.1 }", Some(true)),
        ("if WAIT_END", None),
        ("if REQ_CONTENT", Some(true)),
        ("if { req.len gt 1000 }", None),
        ("if { req.payload(0,3) -m bin 160301 }", Some(true)),
        ("if { req.payload(0,3) -m bin 474554 }", Some(false)),
        ("if { req.payload(0,5000) -m found }", None),
    ];
    for (cond, want) in cases {
        assert_eq!(
            undecided(&c, cond, &partial),
            *want,
            "{cond} on a partial hello"
        );
    }

    // Once final, every answer is settled: the partial hello is no hello.
    let last = at(full.len() - 1, true);
    for (cond, want) in [
        ("if { req.ssl_hello_type 1 }", Some(false)),
        ("unless { req.ssl_hello_type 1 }", Some(true)),
        ("if !{ req.ssl_sni -m found }", Some(true)),
        ("if WAIT_END", Some(true)),
        ("if { req.len gt 1000 }", Some(false)),
        ("if { req.payload(0,5000) -m found }", Some(false)),
    ] {
        assert_eq!(undecided(&c, cond, &last), want, "{cond} when final");
    }

    // The whole hello decides, final or not; so does a stream that is not TLS.
    let whole = at(full.len(), false);
    assert_eq!(
        undecided(&c, "if { req.ssl_hello_type 1 }", &whole),
        Some(true)
    );
    assert_eq!(
        undecided(&c, "if { req.ssl_sni api.example.com }", &whole),
        Some(true)
    );
    assert_eq!(
        undecided(&c, "if { req.ssl_sni other }", &whole),
        Some(false)
    );
    let http = T {
        payload: Some(b"GET / HTTP/1.1\r\n".to_vec()),
        final_: Some(false),
        ..T::default()
    };
    assert_eq!(
        undecided(&c, "if { req.ssl_hello_type 1 }", &http),
        Some(false)
    );
    assert_eq!(
        undecided(&c, "if { req.ssl_sni -m found }", &http),
        Some(false)
    );
    let empty = at(0, false);
    assert_eq!(undecided(&c, "if { req.ssl_hello_type 1 }", &empty), None);
    assert_eq!(undecided(&c, "if REQ_CONTENT", &empty), None);

    // `eval` treats undecided as "does not apply", and matches `eval_partial` otherwise.
    let cond = c
        .compile_cond(
            &["if", "{", "req.ssl_hello_type", "1", "}"],
            Context::TcpContent,
        )
        .unwrap();
    assert!(!cond.eval(&partial));
    assert!(cond.eval(&whole));
    let cond = c
        .compile_cond(
            &["unless", "{", "req.ssl_hello_type", "1", "}"],
            Context::TcpContent,
        )
        .unwrap();
    assert!(!cond.eval(&partial));
    assert!(cond.eval(&last));
    // `wait_end` has no sample until the payload is final.
    assert_eq!(expr(&c, "wait_end", &partial), None);
    assert_eq!(expr(&c, "wait_end", &last).as_deref(), Some("1"));
}

#[test]
fn tls_fetch_errors_and_contexts() {
    let mut c = Compiler::new();
    let cond_err = |c: &Compiler, w: &str, ctx: Context| {
        c.compile_cond(&w.split_whitespace().collect::<Vec<_>>(), ctx)
            .unwrap_err()
            .msg
    };
    let cond_ok = |c: &Compiler, w: &str, ctx: Context| {
        c.compile_cond(&w.split_whitespace().collect::<Vec<_>>(), ctx)
            .unwrap_or_else(|e| panic!("{w} in {ctx:?}: {e}"));
    };
    assert_eq!(
        cond_err(&c, "if { ssl_fc_sni -i a.example }", Context::TcpConnection),
        "anonymous acl will never match because it uses keyword 'ssl_fc_sni' which is incompatible with 'frontend tcp-request connection rule'"
    );
    assert_eq!(
        cond_err(&c, "if { ssl_c_used }", Context::TcpConnection),
        "anonymous acl will never match because it uses keyword 'ssl_c_used' which is incompatible with 'frontend tcp-request connection rule'"
    );
    assert_eq!(
        cond_err(&c, "if { req.ssl_sni a }", Context::TcpSession),
        "anonymous acl will never match because it uses keyword 'req.ssl_sni' which is incompatible with 'frontend tcp-request session rule'"
    );
    assert_eq!(
        cond_err(&c, "if { req.ssl_hello_type 1 }", Context::HttpResponse),
        "anonymous acl will never match because it uses keyword 'req.ssl_hello_type' which is incompatible with 'frontend http-response header rule'"
    );
    assert_eq!(
        cond_err(&c, "if { path /a }", Context::TcpSession),
        "anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend tcp-request session rule'"
    );
    c.compile_acl("sni", &["ssl_fc_sni", "a.example"]).unwrap();
    assert_eq!(
        cond_err(&c, "if sni", Context::TcpConnection),
        "acl 'sni' will never match because it only involves keywords that are incompatible with 'frontend tcp-request connection rule'"
    );
    for ctx in [
        Context::TcpSession,
        Context::TcpContent,
        Context::HttpRequest,
        Context::HttpResponse,
        Context::HttpAfterResponse,
    ] {
        cond_ok(&c, "if sni", ctx);
        cond_ok(&c, "if { ssl_c_s_dn(CN) x } { ssl_fc }", ctx);
    }
    cond_ok(&c, "if { req.ssl_sni a }", Context::TcpContent);
    cond_ok(&c, "if { src 10.0.0.0/8 }", Context::TcpSession);

    let ee = |t: &str, ctx| c.compile_expr(t, ctx).unwrap_err();
    assert_eq!(
        ee("ssl_fc_sni", Context::TcpConnection).msg,
        "fetch method 'ssl_fc_sni' extracts information from 'client-side connection', none of which is available here"
    );
    assert_eq!(
        ee("req.ssl_sni", Context::TcpSession).msg,
        "fetch method 'req.ssl_sni' extracts information from 'request buffer contents', none of which is available here"
    );
    assert!(c
        .compile_expr("ssl_c_s_dn(CN)", Context::TcpSession)
        .is_ok());
    assert!(c
        .compile_log_format("%[ssl_fc_sni] %[ssl_c_s_dn(CN)]")
        .is_ok());
    assert_eq!(
        c.compile_log_format("%[req.ssl_sni]").unwrap_err().msg,
        "sample fetch <req.ssl_sni> may not be reliably used here because it needs 'request buffer contents' which is not available here"
    );

    let e = ee("ssl_c_s_dn(,0,rfc2253)", Context::HttpRequest);
    assert_eq!(
        e.msg,
        "fetch method 'ssl_c_s_dn' : the 'rfc2253' format is not supported by Sluice"
    );
    assert!(e.hint.is_some());
    assert_eq!(
        ee("ssl_c_i_dn(,,ldap)", Context::HttpRequest).msg,
        "fetch method 'ssl_c_i_dn' : only rfc2253 or a blank value are currently supported as the format argument."
    );
    assert_eq!(
        ee("ssl_c_s_dn(CN,x)", Context::HttpRequest).msg,
        "fetch method 'ssl_c_s_dn' : failed to parse 'x' as type integer at position 2"
    );
    assert_eq!(
        ee("ssl_c_s_dn(CN,1,,x)", Context::HttpRequest).msg,
        "fetch method 'ssl_c_s_dn' : expected ')' before ',x)'"
    );
    assert_eq!(
        ee("ssl_fc(1)", Context::HttpRequest).msg,
        "fetch method 'ssl_fc' : expected ')' before '1)'"
    );
    assert_eq!(
        ee("req.ssl_sni(x)", Context::TcpContent).msg,
        "fetch method 'req.ssl_sni' : expected ')' before 'x)'"
    );
    assert_eq!(
        c.compile_acl("v", &["req.ssl_ver", "3.x"]).unwrap_err().msg,
        "'3.x' is not a dotted number"
    );
    assert_eq!(
        c.compile_acl("v", &["req.ssl_ver", "gt", "70000.1"])
            .unwrap_err()
            .msg,
        "'70000.1' is not a dotted number"
    );
    assert_eq!(
        c.compile_acl("v", &["ssl_c_s_dn(,,x)", "a"]).unwrap_err().msg,
        "fetch method 'ssl_c_s_dn' : only rfc2253 or a blank value are currently supported as the format argument. in ACL expression 'ssl_c_s_dn(,,x)'"
    );
    // `ssl_fc_sni_*` only has the `end` and `reg` forms.
    assert_eq!(
        c.compile_acl("v", &["ssl_fc_sni_beg", "a"])
            .unwrap_err()
            .msg,
        "unknown fetch method 'ssl_fc_sni_beg' in ACL expression 'ssl_fc_sni_beg'"
    );
}
