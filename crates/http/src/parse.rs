//! Request and response head parsing, following HAProxy 2.6's `h1_headers_to_hdr_list`
//! (`src/h1.c`), `h1_parse_msg_hdrs` (`src/h1_htx.c`) and `h1_handle_headers`
//! (`src/mux_h1.c`).
//!
//! Each call parses the buffer from its first byte: the API is stateless, and a head is at
//! most ~16 KiB, so re-scanning a partial head on each read costs little.

use crate::chars::{
    element_end, eq_lower, for_each_element, is_crlf, is_lws, is_spht, is_token, is_ver_token,
    trim_lws,
};
use crate::{BodyKind, Header, Limits, Method, RequestHead, ResponseHead, Span, Version};

/// Why a head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Head larger than the buffer (HAProxy 2.6 has no 414/431: it answers 400).
    HeadTooLarge,
    /// More than `max_headers - 1` header fields.
    TooManyHeaders,
    /// Garbage where a start line or an empty line should begin.
    BadStartLine,
    /// A byte outside `token` in the method.
    BadMethod,
    /// A control, non-ASCII or `#` byte in the URI.
    BadUri,
    /// No version (HTTP/0.9), or not `HTTP/d.d`.
    BadVersion,
    /// Response status code not digits.
    BadStatus,
    /// Header name empty, with a non-token byte, or a space before the colon.
    BadHeaderName,
    /// CR not followed by LF.
    BadLineEnd,
    /// Content-Length not a list of identical decimal numbers, or out of range.
    BadContentLength,
    /// Transfer-Encoding empty, with an empty element, `chunked` twice, or (requests) not
    /// ending in `chunked`.
    BadTransferEncoding,
    /// Two `Host` headers that differ, or a `Host` that disagrees with the absolute URI.
    HostMismatch,
    /// CONNECT target without a port, or whose `Host` disagrees.
    BadAuthority,
    /// WebSocket upgrade without a 24-byte `Sec-WebSocket-Key`.
    MissingWebSocketKey,
}

/// A refused head, carrying what HAProxy 2.6 answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Malformed request: 400.
    #[error("bad request: {0:?}")]
    BadRequest(ErrorKind),
    /// HTTP/1.0 GET, HEAD or DELETE with a body: 413 (`h1_handle_headers`).
    #[error("HTTP/1.0 GET/HEAD/DELETE with a payload")]
    PayloadTooLarge,
    /// Request with a transfer coding other than `chunked` (which is last): 422.
    #[error("unknown transfer-encoding")]
    UnknownTransferEncoding,
    /// The HTTP/2 connection preface. HAProxy switches such a connection to its HTTP/2 mux;
    /// Sluice speaks only HTTP/1, so the caller should close (status says 400 for logging).
    #[error("HTTP/2 preface on an HTTP/1 listener")]
    Http2Preface,
    /// Malformed response: 502.
    #[error("bad response: {0:?}")]
    BadResponse(ErrorKind),
}

impl ParseError {
    /// The status HAProxy answers with.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::BadRequest(_) | ParseError::Http2Preface => 400,
            ParseError::PayloadTooLarge => 413,
            ParseError::UnknownTransferEncoding => 422,
            ParseError::BadResponse(_) => 502,
        }
    }

    /// The reason phrase HAProxy uses for that status.
    pub fn reason(&self) -> &'static str {
        match self.status() {
            413 => "Payload Too Large",
            422 => "Unprocessable Content",
            502 => "Bad Gateway",
            _ => "Bad request",
        }
    }

    /// What went wrong, when it is a plain malformation.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            ParseError::BadRequest(k) | ParseError::BadResponse(k) => Some(*k),
            _ => None,
        }
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Internal result: `Ok(None)` means more bytes are needed.
type Step<T> = Result<Option<T>, ErrorKind>;

