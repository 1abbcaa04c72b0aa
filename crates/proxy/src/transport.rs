//! A connection as the streams see it: plain TCP, or TLS over TCP (a `bind ... ssl` client or
//! a `server ... ssl` connection). Both are driven the same readiness-based way: wait with
//! [`Conn::ready`], then read or write without blocking. TLS records are handled inside, so the
//! HTTP stream and the relay never know which one they hold.
//!
//! TLS data written by [`Conn::try_write`] may stay queued inside rustls when the socket is
//! full; every later [`Conn::ready`] flushes it first, and [`Conn::write_all`] and
//! [`Conn::shutdown`] flush it completely, so nothing queued is left behind by a caller that
//! goes on to wait for the peer.

use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use sluice_tls::rustls;
use tokio::io::{AsyncWriteExt, Interest, Ready};
use tokio::net::TcpStream;

use crate::buffer::Buf;
use crate::pipe::PipeEnd;

/// A client or server connection.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsConn>),
    /// One HTTP/2 stream, seen by the HTTP/1 stream as a connection (see `mux_h2`), with
    /// the TLS facts of the real connection.
    Pipe(PipeEnd, Option<Box<sluice_tls::ConnInfo>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conn::Plain(s) => f.debug_tuple("Plain").field(s).finish(),
            Conn::Tls(t) => f.debug_tuple("Tls").field(&t.tcp).finish(),
            Conn::Pipe(..) => f.write_str("Pipe"),
        }
    }
}

/// TLS over a TCP socket, handshake done.
pub struct TlsConn {
    tcp: TcpStream,
    tls: rustls::Connection,
    /// The socket returned end of stream.
    tcp_eof: bool,
    /// Decrypted bytes may be waiting in rustls (cleared when a read finds none).
    plain_ready: bool,
    /// `close_notify` was queued (by an `AsyncWrite` shutdown).
    close_sent: bool,
    /// Facts for the `ssl_fc*`/`ssl_c_*` fetches (client side only), until taken.
    info: Option<Box<sluice_tls::ConnInfo>>,
}

/// `io::Read`/`io::Write` over a tokio socket without waiting (EAGAIN is `WouldBlock`).
struct Sock<'a>(&'a TcpStream);

