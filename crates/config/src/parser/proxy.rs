//! Keywords of `defaults`, `frontend`, `backend` and `listen` (manual section 4 "Proxies",
//! matrix 4.1, reference 4.2): checks each keyword against the section's capabilities as
//! HAProxy does (an alert in `defaults`, a warning and no effect elsewhere), sets the draft
//! for the keywords Sluice implements, and refuses HAProxy's others as not supported yet.

use std::net::IpAddr;

use super::draft::{Kind, ProxyDraft};
use super::{balance, bind, check, server, unknown_keyword};
use crate::diag::{Diagnostic, Style};
use crate::keywords::{
    option_info, proxy_keyword_caps, unsupported, BE, DEF, FE, PROXY_KEYWORDS, SECTION_NAMES,
};
use crate::lexer::Line;
use crate::model::{AccessLog, ForwardFor, Global, HttpConnMode, Mode, RuleLine};
use crate::units::{atol, parse_time, time_error_message};

/// Status codes `errorfile` accepts in HAProxy 2.6.
const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// `timeout` names with the sections that use them.
const TIMEOUTS: &[(&str, u8)] = &[
    ("client", DEF | FE),
    ("client-fin", DEF | FE),
    ("connect", DEF | BE),
    ("server", DEF | BE),
    ("server-fin", DEF | BE),
    ("tunnel", DEF | BE),
    ("http-request", DEF | FE | BE),
    ("http-keep-alive", DEF | FE | BE),
    ("queue", DEF | BE),
    ("check", DEF | BE),
    ("tarpit", DEF | FE | BE),
];

