//! Sans-io HTTP/1.x codec for Sluice, built to answer exactly as HAProxy 2.6 does.
//!
//! Nothing here touches a socket: the proxy hands in the bytes it has buffered and gets back
//! offsets into them ([`Span`]), what to answer when they are malformed ([`ParseError`]), where
//! a message body ends ([`BodyTracker`]), and the head to forward ([`write_request_head`]).
//!
//! The parser is hand-written rather than built on `httparse` because HAProxy's H1 parser
//! (`src/h1.c`, `src/h1_htx.c`, `src/mux_h1.c`) accepts and rejects different inputs than a
//! strict RFC parser: bare LF line ends, obs-fold, leading empty lines, NUL bytes in header
//! values, any `HTTP/x.y` version, and it rejects `#` in the URI, a space before a colon, or a
//! `Host` that disagrees with an absolute URI. Every rule below was checked against
//! HAProxy 2.6.12 with raw sockets; where HAProxy has an outright bug that would open a
//! smuggling hole (a `Content-Length` above 2^63 wraps around), we reject instead.
//!
//! What HAProxy sends on is not the bytes it received: it rebuilds every head from its
//! internal HTX form, so header names go out lower-cased, values trimmed, obs-folds flattened,
//! duplicate `Host`/`Content-Length` collapsed, and `close`/`keep-alive` removed from
//! `Connection`. [`write_request_head`] and [`write_response_head`] reproduce that.

mod body;
mod chars;
mod errpage;
mod parse;
mod write;

pub use body::{BodyTracker, ChunkError, ChunkProgress, ChunkedDecoder};
pub use chars::{eq_lower, is_token};
pub use errpage::{error_page, error_page_htx, error_page_raw};
pub use parse::{parse_request, parse_response, ErrorKind, ParseError};
pub use write::{write_request_head, write_request_head_with, write_response_head};

/// A byte range `[start, end)` of the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The bytes this span covers in `buf`; empty when `buf` is not the buffer it came from.
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }

    /// Number of bytes covered.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    // Heads are bounded by the buffer size (far below 4 GiB), so offsets fit in u32; the
    // saturating conversion only matters for a caller that hands in a giant buffer.
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
}

/// One header field. For an obs-folded value the span still covers the raw CR/LF bytes of the
/// fold; the writers turn them into spaces, as HAProxy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub name: Span,
    pub value: Span,
}

/// Protocol version as HAProxy classifies it: `HTTP/1.1` or anything above (`HTTP/2.0` on an
/// HTTP/1 connection included) is 1.1, the rest 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    Http10,
    #[default]
    Http11,
}

impl Version {
    /// The version string HAProxy writes on output for this version.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Version::Http10 => b"HTTP/1.0",
            Version::Http11 => b"HTTP/1.1",
        }
    }
}

/// Request method. Matching is case-sensitive (`get` is `Other`), as in HAProxy's
/// `find_http_meth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

impl Method {
    /// Classifies a method token.
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }
}

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyKind {
    /// No body at all (no framing header, `HEAD`, 1xx/204/304, `CONNECT`).
    #[default]
    Empty,
    /// Exactly this many bytes (may be 0).
    ContentLength(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Responses only: the body runs until the server closes.
    UntilClose,
}

/// Parser bounds, from the global `tune.*` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `tune.bufsize - tune.maxrewrite` (15360 by default).
    pub max_head: usize,
    /// `tune.http.maxhdr` (101 by default). As in HAProxy the end-of-headers marker takes one
    /// slot, so at most `max_headers - 1` fields are accepted.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16384 - 1024,
            max_headers: 101,
        }
    }
}

impl Limits {
    /// Raw bytes an incomplete head may occupy before HAProxy gives up with a 400.
    ///
    /// HAProxy reads into a `tune.bufsize` buffer of which it keeps 64 bytes for the HTX
    /// header and two blocks (`buf_room_for_htx_data`), so a head must fit in
    /// `bufsize - 64` bytes (16320 by default, measured). `Limits` carries only
    /// `bufsize - maxrewrite`, so this assumes the default `maxrewrite` of 1024.
    pub fn raw_head_limit(&self) -> usize {
        self.max_head.saturating_add(1024 - 64)
    }