/// Parses a request head from the start of `buf`.
///
/// `Ok(true)`: `out` holds the head, `out.head_len` bytes long. `Ok(false)`: incomplete, read
/// more (only returned while `buf.len() < limits.raw_head_limit()`). `Err`: answer
/// `err.status()` and close.
pub fn parse_request(
    buf: &[u8],
    limits: &Limits,
    out: &mut RequestHead,
) -> Result<bool, ParseError> {
    out.clear();
    let n = H2_PREFACE.len().min(buf.len());
    if n >= 4 && buf.get(..n) == H2_PREFACE.get(..n) {
        return if n == H2_PREFACE.len() {
            Err(ParseError::Http2Preface)
        } else {
            Ok(false)
        };
    }
    match parse_request_inner(buf, limits, out) {
        Ok(Some(())) => Ok(true),
        Ok(None) => {
            if buf.len() >= limits.raw_head_limit() {
                Err(ParseError::BadRequest(ErrorKind::HeadTooLarge))
            } else {
                Ok(false)
            }
        }
        Err(Reject::Kind(k)) => Err(ParseError::BadRequest(k)),
        Err(Reject::Other(e)) => Err(e),
    }
}

/// Parses a response head from the start of `buf`; `request_method` decides whether a body
/// may follow (RFC 9112 §6.3). Malformed responses give 502.
pub fn parse_response(
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
    out: &mut ResponseHead,
) -> Result<bool, ParseError> {
    out.clear();
    match parse_response_inner(buf, limits, request_method, out) {
        Ok(Some(())) => Ok(true),
        Ok(None) => {
            if buf.len() >= limits.raw_head_limit() {
                Err(ParseError::BadResponse(ErrorKind::HeadTooLarge))
            } else {
                Ok(false)
            }
        }
        Err(k) => Err(ParseError::BadResponse(k)),
    }
}

enum Reject {
    Kind(ErrorKind),
    Other(ParseError),
}

impl From<ErrorKind> for Reject {
    fn from(k: ErrorKind) -> Self {
        Reject::Kind(k)
    }
}

/// Skips the empty lines HAProxy tolerates before a start line (CRLF or bare LF).
fn skip_leading_lines(buf: &[u8]) -> Step<usize> {
    let mut i = 0;
    loop {
        match buf.get(i) {
            None => return Ok(None),
            Some(b'\n') => i += 1,
            Some(b'\r') => match buf.get(i + 1) {
                None => return Ok(None),
                Some(b'\n') => i += 2,
                Some(_) => return Err(ErrorKind::BadStartLine),
            },
            Some(&c) if is_token(c) => return Ok(Some(i)),
            Some(_) => return Err(ErrorKind::BadStartLine),
        }
    }
}

/// Consumes the line end at `i` (CRLF or bare LF); returns the offset after it.
fn line_end(buf: &[u8], i: usize) -> Step<usize> {
    match buf.get(i) {
        None => Ok(None),
        Some(b'\n') => Ok(Some(i + 1)),
        Some(b'\r') => match buf.get(i + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(i + 2)),
            Some(_) => Err(ErrorKind::BadLineEnd),
        },
        Some(_) => Err(ErrorKind::BadStartLine),
    }
}

fn skip_spht(buf: &[u8], mut i: usize) -> usize {
    while buf.get(i).is_some_and(|&c| is_spht(c)) {
        i += 1;
    }
    i
}

/// A request line without version (HTTP/0.9). HAProxy completes such a "head" at its line
/// end and then refuses it because only `HTTP/d.d` is allowed; until the line end is whole
/// it just waits.
fn http09(buf: &[u8], i: usize) -> Step<()> {
    line_end(buf, i)?.map_or(Ok(None), |_| Err(ErrorKind::BadVersion))
}

/// Scans the URI starting at `i`; returns its end (the SP/HT after it).
///
/// HAProxy first skips 4 bytes at a time with a word trick (x86 build, `HA_UNALIGNED_LE`)
/// meant to stop at any byte outside 0x24..=0x7e, but which lets 0x7f through when it shares
/// its 4-byte group with ordinary URI bytes; the byte loop after it refuses 0x7f and `#`.
/// Emulated exactly (60 random URIs mixing `#`, 0x7f, 0x80 and quotes matched 2.6.12), since
/// the same request must get the same status from Sluice and HAProxy.
fn scan_uri(buf: &[u8], mut i: usize) -> Step<usize> {
    while let Some(Ok(w)) = buf.get(i..i + 4).map(<[u8; 4]>::try_from) {
        let word = u32::from_le_bytes(w);
        let x = word.wrapping_sub(0x2424_2424);
        if x & 0x8080_8080 != 0 {
            break;
        }
        if x.wrapping_sub(0x5b5b_5b5b) & 0x8080_8080 == 0 {
            break;
        }
        i += 4;
    }
    loop {
        let Some(&c) = buf.get(i) else {
            return Ok(None);
        };
        match c {
            b'#' => return Err(ErrorKind::BadUri),
            33..=126 => i += 1,
            b' ' | b'\t' => return Ok(Some(i)),
            b'\r' | b'\n' => return http09(buf, i).map(|_| None),
            _ => return Err(ErrorKind::BadUri),
        }
    }
}

