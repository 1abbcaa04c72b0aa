//! One client connection in `mode http` (manual 4 "Proxies", 4.2 `option http-keep-alive`,
//! `http-server-close`, `httpclose`, `forwardfor`, the HTTP timeouts): read a request head,
//! pick a server, forward the head with HAProxy's connection-header handling, stream the body
//! both ways, log, and loop for the next request on a kept-alive connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use sluice_config::{HttpConnMode, Mode};
use sluice_http::{
    parse_request, parse_response, BodyKind, BodyTracker, ConnHeader, Limits, RequestHead,
    ResponseHead, Version,
};
use tokio::io::Interest;

use crate::access_log::{self, Outcome};
use crate::buffer::{give_vec, take_vec, Buf};
use crate::http_rules::{self, EditedReq, EditedRes, Effects, Verdict};
use crate::queue;
use crate::relay::{relay, RelayTimeouts};
use crate::runtime::{BackendRt, FrontendRt, Runtime};
use crate::server_conn::{self, ConnectError};
use crate::termination::{Term, TermPhase};
use crate::transport::Conn;
use crate::txn::{HttpTxn, TxnVars};
use crate::wait_timer::WaitTimer;

/// What a step of the exchange ended with when it cannot go on.
struct Abort {
    term: Term,
    /// The status to answer the client with, when nothing was sent to it yet.
    status: Option<u16>,
    /// The server failed before answering a body-less request whose head is still in the
    /// client buffer: on a reused connection, the request may go again on a fresh one.
    retryable: bool,
    /// The head was read and the request ends in its processing (a rule's error, a body
    /// that did not come in time): HAProxy logs it with its request line and the bytes
    /// sent, but no `TR`.
    head_read: bool,
}

impl Abort {
    fn new(who: u8, phase: TermPhase, status: Option<u16>) -> Abort {
        Abort {
            term: Term::new(who, phase),
            status,
            retryable: false,
            head_read: false,
        }
    }

    fn retryable(mut self, yes: bool) -> Abort {
        self.retryable = yes;
        self
    }

    fn head_read(mut self) -> Abort {
        self.head_read = true;
        self
    }
}

fn deadline(from: Instant, d: Option<Duration>) -> Option<Instant> {
    d.map(|d| from + d)
}

/// The earlier of two optional deadlines.
fn nearest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a deadline has passed by `now`.
fn passed(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Where a connection's HTTP/1 stream starts: fresh from the accept, or again after its
/// connection was parked idle ([`crate::idle`]).
#[derive(Clone, Copy, Debug)]
pub struct StreamStart {
    pub accept_time: SystemTime,
    pub accepted: Instant,
    /// When the connection last went idle (the accept, or the end of a response).
    pub idle_since: Instant,
    /// No request was read yet (`timeout http-request` applies, and a 408 on silence).
    pub first: bool,
    /// The connection comes back from the idle set: its session rules already ran.
    pub resumed: bool,
}

impl StreamStart {
    pub fn fresh(accept_time: SystemTime) -> StreamStart {
        let now = Instant::now();
        StreamStart {
            accept_time,
            accepted: now,
            idle_since: now,
            first: true,
            resumed: false,
        }
    }
}

/// How a connection's stream ended.
pub enum Served {
    /// The connection is done with (closed, or to be closed when dropped).
    Closed,
    /// It stayed idle past the parking delay: here it is, to be parked until it is readable
    /// or its idle `deadline` passes, then served again from `start`.
    Idle {
        client: Conn,
        start: StreamStart,
        deadline: Option<Instant>,
    },
}

/// What ended a wait for the next request.
enum IdleWait {
    Ready(bool),
    TimedOut,
}

/// Serves HTTP/1.x requests on one client connection until it closes, or, with `park_after`,
/// until it has been idle that long between requests.
pub async fn serve(
    rt: &Runtime,
    fe: &FrontendRt,
    mut client: Conn,
    peer: SocketAddr,
    start: StreamStart,
    park_after: Option<Duration>,
) -> Served {
    let StreamStart {
        accept_time,
        accepted,
        mut idle_since,
        mut first,
        resumed,
    } = start;
    let ssl_info = client.take_ssl_info();
    // `tcp-request session reject` closes without a log line, as in HAProxy.
    if !resumed && !session_accepted(rt, fe, &client, peer, ssl_info.as_deref()) {
        return Served::Closed;
    }
    // A resumed connection was idle past the delay already: it parks again only after a
    // request, not at once.
    let mut may_park = !resumed;
    // The request state (buffers handles, parsed heads) comes from a per-thread pool for the
    // time of a request and goes back while the connection is idle; the per-request work runs
    // in a boxed future. So an idle connection's task holds little (HAProxy: ~1 KiB).
    let mut state: Option<Box<ConnState>> = None;
    loop {
        // ---- wait for the first byte of a request, holding no buffer while idle
        if state.as_ref().is_none_or(|s| s.cbuf.is_empty()) {
            if let Some(st) = state.take() {
                give_state(st);
            }
            if client.is_finished_stream() {
                return Served::Closed;
            }
            let idle_timeout = if first {
                fe.timeouts.http_request.or(fe.timeouts.client)
            } else {
                fe.timeouts
                    .http_keep_alive
                    .or(fe.timeouts.http_request)
                    .or(fe.timeouts.client)
            };
            let idle_deadline = deadline(idle_since, idle_timeout);
            let park_at = park_after
                .filter(|_| may_park)
                .map(|d| idle_since + d)
                .filter(|&at| idle_deadline.is_none_or(|end| at < end));
            // Readable already (pipelined bytes, a request sent with the connect, a stream
            // from HTTP/2 written before it is read): no timer to arm and disarm.
            let now_ready = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(match client.poll_read_ready(cx) {
                    std::task::Poll::Ready(r) => Some(r.is_ok()),
                    std::task::Poll::Pending => None,
                })
            })
            .await;
            let wait = match now_ready {
                Some(ok) => IdleWait::Ready(ok),
                None => tokio::select! {
                    r = std::future::poll_fn(|cx| client.poll_read_ready(cx)) => IdleWait::Ready(r.is_ok()),
                    _ = sleep_until(park_at.or(idle_deadline)) => IdleWait::TimedOut,
                },
            };
            match wait {
                IdleWait::Ready(true) => {}
                IdleWait::Ready(false) => return Served::Closed,
                IdleWait::TimedOut if park_at.is_some() => {
                    return Served::Idle {
                        client,
                        start: StreamStart {
                            accept_time,
                            accepted,
                            idle_since,
                            first,
                            resumed: true,
                        },
                        deadline: idle_deadline,
                    };
                }
                IdleWait::TimedOut => {
                    if first {
                        // HAProxy answers 408 on a connection that stayed silent past
                        // `timeout http-request`, and logs it unless dontlognull. Boxed: the
                        // log context would otherwise sit in every idle connection's task.
                        Box::pin(silent_connection(
                            rt,
                            fe,
                            &mut client,
                            peer,
                            accept_time,
                            accepted,
                            ssl_info.as_deref(),
                        ))
                        .await;
                    }
                    return Served::Closed;
                }
            }
            // A fresh connection is reported ready before any byte has arrived: confirm
            // with a peek, so a silent connection keeps waiting here, holding no buffer and
            // no request state (later waits follow a read that cleared readiness).
            if first && !client.has_bytes_or_eof() {
                continue;
            }
        }
        let conn = state.get_or_insert_with(|| take_state(rt.bufsize));
        conn.first = first;
        conn.idle_since = idle_since;
        let keep = Box::pin(one_request(
            rt,
            fe,
            &mut client,
            peer,
            accept_time,
            accepted,
            conn,
            ssl_info.as_deref(),
        ))
        .await;
        first = conn.first;
        idle_since = conn.idle_since;
        may_park = true;
        if !keep {
            // Back to the pool: an HTTP/2 stream ends this way after each request.
            if let Some(st) = state.take() {
                give_state(st);
            }
            return Served::Closed;
        }
    }
}

