//! `server NAME ADDR [params]` and `default-server [params]` (manual sections 4.2 "server",
//! 5.2 "Server and default-server options"). Addresses are resolved once at load (HAProxy's
//! `init-addr last,libc` default); the parameters Sluice implements set the model, HAProxy's
//! other server keywords are refused as not supported yet, anything else is unknown.

use std::net::{IpAddr, SocketAddr};

use super::addr::{ip_family, resolve_host, split_host_port, split_prefix, Family};
use super::draft::{ProxyDraft, ServerDraft, ServerExtra};
use super::tls::{self, arg_of, with_base, Methods, NPN_IGNORED};
use crate::diag::{did_you_mean_suffix, Diagnostic, Style};
use crate::keywords::{unsupported, SERVER_KEYWORDS};
use crate::lexer::Line;
use crate::model::{Global, Location, Server, SslVerify};
use crate::units::{atol, did_you_mean, parse_time, time_error_message};

fn bracket(loc: &Location, msg: String) -> Diagnostic {
    Diagnostic::alert(loc, msg).with_style(Style::Bracket)
}

/// `server NAME ADDR [params]`.
pub fn parse_server(p: &mut ProxyDraft, line: &Line, global: &Global, diags: &mut Vec<Diagnostic>) {
    let loc = &line.location;
    let (Some(name), Some(addr)) = (line.words.get(1), line.words.get(2)) else {
        diags.push(bracket(
            loc,
            "'server' expects <name> and <addr>[:<port>] as arguments.".into(),
        ));
        return;
    };
    let prefix = format!("'server {}/{name}' : ", p.name);
    let mut srv = p.default_server.clone();
    srv.name = name.clone();
    srv.location = loc.clone();
    let mut explicit_id = false;
    let mut extra = p.default_extra.clone();
    let params_ok = apply_params(
        &mut srv,
        &mut explicit_id,
        &mut extra,
        &line.words[3..],
        &prefix,
        false,
        global,
        loc,
        diags,
    );
    let addr = match server_addr(addr, extra.init_addr.as_deref()) {
        Ok(a) => a,
        Err(msg) => {
            diags.push(bracket(loc, format!("{prefix}{msg}")));
            return;
        }
    };
    if !params_ok {
        return;
    }
    if !tls_defaults(&mut srv, &extra, global, &prefix, p, loc, diags) {
        return;
    }
    srv.addr = addr;
    p.servers.push(ServerDraft {
        server: srv,
        explicit_id,
        verify: extra.verify,
    });
}

/// The `ssl-default-server-*` globals merged into a server using TLS (HAProxy's
/// `ssl_sock_init_srv`, run by its `ssl` and `check-ssl` keywords) and its protocol
/// versions resolved, with HAProxy's messages about them; false after an alert.
fn tls_defaults(
    srv: &mut Server,
    extra: &ServerExtra,
    global: &Global,
    prefix: &str,
    p: &ProxyDraft,
    loc: &Location,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let ssl = &mut srv.ssl;
    let d = &global.ssl_default_server;
    let in_use = ssl.enabled || ssl.check_ssl;
    let mut methods = extra.methods;
    let mut no_tickets = extra.tls_tickets.map(|t| !t);
    if in_use {
        ssl.ciphers = ssl.ciphers.take().or_else(|| d.ciphers.clone());
        ssl.ciphersuites = ssl.ciphersuites.take().or_else(|| d.ciphersuites.clone());
        ssl.curves = ssl.curves.take().or_else(|| d.curves.clone());
        methods = methods.with_defaults(d);
        no_tickets = no_tickets.or(Some(d.no_tls_tickets));
    }
    ssl.no_tls_tickets = no_tickets.unwrap_or(false);
    let range = methods.resolve();
    (ssl.min_ver, ssl.max_ver) = (range.min, range.max);
    if !in_use {
        return true;
    }
    let who = format!("{} '{}'", p.kind.type_str(), p.name);
    if range.disabled_ignored {
        diags.push(
            Diagnostic::warning(loc, format!("{prefix}no-sslv3/no-tlsv1x are ignored for this server. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."))
                .with_style(Style::Bracket),
        );
    }
    if range.none_left {
        diags.push(bracket(
            loc,
            format!(
                "{prefix}{who}: all SSL/TLS versions are disabled for server '{}'.",
                srv.name
            ),
        ));
        return false;
    }
    for hole in range.holes {
        diags.push(
            Diagnostic::warning(loc, format!("{prefix}{who}: SSL/TLS versions range not contiguous for server '{}'. Hole find for {hole}. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.", srv.name))
                .with_style(Style::Bracket),
        );
    }
    true
}