pub fn keyword(p: &mut ProxyDraft, line: &Line, global: &Global, diags: &mut Vec<Diagnostic>) {
    let loc = &line.location;
    let (modifier, words) = match line.words[0].as_str() {
        m @ ("no" | "default") => (Some(m), &line.words[1..]),
        _ => (None, &line.words[..]),
    };
    let Some(kw) = words.first().map(String::as_str) else {
        diags.push(Diagnostic::alert(
            loc,
            format!("'{}' expects a keyword.", line.words[0]),
        ));
        return;
    };
    let arg1 = words.get(1).map_or("", String::as_str);
    if modifier.is_some() && kw != "option" && kw != "log" {
        diags.push(
            Diagnostic::alert(
                loc,
                "negation/default currently supported only for options and log.",
            )
            .with_style(Style::ParsingTight),
        );
        return;
    }
    // Removed in HAProxy 2.1; 2.6 names the replacement.
    let replaced = match kw {
        "contimeout" => Some("connect"),
        "clitimeout" => Some("client"),
        "srvtimeout" => Some("server"),
        _ => None,
    };
    if let Some(new) = replaced {
        diags.push(Diagnostic::alert(
            loc,
            format!("the '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {new}'."),
        ));
        return;
    }
    let section = p.kind.section();
    if kw == "declare" {
        return declare(p, words, loc, diags);
    }
    let Some(caps) = proxy_keyword_caps(kw) else {
        diags.push(Diagnostic::alert(
            loc,
            unknown_proxy_keyword(kw, words, section),
        ));
        return;
    };
    // `option` and `timeout` are checked per sub-keyword below.
    if kw != "option" && kw != "timeout" && caps & p.kind.caps() == 0 {
        diags.push(not_allowed(p, kw, caps, loc));
        return;
    }
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    match kw {
        "mode" => match arg1 {
            "tcp" => p.mode = Mode::Tcp,
            "http" => p.mode = Mode::Http,
            _ => alert(format!("unknown proxy mode '{arg1}'.")),
        },
        "bind" => {
            let ctx = bind::BindContext {
                section,
                proxy: &p.name,
                global,
            };
            if let Some(b) = bind::parse(line, &ctx, diags, &mut p.post_diags) {
                p.binds.push(b);
            }
        }
        "server" => server::parse_server(p, line, global, diags),
        "default-server" => server::parse_default_server(p, line, global, diags),
        "balance" => {
            if let Err(e) = balance::balance(p, &words[1..]) {
                alert(e);
            }
        }
        "hash-type" => {
            if let Err(e) = balance::hash_type(p, &words[1..]) {
                alert(e);
            }
        }
        "timeout" => timeout(p, words, loc, diags),
        "option" => option(p, modifier, words, loc, diags),
        "http-check" => {
            if let Err(e) = check::http_check(p, &words[1..]) {
                alert(e);
            }
        }
        "maxconn" => {
            if arg1.is_empty() {
                alert("'maxconn' expects an integer argument.".into());
            } else {
                // atol() as in HAProxy.
                p.maxconn = Some(u32::try_from(atol(arg1).max(0)).unwrap_or(u32::MAX));
            }
        }
        "retries" => {
            if arg1.is_empty() {
                alert("'retries' expects an integer argument (dispatch counts for one).".into());
            } else {
                p.retries = u32::try_from(atol(arg1).max(0)).unwrap_or(u32::MAX);
            }
        }
        "default_backend" => {
            if arg1.is_empty() {
                alert("'default_backend' expects a backend name.".into());
            } else if let Some(extra) = words.get(2) {
                alert(format!(
                    "'default_backend' cannot handle unexpected argument '{extra}'."
                ));
            } else {
                p.default_backend = Some((arg1.to_string(), loc.clone()));
            }
        }
        "log" => {
            if modifier == Some("no") || modifier == Some("default") {
                p.logs.clear();
            } else if arg1 == "global" {
                // HAProxy copies the global targets known at this point of the file.
                p.logs.extend(global.logs.iter().cloned());
            } else if words.len() == 1 {
                alert("log : expects <address> and <facility>  as arguments".into());
            } else {
                match super::log::parse_target(&words[1..]) {
                    Ok(t) => p.logs.push(t),
                    Err(e) => alert(e),
                }
            }
        }
        "errorfile" => errorfile(p, words).unwrap_or_else(alert),
        "capture" if arg1 == "cookie" => {
            let (name, len) = (words.get(2), words.get(4));
            match (name, words.get(3).map(String::as_str), len) {
                (Some(name), Some("len"), Some(len)) => {
                    // atol() as in HAProxy; the capture is cut to `tune.http.cookielen` - 1.
                    let mut n = usize::try_from(atol(len).max(0)).unwrap_or(usize::MAX);
                    if n >= COOKIE_CAPTURE_LEN {
                        diags.push(Diagnostic::global(
                            crate::diag::Severity::Warning,
                            format!(
                                "truncating capture length to {} bytes for {} '{}'.",
                                COOKIE_CAPTURE_LEN - 1,
                                p.kind.type_str(),
                                p.name
                            ),
                        ));
                        n = COOKIE_CAPTURE_LEN - 1;
                    }
                    // A second line replaces the first, as in HAProxy.
                    p.capture_cookie = Some((name.clone(), n));
                }
                _ => alert("'capture' expects 'cookie' <cookie_name> 'len' <len>.".into()),
            }
        }
        "capture" => {
            let which = arg1;
            let kind = words.get(2).map_or("", String::as_str);
            let name = words.get(3).map_or("", String::as_str);
            let len = words.get(5).and_then(|n| n.parse::<usize>().ok());
            if (which == "request" || which == "response") && kind == "header" {
                match (name.is_empty(), words.get(4).map(String::as_str), len) {
                    (false, Some("len"), Some(n)) if n > 0 => {
                        let list = if which == "request" {
                            &mut p.capture_request
                        } else {
                            &mut p.capture_response
                        };
                        list.push((name.to_string(), n));
                    }
                    _ => alert(format!(
                        "'capture {which}' expects 'header' <header_name> 'len' <len>."
                    )),
                }
            } else {
                alert(
                    "'capture' expects 'cookie' or 'request header' or 'response header'.".into(),
                );
            }
        }
        "unique-id-format" => {
            if arg1.is_empty() {
                alert("unique-id-format expects an argument.".into());
            } else if words.len() > 2 {
                alert(
                    "unique-id-format expects only one argument, don't forget to escape spaces!"
                        .into(),
                );
            } else {
                p.unique_id_format = Some((arg1.to_string(), loc.clone()));
            }
        }
        "unique-id-header" => {
            if arg1.is_empty() {
                alert("unique-id-header expects an argument.".into());
            } else {
                p.unique_id_header = Some(arg1.to_string());
            }
        }
        "log-format" => {
            if arg1.is_empty() {
                alert("log-format expects an argument.".into());
            } else if words.len() > 2 {
                alert(
                    "log-format expects only one argument, don't forget to escape spaces!".into(),
                );
            } else {
                p.log_format = Some((arg1.to_string(), loc.clone()));
            }
        }
        // Rules in an anonymous defaults section: HAProxy 2.6 allows them in named ones only
        // (`use_backend`, `use-server` and `redirect` were refused above).
        "acl" | "http-request" | "http-response" | "http-after-response" | "tcp-request"
            if p.kind == Kind::Defaults && p.name.is_empty() =>
        {
            let msg = match (kw, arg1) {
                ("tcp-request", "inspect-delay" | "connection" | "session" | "content") => {
                    format!("tcp-request {arg1} is not allowed in anonymous 'defaults' sections")
                }
                ("tcp-request", _) => format!("'tcp-request' expects 'inspect-delay', 'connection', or 'content' in defaults section (got '{arg1}')"),
                _ => format!("'{kw}' not allowed in anonymous 'defaults' section."),
            };
            alert(msg);
        }
        // Compiled by the rules compiler, which reports its own errors at this line.
        "acl"
        | "use_backend"
        | "use-server"
        | "http-request"
        | "http-response"
        | "http-after-response"
        | "redirect"
        | "tcp-request" => {
            // `http-request capture <sample> len <n>` declares the next request capture slot
            // (a frontend's, or a named defaults section's that its frontends inherit).
            let capture_slot = (kw == "http-request"
                && arg1 == "capture"
                && words.get(3).is_some_and(|w| w == "len")
                && (p.has(FE) || p.kind == Kind::Defaults))
                .then(|| words.get(4).map_or(0, |n| atol(n)))
                .filter(|n| *n > 0)
                .map(|n| {
                    p.capture_request
                        .push((String::new(), usize::try_from(n).unwrap_or(usize::MAX)));
                    p.capture_request.len() - 1
                });
            p.rules.push(RuleLine {
                keyword: kw.to_string(),
                words: words.to_vec(),
                location: loc.clone(),
                capture_slot,
            });
        }
        "disabled" | "enabled" => {
            if let Some(extra) = words.get(1) {
                alert(format!(
                    "'{kw}' cannot handle unexpected argument '{extra}'."
                ));
            } else {
                p.disabled = kw == "disabled";
            }
        }
        // Free text, shown by the statistics page HAProxy has and Sluice does not yet.
        "description" => {}
        "id" => {
            if !crate::units::strict_u64(arg1).is_some_and(|n| n > 0 && n <= u64::from(u32::MAX)) {
                diags.push(
                    Diagnostic::alert(loc, "custom id has to be > 0.")
                        .with_style(Style::ParsingTight),
                );
            }
        }
        _ => alert(unsupported(&format!("'{kw}'"), kw)),
    }
}

