//! HTTP/2 from clients (RFC 9113; manual 5.1 `alpn h2`, `proto h2`): one task per
//! connection runs the frames, flow control and HPACK ([`sluice_h2`]), and each stream is an
//! HTTP/1.1 exchange run by the HTTP/1 stream ([`crate::stream_http::serve_h2_stream`]) over
//! an in-memory pipe, so rules, balancing, queues, server connections and logs are the same
//! whatever the client speaks.
//!
//! The request head is decoded straight into HTTP/1 text in the pipe; the response head
//! comes back already HPACK-encoded ([`encode_response_head`], handed over whole with
//! [`crate::pipe::PipeEnd::put_head`]), and its body as HTTP/1 bytes, re-framed here as DATA
//! frames and trailers. This task reads each stream's pipe itself: no task, future or
//! channel per stream beyond the HTTP/1 stream's own.
//!
//! Limits for the open internet (HAProxy's `tune.h2.*` defaults): 100 concurrent streams,
//! 64 KiB windows, 16 KiB frames, a header list bounded by `tune.bufsize`; CONTINUATION
//! floods and streams reset before they are answered (CVE-2023-44487, "rapid reset") close
//! the connection.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use sluice_h2::frame::{self, code, flag, kind, setting, Head};
use sluice_h2::hpack::{encode_field, encode_status, Decoder};
use sluice_http::{parse_response, BodyKind, Limits, Method, ResponseHead};
use tokio::io::{AsyncWrite, Interest};
use tokio::time::{Instant, Sleep};

use crate::buffer::{give_vec, take_vec, Buf};
use crate::pipe::{self, Incoming, PipeEnd};
use crate::runtime::Runtime;
use crate::transport::Conn;
use crate::unchunk::{trailer_fields, Piece, SizeLine, Unchunk};

/// HAProxy's `tune.h2.max-concurrent-streams`.
const MAX_CONCURRENT_STREAMS: usize = 100;
/// The window each stream (and the connection) starts with, ours and the client's.
const INITIAL_WINDOW: i64 = 65_535;
/// The largest frame we take (`SETTINGS_MAX_FRAME_SIZE`, left at its default).
const MAX_FRAME: usize = frame::DEFAULT_MAX_FRAME as usize;
/// Room to read into: two whole frames.
const READ_BUF: usize = 2 * (MAX_FRAME + frame::HEAD_LEN);
/// Received bytes given back as window credit once this many are owed.
const CREDIT_AT: i64 = INITIAL_WINDOW / 2;
/// Output held before streams stop adding to it (and reading stops) until it drains.
const WRITE_HIGH: usize = 64 * 1024;
/// Read size from a stream's pipe.
const CHUNK: usize = 16 * 1024;
/// Streams reset by the client before their answer began, beyond answered ones, at which the
/// connection is closed (rapid reset).
const MAX_EARLY_RESETS: u32 = 200;

/// Serves an HTTP/2 connection until it closes.
pub async fn serve(
    rt: Arc<Runtime>,
    fe_id: usize,
    mut client: Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
) {
    let fe = &rt.frontends[fe_id];
    let ssl = client.take_ssl_info();
    // Session rules run once for the connection, not for each stream: a reject closes it
    // before the HTTP/2 preface, without a log line, as HAProxy does.
    if !crate::stream_http::session_accepted(&rt, fe, &client, peer, ssl.as_deref()) {
        return;
    }
    let client_timeout = fe.timeouts.client;
    let mut mux = Mux::new(
        rt.clone(),
        fe_id,
        peer,
        client.local_addr().ok(),
        ssl,
        accept_time,
    );
    let timer = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(timer);
    std::future::poll_fn(|cx| mux.poll(cx, &mut client, timer.as_mut())).await;
    drop(mux);
    // TLS close_notify and the TCP half-close, bounded as any write to the client.
    let shut = client.shutdown();
    match client_timeout {
        Some(t) => {
            let _ = tokio::time::timeout(t, shut).await;
        }
        None => {
            let _ = shut.await;
        }
    }
}

/// Why the connection ends with a GOAWAY.
struct ConnError(u32);

/// How a response body arrives from the HTTP/1 side.
enum Body {
    Length(u64),
    Chunked(Unchunk),
    UntilClose,
}

enum Resp {
    /// Waiting for the response head.
    Head,
    Body(Body),
    Done,
}

struct Stream {
    id: u32,
    pipe: PipeEnd,
    /// The client may still send DATA (no END_STREAM yet).
    req_open: bool,
    /// The request body goes to the HTTP/1 side chunked (no `content-length`).
    req_chunked: bool,
    /// What the request's `content-length` says is still to come.
    req_left: Option<u64>,
    /// Request bytes the pipe had no room for yet.
    req_pending: Vec<u8>,
    /// Window credit owed for the bytes in `req_pending`, given once they are in the pipe.
    credit_pending: i64,
    /// Credit owed for bytes in the pipe.
    credit: i64,
    /// The pipe was shut after the request's end.
    req_shut: bool,
    /// What the client may still send on this stream.
    recv_window: i64,
    /// What we may still send.
    send_window: i64,
    resp: Resp,
    /// A HEAD request: its answer has no body, whatever its head says.
    head_request: bool,
    /// Response bytes from the pipe not yet framed.
    inb: Vec<u8>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        give_vec(std::mem::take(&mut self.inb));
        give_vec(std::mem::take(&mut self.req_pending));
    }
}

/// A request head as its fields are decoded: pseudo-headers kept aside, the others written
/// as HTTP/1 header lines.
#[derive(Default)]
struct ReqScratch {
    method: Vec<u8>,
    scheme: Vec<u8>,
    authority: Vec<u8>,
    path: Vec<u8>,
    seen: u8,
    regular: bool,
    lines: Vec<u8>,
    cookies: Vec<u8>,
    has_host: bool,
    /// The `content-length`, which the DATA frames must add up to (RFC 9113 8.1.1).
    length: Option<u64>,
    size: usize,
    too_large: bool,
    malformed: bool,
}

const SEEN_METHOD: u8 = 1;
const SEEN_SCHEME: u8 = 2;
const SEEN_AUTHORITY: u8 = 4;
const SEEN_PATH: u8 = 8;

impl ReqScratch {
    fn clear(&mut self) {
        self.method.clear();
        self.scheme.clear();
        self.authority.clear();
        self.path.clear();
        self.seen = 0;
        self.regular = false;
        self.lines.clear();
        self.cookies.clear();
        self.has_host = false;
        self.length = None;
        self.size = 0;
        self.too_large = false;
        self.malformed = false;
    }