/// The one request of an HTTP/2 stream, which arrives over a pipe whose session rules ran
/// already: no wait for a first byte (the stream writes its request before this looks) and
/// no keep-alive loop. `one_request` runs inline rather than boxed: the stream's task is
/// allocated for this request alone anyway, so one allocation serves both.
pub async fn serve_h2_stream(
    rt: &Runtime,
    fe: &FrontendRt,
    mut client: Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
) {
    let ssl_info = client.take_ssl_info();
    let now = Instant::now();
    let mut conn = take_state(rt.bufsize);
    conn.first = true;
    conn.idle_since = now;
    one_request(
        rt,
        fe,
        &mut client,
        peer,
        accept_time,
        now,
        &mut conn,
        ssl_info.as_deref(),
    )
    .await;
    give_state(conn);
}

/// The origin form (`/path?query`) of an absolute-form target; `None` for other forms.
fn origin_form(uri: &[u8]) -> Option<&[u8]> {
    let rest = uri
        .strip_prefix(b"http://")
        .or_else(|| uri.strip_prefix(b"https://"))?;
    Some(match rest.iter().position(|&b| b == b'/') {
        Some(i) => &rest[i..],
        None => b"/",
    })
}

/// `tcp-request session` rules of the frontend, once per connection.
/// `tcp-request session` rules: whether the connection may go on (a reject closes it
/// without a log line).
pub(crate) fn session_accepted(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &Conn,
    peer: SocketAddr,
    ssl: Option<&sluice_tls::ConnInfo>,
) -> bool {
    let fe_rules = &rt.rules.frontends[fe.id];
    if fe_rules.tcp_session.is_empty() {
        return true;
    }
    let txn = crate::txn::ConnTxn::new(peer, client.local_addr().ok(), ssl);
    fe_rules.accept_session(&txn)
}

/// Request states kept per thread beyond which returned ones are freed.
const STATE_POOL_MAX: usize = 1024;

thread_local! {
    /// Request states of idle connections, reused with their header tables' capacity. Boxed:
    /// a state moves between a connection and the pool without being copied.
    #[allow(clippy::vec_box)]
    static STATES: std::cell::RefCell<Vec<Box<ConnState>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn take_state(bufsize: usize) -> Box<ConnState> {
    let pooled = STATES.with(|p| {
        let mut p = p.borrow_mut();
        p.iter()
            .rposition(|s| s.bufsize == bufsize)
            .map(|i| p.swap_remove(i))
    });
    pooled.unwrap_or_else(|| {
        Box::new(ConnState {
            bufsize,
            vars: TxnVars::default(),
            cbuf: Buf::new(bufsize),
            sbuf: Buf::new(bufsize),
            req: RequestHead::new(),
            resp: ResponseHead::new(),
            first: true,
            idle_since: Instant::now(),
        })
    })
}

/// Gives an idle connection's request state back (its buffers are empty and released).
fn give_state(mut st: Box<ConnState>) {
    st.cbuf.release_if_empty();
    st.sbuf.release_if_empty();
    if !st.cbuf.is_empty() || !st.sbuf.is_empty() {
        return;
    }
    let _ = STATES.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < STATE_POOL_MAX {
            p.push(st);
        }
    });
}

/// The 408 and its log line for a connection that sent nothing in time.
async fn silent_connection(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &mut Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
    accepted: Instant,
    ssl: Option<&sluice_tls::ConnInfo>,
) {
    let mut ctx = LogCtx::new(fe, peer, accept_time, accepted, accepted);
    ctx.ssl = ssl;
    let term = Term::new(b'c', TermPhase::Request);
    finish_error(rt, fe, None, client, &ctx, term, Some(408), true, true).await;
}

/// The state of a request in progress (and of pipelined bytes waiting): pooled per thread,
/// held by a connection only while it has work.
struct ConnState {
    /// The buffer size the handles were made for (`tune.bufsize`).
    bufsize: usize,
    /// The request's variables (`set-var`), read by rules and by the log line.
    vars: TxnVars,
    cbuf: Buf,
    sbuf: Buf,
    req: RequestHead,
    resp: ResponseHead,
    first: bool,
    idle_since: Instant,
}

/// Reads one request head and serves it. Returns whether the connection stays open.
#[allow(clippy::too_many_arguments)]
async fn one_request(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &mut Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
    accepted: Instant,
    conn: &mut ConnState,
    ssl: Option<&sluice_tls::ConnInfo>,
) -> bool {
    let ConnState {
        cbuf,
        sbuf,
        req,
        resp,
        first,
        idle_since,
        vars,
        ..
    } = conn;
    vars.clear();
    let vars: &TxnVars = vars;
    let req_start = Instant::now();
    // A later request's date, from the accept's date and the monotonic time since: one
    // clock read per request instead of two.
    let req_accept_time = if *first {
        accept_time
    } else {
        accept_time + req_start.saturating_duration_since(accepted)
    };
    let idle_ms = req_start.saturating_duration_since(*idle_since);
    // ---- read the request head
    let head_deadline = deadline(
        if *first { accepted } else { req_start },
        fe.timeouts.http_request.or(fe.timeouts.client),
    );
    let mut ctx = LogCtx::new(
        fe,
        peer,
        req_accept_time,
        if *first { accepted } else { req_start },
        req_start,
    );
    ctx.idle = idle_ms;
    ctx.ssl = ssl;
    ctx.vars = Some(vars);
    loop {
        match parse_request(cbuf.data(), &limits(rt), req) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                ctx.t_request = Some(req_start.elapsed());
                finish_error(
                    rt,
                    fe,
                    None,
                    client,
                    &ctx,
                    Term::new(b'P', TermPhase::Request),
                    Some(e.status()),
                    false,
                    true,
                )
                .await;
                return false;
            }
        }
        if cbuf.is_full() {
            ctx.t_request = Some(req_start.elapsed());
            finish_error(
                rt,
                fe,
                None,
                client,
                &ctx,
                Term::new(b'P', TermPhase::Request),
                Some(400),
                false,
                true,
            )
            .await;
            return false;
        }
        // Biased: bytes already there are taken without arming the timer.
        let r = tokio::select! {
            biased;
            r = read_some(client, cbuf) => r,
            _ = sleep_until(head_deadline) => {
                finish_error(rt, fe, None, client, &ctx, Term::new(b'c', TermPhase::Request), Some(408), cbuf.is_empty() && !*first, true).await;
                return false;
            }
        };
        match r {
            Ok(0) | Err(_) => {
                // Closed before a full head: an aborted request (`CR`); an empty
                // keep-alive connection closing is no request at all.
                if !cbuf.is_empty() || *first {
                    finish_error(
                        rt,
                        fe,
                        None,
                        client,
                        &ctx,
                        Term::new(b'C', TermPhase::Request),
                        None,
                        true,
                        true,
                    )
                    .await;
                }
                return false;
            }
            Ok(_) => {}
        }
    }
    *first = false;
    ctx.t_request = Some(req_start.elapsed());
    // `%U` counts as HAProxy does: the head's size in HTX as received, and the body's data
    // bytes (those that came with the head now, the rest as they are forwarded).
    ctx.head_in = req.htx_size(cbuf.data());
    ctx.bytes_in = ctx.head_in + {
        let mut body = BodyTracker::new(req.body);
        let _ = body.feed(cbuf.data().get(req.head_len..).unwrap_or_default());
        body.htx_size()
    };
    keep_request_line(&mut ctx, cbuf.data(), req.head_len);
    if !fe.capture_request.is_empty() {
        let buf = cbuf.data();
        let headers = req
            .headers
            .iter()
            .map(|h| (h.name.of(buf), h.value.of(buf)));
        ctx.fx.req_caps = captures(&fe.capture_request, headers);
    }
    let keep = match exchange(rt, fe, client, peer, cbuf, sbuf, req, resp, &mut ctx, vars).await {
        Ok(keep) => keep,
        Err(a) => {
            let be = ctx.backend.map(|b| &rt.backends[b]);
            if a.head_read {
                ctx.t_request = None;
            }
            let quiet = a.term.phase == TermPhase::Request && !a.head_read;
            finish_error(rt, fe, be, client, &ctx, a.term, a.status, false, quiet).await;
            return false;
        }
    };
    if !keep {
        let _ = client.shutdown().await;
        return false;
    }
    *idle_since = Instant::now();
    true
}