impl Read for Sock<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Sock<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn tls_err(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl TlsConn {
    /// Writes queued TLS records until done or the socket is full.
    fn flush_nb(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Sock(&self.tcp)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes every queued TLS record, waiting for the socket as needed.
    async fn flush(&mut self) -> io::Result<()> {
        loop {
            self.flush_nb()?;
            if !self.tls.wants_write() {
                return Ok(());
            }
            self.tcp.writable().await?;
        }
    }

    /// Reads what the socket has into rustls and decrypts it. `WouldBlock` when the socket
    /// had nothing; a protocol error sends the alert rustls queued before failing.
    fn pull_nb(&mut self) -> io::Result<()> {
        match self.tls.read_tls(&mut Sock(&self.tcp)) {
            Ok(0) => self.tcp_eof = true,
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        match self.tls.process_new_packets() {
            Ok(state) => {
                if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() {
                    self.plain_ready = true;
                }
            }
            Err(e) => {
                let _ = self.flush_nb();
                return Err(tls_err(e));
            }
        }
        if self.tcp_eof {
            self.plain_ready = true;
        }
        // Records to answer (alerts, key updates) go out now, best effort.
        let _ = self.flush_nb();
        Ok(())
    }

    /// Runs `attempt` on the decrypted bytes, pulling more from the socket while there are
    /// none; 0 at end of stream, `WouldBlock` when the socket has nothing either.
    fn read_plain(
        &mut self,
        mut attempt: impl FnMut(&mut rustls::Reader<'_>) -> io::Result<usize>,
    ) -> io::Result<usize> {
        loop {
            match attempt(&mut self.tls.reader()) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.tcp_eof {
                        // Closed without close_notify: an end of stream all the same.
                        return Ok(0);
                    }
                    self.plain_ready = false;
                    self.pull_nb()?;
                }
                // A truncated stream (TCP closed without close_notify) ends like a close.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads decrypted bytes into `out`; 0 at end of stream, `WouldBlock` when none.
    fn try_read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.read_plain(|r| r.read(out))
    }

    /// [`Self::try_read`] into the free space of a `ReadBuf`, copied from rustls' own buffer:
    /// no zeroing of that space first. The HTTP/2 codec hands a fresh, uninitialised
    /// `ReadBuf` of several KiB to every read, and zeroing it each time cost more
    /// instructions per HTTP/2 request than all of TLS.
    fn try_read_buf(&mut self, out: &mut tokio::io::ReadBuf<'_>) -> io::Result<usize> {
        self.read_plain(|r| {
            let chunk = r.fill_buf()?;
            let n = chunk.len().min(out.remaining());
            out.put_slice(chunk.get(..n).unwrap_or(&[]));
            r.consume(n);
            Ok(n)
        })
    }

    fn try_read_into(&mut self, buf: &mut Buf) -> io::Result<usize> {
        match self.try_read(buf.spare()) {
            Ok(n) => {
                buf.filled(n);
                Ok(n)
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::WouldBlock {
                    // Never wait holding an empty buffer.
                    buf.release_if_empty();
                }
                Err(e)
            }
        }
    }

    fn try_write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.flush_nb()?;
        if self.tls.wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.tls.writer().write(data)?;
        self.flush_nb()?;
        Ok(n)
    }

    /// Decrypted bytes to read, or room for plaintext to write, as `interest` asks:
    /// queued records go out first, and bytes from the socket are decrypted as they come.
    fn poll_ready(&mut self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        loop {
            self.flush_nb()?;
            let mut r = Ready::EMPTY;
            if interest.is_readable() && self.plain_ready {
                r |= Ready::READABLE;
            }
            if interest.is_writable() && !self.tls.wants_write() {
                r |= Ready::WRITABLE;
            }
            if !r.is_empty() {
                return Poll::Ready(Ok(r));
            }
            let mut progress = false;
            if interest.is_writable() || self.tls.wants_write() {
                if let Poll::Ready(res) = self.tcp.poll_write_ready(cx) {
                    res?;
                    progress = true;
                }
            }
            if interest.is_readable() {
                if let Poll::Ready(res) = self.tcp.poll_read_ready(cx) {
                    res?;
                    match self.pull_nb() {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                    progress = true;
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }
}

impl Conn {
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Conn::Plain(s) => s.local_addr(),
            Conn::Tls(t) => t.tcp.local_addr(),
            Conn::Pipe(p, _) => p.local.ok_or_else(|| io::ErrorKind::NotConnected.into()),
        }
    }

    /// TLS facts of a client connection that arrived over TLS, taken out so the stream can
    /// lend them to rules and logs while it drives the connection.
    pub fn take_ssl_info(&mut self) -> Option<Box<sluice_tls::ConnInfo>> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(t) => t.info.take(),
            Conn::Pipe(_, info) => info.take(),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::Tls(_))
    }

    /// Waits until the connection can be read (decrypted bytes, end of stream or an error)
    /// or written, as `interest` asks.
    pub async fn ready(&mut self, interest: Interest) -> io::Result<Ready> {
        std::future::poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// [`Conn::ready`] as a poll. A loop waiting on two connections and a timer polls them
    /// all from one `poll_fn` this way, with no readiness future per wait: each of those
    /// queues a waiter under the socket's lock and takes it out again when dropped.
    pub fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        match self {
            Conn::Plain(s) => {
                let mut r = Ready::EMPTY;
                if interest.is_readable() {
                    if let Poll::Ready(res) = s.poll_read_ready(cx) {
                        res?;
                        r |= Ready::READABLE;
                    }
                }
                if interest.is_writable() {
                    if let Poll::Ready(res) = s.poll_write_ready(cx) {
                        res?;
                        r |= Ready::WRITABLE;
                    }
                }
                if r.is_empty() {
                    Poll::Pending
                } else {
                    Poll::Ready(Ok(r))
                }
            }
            Conn::Tls(t) => t.poll_ready(cx, interest),
            Conn::Pipe(p, _) => p.poll_ready(cx, interest),
        }
    }

    /// Polls for something to read (bytes, end of stream or an error). Unlike
    /// [`Conn::ready`] it needs no future of its own, so an idle connection's task waiting
    /// on it stays small.
    pub fn poll_read_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        match self {
            Conn::Plain(s) => s.poll_read_ready(cx),
            Conn::Tls(t) => loop {
                if t.plain_ready {
                    return Poll::Ready(Ok(()));
                }
                // Queued records go out first; the wake-up for the rest comes with the
                // next readiness or the next write.
                let _ = t.flush_nb();
                std::task::ready!(t.tcp.poll_read_ready(cx))?;
                match t.pull_nb() {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
            Conn::Pipe(p, _) => p.poll_ready(cx, Interest::READABLE).map(|r| r.map(|_| ())),
        }
    }

    /// Reads what is there into `buf`'s free space; 0 at end of stream, `WouldBlock` when
    /// nothing is.
    pub fn try_read_into(&mut self, buf: &mut Buf) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => crate::net::read_into(s, buf),
            Conn::Tls(t) => t.try_read_into(buf),
            Conn::Pipe(p, _) => {
                let r = p.try_read(buf.spare());
                match r {
                    Ok(n) => buf.filled(n),
                    Err(ref e) if e.kind() == io::ErrorKind::WouldBlock => buf.release_if_empty(),
                    Err(_) => {}
                }
                r
            }
        }
    }

    /// Reads into `out`, waiting for bytes; 0 at end of stream.
    pub async fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            self.ready(Interest::READABLE).await?;
            let r = match self {
                Conn::Plain(s) => s.try_read(out),
                Conn::Tls(t) => t.try_read(out),
                Conn::Pipe(p, _) => p.try_read(out),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return r,
            }
        }
    }

    /// Writes what the connection takes now.
    pub fn try_write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.try_write(data),
            Conn::Tls(t) => t.try_write(data),
            Conn::Pipe(p, _) => p.try_write(data),
        }
    }

    /// Writes what the connection takes now, without waiting: the bytes of `data` taken,
    /// and whether everything is out (on TLS, every queued record too).
    pub fn write_now(&mut self, data: &[u8]) -> io::Result<(usize, bool)> {
        let mut done = 0;
        while done < data.len() {
            match self.try_write(&data[done..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((done, false)),
                Err(e) => return Err(e),
            }
        }
        let flushed = match self {
            Conn::Tls(t) => !t.tls.wants_write(),
            Conn::Plain(_) | Conn::Pipe(..) => true,
        };
        Ok((done, flushed))
    }

    /// Writes all of `data` (and, on TLS, every queued record).
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.write_all(data).await,
            Conn::Tls(t) => {
                let mut rest = data;
                while !rest.is_empty() {
                    std::future::poll_fn(|cx| t.poll_ready(cx, Interest::WRITABLE)).await?;
                    match t.try_write(rest) {
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                t.flush().await
            }
            Conn::Pipe(p, _) => p.write_all(data).await,
        }
    }

    /// Closes the sending side: TLS `close_notify` first, then the TCP half-close.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.shutdown().await,
            Conn::Tls(t) => {
                t.tls.send_close_notify();
                t.flush().await?;
                t.tcp.shutdown().await
            }
            Conn::Pipe(p, _) => {
                p.shutdown();
                Ok(())
            }
        }
    }

    /// Whether a read would return something right now (bytes, end of stream or an error),
    /// without consuming anything. A TLS connection only reports readable when decrypted
    /// bytes are there, so it needs no such check.
    pub fn has_bytes_or_eof(&self) -> bool {
        match self {
            Conn::Plain(s) => crate::net::has_bytes_or_eof(s),
            Conn::Tls(_) | Conn::Pipe(..) => true,
        }
    }

    /// An HTTP/2 stream's pipe whose request has been read whole and whose sender is done:
    /// no further request can come, so there is nothing to wait for.
    pub fn is_finished_stream(&self) -> bool {
        match self {
            Conn::Pipe(p, _) => p.is_drained_eof(),
            Conn::Plain(_) | Conn::Tls(_) => false,
        }
    }

    /// For a pooled idle server connection: whether it is still open and silent. A TLS
    /// session ticket that arrived meanwhile is absorbed; any data, close or error is not.
    pub fn idle_alive(&mut self) -> bool {
        match self {
            Conn::Plain(s) => {
                let mut probe = [0u8; 1];
                matches!(s.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            Conn::Tls(t) => loop {
                match t.pull_nb() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        let mut probe = [0u8; 1];
                        let pending = t.tls.reader().read(&mut probe);
                        return !t.tcp_eof
                            && matches!(pending, Err(e) if e.kind() == io::ErrorKind::WouldBlock);
                    }
                    Err(_) => return false,
                    Ok(()) if t.tcp_eof => return false,
                    Ok(()) => {}
                }
            },
            Conn::Pipe(..) => false,
        }
    }

    /// The ALPN protocol negotiated on a TLS connection.
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            Conn::Tls(t) => t.tls.alpn_protocol(),
            _ => None,
        }
    }
}