    /// Budget for the head once converted to HAProxy's HTX form: every start line and header
    /// costs an 8-byte block plus its bytes, the end-of-headers marker 8 more. HAProxy refuses
    /// (400) heads whose HTX form exceeds `max_head - 69` by this count; measured on 2.6.12
    /// with `tune.bufsize` 16384/8192 and `tune.maxrewrite` 1024/512.
    pub(crate) fn htx_budget(&self) -> usize {
        self.max_head.saturating_sub(69)
    }
}

/// What `Connection` header the writers add after all other headers (where HAProxy's H1 mux
/// adds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnHeader {
    /// Add nothing.
    Omit,
    /// `connection: close`.
    Close,
    /// `connection: keep-alive`.
    KeepAlive,
    /// `connection: upgrade`, unless the forwarded `Connection` header already carries the
    /// `upgrade` token.
    Upgrade,
}

/// A parsed request head. Reuse one per connection: [`parse_request`] clears and refills it,
/// keeping the header vector's allocation.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    pub method: Method,
    pub method_span: Span,
    pub uri: Span,
    pub version: Version,
    /// Header fields as HAProxy indexes them: a repeated identical `Host` or `Content-Length`
    /// appears once, and `Content-Length` is gone when `Transfer-Encoding` is present.
    pub headers: Vec<Header>,
    /// Bytes of the head, leading empty lines and the final blank line included.
    pub head_len: usize,
    pub body: BodyKind,
    /// `close` token in `Connection`, or a close HAProxy forces: `Transfer-Encoding` together
    /// with `Content-Length`, or `Transfer-Encoding` on HTTP/1.0 (RFC 9112 §6.1).
    pub conn_close: bool,
    pub conn_keep_alive: bool,
    /// `Connection: upgrade` and an `Upgrade` header are both present.
    pub upgrade: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// Value of the first `Host` header.
    pub host: Option<Span>,
    /// Bytes of the URI that HAProxy's scheme-based normalisation drops on output
    /// (`http://a:80/` goes out as `http://a/`).
    pub(crate) uri_cut: Option<Span>,
    /// What to send as the first `Host` value when HAProxy rewrites it during that
    /// normalisation (`a:80` goes out as `a`).
    pub(crate) host_out: Option<Span>,
    /// Some header value spans an obs-fold (CR/LF inside): only then does the writer look
    /// for the bytes to turn into spaces.
    pub(crate) folded: bool,
}

impl RequestHead {
    /// An empty head, ready for [`parse_request`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The head's size as HAProxy counts it for `%U`: its size in HTX as received, before
    /// any rule edits it (see [`ResponseHead::htx_size`]; the start line holds method, URI
    /// and version).
    pub fn htx_size(&self, buf: &[u8]) -> u64 {
        let line = 20 + self.method_span.len() + self.uri.len() + self.version.as_bytes().len();
        let headers: usize = self
            .headers
            .iter()
            .filter(|h| !only_connection_options(h, buf))
            .map(|h| h.name.len() + h.value.len())
            .sum();
        (line + headers + 1) as u64
    }

    /// Whether the client asked to keep the connection: HTTP/1.1 unless `close`, HTTP/1.0
    /// only with `keep-alive` and no `close`.
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.conn_close,
            Version::Http10 => self.conn_keep_alive && !self.conn_close,
        }
    }

    /// Value of the first header called `name` (ASCII case-insensitive).
    pub fn header<'a>(&self, buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
        find_header(&self.headers, buf, name)
    }

    pub(crate) fn clear(&mut self) {
        let mut headers = std::mem::take(&mut self.headers);
        headers.clear();
        *self = RequestHead {
            headers,
            ..RequestHead::default()
        };
    }
}