/// The capture slots of a frontend as the head fills them: `capture request|response
/// header` slots take the last occurrence of their header, cut to their length; the slots
/// of `capture` rules (no header name) stay empty for the rules.
fn captures<'b>(
    slots: &[(String, usize)],
    headers: impl Iterator<Item = (&'b [u8], &'b [u8])> + Clone,
) -> Vec<Option<Vec<u8>>> {
    slots
        .iter()
        .map(|(name, len)| {
            if name.is_empty() {
                return None;
            }
            let (_, v) = headers
                .clone()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                .last()?;
            Some(v[..v.len().min(*len)].to_vec())
        })
        .collect()
}

/// Keeps the request line for the log before the buffer moves on (only when logging).
fn keep_request_line(ctx: &mut LogCtx<'_>, data: &[u8], head_len: usize) {
    if !ctx.fe.logger.is_enabled() {
        return;
    }
    let head = data.get(..head_len).unwrap_or(data);
    let end = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(head.len());
    ctx.request_line.extend_from_slice(&head[..end]);
}

/// Reads what the socket has into the buffer's free tail.
async fn read_some(s: &mut Conn, buf: &mut Buf) -> std::io::Result<usize> {
    loop {
        s.ready(Interest::READABLE).await?;
        match s.try_read_into(buf) {
            Ok(n) => return Ok(n),
            // Readiness can be reported before any byte is there (a fresh connection, or a
            // wake-up raced by another read): never wait holding an empty buffer, so an idle
            // connection costs no buffer memory.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => buf.release_if_empty(),
            Err(e) => return Err(e),
        }
    }
}

async fn write_all_timeout(s: &mut Conn, data: &[u8], t: Option<Duration>) -> Result<(), bool> {
    // Most writes fit the socket at once: those need no timer, nor the clock read that
    // setting one costs.
    let data = match s.write_now(data) {
        Ok((_, true)) => return Ok(()),
        Ok((n, false)) => data.get(n..).unwrap_or_default(),
        Err(_) => return Err(false),
    };
    let fut = s.write_all(data);
    match t {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(false),
            Err(_) => Err(true),
        },
        None => fut.await.map_err(|_| false),
    }
}

/// Per-request facts the access log needs.
pub struct LogCtx<'a> {
    pub fe: &'a FrontendRt,
    pub peer: SocketAddr,
    pub accept_time: SystemTime,
    /// Start of `Ta` (first byte of the request, or the accept for the first request).
    pub t_start: Instant,
    pub req_start: Instant,
    pub idle: Duration,
    pub t_request: Option<Duration>,
    pub t_queue: Option<Duration>,
    pub t_connect: Option<Duration>,
    pub t_response: Option<Duration>,
    pub backend: Option<usize>,
    pub server: Option<usize>,
    pub status: Option<u16>,
    pub bytes_in: u64,
    /// `%U`'s share of the request head.
    pub head_in: u64,
    pub bytes_out: u64,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: u32,
    pub backend_queue: u32,
    /// The request still counts in its backend's and server's connections (it is logged
    /// before they are released): `%bc`/`%sc`, taken at log time, leave it out as HAProxy,
    /// which logs after releasing them.
    pub held: bool,
    /// The request line, kept only when the frontend logs.
    pub request_line: Vec<u8>,
    /// `unique-id-format` result, empty when none.
    pub unique_id: Vec<u8>,
    /// Captures and the log level rules set.
    pub fx: Effects,
    /// TLS facts of the client connection (`ssl_fc*` fetches, `%sslc`/`%sslv`).
    pub ssl: Option<&'a sluice_tls::ConnInfo>,
    /// The request's variables, for `%[var(...)]` in the log line.
    pub vars: Option<&'a TxnVars>,
}

impl Drop for LogCtx<'_> {
    fn drop(&mut self) {
        give_vec(std::mem::take(&mut self.request_line));
    }
}

impl<'a> LogCtx<'a> {
    fn new(
        fe: &'a FrontendRt,
        peer: SocketAddr,
        accept_time: SystemTime,
        t_start: Instant,
        req_start: Instant,
    ) -> Self {
        LogCtx {
            fe,
            peer,
            accept_time,
            t_start,
            req_start,
            idle: Duration::ZERO,
            t_request: None,
            t_queue: None,
            t_connect: None,
            t_response: None,
            backend: None,
            server: None,
            status: None,
            bytes_in: 0,
            head_in: 0,
            bytes_out: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            held: false,
            request_line: take_vec(),
            unique_id: Vec::new(),
            fx: Effects::default(),
            ssl: None,
            vars: None,
        }
    }
}

/// Sends an error response (when a status is given and the client can still take one),
/// logs, and closes.
#[allow(clippy::too_many_arguments)]
async fn finish_error(
    rt: &Runtime,
    fe: &FrontendRt,
    be: Option<&BackendRt>,
    client: &mut Conn,
    ctx: &LogCtx<'_>,
    term: Term,
    status: Option<u16>,
    null_connection: bool,
    quiet: bool,
) {
    let mut sent = 0u64;
    if let Some(code) = status {
        let page = error_response(fe, be, code);
        if write_all_timeout(client, page, fe.timeouts.client)
            .await
            .is_ok()
        {
            sent = page_htx_size(page);
        }
    }
    let _ = client.shutdown().await;
    if null_connection && fe.dontlognull {
        return;
    }
    if quiet {
        // HAProxy 2.6 logs a request that never completed with no timers, 0 bytes (its
        // error page is not counted) and 400 when nothing was answered at all.
        let mut quiet = LogCtx::new(
            ctx.fe,
            ctx.peer,
            ctx.accept_time,
            ctx.t_start,
            ctx.req_start,
        );
        quiet.backend = ctx.backend;
        quiet.ssl = ctx.ssl;
        quiet.vars = ctx.vars;
        quiet.fx.log_level = ctx.fx.log_level;
        let outcome = Outcome {
            term,
            status: i32::from(status.unwrap_or(400)),
        };
        access_log::log_http(rt, &quiet, &outcome);
        return;
    }
    // A status the server already sent stays in the log when the transfer then fails
    // (`sD`, `CD`): HAProxy logs the transaction's status, set when the head was parsed.
    let outcome = Outcome {
        term,
        status: status.or(ctx.status).map(i32::from).unwrap_or(-1),
    };
    access_log::log_http_with(rt, ctx, &outcome, sent);
}

/// What a whole response we wrote ourselves (an error page, a redirect, a `return`) counts
/// for in `%B`: its size in HTX, as HAProxy counts it (see [`ResponseHead::htx_size`]).
fn page_htx_size(page: &[u8]) -> u64 {
    let mut head = ResponseHead::new();
    match parse_response(
        page,
        &Limits::default(),
        sluice_http::Method::Get,
        &mut head,
    ) {
        Ok(true) => head.htx_size(page) + page.len().saturating_sub(head.head_len) as u64,
        _ => page.len() as u64,
    }
}

/// The response for a status: `errorfile` of the backend, then the frontend, then HAProxy's
/// built-in page.
fn error_response<'a>(fe: &'a FrontendRt, be: Option<&'a BackendRt>, code: u16) -> &'a [u8] {
    be.and_then(|b| b.errorfiles.get(&code))
        .or_else(|| fe.errorfiles.get(&code))
        .map(|v| v.as_slice())
        .unwrap_or_else(|| sluice_http::error_page(code))
}

/// The hash key for the backend's `balance`, from the request.
fn balance_key(be: &BackendRt, req: &RequestHead, buf: &[u8], peer: SocketAddr) -> Option<u32> {
    use sluice_balance::hash;
    use sluice_config::Balance;
    let consistent = be.hash.kind == sluice_config::HashType::Consistent;
    let f = match be.hash.function {
        sluice_config::HashFunction::Sdbm => hash::Function::Sdbm,
        sluice_config::HashFunction::Djb2 => hash::Function::Djb2,
        sluice_config::HashFunction::Wt6 => hash::Function::Wt6,
        sluice_config::HashFunction::Crc32 => hash::Function::Crc32,
    };
    let aval = hash::effective_avalanche(consistent, be.hash.function_given, be.hash.avalanche);
    match &be.balance {
        Balance::Source => Some(hash::source_key(peer.ip(), consistent, aval)),
        Balance::Uri {
            whole,
            len,
            depth,
            path_only,
        } => Some(hash::uri_key(
            req.uri.of(buf),
            *whole,
            *len,
            *depth,
            *path_only,
            f,
            aval,
        )),
        Balance::UrlParam { name } => {
            hash::url_param_key(req.uri.of(buf), name.as_bytes(), f, aval)
        }
        Balance::Hdr {
            name,
            use_domain_only,
        } => req
            .header(buf, name)
            .map(|v| hash::hdr_key(v, *use_domain_only, f, aval)),
        _ => None,
    }
}

