//! HTTP/2 from clients (RFC 9113; manual 5.1 `alpn h2`, `proto h2`): the `h2` codec drives
//! the connection, and each stream is translated into an HTTP/1.1 exchange run by the HTTP/1
//! stream ([`crate::stream_http::serve`]) over an in-memory pipe, so rules, balancing,
//! queues, server connections and logs are the same whatever the client speaks. The
//! response comes back the same way and is re-framed as HEADERS/DATA/trailers.
//!
//! Limits for the open internet (HAProxy's `tune.h2.*` defaults): 100 concurrent streams,
//! 64 KiB initial windows, a header list bounded by `tune.bufsize`; the codec's own
//! defences cap pending resets (CVE-2023-44487, "rapid reset") and CONTINUATION floods.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use sluice_http::{parse_response, BodyKind, Limits, Method, ResponseHead};

use crate::pipe::{self, Incoming, PipeEnd};
use crate::runtime::Runtime;
use crate::transport::Conn;

/// HAProxy's `tune.h2.max-concurrent-streams`.
const MAX_CONCURRENT_STREAMS: u32 = 100;
/// HAProxy's `tune.h2.initial-window-size`.
const INITIAL_WINDOW: u32 = 65_535;
/// Streams reset by the client before we accepted them, beyond which the connection is
/// closed (rapid reset).
const MAX_PENDING_RESETS: usize = 20;
/// Read size from the pipe when relaying a response body.
const CHUNK: usize = 16 * 1024;
/// The most a stream's last DATA may hold to be queued without reserving window first.
const SEND_UNRESERVED: usize = 16 * 1024;

/// Headers that only mean something on one HTTP/1 connection (RFC 9113 8.2.2), in any case.
fn hop_by_hop(name: &[u8]) -> bool {
    let is = |k: &[u8]| name.eq_ignore_ascii_case(k);
    match name.len() {
        7 => is(b"upgrade"),
        10 => is(b"connection") || is(b"keep-alive"),
        16 => is(b"proxy-connection"),
        17 => is(b"transfer-encoding"),
        _ => false,
    }
}

/// [`hop_by_hop`] for a name from the HTTP/2 codec, which is lower case already.
fn hop_by_hop_h2(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade"
    )
}

/// Counts a stream out when its task ends, however it ends.
struct StreamDone(Arc<AtomicUsize>);

