//! HTTP/2 clients (ALPN `h2` over TLS, and `proto h2` in clear) in front of HTTP/1 backends:
//! requests and responses translated both ways, streams multiplexed, rules and logs as for
//! HTTP/1, trailers kept.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sluice_tls::rustls::{pki_types::ServerName, ClientConfig};

use crate::support::{free_port, tempdir, Backend, Behaviour, Sluice};
use crate::tls::{provider, roots, write, Ca};
use crate::{defaults, servers};

/// A response as an HTTP/2 client sees it.
#[derive(Debug)]
struct H2Response {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
    trailers: Option<http::HeaderMap>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

type Sender = h2::client::SendRequest<Bytes>;

/// Opens an HTTP/2 connection: over TLS with ALPN `h2` when `ca` is given, else in clear
/// (prior knowledge). The connection is driven by a spawned task.
async fn connect(port: u16, tls: Option<(&Ca, &str)>) -> Sender {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let send = match tls {
        Some((ca, sni)) => {
            let mut cfg = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots(ca))
                .with_no_client_auth();
            cfg.alpn_protocols = vec![b"h2".to_vec()];
            let name = ServerName::try_from(sni.to_string()).unwrap();
            let io = sluice_proxy::transport::connect(tcp, Arc::new(cfg), name, None)
                .await
                .unwrap();
            assert_eq!(io.alpn(), Some(&b"h2"[..]), "ALPN did not pick h2");
            let (send, conn) = h2::client::handshake(io).await.unwrap();
            tokio::spawn(async move {
                let _ = conn.await;
            });
            send
        }
        None => {
            let (send, conn) = h2::client::handshake(tcp).await.unwrap();
            tokio::spawn(async move {
                let _ = conn.await;
            });
            send
        }
    };
    send.ready().await.unwrap()
}

async fn request(
    send: &mut Sender,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> H2Response {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("https://test.example{path}"));
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let req = b.body(()).unwrap();
    let (resp, mut stream) = send.send_request(req, body.is_none()).unwrap();
    if let Some(body) = body {
        stream
            .send_data(Bytes::copy_from_slice(body), true)
            .unwrap();
    }
    let resp = tokio::time::timeout(Duration::from_secs(10), resp)
        .await
        .expect("response in time")
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut recv = resp.into_body();
    let mut out = Vec::new();
    while let Some(d) = recv.data().await {
        let d = d.unwrap();
        let _ = recv.flow_control().release_capacity(d.len());
        out.extend_from_slice(&d);
    }
    let trailers = recv.trailers().await.unwrap();
    H2Response {
        status,
        headers,
        body: out,
        trailers,
    }
}

