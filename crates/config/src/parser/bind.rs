//! `bind ADDR[,ADDR...] [options]` (manual sections 4.2 "bind" and 5.1 "Bind options"):
//! `IP:PORT`, `:PORT`, `*:PORT`, `[::]:PORT`, `ipv4@`/`ipv6@`, port ranges, `fd@N`,
//! `unix@PATH` and absolute paths. Of the options Sluice has `name`, `v4v6`, `v6only`, `ssl`
//! and the TLS options its TLS engine implements; the others (PROXY protocol, ...) are
//! refused until they are implemented.

use std::path::PathBuf;

use super::addr::{ip_family, resolve_host, split_host_port, split_prefix};
use super::tls::{self, arg_of, with_base, Methods, NPN_IGNORED};
use crate::diag::{did_you_mean_suffix, Diagnostic, Severity};
use crate::keywords::{unsupported, BIND_KEYWORDS};
use crate::lexer::Line;
use crate::model::{Bind, BindAddr, BindSsl, Global, SslVerify};
use crate::units::did_you_mean;

/// What a `bind` line is parsed against.
pub struct BindContext<'a> {
    /// The section keyword (`frontend`, `listen`), for messages.
    pub section: &'a str,
    /// The proxy's name, for the messages HAProxy prints after parsing.
    pub proxy: &'a str,
    /// The global section as read so far: `crt-base`, `ca-base`, `ssl-default-bind-*`.
    pub global: &'a Global,
}