    /// Takes one decoded field (RFC 9113 8.2 and 8.3 say what makes a request malformed).
    fn field(&mut self, name: &[u8], value: &[u8], max_list: usize, trailers: bool) {
        self.size += name.len() + value.len() + 32;
        if self.size > max_list {
            self.too_large = true;
        }
        if self.too_large || self.malformed {
            return;
        }
        if value.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
            self.malformed = true;
            return;
        }
        if let Some(pseudo) = name.strip_prefix(b":") {
            let (bit, slot) = match pseudo {
                b"method" => (SEEN_METHOD, &mut self.method),
                b"scheme" => (SEEN_SCHEME, &mut self.scheme),
                b"authority" => (SEEN_AUTHORITY, &mut self.authority),
                b"path" => (SEEN_PATH, &mut self.path),
                _ => {
                    self.malformed = true;
                    return;
                }
            };
            if self.regular || trailers || self.seen & bit != 0 {
                self.malformed = true;
                return;
            }
            self.seen |= bit;
            slot.extend_from_slice(value);
            return;
        }
        self.regular = true;
        if name.is_empty()
            || !name
                .iter()
                .all(|&b| sluice_http::is_token(b) && !b.is_ascii_uppercase())
        {
            self.malformed = true;
            return;
        }
        match name {
            b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding"
            | b"upgrade" => {
                self.malformed = true;
                return;
            }
            b"te" if value != b"trailers" => {
                self.malformed = true;
                return;
            }
            b"cookie" if !trailers => {
                // HTTP/2 may split cookies; HTTP/1 wants one header joined by "; "
                // (RFC 9113 8.2.3).
                if !self.cookies.is_empty() {
                    self.cookies.extend_from_slice(b"; ");
                }
                self.cookies.extend_from_slice(value);
                return;
            }
            b"host" => self.has_host = true,
            b"content-length" => {
                let n = std::str::from_utf8(value)
                    .ok()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok());
                match (n, self.length) {
                    (Some(n), None) => self.length = Some(n),
                    (Some(n), Some(m)) if n == m => {}
                    _ => {
                        self.malformed = true;
                        return;
                    }
                }
            }
            _ => {}
        }
        self.lines.extend_from_slice(name);
        self.lines.extend_from_slice(b": ");
        self.lines.extend_from_slice(value);
        self.lines.extend_from_slice(b"\r\n");
    }

    /// The request as HTTP/1 text onto `out`; `false` when it is malformed. `body`: DATA may
    /// follow (then a body without a length goes chunked).
    fn write_request(&self, out: &mut Vec<u8>, body: bool) -> bool {
        if self.seen & SEEN_METHOD == 0 || self.method.is_empty() {
            return false;
        }
        // A request that ends with its head cannot have promised a body.
        if !body && self.length.is_some_and(|n| n > 0) {
            return false;
        }
        let connect = self.method == b"CONNECT";
        if connect {
            if self.seen != SEEN_METHOD | SEEN_AUTHORITY || self.authority.is_empty() {
                return false;
            }
        } else if self.seen & (SEEN_SCHEME | SEEN_PATH) != SEEN_SCHEME | SEEN_PATH
            || self.path.is_empty()
            || self.scheme.is_empty()
        {
            return false;
        }
        out.extend_from_slice(&self.method);
        out.push(b' ');
        if connect {
            out.extend_from_slice(&self.authority);
        } else if !self.authority.is_empty() {
            // Absolute form, as HAProxy sees (and logs) an HTTP/2 request; servers get the
            // origin form (see `stream_http::forward`).
            out.extend_from_slice(&self.scheme);
            out.extend_from_slice(b"://");
            out.extend_from_slice(&self.authority);
            out.extend_from_slice(&self.path);
        } else {
            out.extend_from_slice(&self.path);
        }
        // HAProxy logs HTTP/2 requests as `HTTP/2.0` and `req.ver` says 2.0; the request
        // goes to HTTP/1 servers as HTTP/1.1 all the same.
        out.extend_from_slice(b" HTTP/2.0\r\n");
        if !self.has_host && !self.authority.is_empty() {
            out.extend_from_slice(b"host: ");
            out.extend_from_slice(&self.authority);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(&self.lines);
        if !self.cookies.is_empty() {
            out.extend_from_slice(b"cookie: ");
            out.extend_from_slice(&self.cookies);
            out.extend_from_slice(b"\r\n");
        }
        if body && self.length.is_none() {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        out.extend_from_slice(b"\r\n");
        true
    }
}

/// A header block in progress (HEADERS without END_HEADERS, then CONTINUATION).
struct Continued {
    stream: u32,
    end_stream: bool,
    block: Vec<u8>,
}

struct Mux {
    rt: Arc<Runtime>,
    fe_id: usize,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    ssl: Option<Box<sluice_tls::ConnInfo>>,
    accept_time: SystemTime,
    max_list: usize,
    rbuf: Buf,
    wbuf: Vec<u8>,
    /// Bytes of `wbuf` already written.
    wpos: usize,
    dec: Decoder,
    scratch: ReqScratch,
    preface: bool,
    settings_seen: bool,
    /// The client's settings that matter when sending.
    peer_max_frame: usize,
    peer_initial_window: i64,
    /// What we may still send on the connection.
    send_window: i64,
    /// What the client may still send on the connection, and the credit owed to it.
    recv_window: i64,
    credit: i64,
    streams: Vec<Stream>,
    last_id: u32,
    continued: Option<Continued>,
    /// A GOAWAY went out: no new streams, close once the output is out.
    closing: bool,
    /// The client sent GOAWAY, or stopped sending: close once the streams are done.
    draining: bool,
    early_resets: u32,
    /// When the connection last had no stream, or began its last one (idle timeout).
    last_stream: Instant,
    opened: Instant,
    closing_since: Option<Instant>,
}

impl Drop for Mux {
    fn drop(&mut self) {
        give_vec(std::mem::take(&mut self.wbuf));
    }
}

impl Mux {
    fn new(
        rt: Arc<Runtime>,
        fe_id: usize,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        ssl: Option<Box<sluice_tls::ConnInfo>>,
        accept_time: SystemTime,
    ) -> Mux {
        let max_list = rt.max_head;
        let now = Instant::now();
        let mut wbuf = take_vec();
        // Our settings go out at once, before the client's preface is even read.
        frame::write_settings(
            &mut wbuf,
            &[
                (
                    setting::MAX_CONCURRENT_STREAMS,
                    MAX_CONCURRENT_STREAMS as u32,
                ),
                (setting::INITIAL_WINDOW_SIZE, INITIAL_WINDOW as u32),
                (
                    setting::MAX_HEADER_LIST_SIZE,
                    u32::try_from(max_list).unwrap_or(u32::MAX),
                ),
                (setting::ENABLE_PUSH, 0),
            ],
        );
        Mux {
            rt,
            fe_id,
            peer,
            local,
            ssl,
            accept_time,
            max_list,
            rbuf: Buf::new(READ_BUF),
            wbuf,
            wpos: 0,
            dec: Decoder::new(4096),
            scratch: ReqScratch::default(),
            preface: false,
            settings_seen: false,
            peer_max_frame: MAX_FRAME,
            peer_initial_window: INITIAL_WINDOW,
            send_window: INITIAL_WINDOW,
            recv_window: INITIAL_WINDOW,
            credit: 0,
            streams: Vec::new(),
            last_id: 0,
            continued: None,
            closing: false,
            draining: false,
            early_resets: 0,
            last_stream: now,
            opened: now,
            closing_since: None,
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        client: &mut Conn,
        mut timer: Pin<&mut Sleep>,
    ) -> Poll<()> {
        loop {
            let mut progress = false;
            // ---- frames from the client
            // Still read after the client's GOAWAY: its streams in progress need its
            // WINDOW_UPDATE frames.
            if !self.closing && self.wbuf.len() - self.wpos < WRITE_HIGH {
                match client.poll_read_ready(cx) {
                    Poll::Ready(Ok(())) => match client.try_read_into(&mut self.rbuf) {
                        Ok(0) => {
                            // The client is gone: so are its streams.
                            return Poll::Ready(());
                        }
                        Ok(_) => {
                            progress = true;
                            if let Err(ConnError(c)) = self.process_input() {
                                self.go_away(c);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => progress = true,
                        Err(_) => return Poll::Ready(()),
                    },
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => {}
                }
            }
            // ---- the streams' answers, and their requests' bodies
            if !self.closing {
                progress |= self.pump_streams(cx);
                self.give_credit();
            }
            // ---- output
            match self.flush(cx, client) {
                Ok(p) => progress |= p,
                Err(()) => return Poll::Ready(()),
            }
            let flushed = self.wpos == self.wbuf.len();
            if flushed && (self.closing || (self.draining && self.streams.is_empty())) {
                return Poll::Ready(());
            }
            if !progress {
                break;
            }
        }
        // ---- timeouts
        let fe = &self.rt.frontends[self.fe_id];
        let deadline = if let Some(since) = self.closing_since {
            fe.timeouts.client.map(|t| since + t)
        } else if !self.preface {
            // An embryonic connection is bounded by `timeout client`, as HAProxy does.
            fe.timeouts.client.map(|t| self.opened + t)
        } else if self.streams.is_empty() {
            // Idle: `timeout http-keep-alive` (else `timeout client`) after the last stream.
            fe.timeouts
                .client
                .map(|t| self.last_stream + fe.timeouts.http_keep_alive.unwrap_or(t))
        } else {
            None
        };
        // One timer, moved only when a deadline comes closer or it fires early (the idle
        // deadline moves on with every stream), rather than re-armed on every stream.
        if let Some(d) = deadline {
            if d < timer.deadline() {
                timer.as_mut().reset(d);
            }
            if timer.as_mut().poll(cx).is_ready() {
                if d > Instant::now() {
                    timer.as_mut().reset(d);
                    let _ = timer.as_mut().poll(cx);
                    return Poll::Pending;
                }
                if self.closing_since.is_some() || !self.preface {
                    return Poll::Ready(());
                }
                // Idle past its timeout: a graceful GOAWAY, then close.
                self.go_away(code::NO_ERROR);
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }

    /// Queues a GOAWAY and stops taking frames; the streams are dropped (their HTTP/1
    /// sides see the pipe close).
    fn go_away(&mut self, code: u32) {
        if self.closing {
            return;
        }
        frame::write_goaway(&mut self.wbuf, self.last_id, code);
        self.closing = true;
        self.closing_since = Some(Instant::now());
        self.streams.clear();
    }

    /// Writes what is queued. `Ok(true)` when bytes went out; `Err` when the client is gone.
    fn flush(&mut self, cx: &mut Context<'_>, client: &mut Conn) -> Result<bool, ()> {
        let mut progress = false;
        while self.wpos < self.wbuf.len() {
            match Pin::new(&mut *client).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(()),
                Poll::Ready(Ok(n)) => {
                    self.wpos += n;
                    progress = true;
                }
                Poll::Pending => return Ok(progress),
            }
        }
        if progress {
            self.wbuf.clear();
            self.wpos = 0;
            if self.streams.is_empty() {
                // An idle connection holds no output buffer.
                give_vec(std::mem::take(&mut self.wbuf));
            }
        }
        if client.is_tls() {
            match Pin::new(&mut *client).poll_flush(cx) {
                Poll::Ready(Err(_)) => return Err(()),
                Poll::Ready(Ok(())) | Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Takes every whole frame in the read buffer.
    fn process_input(&mut self) -> Result<(), ConnError> {
        if self.wbuf.capacity() == 0 {
            // Given back while idle; frames are about to be answered.
            self.wbuf = take_vec();
        }
        let mut rbuf = std::mem::replace(&mut self.rbuf, Buf::new(READ_BUF));
        let r = self.frames(&mut rbuf);
        rbuf.compact();
        rbuf.release_if_empty();
        self.rbuf = rbuf;
        r
    }

    fn frames(&mut self, rbuf: &mut Buf) -> Result<(), ConnError> {
        if !self.preface {
            let d = rbuf.data();
            let n = d.len().min(frame::PREFACE.len());
            if d[..n] != frame::PREFACE[..n] {
                // Not HTTP/2: closed without a word.
                self.closing = true;
                self.closing_since = Some(Instant::now());
                return Ok(());
            }
            if n < frame::PREFACE.len() {
                return Ok(());
            }
            rbuf.consume(n);
            self.preface = true;
        }
        while !self.closing {
            let d = rbuf.data();
            let Some(head) = d.get(..frame::HEAD_LEN) else {
                break;
            };
            let mut hb = [0u8; frame::HEAD_LEN];
            hb.copy_from_slice(head);
            let h = Head::parse(&hb);
            let len = h.len as usize;
            if len > MAX_FRAME {
                return Err(ConnError(code::FRAME_SIZE_ERROR));
            }
            let Some(payload) = d.get(frame::HEAD_LEN..frame::HEAD_LEN + len) else {
                break;
            };
            if !self.settings_seen && h.kind != kind::SETTINGS {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            self.frame(h, payload)?;
            rbuf.consume(frame::HEAD_LEN + len);
        }
        Ok(())
    }

    fn frame(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        if self.continued.is_some() && h.kind != kind::CONTINUATION {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        match h.kind {
            kind::DATA => self.on_data(h, payload),
            kind::HEADERS => self.on_headers(h, payload),
            kind::CONTINUATION => self.on_continuation(h, payload),
            kind::SETTINGS => self.on_settings(h, payload),
            kind::PING => {
                if h.stream != 0 {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                let Ok(p) = <[u8; 8]>::try_from(payload) else {
                    return Err(ConnError(code::FRAME_SIZE_ERROR));
                };
                if !h.has(flag::ACK) {
                    frame::write_ping_ack(&mut self.wbuf, &p);
                }
                Ok(())
            }
            kind::WINDOW_UPDATE => self.on_window_update(h, payload),
            kind::RST_STREAM => {
                if h.stream == 0 {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                if payload.len() != 4 {
                    return Err(ConnError(code::FRAME_SIZE_ERROR));
                }
                if h.stream > self.last_id {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                if let Some(i) = self.find(h.stream) {
                    if matches!(self.streams[i].resp, Resp::Head) {
                        self.early_resets += 1;
                        if self.early_resets > MAX_EARLY_RESETS {
                            return Err(ConnError(code::ENHANCE_YOUR_CALM));
                        }
                    }
                    self.streams.swap_remove(i);
                    self.stream_gone();
                }
                Ok(())
            }
            kind::PRIORITY => {
                if h.stream == 0 {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                if payload.len() != 5 {
                    return Err(ConnError(code::FRAME_SIZE_ERROR));
                }
                Ok(())
            }
            kind::GOAWAY => {
                if h.stream != 0 {
                    return Err(ConnError(code::PROTOCOL_ERROR));
                }
                self.draining = true;
                Ok(())
            }
            kind::PUSH_PROMISE => Err(ConnError(code::PROTOCOL_ERROR)),
            // Unknown types are ignored (RFC 9113 4.1).
            _ => Ok(()),
        }
    }

    fn find(&self, id: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.id == id)
    }

    /// A stream ended: the idle clock starts when the last one does.
    fn stream_gone(&mut self) {
        if self.streams.is_empty() {
            self.last_stream = Instant::now();
        }
    }

    fn on_settings(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream != 0 {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        if h.has(flag::ACK) {
            return if payload.is_empty() {
                Ok(())
            } else {
                Err(ConnError(code::FRAME_SIZE_ERROR))
            };
        }
        if !payload.len().is_multiple_of(6) {
            return Err(ConnError(code::FRAME_SIZE_ERROR));
        }
        self.settings_seen = true;
        for s in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([s[0], s[1]]);
            let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
            match id {
                setting::ENABLE_PUSH if v > 1 => return Err(ConnError(code::PROTOCOL_ERROR)),
                setting::INITIAL_WINDOW_SIZE => {
                    let v = i64::from(v);
                    if v > frame::MAX_WINDOW {
                        return Err(ConnError(code::FLOW_CONTROL_ERROR));
                    }
                    let delta = v - self.peer_initial_window;
                    self.peer_initial_window = v;
                    for st in &mut self.streams {
                        st.send_window += delta;
                        if st.send_window > frame::MAX_WINDOW {
                            return Err(ConnError(code::FLOW_CONTROL_ERROR));
                        }
                    }
                }
                setting::MAX_FRAME_SIZE => {
                    if !(frame::DEFAULT_MAX_FRAME..=0xff_ffff).contains(&v) {
                        return Err(ConnError(code::PROTOCOL_ERROR));
                    }
                    // Our output buffer is sized for 16 KiB frames; larger ones gain little.
                    self.peer_max_frame = (v as usize).min(MAX_FRAME);
                }
                // HEADER_TABLE_SIZE: our encoder uses no dynamic table. The others are
                // advisory for a server.
                _ => {}
            }
        }
        frame::write_settings_ack(&mut self.wbuf);
        Ok(())
    }

    fn on_window_update(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        let Ok(p) = <[u8; 4]>::try_from(payload) else {
            return Err(ConnError(code::FRAME_SIZE_ERROR));
        };
        let inc = i64::from(u32::from_be_bytes(p) & 0x7fff_ffff);
        if h.stream == 0 {
            if inc == 0 {
                return Err(ConnError(code::PROTOCOL_ERROR));
            }
            self.send_window += inc;
            if self.send_window > frame::MAX_WINDOW {
                return Err(ConnError(code::FLOW_CONTROL_ERROR));
            }
            return Ok(());
        }
        if h.stream > self.last_id {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        if let Some(i) = self.find(h.stream) {
            let st = &mut self.streams[i];
            st.send_window += inc;
            if inc == 0 || st.send_window > frame::MAX_WINDOW {
                let c = if inc == 0 {
                    code::PROTOCOL_ERROR
                } else {
                    code::FLOW_CONTROL_ERROR
                };
                frame::write_rst(&mut self.wbuf, h.stream, c);
                self.streams.swap_remove(i);
                self.stream_gone();
            }
        }
        Ok(())
    }

    fn on_data(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 || h.stream > self.last_id {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        let flow = payload.len() as i64;
        if flow > self.recv_window {
            return Err(ConnError(code::FLOW_CONTROL_ERROR));
        }
        self.recv_window -= flow;
        let data = strip_padding(&h, payload)?;
        // Padding is given back at once; the data once it is in the pipe.
        let padding = flow - data.len() as i64;
        self.credit += flow;
        let Some(i) = self.find(h.stream) else {
            // A stream closed already (reset, or answered and let go): its data is
            // dropped, its window credit given back all the same.
            return Ok(());
        };
        let st = &mut self.streams[i];
        if !st.req_open || flow > st.recv_window {
            let c = if st.req_open {
                code::FLOW_CONTROL_ERROR
            } else {
                code::STREAM_CLOSED
            };
            frame::write_rst(&mut self.wbuf, h.stream, c);
            self.streams.swap_remove(i);
            self.stream_gone();
            return Ok(());
        }
        st.recv_window -= flow;
        st.credit += padding;
        let end = h.has(flag::END_STREAM);
        if let Some(left) = st.req_left.as_mut() {
            let n = data.len() as u64;
            if n > *left || (end && n != *left) {
                // More or less than the `content-length` said: malformed (RFC 9113 8.1.1).
                frame::write_rst(&mut self.wbuf, h.stream, code::PROTOCOL_ERROR);
                self.streams.swap_remove(i);
                self.stream_gone();
                return Ok(());
            }
            *left -= n;
        }
        if !data.is_empty() {
            if st.req_chunked {
                st.queue_request(SizeLine::new(data.len()).bytes(), 0);
                st.queue_request(data, data.len() as i64);
                st.queue_request(b"\r\n", 0);
            } else {
                st.queue_request(data, data.len() as i64);
            }
        }
        if end {
            st.end_request(None);
        }
        Ok(())
    }

    fn on_headers(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        if h.stream == 0 || h.stream.is_multiple_of(2) {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        let mut fragment = strip_padding(&h, payload)?;
        if h.has(flag::PRIORITY) {
            fragment = fragment.get(5..).ok_or(ConnError(code::PROTOCOL_ERROR))?;
        }
        let end_stream = h.has(flag::END_STREAM);
        if h.has(flag::END_HEADERS) {
            return self.header_block(h.stream, end_stream, fragment);
        }
        let mut block = take_vec();
        block.extend_from_slice(fragment);
        self.continued = Some(Continued {
            stream: h.stream,
            end_stream,
            block,
        });
        Ok(())
    }

    fn on_continuation(&mut self, h: Head, payload: &[u8]) -> Result<(), ConnError> {
        let Some(mut c) = self.continued.take() else {
            return Err(ConnError(code::PROTOCOL_ERROR));
        };
        if c.stream != h.stream {
            return Err(ConnError(code::PROTOCOL_ERROR));
        }
        c.block.extend_from_slice(payload);
        // A block may exceed the header list limit a little (HPACK can be larger than
        // what it encodes); a flood of CONTINUATION frames may not.
        if c.block.len() > 2 * self.max_list + MAX_FRAME {
            give_vec(c.block);
            return Err(ConnError(code::ENHANCE_YOUR_CALM));
        }
        if !h.has(flag::END_HEADERS) {
            self.continued = Some(c);
            return Ok(());
        }
        let r = self.header_block(c.stream, c.end_stream, &c.block);
        give_vec(c.block);
        r
    }

    /// A whole header block: a new request, or a request's trailers.
    fn header_block(&mut self, id: u32, end_stream: bool, block: &[u8]) -> Result<(), ConnError> {
        let trailers = id <= self.last_id;
        let Mux {
            dec,
            scratch,
            max_list,
            ..
        } = self;
        scratch.clear();
        dec.decode(block, |n, v| scratch.field(n, v, *max_list, trailers))
            .map_err(|_| ConnError(code::COMPRESSION_ERROR))?;
        if trailers {
            let Some(i) = self.find(id) else {
                // Trailers of a stream already let go of; a HEADERS on a stream that never
                // was is a connection error.
                return Ok(());
            };
            if !end_stream
                || self.scratch.malformed
                || !self.streams[i].req_open
                || self.streams[i].req_left.is_some_and(|n| n > 0)
            {
                frame::write_rst(&mut self.wbuf, id, code::PROTOCOL_ERROR);
                self.streams.swap_remove(i);
                self.stream_gone();
                return Ok(());
            }
            let lines = std::mem::take(&mut self.scratch.lines);
            self.streams[i].end_request(Some(&lines));
            self.scratch.lines = lines;
            return Ok(());
        }
        self.last_id = id;
        if self.draining {
            return Ok(());
        }
        if self.scratch.too_large {
            // As HAProxy and the `h2` crate answer a head over the limit.
            let mut b = take_vec();
            encode_status(&mut b, 431);
            frame::write_headers(&mut self.wbuf, id, &b, true, self.peer_max_frame);
            give_vec(b);
            if !end_stream {
                frame::write_rst(&mut self.wbuf, id, code::NO_ERROR);
            }
            return Ok(());
        }
        if self.streams.len() >= MAX_CONCURRENT_STREAMS {
            frame::write_rst(&mut self.wbuf, id, code::REFUSED_STREAM);
            return Ok(());
        }
        let mut head = take_vec();
        if self.scratch.malformed || !self.scratch.write_request(&mut head, !end_stream) {
            give_vec(head);
            frame::write_rst(&mut self.wbuf, id, code::PROTOCOL_ERROR);
            return Ok(());
        }
        let (ours, theirs) = pipe::pair(self.local);
        let mut st = Stream {
            id,
            pipe: ours,
            req_open: true,
            req_chunked: !end_stream && self.scratch.length.is_none(),
            req_left: self.scratch.length,
            req_pending: Vec::new(),
            credit_pending: 0,
            credit: 0,
            req_shut: false,
            recv_window: INITIAL_WINDOW,
            send_window: self.peer_initial_window,
            resp: Resp::Head,
            head_request: self.scratch.method == b"HEAD",
            inb: Vec::new(),
        };
        // Written before the HTTP/1 side first looks, the head is read at once.
        st.queue_request(&head, 0);
        give_vec(head);
        if end_stream {
            st.end_request(None);
        }
        self.streams.push(st);
        self.last_stream = Instant::now();
        let rt = self.rt.clone();
        let fe_id = self.fe_id;
        let peer = self.peer;
        let accept_time = self.accept_time;
        let ssl = self.ssl.clone();
        // Boxed: the task then holds a pointer, and the stream's state (some KiB) is an
        // ordinary allocation rather than a cache-line-aligned task cell.
        tokio::spawn(Box::pin(async move {
            let fe = &rt.frontends[fe_id];
            crate::stream_http::serve_h2_stream(
                &rt,
                fe,
                Conn::Pipe(theirs, ssl),
                peer,
                accept_time,
            )
            .await;
        }));
        Ok(())
    }

    /// Window credit for what the streams took in, once enough is owed.
    fn give_credit(&mut self) {
        if self.credit >= CREDIT_AT || (self.credit > 0 && self.recv_window < CREDIT_AT) {
            frame::write_window_update(&mut self.wbuf, 0, self.credit as u32);
            self.recv_window += self.credit;
            self.credit = 0;
        }
    }

    /// Moves request bytes into the pipes and response bytes out of them into frames.
    /// Whether anything moved.
    fn pump_streams(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.streams.len() {
            if self.wbuf.len() - self.wpos >= WRITE_HIGH {
                // Full: the rest waits for the client to read (the flush wakes us).
                break;
            }
            let st = &mut self.streams[i];
            progress |= st.pump_request(cx, &mut self.wbuf);
            let (moved, finished) = st.pump_response(
                cx,
                &mut self.wbuf,
                &mut self.send_window,
                self.peer_max_frame,
            );
            progress |= moved;
            if finished {
                let st = self.streams.swap_remove(i);
                if st.req_open {
                    // Answered in full while the client still sends: it may stop
                    // (RFC 9113 8.1).
                    frame::write_rst(&mut self.wbuf, st.id, code::NO_ERROR);
                }
                self.early_resets = self.early_resets.saturating_sub(1);
                self.stream_gone();
                progress = true;
                continue;
            }
            i += 1;
        }
        progress
    }
}

impl Stream {
    /// Writes request bytes into the pipe, keeping what does not fit; `credit` is the window
    /// to give back once they are in.
    fn queue_request(&mut self, data: &[u8], credit: i64) {
        if self.req_pending.is_empty() {
            match self.pipe.try_write(data) {
                Ok(n) if n == data.len() => {
                    self.credit += credit;
                    return;
                }
                Ok(n) => {
                    self.req_pending = take_vec();
                    self.req_pending.extend_from_slice(&data[n..]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.req_pending = take_vec();
                    self.req_pending.extend_from_slice(data);
                }
                // The HTTP/1 side is gone (it answered, or gave up): the bytes go nowhere.
                Err(_) => {
                    self.credit += credit;
                    return;
                }
            }
        } else {
            self.req_pending.extend_from_slice(data);
        }
        self.credit_pending += credit;
    }

    /// The request's end: the last chunk (with trailers, as header lines) when chunked.
    fn end_request(&mut self, trailers: Option<&[u8]>) {
        self.req_open = false;
        if self.req_chunked {
            let mut end = take_vec();
            end.extend_from_slice(b"0\r\n");
            if let Some(t) = trailers {
                end.extend_from_slice(t);
            }
            end.extend_from_slice(b"\r\n");
            self.queue_request(&end, 0);
            give_vec(end);
        }
        if self.req_pending.is_empty() {
            self.pipe.shutdown();
            self.req_shut = true;
        }
    }

    fn pump_request(&mut self, cx: &mut Context<'_>, wbuf: &mut Vec<u8>) -> bool {
        let mut progress = false;
        if !self.req_pending.is_empty() {
            match self.pipe.try_write(&self.req_pending) {
                Ok(n) => {
                    self.req_pending.drain(..n);
                    progress = n > 0;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => self.req_pending.clear(),
            }
            if self.req_pending.is_empty() {
                self.credit += self.credit_pending;
                self.credit_pending = 0;
            } else {
                // Woken when the HTTP/1 side reads.
                let _ = self.pipe.poll_ready(cx, Interest::WRITABLE);
            }
        }
        if self.req_pending.is_empty() && !self.req_open && !self.req_shut {
            self.pipe.shutdown();
            self.req_shut = true;
        }
        if self.req_open
            && self.credit > 0
            && (self.credit >= CREDIT_AT || self.recv_window < CREDIT_AT)
        {
            frame::write_window_update(wbuf, self.id, self.credit as u32);
            self.recv_window += self.credit;
            self.credit = 0;
            progress = true;
        }
        progress
    }

    /// Frames what the HTTP/1 side answered. Returns (whether anything moved, whether the
    /// response is complete).
    fn pump_response(
        &mut self,
        cx: &mut Context<'_>,
        wbuf: &mut Vec<u8>,
        conn_window: &mut i64,
        max_frame: usize,
    ) -> (bool, bool) {
        let mut progress = false;
        loop {
            match &mut self.resp {
                Resp::Done => return (progress, true),
                Resp::Head => match self.pipe.poll_head_or_read(cx, &mut self.inb, CHUNK) {
                    Poll::Pending => return (progress, false),
                    Poll::Ready(Err(_)) => {
                        frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
                        return (true, true);
                    }
                    Poll::Ready(Ok(Incoming::Head(h))) => {
                        progress = true;
                        let end = h.body == BodyKind::Empty || h.body == BodyKind::ContentLength(0);
                        frame::write_headers(wbuf, self.id, &h.block, end, max_frame);
                        give_vec(h.block);
                        if end {
                            return (true, true);
                        }
                        if let Some(data) = h.data {
                            give_vec(std::mem::replace(&mut self.inb, data));
                        }
                        self.resp = Resp::Body(match h.body {
                            BodyKind::ContentLength(n) => Body::Length(n),
                            BodyKind::Chunked => Body::Chunked(Unchunk::Size),
                            _ => Body::UntilClose,
                        });
                    }
                    Poll::Ready(Ok(Incoming::Bytes(n))) => {
                        progress = true;
                        match self.text_head(wbuf, max_frame) {
                            Some(true) => continue,
                            Some(false) => return (true, true),
                            None if n == 0 => {
                                // Closed without an answer (reject, silent-drop): refuse.
                                frame::write_rst(wbuf, self.id, code::REFUSED_STREAM);
                                return (true, true);
                            }
                            None => {}
                        }
                    }
                },
                Resp::Body(body) => {
                    let (moved, state) = frame_body(
                        body,
                        &mut self.inb,
                        self.id,
                        wbuf,
                        conn_window,
                        &mut self.send_window,
                        max_frame,
                    );
                    progress |= moved;
                    match state {
                        BodyState::Done => {
                            self.resp = Resp::Done;
                            continue;
                        }
                        BodyState::Bad => {
                            frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
                            return (true, true);
                        }
                        BodyState::Blocked => return (progress, false),
                        BodyState::NeedBytes => {}
                    }
                    // More bytes from the pipe.
                    match self.pipe.poll_ready(cx, Interest::READABLE) {
                        Poll::Pending => return (progress, false),
                        Poll::Ready(Err(_)) => {
                            frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
                            return (true, true);
                        }
                        Poll::Ready(Ok(_)) => {}
                    }
                    match self.pipe.try_read_append(&mut self.inb, CHUNK) {
                        Ok(0) => {
                            if let Resp::Body(Body::UntilClose) = self.resp {
                                frame::write_data(wbuf, self.id, &[], true);
                                return (true, true);
                            }
                            // Cut short.
                            frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
                            return (true, true);
                        }
                        Ok(_) => progress = true,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
                            return (true, true);
                        }
                    }
                }
            }
        }
    }

    /// A response head that came as HTTP/1 text (a local reply, an interim 1xx, or one the
    /// HTTP/1 side could not hand over whole): `Some(true)` when its HEADERS went out and a
    /// body follows, `Some(false)` when the stream is done, `None` when more bytes are
    /// needed.
    fn text_head(&mut self, wbuf: &mut Vec<u8>, max_frame: usize) -> Option<bool> {
        let limits = Limits {
            max_head: 64 * 1024,
            max_headers: 1000,
        };
        let mut head = ResponseHead::new();
        loop {
            let method = if self.head_request {
                Method::Head
            } else {
                Method::Get
            };
            match parse_response(&self.inb, &limits, method, &mut head) {
                Ok(true) if (100..200).contains(&head.status) && head.status != 101 => {
                    // Interim answers are not passed on.
                    self.inb.drain(..head.head_len);
                }
                Ok(true) => break,
                Ok(false) => return None,
                Err(_) => {
                    frame::write_rst(wbuf, self.id, code::PROTOCOL_ERROR);
                    return Some(false);
                }
            }
        }
        let mut block = take_vec();
        if !encode_response_head(&self.inb, &head, None, &mut block) {
            give_vec(block);
            frame::write_rst(wbuf, self.id, code::INTERNAL_ERROR);
            return Some(false);
        }
        self.inb.drain(..head.head_len);
        let end = head.body == BodyKind::Empty || head.body == BodyKind::ContentLength(0);
        frame::write_headers(wbuf, self.id, &block, end, max_frame);
        give_vec(block);
        if end {
            return Some(false);
        }
        self.resp = Resp::Body(match head.body {
            BodyKind::ContentLength(n) => Body::Length(n),
            BodyKind::Chunked => Body::Chunked(Unchunk::Size),
            _ => Body::UntilClose,
        });
        Some(true)
    }
}

enum BodyState {
    Done,
    /// Out of window: WINDOW_UPDATE frames will let it go on.
    Blocked,
    NeedBytes,
    Bad,
}

/// Frames the body bytes in `inb` as DATA (and trailers), within the windows.
fn frame_body(
    body: &mut Body,
    inb: &mut Vec<u8>,
    id: u32,
    wbuf: &mut Vec<u8>,
    conn_window: &mut i64,
    stream_window: &mut i64,
    max_frame: usize,
) -> (bool, BodyState) {
    let mut progress = false;
    let mut at = 0;
    let state = loop {
        let avail = &inb[at..];
        // How many body bytes are at the front (chunk framing and trailers aside).
        let data = match body {
            Body::Length(0) => break BodyState::Done,
            Body::Length(left) => (*left).min(avail.len() as u64) as usize,
            Body::UntilClose => avail.len(),
            Body::Chunked(u) => match u.next(avail) {
                Piece::Data(n) => n,
                Piece::Skip(n) => {
                    at += n;
                    continue;
                }
                Piece::End { len, fields } => {
                    // Trailers go out as a HEADERS frame (gRPC status travels there), or
                    // the stream just ends.
                    if fields == 0 {
                        frame::write_data(wbuf, id, &[], true);
                    } else {
                        let mut block = take_vec();
                        for (name, value) in trailer_fields(&avail[..fields]) {
                            if valid_value(value) && !hop_by_hop(name) {
                                encode_field(&mut block, name, value);
                            }
                        }
                        frame::write_headers(wbuf, id, &block, true, max_frame);
                        give_vec(block);
                    }
                    at += len;
                    progress = true;
                    break BodyState::Done;
                }
                Piece::NeedBytes => break BodyState::NeedBytes,
                Piece::Bad => break BodyState::Bad,
            },
        };
        if data == 0 {
            break BodyState::NeedBytes;
        }
        let room = (*conn_window).min(*stream_window).max(0) as usize;
        let n = data.min(room).min(max_frame);
        if n == 0 {
            break BodyState::Blocked;
        }
        let end = matches!(body, Body::Length(left) if *left == n as u64);
        frame::write_data(wbuf, id, &avail[..n], end);
        *conn_window -= n as i64;
        *stream_window -= n as i64;
        at += n;
        progress = true;
        match body {
            Body::Length(left) => *left -= n as u64,
            Body::Chunked(u) => u.took(n),
            Body::UntilClose => {}
        }
    };
    if at > 0 {
        inb.drain(..at);
    }
    (progress, state)
}

/// The payload of a frame that may be PADDED, without its padding.
fn strip_padding<'a>(h: &Head, payload: &'a [u8]) -> Result<&'a [u8], ConnError> {
    if !h.has(flag::PADDED) {
        return Ok(payload);
    }
    let (&pad, rest) = payload
        .split_first()
        .ok_or(ConnError(code::PROTOCOL_ERROR))?;
    rest.len()
        .checked_sub(usize::from(pad))
        .map(|n| &rest[..n])
        .ok_or(ConnError(code::PROTOCOL_ERROR))
}

/// Headers that only mean something on one HTTP/1 connection (RFC 9113 8.2.2), in any case.
pub(crate) fn hop_by_hop(name: &[u8]) -> bool {
    let is = |k: &[u8]| name.eq_ignore_ascii_case(k);
    match name.len() {
        7 => is(b"upgrade"),
        10 => is(b"connection") || is(b"keep-alive"),
        16 => is(b"proxy-connection"),
        17 => is(b"transfer-encoding"),
        _ => false,
    }
}

/// A field value HTTP/2 can carry: no control characters but tab.
fn valid_value(v: &[u8]) -> bool {
    v.iter().all(|&b| (b >= 0x20 && b != 0x7f) || b == b'\t')
}

/// The HPACK block of a parsed HTTP/1 response head (`buf` holds its bytes), onto `out`:
/// hop-by-hop headers dropped, as are the framing headers of a 1xx or 204, names in lower
/// case. `reframed`: rules changed the framing, so the head's own `content-length` no
/// longer holds and this one goes instead. `false` when the head cannot go as HTTP/2 (an
/// obs-fold, a control character in a value).
pub(crate) fn encode_response_head(
    buf: &[u8],
    head: &ResponseHead,
    reframed: Option<BodyKind>,
    out: &mut Vec<u8>,
) -> bool {
    if head.has_obs_fold() {
        return false;
    }
    let bodyless = head.status < 200 || head.status == 204;
    encode_status(out, head.status);
    for h in &head.headers {
        let name = h.name.of(buf);
        if name.is_empty()
            || hop_by_hop(name)
            || ((bodyless || reframed.is_some()) && name.eq_ignore_ascii_case(b"content-length"))
        {
            continue;
        }
        let value = h.value.of(buf);
        if !valid_value(value) {
            return false;
        }
        encode_field(out, name, value);
    }
    if let Some(BodyKind::ContentLength(n)) = reframed {
        let digits = itoa_u64(n);
        encode_field(out, b"content-length", digits.bytes());
    }
    true
}

/// A number in decimal, on the stack.
struct Decimal {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_u64(mut n: u64) -> Decimal {
    let mut d = Decimal {
        buf: [0; 20],
        start: 20,
    };
    loop {
        d.start -= 1;
        d.buf[d.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(fields: &[(&str, &str)], body: bool) -> Option<String> {
        let mut s = ReqScratch::default();
        for (n, v) in fields {
            s.field(n.as_bytes(), v.as_bytes(), 16384, false);
        }
        if s.malformed {
            return None;
        }
        let mut out = Vec::new();
        s.write_request(&mut out, body)
            .then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn requests_become_http1_text() {
        assert_eq!(
            request(
                &[
                    (":method", "GET"),
                    (":scheme", "https"),
                    (":authority", "example.com"),
                    (":path", "/a?b"),
                    ("cookie", "a=1"),
                    ("accept", "*/*"),
                    ("cookie", "b=2"),
                ],
                false
            )
            .unwrap(),
            "GET https://example.com/a?b HTTP/2.0\r\nhost: example.com\r\naccept: */*\r\n\
             cookie: a=1; b=2\r\n\r\n"
        );
        assert_eq!(
            request(
                &[(":method", "POST"), (":scheme", "http"), (":path", "/up")],
                true
            )
            .unwrap(),
            "POST /up HTTP/2.0\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        assert_eq!(
            request(
                &[
                    (":method", "POST"),
                    (":scheme", "http"),
                    (":path", "/up"),
                    ("content-length", "3")
                ],
                true
            )
            .unwrap(),
            "POST /up HTTP/2.0\r\ncontent-length: 3\r\n\r\n"
        );
        assert_eq!(
            request(&[(":method", "CONNECT"), (":authority", "h:443")], true).unwrap(),
            "CONNECT h:443 HTTP/2.0\r\nhost: h:443\r\ntransfer-encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        const GET: [(&str, &str); 3] = [(":method", "GET"), (":scheme", "http"), (":path", "/")];
        const POST: [(&str, &str); 3] = [(":method", "POST"), (":scheme", "http"), (":path", "/")];
        // (the request's fields after a base, whether DATA may follow, what is wrong)
        type Fields<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Fields, Fields, bool, &str); 12] = [
            (
                &GET,
                &[("connection", "close")],
                false,
                "connection-specific",
            ),
            (&GET, &[("te", "gzip")], false, "te other than trailers"),
            (&GET, &[("Upper", "x")], false, "upper-case name"),
            (&GET, &[("x", "a\r\nb")], false, "CR LF in a value"),
            (&GET, &[(":path", "/again")], false, "pseudo-header twice"),
            (
                &GET,
                &[(":protocol", "websocket")],
                false,
                "unknown pseudo-header",
            ),
            (
                &GET[..1],
                &[("x", "1"), (":scheme", "http"), (":path", "/")],
                false,
                "pseudo-header after a regular one",
            ),
            (
                &POST,
                &[("content-length", "5")],
                false,
                "a body promised, none to come",
            ),
            (
                &POST,
                &[("content-length", "5"), ("content-length", "6")],
                true,
                "lengths disagree",
            ),
            (
                &POST,
                &[("content-length", "x")],
                true,
                "length not a number",
            ),
            (&GET[..2], &[], false, "no :path"),
            (&GET[..2], &[(":path", "")], false, "empty :path"),
        ];
        for (base, extra, body, what) in cases {
            let fields: Vec<_> = base.iter().chain(extra).copied().collect();
            assert_eq!(request(&fields, body), None, "{what}");
        }
        let mut ok = GET.to_vec();
        ok.push(("te", "trailers"));
        assert!(request(&ok, false).is_some());
    }

    #[test]
    fn chunked_bodies_become_data_and_trailers() {
        let mut body = Body::Chunked(Unchunk::Size);
        let mut inb = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\ngrpc-status: 0\r\n\r\n".to_vec();
        let (mut cw, mut sw) = (100i64, 100i64);
        let mut out = Vec::new();
        let (_, state) = frame_body(&mut body, &mut inb, 1, &mut out, &mut cw, &mut sw, 16384);
        assert!(matches!(state, BodyState::Done));
        assert!(inb.is_empty());
        assert_eq!((cw, sw), (95, 95));
        let mut frames = Vec::new();
        let mut at = 0;
        while at < out.len() {
            let h = Head::parse(out[at..at + 9].try_into().unwrap());
            frames.push((
                h.kind,
                h.flags,
                out[at + 9..at + 9 + h.len as usize].to_vec(),
            ));
            at += 9 + h.len as usize;
        }
        assert_eq!(frames[0], (kind::DATA, 0, b"abc".to_vec()));
        assert_eq!(frames[1], (kind::DATA, 0, b"de".to_vec()));
        assert_eq!(frames[2].0, kind::HEADERS);
        assert_eq!(frames[2].1, flag::END_STREAM | flag::END_HEADERS);
        let mut fields = Vec::new();
        Decoder::new(4096)
            .decode(&frames[2].2, |n, v| fields.push((n.to_vec(), v.to_vec())))
            .unwrap();
        assert_eq!(fields, vec![(b"grpc-status".to_vec(), b"0".to_vec())]);
    }

    #[test]
    fn a_body_waits_for_window() {
        let mut body = Body::Length(10);
        let mut inb = b"0123456789".to_vec();
        let (mut cw, mut sw) = (100i64, 4i64);
        let mut out = Vec::new();
        let (_, state) = frame_body(&mut body, &mut inb, 1, &mut out, &mut cw, &mut sw, 16384);
        assert!(matches!(state, BodyState::Blocked));
        assert_eq!(inb, b"456789");
        assert_eq!((cw, sw), (96, 0));
        sw = 100;
        out.clear();
        let (_, state) = frame_body(&mut body, &mut inb, 1, &mut out, &mut cw, &mut sw, 4);
        assert!(matches!(state, BodyState::Done));
        // two frames of 4 and 2, the last with END_STREAM
        assert_eq!(out.len(), 9 + 4 + 9 + 2);
        assert_eq!(out[9 + 4 + 4], flag::END_STREAM);
    }
}
