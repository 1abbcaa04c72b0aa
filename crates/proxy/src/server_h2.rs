//! HTTP/2 towards servers (manual 5.2 `proto h2`, `alpn h2`): one multiplexed connection per
//! server and worker thread carries every request. The HTTP/1 stream writes its request into
//! a pipe as it would to a server socket; a task here turns it into an HTTP/2 stream and the
//! answer back into HTTP/1.1 (chunked, trailers kept), so gRPC works end to end.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;

use bytes::Bytes;
use h2::client::SendRequest;
use sluice_http::{parse_request, BodyKind, Limits, RequestHead};

use crate::pipe::{self, PipeEnd};
use crate::stream_h2::{fill, relay_chunked, send, write_h1_body};
use crate::transport::Conn;

/// HAProxy's `tune.h2.initial-window-size`.
const INITIAL_WINDOW: u32 = 65_535;

thread_local! {
    /// Live HTTP/2 connections of this worker thread, by (backend, server).
    static SESSIONS: RefCell<HashMap<(usize, usize), SendRequest<Bytes>>> =
        RefCell::new(HashMap::new());
}

/// The thread's HTTP/2 connection to a server, if one is open.
pub fn session(backend: usize, server: usize) -> Option<SendRequest<Bytes>> {
    SESSIONS.with(|s| s.borrow().get(&(backend, server)).cloned())
}

/// Drops the thread's HTTP/2 connection to a server (it went down).
pub fn forget(backend: usize, server: usize) {
    let _ = SESSIONS.try_with(|s| s.borrow_mut().remove(&(backend, server)));
}

/// Starts HTTP/2 on a fresh server connection and keeps it for the thread's later requests.
pub async fn open(backend: usize, server: usize, conn: Conn) -> io::Result<SendRequest<Bytes>> {
    let (send, connection) = h2::client::Builder::new()
        .initial_window_size(INITIAL_WINDOW)
        .handshake::<_, Bytes>(conn)
        .await
        .map_err(io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let _ = SESSIONS.try_with(|s| s.borrow_mut().insert((backend, server), send.clone()));
    Ok(send)
}

/// A "server connection" for one request: the HTTP/1 stream writes into it, and a task
/// carries the request over `send` and writes the answer back.
pub fn stream(send: SendRequest<Bytes>, max_head: usize, max_headers: usize) -> Conn {
    let (ours, theirs) = pipe::pair(None);
    tokio::spawn(async move {
        let limits = Limits {
            max_head,
            max_headers,
        };
        let _ = exchange(send, &ours, &limits).await;
        ours.shutdown();
    });
    Conn::Pipe(theirs, None)
}

fn is_hop_by_hop(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn exchange(send: SendRequest<Bytes>, pipe: &PipeEnd, limits: &Limits) -> io::Result<()> {
    // ---- the request head, as the HTTP/1 stream wrote it
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut head = RequestHead::new();
    loop {
        match parse_request(&buf, limits, &mut head) {
            Ok(true) => break,
            Ok(false) => {}
            Err(_) => return Err(io::ErrorKind::InvalidData.into()),
        }
        if fill(pipe, &mut buf).await? == 0 {
            return Ok(());
        }
    }
    let method = head.method_span.of(&buf);
    let target = head.uri.of(&buf);
    let authority = head.header(&buf, "host").unwrap_or(b"");
    let uri = if target.starts_with(b"/") {
        let mut u = Vec::with_capacity(authority.len() + target.len() + 8);
        u.extend_from_slice(b"http://");
        u.extend_from_slice(if authority.is_empty() {
            b"localhost"
        } else {
            authority
        });
        u.extend_from_slice(target);
        u
    } else {
        target.to_vec()
    };
    let mut req = http::Request::builder()
        .method(http::Method::from_bytes(method).map_err(io::Error::other)?)
        .uri(http::Uri::try_from(uri).map_err(io::Error::other)?)
        .version(http::Version::HTTP_2);
    for h in &head.headers {
        let name = h.name.of(&buf);
        if is_hop_by_hop(name) {
            continue;
        }
        let value = h.value.of(&buf);
        // `te` may only say `trailers` in HTTP/2 (gRPC sends exactly that).
        if name.eq_ignore_ascii_case(b"te") && !value.eq_ignore_ascii_case(b"trailers") {
            continue;
        }
        req = req.header(name, value);
    }
    let req = req.body(()).map_err(io::Error::other)?;
    let body = head.body;
    let no_body = matches!(body, BodyKind::Empty | BodyKind::ContentLength(0));
    let mut send = send.ready().await.map_err(io::Error::other)?;
    let (response, mut upload) = send.send_request(req, no_body).map_err(io::Error::other)?;
    buf.drain(..head.head_len);
    // ---- the body goes up while the answer comes down
    let up = async {
        match body {
            BodyKind::ContentLength(n) if n > 0 => {
                let mut left = n;
                let mut pending = std::mem::take(&mut buf);
                loop {
                    let take = (left.min(pending.len() as u64)) as usize;
                    if take > 0 {
                        let last = take as u64 == left;
                        send_data(&mut upload, Bytes::copy_from_slice(&pending[..take]), last)
                            .await?;
                        pending.drain(..take);
                        left -= take as u64;
                    }
                    if left == 0 {
                        return Ok(());
                    }
                    if fill(pipe, &mut pending).await? == 0 {
                        upload.send_reset(h2::Reason::CANCEL);
                        return Ok(());
                    }
                }
            }
            BodyKind::Chunked => {
                let mut pending = std::mem::take(&mut buf);
                relay_chunked(pipe, &mut upload, &mut pending).await
            }
            _ => Ok(()),
        }
    };
    let down = async {
        let resp = response.await.map_err(io::Error::other)?;
        write_response(pipe, resp).await
    };
    let (u, d) = tokio::join!(up, down);
    d.and(u)
}

async fn send_data(out: &mut h2::SendStream<Bytes>, data: Bytes, end: bool) -> io::Result<()> {
    send(out, data, end).await
}

/// Writes an HTTP/2 answer into the pipe as HTTP/1.1: chunked unless its length is known,
/// trailers in the last chunk.
async fn write_response(pipe: &PipeEnd, resp: http::Response<h2::RecvStream>) -> io::Result<()> {
    let (parts, mut body) = resp.into_parts();
    let mut out = crate::buffer::take_vec();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(parts.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(
        parts
            .status
            .canonical_reason()
            .unwrap_or("Unknown")
            .as_bytes(),
    );
    out.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let ends_now = body.is_end_stream();
    let sized = parts.headers.contains_key(http::header::CONTENT_LENGTH);
    let chunked = !ends_now && !sized;
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    } else if ends_now
        && !sized
        && parts.status.as_u16() >= 200
        && parts.status.as_u16() != 204
        && parts.status.as_u16() != 304
    {
        out.extend_from_slice(b"content-length: 0\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let w = pipe.write_all(&out).await;
    crate::buffer::give_vec(out);
    w?;
    if ends_now {
        return Ok(());
    }
    write_h1_body(pipe, &mut body, chunked).await
}