/// Whether the client's source is outside `except` (so a forwardfor header is added).
fn forwardfor_applies(ff: &sluice_config::ForwardFor, peer: SocketAddr) -> bool {
    match ff.except {
        None => true,
        Some((net, bits)) => !crate::net::in_network(peer.ip(), net, bits),
    }
}

/// The request as rules left it, for everything after them.
#[derive(Default)]
struct ReqState {
    /// The head rebuilt by the rules' edits; `None` while they made none.
    edited: Option<EditedReq>,
    /// The request body (de-chunked) once waited for (`option http-buffer-request`,
    /// `wait-for-body`).
    body: Option<Vec<u8>>,
    /// `100 Continue` already sent to the client by Sluice.
    continued: bool,
}

impl ReqState {
    /// The current head: the edited one, else the received one in the client buffer.
    fn view<'a>(&'a self, buf: &'a [u8], req: &'a RequestHead) -> (&'a [u8], &'a RequestHead) {
        match &self.edited {
            Some(e) => (&e.buf, &e.head),
            None => (buf, req),
        }
    }
}

fn limits(rt: &Runtime) -> Limits {
    Limits {
        max_head: rt.max_head,
        max_headers: rt.max_headers,
    }
}

/// One request/response exchange. Returns whether the client connection stays open.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &mut Conn,
    peer: SocketAddr,
    cbuf: &mut Buf,
    sbuf: &mut Buf,
    req: &mut RequestHead,
    resp: &mut ResponseHead,
    ctx: &mut LogCtx<'_>,
    vars: &TxnVars,
) -> Result<bool, Abort> {
    let fe_rules = &rt.rules.frontends[fe.id];
    let mut st = ReqState::default();
    // Headers Sluice adds after every rule (`unique-id-header`), as HAProxy does.
    let mut extra: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut be_choice = fe.default_backend;
    let local = if fe_rules.is_empty() {
        None
    } else {
        client.local_addr().ok()
    };
    rt.requests_total
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(uid) = &fe_rules.unique_id {
        let local = client.local_addr().ok();
        let mut id = Vec::new();
        {
            let txn = request_txn(rt, fe, None, peer, local, cbuf.data(), req, vars, ctx);
            uid.render(&txn, &crate::txn::RuleVars { txn: &txn }, &mut id);
        }
        if let Some(h) = &fe.unique_id_header {
            extra.push((h.as_bytes().to_vec(), id.clone()));
        }
        ctx.unique_id = id;
    }
    // `tcp-request content` in an HTTP frontend runs for each request, on its head.
    if !fe_rules.tcp_content.is_empty() {
        let accept = {
            let local = local.or_else(|| client.local_addr().ok());
            let txn = request_txn(rt, fe, None, peer, local, cbuf.data(), req, vars, ctx);
            fe_rules.content_verdict(&txn).unwrap_or(true)
        };
        if !accept {
            return Err(Abort::new(b'P', TermPhase::Request, None));
        }
    }
    if fe_rules.buffer_request {
        let deadline = deadline(Instant::now(), fe.timeouts.http_request);
        wait_body(rt, fe, client, peer, cbuf, req, &mut st, ctx, deadline, 0).await?;
    }
    if !fe_rules.is_empty() {
        let ctl = RuleCtl {
            rt,
            fe,
            backend: None,
            peer,
            local,
            vars,
        };
        let verdict = request_rules(
            &ctl,
            client,
            cbuf,
            req,
            &mut st,
            ctx,
            &fe_rules.http_request,
        )
        .await?;
        if matches!(verdict, Verdict::Continue) {
            let (buf, head) = st.view(cbuf.data(), req);
            let mut txn = request_txn(rt, fe, None, peer, local, buf, head, vars, ctx);
            txn.req_body = st.body.as_deref();
            let rvars = crate::txn::RuleVars { txn: &txn };
            let names = &rt.rules.backend_by_name;
            if let Some(b) =
                http_rules::eval_use_backend(&fe_rules.use_backend, &txn, &rvars, names)
            {
                be_choice = Some(b);
            }
        }
        if let Some(r) = rule_verdict(verdict)? {
            return local_reply(rt, fe, client, cbuf, req, &st, vars, ctx, r).await;
        }
    }
    let Some(be_id) = be_choice else {
        return Err(Abort::new(b'P', TermPhase::Request, Some(503)));
    };
    let be = &rt.backends[be_id];
    ctx.backend = Some(be_id);
    if be.mode != Mode::Http {
        return Err(Abort::new(b'P', TermPhase::Request, Some(500)));
    }
    let be_rules = &rt.rules.backends[be_id];
    if be_rules.buffer_request && st.body.is_none() {
        let deadline = deadline(Instant::now(), be.timeouts.http_request);
        wait_body(rt, fe, client, peer, cbuf, req, &mut st, ctx, deadline, 0).await?;
    }
    if !be_rules.http_request.is_empty() {
        let ctl = RuleCtl {
            rt,
            fe,
            backend: Some(be_id),
            peer,
            local: local.or_else(|| client.local_addr().ok()),
            vars,
        };
        let verdict = request_rules(
            &ctl,
            client,
            cbuf,
            req,
            &mut st,
            ctx,
            &be_rules.http_request,
        )
        .await?;
        if let Some(r) = rule_verdict(verdict)? {
            return local_reply(rt, fe, client, cbuf, req, &st, vars, ctx, r).await;
        }
    }
    // `set-src`: logs and forwardfor see the new client address from here on.
    let peer = match vars.src_override() {
        Some(ip) => {
            ctx.peer = SocketAddr::new(ip, peer.port());
            ctx.peer
        }
        None => peer,
    };
    // `capture cookie`: the request's cookie as the rules left it (HAProxy's
    // `http_process_request`, after the backend's rules).
    capture_request_cookie(fe_rules, &st, cbuf.data(), req, ctx);
    be.counters.enter();
    let r = exchange_with_backend(
        rt, fe, be, client, peer, cbuf, sbuf, req, resp, ctx, &st, &extra, vars,
    )
    .await;
    be.counters.leave();
    r
}

/// `capture cookie NAME len N`: the first matching cookie of the current request head.
fn capture_request_cookie(
    fe_rules: &crate::rules::ProxyRules,
    st: &ReqState,
    buf: &[u8],
    req: &RequestHead,
    ctx: &mut LogCtx<'_>,
) {
    let Some((name, len)) = &fe_rules.capture_cookie else {
        return;
    };
    let (buf, head) = st.view(buf, req);
    let fields = head
        .headers
        .iter()
        .map(|h| (h.name.of(buf), h.value.of(buf)));
    ctx.fx.cookie_req = http_rules::capture_cookie(fields, true, name, *len);
}

/// What request rules run with, besides the head and the log context.
struct RuleCtl<'a> {
    rt: &'a Runtime,
    fe: &'a FrontendRt,
    backend: Option<usize>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    vars: &'a TxnVars,
}

/// Runs a section's `http-request` rules, waiting for the body where a `wait-for-body`
/// asks to, then going on with the next rule.
async fn request_rules(
    ctl: &RuleCtl<'_>,
    client: &mut Conn,
    cbuf: &mut Buf,
    req: &RequestHead,
    st: &mut ReqState,
    ctx: &mut LogCtx<'_>,
    rules: &[std::sync::Arc<crate::rules::Rule<crate::rules::ReqAction>>],
) -> Result<Verdict, Abort> {
    let limits = limits(ctl.rt);
    let mut from = 0;
    loop {
        let v = {
            let base = HttpTxn {
                rt: ctl.rt,
                fe: ctl.fe,
                backend: ctl.backend,
                peer: ctl.peer,
                local: ctl.local,
                req_buf: cbuf.data(),
                req,
                resp: None,
                vars: ctl.vars,
                unique_id: &ctx.unique_id,
                ssl: ctx.ssl,
                req_body: st.body.as_deref(),
            };
            http_rules::eval_request(rules, from, &base, &mut st.edited, &mut ctx.fx, &limits)
        };
        let Verdict::WaitBody {
            next,
            time,
            at_least,
        } = v
        else {
            return Ok(v);
        };
        let deadline = Some(Instant::now() + time);
        wait_body(
            ctl.rt, ctl.fe, client, ctl.peer, cbuf, req, st, ctx, deadline, at_least,
        )
        .await?;
        from = next;
    }
}