/// `tune.http.cookielen` + 1: HAProxy's cookie capture buffer (63 bytes and the NUL).
const COOKIE_CAPTURE_LEN: usize = 64;

/// `declare capture request|response len N`: a capture slot for `http-request capture ...
/// id N` (or `http-response`), numbered with the `capture ... header` slots in declaration
/// order. Frontends and listens only; HAProxy's own messages otherwise.
fn declare(
    p: &mut ProxyDraft,
    words: &[String],
    loc: &crate::model::Location,
    diags: &mut Vec<Diagnostic>,
) {
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    if p.kind == Kind::Defaults {
        return alert("'declare' not available in default section".into());
    }
    if w(1) != "capture" {
        if !p.has(FE) {
            return alert("'declare' only available in frontend or listen section".into());
        }
        return alert(format!(
            "unknown declaration type '{}' (supports 'capture')",
            w(1)
        ));
    }
    if !p.has(FE) {
        return alert("'declare' only available in frontend or listen section".into());
    }
    let request = match w(2) {
        "request" => true,
        "response" => false,
        _ => {
            return alert("'declare capture' requires a direction ('request' or 'response')".into())
        }
    };
    if w(3) != "len" {
        return alert("'declare capture' requires a capture length ('len')".into());
    }
    let Ok(n) = w(4).parse::<i64>() else {
        return alert(
            "'declare capture': 'len' requires a numeric value that represents the capture length"
                .into(),
        );
    };
    if n <= 0 {
        return alert("length must be > 0".into());
    }
    let slot = (String::new(), usize::try_from(n).unwrap_or(usize::MAX));
    if request {
        p.capture_request.push(slot);
    } else {
        p.capture_response.push(slot);
    }
}