// AsyncRead/AsyncWrite for the HTTP/2 codec, which drives the connection itself.
impl tokio::io::AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Conn::Tls(t) => loop {
                let _ = t.flush_nb();
                match t.try_read_buf(buf) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::task::ready!(t.tcp.poll_read_ready(cx))?;
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
            Conn::Pipe(p, _) => loop {
                std::task::ready!(p.poll_ready(cx, Interest::READABLE))?;
                match p.try_read_buf(buf) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
        }
    }
}

impl tokio::io::AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        use std::task::Poll;
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_write(cx, data),
            Conn::Tls(t) => loop {
                t.flush_nb()?;
                if t.tls.wants_write() {
                    std::task::ready!(t.tcp.poll_write_ready(cx))?;
                    continue;
                }
                let n = t.tls.writer().write(data)?;
                t.flush_nb()?;
                return Poll::Ready(Ok(n));
            },
            Conn::Pipe(p, _) => loop {
                std::task::ready!(p.poll_ready(cx, Interest::WRITABLE))?;
                match p.try_write(data) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    r => return Poll::Ready(r),
                }
            },
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Conn::Tls(t) => loop {
                t.flush_nb()?;
                if !t.tls.wants_write() {
                    return Poll::Ready(Ok(()));
                }
                std::task::ready!(t.tcp.poll_write_ready(cx))?;
            },
            Conn::Pipe(..) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Conn::Tls(t) => {
                if !t.close_sent {
                    t.tls.send_close_notify();
                    t.close_sent = true;
                }
                loop {
                    t.flush_nb()?;
                    if !t.tls.wants_write() {
                        break;
                    }
                    std::task::ready!(t.tcp.poll_write_ready(cx))?;
                }
                std::pin::Pin::new(&mut t.tcp).poll_shutdown(cx)
            }
            Conn::Pipe(p, _) => {
                p.shutdown();
                Poll::Ready(Ok(()))
            }
        }
    }
}