/// A rules verdict as what the exchange does next: go on (`None`), answer locally, or stop.
fn rule_verdict(v: Verdict) -> Result<Option<http_rules::LocalReply>, Abort> {
    match v {
        Verdict::Continue | Verdict::WaitBody { .. } => Ok(None),
        Verdict::Reply(r) => Ok(Some(r)),
        Verdict::Close => Err(Abort::new(b'P', TermPhase::Request, None)),
        Verdict::Error(status) => {
            Err(Abort::new(b'P', TermPhase::Request, Some(status)).head_read())
        }
    }
}

/// Body bytes of a message so far, de-chunked, and whether the body is complete. `Err` for
/// a malformed chunked body.
fn body_so_far(kind: BodyKind, raw: &[u8]) -> Result<(Vec<u8>, bool), ()> {
    match kind {
        BodyKind::Empty => Ok((Vec::new(), true)),
        BodyKind::ContentLength(n) => {
            let have = raw.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            Ok((raw[..have].to_vec(), have as u64 == n))
        }
        BodyKind::Chunked => {
            let mut t = BodyTracker::new(kind);
            let p = t.feed(raw).map_err(|_| ())?;
            Ok((dechunk(&raw[..p.consumed]), p.done))
        }
        BodyKind::UntilClose => Ok((raw.to_vec(), false)),
    }
}

/// The payload of (the start of) a chunked body whose framing was already checked; a chunk
/// cut short gives what is there.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    while let Some(lf) = raw.iter().position(|&b| b == b'\n') {
        let size = raw[..lf]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .fold(0u64, |n, &b| {
                n.saturating_mul(16)
                    .saturating_add(u64::from((b as char).to_digit(16).unwrap_or(0)))
            });
        if size == 0 {
            break;
        }
        raw = &raw[lf + 1..];
        let take = raw.len().min(usize::try_from(size).unwrap_or(usize::MAX));
        out.extend_from_slice(&raw[..take]);
        raw = &raw[take..];
        // The data's line end.
        match raw.iter().position(|&b| b == b'\n') {
            Some(p) if take as u64 == size => raw = &raw[p + 1..],
            _ => break,
        }
    }
    out
}

/// Waits for the request body (HAProxy's `http_wait_for_msg_body`): until it is all there,
/// its first `at_least` bytes are (when not 0), or the buffer is full; the body so far goes
/// to `st.body`. Past `deadline` the client gets a 408. A client that sent `Expect:
/// 100-continue` gets its `100 Continue` from Sluice, and the server no `Expect`.
#[allow(clippy::too_many_arguments)]
async fn wait_body(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &mut Conn,
    peer: SocketAddr,
    cbuf: &mut Buf,
    req: &RequestHead,
    st: &mut ReqState,
    ctx: &mut LogCtx<'_>,
    deadline: Option<Instant>,
    at_least: u64,
) -> Result<(), Abort> {
    if req.expect_continue && !st.continued && !matches!(req.body, BodyKind::Empty) {
        st.continued = true;
        const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
        if write_all_timeout(client, CONTINUE, fe.timeouts.client)
            .await
            .is_err()
        {
            return Err(Abort::new(b'C', TermPhase::Request, None).head_read());
        }
        ctx.bytes_out += CONTINUE.len() as u64;
        let vars = TxnVars::default();
        let base = request_txn(rt, fe, None, peer, None, cbuf.data(), req, &vars, ctx);
        let limits = limits(rt);
        if !http_rules::remove_request_header(&base, &mut st.edited, "expect", &limits) {
            return Err(Abort::new(b'P', TermPhase::Request, Some(500)).head_read());
        }
    }
    loop {
        let raw = cbuf.data().get(req.head_len..).unwrap_or(&[]);
        let Ok((body, done)) = body_so_far(req.body, raw) else {
            return Err(Abort::new(b'P', TermPhase::Request, Some(400)).head_read());
        };
        let enough = at_least > 0 && body.len() as u64 >= at_least;
        if done || enough || cbuf.len() >= rt.max_head || cbuf.is_full() {
            st.body = Some(body);
            // HAProxy's `TR` runs until the body it waited for is there.
            ctx.t_request = Some(ctx.req_start.elapsed());
            return Ok(());
        }
        let wait_until = nearest(deadline, fe.timeouts.client.map(|t| Instant::now() + t));
        let r = tokio::select! {
            biased;
            r = read_some(client, cbuf) => r,
            _ = sleep_until(wait_until) => {
                return Err(Abort::new(b'c', TermPhase::Request, Some(408)).head_read());
            }
        };
        match r {
            Ok(0) | Err(_) => return Err(Abort::new(b'C', TermPhase::Request, None).head_read()),
            Ok(_) => {}
        }
    }
}

/// Sends a response head to the client exactly as the server wrote it (1xx interim
/// responses, and the 101 that starts a tunnel).
async fn forward_raw_head(
    client: &mut Conn,
    sbuf: &mut Buf,
    n: usize,
    client_t: Option<Duration>,
    ctx: &mut LogCtx<'_>,
) -> Result<(), Abort> {
    if write_all_timeout(client, &sbuf.data()[..n], client_t)
        .await
        .is_err()
    {
        return Err(Abort::new(b'C', TermPhase::Data, None));
    }
    ctx.bytes_out += n as u64;
    sbuf.consume(n);
    Ok(())
}

/// The transaction as request rules see it.
#[allow(clippy::too_many_arguments)]
fn request_txn<'a>(
    rt: &'a Runtime,
    fe: &'a FrontendRt,
    backend: Option<usize>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    req_buf: &'a [u8],
    req: &'a RequestHead,
    vars: &'a TxnVars,
    ctx: &'a LogCtx<'_>,
) -> HttpTxn<'a> {
    HttpTxn {
        rt,
        fe,
        backend,
        peer,
        local,
        req_buf,
        req,
        resp: None,
        vars,
        unique_id: &ctx.unique_id,
        ssl: ctx.ssl,
        req_body: None,
    }
}

/// Answers a request locally (deny, auth, redirect, return, tarpit) and logs it. The
/// connection stays open when the client wants it and no request body is pending.
#[allow(clippy::too_many_arguments)]
async fn local_reply(
    rt: &Runtime,
    fe: &FrontendRt,
    client: &mut Conn,
    cbuf: &mut Buf,
    req: &RequestHead,
    st: &ReqState,
    vars: &TxnVars,
    ctx: &mut LogCtx<'_>,
    r: http_rules::LocalReply,
) -> Result<bool, Abort> {
    // HAProxy captures the cookie of a denied or tarpitted request, not of one answered
    // by `return`, `redirect` or `auth`.
    if r.who == b'P' {
        capture_request_cookie(&rt.rules.frontends[fe.id], st, cbuf.data(), req, ctx);
    }
    if r.tarpit {
        // HAProxy holds a tarpitted request for `timeout tarpit` (or `timeout connect`).
        if let Some(t) = fe.timeouts.tarpit.or(fe.timeouts.connect) {
            tokio::time::sleep(t).await;
        }
    }
    let keep = !r.tarpit
        && matches!(req.body, BodyKind::Empty)
        && req.keep_alive()
        && fe.conn_mode != HttpConnMode::Close;
    // `http-after-response` applies to what Sluice answers itself too.
    let none: &[_] = &[];
    let be_after = ctx
        .backend
        .map_or(none, |b| &rt.rules.backends[b].http_after_response[..]);
    let fe_after = &rt.rules.frontends[fe.id].http_after_response[..];
    let mut r = r;
    if !fe_after.is_empty() || !be_after.is_empty() {
        let edited = {
            let (buf, head) = st.view(cbuf.data(), req);
            let base = HttpTxn {
                rt,
                fe,
                backend: ctx.backend,
                peer: ctx.peer,
                local: None,
                req_buf: buf,
                req: head,
                resp: None,
                vars,
                unique_id: &ctx.unique_id,
                ssl: ctx.ssl,
                req_body: st.body.as_deref(),
            };
            http_rules::after_local_reply(
                [be_after, fe_after],
                &base,
                &r.bytes,
                &mut ctx.fx,
                &limits(rt),
            )
        };
        if let Some(b) = edited {
            r.bytes = b;
        }
    }
    cbuf.consume(req.head_len);
    if write_all_timeout(client, &r.bytes, fe.timeouts.client)
        .await
        .is_err()
    {
        return Err(Abort::new(b'C', TermPhase::Request, None));
    }
    ctx.bytes_out += page_htx_size(&r.bytes);
    ctx.status = Some(r.status);
    access_log::log_http(
        rt,
        ctx,
        &Outcome {
            term: Term::new(r.who, TermPhase::Request),
            status: i32::from(r.status),
        },
    );
    Ok(keep)
}