/// The message for a keyword outside HAProxy's tables. `random draw N` is a common mistake
/// (from tutorials mixing syntaxes): point at the form that exists.
fn unknown_proxy_keyword(kw: &str, words: &[String], section: &str) -> String {
    if kw == "random" {
        let draws = match (words.get(1).map(String::as_str), words.get(2)) {
            (Some("draw"), Some(n)) => crate::units::strict_u64(n).filter(|n| *n >= 1),
            _ => None,
        };
        let form = match draws {
            Some(n) => format!("balance random({n})"),
            None => "balance random".to_string(),
        };
        return format!(
            "unknown keyword 'random' in '{section}' section; did you mean '{form}' maybe ?"
        );
    }
    let candidates = PROXY_KEYWORDS
        .iter()
        .map(|(k, _)| *k)
        .chain(SECTION_NAMES.iter().copied());
    unknown_keyword(kw, section, candidates)
}

/// HAProxy's reaction to a keyword in a section that lacks its capability.
fn not_allowed(p: &ProxyDraft, kw: &str, caps: u8, loc: &crate::model::Location) -> Diagnostic {
    let server_like = matches!(kw, "server" | "default-server" | "server-template");
    if p.kind == Kind::Defaults {
        let d = Diagnostic::alert(loc, format!("'{kw}' not allowed in 'defaults' section."));
        return if server_like {
            d.with_style(Style::Bracket)
        } else {
            d
        };
    }
    let missing = if caps & FE != 0 && !p.has(FE) {
        "frontend"
    } else {
        "backend"
    };
    let (ty, name) = (p.kind.type_str(), &p.name);
    if server_like {
        let msg = format!("parsing [{loc}] : '{kw}' not allowed because {ty} '{name}' has no {missing} capability.");
        return Diagnostic::alert(loc, msg).with_style(Style::Bracket);
    }
    let mut msg = format!("'{kw}' ignored because {ty} '{name}' has no {missing} capability.");
    if kw == "maxconn" {
        msg.push_str(" Maybe you want 'fullconn' instead ?");
    }
    Diagnostic::warning(loc, msg)
}