/// Flags collected while indexing headers (HAProxy's `H1_MF_*`).
#[derive(Default)]
struct Flags {
    clen: Option<u64>,
    xfer_enc: bool,
    te_chunked: bool,
    chnk: bool,
    te_other: bool,
    conn_close: bool,
    conn_ka: bool,
    conn_upg: bool,
    upg_websocket: bool,
    upgrade_hdr: bool,
    ws_key: bool,
    expect_continue: bool,
    host: Option<usize>,
    folded: bool,
}

/// Header names the parser acts on; anything else is only indexed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Other,
    TransferEncoding,
    ContentLength,
    Connection,
    Upgrade,
    Host,
    SecWebsocketKey,
    Expect,
}

/// Classifies a header name: one length test for most names, then at most two
/// case-insensitive compares (this runs for every header of every head).
fn known(name: &[u8]) -> Known {
    let is = |k: &[u8]| eq_lower(name, k);
    match name.len() {
        4 if is(b"host") => Known::Host,
        6 if is(b"expect") => Known::Expect,
        7 if is(b"upgrade") => Known::Upgrade,
        10 if is(b"connection") => Known::Connection,
        14 if is(b"content-length") => Known::ContentLength,
        17 if is(b"transfer-encoding") => Known::TransferEncoding,
        17 if is(b"sec-websocket-key") => Known::SecWebsocketKey,
        _ => Known::Other,
    }
}

/// Parses header lines from `i` up to and including the empty line; returns the offset after
/// it. `is_req` enables the request-only `Host` rule. `fl.folded` is set when a value spans
/// an obs-fold.
fn parse_headers(
    buf: &[u8],
    mut i: usize,
    limits: &Limits,
    is_req: bool,
    headers: &mut Vec<Header>,
    fl: &mut Flags,
) -> Step<usize> {
    loop {
        let Some(&c) = buf.get(i) else {
            return Ok(None);
        };
        if is_crlf(c) {
            // End of headers; the end marker takes a slot of `tune.http.maxhdr`.
            let Some(end) = line_end(buf, i)? else {
                return Ok(None);
            };
            if headers.len() >= limits.max_headers {
                return Err(ErrorKind::TooManyHeaders);
            }
            return Ok(Some(end));
        }
        // Field name: tokens up to the colon. A space before the colon, an empty name or a
        // line without colon is refused (HAProxy's strict mode, the default).
        let sol = i;
        let rest = buf.get(i..).unwrap_or(&[]);
        let Some(len) = rest.iter().position(|&c| !is_token(c)) else {
            return Ok(None);
        };
        i += len;
        match rest.get(len) {
            Some(b':') if len > 0 => {}
            _ => return Err(ErrorKind::BadHeaderName),
        }
        let name = Span::new(sol, i);
        i += 1;
        let sov = i;
        // Value: anything but CR/LF, over obs-fold continuation lines.
        let eol;
        loop {
            let rest = buf.get(i..).unwrap_or(&[]);
            let Some(off) = memchr::memchr2(b'\r', b'\n', rest) else {
                return Ok(None);
            };
            let at = i + off;
            let Some(next) = line_end(buf, at)? else {
                return Ok(None);
            };
            match buf.get(next) {
                None => return Ok(None),
                Some(&c) if is_spht(c) => {
                    fl.folded = true;
                    i = next;
                }
                Some(_) => {
                    eol = at;
                    i = next;
                    break;
                }
            }
        }
        let (vs, ve) = trim_lws(buf, sov, eol);
        let mut value = Span::new(vs, ve);
        if headers.len() >= limits.max_headers {
            return Err(ErrorKind::TooManyHeaders);
        }
        let value_b = value.of(buf);
        match known(name.of(buf)) {
            Known::Other => {}
            Known::TransferEncoding => parse_transfer_encoding(value_b, is_req, fl)?,
            Known::ContentLength => {
                let first = fl.clen.is_none();
                let (start, end) = parse_content_length(value_b, fl)?;
                if !first {
                    // Same value repeated: HAProxy indexes it once.
                    continue;
                }
                value = Span::new(vs + start, vs + end);
            }
            // The usual values, whole, skip the element walk.
            Known::Connection if eq_lower(value_b, b"keep-alive") => fl.conn_ka = true,
            Known::Connection if eq_lower(value_b, b"close") => fl.conn_close = true,
            Known::Connection => for_each_element(value_b, |w, _| {
                if w.eq_ignore_ascii_case(b"keep-alive") {
                    fl.conn_ka = true;
                } else if w.eq_ignore_ascii_case(b"close") {
                    fl.conn_close = true;
                } else if w.eq_ignore_ascii_case(b"upgrade") {
                    fl.conn_upg = true;
                }
            }),
            Known::Upgrade => {
                fl.upgrade_hdr = true;
                // Only the last Upgrade header counts, as in h1_parse_upgrade_header.
                fl.upg_websocket = false;
                for_each_element(value_b, |w, _| {
                    if w.eq_ignore_ascii_case(b"websocket") {
                        fl.upg_websocket = true;
                    }
                });
            }
            Known::Host if is_req => {
                if let Some(first) = fl.host.and_then(|h| headers.get(h)) {
                    if !first.value.of(buf).eq_ignore_ascii_case(value_b) {
                        return Err(ErrorKind::HostMismatch);
                    }
                    continue;
                }
                fl.host = Some(headers.len());
            }
            Known::SecWebsocketKey if is_req => {
                if value_b.len() == 24 {
                    fl.ws_key = true;
                }
            }
            Known::Expect if is_req => {
                fl.expect_continue |= value_b.eq_ignore_ascii_case(b"100-continue");
            }
            Known::Host | Known::SecWebsocketKey | Known::Expect => {}
        }
        headers.push(Header { name, value });
    }
}

