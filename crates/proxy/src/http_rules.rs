//! Running compiled `http-request` / `http-response` / `http-after-response` / `use_backend`
//! rules on one transaction (manual 4.2), as HAProxy does: each header or start-line edit
//! applies at once, so the rules after it, `use_backend`, the balancer and the server all see
//! the edited head; a local reply (deny, auth, redirect, return, tarpit) ends the request here.
//!
//! The received head stays untouched in the connection buffer; the first edit copies it into
//! an [`Edited`] head (rebuilt and parsed again), which later edits replace. A request no
//! rule edits costs nothing.

use std::io::Write;
use std::sync::Arc;

use sluice_expr::Txn;
use sluice_http::{Limits, Method, RequestHead, ResponseHead};

use crate::rules::{
    BackendTarget, LogLevel, Normalizer, Redirect, RedirectKind, ReqAction, ResAction, Return,
    ReturnBody, Rule, UseBackend,
};
use crate::txn::{HttpTxn, RuleVars};

/// A head as rules left it: its own bytes and their parse.
#[derive(Debug, Clone, Default)]
pub struct Edited<H> {
    pub buf: Vec<u8>,
    pub head: H,
    /// The edits changed how the message is framed (a rule removed or rewrote
    /// `Content-Length`/`Transfer-Encoding`): the framing of the bytes actually received
    /// still decides how the body is forwarded.
    pub framing_changed: bool,
}

pub type EditedReq = Edited<RequestHead>;
pub type EditedRes = Edited<ResponseHead>;

/// What rules decided for the log besides their verdicts.
#[derive(Debug, Default)]
pub struct Effects {
    /// `set-log-level`: the last one that ran wins.
    pub log_level: Option<LogLevel>,
    /// Request and response capture slots of the frontend, in declaration order (empty when
    /// none is declared); `None` where nothing was captured.
    pub req_caps: Vec<Option<Vec<u8>>>,
    pub res_caps: Vec<Option<Vec<u8>>>,
    /// `capture cookie`: `name=value` of the request's and of the response's cookie.
    pub cookie_req: Option<Vec<u8>>,
    pub cookie_res: Option<Vec<u8>>,
}

