//! TLS at the edge and towards servers (`bind ... ssl`, `server ... ssl`), with certificates
//! made by the test (rcgen) and real rustls clients and servers on loopback.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sluice_tls::rustls::{
    self,
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName},
    ClientConfig, ClientConnection, RootCertStore, StreamOwned,
};

use crate::support::{
    check_config, free_port, read_response_from, tempdir, Backend, Behaviour, Response, Sluice,
};
use crate::{defaults, servers};

// ---- a small PKI

pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

pub struct Leaf {
    cert: String,
    key: String,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "FR");
    d.push(DnType::OrganizationName, "Sluice Test");
    d.push(DnType::CommonName, cn);
    d
}

impl Ca {
    pub fn new(cn: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name = dn(cn);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(p, key),
        }
    }

    pub fn leaf(&self, cn: &str, sans: &[&str]) -> Leaf {
        self.leaf_with(cn, sans, |_| {})
    }

    fn leaf_with(
        &self,
        cn: &str,
        sans: &[&str],
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut p =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name = dn(cn);
        tweak(&mut p);
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

impl Leaf {
    /// Certificate, chain and key in one PEM, as HAProxy's `crt` loads them.
    pub fn bundle(&self, ca: &Ca) -> String {
        format!("{}{}{}", self.cert, ca.pem, self.key)
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A test CA, a temporary folder, and in it `a.pem`: a certificate for `a.example.com`
/// with its chain and key.
fn site() -> (Ca, PathBuf, PathBuf) {
    let ca = Ca::new("Test CA");
    let dir = tempdir();
    let crt = write(
        &dir,
        "a.pem",
        &ca.leaf("a.example.com", &["a.example.com"]).bundle(&ca),
    );
    (ca, dir, crt)
}

// ---- a TLS client

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(sluice_tls::default_provider())
}

pub fn roots(ca: &Ca) -> RootCertStore {
    let mut r = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca.pem.as_bytes()) {
        r.add(c.unwrap()).unwrap();
    }
    r
}

struct TlsOpts<'a> {
    sni: &'a str,
    /// The CA to verify the server with; `None` accepts any certificate (to look at one
    /// served for a name it does not carry).
    ca: Option<&'a Ca>,
    alpn: &'a [&'a [u8]],
    client_cert: Option<(&'a Leaf, &'a Ca)>,
}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn tls_connect(port: u16, o: &TlsOpts<'_>) -> std::io::Result<BufReader<TlsStream>> {
    let b = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let b = match o.ca {
        Some(ca) => b.with_root_certificates(roots(ca)),
        None => b.dangerous().with_custom_certificate_verifier(Arc::new(
            sluice_tls::AcceptAnyServerCert::new(provider()),
        )),
    };
    let mut cfg = match o.client_cert {
        None => b.with_no_client_auth(),
        Some((leaf, ca)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(format!("{}{}", leaf.cert, ca.pem).as_bytes())
                    .map(|c| c.unwrap())
                    .collect();
            let key = PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap();
            b.with_client_auth_cert(chain, key).unwrap()
        }
    };
    cfg.alpn_protocols = o.alpn.iter().map(|p| p.to_vec()).collect();
    let name = ServerName::try_from(o.sni.to_string()).unwrap();
    let mut conn = ClientConnection::new(Arc::new(cfg), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)?;
    }
    Ok(BufReader::new(StreamOwned::new(conn, sock)))
}

fn tls_get(s: &mut BufReader<TlsStream>, path: &str) -> std::io::Result<Response> {
    s.get_mut()
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").as_bytes())?;
    read_response_from(s, false)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response"))
}

/// CN of the certificate the server presented.
fn served_cn(s: &BufReader<TlsStream>) -> String {
    let der = &s.get_ref().conn.peer_certificates().unwrap()[0];
    sluice_tls::parse_cert(der).unwrap().common_names[0].clone()
}

// ---- a TLS backend

/// An HTTPS backend answering `200` with `x-server: NAME` and `x-sni: SNI-IT-SAW`.
struct TlsBackend {
    port: u16,
}

fn tls_backend(name: &str, leaf: &Leaf, ca: &Ca) -> TlsBackend {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(format!("{}{}", leaf.cert, ca.pem).as_bytes())
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap();
    let cfg = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let name = name.to_string();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let (cfg, name) = (cfg.clone(), name.clone());
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                    return;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut r = BufReader::new(StreamOwned::new(conn, s));
                while let Some(head) = crate::support::read_head(&mut r) {
                    let sni = r.get_ref().conn.server_name().unwrap_or("-").to_string();
                    let body = format!("tls hello from {name}\n");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nx-server: {name}\r\nx-sni: {sni}\r\nx-path: {}\r\ncontent-length: {}\r\n\r\n{body}",
                        head.split_whitespace().nth(1).unwrap_or(""),
                        body.len()
                    );
                    if r.get_mut().write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                    let _ = r.get_mut().flush();
                }
            });
        }
    });
    TlsBackend { port }
}