/// Parses one `bind` line; `None` after reporting problems. Problems HAProxy reports only
/// once every file is read (no certificate, verify without CA, no protocol version left) go
/// to `deferred`, worded as HAProxy words them.
pub fn parse(
    line: &Line,
    ctx: &BindContext,
    diags: &mut Vec<Diagnostic>,
    deferred: &mut Vec<Diagnostic>,
) -> Option<Bind> {
    let loc = &line.location;
    let section = ctx.section;
    let Some(spec) = line.words.get(1) else {
        diags.push(Diagnostic::alert(
            loc,
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        ));
        return None;
    };
    let mut addrs = Vec::new();
    let mut ok = true;
    for item in spec.split(',') {
        match parse_addr(item) {
            Ok(mut a) => addrs.append(&mut a),
            Err(msg) => {
                diags.push(Diagnostic::alert(loc, format!("'bind' : {msg}")));
                ok = false;
            }
        }
    }
    let mut bind = Bind {
        addrs,
        name: None,
        v6only: None,
        ssl: None,
        proto_h2: false,
        namespace: None,
        location: loc.clone(),
    };
    let prefix = format!("'bind {spec}' in section '{section}'");
    let global = ctx.global;
    // TLS options are collected whether or not `ssl` is there: HAProxy accepts them on a
    // clear-text listener too (and ignores them).
    let mut tls = BindSsl::default();
    let mut use_ssl = false;
    let mut methods = Methods::default();
    let mut i = 2;
    while i < line.words.len() {
        let kw = line.words[i].as_str();
        let arg = arg_of(&line.words, i);
        let takes_arg = matches!(
            kw,
            "crt"
                | "crt-list"
                | "ca-file"
                | "crl-file"
                | "verify"
                | "alpn"
                | "npn"
                | "ssl-min-ver"
                | "ssl-max-ver"
                | "ciphers"
                | "ciphersuites"
                | "curves"
                | "ecdhe"
        );
        if takes_arg {
            match tls_option(&mut tls, &mut methods, global, kw, arg) {
                Ok(()) if kw == "npn" => diags.push(Diagnostic::warning(
                    loc,
                    format!("{prefix} : {NPN_IGNORED}"),
                )),
                Ok(()) => {}
                Err(msg) => {
                    diags.push(Diagnostic::alert(loc, format!("{prefix} : {msg}")));
                    return None;
                }
            }
            i += 2;
            continue;
        }
        match kw {
            "namespace" => {
                let Some(ns) = arg else {
                    diags.push(Diagnostic::alert(
                        loc,
                        format!("{prefix} : 'namespace' : missing namespace id"),
                    ));
                    return None;
                };
                // HAProxy opens the namespace while parsing, and says so twice.
                if std::fs::File::open(std::path::Path::new("/var/run/netns").join(ns)).is_err() {
                    diags.push(Diagnostic::global(
                        Severity::Alert,
                        format!("Cannot open namespace '{ns}'."),
                    ));
                    diags.push(Diagnostic::alert(
                        loc,
                        format!("{prefix} : error encountered while processing 'namespace'."),
                    ));
                    return None;
                }
                bind.namespace = Some(ns.to_string());
                i += 1;
            }
            "name" => match line.words.get(i + 1) {
                Some(n) => {
                    bind.name = Some(n.clone());
                    i += 1;
                }
                None => {
                    diags.push(Diagnostic::alert(
                        loc,
                        format!("{prefix} : 'name' : missing name."),
                    ));
                    ok = false;
                }
            },
            "v4v6" => bind.v6only = Some(false),
            "v6only" => bind.v6only = Some(true),
            "ssl" => use_ssl = true,
            "strict-sni" => tls.strict_sni = true,
            "no-tls-tickets" => tls.no_tls_tickets = true,
            "prefer-client-ciphers" => tls.prefer_client_ciphers = true,
            "no-ca-names" => tls.no_ca_names = true,
            _ if methods.option(kw) => {}
            "proto" => {
                match arg {
                    Some("h2") => bind.proto_h2 = true,
                    Some("h1") => bind.proto_h2 = false,
                    Some(other) => {
                        diags.push(Diagnostic::alert(
                            loc,
                            format!("{prefix} : 'proto' :  unknown MUX protocol '{other}'"),
                        ));
                        return None;
                    }
                    None => {
                        diags.push(Diagnostic::alert(
                            loc,
                            format!("{prefix} : 'proto' : missing value"),
                        ));
                        return None;
                    }
                }
                i += 1;
            }
            _ if BIND_KEYWORDS.contains(&kw) => {
                diags.push(Diagnostic::alert(
                    loc,
                    format!("{prefix} : {}", unsupported(&format!("'{kw}'"), kw)),
                ));
                // The option's arguments are unknown to us: stop here rather than
                // misreading them as options.
                return None;
            }
            _ => {
                let hint = did_you_mean_suffix(did_you_mean(kw, BIND_KEYWORDS.iter().copied()));
                diags.push(Diagnostic::alert(
                    loc,
                    format!("{prefix}: unknown keyword '{kw}'{hint}"),
                ));
                return None;
            }
        }
        i += 1;
    }
    if use_ssl {
        let at = format!("Proxy '{}'", ctx.proxy);
        let this = format!("bind '{spec}' at [{loc}]");
        let mut defer = |sev: Severity, msg: String| deferred.push(Diagnostic::global(sev, msg));
        // HAProxy's `bind_parse_ssl` merge of the `ssl-default-bind-*` globals.
        let d = &global.ssl_default_bind;
        tls.ciphers = tls.ciphers.or_else(|| d.ciphers.clone());
        tls.ciphersuites = tls.ciphersuites.or_else(|| d.ciphersuites.clone());
        tls.curves = tls.curves.or_else(|| d.curves.clone());
        tls.no_tls_tickets |= d.no_tls_tickets;
        tls.prefer_client_ciphers |= d.prefer_client_ciphers;
        tls.crt_base = global.crt_base.clone();
        tls.ca_base = global.ca_base.clone();
        let range = methods.with_defaults(d).resolve();
        (tls.min_ver, tls.max_ver) = (range.min, range.max);
        if tls.crt.is_empty() && tls.crt_list.is_empty() {
            defer(
                Severity::Alert,
                format!("{at}: no SSL certificate specified for {this} (use 'crt')."),
            );
        } else {
            if tls.verify != SslVerify::None && tls.ca_file.is_none() {
                defer(
                    Severity::Alert,
                    format!("{at}: verify is enabled but no CA file specified for {this}."),
                );
            }
            if range.disabled_ignored {
                defer(Severity::Warning, format!("{at}: no-sslv3/no-tlsv1x are ignored for {this}. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."));
            }
            if range.none_left {
                defer(
                    Severity::Alert,
                    format!("{at}: all SSL/TLS versions are disabled for {this}."),
                );
            }
        }
        bind.ssl = Some(tls);
    }
    ok.then_some(bind)
}