/// `default-server [params]`: changes the starting point of later `server` lines.
pub fn parse_default_server(
    p: &mut ProxyDraft,
    line: &Line,
    global: &Global,
    diags: &mut Vec<Diagnostic>,
) {
    let mut srv = p.default_server.clone();
    let mut id = false;
    let mut extra = p.default_extra.clone();
    let prefix = "'default-server' : ".to_string();
    if apply_params(
        &mut srv,
        &mut id,
        &mut extra,
        &line.words[1..],
        &prefix,
        true,
        global,
        &line.location,
        diags,
    ) {
        p.default_server = srv;
        p.default_extra = extra;
    }
}

/// The server's address: `IP:PORT` or `NAME:PORT` (resolved now), following `init-addr`.
fn server_addr(spec: &str, init_addr: Option<&str>) -> Result<SocketAddr, String> {
    let (prefix, rest) = split_prefix(spec);
    if spec.starts_with('/') || prefix.is_some_and(|p| ip_family(Some(p)).is_none()) {
        return Err(unsupported(&format!("the server address '{spec}'"), ""));
    }
    let family = ip_family(prefix).unwrap_or(Family::Any);
    let (host, port) = split_host_port(rest);
    let port = match port {
        None | Some("") | Some("0") => {
            return Err(unsupported(
                &format!(
                    "a server without a port ('{spec}', meaning the client's destination port)"
                ),
                "",
            ))
        }
        Some(p) if p.starts_with('+') || p.starts_with('-') => {
            return Err(unsupported(&format!("a port offset ('{spec}')"), ""));
        }
        Some(p) if p.contains('-') => {
            return Err(format!("port range not permitted here in '{spec}'"))
        }
        Some(p) => crate::units::strict_u64(p)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("invalid port '{p}' in '{spec}'"))?,
    };
    // HAProxy's default is `last,libc`: with no state file, `last` never answers.
    let methods = init_addr.unwrap_or("last,libc");
    for m in methods.split(',') {
        match m {
            "last" => {}
            "libc" => {
                if let Some(ip) = resolve_host(host, family) {
                    return Ok(SocketAddr::new(ip, port));
                }
            }
            "none" => {
                return Err(unsupported(
                    &format!(
                        "a server without an address ('{host}' did not resolve, 'init-addr none')"
                    ),
                    "",
                ))
            }
            ip => {
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    return Ok(SocketAddr::new(ip, port));
                }
            }
        }
    }
    Err(format!("could not resolve address '{host}'."))
}