/// Over TLS with ALPN h2: concurrent streams on one connection reach the HTTP/1 backends
/// (balanced, with `host` from `:authority`), a body of unknown length goes up chunked,
/// rules deny per stream, and every stream is logged.
#[test]
fn h2_over_tls_reaches_http1_backends() {
    let ca = Ca::new("Test CA");
    let dir = tempdir();
    let crt = write(
        &dir,
        "a.pem",
        &ca.leaf("a.example.com", &["a.example.com"]).bundle(&ca),
    );
    let b1 = Backend::start("s1", Behaviour::Hello);
    let b2 = Backend::start("s2", Behaviour::Hello);
    let echo = Backend::start("echo", Behaviour::EchoBody);
    let port = free_port();
    let cfg = format!(
        "global\n    log stdout format raw local0\n{}    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n    http-request deny if {{ path /blocked }}\n    http-request set-header x-ver %[req.ver]\n    use_backend echo if {{ path_beg /echo }}\n    default_backend be\nbackend be\n{}backend echo\n{}",
        defaults("http"),
        crt.display(),
        servers(&[&b1, &b2], ""),
        servers(&[&echo], "")
    );
    let s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let mut send = connect(port, Some((&ca, "a.example.com"))).await;
        // several streams at once on the one connection
        let mut tasks = Vec::new();
        for i in 0..6 {
            let mut send = send.clone();
            tasks.push(tokio::spawn(async move {
                request(
                    &mut send,
                    "GET",
                    &format!("/item/{i}"),
                    &[("cookie", "a=1"), ("cookie", "b=2")],
                    None,
                )
                .await
            }));
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.status, 200);
            let server = r.headers["x-server"].to_str().unwrap().to_string();
            assert_eq!(r.body, format!("hello from {server}\n").as_bytes());
            assert!(r.headers.get("connection").is_none());
            seen.insert(server);
        }
        assert_eq!(seen.len(), 2, "both servers took streams: {seen:?}");
        let head = b1.last_head.lock().unwrap().to_ascii_lowercase();
        assert!(
            head.starts_with("get /item/") && head.contains(" http/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains("host: test.example"), "{head}");
        assert!(
            head.contains("x-ver: 2.0"),
            "req.ver of an HTTP/2 request: {head}"
        );
        assert!(head.contains("cookie: a=1; b=2"), "{head}");
        let r = request(&mut send, "GET", "/blocked", &[], None).await;
        assert_eq!(r.status, 403);
        let body = vec![b'z'; 100_000];
        let r = request(&mut send, "POST", "/echo", &[], Some(&body)).await;
        assert_eq!(r.status, 200);
        let sum = 100_000u64 * u64::from(b'z');
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            format!("len=100000 sum={sum}\n")
        );
    });
    // Logged in absolute form with HTTP/2.0, as HAProxy logs an HTTP/2 request.
    let out = s.wait_output("\"POST https://test.example/echo HTTP/2.0\"");
    assert!(out.contains(" 403 "), "{out}");
    assert_eq!(out.matches("fe~ be/s").count(), 6, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `proto h2` on a clear bind (prior knowledge), and a chunked HTTP/1 response whose
/// trailers come back as HTTP/2 trailers (what gRPC status needs).
#[test]
fn h2c_prior_knowledge_and_trailers() {
    let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\ngrpc-status: 0\r\ngrpc-message: fine\r\n\r\n".to_vec();
    let be = Backend::start("grpc", Behaviour::Raw(raw));
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let mut send = connect(port, None).await;
        let r = request(
            &mut send,
            "POST",
            "/pkg.Svc/Call",
            &[("content-type", "application/grpc")],
            Some(b"\0\0\0\0\0"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello world");
        let t = r.trailers.expect("trailers");
        assert_eq!(t["grpc-status"], "0");
        assert_eq!(t["grpc-message"], "fine");
    });
}

/// An HTTP/2 (h2c) server answering `x-server: NAME`, the path, whether the request carried
/// `te: trailers`, the request body length, a body and `grpc-status` trailers. Counts the
/// connections it accepted.
struct H2Backend {
    port: u16,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

fn h2_backend(name: &'static str) -> H2Backend {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            loop {
                let Ok((s, _)) = l.accept().await else { return };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut conn) = h2::server::handshake(s).await else {
                        return;
                    };
                    while let Some(Ok((req, mut respond))) = conn.accept().await {
                        tokio::spawn(async move {
                            let te = req
                                .headers()
                                .get("te")
                                .map(|v| v.to_str().unwrap_or("").to_string())
                                .unwrap_or_default();
                            let path = req.uri().path().to_string();
                            let authority = req
                                .uri()
                                .authority()
                                .map(|a| a.to_string())
                                .unwrap_or_default();
                            let mut body = req.into_body();
                            let mut len = 0usize;
                            while let Some(Ok(d)) = body.data().await {
                                len += d.len();
                                let _ = body.flow_control().release_capacity(d.len());
                            }
                            let resp = http::Response::builder()
                                .status(200)
                                .header("x-server", name)
                                .header("x-path", path)
                                .header("x-te", te)
                                .header("x-authority", authority)
                                .header("x-len", len.to_string())
                                .body(())
                                .unwrap();
                            let Ok(mut out) = respond.send_response(resp, false) else {
                                return;
                            };
                            let _ = out.send_data(Bytes::from_static(b"h2 says hi"), false);
                            let mut t = http::HeaderMap::new();
                            t.insert("grpc-status", http::HeaderValue::from_static("0"));
                            let _ = out.send_trailers(t);
                        });
                    }
                });
            }
        });
    });
    H2Backend { port, connections }
}