#[allow(clippy::too_many_arguments)]
async fn exchange_with_backend(
    rt: &Runtime,
    fe: &FrontendRt,
    be: &BackendRt,
    client: &mut Conn,
    peer: SocketAddr,
    cbuf: &mut Buf,
    sbuf: &mut Buf,
    req: &mut RequestHead,
    resp: &mut ResponseHead,
    ctx: &mut LogCtx<'_>,
    st: &ReqState,
    extra: &[(Vec<u8>, Vec<u8>)],
    vars: &TxnVars,
) -> Result<bool, Abort> {
    let conn_mode = worst_mode(fe.conn_mode, be.conn_mode);
    // The balancer, `use-server` and `sni` see the request as the rules left it.
    let key = if be.uses_hash() {
        let (buf, head) = st.view(cbuf.data(), req);
        balance_key(be, head, buf, peer)
    } else {
        None
    };
    let forced = {
        let (buf, head) = st.view(cbuf.data(), req);
        let mut txn = request_txn(rt, fe, Some(be.id), peer, None, buf, head, vars, &*ctx);
        txn.req_body = st.body.as_deref();
        crate::http_rules::eval_use_server(rt, fe.id, be.id, &txn)
    };
    let mut reuse = conn_mode == HttpConnMode::KeepAlive;
    loop {
        let sni_of = |srv: usize| {
            let e = rt.rules.server_sni.get(be.id)?.get(srv)?.as_ref()?;
            let (buf, head) = st.view(cbuf.data(), req);
            let txn = request_txn(rt, fe, Some(be.id), peer, None, buf, head, vars, ctx);
            crate::txn::eval_string(e, &txn)
        };
        let conn = match server_conn::connect(be, key, forced, reuse, &sni_of).await {
            Ok(c) => c,
            Err(ConnectError::Assign(queue::AssignError::QueueTimeout)) => {
                ctx.t_queue = Some(ctx.req_start.elapsed());
                return Err(Abort::new(b's', TermPhase::Queue, Some(503)));
            }
            Err(ConnectError::Assign(_)) => {
                return Err(Abort::new(b'S', TermPhase::Connect, Some(503)));
            }
            Err(ConnectError::Failed {
                server,
                timeout,
                retries,
                queued,
            }) => {
                ctx.server = Some(server);
                ctx.retries = retries;
                ctx.t_queue = Some(queued);
                let who = if timeout { b's' } else { b'S' };
                return Err(Abort::new(who, TermPhase::Connect, Some(503)));
            }
        };
        let srv = conn.assigned.server;
        ctx.server = Some(srv);
        ctx.t_queue = Some(conn.assigned.queued);
        ctx.t_connect = Some(conn.connect_time);
        ctx.retries = conn.retries;
        ctx.redispatched = conn.redispatched;
        ctx.srv_queue = conn.assigned.srv_queue;
        ctx.backend_queue = conn.assigned.backend_queue;
        ctx.held = true;
        let mut server = conn.stream;
        let r = forward(
            rt,
            fe,
            be,
            client,
            &mut server,
            peer,
            cbuf,
            sbuf,
            req,
            resp,
            ctx,
            conn_mode,
            st,
            extra,
            vars,
        )
        .await;
        queue::release(be, srv);
        ctx.held = false;
        return match r {
            Ok((keep_client, reuse_server)) => {
                if reuse_server {
                    server_conn::put_idle(be.id, srv, conn.tag, server);
                }
                Ok(keep_client)
            }
            // An idle connection the server closed just as we reused it: once more, fresh.
            Err(a) if a.retryable && conn.reused => {
                reuse = false;
                continue;
            }
            Err(a) => Err(a),
        };
    }
}

/// The stricter of two connection modes (frontend and backend may each set one).
fn worst_mode(a: HttpConnMode, b: HttpConnMode) -> HttpConnMode {
    use HttpConnMode::*;
    match (a, b) {
        (Close, _) | (_, Close) => Close,
        (ServerClose, _) | (_, ServerClose) => ServerClose,
        _ => KeepAlive,
    }
}