/// Applies `params` to `srv`; false when something was refused (reported in `diags`).
#[allow(clippy::too_many_arguments)]
fn apply_params(
    srv: &mut Server,
    explicit_id: &mut bool,
    extra: &mut ServerExtra,
    params: &[String],
    prefix: &str,
    is_default: bool,
    global: &Global,
    loc: &Location,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut ok = true;
    let mut i = 0;
    while i < params.len() {
        let kw = params[i].as_str();
        let arg = params.get(i + 1).map_or("", String::as_str);
        if is_default && kw.starts_with("no-") && Methods::default().option(kw) {
            // HAProxy 2.6 says so with an alert that does not fail the load, and goes on
            // without the option.
            diags.push(
                Diagnostic::warning(
                    loc,
                    format!("'{kw}' option is not accepted in default-server sections"),
                )
                .with_style(Style::Bracket),
            );
            i += 1;
            continue;
        }
        match tls_param(srv, extra, global, kw, arg_of(params, i)) {
            TlsParam::NotTls => {}
            TlsParam::Flag => {
                i += 1;
                continue;
            }
            TlsParam::Value => {
                if kw == "npn" {
                    diags.push(
                        Diagnostic::warning(loc, format!("{prefix}{NPN_IGNORED}"))
                            .with_style(Style::Bracket),
                    );
                }
                i += 2;
                continue;
            }
            TlsParam::Error(msg) => {
                diags.push(bracket(loc, format!("{prefix}{msg}.")));
                return false;
            }
        }
        let mut fail = |msg: String| {
            diags.push(bracket(loc, format!("{prefix}{msg}")));
            ok = false;
        };
        if kw == "namespace" {
            if arg.is_empty() {
                fail("'namespace' : expects <name> as argument.".to_string());
                return false;
            }
            srv.namespace = Some(arg.to_string());
            i += 2;
            continue;
        }
        if kw == "proto" {
            match arg {
                "h2" => srv.proto_h2 = true,
                "h1" => srv.proto_h2 = false,
                "" => {
                    fail("'proto' : missing value.".to_string());
                    return false;
                }
                other => {
                    fail(format!("'proto' :  unknown MUX protocol '{other}'."));
                    return false;
                }
            }
            i += 2;
            continue;
        }
        let takes_arg = matches!(
            kw,
            "weight"
                | "inter"
                | "fastinter"
                | "downinter"
                | "rise"
                | "fall"
                | "port"
                | "addr"
                | "maxconn"
                | "maxqueue"
                | "id"
                | "init-addr"
        );
        if takes_arg && arg.is_empty() && kw != "weight" {
            fail(format!("'{kw}' expects an argument."));
            return false;
        }
        match kw {
            "weight" => {
                // atol() like HAProxy: `weight` alone or `weight x` is 0.
                let w = atol(arg);
                if (0..=256).contains(&w) {
                    srv.weight = w as u32;
                } else {
                    fail(format!(
                        "weight of server {} is not within 0 and 256 ({w})..",
                        srv.name
                    ));
                }
            }
            "check" => srv.check = true,
            "no-check" => srv.check = false,
            "backup" => srv.backup = true,
            "no-backup" => srv.backup = false,
            "disabled" => srv.disabled = true,
            "enabled" => srv.disabled = false,
            "inter" | "fastinter" | "downinter" => match parse_time(arg) {
                Ok(d) if d.is_zero() => fail(format!(
                    "invalid value 0 for argument '{kw}' of server {}..",
                    srv.name
                )),
                Ok(d) => match kw {
                    "inter" => srv.inter = d,
                    "fastinter" => srv.fastinter = Some(d),
                    _ => srv.downinter = Some(d),
                },
                Err(e) => fail(time_error_message(&e, arg, kw)),
            },
            "rise" | "fall" => {
                let n = atol(arg);
                if n <= 0 {
                    fail(format!("'{kw}' has to be > 0.."));
                } else {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    if kw == "rise" {
                        srv.rise = n;
                    } else {
                        srv.fall = n;
                    }
                }
            }
            "port" => match crate::units::strict_u64(arg)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
            {
                Some(p) => srv.check_port = Some(p),
                None => fail(format!("invalid health check port '{arg}'.")),
            },
            "addr" => match resolve_host(arg, Family::Any) {
                Some(ip) => srv.check_addr = Some(ip),
                None => fail(format!("'addr' : unknown address '{arg}'.")),
            },
            "maxconn" => srv.maxconn = u32::try_from(atol(arg).max(0)).unwrap_or(u32::MAX),
            "maxqueue" => srv.maxqueue = u32::try_from(atol(arg).max(0)).unwrap_or(u32::MAX),
            "id" if is_default => {
                fail("'id' option is not accepted in default-server sections.".into())
            }
            "id" => match crate::units::strict_u64(arg).and_then(|n| u32::try_from(n).ok()) {
                Some(n) if n > 0 => {
                    srv.id = n;
                    *explicit_id = true;
                }
                _ => fail("'id' : custom id has to be > 0.".into()),
            },
            "init-addr" => {
                let bad = arg.split(',').find(|m| {
                    !matches!(*m, "last" | "libc" | "none") && m.parse::<IpAddr>().is_err()
                });
                match bad {
                    Some(m) => fail(format!("'init-addr' : unknown method '{m}'.")),
                    None => extra.init_addr = Some(arg.to_string()),
                }
            }
            _ if SERVER_KEYWORDS.contains(&kw) => {
                fail(unsupported(&format!("'{kw}'"), kw));
                // Its arguments are unknown to us: stop rather than misread them.
                return false;
            }
            _ => {
                let hint = did_you_mean_suffix(did_you_mean(kw, SERVER_KEYWORDS.iter().copied()));
                fail(format!("unknown keyword '{kw}'{hint}"));
                return false;
            }
        }
        i += if takes_arg { 2 } else { 1 };
    }
    ok
}

