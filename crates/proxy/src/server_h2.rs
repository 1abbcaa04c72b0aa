//! HTTP/2 towards servers (manual 5.2 `proto h2`, `alpn h2`): one multiplexed connection per
//! server and worker thread carries every request. The HTTP/1 stream writes its request into
//! a pipe as it would to a server socket; a task here turns it into an HTTP/2 stream and the
//! answer back into HTTP/1.1 (chunked, trailers kept), so gRPC works end to end.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;

use bytes::Bytes;
use h2::client::SendRequest;
use h2::{RecvStream, SendStream};
use sluice_http::{parse_request, BodyKind, Limits, RequestHead};

use crate::mux_h2::hop_by_hop;
use crate::pipe::{self, PipeEnd};
use crate::transport::Conn;
use crate::unchunk::{trailer_fields, Piece, SizeLine, Unchunk};

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

/// What does not go to an HTTP/2 server: the connection-specific headers, and `host`
/// (`:authority` says it).
fn is_hop_by_hop(name: &[u8]) -> bool {
    hop_by_hop(name) || name.eq_ignore_ascii_case(b"host")
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

// ---- HTTP/2 bodies over the `h2` crate's streams, to and from HTTP/1 bytes in a pipe

/// Read size from the pipe when relaying a response body.
const CHUNK: usize = 16 * 1024;
/// The most a stream's last DATA may hold to be queued without reserving window first.
const SEND_UNRESERVED: usize = 16 * 1024;

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
            pipe.write_all(SizeLine::new(n).bytes()).await?;
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
    let mut chunks = Unchunk::Size;
    loop {
        match chunks.next(buf) {
            Piece::Data(n) => {
                send(out, Bytes::copy_from_slice(&buf[..n]), false).await?;
                chunks.took(n);
                buf.drain(..n);
            }
            Piece::Skip(n) => {
                buf.drain(..n);
            }
            Piece::End { fields, .. } => {
                let mut trailers = http::HeaderMap::new();
                for (name, value) in trailer_fields(&buf[..fields]) {
                    let name = http::HeaderName::from_bytes(name);
                    let value = http::HeaderValue::from_bytes(value);
                    if let (Ok(n), Ok(v)) = (name, value) {
                        trailers.append(n, v);
                    }
                }
                return if trailers.is_empty() {
                    send(out, Bytes::new(), true).await
                } else {
                    out.send_trailers(trailers).map_err(std::io::Error::other)
                };
            }
            Piece::NeedBytes => {
                if fill(pipe, buf).await? == 0 {
                    return Err(bad());
                }
            }
            Piece::Bad => return Err(bad()),
        }
    }
}

/// Appends the pipe's next bytes to `buf`; 0 at end of stream.
pub(crate) async fn fill(pipe: &PipeEnd, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    pipe.read_append(buf, CHUNK).await
}