/// HTTP/2 end to end (`proto h2` on the bind and on the server): requests share one server
/// connection, `te: trailers` and the body go up, trailers come back (gRPC's path); an
/// HTTP/1.1 client of the same backend gets the answer chunked with its trailers.
#[test]
fn h2_to_h2_servers_keep_trailers_and_share_a_connection() {
    let be = h2_backend("h2srv");
    let (p2, p1) = (free_port(), free_port());
    // One worker thread: the connection count below is per thread.
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe2\n    bind 127.0.0.1:{p2} proto h2\n    default_backend be\nfrontend fe1\n    bind 127.0.0.1:{p1}\n    default_backend be\nbackend be\n    server h2srv 127.0.0.1:{} proto h2\n",
        defaults("http"),
        be.port
    );
    let _s = Sluice::start_with(&cfg, &[p2, p1], &[]);
    runtime().block_on(async {
        let mut send = connect(p2, None).await;
        for i in 0..3 {
            let r = request(
                &mut send,
                "POST",
                &format!("/pkg.Svc/M{i}"),
                &[("te", "trailers"), ("content-type", "application/grpc")],
                Some(b"\0\0\0\0\x05hello"),
            )
            .await;
            assert_eq!(r.status, 200);
            assert_eq!(r.headers["x-server"], "h2srv");
            assert_eq!(r.headers["x-path"], format!("/pkg.Svc/M{i}").as_str());
            assert_eq!(r.headers["x-te"], "trailers");
            assert_eq!(r.headers["x-authority"], "test.example");
            assert_eq!(r.headers["x-len"], "10");
            assert_eq!(r.body, b"h2 says hi");
            assert_eq!(r.trailers.expect("trailers")["grpc-status"], "0");
        }
    });
    let mut c = crate::support::Client::connect(p1);
    c.send(b"GET /plain HTTP/1.1\r\nhost: h1.example\r\n\r\n");
    let mut head = crate::support::read_head(&mut c.r).unwrap();
    head.make_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("x-authority: h1.example"), "{head}");
    let mut rest = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut c.r, &mut line).unwrap() == 0
            || line == "\r\n" && rest.contains("grpc-status")
        {
            break;
        }
        rest.push_str(&line);
    }
    assert!(rest.contains("h2 says hi"), "{rest}");
    assert!(rest.contains("grpc-status: 0"), "{rest}");
    assert_eq!(
        be.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "every request went over one HTTP/2 connection"
    );
}

/// A stream whose answer takes longer than the connection's idle timeout is not cut: the
/// HTTP/2 connection only counts as idle with no stream in progress.
#[test]
fn a_slow_stream_outlives_the_idle_timeout() {
    let gate = Arc::new(crate::support::Gate::default());
    let be = Backend::start("slow", Behaviour::Gated(gate.clone()));
    let port = free_port();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 300ms\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:{port} proto h2\n    default_backend be\nbackend be\n{}",
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    // A worker thread runs the client while this one waits on the backend's gate.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut send = connect(port, None).await;
        let pending =
            tokio::spawn(async move { request(&mut send, "GET", "/slow", &[], None).await });
        crate::support::wait_for("the request at the backend", || {
            (gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 1).then_some(())
        });
        // Let well over two idle timeouts pass while the stream waits for its answer.
        tokio::time::sleep(Duration::from_millis(900)).await;
        gate.open();
        let r = pending.await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello from slow\n");
    });
}

/// An HTTP/2 connection left without streams is closed once `timeout http-keep-alive` has
/// passed since its last stream began; one that keeps sending streams is not.
#[test]
fn an_idle_connection_is_closed_after_the_keep_alive_timeout() {
    let be = Backend::start("a", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 100s\n    timeout http-keep-alive 1s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:{port} proto h2\n    default_backend be\nbackend be\n{}",
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        let conn = tokio::spawn(conn);
        let mut send = send.ready().await.unwrap();
        // Streams closer together than the idle timeout keep the connection open.
        for _ in 0..4 {
            let r = request(&mut send, "GET", "/", &[], None).await;
            assert_eq!(r.status, 200);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(!conn.is_finished(), "closed while streams kept coming");
        // Then silence: the proxy ends the connection (well before `timeout client`).
        let end = tokio::time::timeout(Duration::from_secs(30), conn).await;
        assert!(end.is_ok(), "the idle connection was not closed");
    });
}