fn timeout(
    p: &mut ProxyDraft,
    words: &[String],
    loc: &crate::model::Location,
    diags: &mut Vec<Diagnostic>,
) {
    let name = words.get(1).map_or("", String::as_str);
    let Some((_, caps)) = TIMEOUTS.iter().find(|(n, _)| *n == name) else {
        diags.push(Diagnostic::alert(
            loc,
            format!("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"),
        ));
        return;
    };
    let what = format!("timeout {name}");
    let value = words.get(2).map_or("", String::as_str);
    let d = match parse_time(value) {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::alert(loc, time_error_message(&e, value, &what)));
            return;
        }
    };
    if let Some(extra) = words.get(3) {
        diags.push(Diagnostic::alert(
            loc,
            format!("'{what}' cannot handle unexpected argument '{extra}'."),
        ));
        return;
    }
    if caps & p.kind.caps() == 0 {
        let missing = if caps & FE != 0 {
            "frontend"
        } else {
            "backend"
        };
        diags.push(Diagnostic::warning(
            loc,
            format!(
                "'{what}' will be ignored because {} '{}' has no {missing} capability",
                p.kind.type_str(),
                p.name
            ),
        ));
        return;
    }
    // 0 means "no timeout" in HAProxy, like leaving it unset.
    let v = (!d.is_zero()).then_some(d);
    let t = &mut p.timeouts;
    match name {
        "client" => t.client = v,
        "client-fin" => t.client_fin = v,
        "connect" => t.connect = v,
        "server" => t.server = v,
        "server-fin" => t.server_fin = v,
        "tunnel" => t.tunnel = v,
        "http-request" => t.http_request = v,
        "http-keep-alive" => t.http_keep_alive = v,
        "queue" => t.queue = v,
        "check" => t.check = v,
        _ => t.tarpit = v,
    }
}

fn option(
    p: &mut ProxyDraft,
    modifier: Option<&str>,
    words: &[String],
    loc: &crate::model::Location,
    diags: &mut Vec<Diagnostic>,
) {
    let name = words.get(1).map_or("", String::as_str);
    let args = words.get(2..).unwrap_or_default();
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    let Some((caps, negatable)) = option_info(name) else {
        return alert(format!("unknown option '{name}'."));
    };
    if modifier.is_some() && !negatable {
        diags.push(
            Diagnostic::alert(
                loc,
                format!("negation/default is not supported for option '{name}'."),
            )
            .with_style(Style::ParsingTight),
        );
        return;
    }
    if caps & p.kind.caps() == 0 {
        let (ty, pname) = (p.kind.type_str(), &p.name);
        let msg = if name == "httplog" || name == "httpslog" {
            format!("{ty} '{pname}' : 'option {name}' directive is ignored in backends.")
        } else {
            let missing = if caps & FE != 0 {
                "frontend"
            } else {
                "backend"
            };
            format!("'{name}' ignored because {ty} '{pname}' has no {missing} capability.")
        };
        diags.push(Diagnostic::warning(loc, msg));
        return;
    }
    let enable = modifier.is_none();
    // Options without arguments say so, in HAProxy's words.
    let takes_args = matches!(name, "httplog" | "forwardfor" | "redispatch" | "httpchk");
    if !takes_args {
        if let Some(extra) = args.first() {
            return alert(format!(
                "'option {name}' cannot handle unexpected argument '{extra}'."
            ));
        }
    }
    match name {
        "httplog" => match args {
            [] => p.access_log = AccessLog::Http,
            [clf] if clf == "clf" => p.access_log = AccessLog::HttpClf,
            _ => return alert("keyword 'httplog' only supports option 'clf'.".into()),
        },
        "tcplog" => p.access_log = AccessLog::Tcp,
        "dontlognull" => p.dontlognull = enable,
        "log-separate-errors" => p.log_separate_errors = enable,
        "http-buffer-request" => p.buffer_request = enable,
        "allbackups" => p.allbackups = enable,
        "http-server-close" | "httpclose" | "http-keep-alive" => {
            let mode = match name {
                "http-server-close" => HttpConnMode::ServerClose,
                "httpclose" => HttpConnMode::Close,
                _ => HttpConnMode::KeepAlive,
            };
            if enable {
                p.conn_mode = mode;
            } else if p.conn_mode == mode {
                // Clearing the active mode falls back to HAProxy's default, keep-alive.
                p.conn_mode = HttpConnMode::KeepAlive;
            }
        }
        "redispatch" => {
            p.redispatch = if !enable {
                None
            } else {
                // HAProxy's default interval is -1: redispatch on the last retry.
                let n = args.first().map_or(-1, |a| atol(a));
                Some(i32::try_from(n).unwrap_or(-1))
            };
        }
        "forwardfor" => match forwardfor(args) {
            Ok(ff) => p.forwardfor = Some(ff),
            Err(e) => return alert(e),
        },
        "httpchk" => {
            if let Err(e) = check::option_httpchk(p, args) {
                return alert(e);
            }
        }
        _ => return alert(unsupported(&format!("'option {name}'"), name)),
    }
    if name == "httplog" {
        p.access_log_location = Some(loc.clone());
    }
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
fn forwardfor(args: &[String]) -> Result<ForwardFor, String> {
    let mut ff = ForwardFor {
        header: "X-Forwarded-For".into(),
        except: None,
        if_none: false,
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "except" => {
                let net = args.get(i + 1).and_then(|n| parse_net(n));
                ff.except = Some(net.ok_or("'option forwardfor except' expects <address>[/mask] as argument.")?);
                i += 1;
            }
            "header" => {
                let h = args.get(i + 1).ok_or("'option forwardfor header' expects <header_name> as argument.")?;
                ff.header = h.clone();
                i += 1;
            }
            "if-none" => ff.if_none = true,
            _ => return Err("'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.".into()),
        }
        i += 1;
    }
    Ok(ff)
}

