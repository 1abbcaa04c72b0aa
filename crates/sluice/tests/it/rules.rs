//! Rules through the real binary: the seed configurations' ACL routing, deny and auth
//! behave as their tutorials describe; redirect, return and header edits.

use std::path::Path;

use crate::defaults;
use crate::support::{check_config, free_port, tempdir, Backend, Behaviour, Client, Sluice};

fn seed(name: &str) -> Option<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/configs")
        .join(name);
    std::fs::read_to_string(p).ok()
}

/// acl-examples.cfg as users bring it, its fixed ports swapped for free ones.
#[test]
fn seed_acl_examples_route_deny_and_guard_as_the_tutorial_says() {
    let Some(mut cfg) = seed("acl-examples.cfg") else {
        eprintln!("skipped: ../shared/seeds/configs is not beside the checkout");
        return;
    };
    let names = [
        "static1", "dynamic1", "web1", "post1", "general1", "mobile1", "desktop1",
    ];
    let backends: Vec<Backend> = names
        .iter()
        .map(|n| Backend::start(n, Behaviour::Hello))
        .collect();
    for (i, b) in backends.iter().enumerate() {
        cfg = cfg.replace(&format!("127.0.0.1:500{}", i + 1), &b.addr.to_string());
    }
    // The tutorial blocks 192.168.1.0/24 and guards /admin to 192.168.10.0/24; on loopback we
    // play those networks with 127.0.0.2 (blocked) and 127.0.0.3 (internal).
    cfg = cfg
        .replace("192.168.1.0/24", "127.0.0.2/32")
        .replace("192.168.10.0/24", "127.0.0.3/32");
    let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
    for (i, p) in ports.iter().enumerate() {
        cfg = cfg.replace(
            &format!("127.0.0.1:808{}", i + 1),
            &format!("127.0.0.1:{p}"),
        );
    }
    let _s = Sluice::start_with(&cfg, &ports, &[]);
    let req = |src: &str, port: u16, raw: &str| {
        let mut c = Client::connect_from(src, port);
        c.send(raw.as_bytes());
        c.read_response().expect("response")
    };
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n");
    // static_split
    assert_eq!(
        req("127.0.0.1", ports[0], &get("/static/app.css")).server(),
        "static1"
    );
    assert_eq!(
        req("127.0.0.1", ports[0], &get("/index.html")).server(),
        "dynamic1"
    );
    // block_range
    assert_eq!(req("127.0.0.2", ports[1], &get("/")).status, 403);
    assert_eq!(req("127.0.0.1", ports[1], &get("/")).server(), "web1");
    // post_split
    let post = "POST /form HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\nok";
    assert_eq!(req("127.0.0.1", ports[2], post).server(), "post1");
    assert_eq!(
        req("127.0.0.1", ports[2], &get("/form")).server(),
        "general1"
    );
    // mobile_split: case-insensitive substring of User-Agent
    let ua = |agent: &str| format!("GET / HTTP/1.1\r\nhost: t\r\nuser-agent: {agent}\r\n\r\n");
    assert_eq!(
        req("127.0.0.1", ports[3], &ua("Foo MOBILE Safari")).server(),
        "mobile1"
    );
    assert_eq!(
        req("127.0.0.1", ports[3], &ua("Desktop Firefox")).server(),
        "desktop1"
    );
    // admin_guard
    assert_eq!(req("127.0.0.1", ports[4], &get("/admin/users")).status, 403);
    assert_eq!(
        req("127.0.0.3", ports[4], &get("/admin/users")).server(),
        "web1"
    );
    assert_eq!(req("127.0.0.1", ports[4], &get("/public")).server(), "web1");
    // submit_split: POST AND /submit
    let submit = "POST /submit HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n";
    let other_post = "POST /other HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n";
    assert_eq!(req("127.0.0.1", ports[5], submit).server(), "post1");
    assert_eq!(req("127.0.0.1", ports[5], other_post).server(), "general1");
    assert_eq!(
        req("127.0.0.1", ports[5], &get("/submit")).server(),
        "general1"
    );
}

