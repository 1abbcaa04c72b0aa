//! Running compiled `http-request` / `http-response` / `use_backend` rules on one transaction
//! (manual 4.2): header edits to apply when the head is forwarded, or a local reply
//! (deny, auth, redirect, return, tarpit) that ends the request here.

use std::io::Write;

use sluice_expr::Txn;

use crate::rules::{
    BackendTarget, Redirect, RedirectKind, ReqAction, ResAction, Return, ReturnBody, Rule,
    UseBackend,
};
use crate::txn::{HttpTxn, RuleVars};

/// Header changes decided by rules, applied when the head is written out. HAProxy applies
/// each edit at once so later rules see it; here later rules see the received head.
#[derive(Default)]
pub struct Edits {
    pub del: Vec<String>,
    pub add: Vec<(Vec<u8>, Vec<u8>)>,
    /// `set-method`: the new method.
    pub method: Option<Vec<u8>>,
    /// `set-path`/`set-query`/`set-uri`/`replace-*`: the new request target.
    pub uri: Option<Vec<u8>>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.del.is_empty() && self.add.is_empty() && self.method.is_none() && self.uri.is_none()
    }
}

/// Whether `name` is one of `names` (header names compare case-insensitively).
pub fn is_named(names: &[String], name: &[u8]) -> bool {
    names
        .iter()
        .any(|d| name.eq_ignore_ascii_case(d.as_bytes()))
}

/// Removes the headers named in `names` from a parsed head (they are not written out).
pub fn drop_named(headers: &mut Vec<sluice_http::Header>, buf: &[u8], names: &[String]) {
    if !names.is_empty() {
        headers.retain(|h| !is_named(names, h.name.of(buf)));
    }
}

/// HAProxy's `\N` back-references in a replacement become the regex crate's `${N}`.
fn replacement(fmt: &[u8]) -> String {
    let s = String::from_utf8_lossy(fmt);
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// The target as rules have made it so far (or as received).
fn current_uri<'a>(edits: &'a Edits, txn: &'a HttpTxn<'_>) -> &'a [u8] {
    edits.uri.as_deref().or_else(|| txn.uri()).unwrap_or(b"/")
}

fn split_query(uri: &[u8]) -> (&[u8], Option<&[u8]>) {
    match uri.iter().position(|&b| b == b'?') {
        Some(q) => (&uri[..q], Some(&uri[q + 1..])),
        None => (uri, None),
    }
}

/// A response Sluice makes itself.
pub struct LocalReply {
    pub bytes: Vec<u8>,
    pub status: u16,
    /// Termination state's first letter: `P` (denied) or `L` (locally processed).
    pub who: u8,
    /// `tarpit`: hold the connection this long before answering.
    pub tarpit: bool,
}