/// `ADDR[/MASK]`: MASK is a prefix length or, for IPv4, a dotted netmask.
fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match mask {
        None => max,
        Some(m) => match m.parse::<u8>() {
            Ok(n) if n <= max => n,
            Ok(_) => return None,
            Err(_) => {
                let IpAddr::V4(dotted) = m.parse::<IpAddr>().ok()? else {
                    return None;
                };
                let bits = u32::from(dotted);
                // Only contiguous masks mean a network.
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                u8::try_from(bits.leading_ones()).ok()?
            }
        },
    };
    Some((ip, len))
}

/// `errorfile CODE FILE`: the file is read now, relative to the current directory.
fn errorfile(p: &mut ProxyDraft, words: &[String]) -> Result<(), String> {
    let (Some(code), Some(path)) = (words.get(1), words.get(2)) else {
        return Err("errorfile : expects <status_code> and <file> as arguments.".into());
    };
    let code = u16::try_from(atol(code))
        .ok()
        .filter(|c| ERRORFILE_CODES.contains(c));
    let Some(code) = code else {
        return Err(format!(
            "errorfile : status code '{}' not handled.",
            words[1]
        ));
    };
    let body =
        std::fs::read(path).map_err(|_| format!("errorfile : error opening file '{path}'."))?;
    p.errorfiles.insert(code, body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let cases = [
            ("10.0.0.0/8", Some(("10.0.0.0", 8))),
            ("192.168.1.0/255.255.255.0", Some(("192.168.1.0", 24))),
            ("127.0.0.1", Some(("127.0.0.1", 32))),
            ("::1", Some(("::1", 128))),
            ("fd00::/8", Some(("fd00::", 8))),
            ("10.0.0.0/33", None),
            ("10.0.0.0/255.0.255.0", None),
            ("nope", None),
        ];
        for (s, want) in cases {
            let want =
                want.map(|(a, l)| (a.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}")), l));
            assert_eq!(parse_net(s), want, "{s}");
        }
    }

    #[test]
    fn forwardfor_forms() {
        let w = |s: &str| {
            s.split(' ')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let ff = forwardfor(&w("except 127.0.0.0/8 header X-Client if-none"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ff.header, "X-Client");
        assert!(ff.if_none);
        assert_eq!(ff.except.map(|(_, l)| l), Some(8));
        let ff = forwardfor(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (ff.header.as_str(), ff.except, ff.if_none),
            ("X-Forwarded-For", None, false)
        );
        let errs = [
            ("except", "'option forwardfor except' expects <address>[/mask] as argument."),
            ("header", "'option forwardfor header' expects <header_name> as argument."),
            ("foo", "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."),
        ];
        for (a, want) in errs {
            assert_eq!(forwardfor(&w(a)).err().as_deref(), Some(want), "{a}");
        }
    }
}
