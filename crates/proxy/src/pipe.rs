//! An in-memory, bounded, two-way byte pipe with readiness: how an HTTP/2 stream hands its
//! request to the HTTP/1 stream machinery (rules, balancing, server connections, logs) as if
//! it were a client connection, and reads the response back.
//!
//! A final response head may also travel whole ([`PipeEnd::put_head`]), ready to go out as
//! an HTTP/2 HEADERS frame: writing it as HTTP/1 text only to parse it again on the other
//! side cost an HTTP/2 request more than a tenth of its instructions.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use sluice_http::BodyKind;
use tokio::io::{Interest, Ready};

/// Bytes buffered per direction before the writer must wait.
const CAPACITY: usize = 64 * 1024;

/// Bytes in flight one way: `buf[start..]`, read from the front, appended at the back. Reads
/// and writes are slice copies (a request or response head usually goes in one write and
/// out in one read, after which the buffer is empty and starts over).
#[derive(Default)]
struct ByteQueue {
    buf: Vec<u8>,
    start: usize,
}

impl ByteQueue {
    fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    fn front(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or(&[])
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() {
            self.clear();
        }
    }

    fn push(&mut self, data: &[u8]) {
        // Reclaim the consumed front before it outgrows what is waiting.
        if self.start > 0 && self.start >= self.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }
}

#[derive(Default)]
struct Chan {
    data: ByteQueue,
    /// The writing end shut down or went away: a drained channel reads as end of stream.
    writer_closed: bool,
    /// The reading end went away: writes fail.
    reader_gone: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
    /// A response head handed over whole, and how many of the buffered bytes came before it
    /// (those are read first; the bytes after it are its body).
    head: Option<Head>,
    before_head: usize,
}

/// A final response head in the form an HTTP/2 stream sends it (its HPACK block), and how
/// the body bytes that follow it in the pipe are framed (as HTTP/1: a length, chunks, or
/// until the end).
pub struct Head {
    pub block: Vec<u8>,
    pub body: BodyKind,
    /// The whole body of a `ContentLength` response, when it came with the head: nothing
    /// follows in the pipe then.
    pub data: Option<Vec<u8>>,
}

/// What [`PipeEnd::poll_head_or_read`] found.
pub enum Incoming {
    Head(Head),
    /// Bytes appended; 0 at end of stream.
    Bytes(usize),
}

fn lock(c: &Mutex<Chan>) -> MutexGuard<'_, Chan> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers `cx`'s waker in `slot`, without a clone when the same task is there already
/// (the common case: a stream polls the same end again and again).
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

fn wake(w: &mut Option<Waker>) {
    if let Some(w) = w.take() {
        w.wake();
    }
}

/// One end of a pipe.
pub struct PipeEnd {
    rx: Arc<Mutex<Chan>>,
    tx: Arc<Mutex<Chan>>,
    /// The address the real client connected to (`dst` for rules).
    pub local: Option<SocketAddr>,
}

/// A connected pair of ends.
pub fn pair(local: Option<SocketAddr>) -> (PipeEnd, PipeEnd) {
    let a = Arc::new(Mutex::new(Chan::default()));
    let b = Arc::new(Mutex::new(Chan::default()));
    (
        PipeEnd {
            rx: a.clone(),
            tx: b.clone(),
            local,
        },
        PipeEnd {
            rx: b,
            tx: a,
            local,
        },
    )
}

