//! Access logs (manual 8.2): builds the fields of one request or connection and hands the
//! formatted line to the frontend's logger, which writes it off the data path.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use sluice_config::AccessLog;
use sluice_log::{LogFields, Timers};

use crate::buffer::{give_vec, take_vec};
use crate::rules::LogLevel;
use crate::runtime::Runtime;
use crate::stream_http::LogCtx;
use crate::termination::Term;

/// How a request ended.
pub struct Outcome {
    pub term: Term,
    /// -1 when no response was sent.
    pub status: i32,
}

/// `%X` variables of a custom `log-format`, from the fields of the standard lines plus the
/// request's unique id.
struct FieldVars<'a, 'b> {
    fields: &'a LogFields<'b>,
    unique_id: &'a [u8],
    /// TLS facts of the client connection (`%sslv`, `%sslc`).
    ssl: Option<&'a sluice_tls::ConnInfo>,
}

impl sluice_expr::LogVars for FieldVars<'_, '_> {
    fn write_var(&self, name: &str, o: sluice_expr::logformat::LogOpts, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let ok = match name {
            "ID" => {
                out.extend_from_slice(self.unique_id);
                !self.unique_id.is_empty()
            }
            // `%sslv` / `%sslc`: protocol and cipher of a TLS client connection.
            "sslv" | "sslc" => {
                let v = self
                    .ssl
                    .and_then(|i| if name == "sslv" { i.protocol } else { i.cipher });
                if let Some(v) = v {
                    out.extend_from_slice(v.as_bytes());
                }
                v.is_some()
            }
            // `%{+Q}hrl`: HAProxy quotes each value; the renderer adds the outer quotes.
            "hrl" | "hsl" if o.quote => {
                let c = if name == "hrl" {
                    self.fields.captured_request
                } else {
                    self.fields.captured_response
                };
                if let Some(c) = c {
                    sluice_log::write_capture_list(out, c, true);
                    out.remove(start);
                    out.pop();
                }
                true
            }
            _ => sluice_log::write_var(self.fields, name, out),
        };
        if ok && o.hex {
            to_hex_in_place(out, start, name);
        }
        ok
    }
}

/// `%{+X}`: what was written from `start` becomes upper-case hex as HAProxy prints it: an
/// IPv4 address as 8 digits, a timestamp as 8, other numbers as at least 4; text stays.
pub(crate) fn to_hex_in_place(out: &mut Vec<u8>, start: usize, name: &str) {
    use std::io::Write;
    let Ok(text) = std::str::from_utf8(&out[start..]) else {
        return;
    };
    if let Ok(ip) = text.parse::<std::net::Ipv4Addr>() {
        out.truncate(start);
        let _ = write!(out, "{:08X}", u32::from(ip));
    } else if let Ok(n) = text.parse::<u64>() {
        out.truncate(start);
        let _ = if name == "Ts" {
            write!(out, "{n:08X}")
        } else {
            write!(out, "{n:04X}")
        };
    }
}

/// Formats the line: the frontend's `log-format` when it has one, else the standard format.
#[allow(clippy::too_many_arguments)]
fn format_line(
    rt: &Runtime,
    fe: &crate::runtime::FrontendRt,
    fields: &LogFields<'_>,
    unique_id: &[u8],
    ssl: Option<&sluice_tls::ConnInfo>,
    vars: Option<&crate::txn::TxnVars>,
    tcp: bool,
    line: &mut Vec<u8>,
) {
    if let Some(lf) = &rt.rules.frontends[fe.id].log_format {
        // Samples in a log-format see the connection (HAProxy 2.6 allows only those there).
        let txn = crate::txn::ConnTxn::new(fields.client, None, ssl).with_vars(vars);
        let vars = FieldVars {
            fields,
            unique_id,
            ssl,
        };
        lf.render(&txn, &vars, line);
        return;
    }
    match (fe.access_log, tcp) {
        (AccessLog::Http, false) => sluice_log::format_httplog(fields, line),
        (AccessLog::HttpClf, false) => sluice_log::format_httplog_clf(fields, line),
        (AccessLog::Default, _) => sluice_log::format_default(fields, line),
        _ => sluice_log::format_tcplog(fields, line),
    }
}

fn ms(d: Option<Duration>) -> i64 {
    d.map(|d| d.as_millis() as i64).unwrap_or(-1)
}

/// Log level of an access line: `info`, or `err` for errors with `option log-separate-errors`.
fn level(separate_errors: bool, o: &Outcome) -> u8 {
    if separate_errors && (o.status >= 500 || o.status < 0 || o.term.who != b'-') {
        3
    } else {
        6
    }
}

pub fn log_http(rt: &Runtime, ctx: &LogCtx<'_>, o: &Outcome) {
    log_http_with(rt, ctx, o, 0);
}