/// Why a TLS handshake did not complete (for HAProxy's "SSL handshake failure" log).
#[derive(Debug)]
pub enum HandshakeError {
    /// The peer closed or reset before the end.
    Closed,
    /// `timeout client` (or `timeout connect` towards a server) ran out.
    Timeout,
    /// A TLS alert or a malformed message.
    Tls(String),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Closed => f.write_str("connection closed during SSL handshake"),
            HandshakeError::Timeout => f.write_str("timeout during SSL handshake"),
            HandshakeError::Tls(e) => write!(f, "SSL handshake failure ({e})"),
        }
    }
}

fn io_to_hs(e: io::Error) -> HandshakeError {
    match e.kind() {
        io::ErrorKind::InvalidData => HandshakeError::Tls(e.to_string()),
        _ => HandshakeError::Closed,
    }
}

/// Drives a handshake to its end. Records the peer sends right after it (session tickets,
/// early request bytes) stay inside rustls for the first read.
async fn complete_handshake(t: &mut TlsConn) -> Result<(), HandshakeError> {
    while t.tls.is_handshaking() {
        t.flush().await.map_err(io_to_hs)?;
        if !t.tls.is_handshaking() {
            break;
        }
        if t.tcp_eof {
            return Err(HandshakeError::Closed);
        }
        t.tcp.readable().await.map_err(io_to_hs)?;
        match t.pull_nb() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_to_hs(e)),
        }
    }
    t.flush().await.map_err(io_to_hs)?;
    t.plain_ready = true;
    Ok(())
}

