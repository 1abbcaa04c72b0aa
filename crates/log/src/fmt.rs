//! The access-log lines HAProxy 2.6 writes (manual 8.2.1-8.2.3), byte for byte, without the
//! syslog header (the [`crate::Logger`] adds that per target).
//!
//! These run once per request on the proxy's threads, so they write straight into the
//! caller's reused `Vec` (no allocation once it has grown to a line's size), format integers
//! by hand, and take the calendar dates from a per-thread, per-second cache instead of calling
//! libc for every line.

use std::cell::Cell;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use sluice_config::Mode;

use crate::sys;

/// Timers in milliseconds as HAProxy logs them (manual 8.4); -1 means the step was never
/// reached and is printed as `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    /// `Th`: handshake (TLS / PROXY protocol).
    pub th: i64,
    /// `Ti`: idle time before the first byte of the request.
    pub ti: i64,
    /// `TR`: time to receive the full request head.
    pub tr_req: i64,
    /// `Tw`: time waiting in queues.
    pub tw: i64,
    /// `Tc`: time to connect to the server.
    pub tc: i64,
    /// `Tr`: server response time (head).
    pub tr_resp: i64,
    /// `Ta`: active time of the request (from its first byte to the end of the response).
    pub ta: i64,
    /// `Tt`: total session time (tcplog's last timer).
    pub tt: i64,
}

/// Everything one access-log line needs.
#[derive(Debug, Clone, Copy)]
pub struct LogFields<'a> {
    pub client: SocketAddr,
    /// When the connection was accepted; `%t` prints it as local time with milliseconds.
    pub accept_time: SystemTime,
    pub frontend: &'a str,
    /// The client connection is TLS: `%ft` (in httplog, clf and tcplog) adds `~` to the
    /// frontend's name, as HAProxy marks SSL listeners.
    pub frontend_tls: bool,
    /// The frontend's name when no backend was chosen (as HAProxy does).
    pub backend: &'a str,
    /// `<NOSRV>` when no server was chosen.
    pub server: &'a str,
    pub timers: Timers,
    /// HTTP status, -1 when none.
    pub status: i32,
    /// Bytes sent to the client (`%B`).
    pub bytes_read: u64,
    /// Bytes received from the client (`%U`).
    pub bytes_uploaded: u64,
    /// Session state at disconnection (manual 8.5): httplog and clf print all four
    /// characters (`%tsc`), tcplog only the first two (`%ts`).
    pub termination: [u8; 4],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srv_conn: u32,
    pub retries: u32,
    /// Printed as a `+` before the retry count (`%rc`) when the request was redispatched.
    pub redispatched: bool,
    pub srv_queue: u32,
    pub backend_queue: u32,
    /// The request line as captured (`METHOD URI VERSION`); empty means none was parsed
    /// and `<BADREQ>` is printed, like HAProxy.
    pub request_line: &'a [u8],
    /// `capture request header` values joined by `|` (escaped); None when none is declared.
    pub captured_request: Option<&'a [u8]>,
    /// `capture response header` values, likewise.
    pub captured_response: Option<&'a [u8]>,
    /// `capture cookie`: the request's cookie (`%CC`) and the response's (`%CS`), as
    /// `name=value`; `None` when there was none (printed `-`).
    pub cookie_request: Option<&'a [u8]>,
    pub cookie_response: Option<&'a [u8]>,
}

/// HAProxy captures at most `tune.http.logurilen - 1` bytes of the request line (default
/// 1024), before escaping.
const MAX_REQUEST_LINE: usize = 1023;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `option httplog`:
/// `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
/// %sq/%bq %hr %hs %{+Q}r`. An absent cookie capture is `-`; `%hr %hs` print nothing when
/// no capture is declared, and the separators around them collapse as HAProxy's do.
pub fn format_httplog(f: &LogFields, out: &mut Vec<u8>) {
    reserve(out, f);
    write_addr(out, f.client);
    out.extend_from_slice(b" [");
    write_local_date_ms(out, request_time(f));
    out.extend_from_slice(b"] ");
    write_frontend(out, f);
    out.push(b' ');
    out.extend_from_slice(f.backend.as_bytes());
    out.push(b'/');
    out.extend_from_slice(f.server.as_bytes());
    out.push(b' ');
    let t = &f.timers;
    for (i, v) in [t.tr_req, t.tw, t.tc, t.tr_resp, t.ta]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(b'/');
        }
        write_i64(out, v);
    }
    out.push(b' ');
    write_i64(out, i64::from(f.status));
    out.push(b' ');
    write_u64(out, f.bytes_read);
    for c in [f.cookie_request, f.cookie_response] {
        out.push(b' ');
        out.extend_from_slice(c.unwrap_or(b"-"));
    }
    out.push(b' ');
    out.extend_from_slice(&f.termination);
    out.push(b' ');
    write_conns(out, f, b'/');
    out.push(b' ');
    write_u64(out, u64::from(f.srv_queue));
    out.push(b'/');
    write_u64(out, u64::from(f.backend_queue));
    // `%hr %hs`: present only when captures are declared.
    for c in [f.captured_request, f.captured_response]
        .into_iter()
        .flatten()
    {
        out.extend_from_slice(b" {");
        out.extend_from_slice(c);
        out.push(b'}');
    }
    out.extend_from_slice(b" \"");
    write_request(out, f.request_line);
    out.push(b'"');
}