/// `h1_parse_xfer_enc_header`: `chunked` must appear once, and last on requests.
fn parse_transfer_encoding(v: &[u8], is_req: bool, fl: &mut Flags) -> Result<(), ErrorKind> {
    if v.is_empty() {
        return Err(ErrorKind::BadTransferEncoding);
    }
    fl.xfer_enc = true;
    let mut bad = false;
    let mut fatal = false;
    for_each_element(v, |w, end| {
        if fatal {
            return;
        }
        if end + 1 == v.len() {
            // A comma as last byte: the last element is empty.
            bad = true;
        }
        fl.chnk = false;
        if w.is_empty() {
            bad = true;
        } else if w.eq_ignore_ascii_case(b"chunked") {
            // RFC 9112 §6.1: chunked must not be applied twice.
            bad |= fl.te_chunked;
            fl.te_chunked = true;
            fl.chnk = true;
        } else {
            if is_req && fl.te_chunked {
                // A coding after chunked leaves the request unframed.
                fatal = true;
                return;
            }
            fl.te_other = true;
        }
    });
    if bad || fatal {
        return Err(ErrorKind::BadTransferEncoding);
    }
    Ok(())
}

/// `h1_parse_cont_len_header`: a comma list of identical decimal values, all equal to any
/// earlier Content-Length. Returns the offsets (relative to `v`) of the last number, which is
/// what HAProxy forwards.
///
/// HAProxy 2.6.12 does this arithmetic in a signed 64-bit integer and lets values of 2^64 and
/// above wrap (`18446744073709551617` is taken as 1: a smuggling hole). We refuse anything
/// above `i64::MAX` instead; HAProxy refuses most such values too.
fn parse_content_length(v: &[u8], fl: &mut Flags) -> Result<(usize, usize), ErrorKind> {
    let mut i = 0;
    loop {
        // An empty header or an empty element is refused.
        let Some(&c) = v.get(i) else {
            return Err(ErrorKind::BadContentLength);
        };
        if is_lws(c) {
            i += 1;
            continue;
        }
        let start = i;
        let mut cl: u64 = 0;
        while let Some(d) = v
            .get(i)
            .and_then(|c| c.checked_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            cl = cl
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(d)))
                .filter(|x| *x <= i64::MAX as u64)
                .ok_or(ErrorKind::BadContentLength)?;
            i += 1;
        }
        if i == start {
            return Err(ErrorKind::BadContentLength);
        }
        let end = i;
        while v.get(i).is_some_and(|&c| is_lws(c)) {
            i += 1;
        }
        match fl.clen {
            Some(prev) if prev != cl => return Err(ErrorKind::BadContentLength),
            _ => fl.clen = Some(cl),
        }
        match v.get(i) {
            None => return Ok((start, end)),
            Some(b',') => i += 1,
            Some(_) => return Err(ErrorKind::BadContentLength),
        }
    }
}