pub enum Verdict {
    Continue,
    Reply(LocalReply),
    /// `reject`/`silent-drop`: close the connection without a response.
    Close,
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn render(f: &sluice_expr::LogFormat, txn: &HttpTxn<'_>, out: &mut Vec<u8>) {
    f.render(txn, &RuleVars { txn }, out);
}

/// Evaluates `http-request` rules in order until one ends the evaluation.
pub fn eval_request(rules: &[Rule<ReqAction>], txn: &HttpTxn<'_>, edits: &mut Edits) -> Verdict {
    for r in rules {
        if !r.applies(txn) {
            continue;
        }
        match &r.action {
            ReqAction::Allow => return Verdict::Continue,
            ReqAction::Deny { status } => {
                return Verdict::Reply(LocalReply {
                    bytes: sluice_http::error_page_htx(*status).to_vec(),
                    status: *status,
                    who: b'P',
                    tarpit: false,
                })
            }
            ReqAction::Tarpit { status } => {
                return Verdict::Reply(LocalReply {
                    bytes: sluice_http::error_page_htx(*status).to_vec(),
                    status: *status,
                    who: b'P',
                    tarpit: true,
                })
            }
            ReqAction::Auth { realm } => return Verdict::Reply(auth_reply(realm)),
            ReqAction::Redirect(rd) => return Verdict::Reply(redirect_reply(rd, txn)),
            ReqAction::Return(ret) => return Verdict::Reply(return_reply(ret, txn)),
            ReqAction::SetHeader(name, f) => {
                edits.del.push(name.clone());
                let mut v = Vec::new();
                render(f, txn, &mut v);
                edits.add.push((name.as_bytes().to_vec(), v));
            }
            ReqAction::AddHeader(name, f) => {
                let mut v = Vec::new();
                render(f, txn, &mut v);
                edits.add.push((name.as_bytes().to_vec(), v));
            }
            ReqAction::DelHeader(name) => edits.del.push(name.clone()),
            ReqAction::ReplaceHeader {
                name,
                regex,
                fmt,
                per_value,
            } => {
                let mut repl = Vec::new();
                render(fmt, txn, &mut repl);
                let repl = replacement(&repl);
                let mut new_values = Vec::new();
                for i in 0..txn.req_header_count() {
                    let Some((n, v)) = txn.req_header(i) else {
                        continue;
                    };
                    if !n.eq_ignore_ascii_case(name.as_bytes()) {
                        continue;
                    }
                    let v = String::from_utf8_lossy(v);
                    let out = if *per_value {
                        v.split(',')
                            .map(|p| regex.replace_all(p.trim(), repl.as_str()).into_owned())
                            .collect::<Vec<_>>()
                            .join(",")
                    } else {
                        regex.replace_all(&v, repl.as_str()).into_owned()
                    };
                    new_values.push(out.into_bytes());
                }
                if !new_values.is_empty() {
                    edits.del.push(name.clone());
                    for v in new_values {
                        edits.add.push((name.as_bytes().to_vec(), v));
                    }
                }
            }
            ReqAction::SetVar(scope, name, expr) => {
                if let Some(v) = expr.eval(txn) {
                    txn.set_var(*scope, name, v.into_owned());
                }
            }
            ReqAction::UnsetVar(scope, name) => txn.vars.unset(*scope, name),
            ReqAction::SetMethod(f) => {
                let mut m = Vec::new();
                render(f, txn, &mut m);
                edits.method = Some(m);
            }
            ReqAction::SetPath(f) => {
                let mut p = Vec::new();
                render(f, txn, &mut p);
                if let (_, Some(q)) = split_query(current_uri(edits, txn)) {
                    p.push(b'?');
                    p.extend_from_slice(q);
                }
                edits.uri = Some(p);
            }
            ReqAction::SetQuery(f) => {
                let mut q = Vec::new();
                render(f, txn, &mut q);
                let (path, _) = split_query(current_uri(edits, txn));
                let mut u = path.to_vec();
                if !q.is_empty() {
                    u.push(b'?');
                    u.extend_from_slice(&q);
                }
                edits.uri = Some(u);
            }
            ReqAction::SetUri(f) => {
                let mut u = Vec::new();
                render(f, txn, &mut u);
                edits.uri = Some(u);
            }
            ReqAction::ReplacePath(regex, fmt) | ReqAction::ReplaceUri(regex, fmt) => {
                let whole = matches!(r.action, ReqAction::ReplaceUri(..));
                let mut repl = Vec::new();
                render(fmt, txn, &mut repl);
                let repl = replacement(&repl);
                let uri = current_uri(edits, txn).to_vec();
                let (path, query) = split_query(&uri);
                let target = if whole { &uri[..] } else { path };
                let target = String::from_utf8_lossy(target);
                let mut out = regex
                    .replace(&target, repl.as_str())
                    .into_owned()
                    .into_bytes();
                if let (false, Some(q)) = (whole, query) {
                    out.push(b'?');
                    out.extend_from_slice(q);
                }
                edits.uri = Some(out);
            }
            ReqAction::SetSrc(expr) => {
                if let Some(ip) = expr.eval(txn).and_then(|v| v.to_ip()) {
                    txn.vars.set_src(ip);
                }
            }
            ReqAction::Reject => return Verdict::Close,
        }
    }
    Verdict::Continue
}

/// Evaluates `http-response` rules; returns the status of a `deny` if one matched.
pub fn eval_response(
    rules: &[Rule<ResAction>],
    txn: &HttpTxn<'_>,
    edits: &mut Edits,
) -> Option<u16> {
    for r in rules {
        if !r.applies(txn) {
            continue;
        }
        match &r.action {
            ResAction::Allow => return None,
            ResAction::Deny { status } => return Some(*status),
            ResAction::SetHeader(name, f) => {
                edits.del.push(name.clone());
                let mut v = Vec::new();
                render(f, txn, &mut v);
                edits.add.push((name.as_bytes().to_vec(), v));
            }
            ResAction::AddHeader(name, f) => {
                let mut v = Vec::new();
                render(f, txn, &mut v);
                edits.add.push((name.as_bytes().to_vec(), v));
            }
            ResAction::DelHeader(name) => edits.del.push(name.clone()),
            ResAction::SetVar(scope, name, expr) => {
                if let Some(v) = expr.eval(txn) {
                    txn.set_var(*scope, name, v.into_owned());
                }
            }
            ResAction::UnsetVar(scope, name) => txn.vars.unset(*scope, name),
        }
    }
    None
}

/// The first matching `use-server` of the backend (or of the `listen` it belongs to).
pub fn eval_use_server(
    rt: &crate::runtime::Runtime,
    fe: usize,
    be: usize,
    txn: &dyn Txn,
) -> Option<usize> {
    let own = rt.rules.backends[be].use_server.iter();
    let listen = rt.rules.frontends[fe]
        .use_server
        .iter()
        .filter(|u| u.backend == be);
    own.chain(listen)
        .find(|u| u.cond.as_ref().is_none_or(|c| c.eval(txn)))
        .map(|u| u.server)
}

/// Applies header edits to a response Sluice made itself (`http-after-response` on a
/// deny page, a redirect, a `return`).
pub fn edit_raw_response(bytes: &[u8], edits: &Edits) -> Vec<u8> {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(bytes.len(), |p| p + 2);
    let (head, body) = bytes.split_at(head_end);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    for (i, line) in head.split_inclusive(|&b| b == b'\n').enumerate() {
        let name = line.split(|&b| b == b':').next().unwrap_or(b"");
        let deleted = i > 0
            && edits
                .del
                .iter()
                .any(|d| name.eq_ignore_ascii_case(d.as_bytes()));
        if !deleted {
            out.extend_from_slice(line);
        }
    }
    for (n, v) in &edits.add {
        out.extend_from_slice(&n.to_ascii_lowercase());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(body);
    out
}

/// The first matching `use_backend`; a dynamic name that names no backend falls through to
/// the default backend, as in HAProxy.
pub fn eval_use_backend(
    rules: &[UseBackend],
    txn: &dyn Txn,
    vars: &dyn sluice_expr::LogVars,
    backend_by_name: &std::collections::HashMap<String, usize>,
) -> Option<usize> {
    for u in rules {
        if !u.cond.as_ref().is_none_or(|c| c.eval(txn)) {
            continue;
        }
        match &u.target {
            BackendTarget::Static(i) => return Some(*i),
            BackendTarget::Dynamic(f) => {
                let mut name = Vec::new();
                f.render(txn, vars, &mut name);
                let name = String::from_utf8_lossy(&name);
                return backend_by_name.get(name.as_ref()).copied();
            }
        }
    }
    None
}

fn auth_reply(realm: &str) -> LocalReply {
    let page = sluice_http::error_page_htx(401);
    let split = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(page.len(), |p| p + 2);
    let mut bytes = Vec::with_capacity(page.len() + 64);
    bytes.extend_from_slice(&page[..split]);
    let _ = write!(bytes, "www-authenticate: Basic realm=\"{realm}\"\r\n");
    bytes.extend_from_slice(&page[split..]);
    LocalReply {
        bytes,
        status: 401,
        who: b'P',
        tarpit: false,
    }
}

fn redirect_reply(rd: &Redirect, txn: &HttpTxn<'_>) -> LocalReply {
    let mut loc = Vec::new();
    let uri = txn.uri().unwrap_or(b"/");
    let (path, query) = match uri.iter().position(|&b| b == b'?') {
        Some(q) => (&uri[..q], &uri[q..]),
        None => (uri, &b""[..]),
    };
    match rd.kind {
        RedirectKind::Location => render(&rd.value, txn, &mut loc),
        RedirectKind::Prefix => {
            let mut prefix = Vec::new();
            render(&rd.value, txn, &mut prefix);
            // A prefix of "/" means "same path": HAProxy does not double the slash.
            if prefix != b"/" {
                loc.extend_from_slice(&prefix);
            }
            loc.extend_from_slice(path);
            if rd.append_slash && !path.ends_with(b"/") {
                loc.push(b'/');
            }
            if !rd.drop_query {
                loc.extend_from_slice(query);
            }
        }
        RedirectKind::Scheme => {
            render(&rd.value, txn, &mut loc);
            loc.extend_from_slice(b"://");
            let host = (0..txn.req_header_count())
                .filter_map(|i| txn.req_header(i))
                .find(|(n, _)| n.eq_ignore_ascii_case(b"host"))
                .map(|(_, v)| v)
                .unwrap_or(b"");
            loc.extend_from_slice(host);
            loc.extend_from_slice(path);
            if !rd.drop_query {
                loc.extend_from_slice(query);
            }
        }
    }
    let mut bytes = Vec::with_capacity(loc.len() + 96);
    let _ = write!(
        bytes,
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: ",
        rd.code,
        reason(rd.code)
    );
    bytes.extend_from_slice(&loc);
    bytes.extend_from_slice(b"\r\ncache-control: no-cache\r\n\r\n");
    LocalReply {
        bytes,
        status: rd.code,
        who: b'L',
        tarpit: false,
    }
}

fn return_reply(ret: &Return, txn: &HttpTxn<'_>) -> LocalReply {
    let mut body = Vec::new();
    match &ret.body {
        ReturnBody::Fixed(b) => body.extend_from_slice(b),
        ReturnBody::Format(f) => render(f, txn, &mut body),
        ReturnBody::ErrorPage => {
            return LocalReply {
                bytes: sluice_http::error_page_htx(ret.status).to_vec(),
                status: ret.status,
                who: b'L',
                tarpit: false,
            }
        }
        ReturnBody::None => {}
    }
    let mut bytes = Vec::with_capacity(body.len() + 128);
    let _ = write!(bytes, "HTTP/1.1 {} {}\r\n", ret.status, reason(ret.status));
    if let Some(ct) = &ret.content_type {
        let _ = write!(bytes, "content-type: {ct}\r\n");
    }
    let _ = write!(bytes, "content-length: {}\r\n", body.len());
    for (n, f) in &ret.headers {
        bytes.extend_from_slice(n.to_ascii_lowercase().as_bytes());
        bytes.extend_from_slice(b": ");
        render(f, txn, &mut bytes);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&body);
    LocalReply {
        bytes,
        status: ret.status,
        who: b'L',
        tarpit: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_backreferences_become_regex_groups() {
        assert_eq!(replacement(b"x/\\1/\\2"), "x/${1}/${2}");
        assert_eq!(replacement(b"cost $5"), "cost $$5");
        assert_eq!(replacement(b"plain"), "plain");
    }

    #[test]
    fn query_split_keeps_path_and_query_apart() {
        assert_eq!(
            split_query(b"/a/b?x=1&y"),
            (&b"/a/b"[..], Some(&b"x=1&y"[..]))
        );
        assert_eq!(split_query(b"/a"), (&b"/a"[..], None));
    }

    #[test]
    fn auth_reply_carries_the_realm_before_the_body() {
        let r = auth_reply("admins");
        let text = String::from_utf8_lossy(&r.bytes);
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        let hdr = text
            .find("www-authenticate: Basic realm=\"admins\"\r\n")
            .expect("header");
        assert!(hdr < text.find("\r\n\r\n").expect("end of head"));
        assert_eq!(r.status, 401);
    }

    #[test]
    fn raw_response_edits_replace_and_append_headers() {
        let raw = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nx-old: 1\r\n\r\nno";
        let edits = Edits {
            del: vec!["X-Old".into()],
            add: vec![(b"X-New".to_vec(), b"v".to_vec())],
            ..Edits::default()
        };
        assert_eq!(
            edit_raw_response(raw, &edits),
            b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nx-new: v\r\n\r\nno".to_vec()
        );
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason(301), "Moved Permanently");
        assert_eq!(reason(503), "Service Unavailable");
    }
}
