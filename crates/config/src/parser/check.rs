//! HTTP health checks: `option httpchk [METHOD] [URI] [VERSION]` (old form, headers may
//! follow `\r\n` in VERSION) and `http-check send|expect` (manual section 4.2). Sluice keeps
//! one request and one expectation per backend; rule chains (`http-check connect`, several
//! `expect`s, variables) are refused as not supported yet.

use super::draft::{CheckSend, ProxyDraft};
use crate::keywords::unsupported;
use crate::model::{HttpCheck, HttpCheckExpect};

/// `option httpchk ...` (the words after `httpchk`).
pub fn option_httpchk(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    let (method, uri, version) = match args {
        [] => ("OPTIONS", "/", "HTTP/1.0"),
        [uri] => ("OPTIONS", uri.as_str(), "HTTP/1.0"),
        [m, uri] => (m.as_str(), uri.as_str(), "HTTP/1.0"),
        [m, uri, v] => (m.as_str(), uri.as_str(), v.as_str()),
        [_, _, _, extra, ..] => {
            return Err(format!(
                "'option httpchk' cannot handle unexpected argument '{extra}'."
            ))
        }
    };
    // The old way to send headers: `option httpchk GET / HTTP/1.1\r\nHost:\ www`.
    let mut parts = version.split("\r\n");
    let version = parts.next().unwrap_or("HTTP/1.0").to_string();
    let mut headers = Vec::new();
    for h in parts.filter(|h| !h.is_empty()) {
        let (name, value) = h.split_once(':').unwrap_or((h, ""));
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    p.httpchk = Some(HttpCheck {
        method: method.to_string(),
        uri: uri.to_string(),
        version,
        headers,
        body: None,
        expect: None,
    });
    Ok(())
}

/// `http-check ...` (the words after `http-check`).
pub fn http_check(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("send") => send(p, &args[1..]),
        Some("expect") => expect(p, &args[1..]),
        Some(sub @ ("connect" | "comment" | "disable-on-404" | "send-state" | "set-var" | "unset-var")) => {
            Err(unsupported(&format!("'http-check {sub}'"), ""))
        }
        other => Err(format!(
            "'http-check' : unknown keyword '{}'; expects 'comment', 'connect', 'disable-on-404', 'expect', 'send', 'send-state', 'set-var' or 'unset-var'.",
            other.unwrap_or("")
        )),
    }
}

fn send(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    if p.check_send.is_some() {
        return Err(unsupported("several 'http-check send' rules", ""));
    }
    let mut s = CheckSend::default();
    let mut i = 0;
    while i < args.len() {
        let kw = args[i].as_str();
        let need = |n: usize| -> Result<&String, String> {
            args.get(i + n)
                .ok_or_else(|| format!("'http-check send' : '{kw}' expects a string as argument.."))
        };
        match kw {
            "meth" => s.method = Some(need(1)?.clone()),
            "uri" => s.uri = Some(need(1)?.clone()),
            "ver" => s.version = Some(need(1)?.clone()),
            "body" => s.body = Some(need(1)?.clone()),
            "comment" => {
                need(1)?;
            }
            "hdr" => {
                let name = need(1)?.clone();
                let value = args
                    .get(i + 2)
                    .ok_or_else(|| "'http-check send' : 'hdr' expects <name> and <value> as arguments..".to_string())?;
                s.headers.push((name, value.clone()));
                i += 1;
            }
            "uri-lf" | "body-lf" => return Err(unsupported(&format!("'http-check send {kw}'"), "log-format")),
            _ => {
                return Err(format!(
                    "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{kw}' as argument.."
                ))
            }
        }
        i += 2;
    }
    p.check_send = Some(s);
    Ok(())
}