impl PipeEnd {
    /// Readiness for `interest`, registering the waker when nothing is ready.
    pub fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut r = Ready::EMPTY;
        if interest.is_readable() {
            let mut rx = lock(&self.rx);
            if !rx.data.is_empty() || rx.head.is_some() {
                r |= Ready::READABLE;
            } else if rx.writer_closed {
                r |= Ready::READABLE | Ready::READ_CLOSED;
            } else {
                register(&mut rx.read_waker, cx);
            }
        }
        if interest.is_writable() {
            let mut tx = lock(&self.tx);
            if tx.data.len() < CAPACITY || tx.reader_gone {
                r |= Ready::WRITABLE;
            } else {
                register(&mut tx.write_waker, cx);
            }
        }
        if r.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(r))
        }
    }

    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        std::future::poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// Hands up to `max` buffered bytes to `take` and consumes them; 0 at end of stream,
    /// `WouldBlock` when empty.
    fn read_with(&self, max: usize, take: impl FnOnce(&[u8])) -> io::Result<usize> {
        let mut rx = lock(&self.rx);
        if rx.data.is_empty() {
            return if rx.writer_closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = max.min(rx.data.len());
        take(&rx.data.front()[..n]);
        rx.data.consume(n);
        wake(&mut rx.write_waker);
        Ok(n)
    }

    /// Reads what is buffered; 0 at end of stream, `WouldBlock` when empty.
    pub fn try_read(&self, out: &mut [u8]) -> io::Result<usize> {
        self.read_with(out.len(), |b| out[..b.len()].copy_from_slice(b))
    }

    /// Reads what is buffered into the free space of a `ReadBuf` (no zeroing of it first);
    /// 0 at end of stream, `WouldBlock` when empty.
    pub fn try_read_buf(&self, out: &mut tokio::io::ReadBuf<'_>) -> io::Result<usize> {
        let max = out.remaining();
        self.read_with(max, |b| out.put_slice(b))
    }

    /// Appends up to `max` buffered bytes to `out` (no intermediate buffer to zero); 0 at end
    /// of stream, `WouldBlock` when empty.
    pub fn try_read_append(&self, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        self.read_with(max, |b| out.extend_from_slice(b))
    }

    /// Appends what comes next (up to `max` bytes) to `out`, waiting for bytes; 0 at end of
    /// stream.
    pub async fn read_append(&self, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        loop {
            self.ready(Interest::READABLE).await?;
            match self.try_read_append(out, max) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return r,
            }
        }
    }

    /// Buffers what fits; `WouldBlock` when full, `BrokenPipe` when the reader is gone.
    pub fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        let mut tx = lock(&self.tx);
        if tx.reader_gone {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let room = CAPACITY.saturating_sub(tx.data.len());
        if room == 0 && !data.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = room.min(data.len());
        tx.data.push(&data[..n]);
        wake(&mut tx.read_waker);
        Ok(n)
    }

    /// The other end shut down and every byte it wrote has been read.
    pub fn is_drained_eof(&self) -> bool {
        let rx = lock(&self.rx);
        rx.writer_closed && rx.data.is_empty() && rx.head.is_none()
    }

    /// Hands a final response head to the other end whole; the body bytes written after it
    /// follow it. `BrokenPipe` when the reader is gone.
    pub fn put_head(&self, head: Head) -> io::Result<()> {
        let mut tx = lock(&self.tx);
        if tx.reader_gone {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        tx.before_head = tx.data.len();
        tx.head = Some(head);
        wake(&mut tx.read_waker);
        Ok(())
    }

    /// Waits for a whole head or bytes, in the order they were written: bytes that came
    /// before a head are appended to `out` (up to `max`) first.
    pub fn poll_head_or_read(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Poll<io::Result<Incoming>> {
        let mut rx = lock(&self.rx);
        let limit = match rx.head {
            Some(_) if rx.before_head == 0 => {
                return match rx.head.take() {
                    Some(h) => Poll::Ready(Ok(Incoming::Head(h))),
                    None => Poll::Ready(Err(io::ErrorKind::InvalidData.into())),
                };
            }
            Some(_) => rx.before_head,
            None => usize::MAX,
        };
        if rx.data.is_empty() {
            if rx.writer_closed {
                return Poll::Ready(Ok(Incoming::Bytes(0)));
            }
            register(&mut rx.read_waker, cx);
            return Poll::Pending;
        }
        let n = max.min(limit).min(rx.data.len());
        out.extend_from_slice(&rx.data.front()[..n]);
        rx.data.consume(n);
        if rx.head.is_some() {
            rx.before_head -= n;
        }
        wake(&mut rx.write_waker);
        Poll::Ready(Ok(Incoming::Bytes(n)))
    }

    /// Reads, waiting for bytes; 0 at end of stream.
    pub async fn read(&self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            self.ready(Interest::READABLE).await?;
            match self.try_read(out) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return r,
            }
        }
    }

    /// Writes everything, waiting for room.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            self.ready(Interest::WRITABLE).await?;
            match self.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// No more bytes from this end: the other reads end of stream once drained.
    pub fn shutdown(&self) {
        let mut tx = lock(&self.tx);
        tx.writer_closed = true;
        wake(&mut tx.read_waker);
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.shutdown();
        let mut rx = lock(&self.rx);
        rx.reader_gone = true;
        rx.data.clear();
        wake(&mut rx.write_waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn bytes_flow_both_ways_and_close_reads_as_eof() {
        let (a, b) = pair(None);
        a.write_all(b"request").await.unwrap();
        let mut buf = [0u8; 16];
        let n = b.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"request");
        b.write_all(b"response").await.unwrap();
        b.shutdown();
        let n = a.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"response");
        assert_eq!(a.read(&mut buf).await.unwrap(), 0);
        // nothing buffered and not closed: would block
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn partial_reads_keep_order_and_the_front_is_reclaimed() {
        let (a, b) = pair(None);
        let mut sent = Vec::new();
        let mut got = Vec::new();
        let mut buf = [0u8; 7];
        // Interleaved writes and short reads: what comes out is what went in, in order,
        // and the consumed front does not pile up.
        for round in 0..200u32 {
            let chunk: Vec<u8> = (0..13).map(|i| (round * 13 + i) as u8).collect();
            assert_eq!(a.try_write(&chunk).unwrap(), chunk.len());
            sent.extend_from_slice(&chunk);
            let n = b.try_read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let chan = lock(&a.tx);
            assert!(
                chan.data.buf.len() <= 2 * chan.data.len() + 13,
                "front reclaimed"
            );
        }
        let mut rest = Vec::new();
        assert!(b.try_read_append(&mut rest, usize::MAX).unwrap() > 0);
        got.extend_from_slice(&rest);
        assert_eq!(got, sent);
        assert!(lock(&a.tx).data.buf.is_empty(), "drained: starts over");
    }

    #[test]
    fn a_read_buf_is_filled_without_being_zeroed_first() {
        let (a, b) = pair(None);
        a.try_write(b"abcdef").unwrap();
        let mut space = [std::mem::MaybeUninit::<u8>::uninit(); 4];
        let mut rb = tokio::io::ReadBuf::uninit(&mut space);
        assert_eq!(b.try_read_buf(&mut rb).unwrap(), 4);
        assert_eq!(rb.filled(), b"abcd");
        assert_eq!(
            rb.initialized().len(),
            4,
            "only what was copied is initialised"
        );
        let mut rest = Vec::new();
        b.try_read_append(&mut rest, 64).unwrap();
        assert_eq!(rest, b"ef");
    }

    async fn next(end: &PipeEnd, out: &mut Vec<u8>, max: usize) -> Incoming {
        std::future::poll_fn(|cx| end.poll_head_or_read(cx, out, max))
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_whole_head_comes_after_the_bytes_written_before_it() {
        let (a, b) = pair(None);
        b.write_all(b"interim").await.unwrap();
        b.put_head(Head {
            block: vec![0x88],
            body: BodyKind::ContentLength(4),
            data: None,
        })
        .unwrap();
        b.write_all(b"body").await.unwrap();
        let mut out = Vec::new();
        // The bytes before the head, in short reads, never running into the body...
        assert!(matches!(next(&a, &mut out, 4).await, Incoming::Bytes(4)));
        assert!(matches!(next(&a, &mut out, 64).await, Incoming::Bytes(3)));
        assert_eq!(out, b"interim");
        // ...then the head, then the body.
        match next(&a, &mut out, 64).await {
            Incoming::Head(h) => assert_eq!(h.body, BodyKind::ContentLength(4)),
            Incoming::Bytes(n) => panic!("{n} bytes before the head"),
        }
        out.clear();
        b.shutdown();
        assert!(matches!(next(&a, &mut out, 64).await, Incoming::Bytes(4)));
        assert_eq!(out, b"body");
        assert!(matches!(next(&a, &mut out, 64).await, Incoming::Bytes(0)));
        drop(a);
        assert!(b
            .put_head(Head {
                block: vec![0x88],
                body: BodyKind::Empty,
                data: None,
            })
            .is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_pipe_waits_and_a_gone_reader_breaks_it() {
        let (a, b) = pair(None);
        let big = vec![7u8; CAPACITY];
        a.write_all(&big).await.unwrap();
        assert_eq!(
            a.try_write(b"x").unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let mut buf = vec![0u8; 1024];
        assert_eq!(b.try_read(&mut buf).unwrap(), 1024);
        assert_eq!(a.try_write(b"x").unwrap(), 1);
        drop(b);
        assert_eq!(
            a.try_write(b"y").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