/// Capture slots as HAProxy logs them: each value escaped, `|` between them (empty ones
/// too, a response that never came included); `None` when the frontend declares no slot or
/// no request head was read (HAProxy has no transaction to print then).
fn joined(slots: &[Option<Vec<u8>>], declared: usize, head_read: bool) -> Option<Vec<u8>> {
    if declared == 0 || !head_read {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..declared {
        if i > 0 {
            out.push(b'|');
        }
        if let Some(Some(v)) = slots.get(i) {
            sluice_log::push_capture(&mut out, v, usize::MAX);
        }
    }
    Some(out)
}

/// Logs one HTTP request; `extra_out` counts bytes sent beyond `ctx.bytes_out` (an error page).
pub fn log_http_with(rt: &Runtime, ctx: &LogCtx<'_>, o: &Outcome, extra_out: u64) {
    let fe = ctx.fe;
    if !fe.logger.is_enabled() {
        return;
    }
    // `set-log-level` overrides the level, `silent` the line itself (HAProxy's `strm_log`).
    let lvl = match ctx.fx.log_level {
        Some(LogLevel::Silent) => return,
        Some(LogLevel::Level(l)) => l,
        None => level(fe.log_separate_errors, o),
    };
    let be = ctx.backend.map(|b| &rt.backends[b]);
    let server = match (be, ctx.server) {
        (Some(b), Some(s)) => b.servers[s].name.as_str(),
        _ => "<NOSRV>",
    };
    let now = Instant::now();
    let ta = now.saturating_duration_since(ctx.t_start);
    let request_line: &[u8] = if ctx.request_line.is_empty() {
        b"<BADREQ>"
    } else {
        &ctx.request_line
    };
    let head_read = !ctx.request_line.is_empty();
    let req_caps = joined(&ctx.fx.req_caps, fe.capture_request.len(), head_read);
    let res_caps = joined(&ctx.fx.res_caps, fe.capture_response.len(), head_read);
    // `%bc`/`%sc` as HAProxy logs them: the connections at log time, this one left out.
    let own = u32::from(ctx.held);
    let live_be = ctx.backend.map(|b| &rt.backends[b]);
    let live_beconn = live_be.map_or(0, |b| b.counters.current().saturating_sub(own));
    let live_srv_conn = match (live_be, ctx.server) {
        (Some(b), Some(s)) => b.servers[s].counters.current().saturating_sub(own),
        _ => 0,
    };
    let fields = LogFields {
        client: ctx.peer,
        accept_time: ctx.accept_time,
        frontend: &fe.name,
        frontend_tls: ctx.ssl.is_some(),
        backend: be.map(|b| b.name.as_str()).unwrap_or(&fe.name),
        server,
        timers: Timers {
            th: 0,
            ti: ctx.idle.as_millis() as i64,
            tr_req: ms(ctx.t_request),
            tw: ms(ctx.t_queue),
            tc: ms(ctx.t_connect),
            tr_resp: ms(ctx.t_response),
            ta: ta.as_millis() as i64,
            tt: ta.as_millis() as i64,
        },
        status: o.status,
        bytes_read: ctx.bytes_out + extra_out,
        bytes_uploaded: ctx.bytes_in,
        termination: o.term.bytes(),
        actconn: rt.actconn.load(Ordering::Relaxed),
        feconn: fe.counters.current(),
        beconn: live_beconn,
        srv_conn: live_srv_conn,
        retries: ctx.retries,
        redispatched: ctx.redispatched,
        srv_queue: ctx.srv_queue,
        backend_queue: ctx.backend_queue,
        request_line,
        captured_request: req_caps.as_deref(),
        captured_response: res_caps.as_deref(),
        cookie_request: ctx.fx.cookie_req.as_deref(),
        cookie_response: ctx.fx.cookie_res.as_deref(),
    };
    let mut line = take_vec();
    format_line(
        rt,
        fe,
        &fields,
        &ctx.unique_id,
        ctx.ssl,
        ctx.vars,
        false,
        &mut line,
    );
    fe.logger.log(lvl, &line);
    give_vec(line);
}

/// Facts of one `mode tcp` session for its log line.
pub struct TcpLog<'a> {
    pub peer: std::net::SocketAddr,
    pub accept_time: SystemTime,
    pub accepted: Instant,
    pub backend: Option<usize>,
    pub server: Option<usize>,
    pub t_queue: Option<Duration>,
    pub t_connect: Option<Duration>,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub term: Term,
    pub retries: u32,
    pub redispatched: bool,
    pub beconn: u32,
    pub srv_conn: u32,
    pub fe: &'a crate::runtime::FrontendRt,
    /// TLS facts of a client connection on a `bind ... ssl` line.
    pub ssl: Option<&'a sluice_tls::ConnInfo>,
}

pub fn log_tcp(rt: &Runtime, t: &TcpLog<'_>) {
    let fe = t.fe;
    if !fe.logger.is_enabled() {
        return;
    }
    if fe.dontlognull && t.bytes_in == 0 && t.bytes_out == 0 {
        return;
    }
    let be = t.backend.map(|b| &rt.backends[b]);
    let server = match (be, t.server) {
        (Some(b), Some(s)) => b.servers[s].name.as_str(),
        _ => "<NOSRV>",
    };
    let tt = t.accepted.elapsed().as_millis() as i64;
    let fields = LogFields {
        client: t.peer,
        accept_time: t.accept_time,
        frontend: &fe.name,
        frontend_tls: t.ssl.is_some(),
        backend: be.map(|b| b.name.as_str()).unwrap_or(&fe.name),
        server,
        timers: Timers {
            th: 0,
            ti: 0,
            tr_req: -1,
            tw: ms(t.t_queue),
            tc: ms(t.t_connect),
            tr_resp: -1,
            ta: tt,
            tt,
        },
        status: -1,
        bytes_read: t.bytes_out,
        bytes_uploaded: t.bytes_in,
        termination: t.term.bytes(),
        actconn: rt.actconn.load(Ordering::Relaxed),
        feconn: fe.counters.current(),
        beconn: t.beconn,
        srv_conn: t.srv_conn,
        retries: t.retries,
        redispatched: t.redispatched,
        srv_queue: 0,
        backend_queue: 0,
        request_line: b"",
        captured_request: None,
        captured_response: None,
        cookie_request: None,
        cookie_response: None,
    };
    let mut line = take_vec();
    format_line(rt, fe, &fields, b"", t.ssl, None, true, &mut line);
    let lvl = if fe.log_separate_errors && t.term.who != b'-' {
        3
    } else {
        6
    };
    fe.logger.log(lvl, &line);
    give_vec(line);
}