/// Whether `name` is one of `names` (header names compare case-insensitively).
pub fn is_named(names: &[String], name: &[u8]) -> bool {
    names
        .iter()
        .any(|d| name.eq_ignore_ascii_case(d.as_bytes()))
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

fn split_query(uri: &[u8]) -> (&[u8], Option<&[u8]>) {
    match uri.iter().position(|&b| b == b'?') {
        Some(q) => (&uri[..q], Some(&uri[q + 1..])),
        None => (uri, None),
    }
}

/// One change to a head's header fields.
enum HdrEdit<'e> {
    None,
    /// `set-header`: every field of that name goes, the new one comes last.
    Set(&'e [u8], &'e [u8]),
    /// `add-header`: appended.
    Add(&'e [u8], &'e [u8]),
    /// `del-header`.
    Del(&'e [u8]),
    /// `replace-header`/`replace-value`: the fields of that name, in place, take these values
    /// in order.
    Replace(&'e [u8], Vec<Vec<u8>>),
}

/// Writes `start` (the start line, without its CRLF) and the header fields, edited, and the
/// blank line.
fn rebuild<'h>(
    start: &[u8],
    fields: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    edit: &HdrEdit<'_>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(start);
    out.extend_from_slice(b"\r\n");
    let mut replaced = 0;
    for (n, v) in fields {
        let v = match edit {
            HdrEdit::Set(name, _) | HdrEdit::Del(name) if n.eq_ignore_ascii_case(name) => continue,
            HdrEdit::Replace(name, values) if n.eq_ignore_ascii_case(name) => {
                replaced += 1;
                values.get(replaced - 1).map_or(v, Vec::as_slice)
            }
            _ => v,
        };
        push_field(&mut out, n, v);
    }
    if let HdrEdit::Set(n, v) | HdrEdit::Add(n, v) = edit {
        push_field(&mut out, n, v);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Names go lower-case, as in HAProxy's HTX (what it sends, and what Sluice's own replies
/// are written from).
fn push_field(out: &mut Vec<u8>, n: &[u8], v: &[u8]) {
    out.extend(n.iter().map(u8::to_ascii_lowercase));
    out.extend_from_slice(b": ");
    out.extend_from_slice(v);
    out.extend_from_slice(b"\r\n");
}

/// Limits for parsing a head rules rebuilt: it may grow into the `tune.maxrewrite` reserve
/// (the whole buffer), and HAProxy does not count the fields rules add.
fn rewrite_limits(limits: &Limits, bufsize: usize) -> Limits {
    Limits {
        max_head: bufsize.max(limits.max_head),
        max_headers: limits.max_headers.saturating_add(10_000),
    }
}

/// The request head rules see: the edited one, else the received one.
pub fn req_view<'a>(base: &HttpTxn<'a>, edited: &'a Option<EditedReq>) -> HttpTxn<'a> {
    match edited {
        Some(e) => HttpTxn {
            req_buf: &e.buf,
            req: &e.head,
            ..*base
        },
        None => *base,
    }
}

/// Rebuilds the request head with a new method and/or target and one header edit, and
/// parses it. `None` when the result is not a valid head (HAProxy fails such a rewrite with
/// a 500).
fn edit_request(
    txn: &HttpTxn<'_>,
    orig: &RequestHead,
    method: Option<&[u8]>,
    uri: Option<&[u8]>,
    edit: &HdrEdit<'_>,
    limits: &Limits,
) -> Option<EditedReq> {
    let (buf, head) = (txn.req_buf, txn.req);
    let mut start = Vec::with_capacity(64);
    start.extend_from_slice(method.unwrap_or_else(|| head.method_span.of(buf)));
    start.push(b' ');
    start.extend_from_slice(uri.unwrap_or_else(|| head.uri.of(buf)));
    start.push(b' ');
    start.extend_from_slice(head.version.as_bytes());
    let fields = head
        .headers
        .iter()
        .map(|h| (h.name.of(buf), h.value.of(buf)));
    let bytes = rebuild(&start, fields, edit);
    let mut new = RequestHead::new();
    if !matches!(
        sluice_http::parse_request(&bytes, limits, &mut new),
        Ok(true)
    ) {
        return None;
    }
    // Framing and connection handling follow the bytes received, whatever rules wrote.
    let framing_changed = new.body != orig.body;
    new.body = orig.body;
    new.conn_close = orig.conn_close;
    new.conn_keep_alive = orig.conn_keep_alive;
    new.upgrade = orig.upgrade;
    new.expect_continue = orig.expect_continue;
    Some(Edited {
        buf: bytes,
        head: new,
        framing_changed,
    })
}

/// The first line of a head (without leading empty lines and without its line end).
fn start_line(buf: &[u8]) -> &[u8] {
    let from = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let rest = &buf[from..];
    let end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The response counterpart of [`edit_request`] (the status line is kept as received).
fn edit_response(
    buf: &[u8],
    head: &ResponseHead,
    orig: &ResponseHead,
    method: Method,
    edit: &HdrEdit<'_>,
    limits: &Limits,
) -> Option<EditedRes> {
    let fields = head
        .headers
        .iter()
        .map(|h| (h.name.of(buf), h.value.of(buf)));
    let bytes = rebuild(start_line(buf), fields, edit);
    let mut new = ResponseHead::new();
    if !matches!(
        sluice_http::parse_response(&bytes, limits, method, &mut new),
        Ok(true)
    ) {
        return None;
    }
    let framing_changed = new.body != orig.body;
    new.body = orig.body;
    new.conn_close = orig.conn_close;
    new.conn_keep_alive = orig.conn_keep_alive;
    new.upgrade = orig.upgrade;
    Some(Edited {
        buf: bytes,
        head: new,
        framing_changed,
    })
}

/// Runs `capture` into a slot: the sample as text, cut to the slot's length.
fn capture_into(
    slots: &mut Vec<Option<Vec<u8>>>,
    decl: &[(String, usize)],
    slot: usize,
    expr: &sluice_expr::Expr,
    txn: &dyn Txn,
) {
    let Some((_, len)) = decl.get(slot) else {
        return;
    };
    let mut v = Vec::new();
    if !expr.eval_into(txn, &mut v) {
        return;
    }
    v.truncate(*len);
    if slots.len() < decl.len() {
        slots.resize(decl.len(), None);
    }
    slots[slot] = Some(v);
}

/// The values a `replace-header`/`replace-value` gives to each field called `name`; `None`
/// when there is no such field.
fn replaced_values(
    fields: impl Iterator<Item = (Vec<u8>, Vec<u8>)>,
    name: &str,
    regex: &regex::Regex,
    repl: &str,
    per_value: bool,
) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for (n, v) in fields {
        if !n.eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        let v = String::from_utf8_lossy(&v);
        let new = if per_value {
            v.split(',')
                .map(|p| regex.replace_all(p.trim(), repl).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            regex.replace_all(&v, repl).into_owned()
        };
        out.push(new.into_bytes());
    }
    (!out.is_empty()).then_some(out)
}

/// A response Sluice makes itself.
pub struct LocalReply {
    pub bytes: Vec<u8>,
    pub status: u16,
    /// Termination state's first letter: `P` (denied, tarpitted) or `L` (locally processed:
    /// `auth`, `redirect`, `return`, as HAProxy 2.6 logs them).
    pub who: u8,
    /// `tarpit`: hold the connection this long before answering.
    pub tarpit: bool,
}

pub enum Verdict {
    Continue,
    Reply(LocalReply),
    /// `reject`/`silent-drop`: close the connection without a response.
    Close,
    /// `wait-for-body`: wait for the body, then go on with the rule at `next`.
    WaitBody {
        next: usize,
        time: std::time::Duration,
        at_least: u64,
    },
    /// A rule failed the request: 400 for a `normalize-uri ... strict` on an invalid URI,
    /// 500 for a rewrite that gives no valid head.
    Error(u16),
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

/// Evaluates `http-request` rules in order, from the one at `from`, until one ends the
/// evaluation. `base` is the transaction on the received head; edits go to `edited`.
pub fn eval_request(
    rules: &[Arc<Rule<ReqAction>>],
    from: usize,
    base: &HttpTxn<'_>,
    edited: &mut Option<EditedReq>,
    fx: &mut Effects,
    limits: &Limits,
) -> Verdict {
    let limits = rewrite_limits(limits, base.rt.bufsize);
    for (i, r) in rules.iter().enumerate().skip(from) {
        let change = {
            let txn = req_view(base, edited);
            if !r.applies(&txn) {
                continue;
            }
            match req_step(&r.action, &txn, base.req, fx, &limits) {
                Step::Done => None,
                Step::Change(e) => Some(e),
                Step::Stop(v) => {
                    if let Verdict::WaitBody { time, at_least, .. } = v {
                        return Verdict::WaitBody {
                            next: i + 1,
                            time,
                            at_least,
                        };
                    }
                    return v;
                }
            }
        };
        match change {
            Some(Some(e)) => *edited = Some(e),
            Some(None) => return Verdict::Error(500),
            None => {}
        }
    }
    Verdict::Continue
}

/// What one action did.
enum Step<E> {
    Done,
    /// A new head (`None`: the rewrite failed).
    Change(Option<E>),
    Stop(Verdict),
}

fn req_step(
    action: &ReqAction,
    txn: &HttpTxn<'_>,
    orig: &RequestHead,
    fx: &mut Effects,
    limits: &Limits,
) -> Step<EditedReq> {
    let edit = |method: Option<&[u8]>, uri: Option<&[u8]>, e: HdrEdit<'_>| {
        Step::Change(edit_request(txn, orig, method, uri, &e, limits))
    };
    let uri = txn.uri().unwrap_or(b"/");
    match action {
        ReqAction::Allow => Step::Stop(Verdict::Continue),
        ReqAction::Deny { status } => Step::Stop(Verdict::Reply(LocalReply {
            bytes: sluice_http::error_page_htx(*status).to_vec(),
            status: *status,
            who: b'P',
            tarpit: false,
        })),
        ReqAction::Tarpit { status } => Step::Stop(Verdict::Reply(LocalReply {
            bytes: sluice_http::error_page_htx(*status).to_vec(),
            status: *status,
            who: b'P',
            tarpit: true,
        })),
        ReqAction::Auth { realm } => Step::Stop(Verdict::Reply(auth_reply(realm))),
        ReqAction::Redirect(rd) => Step::Stop(Verdict::Reply(redirect_reply(rd, txn))),
        ReqAction::Return(ret) => Step::Stop(Verdict::Reply(return_reply(ret, txn))),
        ReqAction::SetHeader(name, f) | ReqAction::AddHeader(name, f) => {
            let mut v = Vec::new();
            render(f, txn, &mut v);
            let e = if matches!(action, ReqAction::SetHeader(..)) {
                HdrEdit::Set(name.as_bytes(), &v)
            } else {
                HdrEdit::Add(name.as_bytes(), &v)
            };
            edit(None, None, e)
        }
        ReqAction::DelHeader(name) => {
            let present = (0..txn.req_header_count())
                .filter_map(|i| txn.req_header(i))
                .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()));
            if present {
                edit(None, None, HdrEdit::Del(name.as_bytes()))
            } else {
                Step::Done
            }
        }
        ReqAction::ReplaceHeader {
            name,
            regex,
            fmt,
            per_value,
        } => {
            let mut repl = Vec::new();
            render(fmt, txn, &mut repl);
            let repl = replacement(&repl);
            let fields = (0..txn.req_header_count())
                .filter_map(|i| txn.req_header(i))
                .map(|(n, v)| (n.to_vec(), v.to_vec()));
            match replaced_values(fields, name, regex, &repl, *per_value) {
                Some(values) => edit(None, None, HdrEdit::Replace(name.as_bytes(), values)),
                None => Step::Done,
            }
        }
        ReqAction::SetVar(scope, name, expr) => {
            if let Some(v) = expr.eval(txn) {
                txn.set_var(*scope, name, v.into_owned());
            }
            Step::Done
        }
        ReqAction::UnsetVar(scope, name) => {
            txn.vars.unset(*scope, name);
            Step::Done
        }
        ReqAction::SetMethod(f) => {
            let mut m = Vec::new();
            render(f, txn, &mut m);
            edit(Some(&m), None, HdrEdit::None)
        }
        ReqAction::SetPath(f) => {
            let mut p = Vec::new();
            render(f, txn, &mut p);
            if let (_, Some(q)) = split_query(uri) {
                p.push(b'?');
                p.extend_from_slice(q);
            }
            edit(None, Some(&p), HdrEdit::None)
        }
        ReqAction::SetQuery(f) => {
            let mut q = Vec::new();
            render(f, txn, &mut q);
            let (path, _) = split_query(uri);
            let mut u = path.to_vec();
            if !q.is_empty() {
                u.push(b'?');
                u.extend_from_slice(&q);
            }
            edit(None, Some(&u), HdrEdit::None)
        }
        ReqAction::SetUri(f) => {
            let mut u = Vec::new();
            render(f, txn, &mut u);
            edit(None, Some(&u), HdrEdit::None)
        }
        ReqAction::ReplacePath(regex, fmt) | ReqAction::ReplaceUri(regex, fmt) => {
            let whole = matches!(action, ReqAction::ReplaceUri(..));
            let (path, query) = split_query(uri);
            let target = String::from_utf8_lossy(if whole { uri } else { path });
            // HAProxy leaves the target alone when the regex does not match.
            if !regex.is_match(&target) {
                return Step::Done;
            }
            let mut repl = Vec::new();
            render(fmt, txn, &mut repl);
            let repl = replacement(&repl);
            let mut out = regex
                .replace(&target, repl.as_str())
                .into_owned()
                .into_bytes();
            if let (false, Some(q)) = (whole, query) {
                out.push(b'?');
                out.extend_from_slice(q);
            }
            edit(None, Some(&out), HdrEdit::None)
        }
        ReqAction::SetSrc(expr) => {
            if let Some(ip) = expr.eval(txn).and_then(|v| v.to_ip()) {
                txn.vars.set_src(ip);
            }
            Step::Done
        }
        ReqAction::Reject => Step::Stop(Verdict::Close),
        ReqAction::Capture { expr, slot } => {
            capture_into(&mut fx.req_caps, &txn.fe.capture_request, *slot, expr, txn);
            Step::Done
        }
        ReqAction::SetLogLevel(l) => {
            fx.log_level = Some(*l);
            Step::Done
        }
        ReqAction::NormalizeUri(n) => match normalize_uri(*n, uri) {
            Ok(None) => Step::Done,
            Ok(Some(new)) => edit(None, Some(&new), HdrEdit::None),
            Err(InvalidUri) => Step::Stop(Verdict::Error(400)),
        },
        ReqAction::WaitForBody { time, at_least } => {
            // A body already complete, or none: nothing to wait for.
            if txn.req_body.is_some() || matches!(txn.req.body, sluice_http::BodyKind::Empty) {
                Step::Done
            } else {
                Step::Stop(Verdict::WaitBody {
                    next: 0,
                    time: *time,
                    at_least: *at_least,
                })
            }
        }
    }
}

/// Removes a request header outside the rules (Sluice answering `Expect: 100-continue`
/// itself); false when the head cannot be rebuilt.
pub fn remove_request_header(
    base: &HttpTxn<'_>,
    edited: &mut Option<EditedReq>,
    name: &str,
    limits: &Limits,
) -> bool {
    let limits = rewrite_limits(limits, base.rt.bufsize);
    let new = {
        let txn = req_view(base, edited);
        if txn.req.header(txn.req_buf, name).is_none() {
            return true;
        }
        edit_request(
            &txn,
            base.req,
            None,
            None,
            &HdrEdit::Del(name.as_bytes()),
            &limits,
        )
    };
    match new {
        Some(e) => {
            *edited = Some(e);
            true
        }
        None => false,
    }
}

/// The response head rules see: the edited one, else the received one.
pub fn res_view<'a>(base: &HttpTxn<'a>, edited: &'a Option<EditedRes>) -> HttpTxn<'a> {
    match edited {
        Some(e) => HttpTxn {
            resp: Some((&e.buf, &e.head)),
            ..*base
        },
        None => *base,
    }
}

/// Evaluates `http-response` (or `http-after-response`) rules; the status of a `deny`, if
/// one matched. `base` carries the received response head (`resp`); edits go to `edited`.
pub fn eval_response(
    rules: &[Arc<Rule<ResAction>>],
    base: &HttpTxn<'_>,
    edited: &mut Option<EditedRes>,
    fx: &mut Effects,
    limits: &Limits,
) -> Result<Option<u16>, u16> {
    let Some((_, orig)) = base.resp else {
        return Ok(None);
    };
    let limits = rewrite_limits(limits, base.rt.bufsize);
    let method = base.req.method;
    for r in rules {
        let change = {
            let txn = res_view(base, edited);
            if !r.applies(&txn) {
                continue;
            }
            let Some((buf, head)) = txn.resp else {
                return Ok(None);
            };
            let edit = |e: HdrEdit<'_>| Some(edit_response(buf, head, orig, method, &e, &limits));
            match &r.action {
                ResAction::Allow => return Ok(None),
                ResAction::Deny { status } => return Ok(Some(*status)),
                ResAction::SetHeader(name, f) | ResAction::AddHeader(name, f) => {
                    let mut v = Vec::new();
                    render(f, &txn, &mut v);
                    if matches!(r.action, ResAction::SetHeader(..)) {
                        edit(HdrEdit::Set(name.as_bytes(), &v))
                    } else {
                        edit(HdrEdit::Add(name.as_bytes(), &v))
                    }
                }
                ResAction::DelHeader(name) => {
                    if head.header(buf, name).is_some() {
                        edit(HdrEdit::Del(name.as_bytes()))
                    } else {
                        None
                    }
                }
                ResAction::SetVar(scope, name, expr) => {
                    if let Some(v) = expr.eval(&txn) {
                        txn.set_var(*scope, name, v.into_owned());
                    }
                    None
                }
                ResAction::UnsetVar(scope, name) => {
                    txn.vars.unset(*scope, name);
                    None
                }
                ResAction::Capture { expr, slot } => {
                    capture_into(
                        &mut fx.res_caps,
                        &txn.fe.capture_response,
                        *slot,
                        expr,
                        &txn,
                    );
                    None
                }
                ResAction::SetLogLevel(l) => {
                    fx.log_level = Some(*l);
                    None
                }
            }
        };
        match change {
            Some(Some(e)) => *edited = Some(e),
            Some(None) => return Err(500),
            None => {}
        }
    }
    Ok(None)
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
        who: b'L',
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

/// `http-after-response` rules on a response Sluice made itself (deny page, redirect,
/// return): parsed, edited like a server's response, rebuilt. `None` when nothing changed.
pub fn after_local_reply(
    rule_sets: [&[Arc<Rule<ResAction>>]; 2],
    base: &HttpTxn<'_>,
    bytes: &[u8],
    fx: &mut Effects,
    limits: &Limits,
) -> Option<Vec<u8>> {
    let mut head = ResponseHead::new();
    if !matches!(
        sluice_http::parse_response(bytes, limits, base.req.method, &mut head),
        Ok(true)
    ) {
        return None;
    }
    let txn = HttpTxn {
        resp: Some((bytes, &head)),
        ..*base
    };
    let mut edited = None;
    for rules in rule_sets {
        // An `allow` stops this section's rules only; a failed rewrite keeps the reply.
        if eval_response(rules, &txn, &mut edited, fx, limits).is_err() {
            return None;
        }
    }
    edited.map(|e| {
        let mut out = e.buf;
        out.extend_from_slice(&bytes[head.head_len.min(bytes.len())..]);
        out
    })
}

/// Where the path of a request target starts: 0 for the origin form (`/p?q`), after the
/// authority for the absolute form (`http://h/p`); `None` when there is no path (`*`,
/// `host:port`, `http://h`), which HAProxy's normalizers leave alone.
fn path_start(uri: &[u8]) -> Option<usize> {
    if uri.first() == Some(&b'/') {
        return Some(0);
    }
    let scheme_end = uri.windows(3).position(|w| w == b"://")? + 3;
    uri[scheme_end..]
        .iter()
        .position(|&b| b == b'/')
        .map(|p| scheme_end + p)
}

/// A target a `strict` normalizer refuses (an invalid `%` sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUri;

/// Applies a `normalize-uri` normalizer to a request target as HAProxy 2.6's
/// `http_action_normalize_uri` does: `Ok(None)` when the target is left alone, `Err` for an
/// invalid one under `strict` (HAProxy answers 400).
pub fn normalize_uri(n: Normalizer, uri: &[u8]) -> Result<Option<Vec<u8>>, InvalidUri> {
    let Some(at) = path_start(uri) else {
        return Ok(None);
    };
    let (prefix, pathq) = uri.split_at(at);
    let q = pathq.iter().position(|&b| b == b'?').unwrap_or(pathq.len());
    let (path, query) = pathq.split_at(q);
    let mut out = prefix.to_vec();
    match n {
        Normalizer::PathMergeSlashes => {
            out.extend_from_slice(&merge_slashes(path));
            out.extend_from_slice(query);
        }
        Normalizer::PathStripDot => {
            out.extend_from_slice(&strip_dot(path));
            out.extend_from_slice(query);
        }
        Normalizer::PathStripDotdot { full } => {
            out.extend_from_slice(&strip_dotdot(path, full));
            out.extend_from_slice(query);
        }
        Normalizer::QuerySortByName => {
            if query.is_empty() {
                return Ok(None);
            }
            out.extend_from_slice(path);
            out.extend_from_slice(&sort_query(query));
        }
        Normalizer::PercentToUppercase { strict } => {
            out.extend_from_slice(&percent_upper(pathq, strict)?)
        }
        Normalizer::PercentDecodeUnreserved { strict } => {
            out.extend_from_slice(&percent_decode_unreserved(pathq, strict)?)
        }
        Normalizer::FragmentStrip => {
            let end = pathq.iter().position(|&b| b == b'#').unwrap_or(pathq.len());
            out.extend_from_slice(&pathq[..end]);
        }
        Normalizer::FragmentEncode => {
            for &b in pathq {
                if b == b'#' {
                    out.extend_from_slice(b"%23");
                } else {
                    out.push(b);
                }
            }
        }
    }
    Ok((out != uri).then_some(out))
}

/// `path-merge-slashes`: runs of `/` become one.
fn merge_slashes(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &b in path {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    out
}

/// `path-strip-dot`: `.` segments go, with the slash after them.
fn strip_dot(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    let mut rest = path;
    while !rest.is_empty() {
        let (seg, slash, next) = match rest.iter().position(|&b| b == b'/') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, &rest[rest.len()..]),
        };
        if seg != b"." {
            out.extend_from_slice(seg);
            if slash {
                out.push(b'/');
            }
        }
        rest = next;
    }
    out
}

/// `path-strip-dotdot [full]`: HAProxy's `uri_normalizer_path_dotdot`, which walks the path
/// backwards merging each `/../` with the segment before it; without `full` the `/..` that
/// climb above the root stay at the start.
fn strip_dotdot(path: &[u8], full: bool) -> Vec<u8> {
    // Bytes in the order HAProxy writes them (backwards from the end of its buffer).
    let mut rev: Vec<u8> = Vec::with_capacity(path.len());
    let ends_with = |end: isize, pat: &[u8]| {
        end + 1 >= pat.len() as isize
            && path.get((end + 1) as usize - pat.len()..=end as usize) == Some(pat)
    };
    let mut offset = path.len() as isize - 1;
    let mut up = 0usize;
    // `/..` at the very end, without a trailing slash.
    if ends_with(offset, b"/..") {
        up += 1;
        offset -= 2;
    }
    while offset >= 0 {
        if ends_with(offset, b"/../") {
            up += 1;
            offset -= 3;
            continue;
        }
        if up > 0 {
            // Skip the slash; unless that was the start, pop one `/..` with the segment.
            offset -= 1;
            if offset >= 0 {
                up -= 1;
                while offset >= 0 && path[offset as usize] != b'/' {
                    offset -= 1;
                }
            }
        } else {
            rev.push(path[offset as usize]);
            offset -= 1;
            while offset >= 0 && path[offset as usize] != b'/' {
                rev.push(path[offset as usize]);
                offset -= 1;
            }
        }
    }
    if up > 0 {
        rev.push(b'/');
        if !full {
            for _ in 0..up {
                rev.extend_from_slice(b"../");
            }
        }
    }
    rev.reverse();
    rev
}

/// `query-sort-by-name`: `&`-separated parameters (the leading `?` kept) sorted by name,
/// bytewise, a name before any longer one it starts, equal names in their order. As in
/// HAProxy, a trailing `&` does not survive and empty parameters sort first.
fn sort_query(query: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(query.len());
    out.push(b'?');
    let body = &query[1..];
    let mut params: Vec<&[u8]> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'&') {
            Some(i) => {
                params.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                params.push(rest);
                rest = &rest[rest.len()..];
            }
        }
    }
    fn name(p: &[u8]) -> &[u8] {
        p.split(|&b| b == b'=').next().unwrap_or(p)
    }
    // Stable: equal names keep their order.
    params.sort_by(|a, b| name(a).cmp(name(b)));
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(p);
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `percent-to-uppercase [strict]`: hex digits of `%XX` in upper case.
fn percent_upper(s: &[u8], strict: bool) -> Result<Vec<u8>, InvalidUri> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b == b'%' {
            if let (Some(&h1), Some(&h2)) = (s.get(i), s.get(i + 1)) {
                if hex_val(h1).is_some() && hex_val(h2).is_some() {
                    out.extend_from_slice(&[
                        b'%',
                        h1.to_ascii_uppercase(),
                        h2.to_ascii_uppercase(),
                    ]);
                    i += 2;
                    continue;
                }
            }
            if strict {
                return Err(InvalidUri);
            }
        }
        out.push(b);
    }
    Ok(out)
}