/// Forwards the request head and body, then the response, on an established server
/// connection. Returns (client stays open, server connection reusable).
#[allow(clippy::too_many_arguments)]
async fn forward(
    rt: &Runtime,
    fe: &FrontendRt,
    be: &BackendRt,
    client: &mut Conn,
    server: &mut Conn,
    peer: SocketAddr,
    cbuf: &mut Buf,
    sbuf: &mut Buf,
    req: &mut RequestHead,
    resp: &mut ResponseHead,
    ctx: &mut LogCtx<'_>,
    conn_mode: HttpConnMode,
    st: &ReqState,
    uid_header: &[(Vec<u8>, Vec<u8>)],
    vars: &TxnVars,
) -> Result<(bool, bool), Abort> {
    // ---- request head to the server
    let server_conn_hdr = if req.upgrade {
        ConnHeader::Upgrade
    } else if conn_mode != HttpConnMode::KeepAlive {
        ConnHeader::Close
    } else if req.version == Version::Http10 {
        ConnHeader::KeepAlive
    } else {
        ConnHeader::Omit
    };
    let mut out = take_vec();
    // The head as the rules left it; the unique id, then X-Forwarded-For, come after every
    // other header (HAProxy's `http_process_request`).
    let (hbuf, hreq) = st.view(cbuf.data(), req);
    let mut ff_value = [0u8; 64];
    let ff = fe.forwardfor.as_ref().or(be.forwardfor.as_ref());
    let mut extra: Vec<(&[u8], &[u8])> = Vec::new();
    for (n, v) in uid_header {
        extra.push((n, v));
    }
    if let Some(ff) = ff {
        if forwardfor_applies(ff, peer) && !(ff.if_none && hreq.header(hbuf, &ff.header).is_some())
        {
            let n = crate::net::write_ip(&mut ff_value, peer.ip());
            extra.push((ff.header.as_bytes(), &ff_value[..n]));
        }
    }
    // Rules that rewrote `Content-Length`/`Transfer-Encoding` do not change how the body
    // received is framed: the server gets the framing of the bytes it will read.
    let mut cl_value = String::new();
    let refr;
    let hreq = match &st.edited {
        Some(e) if e.framing_changed => {
            let mut h = hreq.clone();
            h.headers.retain(|f| {
                let n = f.name.of(hbuf);
                !n.eq_ignore_ascii_case(b"content-length")
                    && !n.eq_ignore_ascii_case(b"transfer-encoding")
            });
            match req.body {
                BodyKind::ContentLength(n) => {
                    cl_value = n.to_string();
                    extra.insert(0, (b"content-length", cl_value.as_bytes()));
                }
                BodyKind::Chunked => extra.insert(0, (b"transfer-encoding", b"chunked")),
                _ => {}
            }
            refr = h;
            &refr
        }
        _ => hreq,
    };
    // A request that came over HTTP/2 is in absolute form (as HAProxy logs it); HTTP/1
    // servers get it in origin form, as HAProxy sends it.
    let origin = match client {
        Conn::Pipe(..) => origin_form(hreq.uri.of(hbuf)),
        _ => None,
    };
    sluice_http::write_request_head_with(
        hbuf,
        hreq,
        None,
        origin,
        server_conn_hdr,
        &extra,
        &mut out,
    );
    let _ = &cl_value;
    let req_method = hreq.method;
    let head_len = req.head_len;
    let w = write_all_timeout(server, &out, be.timeouts.server).await;
    give_vec(out);
    // A body-less request keeps its head in the buffer until the response starts, so it
    // can be sent again if a reused server connection turns out dead.
    let body_empty = matches!(req.body, BodyKind::Empty);
    if w.is_err() {
        return Err(Abort::new(b'S', TermPhase::Connect, Some(503)).retryable(body_empty));
    }
    if !body_empty {
        cbuf.consume(head_len);
    }
    let client_keep_wanted = req.keep_alive() && conn_mode != HttpConnMode::Close;

    // ---- request body and response head, interleaved (100-continue, early responses)
    let mut req_body = BodyTracker::new(req.body);
    let mut approved = 0usize;
    let server_t = be.timeouts.server;
    let client_t = fe.timeouts.client;
    let mut server_seen = Instant::now();
    let mut client_seen = server_seen;
    let request_sent_at = server_seen;
    let timer = tokio::time::sleep_until(server_seen.into());
    tokio::pin!(timer);
    let mut wait = WaitTimer::new();
    loop {
        if approved == 0 && !req_body.is_done() && !cbuf.is_empty() {
            match req_body.feed(cbuf.data()) {
                Ok(p) => {
                    approved = p.consumed;
                    ctx.bytes_in = ctx.head_in + req_body.htx_size();
                }
                Err(_) => return Err(Abort::new(b'P', TermPhase::Data, Some(400))),
            }
        }
        // Response head complete?
        if !sbuf.is_empty() {
            match parse_response(
                sbuf.data(),
                &Limits {
                    max_head: rt.max_head,
                    max_headers: rt.max_headers,
                },
                req_method,
                resp,
            ) {
                Ok(true) => {
                    if (100..200).contains(&resp.status) && resp.status != 101 {
                        // Interim response: forward as is and wait for the final one.
                        forward_raw_head(client, sbuf, resp.head_len, client_t, ctx).await?;
                        continue;
                    }
                    break;
                }
                Ok(false) => {
                    if sbuf.is_full() {
                        return Err(Abort::new(b'P', TermPhase::Header, Some(502)));
                    }
                }
                Err(_) => return Err(Abort::new(b'P', TermPhase::Header, Some(502))),
            }
        }
        let c_read = !req_body.is_done() && approved == 0 && !cbuf.is_full();
        let s_write = approved > 0;
        let s_interest = if s_write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let s_deadline = deadline(server_seen, server_t);
        let c_deadline = if c_read {
            deadline(client_seen, client_t)
        } else {
            None
        };
        wait.arm(timer.as_mut(), nearest(s_deadline, c_deadline));
        tokio::select! {
            biased;
            r = client.ready(Interest::READABLE), if c_read => {
                if r.is_err() { return Err(Abort::new(b'C', TermPhase::Data, None)); }
                match client.try_read_into(cbuf) {
                    Ok(0) => return Err(Abort::new(b'C', TermPhase::Data, None)),
                    Ok(_) => { client_seen = Instant::now(); }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Err(Abort::new(b'C', TermPhase::Data, None)),
                }
            }
            r = server.ready(s_interest) => {
                let Ok(ready) = r else { return Err(Abort::new(b'S', TermPhase::Header, Some(502)).retryable(body_empty && sbuf.is_empty())); };
                if s_write && ready.is_writable() {
                    match server.try_write(&cbuf.data()[..approved]) {
                        Ok(n) => { cbuf.consume(n); approved -= n; server_seen = Instant::now(); }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return Err(Abort::new(b'S', TermPhase::Data, Some(502))),
                    }
                }
                if ready.is_readable() || ready.is_read_closed() {
                    let fresh = body_empty && sbuf.is_empty();
                    match server.try_read_into(sbuf) {
                        Ok(0) => return Err(Abort::new(b'S', TermPhase::Header, Some(502)).retryable(fresh)),
                        Ok(_) => { server_seen = Instant::now(); }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return Err(Abort::new(b'S', TermPhase::Header, Some(502)).retryable(fresh)),
                    }
                }
            }
            () = &mut timer, if wait.is_armed() => {
                let now = wait.fired();
                if passed(s_deadline, now) {
                    return Err(Abort::new(b's', TermPhase::Header, Some(504)));
                }
                if passed(c_deadline, now) {
                    return Err(Abort::new(b'c', TermPhase::Data, Some(408)));
                }
                // Early: the deadlines moved on; the next round arms the timer again.
            }
        }
    }
    // The read that completed the head set `server_seen`: no second clock read for `Tr`.
    ctx.t_response = Some(server_seen.saturating_duration_since(request_sent_at));
    ctx.status = Some(resp.status);
    if !fe.capture_response.is_empty() {
        let buf = sbuf.data();
        let headers = resp
            .headers
            .iter()
            .map(|h| (h.name.of(buf), h.value.of(buf)));
        ctx.fx.res_caps = captures(&fe.capture_response, headers);
    }

    // ---- http-response rules (the backend's first, then the frontend's, as HAProxy), the
    // response cookie capture, then http-after-response rules; each edit applies at once
    let be_rules = &rt.rules.backends[be.id];
    let fe_rules = &rt.rules.frontends[fe.id];
    let mut res_edited: Option<EditedRes> = None;
    let any_response_rules = !(be_rules.http_response.is_empty()
        && fe_rules.http_response.is_empty()
        && be_rules.http_after_response.is_empty()
        && fe_rules.http_after_response.is_empty());
    if resp.status != 101 && (any_response_rules || fe_rules.capture_cookie.is_some()) {
        let limits = limits(rt);
        // Request fetches still see the head when it is in the buffer (body-less requests),
        // or the head the rules rebuilt.
        let (req_buf, req_head): (&[u8], &RequestHead) = match &st.edited {
            Some(e) => (&e.buf, &e.head),
            None if body_empty => (cbuf.data(), &*req),
            None => (b"", &*req),
        };
        let base = HttpTxn {
            rt,
            fe,
            backend: Some(be.id),
            peer,
            local: None,
            req_buf,
            req: req_head,
            resp: Some((sbuf.data(), resp)),
            vars,
            unique_id: &ctx.unique_id,
            ssl: ctx.ssl,
            req_body: st.body.as_deref(),
        };
        let fx = &mut ctx.fx;
        let denied =
            http_rules::eval_response(&be_rules.http_response, &base, &mut res_edited, fx, &limits)
                .and_then(|d| match d {
                    Some(s) => Ok(Some(s)),
                    None => http_rules::eval_response(
                        &fe_rules.http_response,
                        &base,
                        &mut res_edited,
                        fx,
                        &limits,
                    ),
                });
        let denied = match denied {
            Ok(None) => {
                if let Some((name, len)) = &fe_rules.capture_cookie {
                    let txn = http_rules::res_view(&base, &res_edited);
                    if let Some((buf, head)) = txn.resp {
                        let fields = head
                            .headers
                            .iter()
                            .map(|h| (h.name.of(buf), h.value.of(buf)));
                        fx.cookie_res = http_rules::capture_cookie(fields, false, name, *len);
                    }
                }
                let after = [&be_rules.http_after_response, &fe_rules.http_after_response];
                let mut failed = None;
                for rules in after {
                    if let Err(s) =
                        http_rules::eval_response(rules, &base, &mut res_edited, fx, &limits)
                    {
                        failed = Some(s);
                        break;
                    }
                }
                failed
            }
            Ok(Some(status)) | Err(status) => Some(status),
        };
        if let Some(status) = denied {
            if body_empty {
                cbuf.consume(head_len);
            }
            // HAProxy logs a response it refused with no `Tr`.
            ctx.t_response = None;
            return Err(Abort::new(b'P', TermPhase::Header, Some(status)));
        }
    }
    if body_empty {
        cbuf.consume(head_len);
    }

    // ---- response head to the client
    if resp.status == 101 {
        forward_raw_head(client, sbuf, resp.head_len, client_t, ctx).await?;
        let t = RelayTimeouts::between(&fe.timeouts, &be.timeouts);
        let res = relay(client, server, cbuf, sbuf, t).await;
        ctx.bytes_out += res.server_to_client;
        let term = res.end.term();
        access_log::log_http(rt, ctx, &Outcome { term, status: 101 });
        return Ok((false, false));
    }
    let body_framed = !matches!(resp.body, BodyKind::UntilClose);
    let req_done = req_body.is_done();
    let keep_client = client_keep_wanted && body_framed && req_done;
    let client_conn_hdr = if !keep_client {
        if req.version == Version::Http10 && !req.conn_keep_alive {
            ConnHeader::Omit
        } else {
            ConnHeader::Close
        }
    } else if req.version == Version::Http10 {
        ConnHeader::KeepAlive
    } else {
        ConnHeader::Omit
    };
    let reuse_server = conn_mode == HttpConnMode::KeepAlive
        && body_framed
        && req_done
        && !resp.conn_close
        && (resp.version == Version::Http11 || resp.conn_keep_alive);
    let mut out = take_vec();
    // An HTTP/2 client gets the head whole, HPACK-encoded for its HEADERS frame (handed
    // over below, with the body when all of it came along).
    let whole_head = match client {
        Conn::Pipe(..) => {
            let (hbuf, hhead, reframed) = match &res_edited {
                Some(e) => (&e.buf[..], &e.head, e.framing_changed.then_some(resp.body)),
                None => (sbuf.data(), &*resp, None),
            };
            let mut block = take_vec();
            if crate::mux_h2::encode_response_head(hbuf, hhead, reframed, &mut block) {
                Some(block)
            } else {
                give_vec(block);
                None
            }
        }
        _ => None,
    };
    match &res_edited {
        _ if whole_head.is_some() => {}
        // As for requests, the framing of the bytes received decides.
        Some(e) if e.framing_changed => {
            let mut h = e.head.clone();
            h.headers.retain(|f| {
                let n = f.name.of(&e.buf);
                !n.eq_ignore_ascii_case(b"content-length")
                    && !n.eq_ignore_ascii_case(b"transfer-encoding")
            });
            let cl;
            let framing: Vec<(&[u8], &[u8])> = match resp.body {
                BodyKind::ContentLength(n) => {
                    cl = n.to_string();
                    vec![(b"content-length", cl.as_bytes())]
                }
                BodyKind::Chunked => vec![(b"transfer-encoding", b"chunked")],
                _ => Vec::new(),
            };
            sluice_http::write_response_head(&e.buf, &h, client_conn_hdr, &framing, &mut out);
        }
        Some(e) => {
            sluice_http::write_response_head(&e.buf, &e.head, client_conn_hdr, &[], &mut out)
        }
        None => sluice_http::write_response_head(sbuf.data(), resp, client_conn_hdr, &[], &mut out),
    }
    // `%B` counts the head as HAProxy does, by its size in HTX, whatever went on the wire.
    let head_htx = match &res_edited {
        Some(e) => e.head.htx_size(&e.buf),
        None => resp.htx_size(sbuf.data()),
    };
    let n = resp.head_len;
    sbuf.consume(n);
    // The body bytes that came with the head go out in the same write: one syscall for a
    // small response, as HAProxy does.
    let mut body = BodyTracker::new(resp.body);
    if !body.is_done() && !sbuf.is_empty() {
        match body.feed(sbuf.data()) {
            Ok(p) => {
                out.extend_from_slice(&sbuf.data()[..p.consumed]);
                sbuf.consume(p.consumed);
            }
            Err(_) => {
                give_vec(out);
                return Err(Abort::new(b'S', TermPhase::Data, None));
            }
        }
    }
    if let (Some(block), Conn::Pipe(pipe, _)) = (whole_head, &*client) {
        // A body of known length that is all here goes with the head: no trip through the
        // pipe for the usual small response.
        let data = (body.is_done() && matches!(resp.body, BodyKind::ContentLength(_)))
            .then(|| std::mem::replace(&mut out, take_vec()));
        let head = crate::pipe::Head {
            block,
            body: resp.body,
            data,
        };
        if pipe.put_head(head).is_err() {
            give_vec(out);
            return Err(Abort::new(b'C', TermPhase::Data, None));
        }
    }
    let w = if out.is_empty() {
        Ok(())
    } else {
        write_all_timeout(client, &out, client_t).await
    };
    give_vec(out);
    if w.is_err() {
        return Err(Abort::new(b'C', TermPhase::Data, None));
    }
    // The body counts its data bytes (chunk framing excluded), as HTX holds them.
    let counted = ctx.bytes_out + head_htx;
    ctx.bytes_out = counted + body.htx_size();

    // ---- response body (both timeouts start afresh: writing the head may have waited on
    // a slow client, which is no reason to give up on the server)
    let mut approved = 0usize;
    let mut server_seen = Instant::now();
    let mut client_seen = server_seen;
    let mut server_eof = false;
    let timer = tokio::time::sleep_until(server_seen.into());
    tokio::pin!(timer);
    let mut wait = WaitTimer::new();
    loop {
        if approved == 0 && !body.is_done() && !sbuf.is_empty() {
            match body.feed(sbuf.data()) {
                Ok(p) => {
                    approved = p.consumed;
                    ctx.bytes_out = counted + body.htx_size();
                }
                Err(_) => return Err(Abort::new(b'S', TermPhase::Data, None)),
            }
        }
        if body.is_done() && approved == 0 {
            break;
        }
        if server_eof && approved == 0 {
            if matches!(resp.body, BodyKind::UntilClose) {
                break;
            }
            return Err(Abort::new(b'S', TermPhase::Data, None));
        }
        let s_read = !server_eof && approved == 0 && !sbuf.is_full();
        let c_write = approved > 0;
        let c_deadline = if c_write {
            deadline(client_seen, client_t)
        } else {
            None
        };
        let s_deadline = if s_read {
            deadline(server_seen, server_t)
        } else {
            None
        };
        wait.arm(timer.as_mut(), nearest(c_deadline, s_deadline));
        tokio::select! {
            biased;
            r = client.ready(Interest::WRITABLE), if c_write => {
                if r.is_err() { return Err(Abort::new(b'C', TermPhase::Data, None)); }
                match client.try_write(&sbuf.data()[..approved]) {
                    Ok(n) => { sbuf.consume(n); approved -= n; client_seen = Instant::now(); }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Err(Abort::new(b'C', TermPhase::Data, None)),
                }
            }
            r = server.ready(Interest::READABLE), if s_read => {
                if r.is_err() { return Err(Abort::new(b'S', TermPhase::Data, None)); }
                match server.try_read_into(sbuf) {
                    Ok(0) => server_eof = true,
                    Ok(_) => { server_seen = Instant::now(); }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Err(Abort::new(b'S', TermPhase::Data, None)),
                }
            }
            () = &mut timer, if wait.is_armed() => {
                let now = wait.fired();
                if passed(c_deadline, now) {
                    return Err(Abort::new(b'c', TermPhase::Data, None));
                }
                if passed(s_deadline, now) {
                    return Err(Abort::new(b's', TermPhase::Data, None));
                }
            }
            // A full buffer the body decoder cannot take from (say, a chunk-size line
            // longer than the buffer) and no deadline: nothing can ever move.
            else => return Err(Abort::new(b'S', TermPhase::Data, None)),
        }
    }
    // Bytes the server sent past the end of the response make its connection unusable.
    let reuse_server = reuse_server && sbuf.is_empty();
    sbuf.release_if_empty();
    access_log::log_http(
        rt,
        ctx,
        &Outcome {
            term: Term::normal(),
            status: i32::from(resp.status),
        },
    );
    Ok((keep_client, reuse_server))
}

#[cfg(test)]
mod tests {
    #[test]
    fn absolute_targets_go_out_in_origin_form() {
        use super::origin_form;
        assert_eq!(
            origin_form(b"https://a.example:8443/p?q=1"),
            Some(&b"/p?q=1"[..])
        );
        assert_eq!(origin_form(b"http://a.example"), Some(&b"/"[..]));
        assert_eq!(origin_form(b"/already"), None);
    }
}