fn basic(user: &str, pass: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{pass}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// basic-auth-map.cfg: unauthenticated requests get 401 with a Basic challenge; "vip" is
/// routed to deluxe through the map, everyone else to default.
#[test]
fn seed_basic_auth_map_routes_users_through_the_map() {
    let (Some(mut cfg), Some(map)) = (seed("basic-auth-map.cfg"), seed("deluxe.map")) else {
        eprintln!("skipped: ../shared/seeds/configs is not beside the checkout");
        return;
    };
    let deluxe = Backend::start("deluxe", Behaviour::Hello);
    let default = Backend::start("default", Behaviour::Hello);
    let port = free_port();
    cfg = cfg
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.2:8000", &deluxe.addr.to_string())
        .replace("127.0.0.1:8000", &default.addr.to_string())
        .replace("    daemon\n", "");
    let _s = Sluice::start_files(&cfg, &[port], &[], &[("deluxe.map", &map)]);
    let mut c = Client::connect(port);
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n");
    let r = c.read_response().expect("401");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"http-in\"")
    );
    let with = |u: &str, p: &str| {
        let mut c = Client::connect(port);
        c.send(
            format!(
                "GET / HTTP/1.1\r\nhost: t\r\nauthorization: Basic {}\r\n\r\n",
                basic(u, p)
            )
            .as_bytes(),
        );
        c.read_response().expect("response")
    };
    assert_eq!(with("vip", "ipaygoodmoneyforthis").server(), "deluxe");
    assert_eq!(with("john", "somePassword").server(), "default");
    assert_eq!(with("john", "wrong").status, 401);
}

#[test]
fn redirect_return_and_header_edits() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request redirect prefix https://example.test code 301 if {{ path_beg /old }}\n    http-request return status 200 content-type text/plain string pong if {{ path /ping }}\n    http-request set-header X-Seen %[src]\n    http-request del-header X-Secret\n    http-response set-header X-Proxy sluice\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        b.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    let r = c.get("/old/page?x=1");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("https://example.test/old/page?x=1")
    );
    let r = c.get("/ping");
    assert_eq!((r.status, r.text().as_str()), (200, "pong"));
    c.send(b"GET /x HTTP/1.1\r\nhost: t\r\nx-secret: hide\r\nx-seen: forged\r\n\r\n");
    let r = c.read_response().expect("proxied");
    assert_eq!(r.server(), "s1");
    assert_eq!(r.header("x-proxy"), Some("sluice"));
    let head = b.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(!head.contains("x-secret"), "{head}");
    assert!(head.contains("x-seen: 127.0.0.1"), "{head}");
    assert!(!head.contains("forged"), "{head}");
}

#[test]
fn rule_errors_are_reported_with_file_and_line() {
    let dir = tempdir();
    let f = dir.join("rules.cfg");
    std::fs::write(
        &f,
        "defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    acl a pth_beg /x\n    use_backend nowhere if a\n    http-request frobnicate\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n",
    )
    .unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rules.cfg:5]") && out.contains("pth_beg"),
        "{out}"
    );
    assert!(
        out.contains("rules.cfg:6]") && out.contains("nowhere"),
        "{out}"
    );
    assert!(
        out.contains("rules.cfg:7]") && out.contains("frobnicate"),
        "{out}"
    );
}

/// The tutorial's "block a source range", with remote clients simulated as the issue asks:
/// `set-src` from a header, then the seed's own ACL and deny.
#[test]
fn set_src_from_a_header_feeds_the_source_deny() {
    let b = Backend::start("web1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend block_range\n    bind 127.0.0.1:{port}\n    http-request set-src hdr(x-client-ip)\n    acl block_ip src 192.168.1.0/24\n    http-request deny if block_ip\n    option forwardfor\n    default_backend web\nbackend web\n    server web1 {}\n",
        defaults("http"),
        b.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-client-ip: 192.168.1.77\r\n\r\n");
    assert_eq!(c.read_response().expect("403").status, 403);
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-client-ip: 10.1.2.3\r\n\r\n");
    let r = c.read_response().expect("200");
    assert_eq!(r.server(), "web1");
    let head = b.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(
        head.contains("x-forwarded-for: 10.1.2.3"),
        "forwardfor follows set-src: {head}"
    );
}

#[test]
fn start_line_rewrites_vars_and_header_replacement() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request set-var(txn.tenant) req.hdr(x-tenant),lower\n    http-request set-path /api%[path] if {{ path_beg /v1 }}\n    http-request set-query lang=en if {{ var(txn.tenant) -m str acme }}\n    http-request set-method PUT if {{ method PATCH }}\n    http-request replace-header User-Agent ^curl/(.*)$ sluice-test/\\1\n    http-request return status 403 content-type text/plain string nope if {{ var(txn.tenant) -m str evil }}\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        b.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    c.send(b"PATCH /v1/items?x=1 HTTP/1.1\r\nhost: t\r\nx-tenant: ACME\r\nuser-agent: curl/8.1\r\n\r\n");
    assert_eq!(c.read_response().expect("proxied").status, 200);
    let head = b.last_head.lock().unwrap().clone();
    assert!(
        head.starts_with("PUT /api/v1/items?lang=en HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("user-agent: sluice-test/8.1"),
        "{head}"
    );
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-tenant: Evil\r\n\r\n");
    let r = c.read_response().expect("403");
    assert_eq!((r.status, r.text().as_str()), (403, "nope"));
}

#[test]
fn tcp_request_connection_reject_closes_before_any_byte() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    tcp-request connection reject if {{ src 127.0.0.2 }}\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        b.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut bad = Client::connect_from("127.0.0.2", port);
    bad.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n");
    assert!(
        bad.read_response().is_none(),
        "rejected connection gets no response"
    );
    let mut good = Client::connect_from("127.0.0.1", port);
    assert_eq!(good.get("/").server(), "s1");
}