impl Drop for StreamDone {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves an HTTP/2 connection until it closes.
pub async fn serve(
    rt: Arc<Runtime>,
    fe_id: usize,
    client: Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
) {
    let mut client = client;
    let local = client.local_addr().ok();
    let ssl = client.take_ssl_info();
    let max_list = u32::try_from(rt.max_head).unwrap_or(u32::MAX);
    let fe = &rt.frontends[fe_id];
    // Session rules run once for the connection, not for each stream: a reject closes it
    // before the HTTP/2 preface, without a log line, as HAProxy does.
    if !crate::stream_http::session_accepted(&rt, fe, &client, peer, ssl.as_deref()) {
        return;
    }
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .initial_window_size(INITIAL_WINDOW)
        .max_header_list_size(max_list)
        .max_send_buffer_size(256 * 1024)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .handshake::<_, Bytes>(client);
    let mut h2conn = match fe.timeouts.client {
        Some(t) => match tokio::time::timeout(t, handshake).await {
            Ok(Ok(c)) => c,
            _ => return,
        },
        None => match handshake.await {
            Ok(c) => c,
            Err(_) => return,
        },
    };
    // Streams in progress: the connection is not idle while any is.
    let active = Arc::new(AtomicUsize::new(0));
    // An idle HTTP/2 connection (no stream in progress) is closed `timeout http-keep-alive`
    // (else `timeout client`) after its last stream began. One timer serves the whole
    // connection: it is armed once and, when it fires early, moved to the real deadline,
    // rather than a timer registered and cancelled around every stream.
    let idle = fe
        .timeouts
        .client
        .map(|t| fe.timeouts.http_keep_alive.unwrap_or(t));
    let mut last_stream = tokio::time::Instant::now();
    let idle_timer = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
    tokio::pin!(idle_timer);
    loop {
        let next = tokio::select! {
            biased;
            n = h2conn.accept() => n,
            () = &mut idle_timer, if idle.is_some() => {
                let idle = idle.unwrap_or_default();
                let due = last_stream + idle;
                let now = tokio::time::Instant::now();
                if active.load(Ordering::Relaxed) > 0 {
                    idle_timer.as_mut().reset(now + idle);
                    continue;
                }
                if due > now {
                    idle_timer.as_mut().reset(due);
                    continue;
                }
                h2conn.graceful_shutdown();
                if let Some(t) = fe.timeouts.client {
                    let _ = tokio::time::timeout(
                        t,
                        std::future::poll_fn(|cx| h2conn.poll_closed(cx)),
                    )
                    .await;
                }
                return;
            }
        };
        if idle.is_some() {
            last_stream = tokio::time::Instant::now();
        }
        let Some(Ok((req, respond))) = next else {
            // No more streams will come, but those in progress still need the connection
            // driven until they end.
            let closed = std::future::poll_fn(|cx| h2conn.poll_closed(cx));
            match fe.timeouts.client {
                Some(t) => {
                    let _ = tokio::time::timeout(t, closed).await;
                }
                None => {
                    let _ = closed.await;
                }
            }
            return;
        };
        active.fetch_add(1, Ordering::Relaxed);
        let done = StreamDone(active.clone());
        let rt = rt.clone();
        let ssl = ssl.clone();
        // Boxed: the task then holds a pointer, and the stream's state (some 3 KiB) is an
        // ordinary allocation rather than a cache-line-aligned task cell, which mimalloc
        // serves on a slow path.
        tokio::spawn(Box::pin(async move {
            let _done = done;
            stream(rt, fe_id, req, respond, peer, local, ssl, accept_time).await;
        }));
    }
}

/// One request stream: run it through the HTTP/1 stream over a pipe.
#[allow(clippy::too_many_arguments)]
async fn stream(
    rt: Arc<Runtime>,
    fe_id: usize,
    req: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    ssl: Option<Box<sluice_tls::ConnInfo>>,
    accept_time: SystemTime,
) {
    let (ours, theirs) = pipe::pair(local);
    let method = Method::from_bytes(req.method().as_str().as_bytes());
    let limits = Limits {
        max_head: rt.max_head,
        max_headers: rt.max_headers,
    };
    let h1 = async {
        let fe = &rt.frontends[fe_id];
        crate::stream_http::serve_h2_stream(&rt, fe, Conn::Pipe(theirs, ssl), peer, accept_time)
            .await;
    };
    let (parts, body) = req.into_parts();
    let send = send_request(&ours, parts, body);
    let recv = recv_response(&ours, respond, method, &limits);
    // The request and the response move at the same time (early responses, uploads). The
    // request goes first: written before the HTTP/1 side first looks, it is read at once.
    let _ = tokio::join!(send, h1, recv);
}

/// Writes the request as HTTP/1.1 into the pipe: request line, headers (cookies joined,
/// `host` from `:authority`), then the body, chunked when its length is unknown.
async fn send_request(
    pipe: &PipeEnd,
    parts: http::request::Parts,
    mut body: RecvStream,
) -> std::io::Result<()> {
    let mut head = crate::buffer::take_vec();
    head.extend_from_slice(parts.method.as_str().as_bytes());
    head.push(b' ');
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if parts.method == http::Method::CONNECT {
        let authority = parts.uri.authority().map(|a| a.as_str()).unwrap_or("");
        head.extend_from_slice(authority.as_bytes());
    } else if let (Some(scheme), Some(authority)) = (parts.uri.scheme(), parts.uri.authority()) {
        // Absolute form, as HAProxy sees (and logs) an HTTP/2 request; servers get the
        // origin form (see `stream_http::forward`).
        head.extend_from_slice(scheme.as_str().as_bytes());
        head.extend_from_slice(b"://");
        head.extend_from_slice(authority.as_str().as_bytes());
        head.extend_from_slice(target.as_bytes());
    } else {
        head.extend_from_slice(target.as_bytes());
    }
    // HAProxy logs HTTP/2 requests as `HTTP/2.0` and `req.ver` says 2.0; the request goes
    // to HTTP/1 servers as HTTP/1.1 all the same.
    head.extend_from_slice(b" HTTP/2.0\r\n");
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(a) = parts.uri.authority() {
            head.extend_from_slice(b"host: ");
            head.extend_from_slice(a.as_str().as_bytes());
            head.extend_from_slice(b"\r\n");
        }
    }
    let mut has_length = false;
    let mut cookies: Vec<&[u8]> = Vec::new();
    for (name, value) in &parts.headers {
        if hop_by_hop_h2(name.as_str()) {
            continue;
        }
        if name == http::header::COOKIE {
            cookies.push(value.as_bytes());
            continue;
        }
        has_length |= name == http::header::CONTENT_LENGTH;
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !cookies.is_empty() {
        // HTTP/2 may split cookies; HTTP/1 wants one header joined by "; " (RFC 9113 8.2.3).
        head.extend_from_slice(b"cookie: ");
        head.extend_from_slice(&cookies.join(&b"; "[..]));
        head.extend_from_slice(b"\r\n");
    }
    let has_body = !body.is_end_stream();
    let chunked = has_body && !has_length;
    if chunked {
        head.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let w = pipe.write_all(&head).await;
    crate::buffer::give_vec(head);
    w?;
    if has_body {
        write_h1_body(pipe, &mut body, chunked).await?;
    }
    // One request per stream: the HTTP/1 side sees the end of its "connection" once the
    // response is out.
    pipe.shutdown();
    Ok(())
}

/// Writes an HTTP/2 body into the pipe as HTTP/1: as is when its length is known, else
/// chunked with the trailers in the last chunk. Window credit is given back as data leaves.
pub(crate) async fn write_h1_body(
    pipe: &PipeEnd,
    body: &mut RecvStream,
    chunked: bool,
) -> std::io::Result<()> {
    while let Some(data) = body.data().await {
        let data = data.map_err(std::io::Error::other)?;
        let n = data.len();
        if chunked && n > 0 {
            pipe.write_all(format!("{n:x}\r\n").as_bytes()).await?;
            pipe.write_all(&data).await?;
            pipe.write_all(b"\r\n").await?;
        } else {
            pipe.write_all(&data).await?;
        }
        let _ = body.flow_control().release_capacity(n);
    }
    if chunked {
        let mut end = b"0\r\n".to_vec();
        if let Some(trailers) = body.trailers().await.map_err(std::io::Error::other)? {
            for (name, value) in &trailers {
                end.extend_from_slice(name.as_str().as_bytes());
                end.extend_from_slice(b": ");
                end.extend_from_slice(value.as_bytes());
                end.extend_from_slice(b"\r\n");
            }
        }
        end.extend_from_slice(b"\r\n");
        pipe.write_all(&end).await?;
    }
    Ok(())
}

/// Reads the HTTP/1 response from the pipe and sends it on the stream.
async fn recv_response(
    pipe: &PipeEnd,
    respond: SendResponse<Bytes>,
    method: Method,
    limits: &Limits,
) -> std::io::Result<()> {
    let mut buf = crate::buffer::take_vec();
    let r = recv_response_in(pipe, respond, method, limits, &mut buf).await;
    crate::buffer::give_vec(buf);
    r
}

async fn recv_response_in(
    pipe: &PipeEnd,
    mut respond: SendResponse<Bytes>,
    method: Method,
    limits: &Limits,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    let mut head = ResponseHead::new();
    // ---- the final response head: handed over whole by the HTTP/1 side, or as HTTP/1
    // text (local replies; interim 1xx answers, which are dropped)
    let (resp, body, data) = loop {
        if !buf.is_empty() {
            match parse_response(buf, limits, method, &mut head) {
                Ok(true) if (100..200).contains(&head.status) && head.status != 101 => {
                    buf.drain(..head.head_len);
                    continue;
                }
                Ok(true) => {
                    let Some(resp) = h2_response(buf, &head, None) else {
                        respond.send_reset(h2::Reason::INTERNAL_ERROR);
                        return Ok(());
                    };
                    buf.drain(..head.head_len);
                    break (resp, head.body, None);
                }
                Ok(false) => {}
                Err(_) => {
                    respond.send_reset(h2::Reason::PROTOCOL_ERROR);
                    return Ok(());
                }
            }
        }
        match std::future::poll_fn(|cx| pipe.poll_head_or_read(cx, buf, CHUNK)).await? {
            Incoming::Head(h) => break (h.response, h.body, h.data),
            Incoming::Bytes(0) => {
                // Closed without an answer (reject, silent-drop): refuse the stream.
                respond.send_reset(h2::Reason::REFUSED_STREAM);
                return Ok(());
            }
            Incoming::Bytes(_) => {}
        }
    };
    let end_now = body == BodyKind::Empty || body == BodyKind::ContentLength(0);
    let mut out = match respond.send_response(resp, end_now) {
        Ok(s) => s,
        Err(_) => return Ok(()),
    };
    if end_now {
        return Ok(());
    }
    if let Some(data) = data {
        // The whole body came with the head.
        return send(&mut out, data, true).await;
    }
    match body {
        BodyKind::ContentLength(mut left) => loop {
            let take = (left.min(buf.len() as u64)) as usize;
            if take > 0 {
                let last = take as u64 == left;
                send(&mut out, Bytes::copy_from_slice(&buf[..take]), last).await?;
                buf.drain(..take);
                left -= take as u64;
            }
            if left == 0 {
                return Ok(());
            }
            if pipe.read_append(buf, CHUNK).await? == 0 {
                out.send_reset(h2::Reason::INTERNAL_ERROR);
                return Ok(());
            }
        },
        BodyKind::UntilClose => loop {
            if !buf.is_empty() {
                send(&mut out, Bytes::copy_from_slice(buf), false).await?;
                buf.clear();
            }
            if pipe.read_append(buf, CHUNK).await? == 0 {
                return send(&mut out, Bytes::new(), true).await;
            }
        },
        BodyKind::Chunked => relay_chunked(pipe, &mut out, buf).await,
        BodyKind::Empty => Ok(()),
    }
}

/// The HTTP/2 form of a parsed HTTP/1 response head (`buf` holds its bytes): hop-by-hop
/// headers dropped, as are the framing headers of a 1xx or 204; values shared out of one
/// copy of the head rather than one allocation each. `reframed`: rules changed the
/// framing, so the head's own `content-length` no longer holds and this one goes instead.
/// `None` when a name or value is not valid in HTTP/2 (an obs-fold among them).
pub(crate) fn h2_response(
    buf: &[u8],
    head: &ResponseHead,
    reframed: Option<BodyKind>,
) -> Option<http::Response<()>> {
    if head.has_obs_fold() {
        return None;
    }
    let raw = Bytes::copy_from_slice(buf.get(..head.head_len)?);
    let bodyless = head.status < 200 || head.status == 204;
    let mut headers = http::HeaderMap::with_capacity(head.headers.len() + 1);
    for h in &head.headers {
        let name = h.name.of(buf);
        if hop_by_hop(name)
            || ((bodyless || reframed.is_some()) && name.eq_ignore_ascii_case(b"content-length"))
        {
            continue;
        }
        let name = match standard_name(name) {
            Some(n) => n,
            None => http::HeaderName::from_bytes(name).ok()?,
        };
        // The parser trimmed the value already.
        let value = h.value.of(buf);
        let start = (value.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
        let value = raw.get(start..start + value.len())?;
        let value = http::HeaderValue::from_maybe_shared(raw.slice_ref(value)).ok()?;
        headers.append(name, value);
    }
    if let Some(BodyKind::ContentLength(n)) = reframed {
        headers.append(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
    }
    let mut resp = http::Response::new(());
    *resp.status_mut() = http::StatusCode::from_u16(head.status).ok()?;
    *resp.headers_mut() = headers;
    Some(resp)
}

/// The usual response header names, found with a length test and one compare instead of
/// `HeaderName::from_bytes`, which lower-cases the name into a scratch buffer and then
/// matches it against every standard name.
fn standard_name(name: &[u8]) -> Option<http::HeaderName> {
    use http::header as h;
    let is = |lit: &[u8]| sluice_http::eq_lower(name, lit);
    Some(match name.len() {
        4 if is(b"date") => h::DATE,
        4 if is(b"etag") => h::ETAG,
        4 if is(b"vary") => h::VARY,
        6 if is(b"server") => h::SERVER,
        7 if is(b"expires") => h::EXPIRES,
        8 if is(b"location") => h::LOCATION,
        10 if is(b"set-cookie") => h::SET_COOKIE,
        12 if is(b"content-type") => h::CONTENT_TYPE,
        13 if is(b"cache-control") => h::CACHE_CONTROL,
        13 if is(b"last-modified") => h::LAST_MODIFIED,
        13 if is(b"accept-ranges") => h::ACCEPT_RANGES,
        14 if is(b"content-length") => h::CONTENT_LENGTH,
        16 if is(b"content-encoding") => h::CONTENT_ENCODING,
        _ => return None,
    })
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

/// Sends data within the stream's flow-control window.
pub(crate) async fn send(
    out: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
) -> std::io::Result<()> {
    let to_io = |e: h2::Error| std::io::Error::other(e);
    if data.is_empty() || (end && data.len() <= SEND_UNRESERVED) {
        // A last small piece is queued as is: the codec sends it as the window allows, and
        // what it holds meanwhile stays bounded (one such piece per stream). Most
        // responses end this way, without a reserve-and-wait round.
        return out.send_data(data, end).map_err(to_io);
    }
    while !data.is_empty() {
        out.reserve_capacity(data.len());
        let granted = match std::future::poll_fn(|cx| out.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(to_io(e)),
            None => return Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if granted == 0 {
            continue;
        }
        let piece = data.split_to(granted.min(data.len()));
        out.send_data(piece, end && data.is_empty())
            .map_err(to_io)?;
    }
    Ok(())
}

/// Decodes a chunked HTTP/1 body into DATA frames, and its trailers into a trailing
/// HEADERS frame (gRPC status travels there).
pub(crate) async fn relay_chunked(
    pipe: &PipeEnd,
    out: &mut SendStream<Bytes>,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunked body");
    loop {
        // a size line
        let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
            if buf.len() > 1024 {
                return Err(bad());
            }
            if fill(pipe, buf).await? == 0 {
                return Err(bad());
            }
            continue;
        };
        let line = &buf[..eol];
        let digits = line.split(|&b| b == b';').next().unwrap_or(b"");
        let size = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(bad)?;
        buf.drain(..eol + 2);
        if size == 0 {
            // trailers until an empty line
            let mut trailers = http::HeaderMap::new();
            loop {
                let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
                    if buf.len() > 16 * 1024 || fill(pipe, buf).await? == 0 {
                        return Err(bad());
                    }
                    continue;
                };
                if eol == 0 {
                    break;
                }
                if let Some(colon) = buf[..eol].iter().position(|&b| b == b':') {
                    let name = http::HeaderName::from_bytes(trim(&buf[..colon]));
                    let value = http::HeaderValue::from_bytes(trim(&buf[colon + 1..eol]));
                    if let (Ok(n), Ok(v)) = (name, value) {
                        trailers.append(n, v);
                    }
                }
                buf.drain(..eol + 2);
            }
            return if trailers.is_empty() {
                send(out, Bytes::new(), true).await
            } else {
                out.send_trailers(trailers).map_err(std::io::Error::other)
            };
        }
        let mut left = size;
        while left > 0 {
            if buf.is_empty() && fill(pipe, buf).await? == 0 {
                return Err(bad());
            }
            let take = left.min(buf.len());
            send(out, Bytes::copy_from_slice(&buf[..take]), false).await?;
            buf.drain(..take);
            left -= take;
        }
        // the CRLF after the chunk data
        while buf.len() < 2 {
            if fill(pipe, buf).await? == 0 {
                return Err(bad());
            }
        }
        if &buf[..2] != b"\r\n" {
            return Err(bad());
        }
        buf.drain(..2);
    }
}

/// Appends the pipe's next bytes to `buf`; 0 at end of stream.
pub(crate) async fn fill(pipe: &PipeEnd, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    pipe.read_append(buf, CHUNK).await
}

#[cfg(test)]
mod tests {
    use super::standard_name;

    /// Each shortcut name is the one `HeaderName::from_bytes` makes, whatever the case;
    /// near misses fall through to it.
    #[test]
    fn standard_names_match_the_http_crate() {
        let names = [
            "date",
            "etag",
            "vary",
            "server",
            "expires",
            "location",
            "set-cookie",
            "content-type",
            "cache-control",
            "last-modified",
            "accept-ranges",
            "content-length",
            "content-encoding",
        ];
        for n in names {
            let want = http::HeaderName::from_bytes(n.as_bytes()).unwrap();
            assert_eq!(standard_name(n.as_bytes()), Some(want.clone()), "{n}");
            let upper = n.to_ascii_uppercase();
            assert_eq!(standard_name(upper.as_bytes()), Some(want), "{upper}");
        }
        for n in [
            "dat",
            "dates",
            "x-server",
            "content-lengtx",
            "set_cookie",
            "",
        ] {
            assert_eq!(standard_name(n.as_bytes()), None, "{n}");
        }
    }
}
