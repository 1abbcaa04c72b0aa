//! End-to-end tests of `load_str`: each keyword family sets the model, each refusal names
//! `file:line`, the keyword and a hint, and the cross-section checks word things like HAProxy.

use std::net::SocketAddr;
use std::time::Duration;

use crate::*;

fn no_env(_: &str) -> Option<String> {
    None
}

/// Common preamble so configurations under test carry no unrelated warnings.
const TIMEOUTS: &str =
    "defaults\n    timeout connect 5s\n    timeout client 50s\n    timeout server 50s\n";

fn load(text: &str) -> Loaded {
    match load_str("t.cfg", text, &no_env) {
        Ok(l) => l,
        Err(d) => panic!(
            "load failed:\n{}",
            d.iter().map(|d| d.render(1)).collect::<Vec<_>>().join("\n")
        ),
    }
}

/// Loads `text` (after the timeouts preamble) expecting success without any warning.
fn clean(text: &str) -> Config {
    let l = load(&format!("{TIMEOUTS}{text}"));
    assert!(
        l.warnings.is_empty(),
        "{:?}",
        l.warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    l.config
}

fn errors(text: &str) -> Vec<String> {
    match load_str("t.cfg", text, &no_env) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(ToString::to_string)
            .collect(),
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn global_section() {
    let c = clean("global\n    daemon\n    nbthread 2\n    maxconn 100\n    log stdout format raw local0 info\n");
    assert!(c.global.daemon);
    assert_eq!(c.global.nbthread, Some(2));
    assert_eq!(c.global.maxconn, Some(100));
    assert_eq!(c.global.logs[0].level, 6);
    assert_eq!(c.global.bufsize, 16384);
}

#[test]
fn frontend_and_backend_keywords() {
    let c = clean(
        "frontend web
    bind 127.0.0.1:8080 name main
    mode http
    maxconn 500
    timeout client 10s
    timeout http-request 5s
    timeout http-keep-alive 1s
    timeout client-fin 2s
    timeout tarpit 3s
    option httplog clf
    option dontlognull
    option log-separate-errors
    option forwardfor except 127.0.0.0/8 header X-Real-IP if-none
    option http-server-close
    log 127.0.0.1:514 local0
    default_backend app
backend app
    mode http
    balance leastconn
    hash-type consistent djb2
    retries 5
    option redispatch 2
    option allbackups
    option httpclose
    option httpchk GET /health
    http-check expect status 200-299
    timeout connect 1s
    timeout server 2s
    timeout queue 3s
    timeout check 4s
    timeout tunnel 1h
    timeout server-fin 5s
    server a 127.0.0.1:9001
",
    );
    let fe = &c.frontends[0];
    assert_eq!(fe.mode, Mode::Http);
    assert_eq!(fe.binds[0].addrs, [BindAddr::Inet(sa("127.0.0.1:8080"))]);
    assert_eq!(fe.binds[0].name.as_deref(), Some("main"));
    assert_eq!(fe.maxconn, Some(500));
    assert_eq!(fe.timeouts.client, Some(Duration::from_secs(10)));
    assert_eq!(fe.timeouts.http_request, Some(Duration::from_secs(5)));
    assert_eq!(fe.timeouts.http_keep_alive, Some(Duration::from_secs(1)));
    assert_eq!(fe.timeouts.client_fin, Some(Duration::from_secs(2)));
    assert_eq!(fe.timeouts.tarpit, Some(Duration::from_secs(3)));
    assert_eq!(fe.access_log, AccessLog::HttpClf);
    assert!(fe.dontlognull && fe.log_separate_errors);
    let ff = fe
        .forwardfor
        .clone()
        .unwrap_or_else(|| panic!("forwardfor"));
    assert_eq!((ff.header.as_str(), ff.if_none), ("X-Real-IP", true));
    assert_eq!(fe.conn_mode, HttpConnMode::ServerClose);
    assert_eq!(fe.logs.len(), 1);
    assert_eq!(fe.default_backend, Some(0));
    let be = &c.backends[0];
    assert_eq!(be.balance, Balance::LeastConn);
    assert_eq!(
        (be.hash.kind, be.hash.function),
        (HashType::Consistent, HashFunction::Djb2)
    );
    assert_eq!(be.retries, 5);
    assert_eq!(be.redispatch, Some(2));
    assert!(be.allbackups);
    assert_eq!(be.conn_mode, HttpConnMode::Close);
    let chk = be.httpchk.clone().unwrap_or_else(|| panic!("httpchk"));
    assert_eq!((chk.method.as_str(), chk.uri.as_str()), ("GET", "/health"));
    assert_eq!(
        chk.expect,
        Some(HttpCheckExpect::Status {
            ranges: vec![(200, 299)],
            negate: false
        })
    );
    let t = &be.timeouts;
    assert_eq!(
        (
            t.connect,
            t.server,
            t.queue,
            t.check,
            t.tunnel,
            t.server_fin
        ),
        (
            Some(Duration::from_secs(1)),
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(3)),
            Some(Duration::from_secs(4)),
            Some(Duration::from_secs(3600)),
            Some(Duration::from_secs(5))
        )
    );
}

#[test]
fn boolean_options_negate() {
    let c = clean(
        "defaults d
    option dontlognull
    option redispatch
    option http-server-close
frontend f from d
    bind :8080
    no option dontlognull
    no option http-server-close
    timeout client 1s
    default_backend b
backend b from d
    no option redispatch
    timeout connect 1s
    timeout server 1s
backend c from d
    timeout connect 1s
    timeout server 1s
",
    );
    assert!(!c.frontends[0].dontlognull);
    assert_eq!(c.frontends[0].conn_mode, HttpConnMode::KeepAlive);
    assert_eq!(c.backends[0].redispatch, None);
    assert_eq!(c.backends[1].redispatch, Some(-1));
    assert_eq!(c.backends[1].conn_mode, HttpConnMode::ServerClose);
}

#[test]
fn servers_and_default_server() {
    let c = clean(
        "backend b
    default-server inter 3s rise 4 fall 5 weight 10 check
    server s1 127.0.0.1:81
    server s2 127.0.0.1:82 weight 0 no-check fastinter 500ms downinter 1m port 9000 addr 127.0.0.2 backup maxconn 7 maxqueue 8 disabled id 1
    server s3 localhost:83 init-addr last,libc,none
    server s4 ipv4@127.0.0.1:84 enabled
",
    );
    let s = &c.backends[0].servers;
    assert_eq!(s.len(), 4);
    assert_eq!(
        (s[0].weight, s[0].check, s[0].inter, s[0].rise, s[0].fall),
        (10, true, Duration::from_secs(3), 4, 5)
    );
    assert_eq!(s[0].addr, sa("127.0.0.1:81"));
    let s2 = &s[1];
    assert_eq!(
        (
            s2.weight,
            s2.check,
            s2.backup,
            s2.disabled,
            s2.maxconn,
            s2.maxqueue
        ),
        (0, false, true, true, 7, 8)
    );
    assert_eq!(
        (s2.fastinter, s2.downinter),
        (
            Some(Duration::from_millis(500)),
            Some(Duration::from_secs(60))
        )
    );
    assert_eq!(
        (s2.check_port, s2.check_addr),
        (
            Some(9000),
            Some("127.0.0.2".parse().unwrap_or_else(|e| panic!("{e}")))
        )
    );
    assert!(s[2].addr.ip().is_loopback() && s[2].addr.port() == 83);
    // Ids: explicit 1 for s2, the others numbered around it.
    let ids: Vec<u32> = s.iter().map(|s| s.id).collect();
    assert_eq!(ids, [2, 1, 3, 4]);
    assert_eq!(s[3].location.to_string(), "t.cfg:10");
    // HAProxy's own defaults.
    let c = clean("backend b\n    server s 127.0.0.1:80\n");
    let s = &c.backends[0].servers[0];
    assert_eq!(
        (s.weight, s.inter, s.rise, s.fall, s.check, s.id),
        (1, Duration::from_secs(2), 2, 3, false, 1)
    );
}

#[test]
fn default_server_in_defaults_applies() {
    let c = clean("defaults x\n    timeout connect 1s\n    timeout server 1s\n    default-server weight 7\nbackend b\n    server s 127.0.0.1:80\n");
    assert_eq!(c.backends[0].servers[0].weight, 7);
}

#[test]
fn listen_becomes_frontend_and_backend() {
    let c = clean("listen app\n    bind :8080\n    balance source\n    server s 127.0.0.1:80\n");
    assert_eq!(c.frontends.len(), 1);
    assert_eq!(c.backends.len(), 1);
    assert_eq!(
        (c.frontends[0].name.as_str(), c.backends[0].name.as_str()),
        ("app", "app")
    );
    assert_eq!(c.frontends[0].default_backend, Some(0));
    assert_eq!(c.backends[0].balance, Balance::Source);
    assert_eq!(c.backend_index("app"), Some(0));
    // A listen naming another backend uses it.
    let c = clean("backend other\n    server s 127.0.0.1:80\nlisten app\n    bind :8080\n    default_backend other\n");
    assert_eq!(c.frontends[0].default_backend, Some(0));
    assert_eq!(c.backends[1].name, "app");
}

#[test]
fn defaults_inheritance() {
    let c = load(
        "defaults base
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 3s
defaults tcpish
    mode tcp
    timeout connect 4s
    timeout client 4s
    timeout server 4s
frontend last
    bind :1
frontend named from base
    bind :2
defaults child from base
    timeout client 9s
frontend kid
    bind :3
",
    )
    .config;
    let f = &c.frontends;
    assert_eq!(
        (f[0].mode, f[0].timeouts.client),
        (Mode::Tcp, Some(Duration::from_secs(4)))
    );
    assert_eq!(
        (f[1].mode, f[1].timeouts.client),
        (Mode::Http, Some(Duration::from_secs(2)))
    );
    assert_eq!(
        (f[2].mode, f[2].timeouts.client),
        (Mode::Http, Some(Duration::from_secs(9)))
    );
    // A plain `defaults` resets to HAProxy's built-in values.
    let c =
        load("defaults\n    mode http\ndefaults\nfrontend f\n    bind :1\n    timeout client 1s\n")
            .config;
    assert_eq!(c.frontends[0].mode, Mode::Tcp);
}

#[test]
fn log_global_copies_global_targets() {
    let c = clean("global\n    log stdout format raw local0\ndefaults\n    log global\n    timeout client 1s\nfrontend f\n    bind :1\n    option tcplog\n");
    assert_eq!(c.frontends[0].logs.len(), 1);
    assert_eq!(c.frontends[0].access_log, AccessLog::Tcp);
    let c = clean(
        "global\n    log stdout local0\nfrontend f\n    log global\n    no log\n    bind :1\n",
    );
    assert!(c.frontends[0].logs.is_empty());
}

#[test]
fn errorfile_reads_the_file() {
    let dir = std::env::temp_dir().join(format!("sluice-config-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("503.http");
    let body = b"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy\n";
    std::fs::write(&file, body).unwrap_or_else(|e| panic!("{e}"));
    let c = clean(&format!(
        "backend b\n    errorfile 503 {}\n",
        file.display()
    ));
    assert_eq!(
        c.backends[0].errorfiles.get(&503).map(Vec::as_slice),
        Some(&body[..])
    );
    let _ = std::fs::remove_dir_all(&dir);
    let e = errors("backend b\n    errorfile 503 /nonexistent/503.http\n");
    assert_eq!(
        e,
        ["parsing [t.cfg:2] : errorfile : error opening file '/nonexistent/503.http'."]
    );
    let e = errors("backend b\n    errorfile 999 /etc/hostname\n");
    assert_eq!(
        e,
        ["parsing [t.cfg:2] : errorfile : status code '999' not handled."]
    );
}

#[test]
fn userlists_are_kept() {
    let c = load("userlist creds\n    group admins users vip\n    user vip insecure-password secret\n    user john password $5$abc groups admins\n").config;
    let u = &c.userlists[0];
    assert_eq!(u.name, "creds");
    assert_eq!(
        (
            u.users[0].name.as_str(),
            u.users[0].password.as_str(),
            u.users[0].insecure
        ),
        ("vip", "secret", true)
    );
    assert_eq!(
        (u.users[1].insecure, u.users[1].groups.clone()),
        (false, vec!["admins".to_string()])
    );
    assert_eq!(u.groups[0].users, ["vip"]);
    assert_eq!(
        errors("userlist u\n    foo\n"),
        ["parsing [t.cfg:2]: unknown keyword 'foo' in 'users' section"]
    );
}

#[test]
fn environment_and_conditions_reach_the_parser() {
    let env = |n: &str| (n == "PORT").then(|| "9090".to_string());
    let text = ".if defined(PORT)\nfrontend f\n    bind \"127.0.0.1:${PORT}\"\n    timeout client 1s\n.else\n.alert \"PORT unset\"\n.endif\n";
    let l = load_str("t.cfg", text, &env).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(
        l.config.frontends[0].binds[0].addrs,
        [BindAddr::Inet(sa("127.0.0.1:9090"))]
    );
    let d = load_str("t.cfg", text, &no_env).err().unwrap_or_default();
    assert_eq!(
        d[0].render(5),
        "[ALERT]    (5) : config : parsing [t.cfg:6]: 'PORT unset'."
    );
}

/// Every refusal names file:line, the keyword, and for Sluice's gaps says so with a hint.
#[test]
fn refused_keywords() {
    let cases: &[(&str, &str)] = &[
        ("frontend f\n    capture cookie SRV", "'capture' expects 'cookie' <cookie_name> 'len' <len>."),
        ("frontend f\n    capture request header Host", "'capture request' expects 'header' <header_name> 'len' <len>."),
        ("frontend f\n    capture foo", "'capture' expects 'cookie' or 'request header' or 'response header'."),
        ("backend b\n    stick-table type ip size 1m", "'stick-table' is not supported by Sluice yet (persistence"),
        ("backend b\n    cookie SRV insert", "'cookie' is not supported by Sluice yet"),
        ("frontend f\n    stats enable", "'stats' is not supported by Sluice yet (the statistics page"),
        ("frontend f\n    unique-id-format", "unique-id-format expects an argument."),
        ("frontend f\n    error-log-format %t", "'error-log-format' is not supported by Sluice yet (connection errors"),
        ("defaults\n    http-request deny", "'http-request' not allowed in anonymous 'defaults' section."),
        ("defaults\n    acl a path /x", "'acl' not allowed in anonymous 'defaults' section."),
        ("defaults\n    tcp-request inspect-delay 1s", "tcp-request inspect-delay is not allowed in anonymous 'defaults' sections"),
        ("defaults\n    tcp-request frob", "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in defaults section (got 'frob')"),
        ("defaults d\n    use_backend b", "'use_backend' not allowed in 'defaults' section."),
        ("defaults d\n    declare capture request len 4", "'declare' not available in default section"),
        ("backend b\n    declare capture request len 4", "'declare' only available in frontend or listen section"),
        ("frontend f\n    declare capture sideways len 4", "'declare capture' requires a direction ('request' or 'response')"),
        ("frontend f\n    declare capture request 4", "'declare capture' requires a capture length ('len')"),
        ("frontend f\n    declare capture request len x", "'declare capture': 'len' requires a numeric value that represents the capture length"),
        ("frontend f\n    declare capture request len 0", "length must be > 0"),
        ("frontend f\n    declare frob", "unknown declaration type 'frob' (supports 'capture')"),
        ("frontend f\n    log-format %t x", "log-format expects only one argument, don't forget to escape spaces!"),
        ("frontend f\n    compression algo gzip", "'compression' is not supported by Sluice yet"),
        ("backend b\n    option abortonclose", "'option abortonclose' is not supported by Sluice yet"),
        ("backend b\n    option tcp-check", "'option tcp-check' is not supported by Sluice yet"),
        ("backend b\n    http-check connect", "'http-check connect' is not supported by Sluice yet"),
        ("backend b\n    balance rdp-cookie", "'balance rdp-cookie' is not supported by Sluice yet"),
        ("backend b\n    server s 127.0.0.1:80 ssl verify none allow-0rtt", "[t.cfg:2] : 'server b/s' : 'allow-0rtt' is not supported by Sluice yet (Sluice's TLS does not implement this setting yet)."),
        ("backend b\n    server s 127.0.0.1:80 send-proxy-v2-ssl", "'server b/s' : 'send-proxy-v2-ssl' is not supported by Sluice yet (the PROXY protocol"),
        ("backend b\n    server s 127.0.0.1:80 send-proxy", "[t.cfg:2] : 'server b/s' : 'send-proxy' is not supported by Sluice yet"),
        ("backend b\n    server s 127.0.0.1", "'server b/s' : a server without a port"),
        ("backend b\n    server s 127.0.0.1:+1", "'server b/s' : a port offset"),
        ("backend b\n    server s /run/app.sock", "'server b/s' : the server address '/run/app.sock' is not supported by Sluice yet."),
        ("frontend f\n    bind :443 ssl crt /x.pem generate-certificates", "parsing [t.cfg:2] : 'bind :443' in section 'frontend' : 'generate-certificates' is not supported by Sluice yet (Sluice's TLS"),
        ("frontend f\n    bind :443 ssl crt /x.pem proto h3", "parsing [t.cfg:2] : 'bind :443' in section 'frontend' : 'proto' :  unknown MUX protocol 'h3'"),
        ("global\n    ssl-engine rdrand", "parsing [t.cfg:2] : 'ssl-engine' is not supported by Sluice yet (Sluice's TLS"),
        ("global\n    stats socket /run/s.sock", "parsing [t.cfg:2] : 'stats socket' is not supported by Sluice yet"),
        ("global\n    nbproc 2", "parsing [t.cfg:2] : nbproc is not supported any more since HAProxy 2.5."),
        ("peers p\n    peer a 1.2.3.4:1", "parsing [t.cfg:1] : the 'peers' section is not supported by Sluice yet."),
    ];
    for (text, want) in cases {
        let e = errors(text);
        assert!(
            e.iter().any(|m| m.contains(want)),
            "{text}\n got {e:?}\n want {want}"
        );
    }
}

#[test]
fn haproxy_wording_for_mistakes() {
    let cases: &[(&str, &str)] = &[
        ("backend b\n    random draw 2", "parsing [t.cfg:2] : unknown keyword 'random' in 'backend' section; did you mean 'balance random(2)' maybe ?"),
        ("backend b\n    random draw 5", "did you mean 'balance random(5)' maybe ?"),
        ("frontend f\n    optoin httplog", "parsing [t.cfg:2] : unknown keyword 'optoin' in 'frontend' section; did you mean 'option' maybe ?"),
        ("listen l\n    balanse roundrobin", "unknown keyword 'balanse' in 'listen' section; did you mean 'balance' maybe ?"),
        ("backend b\n    frobnicate", "parsing [t.cfg:2] : unknown keyword 'frobnicate' in 'backend' section"),
        ("foo bar", "parsing [t.cfg:1]: unknown keyword 'foo' out of section."),
        ("frontend f\n    contimeout 5s", "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'."),
        ("backend b\n    clitimeout 5s", "Use 'timeout client'."),
        ("backend b\n    srvtimeout 5s", "Use 'timeout server'."),
        ("frontend f\n    timeout cliend 5s", "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'cliend')"),
        ("frontend f\n    timeout client 1x", "parsing [t.cfg:2] : unexpected character 'x' in 'timeout client'"),
        ("frontend f\n    timeout client", "'timeout client' expects an integer value (in milliseconds)"),
        ("backend b\n    timeout server 99999999999", "timer overflow in argument '99999999999' to 'timeout server' (maximum value is 2147483647 ms or ~24.8 days)"),
        ("frontend f\n    mode foo", "parsing [t.cfg:2] : unknown proxy mode 'foo'."),
        ("backend b\n    option bogus", "unknown option 'bogus'."),
        ("frontend f\n    no option httplog", "parsing [t.cfg:2]: negation/default is not supported for option 'httplog'."),
        ("frontend f\n    option httplog foo", "keyword 'httplog' only supports option 'clf'."),
        ("frontend f\n    option dontlognull x", "'option dontlognull' cannot handle unexpected argument 'x'."),
        ("backend b\n    balance foo", "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."),
        ("backend b\n    balance roundrobn", "options; did you mean 'roundrobin' maybe ?"),
        ("backend b\n    server s1 127.0.0.1:80 weight 300", "[t.cfg:2] : 'server b/s1' : weight of server s1 is not within 0 and 256 (300).."),
        ("backend b\n    server s1 127.0.0.1:80 foo", "[t.cfg:2] : 'server b/s1' : unknown keyword 'foo'"),
        ("backend b\n    server s1 127.0.0.1:80 wieght 3", "unknown keyword 'wieght'; did you mean 'weight' maybe ?"),
        ("backend b\n    server s1 127.0.0.1:8000-8001", "'server b/s1' : port range not permitted here in '127.0.0.1:8000-8001'"),
        ("backend b\n    server s1 127.0.0.1:80 inter 0", "invalid value 0 for argument 'inter' of server s1.."),
        ("backend b\n    server s1 127.0.0.1:80 rise 0", "'server b/s1' : 'rise' has to be > 0.."),
        ("backend b\n    server s1 127.0.0.1:80 id 0", "'server b/s1' : 'id' : custom id has to be > 0."),
        ("backend b\n    server s1", "[t.cfg:2] : 'server' expects <name> and <addr>[:<port>] as arguments."),
        ("backend b\n    server s1 nohost.invalid:80", "[t.cfg:2] : 'server b/s1' : could not resolve address 'nohost.invalid'."),
        ("defaults\n    bind :80", "parsing [t.cfg:2] : 'bind' not allowed in 'defaults' section."),
        ("defaults\n    server s 127.0.0.1:80", "[t.cfg:2] : 'server' not allowed in 'defaults' section."),
        ("frontend f\n    server s 127.0.0.1:80", "[t.cfg:2] : parsing [t.cfg:2] : 'server' not allowed because frontend 'f' has no backend capability."),
        ("frontend", "parsing [t.cfg:1] : 'frontend' expects an <id> argument"),
        ("frontend a/b", "parsing [t.cfg:1] : character '/' is not permitted in 'frontend' name 'a/b'."),
        ("frontend x from nope", "parsing [t.cfg:1] : defaults section 'nope' not found for frontend 'x'."),
        ("frontend y extra", "parsing [t.cfg:1] : 'frontend' cannot handle unexpected argument 'extra'."),
        ("frontend f\n    default_backend", "'default_backend' expects a backend name."),
        ("backend b\n    retries", "'retries' expects an integer argument (dispatch counts for one)."),
        ("backend b\n    disabled x", "'disabled' cannot handle unexpected argument 'x'."),
        ("backend b\n    log 1.2.3.4 local0 foo", "log : unknown optional log level 'foo'"),
        ("backend b\n    id x", "parsing [t.cfg:2]: custom id has to be > 0."),
        ("global\n    mode http", "unknown keyword 'mode' in 'global' section; did you mean 'node' maybe ?"),
        ("backend b\n    no balance", "parsing [t.cfg:2]: negation/default currently supported only for options and log."),
    ];
    for (text, want) in cases {
        let e = errors(text);
        assert!(
            e.iter().any(|m| m.contains(want)),
            "{text}\n got {e:?}\n want {want}"
        );
    }
}

#[test]
fn all_problems_are_reported() {
    let e = errors("frontend f\n    foo\n    bar\nbackend b\n    baz\n");
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[0].contains("t.cfg:2") && e[1].contains("t.cfg:3") && e[2].contains("t.cfg:5"));
}

#[test]
fn warnings_where_haproxy_warns() {
    let l = load("frontend f\n    bind :80\n    mode http\n    default_backend b\nbackend b\n    mode http\n    server s 127.0.0.1:80\n");
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("missing timeouts for frontend 'f'.\n   | While not properly invalid"));
    assert!(w[1].ends_with("timeouts are set to a non-zero value: 'client', 'connect', 'server'."));
    let cases: &[(&str, &str)] = &[
        ("frontend g\n    timeout client 1s", "frontend 'g' has no 'bind' directive. Please declare it as a backend if this was intended."),
        ("frontend f\n    bind :1\n    balance roundrobin", "parsing [t.cfg:3] : 'balance' ignored because frontend 'f' has no backend capability."),
        ("frontend f\n    bind :1\n    timeout connect 2s", "'timeout connect' will be ignored because frontend 'f' has no backend capability"),
        ("backend b\n    maxconn 10", "'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?"),
        ("backend b\n    option httplog", "backend 'b' : 'option httplog' directive is ignored in backends."),
        ("backend b\n    option dontlognull", "'dontlognull' ignored because backend 'b' has no frontend capability."),
        ("backend b\n    bind :80", "'bind' ignored because backend 'b' has no frontend capability."),
        ("frontend f\n    bind :1\n    option httplog\n    log stdout local0", "parsing [t.cfg:3] : 'option httplog' not usable with frontend 'f' (needs 'mode http'). Falling back to 'option tcplog'."),
        ("frontend f\n    bind :1\n    option tcplog", "log format ignored for frontend 'f' since it has no log address."),
        ("frontend f\n    bind :1\n    option forwardfor", "'option forwardfor' ignored for frontend 'f' as it requires HTTP mode."),
        ("backend b\n    balance uri", "Layer 7 hash not possible for backend 'b' (needs 'mode http'). Falling back to round robin."),
        ("backend b\n    http-check send meth GET", "backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored."),
        (".warning \"careful\"", "parsing [t.cfg:1]: 'careful'."),
    ];
    for (text, want) in cases {
        let l = load(&format!("{TIMEOUTS}{text}\n"));
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        let text_lines = TIMEOUTS.lines().count();
        // Locations in the table are relative to the snippet.
        let want = shift_lines(want, text_lines);
        assert!(
            w.iter().any(|m| m.contains(&want)),
            "{text}\n got {w:?}\n want {want}"
        );
    }
    let c = load(&format!("{TIMEOUTS}backend b\n    balance uri\n")).config;
    assert_eq!(c.backends[0].balance, Balance::RoundRobin);
}

/// Rewrites `t.cfg:N` in `s` to `t.cfg:N+by`.
fn shift_lines(s: &str, by: usize) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("t.cfg:") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = rest[..digits].parse().unwrap_or(0);
        out.push_str(&(n + by).to_string());
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn cross_section_checks() {
    let cases: &[(&str, &str)] = &[
        ("frontend f\n    bind :1\n    default_backend nope", "Proxy 'f': unable to find required default_backend: 'nope'."),
        (
            "frontend f\n    bind :1\n    mode http\n    default_backend b\nbackend b\n    mode tcp",
            "http frontend 'f' (t.cfg:5) tries to use incompatible tcp backend 'b' (t.cfg:9) as its default backend (see 'mode').",
        ),
        (
            "backend b\n    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81",
            "parsing [t.cfg:7] : backend 'b', another server named 's1' was already defined at line 6, please use distinct names.",
        ),
        (
            "backend b\n    server s1 127.0.0.1:80 id 1\n    server s2 127.0.0.1:80 id 1",
            "[t.cfg:7] : 'server b/s2' : 'id' : custom id 1 already used at t.cfg:6 ('server s1').",
        ),
        ("backend b\nfrontend x\n    bind :1\nfrontend x\n    bind :2", "Parsing [t.cfg:8]: frontend 'x' has the same name as frontend 'x' declared at t.cfg:6."),
        ("backend b\nlisten b\n    bind :1\nbackend b", "Parsing [t.cfg:8]: backend 'b' has the same name as backend 'b' declared at t.cfg:5."),
    ];
    for (text, want) in cases {
        let e = errors(&format!("{TIMEOUTS}{text}\n"));
        assert!(
            e.iter().any(|m| m.contains(want)),
            "{text}\n got {e:?}\n want {want}"
        );
    }
    // A frontend and a backend may share a name, and a TCP frontend may use an HTTP backend.
    let c = clean("frontend x\n    bind :1\n    default_backend x\nbackend x\n    mode http\n");
    assert_eq!(c.frontends[0].default_backend, Some(0));
}

#[test]
fn multiple_files_and_directories() {
    let dir = std::env::temp_dir().join(format!("sluice-config-dir-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let write = |n: &str, t: &str| std::fs::write(dir.join(n), t).unwrap_or_else(|e| panic!("{e}"));
    write("20-backend.cfg", "backend b\n    server s 127.0.0.1:80\n");
    write(
        "10-front.cfg",
        &format!("{TIMEOUTS}frontend f\n    bind :1\n    default_backend b\n"),
    );
    write("ignored.txt", "garbage");
    let l = load_paths(std::slice::from_ref(&dir)).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(l.config.frontends[0].default_backend, Some(0));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let f = dir.join("20-backend.cfg");
    let l = load_paths(&[f]);
    assert!(l.is_ok());
    let _ = std::fs::remove_dir_all(&dir);
    let e = load_paths(&[PathBuf::from("/nonexistent/x.cfg")])
        .err()
        .unwrap_or_default();
    assert_eq!(
        e[0].render(3),
        "[ALERT]    (3) : config : Cannot open configuration file/directory /nonexistent/x.cfg : No such file or directory"
    );
}

#[test]
fn fuzz_entry_never_panics() {
    let inputs: &[&[u8]] = &[
        b"",
        b"\xff\xfe\x00",
        b"frontend\n",
        b"backend b\n server\n server s\n server s :\n server s [\n",
        b".if\n.elif\n.else\n.else\n.endif\n.endif\n",
        b"a \"${\n",
        b"global\n tune.bufsize 99999999999999999999999\n",
        b"listen l\n bind :0-\n bind :-\n bind [\n bind fd@\n balance random(\n balance hdr(\n",
        b"defaults\n timeout client 4294967296d\n option httpchk a b c d\n",
        b"backend b\n server s 127.0.0.1:80 weight -9999999999999999999999 rise\n",
        b"frontend f\n bind \"\\x\"\n option forwardfor except 1.2.3.4/\n",
        b"frontend f\n bind :1 ssl crt\n bind :2 ssl ssl-min-ver\n bind :3 ssl crt a no-tlsv10 force-tlsv13 alpn ,\n",
        b"backend b\n default-server no-sslv3 ssl\n server s 127.0.0.1:1 ssl alpn , sni\n server t 127.0.0.1:2 check-ssl no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13\n",
        b"global\n ssl-default-bind-options ssl-min-ver\n ssl-default-server-options force-tlsv13 ssl-max-ver TLSv1.2\n tune.ssl.lifetime 99999999999999999999999d\n tune.ssl.lifetime 1\xff\n",
    ];
    for i in inputs {
        fuzz_parse(i);
    }
}

/// Deterministic mutations of a realistic configuration (byte flips, truncations, spliced
/// keywords): loading must always return, never panic.
#[test]
fn mutated_configurations_never_panic() {
    let base = format!(
        "{TIMEOUTS}global\n    log stdout format raw local0\n.if defined(X)\n.endif\nfrontend f\n    bind \"127.0.0.1:8080\",:8081-8082 name x\n    option forwardfor except 10.0.0.0/8\n    default_backend b\nbackend b\n    balance uri depth 2\n    option httpchk GET /\n    http-check expect ! status 200-299\n    default-server inter 1s\n    server s 127.0.0.1:80 weight 3 check id 4\n"
    );
    let extra: &[&[u8]] = &[
        b"\"",
        b"'",
        b"\\",
        b"#",
        b"$",
        b"${",
        b"(",
        b",",
        b":",
        b"-",
        b"\n.if ",
        b"\n.endif",
        b" 0",
        b" 99999999999999",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..400 {
        let mut bytes = base.clone().into_bytes();
        for _ in 0..(next() % 4 + 1) {
            let pos = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[pos] = (next() % 256) as u8,
                1 => bytes.truncate(pos.max(1)),
                _ => {
                    let e = extra[(next() as usize) % extra.len()];
                    bytes.splice(pos..pos, e.iter().copied());
                }
            }
        }
        fuzz_parse(&bytes);
    }
}

#[test]
fn tls_bind_end_to_end() {
    let c = clean(
        "global
    crt-base /etc/certs
    ca-base /etc/ca
    ssl-default-bind-ciphers DEFAULT-CIPHERS
    ssl-default-bind-options no-sslv3 no-tlsv10 no-tlsv11 no-tls-tickets
frontend f
    bind :443 ssl crt site.pem ca-file clients.pem verify optional alpn h2,http/1.1
    bind :80
",
    );
    let b = &c.frontends[0].binds;
    let ssl = b[0].ssl.clone().unwrap_or_else(|| panic!("ssl"));
    assert_eq!(ssl.crt, [PathBuf::from("/etc/certs/site.pem")]);
    assert_eq!(ssl.ca_file, Some(PathBuf::from("/etc/ca/clients.pem")));
    assert_eq!(ssl.verify, SslVerify::Optional);
    assert_eq!(ssl.alpn.as_deref(), Some("h2,http/1.1"));
    assert_eq!(ssl.ciphers.as_deref(), Some("DEFAULT-CIPHERS"));
    assert_eq!((ssl.min_ver, ssl.max_ver), (Some(SslVersion::TlsV12), None));
    assert!(ssl.no_tls_tickets);
    assert_eq!(b[1].ssl, None);
    // HAProxy applies the bases and defaults known when the bind line is read.
    let c = clean("frontend f\n    bind :443 ssl crt site.pem\nglobal\n    crt-base /etc/certs\n");
    let ssl = c.frontends[0].binds[0]
        .ssl
        .clone()
        .unwrap_or_else(|| panic!("ssl"));
    assert_eq!(ssl.crt, [PathBuf::from("site.pem")]);
}

#[test]
fn tls_server_end_to_end() {
    let c = clean(
        "global
    ca-base /etc/ca
    crt-base /etc/certs
    ssl-default-server-ciphers DEF
    ssl-default-server-ciphersuites DEF13
    ssl-default-server-options ssl-min-ver TLSv1.2 no-tls-tickets
backend b
    server a 127.0.0.1:443 ssl verify required ca-file ca.pem crl-file /crl.pem crt client.pem verifyhost api.example.com sni req.hdr(host) alpn h2,http/1.1 ciphers MINE curves X25519 ssl-max-ver TLSv1.3 no-ssl-reuse check-ssl check-sni health.example.com check-alpn http/1.1
    server b 127.0.0.1:444 ssl verify none tls-tickets force-tlsv13
    server c 127.0.0.1:80
",
    );
    let s = &c.backends[0].servers;
    let want = ServerSsl {
        enabled: true,
        verify: SslVerify::Required,
        verifyhost: Some("api.example.com".into()),
        ca_file: Some("/etc/ca/ca.pem".into()),
        crl_file: Some("/crl.pem".into()),
        crt: Some("/etc/certs/client.pem".into()),
        sni: Some("req.hdr(host)".into()),
        alpn: Some("h2,http/1.1".into()),
        min_ver: Some(SslVersion::TlsV12),
        max_ver: Some(SslVersion::TlsV13),
        ciphers: Some("MINE".into()),
        ciphersuites: Some("DEF13".into()),
        curves: Some("X25519".into()),
        no_tls_tickets: true,
        no_ssl_reuse: true,
        check_ssl: true,
        check_sni: Some("health.example.com".into()),
        check_alpn: Some("http/1.1".into()),
    };
    assert_eq!(s[0].ssl, want);
    let b = &s[1].ssl;
    assert_eq!(
        (b.enabled, b.verify, b.no_tls_tickets, b.min_ver, b.max_ver),
        (
            true,
            SslVerify::None,
            false,
            Some(SslVersion::TlsV13),
            Some(SslVersion::TlsV13)
        )
    );
    assert_eq!(b.ciphers.as_deref(), Some("DEF"));
    // A clear-text server takes none of the TLS defaults; its verify is the global one.
    let plain = &s[2].ssl;
    assert!(!plain.enabled && !plain.check_ssl && plain.ciphers.is_none());
    assert_eq!(plain.verify, SslVerify::Required);
}

#[test]
fn tls_default_server_inheritance() {
    let l = load(&format!(
        "{TIMEOUTS}global
    ssl-server-verify none
backend b
    default-server ssl ca-file /ca.pem verify required sni str(example.com) alpn h2 ssl-min-ver TLSv1.1 no-tlsv12 check-ssl
    server a 127.0.0.1:443
    server b 127.0.0.1:444 no-ssl no-check-ssl
    server c 127.0.0.1:445 verify none alpn http/1.1 ssl-min-ver TLSv1.3
defaults
    timeout connect 1s
    timeout server 1s
    default-server ssl verify none
backend d
    server e 127.0.0.1:446
"
    ));
    // HAProxy 2.6 refuses `no-*` on a default-server without failing, and ignores them.
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        ["[t.cfg:8] : 'no-tlsv12' option is not accepted in default-server sections"]
    );
    let c = l.config;
    let s = &c.backends[0].servers;
    assert!(s[0].ssl.enabled && s[0].ssl.check_ssl);
    assert_eq!(s[0].ssl.verify, SslVerify::Required);
    assert_eq!(s[0].ssl.ca_file, Some(PathBuf::from("/ca.pem")));
    assert_eq!(s[0].ssl.sni.as_deref(), Some("str(example.com)"));
    assert_eq!(s[0].ssl.alpn.as_deref(), Some("h2"));
    assert_eq!(
        (s[0].ssl.min_ver, s[0].ssl.max_ver),
        (Some(SslVersion::TlsV11), None)
    );
    assert!(!s[1].ssl.enabled && !s[1].ssl.check_ssl);
    assert_eq!(s[2].ssl.verify, SslVerify::None);
    assert_eq!(s[2].ssl.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(s[2].ssl.min_ver, Some(SslVersion::TlsV13));
    // A default-server in a defaults section reaches the servers of later backends.
    let e = &c.backends[1].servers[0].ssl;
    assert!(e.enabled);
    assert_eq!(e.verify, SslVerify::None);
}

#[test]
fn tls_server_verify_needs_a_ca() {
    let by_default = "[t.cfg:6] : 'server b/s' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.";
    let cases: &[(&str, &str)] = &[
        ("backend b\n    server s 127.0.0.1:443 ssl", by_default),
        ("backend b\n    server s 127.0.0.1:443 ssl verify required", by_default),
        ("backend b\n    server s 127.0.0.1:443 check-ssl", by_default),
        ("backend b\n    default-server ssl\n    server s 127.0.0.1:443", &by_default.replace(":6]", ":7]")),
        // `ssl-server-verify` is read after every file, as HAProxy does.
        ("backend b\n    server s 127.0.0.1:443 ssl verify required\nglobal\n    ssl-server-verify none", "[t.cfg:6] : 'server b/s' : verify is enabled but no CA file specified."),
    ];
    for (text, want) in cases {
        let e = errors(&format!("{TIMEOUTS}{text}\n"));
        assert_eq!(e, [*want], "{text}");
    }
    for ok in [
        "backend b\n    server s 127.0.0.1:443 ssl verify none\n",
        "backend b\n    server s 127.0.0.1:443 ssl ca-file /ca.pem\n",
        "global\n    ssl-server-verify none\nbackend b\n    server s 127.0.0.1:443 ssl\n",
        "backend b\n    server s 127.0.0.1:443 ssl verify none\nglobal\n    ssl-server-verify required\n",
        "backend b\n    server s 127.0.0.1:443 verify required\n",
    ] {
        clean(ok);
    }
    let c =
        clean("backend b\n    server s 127.0.0.1:443 ssl\nglobal\n    ssl-server-verify none\n");
    assert_eq!(c.backends[0].servers[0].ssl.verify, SslVerify::None);
}

#[test]
fn tls_server_errors_word_like_haproxy() {
    let cases: &[(&str, &str)] = &[
        ("server s 127.0.0.1:443 ssl verify optional", "[t.cfg:2] : 'server b/s' : 'verify' : unknown verify method 'optional', only 'none' and 'required' are supported."),
        ("server s 127.0.0.1:443 verify foo", "[t.cfg:2] : 'server b/s' : 'verify' : unknown verify method 'foo', only 'none' and 'required' are supported."),
        ("server s 127.0.0.1:443 ssl verify", "[t.cfg:2] : 'server b/s' : 'verify' : missing verify method."),
        ("server s 127.0.0.1:443 ssl verify none verifyhost", "'server b/s' : 'verifyhost' : missing hostname to verify against."),
        ("server s 127.0.0.1:443 ssl verify none ca-file", "'server b/s' : 'ca-file' : missing CAfile path."),
        ("server s 127.0.0.1:443 ssl verify none crl-file", "'server b/s' : 'crl-file' : missing CRLfile path."),
        ("server s 127.0.0.1:443 ssl verify none crt", "'server b/s' : 'crt' : missing certificate file path."),
        ("server s 127.0.0.1:443 ssl verify none sni", "'server b/s' : 'sni' : missing sni expression."),
        ("server s 127.0.0.1:443 ssl verify none alpn", "'server b/s' : 'alpn' : missing the comma-delimited ALPN protocol suite."),
        ("server s 127.0.0.1:443 ssl verify none check-alpn", "'server b/s' : 'check-alpn' : missing the comma-delimited ALPN protocol suite."),
        ("server s 127.0.0.1:443 ssl verify none npn", "'server b/s' : 'npn' : missing the comma-delimited NPN protocol suite."),
        ("server s 127.0.0.1:443 ssl verify none ciphers", "'server b/s' : 'ciphers' : missing cipher suite."),
        ("server s 127.0.0.1:443 ssl verify none ciphersuites", "'server b/s' : 'ciphersuites' : missing cipher suite."),
        ("server s 127.0.0.1:443 ssl verify none check-sni", "'server b/s' : 'check-sni' : missing SNI."),
        ("server s 127.0.0.1:443 ssl verify none ssl-min-ver", "[t.cfg:2] : 'server b/s' : 'ssl-min-ver' : missing the ssl/tls version."),
        ("server s 127.0.0.1:443 ssl verify none ssl-min-ver foo", "[t.cfg:2] : 'server b/s' : 'foo' : unknown ssl/tls version."),
        ("server s 127.0.0.1:443 ssl verify none no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13", "[t.cfg:2] : 'server b/s' : backend 'b': all SSL/TLS versions are disabled for server 's'."),
        ("server s 127.0.0.1:443 ssl verify none ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2", "'server b/s' : backend 'b': all SSL/TLS versions are disabled for server 's'."),
        ("default-server verify optional", "[t.cfg:2] : 'default-server' : 'verify' : unknown verify method 'optional', only 'none' and 'required' are supported."),
    ];
    for (text, want) in cases {
        let e = errors(&format!("backend b\n    {text}\n"));
        assert_eq!(e.len(), 1, "{text}: {e:?}");
        assert!(e[0].ends_with(want), "{text}\n got {e:?}\n want {want}");
        assert!(e[0].starts_with("[t.cfg:2] : "), "{e:?}");
    }
}

#[test]
fn tls_warnings_word_like_haproxy() {
    let cases: &[(&str, &str)] = &[
        ("backend b\n    server s 127.0.0.1:443 ssl verify none no-tlsv10 force-tlsv12", "[t.cfg:6] : 'server b/s' : no-sslv3/no-tlsv1x are ignored for this server. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."),
        ("listen l\n    bind :1\n    server s 127.0.0.1:443 ssl verify none no-tlsv11", "[t.cfg:7] : 'server l/s' : proxy 'l': SSL/TLS versions range not contiguous for server 's'. Hole find for TLSv1.1. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."),
        ("backend b\n    server s 127.0.0.1:443 ssl verify none npn h2", "[t.cfg:6] : 'server b/s' : 'npn' is ignored: Sluice's TLS library (rustls) has no NPN, only ALPN (see 'alpn')."),
        ("global\n    ssl-default-bind-options no-tlsv10\nfrontend f\n    bind :4443 ssl crt /a.pem ssl-min-ver TLSv1.2", "Proxy 'f': no-sslv3/no-tlsv1x are ignored for bind ':4443' at [t.cfg:8]. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."),
        ("global\n    ssl-default-server-options no-tlsv10\nbackend b\n    server s 127.0.0.1:443 ssl verify none ssl-min-ver TLSv1.2", "[t.cfg:8] : 'server b/s' : no-sslv3/no-tlsv1x are ignored for this server."),
        ("global\n    tune.ssl.default-dh-param 2048", "parsing [t.cfg:6] : 'tune.ssl.default-dh-param' has no effect"),
    ];
    for (text, want) in cases {
        let l = load(&format!("{TIMEOUTS}{text}\n"));
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert!(
            w.iter().any(|m| m.contains(want)),
            "{text}\n got {w:?}\n want {want}"
        );
    }
    // A TLS server keeps working when the clear-text ones around it are fine.
    let l = load(&format!(
        "{TIMEOUTS}backend b\n    server s 127.0.0.1:443 verify none no-tlsv11\n"
    ));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn tls_bind_post_checks_are_errors() {
    let e = errors(&format!(
        "{TIMEOUTS}frontend f\n    bind :4443 ssl\n    bind :4444 ssl crt /a.pem verify required\n"
    ));
    assert_eq!(
        e,
        [
            "Proxy 'f': no SSL certificate specified for bind ':4443' at [t.cfg:6] (use 'crt').",
            "Proxy 'f': verify is enabled but no CA file specified for bind ':4444' at [t.cfg:7].",
        ]
    );
}

/// Rules in named defaults sections (HAProxy 2.5+): kept once, referenced by the proxies
/// created from the section (explicitly with `from` or as the last defaults), never copied
/// into them; `tcp-request inspect-delay` is a setting and is copied.
#[test]
fn named_defaults_rules_are_referenced_by_their_proxies() {
    let c = clean(&format!(
        "defaults web\n    mode http\n    timeout connect 5s\n    timeout client 50s\n    timeout server 50s\n    acl api path_beg /api\n    http-request deny if api\n    tcp-request inspect-delay 2s\nfrontend f from web\n    bind :80\n    http-request set-header x-a 1\n    default_backend b\nfrontend g from web\n    bind :81\n    default_backend b\n{TIMEOUTS}backend b\n    mode http\n    server s 127.0.0.1:1\n"
    ));
    assert_eq!(c.defaults_rules.len(), 1);
    let d = &c.defaults_rules[0];
    assert_eq!(d.name, "web");
    let kws: Vec<&str> = d.rules.iter().map(|r| r.keyword.as_str()).collect();
    assert_eq!(kws, ["acl", "http-request", "tcp-request"]);
    for fe in &c.frontends {
        assert_eq!(fe.defaults_rules, Some(0), "{}", fe.name);
        // Only the inspect-delay setting is copied into the proxy.
        assert_eq!(fe.rules[0].words[1], "inspect-delay", "{}", fe.name);
    }
    assert_eq!(c.frontends[0].rules.len(), 2);
    assert_eq!(c.backends[0].defaults_rules, None);
    // A defaults section with only ACLs has no rules to reference.
    let c = clean("defaults d\n    mode http\n    timeout connect 5s\n    timeout client 50s\n    timeout server 50s\n    acl a path /x\nbackend b\n    server s 127.0.0.1:1\n");
    assert!(c.defaults_rules.is_empty());
    assert_eq!(c.backends[0].defaults_rules, None);
}

/// HAProxy 2.6's checks on what may be created from a defaults section with rules, with its
/// words (observed with `haproxy -c`).
#[test]
fn defaults_rules_inheritance_is_checked_as_haproxy_does() {
    let d = "defaults d\n    mode http\n    http-request deny\n";
    let cases = [
        (
            format!("{d}frontend f from d\n    bind :80\nbackend b from d\n"),
            "parsing [t.cfg:6]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at t.cfg:1).",
        ),
        (
            format!("{d}listen l from d\n    bind :80\n"),
            "parsing [t.cfg:4]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.",
        ),
        (
            format!("{d}defaults e from d\n"),
            "parsing [t.cfg:4]: a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at t.cfg:1).",
        ),
        (
            "defaults d\n    tcp-request connection reject\nbackend b from d\n".to_string(),
            "parsing [t.cfg:3]: a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at t.cfg:1).",
        ),
        (
            "defaults d\n    mode http\n    http-request capture req.hdr(host) len 10\nfrontend f from d\n    bind :80\nbackend b\n".to_string(),
            "parsing [t.cfg:6]: backend or defaults sections cannot inherit from a defaults section defining capptures (defaults section at t.cfg:1).",
        ),
    ];
    for (text, want) in cases {
        let e = errors(&text);
        assert!(
            e.iter().any(|m| m == want),
            "{text}\n got {e:?}\n want {want}"
        );
    }
}

#[test]
fn capture_slots_follow_declaration_order() {
    let c = clean(&format!(
        "{TIMEOUTS}frontend f\n    mode http\n    bind :80\n    http-request capture req.hdr(x-a) len 5\n    capture request header Host len 20\n    declare capture request len 8\n    capture response header x-res len 10\n    declare capture response len 4\n    capture cookie SESS len 12\n    default_backend b\nbackend b\n    mode http\n    server s 127.0.0.1:1\n"
    ));
    let f = &c.frontends[0];
    let req: Vec<(&str, usize)> = f
        .capture_request
        .iter()
        .map(|(n, l)| (n.as_str(), *l))
        .collect();
    assert_eq!(req, [("", 5), ("Host", 20), ("", 8)]);
    let res: Vec<(&str, usize)> = f
        .capture_response
        .iter()
        .map(|(n, l)| (n.as_str(), *l))
        .collect();
    assert_eq!(res, [("x-res", 10), ("", 4)]);
    assert_eq!(f.capture_cookie, Some(("SESS".to_string(), 12)));
    assert_eq!(f.rules[0].capture_slot, Some(0));
    // HAProxy cuts a cookie capture to tune.http.cookielen (63) and says so.
    let l = load(&format!(
        "{TIMEOUTS}frontend f\n    bind :80\n    capture cookie A len 100\n"
    ));
    assert_eq!(l.config.frontends[0].capture_cookie, Some(("A".into(), 63)));
    assert!(
        l.warnings
            .iter()
            .any(|w| w.to_string() == "truncating capture length to 63 bytes for frontend 'f'."),
        "{:?}",
        l.warnings
    );
}

#[test]
fn buffer_request_and_experimental_directives() {
    let c = clean(&format!(
        "global\n    expose-experimental-directives\n{TIMEOUTS}    option http-buffer-request\nfrontend f\n    bind :80\n    no option http-buffer-request\nbackend b\n    server s 127.0.0.1:1\n"
    ));
    assert!(c.global.expose_experimental);
    assert!(!c.frontends[0].buffer_request);
    assert!(c.backends[0].buffer_request);
}

/// `proto h2` on binds and servers, and `namespace` on servers (opened by the proxy) and
/// binds (checked while parsing, as HAProxy does).
#[test]
fn proto_and_namespace_keywords() {
    let c = clean(
        "frontend f\n    mode http\n    bind :8443 proto h2\n    bind :8080 proto h1\n    default_backend b\nbackend b\n    mode http\n    server s 127.0.0.1:80 proto h2 namespace blue\n    server t 127.0.0.1:81\n",
    );
    assert!(c.frontends[0].binds[0].proto_h2);
    assert!(!c.frontends[0].binds[1].proto_h2);
    let s = &c.backends[0].servers;
    assert!(s[0].proto_h2);
    assert_eq!(s[0].namespace.as_deref(), Some("blue"));
    assert!(!s[1].proto_h2);
    assert_eq!(s[1].namespace, None);
    for (text, want) in [
        (
            "backend b\n    server s 127.0.0.1:80 proto h3",
            "[t.cfg:2] : 'server b/s' : 'proto' :  unknown MUX protocol 'h3'.",
        ),
        (
            "backend b\n    server s 127.0.0.1:80 namespace",
            "'server b/s' : 'namespace' : expects <name> as argument.",
        ),
        (
            "frontend f\n    bind :80 proto",
            "parsing [t.cfg:2] : 'bind :80' in section 'frontend' : 'proto' : missing value",
        ),
        (
            "frontend f\n    bind :80 namespace",
            "parsing [t.cfg:2] : 'bind :80' in section 'frontend' : 'namespace' : missing namespace id",
        ),
        (
            "frontend f\n    bind :80 namespace sluice-no-such-namespace",
            "parsing [t.cfg:2] : 'bind :80' in section 'frontend' : error encountered while processing 'namespace'.",
        ),
    ] {
        let e = errors(text).join("\n");
        assert!(e.contains(want), "{text}: {e}");
    }
}