/// A bind TLS option taking an argument; the error after the line's prefix otherwise.
fn tls_option(
    tls: &mut BindSsl,
    methods: &mut Methods,
    global: &Global,
    kw: &str,
    arg: Option<&str>,
) -> Result<(), String> {
    if matches!(kw, "ssl-min-ver" | "ssl-max-ver") {
        return methods.min_max(kw, arg);
    }
    if kw == "alpn" {
        tls.alpn = Some(tls::alpn(kw, arg)?);
        return Ok(());
    }
    let Some(arg) = arg else {
        let what = match kw {
            "crt" | "crt-list" => "missing certificate location",
            "ca-file" => "missing CAfile path",
            "crl-file" => "missing CRLfile path",
            "verify" => "missing verify method",
            "npn" => "missing the comma-delimited NPN protocol suite",
            "curves" => "missing curve suite",
            "ecdhe" => "missing named curve",
            _ => "missing cipher suite",
        };
        return Err(format!("'{kw}' : {what}"));
    };
    let ca_base = global.ca_base.as_deref();
    let value = Some(arg.to_string());
    match kw {
        "crt" => tls.crt.push(with_base(global.crt_base.as_deref(), arg)),
        // HAProxy opens the list itself without any base; the base applies to its lines.
        "crt-list" => tls.crt_list.push(PathBuf::from(arg)),
        "ca-file" => tls.ca_file = Some(with_base(ca_base, arg)),
        "crl-file" => tls.crl_file = Some(with_base(ca_base, arg)),
        "verify" => {
            tls.verify = match arg {
                "none" => SslVerify::None,
                "optional" => SslVerify::Optional,
                "required" => SslVerify::Required,
                _ => return Err(format!("'{kw}' : unknown verify method '{arg}', only 'none', 'optional', and 'required' are supported")),
            }
        }
        "npn" => {}
        "ciphers" => tls.ciphers = value,
        "ciphersuites" => tls.ciphersuites = value,
        "curves" => tls.curves = value,
        _ => tls.ecdhe = value,
    }
    Ok(())
}

/// One element of the comma-separated list, expanded over its port range.
fn parse_addr(item: &str) -> Result<Vec<BindAddr>, String> {
    if item.starts_with('/') {
        return Ok(vec![BindAddr::Unix(PathBuf::from(item))]);
    }
    let (prefix, rest) = split_prefix(item);
    match prefix {
        Some("unix") => return Ok(vec![BindAddr::Unix(PathBuf::from(rest))]),
        Some("fd") => {
            return match rest.parse::<i32>() {
                Ok(fd) if fd >= 0 => Ok(vec![BindAddr::Fd(fd)]),
                _ => Err(format!("invalid file descriptor '{rest}' in '{item}'")),
            }
        }
        _ => {}
    }
    let Some(family) = ip_family(prefix) else {
        let p = prefix.unwrap_or_default();
        return Err(unsupported(&format!("the '{p}@' address family"), p));
    };
    let (host, port) = split_host_port(rest);
    let Some(port) = port else {
        return Err(format!("missing port specification in '{item}'"));
    };
    if port.starts_with('+') || port.starts_with('-') {
        return Err(format!("port offset not permitted here in '{item}'"));
    }
    let (low, high) = match port.split_once('-') {
        Some((a, b)) => {
            let (Some(a), Some(b)) = (parse_port(a), parse_port(b)) else {
                return Err(format!("invalid port range '{port}'"));
            };
            if a > b {
                return Err(format!("invalid port range '{port}'"));
            }
            (a, b)
        }
        None => {
            let p = parse_port(port).ok_or_else(|| format!("invalid port '{port}'"))?;
            (p, p)
        }
    };
    let ip = resolve_host(host, family)
        .ok_or_else(|| format!("invalid address: '{host}' in '{item}'"))?;
    Ok((low..=high)
        .map(|p| BindAddr::Inet(std::net::SocketAddr::new(ip, p)))
        .collect())
}