/// Response heads reach HTTP/2 clients whole (not re-parsed from HTTP/1 text): framing and
/// hop-by-hop headers go, a 204 loses its length, response rules apply, an interim 100 sent
/// before the final head is dropped, and a head with an obs-fold takes the text path and
/// still arrives with the fold turned into spaces.
#[test]
fn h2c_response_heads_arrive_whole_or_as_text() {
    let raws: [(&str, &[u8]); 4] = [
        (
            "nocontent",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-Thing: one\r\nConnection: keep-alive\r\n\r\n",
        ),
        (
            "interim",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\nok",
        ),
        (
            "folded",
            b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 4\r\n\r\nfold",
        ),
        (
            "close",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
        ),
    ];
    let bes: Vec<Backend> = raws
        .iter()
        .map(|(name, raw)| Backend::start(name, Behaviour::Raw(raw.to_vec())))
        .collect();
    let port = free_port();
    let mut cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    http-response set-header x-added yes\n",
        defaults("http")
    );
    for be in &bes {
        cfg += &format!("    use_backend {0} if {{ path /{0} }}\n", be.name);
    }
    for be in &bes {
        cfg += &format!("backend {}\n{}", be.name, servers(&[be], ""));
    }
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let mut send = connect(port, None).await;
        let r = request(&mut send, "GET", "/nocontent", &[], None).await;
        assert_eq!(r.status, 204);
        assert!(r.headers.get("content-length").is_none(), "{:?}", r.headers);
        assert!(r.headers.get("connection").is_none(), "{:?}", r.headers);
        assert_eq!(r.headers["x-thing"], "one");
        assert_eq!(r.headers["x-added"], "yes");
        assert!(r.body.is_empty());

        let r = request(&mut send, "GET", "/interim", &[], None).await;
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"ok");
        assert_eq!(r.headers["content-length"], "2");
        assert!(r.headers.get("keep-alive").is_none(), "{:?}", r.headers);

        let r = request(&mut send, "GET", "/folded", &[], None).await;
        assert_eq!(r.status, 200);
        let fold = r.headers["x-fold"].to_str().unwrap().to_string();
        assert!(fold.starts_with('a') && fold.ends_with('b'), "{fold:?}");
        assert!(
            fold[1..fold.len() - 1].bytes().all(|c| c == b' '),
            "{fold:?}"
        );
        assert_eq!(r.headers["x-added"], "yes");
        assert_eq!(r.body, b"fold");

        let r = request(&mut send, "GET", "/close", &[], None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"until close");
        assert!(r.headers.get("content-length").is_none(), "{:?}", r.headers);
    });
}

/// `tcp-request session` rules run once for an HTTP/2 connection, as in HAProxy: a reject
/// closes the connection before any stream, rather than refusing each stream of a
/// connection that was let in.
#[test]
fn h2c_session_reject_closes_the_connection() {
    let be = Backend::start("app", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    tcp-request session reject if {{ src 127.0.0.1 }}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let Ok((send, conn)) = h2::client::handshake(tcp).await else {
            return;
        };
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let Ok(mut send) = send.ready().await else {
            return;
        };
        let req = http::Request::get("http://test.example/").body(()).unwrap();
        let Ok((resp, _)) = send.send_request(req, true) else {
            return;
        };
        let err = tokio::time::timeout(Duration::from_secs(10), resp)
            .await
            .expect("an answer in time")
            .expect_err("the session was rejected");
        assert_ne!(
            err.reason(),
            Some(h2::Reason::REFUSED_STREAM),
            "the stream was refused on a connection that was let in: {err}"
        );
    });
}

/// Big bodies both ways, past every window: a 1 MiB upload with and without a length, and
/// three 300 KB downloads at once (framed by length, chunked, and by the server's close),
/// all on one connection whose window they share.
#[test]
fn h2c_large_bodies_flow_through_the_windows() {
    let echo = Backend::start("echo", Behaviour::EchoBody);
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut by_length =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", big.len()).into_bytes();
    by_length.extend_from_slice(&big);
    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for piece in big.chunks(70_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut until_close = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
    until_close.extend_from_slice(&big);
    let backends = [
        Backend::start("len", Behaviour::Raw(by_length)),
        Backend::start("chunk", Behaviour::Raw(chunked)),
        Backend::start("close", Behaviour::Raw(until_close)),
    ];
    let port = free_port();
    let mut cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    use_backend echo if {{ path_beg /echo }}\n",
        defaults("http")
    );
    for b in ["len", "chunk", "close"] {
        cfg.push_str(&format!("    use_backend {b} if {{ path_beg /{b} }}\n"));
    }
    cfg.push_str(&format!("backend echo\n{}", servers(&[&echo], "")));
    for (name, be) in ["len", "chunk", "close"].iter().zip(&backends) {
        cfg.push_str(&format!("backend {name}\n{}", servers(&[be], "")));
    }
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let mut send = connect(port, None).await;
        let upload: Vec<u8> = (0..1_048_576u32).map(|i| (i % 253) as u8).collect();
        let sum: u64 = upload.iter().map(|&b| u64::from(b)).sum();
        let want = format!("len={} sum={sum}\n", upload.len());
        let len = upload.len().to_string();
        for headers in [vec![("content-length", len.as_str())], vec![]] {
            let r = request(&mut send, "POST", "/echo", &headers, Some(&upload)).await;
            assert_eq!(r.status, 200);
            assert_eq!(String::from_utf8_lossy(&r.body), want, "{headers:?}");
        }
        let (mut s1, mut s2, mut s3) = (send.clone(), send.clone(), send.clone());
        let (a, b, c) = tokio::join!(
            request(&mut s1, "GET", "/len", &[], None),
            request(&mut s2, "GET", "/chunk", &[], None),
            request(&mut s3, "GET", "/close", &[], None),
        );
        for r in [a, b, c] {
            assert_eq!(r.status, 200);
            assert!(r.body == big, "a body of {} bytes came back", r.body.len());
        }
    });
}