// ---- tests

/// Three certificates on one bind: the SNI picks the exact one, the wildcard one, or the
/// first (default) for a name none covers; the request is served over TLS and rules see
/// `ssl_fc_sni`.
#[test]
fn sni_selects_exact_wildcard_and_default_certificates() {
    let ca = Ca::new("Test CA");
    let dir = tempdir();
    let def = write(
        &dir,
        "default.pem",
        &ca.leaf("default.test", &["default.test"]).bundle(&ca),
    );
    let a = write(
        &dir,
        "a.pem",
        &ca.leaf("a.example.com", &["a.example.com"]).bundle(&ca),
    );
    let w = write(
        &dir,
        "wild.pem",
        &ca.leaf("wild", &["*.wild.example.com"]).bundle(&ca),
    );
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} ssl crt {} crt {} crt {}\n    http-request set-header x-sni %[ssl_fc_sni]\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        def.display(),
        a.display(),
        w.display(),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    for (sni, want) in [
        ("a.example.com", "a.example.com"),
        ("x.wild.example.com", "wild"),
        ("other.test", "default.test"),
    ] {
        // The default certificate does not carry the name asked for: look at what is
        // served without checking names there.
        let verify = sni != "other.test";
        let o = TlsOpts {
            sni,
            ca: verify.then_some(&ca),
            alpn: &[],
            client_cert: None,
        };
        let mut c = tls_connect(port, &o).unwrap_or_else(|e| panic!("handshake for {sni}: {e}"));
        assert_eq!(served_cn(&c), want, "certificate served for SNI {sni}");
        let r = tls_get(&mut c, "/x").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello from app\n");
        assert!(
            be.last_head
                .lock()
                .unwrap()
                .contains(&format!("x-sni: {sni}")),
            "backend saw: {}",
            be.last_head.lock().unwrap()
        );
        // keep-alive over TLS
        let r = tls_get(&mut c, "/y").unwrap();
        assert_eq!(r.status, 200);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn opts<'a>(sni: &'a str, ca: &'a Ca) -> TlsOpts<'a> {
    TlsOpts {
        sni,
        ca: Some(ca),
        alpn: &[],
        client_cert: None,
    }
}

/// `strict-sni`: no default certificate, so an unknown name gets no handshake.
#[test]
fn strict_sni_refuses_names_without_a_certificate() {
    let (ca, dir, a) = site();
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} ssl crt {} strict-sni\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        a.display(),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    let mut ok = tls_connect(port, &opts("a.example.com", &ca)).unwrap();
    assert_eq!(tls_get(&mut ok, "/").unwrap().status, 200);
    let o = TlsOpts {
        ca: None,
        ..opts("b.example.com", &ca)
    };
    assert!(
        tls_connect(port, &o).is_err(),
        "strict-sni served a name it has no certificate for"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `alpn h2,http/1.1`: a client offering both gets `h2`, one offering only HTTP/1.1 gets
/// that, and a client whose list shares nothing with ours still connects without ALPN.
#[test]
fn alpn_picks_h2_or_http11() {
    let (ca, dir, a) = site();
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n    http-request set-header x-alpn %[ssl_fc_alpn]\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        a.display(),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    let offer = |alpn: &'static [&'static [u8]]| TlsOpts {
        alpn,
        ..opts("a.example.com", &ca)
    };
    let c = tls_connect(port, &offer(&[b"h2", b"http/1.1"])).unwrap();
    assert_eq!(c.get_ref().conn.alpn_protocol(), Some(&b"h2"[..]));
    let mut c = tls_connect(port, &offer(&[b"http/1.1"])).unwrap();
    assert_eq!(c.get_ref().conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(tls_get(&mut c, "/").unwrap().status, 200);
    assert!(be.last_head.lock().unwrap().contains("x-alpn: http/1.1"));
    let mut c = tls_connect(port, &offer(&[b"spdy/3"])).unwrap();
    assert_eq!(c.get_ref().conn.alpn_protocol(), None);
    assert_eq!(tls_get(&mut c, "/").unwrap().status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// mTLS with each `verify` mode: `required` refuses a client without a certificate and one
/// signed by another CA; `optional` lets one without through; rules see `ssl_c_*`.
#[test]
fn client_certificates_follow_the_verify_mode() {
    let ca = Ca::new("Server CA");
    let client_ca = Ca::new("Client CA");
    let rogue_ca = Ca::new("Rogue CA");
    let good = client_ca.leaf("client1", &["client1"]);
    let rogue = rogue_ca.leaf("client1", &["client1"]);
    let dir = tempdir();
    let crt = write(
        &dir,
        "srv.pem",
        &ca.leaf("a.example.com", &["a.example.com"]).bundle(&ca),
    );
    let cafile = write(&dir, "clients.pem", &client_ca.pem);
    let be = Backend::start("app", Behaviour::Hello);
    let (p_req, p_opt) = (free_port(), free_port());
    let cfg = format!(
        "{}frontend req\n    bind 127.0.0.1:{p_req} ssl crt {crt} ca-file {ca} verify required\n    http-request set-header x-dn %[ssl_c_s_dn]\n    default_backend be\n\
         frontend opt\n    bind 127.0.0.1:{p_opt} ssl crt {crt} ca-file {ca} verify optional\n    http-request set-header x-used %[ssl_c_used]\n    default_backend be\n\
         backend be\n{}",
        defaults("http"),
        servers(&[&be], ""),
        crt = crt.display(),
        ca = cafile.display(),
    );
    let _s = Sluice::start_with(&cfg, &[p_req, p_opt], &[]);
    // required + good certificate
    let mut c = tls_connect(
        p_req,
        &TlsOpts {
            client_cert: Some((&good, &client_ca)),
            ..opts("a.example.com", &ca)
        },
    )
    .unwrap();
    let r = tls_get(&mut c, "/").unwrap();
    assert_eq!(r.status, 200);
    let head = be.last_head.lock().unwrap().clone();
    assert!(
        head.contains("x-dn: /C=FR/O=Sluice Test/CN=client1"),
        "{head}"
    );
    // required + no certificate / a rogue one: no request gets through
    for cert in [None, Some((&rogue, &rogue_ca))] {
        let before = be.requests.load(std::sync::atomic::Ordering::SeqCst);
        let o = TlsOpts {
            client_cert: cert,
            ..opts("a.example.com", &ca)
        };
        let served = tls_connect(p_req, &o).and_then(|mut c| tls_get(&mut c, "/"));
        assert!(
            served.is_err(),
            "a request got through verify required: {served:?}"
        );
        assert_eq!(
            be.requests.load(std::sync::atomic::Ordering::SeqCst),
            before
        );
    }
    // optional: without a certificate, then with one
    let mut c = tls_connect(p_opt, &opts("a.example.com", &ca)).unwrap();
    assert_eq!(tls_get(&mut c, "/").unwrap().status, 200);
    assert!(be.last_head.lock().unwrap().contains("x-used: 0"));
    let mut c = tls_connect(
        p_opt,
        &TlsOpts {
            client_cert: Some((&good, &client_ca)),
            ..opts("a.example.com", &ca)
        },
    )
    .unwrap();
    assert_eq!(tls_get(&mut c, "/").unwrap().status, 200);
    assert!(be.last_head.lock().unwrap().contains("x-used: 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `server ... ssl verify required ca-file F sni EXPR`: the server's certificate is checked
/// against the CA and the SNI sent; a server whose certificate the CA did not sign gets no
/// request (503). `verify none` accepts it.
#[test]
fn backend_tls_verifies_the_server_certificate() {
    let ca = Ca::new("Backend CA");
    let other = Ca::new("Other CA");
    let tb = tls_backend("tb", &ca.leaf("backend.test", &["backend.test"]), &ca);
    let dir = tempdir();
    let cafile = write(&dir, "ca.pem", &ca.pem);
    let otherfile = write(&dir, "other.pem", &other.pem);
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "{d}frontend good\n    bind 127.0.0.1:{p1}\n    default_backend good\n\
         frontend bad\n    bind 127.0.0.1:{p2}\n    default_backend bad\n\
         frontend none\n    bind 127.0.0.1:{p3}\n    default_backend none\n\
         backend good\n    server tb 127.0.0.1:{port} ssl verify required ca-file {ca} sni str(backend.test)\n\
         backend bad\n    retries 0\n    server tb 127.0.0.1:{port} ssl verify required ca-file {other} sni str(backend.test)\n\
         backend none\n    server tb 127.0.0.1:{port} ssl verify none\n",
        d = defaults("http"),
        port = tb.port,
        ca = cafile.display(),
        other = otherfile.display(),
    );
    let _s = Sluice::start_with(&cfg, &[p1, p2, p3], &[]);
    let mut c = crate::support::Client::connect(p1);
    let r = c.get("/over-tls");
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.text(), "tls hello from tb\n");
    assert_eq!(r.header("x-sni"), Some("backend.test"));
    assert_eq!(r.header("x-path"), Some("/over-tls"));
    // the server connection is kept alive and reused
    assert_eq!(c.get("/again").status, 200);
    assert_eq!(crate::support::get(p2, "/").status, 503);
    let r = crate::support::get(p3, "/");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-sni"),
        Some("-"),
        "no sni expression: no SNI sent"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `redirect scheme https unless { ssl_fc }` on a frontend with a clear and a TLS bind.
#[test]
fn redirect_to_https_unless_ssl_fc() {
    let (ca, dir, crt) = site();
    let be = Backend::start("app", Behaviour::Hello);
    let (clear, secure) = (free_port(), free_port());
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{clear}\n    bind 127.0.0.1:{secure} ssl crt {}\n    http-request redirect scheme https unless {{ ssl_fc }}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        crt.display(),
        servers(&[&be], "")
    );
    let _s = Sluice::start_with(&cfg, &[clear, secure], &[]);
    let r = crate::support::get(clear, "/login?x=1");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("https://test/login?x=1"));
    let mut c = tls_connect(secure, &opts("a.example.com", &ca)).unwrap();
    let r = tls_get(&mut c, "/login").unwrap();
    assert_eq!(r.status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A WebSocket upgrade through a TLS frontend: the 101 comes back and the tunnel relays
/// bytes both ways over TLS.
#[test]
fn websocket_over_tls() {
    let (ca, dir, crt) = site();
    let be = Backend::start("ws", Behaviour::WebSocketEcho);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} ssl crt {}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        crt.display(),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = tls_connect(port, &opts("a.example.com", &ca)).unwrap();
    c.get_mut()
        .write_all(b"GET /chat HTTP/1.1\r\nhost: test\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n")
        .unwrap();
    let head = crate::support::read_head(&mut c).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    for msg in [&b"ping over tls"[..], b"second frame"] {
        c.get_mut().write_all(msg).unwrap();
        let mut got = vec![0u8; msg.len()];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mode tcp` with `bind ... ssl`: TLS is terminated and the clear bytes relayed.
#[test]
fn tcp_mode_terminates_tls() {
    let (ca, dir, crt) = site();
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    log stdout format raw local0\n{}    log global\n    log-format \"%ci %sslv %sslc %[ssl_fc_sni] %B\"\nfrontend fe\n    bind 127.0.0.1:{port} ssl crt {}\n    default_backend be\nbackend be\n{}",
        defaults("tcp"),
        crt.display(),
        servers(&[&be], "")
    );
    let s = Sluice::start(&cfg, port);
    let mut c = tls_connect(port, &opts("a.example.com", &ca)).unwrap();
    let r = tls_get(&mut c, "/").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello from app\n");
    drop(c);
    // the log line, once the connection ends, names the protocol, cipher and SNI
    let out = s.wait_output(" a.example.com ");
    assert!(out.contains("127.0.0.1 TLSv1.3 TLS_"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client that speaks clear HTTP to a TLS port gets no answer and leaves HAProxy's
/// "SSL handshake failure" line in the log; other connections are unaffected.
#[test]
fn handshake_failures_are_logged_and_harmless() {
    let (ca, dir, crt) = site();
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    log stdout format raw local0\n{}    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:{port} ssl crt {}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        crt.display(),
        servers(&[&be], "")
    );
    let s = Sluice::start(&cfg, port);
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    assert!(
        !rest.starts_with(b"HTTP/"),
        "clear HTTP was answered on a TLS port"
    );
    let line = s.wait_output("fe/1: SSL handshake failure");
    assert!(line.contains("127.0.0.1:"), "{line}");
    let mut c = tls_connect(port, &opts("a.example.com", &ca)).unwrap();
    assert_eq!(tls_get(&mut c, "/").unwrap().status, 200);
    // HAProxy marks a TLS listener's frontend with `~` in httplog (`%ft`).
    let out = s.wait_output("\"GET / HTTP/1.1\"");
    assert!(out.contains(" fe~ be/app "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An expired certificate loads (HAProxy 2.6 serves it too) with a warning naming the file.
#[test]
fn an_expired_certificate_is_warned_about() {
    let ca = Ca::new("Test CA");
    let dir = tempdir();
    let old = ca.leaf_with("old.example.com", &["old.example.com"], |p| {
        p.not_before = rcgen::date_time_ymd(2019, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    });
    let crt = write(&dir, "old.pem", &old.bundle(&ca));
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:1 ssl crt {}\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n",
        defaults("http"),
        crt.display()
    );
    let f = write(&dir, "old.cfg", &cfg);
    let (code, out) = check_config(&dir, &f);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("old.cfg:7]") && out.contains("old.pem' has expired"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Certificate problems are configuration errors with file:line, found by `-c`.
#[test]
fn bad_certificates_are_refused_at_load() {
    let ca = Ca::new("Test CA");
    let dir = tempdir();
    let a = ca.leaf("a.example.com", &["a.example.com"]);
    let b = ca.leaf("b.example.com", &["b.example.com"]);
    // b's key with a's certificate
    let mismatch = write(&dir, "mismatch.pem", &format!("{}{}", a.cert, b.key));
    let cases = [
        (dir.join("missing.pem"), "missing.pem"),
        (
            mismatch,
            "inconsistencies between private key and certificate",
        ),
    ];
    for (path, want) in cases {
        let cfg = format!(
            "{}frontend fe\n    bind 127.0.0.1:1 ssl crt {}\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n",
            defaults("http"),
            path.display()
        );
        let f = write(&dir, "bad.cfg", &cfg);
        let (code, out) = check_config(&dir, &f);
        assert_ne!(code, 0, "{out}");
        assert!(out.contains("bad.cfg:7]"), "{out}");
        assert!(out.contains(want), "{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// SNI routing without terminating TLS (`mode tcp`): `tcp-request inspect-delay` waits for
/// the ClientHello, `req.ssl_sni` picks the backend, and the client's TLS session runs end to
/// end with the chosen server. A connection that is not TLS is rejected by the content rule.
#[test]
fn tcp_mode_routes_on_the_client_hello_sni() {
    let ca = Ca::new("Test CA");
    let a = tls_backend("tb-a", &ca.leaf("a.example.com", &["a.example.com"]), &ca);
    let b = tls_backend("tb-b", &ca.leaf("b.example.com", &["b.example.com"]), &ca);
    let port = free_port();
    let cfg = format!(
        "global\n    log stdout format raw local0\n{}    log global\n    option tcplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    tcp-request inspect-delay 5s\n    tcp-request content reject unless {{ req.ssl_hello_type 1 }}\n    use_backend a if {{ req.ssl_sni -i a.example.com }}\n    default_backend b\nbackend a\n    server tb-a 127.0.0.1:{}\nbackend b\n    server tb-b 127.0.0.1:{}\n",
        defaults("tcp"),
        a.port,
        b.port
    );
    let s = Sluice::start(&cfg, port);
    for (sni, server) in [("a.example.com", "tb-a"), ("b.example.com", "tb-b")] {
        let mut c = tls_connect(port, &opts(sni, &ca)).unwrap();
        assert_eq!(served_cn(&c), sni);
        let r = tls_get(&mut c, "/").unwrap();
        assert_eq!(r.header("x-server"), Some(server));
        assert_eq!(
            r.header("x-sni"),
            Some(sni),
            "the server saw the client's own ClientHello"
        );
    }
    // clear text is refused by the content rule, and logged as a proxy-side request abort
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    assert!(rest.is_empty(), "a non-TLS client got bytes back");
    let out = s.wait_output(" PR ");
    assert!(out.contains("fe fe/<NOSRV>"), "{out}");
}

/// Health checks over TLS (`ssl` on the server, checks to its own port): a TLS server passes
/// and keeps the traffic; a clear one fails the handshake and goes down as "Layer6 invalid
/// response".
#[test]
fn health_checks_run_over_tls() {
    let ca = Ca::new("Test CA");
    let tb = tls_backend("tb-ok", &ca.leaf("ok.test", &["ok.test"]), &ca);
    let plain = Backend::start("plain", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    option httpchk GET /health\n    server ok 127.0.0.1:{} ssl verify none check inter 100ms rise 1 fall 1\n    server plain {} ssl verify none check inter 100ms rise 1 fall 1\n",
        defaults("http"),
        tb.port,
        plain.addr
    );
    let s = Sluice::start(&cfg, port);
    let out = s.wait_output("Server be/plain is DOWN");
    assert!(out.contains("reason: Layer6 invalid response"), "{out}");
    assert!(out.contains("1 active and 0 backup servers left"), "{out}");
    for _ in 0..4 {
        let r = crate::support::get(port, "/");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-server"), Some("tb-ok"));
    }
    let all = format!("{}{}", s.stdout(), s.stderr());
    assert!(!all.contains("be/ok is DOWN"), "{all}");
}