fn expect(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    if p.check_expect.is_some() {
        return Err(unsupported("several 'http-check expect' rules", ""));
    }
    let mut i = 0;
    // `min-recv` and `comment` only matter to rule chains Sluice does not run yet.
    while let Some(kw @ ("min-recv" | "comment")) = args.get(i).map(String::as_str) {
        if kw == "min-recv" {
            return Err(unsupported("'http-check expect min-recv'", ""));
        }
        i += 2;
    }
    let Some(word) = args.get(i) else {
        return Err(
            "'http-check expect' : expects at least a matching pattern as arguments.".into(),
        );
    };
    let (negate, matcher) = match word.strip_prefix('!') {
        Some("") => (true, args.get(i + 1).map_or("", String::as_str)),
        Some(m) => (true, m),
        None => (false, word.as_str()),
    };
    let pat_idx = if word == "!" { i + 2 } else { i + 1 };
    let known = [
        "string",
        "rstring",
        "status",
        "rstatus",
        "string-lf",
        "hdr",
        "fhdr",
    ];
    if !known.contains(&matcher) && matcher != "min-recv" {
        return Err(format!(
            "'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{matcher}' as argument.."
        ));
    }
    let Some(pattern) = args.get(pat_idx) else {
        return Err(format!(
            "'http-check expect' : '{matcher}' expects <pattern> as an argument.."
        ));
    };
    let e = match matcher {
        "status" => HttpCheckExpect::Status {
            ranges: status_list(pattern)?,
            negate,
        },
        "string" => HttpCheckExpect::String {
            text: pattern.clone(),
            negate,
        },
        "rstring" => HttpCheckExpect::Rstring {
            regex: pattern.clone(),
            negate,
        },
        other => return Err(unsupported(&format!("'http-check expect {other}'"), "")),
    };
    if let Some(extra) = args.get(pat_idx + 1) {
        return Err(format!(
            "'http-check expect' : unexpected argument '{extra}'."
        ));
    }
    p.check_expect = Some(e);
    Ok(())
}