/// A listening port: 1..=65535, digits only.
fn parse_port(s: &str) -> Option<u16> {
    crate::units::strict_u64(s)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Location, SslDefaults, SslVersion};
    use std::net::SocketAddr;

    fn line(text: &str) -> Line {
        Line {
            location: Location {
                file: "b.cfg".into(),
                line: 4,
            },
            words: text.split(' ').map(String::from).collect(),
        }
    }

    /// Parses `text` in frontend `fe` against `global`: the bind, the parse-time diagnostics
    /// and the deferred ones, rendered.
    fn parse_with(text: &str, global: &Global) -> (Option<Bind>, Vec<String>, Vec<String>) {
        let ctx = BindContext {
            section: "frontend",
            proxy: "fe",
            global,
        };
        let (mut diags, mut deferred) = (Vec::new(), Vec::new());
        let b = parse(&line(text), &ctx, &mut diags, &mut deferred);
        let text = |d: Vec<Diagnostic>| d.iter().map(ToString::to_string).collect();
        (b, text(diags), text(deferred))
    }

    fn parse_one(text: &str, diags: &mut Vec<Diagnostic>) -> Option<Bind> {
        let global = Global::default();
        let ctx = BindContext {
            section: "frontend",
            proxy: "fe",
            global: &global,
        };
        parse(&line(text), &ctx, diags, &mut Vec::new())
    }

    fn inet(s: &str) -> BindAddr {
        BindAddr::Inet(
            s.parse::<SocketAddr>()
                .unwrap_or_else(|e| panic!("{s}: {e}")),
        )
    }

    #[test]
    fn addresses() {
        let cases: Vec<(&str, Vec<BindAddr>)> = vec![
            ("bind 127.0.0.1:8080", vec![inet("127.0.0.1:8080")]),
            ("bind :80", vec![inet("0.0.0.0:80")]),
            ("bind *:80", vec![inet("0.0.0.0:80")]),
            ("bind [::]:80", vec![inet("[::]:80")]),
            ("bind :::80", vec![inet("[::]:80")]),
            ("bind ipv6@:80", vec![inet("[::]:80")]),
            ("bind ipv4@:80", vec![inet("0.0.0.0:80")]),
            ("bind [::1]:443", vec![inet("[::1]:443")]),
            (
                "bind :8000-8002",
                vec![
                    inet("0.0.0.0:8000"),
                    inet("0.0.0.0:8001"),
                    inet("0.0.0.0:8002"),
                ],
            ),
            (
                "bind :80,127.0.0.1:81",
                vec![inet("0.0.0.0:80"), inet("127.0.0.1:81")],
            ),
            ("bind fd@3", vec![BindAddr::Fd(3)]),
            (
                "bind unix@/run/x.sock",
                vec![BindAddr::Unix("/run/x.sock".into())],
            ),
            (
                "bind /run/y.sock",
                vec![BindAddr::Unix("/run/y.sock".into())],
            ),
        ];
        for (text, want) in cases {
            let mut diags = Vec::new();
            let b = parse_one(text, &mut diags);
            assert!(diags.is_empty(), "{text}: {diags:?}");
            assert_eq!(b.map(|b| b.addrs), Some(want), "{text}");
        }
        let mut diags = Vec::new();
        let b = parse_one("bind localhost:80", &mut diags);
        assert!(b.is_some_and(|b| matches!(b.addrs[0], BindAddr::Inet(a) if a.ip().is_loopback())));
    }

    #[test]
    fn options() {
        let mut diags = Vec::new();
        let b = parse_one("bind :80 name web v6only", &mut diags);
        assert_eq!(
            b.as_ref().and_then(|b| b.name.clone()).as_deref(),
            Some("web")
        );
        assert_eq!(b.and_then(|b| b.v6only), Some(true));
        let b = parse_one("bind :80 v4v6", &mut diags);
        assert_eq!(b.and_then(|b| b.v6only), Some(false));
        assert!(diags.is_empty());
    }

    #[test]
    fn errors() {
        let cases = [
            ("bind", "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."),
            ("bind 1.2.3.4", "'bind' : missing port specification in '1.2.3.4'"),
            ("bind 1.2.3.4:99999", "'bind' : invalid port '99999'"),
            ("bind 1.2.3.4:0", "'bind' : invalid port '0'"),
            ("bind 1.2.3.4:90-80", "'bind' : invalid port range '90-80'"),
            ("bind 1.2.3.4:+1", "'bind' : port offset not permitted here in '1.2.3.4:+1'"),
            ("bind ::8080", "'bind' : invalid address: ':' in '::8080'"),
            ("bind :80 foo", "'bind :80' in section 'frontend': unknown keyword 'foo'"),
            ("bind :80 naem x", "'bind :80' in section 'frontend': unknown keyword 'naem'; did you mean 'name' maybe ?"),
            ("bind :443 ssl crt /x.pem generate-certificates", "'bind :443' in section 'frontend' : 'generate-certificates' is not supported by Sluice yet (Sluice's TLS does not implement this setting yet)."),
            ("bind :443 ssl crt /x.pem proto h3", "'bind :443' in section 'frontend' : 'proto' :  unknown MUX protocol 'h3'"),
            ("bind :443 ssl crt /x.pem verify foo", "parsing [b.cfg:4] : 'bind :443' in section 'frontend' : 'verify' : unknown verify method 'foo', only 'none', 'optional', and 'required' are supported"),
            ("bind :443 ssl crt /x.pem verify", "'bind :443' in section 'frontend' : 'verify' : missing verify method"),
            ("bind :443 ssl crt", "parsing [b.cfg:4] : 'bind :443' in section 'frontend' : 'crt' : missing certificate location"),
            ("bind :443 ssl crt-list", "'crt-list' : missing certificate location"),
            ("bind :443 ssl ca-file", "'ca-file' : missing CAfile path"),
            ("bind :443 ssl crl-file", "'crl-file' : missing CRLfile path"),
            ("bind :443 ssl alpn", "'alpn' : missing the comma-delimited ALPN protocol suite"),
            ("bind :443 ssl npn", "'npn' : missing the comma-delimited NPN protocol suite"),
            ("bind :443 ssl ciphers", "'ciphers' : missing cipher suite"),
            ("bind :443 ssl ciphersuites", "'ciphersuites' : missing cipher suite"),
            ("bind :443 ssl curves", "'curves' : missing curve suite"),
            ("bind :443 ssl ecdhe", "'ecdhe' : missing named curve"),
            ("bind :443 ssl ssl-min-ver TLSv9", "'bind :443' in section 'frontend' : 'TLSv9' : unknown ssl/tls version"),
            ("bind :443 ssl ssl-max-ver", "'bind :443' in section 'frontend' : 'ssl-max-ver' : missing the ssl/tls version"),
            ("bind :443 ssl force-foo", "'bind :443' in section 'frontend': unknown keyword 'force-foo'"),
            ("bind :443 ssl tls-tickets", "unknown keyword 'tls-tickets'; did you mean 'no-tls-tickets' maybe ?"),
            ("bind :80 accept-proxy", "'accept-proxy' is not supported by Sluice yet"),
            ("bind abns@x", "'bind' : the 'abns@' address family is not supported by Sluice yet"),
        ];
        for (text, want) in cases {
            let mut diags = Vec::new();
            let b = parse_one(text, &mut diags);
            assert!(b.is_none(), "{text}");
            let msg = diags.first().map(ToString::to_string).unwrap_or_default();
            assert!(msg.starts_with("parsing [b.cfg:4] : "), "{msg}");
            assert!(msg.contains(want), "{text}: {msg}");
        }
    }

    #[test]
    fn tls_options() {
        let g = Global::default();
        let (b, d, post) = parse_with(
            "bind :443 ssl crt /c/a.pem crt /c/dir crt-list /c/list.txt ca-file /ca.pem crl-file /crl.pem verify optional alpn h2,http/1.1 ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 ciphers ECDHE+AESGCM ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256 ecdhe prime256v1 strict-sni no-tls-tickets prefer-client-ciphers no-ca-names",
            &g,
        );
        assert!(d.is_empty() && post.is_empty(), "{d:?} {post:?}");
        let ssl = b.and_then(|b| b.ssl).unwrap_or_else(|| panic!("no ssl"));
        let want = BindSsl {
            crt: vec!["/c/a.pem".into(), "/c/dir".into()],
            crt_list: vec!["/c/list.txt".into()],
            crt_base: None,
            ca_base: None,
            ca_file: Some("/ca.pem".into()),
            crl_file: Some("/crl.pem".into()),
            verify: SslVerify::Optional,
            alpn: Some("h2,http/1.1".into()),
            min_ver: Some(SslVersion::TlsV12),
            max_ver: Some(SslVersion::TlsV13),
            ciphers: Some("ECDHE+AESGCM".into()),
            ciphersuites: Some("TLS_AES_128_GCM_SHA256".into()),
            curves: Some("X25519:P-256".into()),
            ecdhe: Some("prime256v1".into()),
            strict_sni: true,
            no_tls_tickets: true,
            prefer_client_ciphers: true,
            no_ca_names: true,
        };
        assert_eq!(ssl, want);
        // Without `ssl` the options are accepted and the listener stays in clear, as in
        // HAProxy.
        let (b, d, post) = parse_with("bind :80 crt /c/a.pem ca-file /ca.pem verify required", &g);
        assert!(d.is_empty() && post.is_empty(), "{d:?} {post:?}");
        assert_eq!(b.map(|b| b.ssl), Some(None));
        // `ssl` may come anywhere on the line.
        let (b, _, _) = parse_with("bind :443 crt /a.pem ssl", &g);
        assert!(b.is_some_and(|b| b.ssl.is_some_and(|s| s.crt.len() == 1)));
    }

    #[test]
    fn versions_from_no_and_force() {
        let g = Global::default();
        let range = |text: &str| {
            let (b, d, post) = parse_with(text, &g);
            assert!(d.is_empty() && post.is_empty(), "{text}: {d:?} {post:?}");
            let s = b.and_then(|b| b.ssl).unwrap_or_else(|| panic!("{text}"));
            (s.min_ver, s.max_ver)
        };
        use SslVersion::*;
        assert_eq!(range("bind :443 ssl crt /a.pem"), (None, None));
        assert_eq!(
            range("bind :443 ssl crt /a.pem no-sslv3 no-tlsv10 no-tlsv11"),
            (Some(TlsV12), None)
        );
        assert_eq!(
            range("bind :443 ssl crt /a.pem no-tlsv13"),
            (None, Some(TlsV12))
        );
        for (kw, v) in [
            ("force-sslv3", SslV3),
            ("force-tlsv10", TlsV10),
            ("force-tlsv11", TlsV11),
            ("force-tlsv12", TlsV12),
            ("force-tlsv13", TlsV13),
        ] {
            assert_eq!(
                range(&format!("bind :443 ssl crt /a.pem {kw}")),
                (Some(v), Some(v))
            );
        }
        assert_eq!(
            range("bind :443 ssl crt /a.pem no-tlsv12 no-tlsv13"),
            (None, Some(TlsV11))
        );
    }

    #[test]
    fn global_defaults_and_bases() {
        let mut g = Global {
            crt_base: Some("/etc/certs".into()),
            ca_base: Some("/etc/ca".into()),
            ..Global::default()
        };
        g.ssl_default_bind = SslDefaults {
            ciphers: Some("DEF-CIPHERS".into()),
            ciphersuites: Some("DEF-SUITES".into()),
            curves: Some("X25519".into()),
            min_ver: Some(SslVersion::TlsV12),
            max_ver: None,
            disabled: Vec::new(),
            no_tls_tickets: true,
            prefer_client_ciphers: true,
        };
        let (b, d, post) = parse_with(
            "bind :443 ssl crt site.pem crt /abs.pem crt-list rel.list ca-file ca.pem crl-file /abs/crl.pem ciphers MINE",
            &g,
        );
        assert!(d.is_empty() && post.is_empty(), "{d:?} {post:?}");
        let s = b.and_then(|b| b.ssl).unwrap_or_else(|| panic!("no ssl"));
        assert_eq!(
            s.crt,
            [
                PathBuf::from("/etc/certs/site.pem"),
                PathBuf::from("/abs.pem")
            ]
        );
        // HAProxy opens a crt-list as written; the bases go along for its lines.
        assert_eq!(s.crt_list, [PathBuf::from("rel.list")]);
        assert_eq!(
            (s.crt_base.clone(), s.ca_base.clone()),
            (Some("/etc/certs".into()), Some("/etc/ca".into()))
        );
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca/ca.pem")));
        assert_eq!(s.crl_file, Some(PathBuf::from("/abs/crl.pem")));
        assert_eq!(s.ciphers.as_deref(), Some("MINE"));
        assert_eq!(s.ciphersuites.as_deref(), Some("DEF-SUITES"));
        assert_eq!(s.curves.as_deref(), Some("X25519"));
        assert_eq!((s.min_ver, s.max_ver), (Some(SslVersion::TlsV12), None));
        assert!(s.no_tls_tickets && s.prefer_client_ciphers);
        // The line's own bound wins over the default.
        let (b, _, _) = parse_with("bind :443 ssl crt a.pem ssl-min-ver TLSv1.3", &g);
        let s = b.and_then(|b| b.ssl).unwrap_or_else(|| panic!("no ssl"));
        assert_eq!(s.min_ver, Some(SslVersion::TlsV13));
        // Defaults do not touch a clear-text bind.
        let (b, _, _) = parse_with("bind :80", &g);
        assert_eq!(b.map(|b| b.ssl), Some(None));
    }

    #[test]
    fn npn_is_a_warning() {
        let (b, d, _) = parse_with(
            "bind :443 ssl crt /a.pem npn h2,http/1.1",
            &Global::default(),
        );
        assert!(b.is_some());
        assert_eq!(d, ["parsing [b.cfg:4] : 'bind :443' in section 'frontend' : 'npn' is ignored: Sluice's TLS library (rustls) has no NPN, only ALPN (see 'alpn')."]);
    }

    #[test]
    fn post_parse_checks_word_like_haproxy() {
        let g = Global::default();
        let cases = [
            ("bind :4443 ssl", "Proxy 'fe': no SSL certificate specified for bind ':4443' at [b.cfg:4] (use 'crt')."),
            ("bind :4443 ssl crt /a.pem verify required", "Proxy 'fe': verify is enabled but no CA file specified for bind ':4443' at [b.cfg:4]."),
            ("bind :4443 ssl crt-list /l verify optional", "Proxy 'fe': verify is enabled but no CA file specified for bind ':4443' at [b.cfg:4]."),
            ("bind :4443 ssl crt /a.pem no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13", "Proxy 'fe': all SSL/TLS versions are disabled for bind ':4443' at [b.cfg:4]."),
            ("bind :4443 ssl crt /a.pem ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2", "Proxy 'fe': all SSL/TLS versions are disabled for bind ':4443' at [b.cfg:4]."),
            ("bind :4443 ssl crt /a.pem no-tlsv10 ssl-min-ver TLSv1.2", "Proxy 'fe': no-sslv3/no-tlsv1x are ignored for bind ':4443' at [b.cfg:4]. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."),
        ];
        for (text, want) in cases {
            let (b, d, post) = parse_with(text, &g);
            assert!(b.is_some() && d.is_empty(), "{text}: {d:?}");
            assert_eq!(post, [want], "{text}");
        }
        let ca = Global::default();
        let (_, _, post) = parse_with(
            "bind :4443 ssl crt /a.pem verify required ca-file /ca.pem",
            &ca,
        );
        assert!(post.is_empty(), "{post:?}");
    }
}