/// `percent-decode-unreserved [strict]`: `%XX` of a letter, digit, `-`, `.`, `_` or `~`
/// becomes that character; other valid sequences stay as written.
fn percent_decode_unreserved(s: &[u8], strict: bool) -> Result<Vec<u8>, InvalidUri> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b == b'%' {
            if let (Some(&h1), Some(&h2)) = (s.get(i), s.get(i + 1)) {
                if let (Some(a), Some(c)) = (hex_val(h1), hex_val(h2)) {
                    let ch = (a << 4) | c;
                    if ch.is_ascii_alphanumeric() || matches!(ch, b'-' | b'.' | b'_' | b'~') {
                        out.push(ch);
                    } else {
                        out.extend_from_slice(&[b'%', h1, h2]);
                    }
                    i += 2;
                    continue;
                }
            }
            if strict {
                return Err(InvalidUri);
            }
        }
        out.push(b);
    }
    Ok(out)
}

/// Where a cookie value ends, as HAProxy's `http_find_cookie_value_end`: at the first `;`
/// or `,` outside a quoted string.
fn cookie_value_end(v: &[u8], from: usize) -> usize {
    let (mut quoted, mut pair) = (false, false);
    for (i, &b) in v.iter().enumerate().skip(from) {
        if pair {
            pair = false;
        } else if quoted {
            match b {
                b'\\' => pair = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b',' || b == b';' {
            return i;
        }
    }
    v.len()
}

/// `name=value` cookies of one `Cookie` value (or the first one of a `Set-Cookie`), trimmed,
/// as `(start, end)` ranges of `v`.
fn cookies(v: &[u8], first_only: bool) -> Vec<(usize, usize)> {
    let is_sp = |b: u8| b == b' ' || b == b'\t';
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        while i < v.len() && is_sp(v[i]) {
            i += 1;
        }
        let beg = i;
        let mut j = i;
        while j < v.len() && !matches!(v[j], b'=' | b';' | b',') {
            j += 1;
        }
        let end = if v.get(j) == Some(&b'=') {
            cookie_value_end(v, j + 1)
        } else {
            j
        };
        let mut trimmed = end;
        while trimmed > beg && is_sp(v[trimmed - 1]) {
            trimmed -= 1;
        }
        if trimmed > beg {
            out.push((beg, trimmed));
        }
        if first_only {
            break;
        }
        i = end + 1;
    }
    out
}

/// `capture cookie NAME len N`: the first cookie whose `name=value` starts with `NAME` (case
/// matters), among the `Cookie` fields (`request`) or `Set-Cookie` fields, cut to `len`.
pub fn capture_cookie<'h>(
    fields: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    request: bool,
    name: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let field: &[u8] = if request { b"cookie" } else { b"set-cookie" };
    for (n, v) in fields {
        if !n.eq_ignore_ascii_case(field) {
            continue;
        }
        for (b, e) in cookies(v, !request) {
            let c = &v[b..e];
            if c.starts_with(name) {
                return Some(c[..c.len().min(len)].to_vec());
            }
        }
    }
    None
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

    fn head(text: &str) -> (Vec<u8>, RequestHead) {
        let buf = text.as_bytes().to_vec();
        let mut h = RequestHead::new();
        assert!(matches!(
            sluice_http::parse_request(&buf, &Limits::default(), &mut h),
            Ok(true)
        ));
        (buf, h)
    }

    #[test]
    fn rebuild_sets_adds_deletes_and_replaces_in_place() {
        let (buf, h) = head("GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-B: 2\r\nx-a: 3\r\n\r\n");
        let fields = || {
            h.headers
                .iter()
                .map(|f| (f.name.of(&buf), f.value.of(&buf)))
        };
        let set = rebuild(b"GET /a HTTP/1.1", fields(), &HdrEdit::Set(b"x-a", b"9"));
        assert_eq!(
            set,
            b"GET /a HTTP/1.1\r\nhost: x\r\nx-b: 2\r\nx-a: 9\r\n\r\n".to_vec()
        );
        let add = rebuild(b"GET /a HTTP/1.1", fields(), &HdrEdit::Add(b"X-C", b"c"));
        assert!(add.ends_with(b"x-a: 3\r\nx-c: c\r\n\r\n"));
        let del = rebuild(b"GET /a HTTP/1.1", fields(), &HdrEdit::Del(b"X-A"));
        assert_eq!(
            del,
            b"GET /a HTTP/1.1\r\nhost: x\r\nx-b: 2\r\n\r\n".to_vec()
        );
        let rep = rebuild(
            b"GET /a HTTP/1.1",
            fields(),
            &HdrEdit::Replace(b"x-a", vec![b"one".to_vec(), b"three".to_vec()]),
        );
        assert_eq!(
            rep,
            b"GET /a HTTP/1.1\r\nhost: x\r\nx-a: one\r\nx-b: 2\r\nx-a: three\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn an_edited_head_keeps_the_received_framing() {
        let (_, orig) = head("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
        let (buf, h) = head("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
        let fields = h
            .headers
            .iter()
            .map(|f| (f.name.of(&buf), f.value.of(&buf)));
        let bytes = rebuild(
            b"POST /a HTTP/1.1",
            fields,
            &HdrEdit::Del(b"content-length"),
        );
        let mut new = RequestHead::new();
        assert!(matches!(
            sluice_http::parse_request(&bytes, &Limits::default(), &mut new),
            Ok(true)
        ));
        assert_ne!(new.body, orig.body, "the rebuilt head alone has no body");
    }

    fn norm(n: Normalizer, uri: &str) -> Result<String, InvalidUri> {
        normalize_uri(n, uri.as_bytes())
            .map(|o| String::from_utf8(o.unwrap_or_else(|| uri.as_bytes().to_vec())).unwrap())
    }

    /// Every case observed on HAProxy 2.6.12 (a backend echoing the request line).
    #[test]
    fn normalizers_match_haproxy_2_6() {
        use Normalizer::*;
        let cases: &[(Normalizer, &str, &str)] = &[
            (PathStripDot, "/.", "/"),
            (PathStripDot, "/./bar/", "/bar/"),
            (PathStripDot, "/a/./a", "/a/a"),
            (PathStripDot, "/.well-known/", "/.well-known/"),
            (PathStripDot, "/a/.?x=/./", "/a/?x=/./"),
            (PathStripDot, "/a/.", "/a/"),
            (PathStripDot, "//./", "//"),
            (PathStripDotdot { full: false }, "/foo/../", "/"),
            (PathStripDotdot { full: false }, "/foo/../bar/", "/bar/"),
            (PathStripDotdot { full: false }, "/foo/bar/../", "/foo/"),
            (PathStripDotdot { full: false }, "/../bar/", "/../bar/"),
            (PathStripDotdot { full: false }, "/bar/../../", "/../"),
            (PathStripDotdot { full: false }, "/foo//../", "/foo/"),
            (
                PathStripDotdot { full: false },
                "/foo/%2E%2E/",
                "/foo/%2E%2E/",
            ),
            (PathStripDotdot { full: false }, "/a/b/..", "/a/"),
            (PathStripDotdot { full: false }, "/a/..?x=/../", "/?x=/../"),
            (PathStripDotdot { full: false }, "/..", "/../"),
            (
                PathStripDotdot { full: false },
                "/a/../../b/../c/./d/..",
                "/../c/./",
            ),
            (PathStripDotdot { full: true }, "/../bar/", "/bar/"),
            (PathStripDotdot { full: true }, "/bar/../../", "/"),
            (PathStripDotdot { full: true }, "/..", "/"),
            (PathMergeSlashes, "//", "/"),
            (PathMergeSlashes, "/foo//bar", "/foo/bar"),
            (PathMergeSlashes, "/a?x=//", "/a?x=//"),
            (PathMergeSlashes, "http://h//a//b", "http://h/a/b"),
            (
                PercentDecodeUnreserved { strict: false },
                "/%61dmin",
                "/admin",
            ),
            (
                PercentDecodeUnreserved { strict: false },
                "/foo%3Fbar=baz",
                "/foo%3Fbar=baz",
            ),
            (
                PercentDecodeUnreserved { strict: false },
                "/%%36%36",
                "/%66",
            ),
            (PercentDecodeUnreserved { strict: false }, "/%ZZ", "/%ZZ"),
            (
                PercentDecodeUnreserved { strict: false },
                "/a?x=%41%2f%7e",
                "/a?x=A%2f~",
            ),
            (PercentDecodeUnreserved { strict: false }, "/%4", "/%4"),
            (PercentDecodeUnreserved { strict: true }, "/%41", "/A"),
            (PercentToUppercase { strict: false }, "/%6f%2a", "/%6F%2A"),
            (PercentToUppercase { strict: false }, "/%zz", "/%zz"),
            (PercentToUppercase { strict: false }, "/a?b=%2f", "/a?b=%2F"),
            (QuerySortByName, "/?b=1&a=2&a=1&c", "/?a=2&a=1&b=1&c"),
            (QuerySortByName, "/?b&a=&ab=1&a", "/?a=&a&ab=1&b"),
            (QuerySortByName, "/a", "/a"),
            (QuerySortByName, "/a?", "/a?"),
            (QuerySortByName, "/a?x&&y&", "/a?&x&y"),
            (FragmentStrip, "/a#foo", "/a"),
            (FragmentEncode, "/#foo#bar", "/%23foo%23bar"),
        ];
        for (n, input, want) in cases {
            assert_eq!(norm(*n, input).as_deref(), Ok(*want), "{n:?} {input}");
        }
        for (n, input) in [
            (PercentDecodeUnreserved { strict: true }, "/%%36%36"),
            (PercentDecodeUnreserved { strict: true }, "/%ZZ"),
            (PercentToUppercase { strict: true }, "/%zz"),
            (PercentToUppercase { strict: true }, "/%6f%"),
        ] {
            assert_eq!(norm(n, input), Err(InvalidUri), "{n:?} {input}");
        }
        // No path, nothing to normalize.
        assert_eq!(normalize_uri(PathMergeSlashes, b"*"), Ok(None));
        assert_eq!(
            normalize_uri(PathMergeSlashes, b"example.com:443"),
            Ok(None)
        );
    }

    /// Observed on HAProxy 2.6.12: the first cookie whose text starts with the name, quotes
    /// extending a value over `;`, commas separating cookies too, the `Set-Cookie` attributes
    /// left out.
    #[test]
    fn cookie_captures_match_haproxy() {
        let cap = |fields: &[(&str, &str)], req: bool, name: &str, len: usize| {
            let f = fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
            capture_cookie(f, req, name.as_bytes(), len).map(|v| String::from_utf8(v).unwrap())
        };
        let c = [("cookie", "a=1; SESSIONID=zzzzzzzzzzzzzzzzzz; SESS=2")];
        assert_eq!(cap(&c, true, "SESS", 12).as_deref(), Some("SESSIONID=zz"));
        let c = [("Cookie", "x=1"), ("cookie", "SESSIONID=a\"b{c}|#  ; y=2")];
        assert_eq!(
            cap(&c, true, "SESSIONID", 30).as_deref(),
            Some("SESSIONID=a\"b{c}|#  ; y=2")
        );
        let c = [("cookie", "x=1, SESSIONIDX=2; SESSIONID=3")];
        assert_eq!(
            cap(&c, true, "SESSIONID", 30).as_deref(),
            Some("SESSIONIDX=2")
        );
        assert_eq!(
            cap(&c, true, "SESSIONID=", 30).as_deref(),
            Some("SESSIONID=3")
        );
        assert_eq!(cap(&c, true, "nope", 30), None);
        let s = [
            ("set-cookie", "other=1; SESSIONID=no"),
            ("Set-Cookie", "SESSIONID=abc123def; path=/"),
        ];
        assert_eq!(
            cap(&s, false, "SESSIONID", 30).as_deref(),
            Some("SESSIONID=abc123def")
        );
        assert_eq!(
            cap(&s, true, "other", 30),
            None,
            "requests read Cookie only"
        );
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason(301), "Moved Permanently");
        assert_eq!(reason(503), "Service Unavailable");
    }
}