/// Checks the version token against `HTTP/d.d` (`h1_process_req_vsn` insists on the `HTTP/`
/// prefix, `h1_process_res_vsn` only on the `/`) and classifies it.
fn check_version(v: &[u8], is_req: bool) -> Result<Version, ErrorKind> {
    let ok = v.len() == 8
        && (if is_req {
            v.starts_with(b"HTTP/")
        } else {
            v.get(4) == Some(&b'/')
        })
        && v.get(5).is_some_and(u8::is_ascii_digit)
        && v.get(6) == Some(&b'.')
        && v.get(7).is_some_and(u8::is_ascii_digit);
    if !ok {
        return Err(ErrorKind::BadVersion);
    }
    let (maj, min) = (
        v.get(5).copied().unwrap_or(0),
        v.get(7).copied().unwrap_or(0),
    );
    Ok(if maj > b'1' || (maj == b'1' && min >= b'1') {
        Version::Http11
    } else {
        Version::Http10
    })
}

/// Size of the head in HAProxy's HTX form, start-line structure excluded (see
/// [`Limits::htx_budget`]).
fn htx_cost(sl: usize, headers: &[Header]) -> usize {
    8 + sl
        + headers
            .iter()
            .map(|h| 8 + h.name.len() + h.value.len())
            .sum::<usize>()
        + 8
}

fn parse_request_inner(
    buf: &[u8],
    limits: &Limits,
    out: &mut RequestHead,
) -> Result<Option<()>, Reject> {
    let Some(ms) = skip_leading_lines(buf)? else {
        return Ok(None);
    };
    // Method.
    let mut i = ms;
    while buf.get(i).is_some_and(|&c| is_token(c)) {
        i += 1;
    }
    let me = i;
    match buf.get(i) {
        None => return Ok(None),
        Some(&c) if is_spht(c) => {}
        Some(&c) if is_crlf(c) => return Ok(http09(buf, i)?),
        Some(_) => return Err(ErrorKind::BadMethod.into()),
    }
    // URI.
    i = skip_spht(buf, i);
    match buf.get(i) {
        None => return Ok(None),
        Some(&c) if is_crlf(c) => return Ok(http09(buf, i)?),
        Some(_) => {}
    }
    let us = i;
    let Some(ue) = scan_uri(buf, i)? else {
        return Ok(None);
    };
    // Version.
    i = skip_spht(buf, ue);
    match buf.get(i) {
        None => return Ok(None),
        Some(&c) if is_crlf(c) => return Ok(http09(buf, i)?),
        Some(_) => {}
    }
    let vs = i;
    while buf.get(i).is_some_and(|&c| is_ver_token(c)) {
        i += 1;
    }
    let ve = i;
    match buf.get(i) {
        None => return Ok(None),
        Some(&c) if is_crlf(c) => {}
        Some(_) => return Err(ErrorKind::BadVersion.into()),
    }
    let Some(hs) = line_end(buf, i)? else {
        return Ok(None);
    };
    let mut fl = Flags::default();
    let Some(end) = parse_headers(buf, hs, limits, true, &mut out.headers, &mut fl)? else {
        return Ok(None);
    };
    if end > limits.raw_head_limit() {
        return Err(ErrorKind::HeadTooLarge.into());
    }

    let version = check_version(buf.get(vs..ve).unwrap_or(&[]), true)?;
    let method = Method::from_bytes(buf.get(ms..me).unwrap_or(&[]));
    out.method = method;
    out.method_span = Span::new(ms, me);
    out.uri = Span::new(us, ue);
    out.version = version;
    out.head_len = end;
    out.host = fl.host.and_then(|h| out.headers.get(h)).map(|h| h.value);
    check_target(buf, out)?;

    if fl.xfer_enc {
        if fl.clen.is_some() {
            // RFC 9112 §6.3: Transfer-Encoding wins; HAProxy drops Content-Length and closes
            // after the exchange since an HTTP/1.0 hop may have framed it otherwise.
            fl.conn_close = true;
            fl.clen = None;
            out.headers
                .retain(|h| !h.name.of(buf).eq_ignore_ascii_case(b"content-length"));
            out.host = out
                .headers
                .iter()
                .find(|h| h.name.of(buf).eq_ignore_ascii_case(b"host"))
                .map(|h| h.value);
        } else if version == Version::Http10 {
            fl.conn_close = true;
        }
        if !fl.chnk {
            // A request body whose last coding is not chunked has no end (RFC 9112 §6.3).
            return Err(ErrorKind::BadTransferEncoding.into());
        }
    }
    let sl = out.method_span.len() + out.uri.len() + 8;
    if htx_cost(sl, &out.headers) > limits.htx_budget() {
        return Err(ErrorKind::HeadTooLarge.into());
    }
    let has_body = fl.chnk || fl.clen.is_some_and(|n| n > 0);
    if version == Version::Http10
        && has_body
        && matches!(method, Method::Get | Method::Head | Method::Delete)
    {
        return Err(Reject::Other(ParseError::PayloadTooLarge));
    }
    if fl.te_other {
        return Err(Reject::Other(ParseError::UnknownTransferEncoding));
    }
    if fl.conn_upg && fl.upg_websocket && !fl.ws_key {
        return Err(ErrorKind::MissingWebSocketKey.into());
    }

    out.body = if method == Method::Connect {
        // CONNECT carries no body; after a 2xx the connection becomes a tunnel.
        BodyKind::Empty
    } else if fl.chnk {
        BodyKind::Chunked
    } else if let Some(n) = fl.clen {
        BodyKind::ContentLength(n)
    } else {
        BodyKind::Empty
    };
    out.conn_close = fl.conn_close;
    out.conn_keep_alive = fl.conn_ka;
    out.folded = fl.folded;
    out.upgrade = fl.conn_upg && fl.upgrade_hdr;
    out.expect_continue = fl.expect_continue;
    Ok(Some(()))
}