/// `option httplog clf`:
/// `%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc
/// %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl`. The global `+Q` quotes every text field
/// but the client address; absent cookies print as `""`, each captured header as `"value"`,
/// and a list that is not declared prints nothing, its separator collapsing, which leaves
/// the line ending in one space unless response headers are captured, exactly as HAProxy
/// 2.6 sends it.
pub fn format_httplog_clf(f: &LogFields, out: &mut Vec<u8>) {
    reserve(out, f);
    write_ip(out, f.client.ip());
    out.extend_from_slice(b" - - [");
    write_date(out, request_time(f), false);
    out.extend_from_slice(b" +0000] \"");
    write_request(out, f.request_line);
    out.extend_from_slice(b"\" ");
    write_i64(out, i64::from(f.status));
    out.push(b' ');
    write_u64(out, f.bytes_read);
    out.extend_from_slice(b" \"\" \"\" ");
    write_u64(out, u64::from(f.client.port()));
    out.push(b' ');
    let (_, ms) = split_time(f.accept_time);
    write_3digits(out, ms);
    out.extend_from_slice(b" \"");
    write_frontend(out, f);
    out.push(b'"');
    for name in [f.backend, f.server] {
        out.extend_from_slice(b" \"");
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
    }
    let t = &f.timers;
    for v in [t.tr_req, t.tw, t.tc, t.tr_resp, t.ta] {
        out.push(b' ');
        write_i64(out, v);
    }
    out.push(b' ');
    out.extend_from_slice(&f.termination);
    out.push(b' ');
    write_conns(out, f, b' ');
    out.push(b' ');
    write_u64(out, u64::from(f.srv_queue));
    out.push(b' ');
    write_u64(out, u64::from(f.backend_queue));
    for c in [f.cookie_request, f.cookie_response] {
        out.extend_from_slice(b" \"");
        out.extend_from_slice(c.unwrap_or(b""));
        out.push(b'"');
    }
    out.push(b' ');
    if let Some(c) = f.captured_request {
        write_capture_list(out, c, true);
        out.push(b' ');
    }
    if let Some(c) = f.captured_response {
        write_capture_list(out, c, true);
    }
}

/// `%hrl`/`%hsl`: captured values (joined by `|`) one after the other, separated by spaces;
/// quoted (`+Q`, an empty value `""`) or bare (an empty value `-`).
pub fn write_capture_list(out: &mut Vec<u8>, joined: &[u8], quoted: bool) {
    for (i, v) in joined.split(|&b| b == b'|').enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if quoted {
            out.push(b'"');
            out.extend_from_slice(v);
            out.push(b'"');
        } else if v.is_empty() {
            out.push(b'-');
        } else {
            out.extend_from_slice(v);
        }
    }
}

/// `option tcplog`:
/// `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`.
pub fn format_tcplog(f: &LogFields, out: &mut Vec<u8>) {
    reserve(out, f);
    write_addr(out, f.client);
    out.extend_from_slice(b" [");
    write_local_date_ms(out, f.accept_time);
    out.extend_from_slice(b"] ");
    write_frontend(out, f);
    out.push(b' ');
    out.extend_from_slice(f.backend.as_bytes());
    out.push(b'/');
    out.extend_from_slice(f.server.as_bytes());
    out.push(b' ');
    write_i64(out, f.timers.tw);
    out.push(b'/');
    write_i64(out, f.timers.tc);
    out.push(b'/');
    write_i64(out, f.timers.tt);
    out.push(b' ');
    write_u64(out, f.bytes_read);
    out.push(b' ');
    out.extend_from_slice(&f.termination[..2]);
    out.push(b' ');
    write_conns(out, f, b'/');
    out.push(b' ');
    write_u64(out, u64::from(f.srv_queue));
    out.push(b'/');
    write_u64(out, u64::from(f.backend_queue));
}