#[test]
fn http_after_response_edits_proxied_and_local_responses() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request deny if {{ path_beg /private }}\n    http-after-response set-header X-Frame-Options DENY\n    http-after-response del-header X-Server\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        b.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    let r = c.get("/public");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(
        r.header("x-server"),
        None,
        "deleted after the response rules"
    );
    let r = c.get("/private");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("x-frame-options"),
        Some("DENY"),
        "applies to the deny page too"
    );
}

/// HAProxy applies each edit at once: a later rule, `use_backend` and the server all see
/// the rewritten request, and `balance uri` hashes the rewritten path.
#[test]
fn edits_are_seen_by_later_rules_routing_and_balancing() {
    let a = Backend::start("a", Behaviour::Hello);
    let b = Backend::start("b", Behaviour::Hello);
    let h1 = Backend::start("h1", Behaviour::Hello);
    let h2 = Backend::start("h2", Behaviour::Hello);
    let (port, plain) = (free_port(), free_port());
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request set-header X-Tag blocked if {{ path /secret }}\n    http-request deny if {{ req.hdr(x-tag) blocked }}\n    http-request set-path /b if {{ path /a }}\n    http-request set-header X-Seen %[path]\n    http-request set-path /same if {{ path_beg /h/ }}\n    use_backend bb if {{ path /b }}\n    use_backend hashed if {{ path /same }}\n    default_backend ba\nfrontend plain\n    bind 127.0.0.1:{plain}\n    default_backend hashed\nbackend ba\n    server a {}\nbackend bb\n    server b {}\nbackend hashed\n    balance uri\n    server h1 {}\n    server h2 {}\n",
        defaults("http"),
        a.addr, b.addr, h1.addr, h2.addr
    );
    let _s = Sluice::start_with(&cfg, &[port, plain], &[]);
    let mut c = Client::connect(port);
    assert_eq!(
        c.get("/secret").status,
        403,
        "the deny sees the header set before it"
    );
    assert_eq!(c.get("/open").server(), "a");
    let r = c.get("/a");
    assert_eq!(r.server(), "b", "use_backend sees the rewritten path");
    let head = b.last_head.lock().unwrap().clone();
    assert!(head.starts_with("GET /b HTTP/1.1\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-seen: /b\r\n"),
        "a later rule's sample sees the new path: {head}"
    );
    // Without the rewrite these paths spread over both servers; rewritten to one path,
    // `balance uri` sends them all to the same one.
    let paths: Vec<String> = (0..12).map(|i| format!("/h/{i}")).collect();
    let spread: std::collections::HashSet<String> = paths
        .iter()
        .map(|p| Client::connect(plain).get(p).server())
        .collect();
    assert_eq!(
        spread.len(),
        2,
        "the paths hash to both servers unrewritten"
    );
    let hashed: std::collections::HashSet<String> =
        paths.iter().map(|p| c.get(p).server()).collect();
    assert_eq!(
        hashed.len(),
        1,
        "the rewritten path is what is hashed: {hashed:?}"
    );
}

/// Rules of a named defaults section run before the proxy's own, in the proxies created
/// from it.
#[test]
fn named_defaults_rules_run_first() {
    let s1 = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "defaults web\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    acl admin path_beg /admin\n    http-request deny if admin\n    http-request set-header X-Order d\n    http-response set-header X-From-Defaults yes\nfrontend fe from web\n    bind 127.0.0.1:{port}\n    http-request set-header X-Order %[req.hdr(x-order)]-f\n    default_backend be\n{}backend be\n    server s1 {}\n",
        defaults("http"),
        s1.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    assert_eq!(c.get("/admin/x").status, 403);
    let r = c.get("/page");
    assert_eq!(r.server(), "s1");
    assert_eq!(r.header("x-from-defaults"), Some("yes"));
    let head = s1.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(head.contains("x-order: d-f\r\n"), "{head}");
}