/// A parsed response head; reusable like [`RequestHead`].
#[derive(Debug, Clone, Default)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: Span,
    pub version: Version,
    pub headers: Vec<Header>,
    pub head_len: usize,
    pub body: BodyKind,
    pub conn_close: bool,
    pub conn_keep_alive: bool,
    /// A 101 answer with `Connection: upgrade`.
    pub upgrade: bool,
    /// The status code digits as received (HAProxy forwards them verbatim, e.g. `099`).
    pub(crate) code: Span,
    /// As [`RequestHead`]'s: some header value spans an obs-fold.
    pub(crate) folded: bool,
}

impl ResponseHead {
    /// An empty head, ready for [`parse_response`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the server allows reuse: HTTP/1.1 unless `close`, HTTP/1.0 only with
    /// `keep-alive`; never when the body runs until close.
    pub fn keep_alive(&self) -> bool {
        let by_version = match self.version {
            Version::Http11 => !self.conn_close,
            Version::Http10 => self.conn_keep_alive && !self.conn_close,
        };
        by_version && self.body != BodyKind::UntilClose
    }

    /// Value of the first header called `name` (ASCII case-insensitive).
    pub fn header<'a>(&self, buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
        find_header(&self.headers, buf, name)
    }

    /// Some header value spans an obs-fold (CR/LF bytes inside it).
    pub fn has_obs_fold(&self) -> bool {
        self.folded
    }

    /// The head's size as HAProxy counts it for `%B`: its size in HTX, not on the wire. A
    /// start line of 20 bytes plus version, code and reason; each header's name and value
    /// (a `Connection` header holding only `close`/`keep-alive` is gone by then); one byte
    /// for the end of the head. Checked against HAProxy 2.6 on servers' answers and on its
    /// own error pages.
    pub fn htx_size(&self, buf: &[u8]) -> u64 {
        let line = 20 + self.version.as_bytes().len() + self.code.len() + self.reason.len();
        let headers: usize = self
            .headers
            .iter()
            .filter(|h| !only_connection_options(h, buf))
            .map(|h| h.name.len() + h.value.len())
            .sum();
        (line + headers + 1) as u64
    }

    pub(crate) fn clear(&mut self) {
        let mut headers = std::mem::take(&mut self.headers);
        headers.clear();
        *self = ResponseHead {
            headers,
            ..ResponseHead::default()
        };
    }
}

/// A `Connection` header carrying nothing but `close` and `keep-alive`, which HAProxy's
/// HTTP/1 parser consumes.
fn only_connection_options(h: &Header, buf: &[u8]) -> bool {
    if !chars::eq_lower(h.name.of(buf), b"connection") {
        return false;
    }
    let mut only = true;
    chars::for_each_element(h.value.of(buf), |w, _| {
        only &= w.eq_ignore_ascii_case(b"close") || w.eq_ignore_ascii_case(b"keep-alive");
    });
    only
}

fn find_header<'a>(headers: &[Header], buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| h.value.of(buf))
}

/// Fuzzing entry point: runs every parser and writer over `bytes`; must never panic.
pub fn fuzz_request(bytes: &[u8]) {
    let limits = Limits::default();
    let mut req = RequestHead::new();
    if let Ok(true) = parse_request(bytes, &limits, &mut req) {
        let mut out = Vec::new();
        write_request_head(
            bytes,
            &req,
            ConnHeader::KeepAlive,
            &[(b"x-f", b"1")],
            &mut out,
        );
        let rest = bytes.get(req.head_len..).unwrap_or(&[]);
        // Feed the body in two pieces so the split logic runs as well.
        let mut body = BodyTracker::new(req.body);
        let (a, b) = rest.split_at(rest.len() / 2);
        if let Ok(p) = body.feed(a) {
            if !p.done {
                let _ = body.feed(b);
            }
        }
        let mut dec = ChunkedDecoder::new();
        let _ = dec.feed(rest);
    }
    let mut resp = ResponseHead::new();
    if let Ok(true) = parse_response(bytes, &limits, Method::Get, &mut resp) {
        let mut out = Vec::new();
        write_response_head(bytes, &resp, ConnHeader::Close, &[], &mut out);
    }
    let mut dec = ChunkedDecoder::new();
    let _ = dec.feed(bytes);
}