/// Position of the last `:` followed only by digits, i.e. where a port starts (`Some(len)`
/// for a trailing `:`), as `http_get_host_port` finds it.
fn port_colon(h: &[u8]) -> Option<usize> {
    let mut i = h.len();
    while i > 0 && h.get(i - 1).is_some_and(u8::is_ascii_digit) {
        i -= 1;
    }
    (i > 0 && h.get(i - 1) == Some(&b':')).then(|| i - 1)
}

/// Splits `host[:port]`.
fn split_port(h: &[u8]) -> (&[u8], Option<&[u8]>) {
    match port_colon(h) {
        Some(c) => (h.get(..c).unwrap_or(&[]), h.get(c + 1..)),
        None => (h, None),
    }
}

/// `http_is_default_port`: 80 for `http://`, 443 for `https://`, either without a scheme.
fn is_default_port(scheme: Option<&[u8]>, port: &[u8]) -> bool {
    match scheme {
        None => port == b"80" || port == b"443",
        Some(s) if s.eq_ignore_ascii_case(b"http://") => port == b"80",
        Some(s) if s.eq_ignore_ascii_case(b"https://") => port == b"443",
        Some(_) => false,
    }
}

/// Length of the `scheme://` prefix of an absolute URI (`http_parse_scheme`).
fn scheme_len(uri: &[u8]) -> Option<usize> {
    if !uri.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut i = 1;
    while uri
        .get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        i += 1;
    }
    (uri.get(i..i + 3) == Some(b"://")).then_some(i + 3)
}