/// `200`, `200-399`, `200,204,300-310`.
fn status_list(s: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        if let Some(c) = part.chars().find(|c| !c.is_ascii_digit() && *c != '-') {
            return Err(format!(
                "'http-check expect' : invalid character '{c}' in the list of status codes."
            ));
        }
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let num = |x: &str| {
            x.parse::<u16>()
                .map_err(|_| format!("'http-check expect' : invalid status code range '{part}'."))
        };
        let (a, b) = (num(a)?, num(b)?);
        if a > b {
            return Err(format!(
                "'http-check expect' : invalid status code range '{part}'."
            ));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// Combines `option httpchk` with `http-check send/expect` once the section is read.
pub fn merged(p: &ProxyDraft) -> Option<HttpCheck> {
    let mut chk = p.httpchk.clone()?;
    if let Some(s) = &p.check_send {
        if let Some(m) = &s.method {
            chk.method = m.clone();
        }
        if let Some(u) = &s.uri {
            chk.uri = u.clone();
        }
        if let Some(v) = &s.version {
            chk.version = v.clone();
        }
        chk.headers.extend(s.headers.iter().cloned());
        if s.body.is_some() {
            chk.body = s.body.clone();
        }
    }
    chk.expect = p.check_expect.clone();
    Some(chk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;
    use crate::parser::draft::Kind;

    fn w(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    }

    fn draft() -> ProxyDraft {
        ProxyDraft::fresh(Kind::Backend, "b", &Location::default())
    }

    #[test]
    fn httpchk_forms() {
        let cases = [
            ("", ("OPTIONS", "/", "HTTP/1.0")),
            ("/health", ("OPTIONS", "/health", "HTTP/1.0")),
            ("GET /h", ("GET", "/h", "HTTP/1.0")),
            ("HEAD /h HTTP/1.1", ("HEAD", "/h", "HTTP/1.1")),
        ];
        for (args, (m, u, v)) in cases {
            let mut p = draft();
            assert_eq!(option_httpchk(&mut p, &w(args)), Ok(()));
            let c = merged(&p).unwrap_or_else(|| panic!("{args}"));
            assert_eq!(
                (c.method.as_str(), c.uri.as_str(), c.version.as_str()),
                (m, u, v),
                "{args}"
            );
        }
        let mut p = draft();
        let args = vec![
            "GET".into(),
            "/".into(),
            "HTTP/1.1\r\nHost: www\r\nX-A: b".into(),
        ];
        assert_eq!(option_httpchk(&mut p, &args), Ok(()));
        let c = merged(&p).unwrap_or_else(|| panic!("old form"));
        assert_eq!(c.version, "HTTP/1.1");
        assert_eq!(
            c.headers,
            [
                ("Host".to_string(), "www".to_string()),
                ("X-A".into(), "b".into())
            ]
        );
        assert!(option_httpchk(&mut p, &w("GET / HTTP/1.1 extra"))
            .is_err_and(|e| e.contains("unexpected argument 'extra'")));
    }

    #[test]
    fn send_and_expect() {
        let mut p = draft();
        assert_eq!(option_httpchk(&mut p, &[]), Ok(()));
        assert_eq!(
            http_check(
                &mut p,
                &w("send meth GET uri /health ver HTTP/1.1 hdr Host example.com body hi")
            ),
            Ok(())
        );
        assert_eq!(
            http_check(&mut p, &w("expect ! status 500-599,404")),
            Ok(())
        );
        let c = merged(&p).unwrap_or_else(|| panic!("merged"));
        assert_eq!(
            (c.method.as_str(), c.uri.as_str(), c.version.as_str()),
            ("GET", "/health", "HTTP/1.1")
        );
        assert_eq!(c.headers, [("Host".to_string(), "example.com".to_string())]);
        assert_eq!(c.body.as_deref(), Some("hi"));
        assert_eq!(
            c.expect,
            Some(HttpCheckExpect::Status {
                ranges: vec![(500, 599), (404, 404)],
                negate: true
            })
        );
        let cases = [
            (
                "expect string OK",
                HttpCheckExpect::String {
                    text: "OK".into(),
                    negate: false,
                },
            ),
            (
                "expect !string DOWN",
                HttpCheckExpect::String {
                    text: "DOWN".into(),
                    negate: true,
                },
            ),
            (
                "expect rstring ^up$",
                HttpCheckExpect::Rstring {
                    regex: "^up$".into(),
                    negate: false,
                },
            ),
            (
                "expect status 200",
                HttpCheckExpect::Status {
                    ranges: vec![(200, 200)],
                    negate: false,
                },
            ),
        ];
        for (a, want) in cases {
            let mut p = draft();
            assert_eq!(http_check(&mut p, &w(a)), Ok(()), "{a}");
            assert_eq!(p.check_expect, Some(want), "{a}");
        }
    }

    #[test]
    fn refusals() {
        let cases = [
            ("expect foo 200", "but got 'foo' as argument"),
            ("expect", "expects at least a matching pattern"),
            (
                "expect status abc",
                "invalid character 'a' in the list of status codes.",
            ),
            ("send meth", "'meth' expects a string as argument.."),
            ("send foo", "but got 'foo' as argument.."),
            (
                "connect",
                "'http-check connect' is not supported by Sluice yet",
            ),
            (
                "expect rstatus ^2",
                "'http-check expect rstatus' is not supported by Sluice yet",
            ),
        ];
        for (a, want) in cases {
            let mut p = draft();
            let r = http_check(&mut p, &w(a));
            assert!(r.as_ref().is_err_and(|e| e.contains(want)), "{a}: {r:?}");
        }
        let mut p = draft();
        assert_eq!(http_check(&mut p, &w("expect status 200")), Ok(()));
        assert!(http_check(&mut p, &w("expect status 300"))
            .is_err_and(|e| e.contains("not supported by Sluice yet")));
    }
}