/// Writes one frame.
fn raw_frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    sluice_h2::frame::write_head(out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
}

/// A request header block (literal fields, as any encoder may send them).
fn raw_request_block(path: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "test.example"),
        (":path", path),
    ]
    .iter()
    .chain(extra)
    {
        // literal without indexing, new name, as the name is (`encode_field` would
        // lower-case it)
        b.push(0);
        b.push(n.len() as u8);
        b.extend_from_slice(n.as_bytes());
        if v.len() < 127 {
            b.push(v.len() as u8);
        } else {
            // a 7-bit prefix integer (RFC 7541 5.1); values here stay under 2^14
            let rest = v.len() - 127;
            b.extend_from_slice(&[127, (rest & 0x7f) as u8 | 0x80, (rest >> 7) as u8]);
        }
        b.extend_from_slice(v.as_bytes());
    }
    b
}

/// A client that speaks frames by hand, for what a well-behaved client library never sends.
struct RawH2 {
    tcp: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawH2 {
    async fn connect(port: u16) -> RawH2 {
        use tokio::io::AsyncWriteExt;
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let mut hello = sluice_h2::frame::PREFACE.to_vec();
        sluice_h2::frame::write_settings(&mut hello, &[]);
        tcp.write_all(&hello).await.unwrap();
        RawH2 {
            tcp,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        // The server may have closed already; what it sent is still there to read.
        let _ = self.tcp.write_all(bytes).await;
    }

    /// The next frame (head, payload); `None` once the server closed.
    async fn frame(&mut self) -> Option<(sluice_h2::frame::Head, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        loop {
            if self.buf.len() >= 9 {
                let h = sluice_h2::frame::Head::parse(self.buf[..9].try_into().unwrap());
                let end = 9 + h.len as usize;
                if self.buf.len() >= end {
                    let payload = self.buf[9..end].to_vec();
                    self.buf.drain(..end);
                    return Some((h, payload));
                }
            }
            let mut chunk = [0u8; 16384];
            let n = tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk))
                .await
                .expect("a frame or the close in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Frames until one of `kind` (skipping SETTINGS, WINDOW_UPDATE and the like).
    async fn until(&mut self, kind: u8) -> Option<(sluice_h2::frame::Head, Vec<u8>)> {
        loop {
            let f = self.frame().await?;
            if f.0.kind == kind {
                return Some(f);
            }
        }
    }
}

/// What a client library never sends: PING is answered with its payload; a malformed
/// request (an upper-case name, a body short of its `content-length`) resets its stream and
/// the connection goes on; a head over
/// `tune.bufsize` is answered 431; a second preface byte that is wrong closes at once; a
/// flood of CONTINUATION frames and a run of streams reset before their answer
/// (CVE-2023-44487) each end the connection with GOAWAY ENHANCE_YOUR_CALM.
#[test]
fn h2c_protocol_misuse_gets_the_answers_rfc_9113_asks_for() {
    use sluice_h2::frame::{code, flag, kind};
    let be = Backend::start("app", Behaviour::Hello);
    let silent = Backend::start("silent", Behaviour::Silent);
    let port = free_port();
    let cfg = format!(
        "global\n    tune.bufsize 4096\n{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    use_backend silent if {{ path_beg /silent }}\n    default_backend be\nbackend be\n{}backend silent\n{}",
        defaults("http"),
        servers(&[&be], ""),
        servers(&[&silent], "")
    );
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let mut c = RawH2::connect(port).await;
        let mut out = Vec::new();
        raw_frame(&mut out, kind::PING, 0, 0, b"pingpong");
        raw_frame(
            &mut out,
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &raw_request_block("/", &[("X-Upper", "no")]),
        );
        raw_frame(
            &mut out,
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            3,
            &raw_request_block("/", &[("x-big", &"b".repeat(5000))]),
        );
        raw_frame(
            &mut out,
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            5,
            &raw_request_block("/", &[]),
        );
        c.send(&out).await;
        let (h, p) = c.until(kind::PING).await.unwrap();
        assert!(h.has(flag::ACK));
        assert_eq!(p, b"pingpong");
        let (h, p) = c.until(kind::RST_STREAM).await.unwrap();
        assert_eq!(
            (h.stream, p),
            (1, code::PROTOCOL_ERROR.to_be_bytes().to_vec())
        );
        let mut statuses = Vec::new();
        while statuses.len() < 2 {
            let (h, p) = c.until(kind::HEADERS).await.unwrap();
            let mut status = String::new();
            sluice_h2::hpack::Decoder::new(4096)
                .decode(&p, |n, v| {
                    if n == b":status" {
                        status = String::from_utf8_lossy(v).into_owned();
                    }
                })
                .unwrap();
            statuses.push((h.stream, status));
        }
        statuses.sort();
        assert_eq!(
            statuses,
            vec![(3, "431".to_string()), (5, "200".to_string())]
        );

        // DATA that falls short of the `content-length` (RFC 9113 8.1.1), as HAProxy
        // answers it
        let mut c = RawH2::connect(port).await;
        let mut out = Vec::new();
        raw_frame(
            &mut out,
            kind::HEADERS,
            flag::END_HEADERS,
            1,
            &raw_request_block("/", &[("content-length", "5")]),
        );
        raw_frame(&mut out, kind::DATA, flag::END_STREAM, 1, b"abc");
        c.send(&out).await;
        let (h, p) = c.until(kind::RST_STREAM).await.unwrap();
        assert_eq!(
            (h.stream, p),
            (1, code::PROTOCOL_ERROR.to_be_bytes().to_vec())
        );

        // a flood of CONTINUATION frames
        let mut c = RawH2::connect(port).await;
        let mut out = Vec::new();
        raw_frame(&mut out, kind::HEADERS, 0, 1, &raw_request_block("/", &[]));
        for _ in 0..40 {
            raw_frame(&mut out, kind::CONTINUATION, 0, 1, &[0x40; 1000]);
        }
        c.send(&out).await;
        let (_, p) = c.until(kind::GOAWAY).await.expect("GOAWAY");
        assert_eq!(p[4..8], code::ENHANCE_YOUR_CALM.to_be_bytes());
        assert!(c.until(kind::GOAWAY).await.is_none(), "then it closes");

        // rapid reset: streams opened and reset before their answer
        let mut c = RawH2::connect(port).await;
        let mut out = Vec::new();
        for i in 0..300u32 {
            let id = 2 * i + 1;
            raw_frame(
                &mut out,
                kind::HEADERS,
                flag::END_HEADERS | flag::END_STREAM,
                id,
                &raw_request_block("/silent", &[]),
            );
            raw_frame(
                &mut out,
                kind::RST_STREAM,
                0,
                id,
                &code::CANCEL.to_be_bytes(),
            );
        }
        c.send(&out).await;
        let (_, p) = c.until(kind::GOAWAY).await.expect("GOAWAY");
        assert_eq!(p[4..8], code::ENHANCE_YOUR_CALM.to_be_bytes());

        // not HTTP/2 at all
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tcp.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got))
            .await
            .expect("closed in time");
        // our SETTINGS went out first; nothing answers the request
        assert!(!got.windows(4).any(|w| w == b"HTTP"), "{got:?}");
    });
}

/// A client that grants 1 KiB windows (its SETTINGS, before any stream): a 200 KB answer is
/// paced by its WINDOW_UPDATE frames, none of it lost or sent ahead of the window (the
/// client's codec would fail the connection on a flow-control violation).
#[test]
fn h2c_a_small_client_window_paces_the_answer() {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 249) as u8).collect();
    let mut raw = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", big.len()).into_bytes();
    raw.extend_from_slice(&big);
    let be = Backend::start("big", Behaviour::Raw(raw));
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port} proto h2\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        servers(&[&be], "")
    );
    let _s = Sluice::start(&cfg, port);
    runtime().block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(1024)
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut send = send.ready().await.unwrap();
        let r = request(&mut send, "GET", "/", &[], None).await;
        assert_eq!(r.status, 200);
        assert!(r.body == big, "a body of {} bytes came back", r.body.len());
    });
}