/// Request-target rules of HAProxy 2.6.12: a CONNECT target needs a port and a matching
/// `Host`; an absolute URI's authority must match `Host` up to default ports. Also records
/// the default ports HAProxy strips on output.
fn check_target(buf: &[u8], out: &mut RequestHead) -> Result<(), ErrorKind> {
    let uri = out.uri.of(buf);
    let host = out.host.map(|h| h.of(buf));
    if out.method == Method::Connect {
        let (uri_host, Some(uri_port)) = split_port(uri) else {
            return Err(ErrorKind::BadAuthority);
        };
        if uri_port.is_empty() {
            return Err(ErrorKind::BadAuthority);
        }
        let Some(host) = host else { return Ok(()) };
        let (h, hport) = split_port(host);
        match hport {
            Some(hp) if !hp.is_empty() => {
                if !h.eq_ignore_ascii_case(uri_host) || hp != uri_port {
                    return Err(ErrorKind::BadAuthority);
                }
                if is_default_port(None, uri_port) {
                    // `Host: a:443` for `CONNECT a:443` goes out as `a`.
                    out.host_out = out
                        .host
                        .map(|s| Span::new(s.start as usize, s.start as usize + h.len()));
                }
            }
            _ => {
                if !is_default_port(None, uri_port) || !h.eq_ignore_ascii_case(uri_host) {
                    return Err(ErrorKind::BadAuthority);
                }
            }
        }
        return Ok(());
    }
    // Origin-form and asterisk-form carry no authority (`http_get_authority`). Anything else
    // is taken as `[scheme://]authority[/path]`.
    if uri.is_empty() || uri.starts_with(b"/") || uri.starts_with(b"*") {
        return Ok(());
    }
    let (scheme, sl, at, authority) = match host.and_then(|h| host_form(uri, h)) {
        Some(sl) => (uri.get(..sl), sl, 0, host.unwrap_or(&[])),
        None => walk_authority(uri, host)?,
    };
    // http_scheme_based_normalize: drop a default port from the URI, and from Host.
    if scheme.is_none() {
        return Ok(());
    }
    if let (_, Some(port)) = split_port(authority) {
        if !port.is_empty() && is_default_port(scheme, port) {
            let auth_start = out.uri.start as usize + sl + at;
            let colon = auth_start + authority.len() - port.len() - 1;
            out.uri_cut = Some(Span::new(colon, colon + 1 + port.len()));
            // Host is then rewritten to the URI's host, port-less (`Host: A` goes out as `a`
            // for `http://a:80/`).
            if out.host.is_some() {
                out.host_out = Some(Span::new(auth_start, colon));
            }
        }
    }
    Ok(())
}

/// An absolute URI's scheme, its length, where its authority starts after any userinfo, and
/// the authority, which must match `Host` up to a default port.
type Authority<'a> = (Option<&'a [u8]>, usize, usize, &'a [u8]);

/// Splits an absolute URI into [`Authority`] and checks it against `Host`.
fn walk_authority<'a>(uri: &'a [u8], host: Option<&[u8]>) -> Result<Authority<'a>, ErrorKind> {
    let sl = scheme_len(uri);
    let scheme = sl.and_then(|n| uri.get(..n));
    let sl = sl.unwrap_or(0);
    let rest = uri.get(sl..).unwrap_or(&[]);
    let auth_end = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
    let auth_full = rest.get(..auth_end).unwrap_or(&[]);
    // Userinfo is not part of the authority compared with Host.
    let at = auth_full
        .iter()
        .rposition(|&c| c == b'@')
        .map_or(0, |p| p + 1);
    let authority = auth_full.get(at..).unwrap_or(&[]);
    if let Some(host) = host {
        if !authority.is_empty()
            && !authority.eq_ignore_ascii_case(host)
            && !default_port_match(scheme, authority, host)
        {
            return Err(ErrorKind::HostMismatch);
        }
    }
    Ok((scheme, sl, at, authority))
}

/// The absolute form every HTTP/2 request takes here, `http://` or `https://` followed by
/// exactly the `Host` value and then `/` or nothing: the authority is `Host` itself, so the
/// general walk (scheme, userinfo, case-blind compare) has nothing to find. Returns the
/// scheme's length. A `Host` holding `/` or `@` would split differently, so it takes the walk.
fn host_form(uri: &[u8], host: &[u8]) -> Option<usize> {
    let sl = if uri.starts_with(b"http://") {
        7
    } else if uri.starts_with(b"https://") {
        8
    } else {
        return None;
    };
    let end = sl + host.len();
    let whole = !host.is_empty()
        && uri.get(sl..end) == Some(host)
        && matches!(uri.get(end), None | Some(b'/'))
        && !host.iter().any(|&c| c == b'/' || c == b'@');
    whole.then_some(sl)
}