/// With neither `option httplog` nor `option tcplog`, HAProxy 2.6 writes no line when a
/// session ends: its only line is `Connect from ...`, sent when the connection is
/// *accepted* (see [`format_connect`]), and it names the local address, which
/// [`LogFields`] does not carry. So this writes nothing, and [`crate::Logger::log`] ignores
/// an empty message: a proxy that calls it at session end logs exactly what HAProxy does
/// at that moment (nothing).
pub fn format_default(_f: &LogFields, _out: &mut Vec<u8>) {}

/// HAProxy's line for a frontend without `option httplog`/`tcplog`, logged at `info` when
/// the connection is accepted: `Connect from 127.0.0.1:50978 to 127.0.0.1:18004
/// (fe_def/HTTP)`. `local` is the address the client connected to.
pub fn format_connect(
    client: SocketAddr,
    local: SocketAddr,
    frontend: &str,
    mode: Mode,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"Connect from ");
    write_addr(out, client);
    out.extend_from_slice(b" to ");
    write_addr(out, local);
    out.extend_from_slice(b" (");
    out.extend_from_slice(frontend.as_bytes());
    out.extend_from_slice(match mode {
        Mode::Http => b"/HTTP)",
        Mode::Tcp => b"/TCP)",
    });
}

/// A connection that died before becoming a session (a failed TLS handshake): HAProxy's
/// `%ci:%cp [%t] %ft/<listener>: <error>` line, `listener` being the bind's `name` or its
/// 1-based number.
pub fn format_embryonic(
    client: SocketAddr,
    accept_time: SystemTime,
    frontend: &str,
    listener: &str,
    error: &str,
    out: &mut Vec<u8>,
) {
    write_addr(out, client);
    out.extend_from_slice(b" [");
    write_local_date_ms(out, accept_time);
    out.extend_from_slice(b"] ");
    out.extend_from_slice(frontend.as_bytes());
    out.push(b'/');
    out.extend_from_slice(listener.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(error.as_bytes());
}

/// One `%X` variable of a custom `log-format` (manual 8.2.4), written without quoting
/// (the caller applies `+Q`/`+E`). False when the variable is unknown or has no value, so
/// the caller writes `-` as HAProxy does.
pub fn write_var(f: &LogFields, name: &str, out: &mut Vec<u8>) -> bool {
    let t = &f.timers;
    let line = f.request_line;
    // Request line parts for %HM %HU %HP %HQ %HV.
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (method, uri, version) = (parts.next(), parts.next(), parts.next());
    match name {
        "ci" => write_ip(out, f.client.ip()),
        "cp" => write_u64(out, u64::from(f.client.port())),
        "t" => write_local_date_ms(out, f.accept_time),
        "tr" => write_local_date_ms(out, request_time(f)),
        "trg" => {
            write_date(out, request_time(f), false);
            out.extend_from_slice(b" +0000");
        }
        "trl" | "tl" => write_date(out, request_time(f), true),
        "T" => {
            write_date(out, f.accept_time, false);
            out.extend_from_slice(b" +0000");
        }
        "Ts" => write_u64(out, split_time(f.accept_time).0.max(0) as u64),
        "ms" => write_3digits(out, split_time(f.accept_time).1),
        "f" => out.extend_from_slice(f.frontend.as_bytes()),
        "ft" => write_frontend(out, f),
        "b" => out.extend_from_slice(f.backend.as_bytes()),
        "s" => out.extend_from_slice(f.server.as_bytes()),
        "TR" | "TQ" | "Tq" => write_i64(out, t.tr_req),
        "Tw" => write_i64(out, t.tw),
        "Tc" => write_i64(out, t.tc),
        "Tr" => write_i64(out, t.tr_resp),
        "Ta" => write_i64(out, t.ta),
        "Tt" => write_i64(out, t.tt),
        "Th" => write_i64(out, t.th),
        "Ti" => write_i64(out, t.ti),
        "ST" => write_i64(out, i64::from(f.status)),
        "B" => write_u64(out, f.bytes_read),
        "U" => write_u64(out, f.bytes_uploaded),
        "ts" => out.extend_from_slice(&f.termination[..2]),
        "tsc" => out.extend_from_slice(&f.termination),
        "ac" => write_u64(out, u64::from(f.actconn)),
        "fc" => write_u64(out, u64::from(f.feconn)),
        "bc" => write_u64(out, u64::from(f.beconn)),
        "sc" => write_u64(out, u64::from(f.srv_conn)),
        "rc" => {
            if f.redispatched {
                out.push(b'+');
            }
            write_u64(out, u64::from(f.retries));
        }
        "sq" => write_u64(out, u64::from(f.srv_queue)),
        "bq" => write_u64(out, u64::from(f.backend_queue)),
        "r" => {
            if line.is_empty() {
                return false;
            }
            write_request(out, line);
        }
        "HM" => match method {
            Some(m) if !m.is_empty() => out.extend_from_slice(m),
            _ => return false,
        },
        "HU" => match uri {
            Some(u) => out.extend_from_slice(u),
            None => return false,
        },
        "HP" => match uri {
            Some(u) => out.extend_from_slice(u.split(|&b| b == b'?').next().unwrap_or(u)),
            None => return false,
        },
        "HQ" => match uri.and_then(|u| u.iter().position(|&b| b == b'?').map(|q| &u[q..])) {
            Some(q) => out.extend_from_slice(q),
            None => return false,
        },
        "HV" => match version {
            Some(v) => out.extend_from_slice(v),
            None => return false,
        },
        "pid" => write_u64(out, u64::from(std::process::id())),
        // Nothing at all when no capture is declared (HAProxy writes no `-` there).
        "hr" | "hs" => {
            let c = if name == "hr" {
                f.captured_request
            } else {
                f.captured_response
            };
            if let Some(c) = c {
                out.push(b'{');
                out.extend_from_slice(c);
                out.push(b'}');
            }
        }
        "hrl" | "hsl" => {
            let c = if name == "hrl" {
                f.captured_request
            } else {
                f.captured_response
            };
            if let Some(c) = c {
                write_capture_list(out, c, false);
            }
        }
        "CC" | "CS" => {
            let c = if name == "CC" {
                f.cookie_request
            } else {
                f.cookie_response
            };
            match c {
                Some(c) => out.extend_from_slice(c),
                None => return false,
            }
        }
        _ => return false,
    }
    true
}

/// Appends a captured header value as HAProxy logs it: cut to `len` bytes, with control
/// bytes, 8-bit bytes and `"#{|}` written as `#XX` so the braces and bars stay parseable.
pub fn push_capture(out: &mut Vec<u8>, value: &[u8], len: usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.iter().take(len) {
        if !(0x20..0x7f).contains(&b) || matches!(b, b'"' | b'#' | b'{' | b'|' | b'}') {
            out.extend_from_slice(&[b'#', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
}

/// Grows `out` once up front (a no-op on a warm buffer) instead of piecemeal per field.
fn reserve(out: &mut Vec<u8>, f: &LogFields) {
    let names = f.frontend.len() + 1 + f.backend.len() + f.server.len();
    // Fixed fields fit in 200 bytes; an escaped request byte takes at most 3.
    out.reserve(200 + names + 3 * f.request_line.len().min(MAX_REQUEST_LINE));
}

/// `%tr`/`%trg` is the date the request started: the accept date plus handshake and idle
/// time, except that HAProxy adds nothing when the idle time is unknown (-1).
fn request_time(f: &LogFields) -> SystemTime {
    let t = &f.timers;
    if t.ti >= 0 {
        let add = t.ti.saturating_add(t.th.max(0));
        f.accept_time + std::time::Duration::from_millis(add as u64)
    } else {
        f.accept_time
    }
}

/// `%ac/%fc/%bc/%sc/%rc` with `sep` between them (`/`, or a space in clf).
fn write_conns(out: &mut Vec<u8>, f: &LogFields, sep: u8) {
    write_u64(out, u64::from(f.actconn));
    out.push(sep);
    write_u64(out, u64::from(f.feconn));
    out.push(sep);
    write_u64(out, u64::from(f.beconn));
    out.push(sep);
    write_u64(out, u64::from(f.srv_conn));
    out.push(sep);
    if f.redispatched {
        out.push(b'+');
    }
    write_u64(out, u64::from(f.retries));
}

/// Which bytes HAProxy's `url_encode_map` escapes in `%r`: control characters, DEL and
/// everything above, `"` and `#` (the escape character itself). `{|}` and `\` stay.
const fn url_escape_map() -> [bool; 256] {
    let mut m = [false; 256];
    let mut i = 0;
    while i < 256 {
        m[i] = i < 32 || i >= 127 || i == b'"' as usize || i == b'#' as usize;
        i += 1;
    }
    m
}
static URL_ESCAPE: [bool; 256] = url_escape_map();

/// The request line, truncated like HAProxy's capture, with each escaped byte written as
/// `#` and two upper-case hex digits (`"` -> `#22`).
fn write_request(out: &mut Vec<u8>, line: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if line.is_empty() {
        out.extend_from_slice(b"<BADREQ>");
        return;
    }
    let line = &line[..line.len().min(MAX_REQUEST_LINE)];
    let mut rest = line;
    while let Some(pos) = rest.iter().position(|&b| URL_ESCAPE[b as usize]) {
        out.extend_from_slice(&rest[..pos]);
        let b = rest[pos];
        out.extend_from_slice(&[b'#', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        rest = &rest[pos + 1..];
    }
    out.extend_from_slice(rest);
}

/// `%ci:%cp`: IPv6 addresses without brackets, as HAProxy prints them (`::1:54654`).
/// `%ft`: the frontend's name, with `~` when the client connection is TLS.
fn write_frontend(out: &mut Vec<u8>, f: &LogFields) {
    out.extend_from_slice(f.frontend.as_bytes());
    if f.frontend_tls {
        out.push(b'~');
    }
}

fn write_addr(out: &mut Vec<u8>, a: SocketAddr) {
    write_ip(out, a.ip());
    out.push(b':');
    write_u64(out, u64::from(a.port()));
}

fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                write_u64(out, u64::from(o));
            }
        }
        // std's rendering follows RFC 5952 like glibc's inet_ntop (longest zero run of two
        // or more groups compressed, `::ffff:a.b.c.d` for mapped v4). Writing into a Vec
        // cannot fail.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// Decimal without allocation.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

pub(crate) fn write_2digits(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
}

pub(crate) fn write_3digits(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'0' + (v / 100 % 10) as u8,
        b'0' + (v / 10 % 10) as u8,
        b'0' + (v % 10) as u8,
    ]);
}

/// Seconds since the epoch and the millisecond within it (times before 1970 clamp to it).
pub(crate) fn split_time(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        Err(_) => (0, 0),
    }
}

pub(crate) fn month_name(mon: u8) -> &'static [u8; 3] {
    MONTHS[usize::from(mon.min(11))]
}

/// `dd/Mmm/yyyy:hh:mm:ss`, the shape shared by `%t`, `%tr` and `%trg`.
const DATE_LEN: usize = 20;

#[derive(Clone, Copy)]
struct DateCache {
    secs: i64,
    text: [u8; DATE_LEN],
}

const EMPTY_DATE: DateCache = DateCache {
    // No real time maps to i64::MIN, so the first lookup always fills the cache.
    secs: i64::MIN,
    text: [0; DATE_LEN],
};

thread_local! {
    // One cache per thread and time zone: lines are logged in time order, so nearly every
    // line hits the second already formatted and never calls into libc.
    static LOCAL_DATE: Cell<DateCache> = const { Cell::new(EMPTY_DATE) };
    static GMT_DATE: Cell<DateCache> = const { Cell::new(EMPTY_DATE) };
}

fn render_date(tm: &sys::Tm) -> [u8; DATE_LEN] {
    let d = |n: u32| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
    // Four digits as HAProxy's "%04d" for any year this program will see.
    let year = tm.year.clamp(0, 9999) as u32;
    let [y0, y1] = d(year / 100);
    let [y2, y3] = d(year % 100);
    let [d0, d1] = d(u32::from(tm.mday));
    let [h0, h1] = d(u32::from(tm.hour));
    let [m0, m1] = d(u32::from(tm.min));
    let [s0, s1] = d(u32::from(tm.sec));
    let mon = month_name(tm.mon);
    [
        d0, d1, b'/', mon[0], mon[1], mon[2], b'/', y0, y1, y2, y3, b':', h0, h1, b':', m0, m1,
        b':', s0, s1,
    ]
}

/// Writes the date of `t` as `dd/Mmm/yyyy:hh:mm:ss`, local time or UTC.
fn write_date(out: &mut Vec<u8>, t: SystemTime, local: bool) {
    let (secs, _) = split_time(t);
    let key = if local { &LOCAL_DATE } else { &GMT_DATE };
    let cached = key.with(|c| {
        let d = c.get();
        if d.secs == secs {
            d
        } else {
            let tm = if local {
                sys::local(secs)
            } else {
                sys::utc(secs)
            };
            let d = DateCache {
                secs,
                text: render_date(&tm),
            };
            c.set(d);
            d
        }
    });
    out.extend_from_slice(&cached.text);
}

/// `%t`/`%tr`: local `dd/Mmm/yyyy:hh:mm:ss.mmm`.
fn write_local_date_ms(out: &mut Vec<u8>, t: SystemTime) {
    write_date(out, t, true);
    out.push(b'.');
    write_3digits(out, split_time(t).1);
}