/// What a server keyword was, seen from the TLS side.
enum TlsParam {
    NotTls,
    /// A TLS keyword without argument.
    Flag,
    /// A TLS keyword and its argument.
    Value,
    /// HAProxy's message (without the final '.').
    Error(String),
}

/// The TLS keywords of `server`/`default-server` (manual section 5.2).
fn tls_param(
    srv: &mut Server,
    extra: &mut ServerExtra,
    global: &Global,
    kw: &str,
    arg: Option<&str>,
) -> TlsParam {
    let ssl = &mut srv.ssl;
    match kw {
        "ssl" => ssl.enabled = true,
        "no-ssl" => ssl.enabled = false,
        "check-ssl" => ssl.check_ssl = true,
        "no-check-ssl" => ssl.check_ssl = false,
        "tls-tickets" => extra.tls_tickets = Some(true),
        "no-tls-tickets" => extra.tls_tickets = Some(false),
        "ssl-reuse" => ssl.no_ssl_reuse = false,
        "no-ssl-reuse" => ssl.no_ssl_reuse = true,
        _ if extra.methods.option(kw) => {}
        "ssl-min-ver" | "ssl-max-ver" => {
            return match extra.methods.min_max(kw, arg) {
                Ok(()) => TlsParam::Value,
                Err(e) => TlsParam::Error(e),
            }
        }
        "alpn" | "check-alpn" => {
            return match tls::alpn(kw, arg) {
                Ok(list) => {
                    if kw == "alpn" {
                        ssl.alpn = Some(list);
                    } else {
                        ssl.check_alpn = Some(list);
                    }
                    TlsParam::Value
                }
                Err(e) => TlsParam::Error(e),
            }
        }
        "verify" | "verifyhost" | "ca-file" | "crl-file" | "crt" | "sni" | "npn" | "ciphers"
        | "ciphersuites" | "curves" | "check-sni" => {
            let Some(arg) = arg else {
                let what = match kw {
                    "verify" => "missing verify method",
                    "verifyhost" => "missing hostname to verify against",
                    "ca-file" => "missing CAfile path",
                    "crl-file" => "missing CRLfile path",
                    "crt" => "missing certificate file path",
                    "sni" => "missing sni expression",
                    "npn" => "missing the comma-delimited NPN protocol suite",
                    "curves" => "missing curves list",
                    "check-sni" => "missing SNI",
                    _ => "missing cipher suite",
                };
                return TlsParam::Error(format!("'{kw}' : {what}"));
            };
            let ca_base = global.ca_base.as_deref();
            let value = Some(arg.to_string());
            match kw {
                "verify" => {
                    extra.verify = Some(match arg {
                        "none" => SslVerify::None,
                        "required" => SslVerify::Required,
                        _ => return TlsParam::Error(format!("'{kw}' : unknown verify method '{arg}', only 'none' and 'required' are supported")),
                    })
                }
                "verifyhost" => ssl.verifyhost = value,
                "ca-file" => ssl.ca_file = Some(with_base(ca_base, arg)),
                "crl-file" => ssl.crl_file = Some(with_base(ca_base, arg)),
                "crt" => ssl.crt = Some(with_base(global.crt_base.as_deref(), arg)),
                "sni" => ssl.sni = value,
                "npn" => {}
                "ciphers" => ssl.ciphers = value,
                "ciphersuites" => ssl.ciphersuites = value,
                "curves" => ssl.curves = value,
                _ => ssl.check_sni = value,
            }
            return TlsParam::Value;
        }
        _ => return TlsParam::NotTls,
    }
    TlsParam::Flag
}
