//! `bind ADDR[,ADDR...] [options]` (manual sections 4.2 "bind" and 5.1 "Bind options"):
//! `IP:PORT`, `:PORT`, `*:PORT`, `[::]:PORT`, `ipv4@`/`ipv6@`, port ranges, `fd@N`,
//! `unix@PATH` and absolute paths. Of the options only `name`, `v4v6` and `v6only` exist in
//! Sluice; the others (TLS, PROXY protocol, ...) are refused until they are implemented.

use std::path::PathBuf;

use super::addr::{ip_family, resolve_host, split_host_port, split_prefix};
use crate::diag::{did_you_mean_suffix, Diagnostic};
use crate::keywords::{unsupported, BIND_KEYWORDS};
use crate::lexer::Line;
use crate::model::{Bind, BindAddr};
use crate::units::did_you_mean;

/// Parses one `bind` line of a section of type `section`; `None` after reporting problems.
pub fn parse(line: &Line, section: &str, diags: &mut Vec<Diagnostic>) -> Option<Bind> {
    let loc = &line.location;
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
        location: loc.clone(),
    };
    let prefix = format!("'bind {spec}' in section '{section}'");
    let mut i = 2;
    while i < line.words.len() {
        let kw = line.words[i].as_str();
        match kw {
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
    ok.then_some(bind)
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
    use crate::model::Location;
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
            let b = parse(&line(text), "frontend", &mut diags);
            assert!(diags.is_empty(), "{text}: {diags:?}");
            assert_eq!(b.map(|b| b.addrs), Some(want), "{text}");
        }
        let mut diags = Vec::new();
        let b = parse(&line("bind localhost:80"), "frontend", &mut diags);
        assert!(b.is_some_and(|b| matches!(b.addrs[0], BindAddr::Inet(a) if a.ip().is_loopback())));
    }

    #[test]
    fn options() {
        let mut diags = Vec::new();
        let b = parse(&line("bind :80 name web v6only"), "frontend", &mut diags);
        assert_eq!(
            b.as_ref().and_then(|b| b.name.clone()).as_deref(),
            Some("web")
        );
        assert_eq!(b.and_then(|b| b.v6only), Some(true));
        let b = parse(&line("bind :80 v4v6"), "frontend", &mut diags);
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
            ("bind :443 ssl crt /x.pem", "'bind :443' in section 'frontend' : 'ssl' is not supported by Sluice yet (TLS"),
            ("bind :80 accept-proxy", "'accept-proxy' is not supported by Sluice yet"),
            ("bind abns@x", "'bind' : the 'abns@' address family is not supported by Sluice yet"),
        ];
        for (text, want) in cases {
            let mut diags = Vec::new();
            let b = parse(&line(text), "frontend", &mut diags);
            assert!(b.is_none(), "{text}");
            let msg = diags.first().map(ToString::to_string).unwrap_or_default();
            assert!(msg.starts_with("parsing [b.cfg:4] : "), "{msg}");
            assert!(msg.contains(want), "{text}: {msg}");
        }
    }
}