/// `h1_validate_mismatch_authority`: authority and Host differ only by a default port.
fn default_port_match(scheme: Option<&[u8]>, authority: &[u8], host: &[u8]) -> bool {
    if scheme.is_none() {
        // Without a scheme there is no default port to forgive.
        return false;
    }
    let (uh, up) = split_port(authority);
    let (hh, hp) = split_port(host);
    match (up, hp) {
        (None, None) => false,
        (Some(p), _) if !is_default_port(scheme, p) => false,
        (_, Some(p)) if !is_default_port(scheme, p) => false,
        _ => uh.eq_ignore_ascii_case(hh),
    }
}

fn parse_response_inner(
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
    out: &mut ResponseHead,
) -> Step<()> {
    let Some(vs) = skip_leading_lines(buf)? else {
        return Ok(None);
    };
    let mut i = vs;
    while buf.get(i).is_some_and(|&c| is_ver_token(c)) {
        i += 1;
    }
    let ve = i;
    match buf.get(i) {
        None => return Ok(None),
        Some(&c) if is_spht(c) => {}
        Some(_) => return Err(ErrorKind::BadVersion),
    }
    i = skip_spht(buf, i);
    let cs = i;
    // HAProxy accumulates the code in a u16 without a digit count check.
    let mut status: u16 = 0;
    while let Some(d) = buf
        .get(i)
        .and_then(|c| c.checked_sub(b'0'))
        .filter(|d| *d <= 9)
    {
        status = status.wrapping_mul(10).wrapping_add(u16::from(d));
        i += 1;
    }
    let ce = i;
    let (rs, re);
    match buf.get(i) {
        None => return Ok(None),
        Some(_) if ce == cs => return Err(ErrorKind::BadStatus),
        Some(&c) if is_spht(c) => {
            i = skip_spht(buf, i);
            rs = i;
            let rest = buf.get(i..).unwrap_or(&[]);
            let Some(off) = memchr::memchr2(b'\r', b'\n', rest) else {
                return Ok(None);
            };
            i += off;
            re = i;
        }
        Some(&c) if is_crlf(c) => {
            rs = i;
            re = i;
        }
        Some(_) => return Err(ErrorKind::BadStatus),
    }
    let Some(hs) = line_end(buf, i)? else {
        return Ok(None);
    };
    let mut fl = Flags::default();
    let Some(end) = parse_headers(buf, hs, limits, false, &mut out.headers, &mut fl)? else {
        return Ok(None);
    };
    if end > limits.raw_head_limit() {
        return Err(ErrorKind::HeadTooLarge);
    }
    let version = check_version(buf.get(vs..ve).unwrap_or(&[]), false)?;
    if fl.xfer_enc {
        if fl.clen.is_some() {
            fl.conn_close = true;
            fl.clen = None;
            out.headers
                .retain(|h| !h.name.of(buf).eq_ignore_ascii_case(b"content-length"));
        } else if version == Version::Http10 {
            fl.conn_close = true;
        }
    }
    let sl = (ve - vs) + (ce - cs) + (re - rs);
    if htx_cost(sl, &out.headers) > limits.htx_budget() {
        return Err(ErrorKind::HeadTooLarge);
    }
    if fl.te_other {
        // Any coding but chunked: HAProxy cannot frame it and answers 502.
        return Err(ErrorKind::BadTransferEncoding);
    }
    out.status = status;
    out.code = Span::new(cs, ce);
    out.reason = Span::new(rs, re);
    out.version = version;
    out.head_len = end;
    out.body =
        if (request_method == Method::Connect && (200..300).contains(&status)) || status == 101 {
            // The connection turns into a tunnel; nothing is framed any more.
            BodyKind::Empty
        } else if request_method == Method::Head
            || (100..200).contains(&status)
            || status == 204
            || status == 304
        {
            BodyKind::Empty
        } else if fl.chnk {
            BodyKind::Chunked
        } else if let Some(n) = fl.clen {
            BodyKind::ContentLength(n)
        } else {
            BodyKind::UntilClose
        };
    out.conn_close = fl.conn_close;
    out.conn_keep_alive = fl.conn_ka;
    out.folded = fl.folded;
    out.upgrade = status == 101 && fl.conn_upg;
    Ok(Some(()))
}

/// Offset (relative to `v`) where the element starting at `from` ends; re-exported for the
/// writer's Connection cleaning.
pub(crate) fn next_element_end(v: &[u8], from: usize) -> usize {
    element_end(v, from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