async fn with_deadline<T>(
    at: Option<Instant>,
    f: impl std::future::Future<Output = Result<T, HandshakeError>>,
) -> Result<T, HandshakeError> {
    match at {
        Some(at) => tokio::time::timeout_at(at.into(), f)
            .await
            .unwrap_or(Err(HandshakeError::Timeout)),
        None => f.await,
    }
}

/// Accepts TLS on a client connection of a `bind ... ssl` line: reads the ClientHello, picks
/// the line's settings for its SNI (crt-list options, ALPN fallback), and completes the
/// handshake before `deadline`.
pub async fn accept(
    tcp: TcpStream,
    acceptor: &sluice_tls::BindAcceptor,
    deadline: Option<Instant>,
) -> Result<Conn, HandshakeError> {
    with_deadline(deadline, async move {
        let mut hello = rustls::server::Acceptor::default();
        let accepted = loop {
            tcp.readable().await.map_err(io_to_hs)?;
            match hello.read_tls(&mut Sock(&tcp)) {
                Ok(0) => return Err(HandshakeError::Closed),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(io_to_hs(e)),
            }
            match hello.accept() {
                Ok(None) => {}
                Ok(Some(a)) => break a,
                Err((e, mut alert)) => {
                    let _ = alert.write(&mut Sock(&tcp));
                    return Err(HandshakeError::Tls(e.to_string()));
                }
            }
        };
        let cfg = acceptor.choose(&accepted.client_hello());
        let conn = match accepted.into_connection(cfg) {
            Ok(c) => c,
            Err((e, mut alert)) => {
                let _ = alert.write(&mut Sock(&tcp));
                return Err(HandshakeError::Tls(e.to_string()));
            }
        };
        let mut t = TlsConn {
            tcp,
            tls: rustls::Connection::Server(conn),
            tcp_eof: false,
            plain_ready: false,
            close_sent: false,
            info: None,
        };
        complete_handshake(&mut t).await?;
        if let rustls::Connection::Server(s) = &t.tls {
            t.info = Some(Box::new(sluice_tls::conn_info(s)));
        }
        Ok(Conn::Tls(Box::new(t)))
    })
    .await
}

/// Opens TLS towards a server on a connected socket, before `deadline`.
pub async fn connect(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
    deadline: Option<Instant>,
) -> Result<Conn, HandshakeError> {
    with_deadline(deadline, async move {
        let conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| HandshakeError::Tls(e.to_string()))?;
        let mut t = TlsConn {
            tcp,
            tls: rustls::Connection::Client(conn),
            tcp_eof: false,
            plain_ready: false,
            close_sent: false,
            info: None,
        };
        complete_handshake(&mut t).await?;
        Ok(Conn::Tls(Box::new(t)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::Conn;
    use tokio::io::AsyncReadExt;

    /// `write_now` takes what the socket holds and says so; `write_all` then finishes
    /// from there once the peer reads, and the peer gets every byte in order.
    #[test]
    fn write_now_stops_at_a_full_socket_and_write_all_finishes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut peer, _) = l.accept().await.unwrap();
            let mut c = Conn::Plain(client);
            assert_eq!(c.write_now(b"small").unwrap(), (5, true));
            // Far more than loopback socket buffers hold while nobody reads.
            let big: Vec<u8> = (0..32u32 << 20).map(|i| (i % 251) as u8).collect();
            let (n, done) = c.write_now(&big).unwrap();
            assert!(!done && n < big.len(), "{n} of {}", big.len());
            let reader = tokio::spawn(async move {
                let mut got = Vec::new();
                peer.read_to_end(&mut got).await.unwrap();
                got
            });
            c.write_all(&big[n..]).await.unwrap();
            drop(c);
            let got = reader.await.unwrap();
            assert_eq!(&got[..5], b"small");
            assert!(got[5..] == big[..], "the bytes arrived whole and in order");
        });
    }
}