/// `option http-buffer-request` and `wait-for-body`: the rules see the body (chunked ones
/// de-chunked), and the server still receives it whole.
#[test]
fn buffered_bodies_feed_the_rules_and_reach_the_server() {
    let echo = Backend::start("echo", Behaviour::EchoBody);
    let (port, wait_port) = (free_port(), free_port());
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    option http-buffer-request\n    http-request deny deny_status 429 if {{ req.body -m sub evil }}\n    http-request set-header X-Len %[req.body_len]\n    default_backend be\nfrontend waits\n    bind 127.0.0.1:{wait_port}\n    http-request wait-for-body time 5s at-least 4 if METH_POST\n    http-request set-header X-Len %[req.body_len]\n    default_backend be\nbackend be\n    server echo {}\n",
        defaults("http"),
        echo.addr
    );
    let _s = Sluice::start_with(&cfg, &[port, wait_port], &[]);
    let mut c = Client::connect(port);
    // The head first, the body in a second write.
    c.send(b"POST /up HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\n");
    c.send(b"helloworld");
    let r = c.read_response().expect("response");
    assert_eq!(r.text(), "len=10 sum=1084\n");
    let head = echo.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(head.contains("x-len: 10\r\n"), "{head}");
    c.send(b"POST /up HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nevi\r\n");
    c.send(b"1\r\nl\r\n0\r\n\r\n");
    assert_eq!(
        c.read_response().expect("429").status,
        429,
        "'evil' across two chunks"
    );
    // Expect: 100-continue is answered by Sluice, which then waits for the body; the
    // server sees no Expect.
    let mut c = Client::connect(port);
    c.send(b"POST /up HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n");
    assert_eq!(c.read_response().expect("100").status, 100);
    c.send(b"abc");
    let r = c.read_response().expect("response");
    assert_eq!(r.text(), "len=3 sum=294\n");
    let head = echo.last_head.lock().unwrap().to_ascii_lowercase();
    assert!(!head.contains("expect"), "{head}");
    // wait-for-body stops at 4 bytes: the rules see those, the server gets all 10.
    let mut c = Client::connect(wait_port);
    c.send(b"POST /w HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabcde");
    let head = crate::support::wait_for("the request at the server", || {
        let h = echo.last_head.lock().unwrap().to_ascii_lowercase();
        h.starts_with("post /w ").then_some(h)
    });
    assert!(head.contains("x-len: 5\r\n"), "{head}");
    c.send(b"fghij");
    assert_eq!(
        c.read_response().expect("response").text(),
        "len=10 sum=1015\n"
    );
}

/// `normalize-uri` (experimental in HAProxy 2.6): the server gets the normalized target,
/// a strict normalizer refuses an invalid one with 400.
#[test]
fn normalize_uri_rewrites_the_target() {
    let s1 = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "global\n    expose-experimental-directives\n{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request normalize-uri path-merge-slashes\n    http-request normalize-uri path-strip-dotdot full\n    http-request normalize-uri percent-decode-unreserved strict\n    http-request normalize-uri query-sort-by-name\n    http-request deny if {{ path_beg /admin }}\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        s1.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    let r = c.get("//a//../b/%7e%41?z=1&a=2");
    assert_eq!(r.server(), "s1");
    let head = s1.last_head.lock().unwrap().clone();
    assert!(head.starts_with("GET /b/~A?a=2&z=1 HTTP/1.1\r\n"), "{head}");
    assert_eq!(
        c.get("/x/../%61dmin").status,
        403,
        "the deny sees the normalized path"
    );
    assert_eq!(Client::connect(port).get("/%zz").status, 400);
}

/// HAProxy 2.6's `http-after-response allow` stops the section's after-response rules; it
/// has no `deny` there, and says so.
#[test]
fn http_after_response_allow_stops_the_section() {
    let s1 = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    http-request deny if {{ path /no }}\n    http-after-response allow if {{ status 200 }}\n    http-after-response set-header X-After 1\n    default_backend be\nbackend be\n    server s1 {}\n",
        defaults("http"),
        s1.addr
    );
    let _s = Sluice::start(&cfg, port);
    let mut c = Client::connect(port);
    let r = c.get("/yes");
    assert_eq!((r.status, r.header("x-after")), (200, None));
    let r = c.get("/no");
    assert_eq!((r.status, r.header("x-after")), (403, Some("1")));
    let dir = tempdir();
    let f = dir.join("after.cfg");
    std::fs::write(
        &f,
        "defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    http-after-response deny\n    default_backend be\nbackend be\n    server s 127.0.0.1:2\n",
    )
    .unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("after.cfg:5]")
            && out.contains("HAProxy 2.6 has no such http-after-response action"),
        "{out}"
    );
}
