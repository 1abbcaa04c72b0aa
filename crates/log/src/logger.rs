//! The log writer: callers hand finished lines to a bounded queue and return at once; one
//! background thread per [`Logger`] owns the sockets and stdout/stderr, adds each target's
//! syslog header and writes the lines out, the way HAProxy 2.6 frames them.
//!
//! Framing and truncation, as measured against HAProxy 2.6.12 (`len N` is a target's
//! `max_len`; "message" is the line built by `crate::format_*`):
//! - the message itself is cut to (largest `len` of the targets) - 1 bytes, HAProxy's
//!   `global.max_syslog_len` buffer minus its NUL;
//! - UDP and Unix datagram: header + message cut to `len`, then `\n`; one datagram per line;
//! - stdout / stderr: header + message cut to `len - 1`, then `\n`; one `write(2)` per line;
//! - TCP (HAProxy's implicit ring): header, message cut to `len`, `\n`; newline framing,
//!   not octet counting, for every format.

use std::collections::VecDeque;
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sluice_config::{LogDest, LogFormat, LogTarget};

use crate::fmt::{month_name, write_2digits, write_u64};
use crate::sys;

/// Lines waiting for the writer before new ones are dropped. At HAProxy's default 1 KiB
/// line cap this bounds the queue to about 8 MiB when a target stalls.
const DEFAULT_CAPACITY: usize = 8192;

/// HAProxy's default `len`.
const DEFAULT_MAX_LEN: usize = 1024;

/// How long the writer waits for a TCP log server before dropping lines for a while, and how
/// long it then waits before trying again: a dead collector must not stall the other targets.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const TCP_RETRY_AFTER: Duration = Duration::from_secs(1);
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on one set of log targets. Cheap to clone; all clones feed the same writer
/// thread, which stops (after writing what is queued) when the last clone is dropped.
#[derive(Clone)]
pub struct Logger {
    inner: Option<Arc<Handle>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("enabled", &self.is_enabled())
            .field("dropped", &self.dropped())
            .finish()
    }
}

/// Owned by the `Logger` clones only (not the writer), so its drop marks the last clone.
struct Handle {
    shared: Arc<Shared>,
    /// Messages are cut to this many bytes before queueing (see the module doc).
    msg_cap: usize,
}

struct Shared {
    state: Mutex<State>,
    /// Signals the writer: new lines, or shutdown.
    work: Condvar,
    /// Signals `flush` callers: lines were written.
    done: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    send_failures: AtomicU64,
}

struct Entry {
    level: u8,
    time: SystemTime,
    msg: Vec<u8>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Entry>,
    /// Buffers the writer has finished with, reused so steady logging does not allocate.
    free: Vec<Vec<u8>>,
    enqueued: u64,
    written: u64,
    shutdown: bool,
    /// False once the writer thread has exited, so `flush` never waits for nobody.
    writer_alive: bool,
    /// Lets tests hold the writer to fill the queue deterministically.
    #[cfg(test)]
    paused: bool,
}

impl Shared {
    /// A panic elsewhere while holding the lock leaves the queue itself consistent (every
    /// update is a single push/pop), so logging carries on rather than cascading the panic.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
    }
}

impl Logger {
    /// Opens the targets' sockets and starts the writer thread. With no targets nothing is
    /// started and [`Logger::is_enabled`] is false. `hostname` is `log-send-hostname`'s
    /// value; `tag` and `pid` go in the syslog header.
    pub fn start(
        targets: &[LogTarget],
        tag: &str,
        hostname: Option<&str>,
        pid: u32,
    ) -> io::Result<Logger> {
        Self::start_with_capacity(targets, tag, hostname, pid, DEFAULT_CAPACITY)
    }

    fn start_with_capacity(
        targets: &[LogTarget],
        tag: &str,
        hostname: Option<&str>,
        pid: u32,
        capacity: usize,
    ) -> io::Result<Logger> {
        if targets.is_empty() {
            return Ok(Logger { inner: None });
        }
        let sinks = targets
            .iter()
            .map(Sink::open)
            .collect::<io::Result<Vec<_>>>()?;
        let largest = targets.iter().map(max_len).max().unwrap_or(DEFAULT_MAX_LEN);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                writer_alive: true,
                ..State::default()
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            send_failures: AtomicU64::new(0),
        });
        let mut writer = Writer {
            shared: Arc::clone(&shared),
            sinks,
            meta: Meta {
                tag: tag.as_bytes().to_vec(),
                hostname: hostname
                    .filter(|h| !h.is_empty())
                    .map(|h| h.as_bytes().to_vec()),
                pid,
            },
            clock: HeaderClock::new(sys::local),
            frame: Vec::with_capacity(largest + 128),
        };
        std::thread::Builder::new()
            .name("sluice-log".into())
            .spawn(move || writer.run())?;
        Ok(Logger {
            inner: Some(Arc::new(Handle {
                shared,
                msg_cap: largest.saturating_sub(1),
            })),
        })
    }

    /// Queues one line at syslog `level` (0 emerg .. 7 debug) for every target whose level
    /// admits it. Never blocks on I/O: when the queue is full the line is dropped and
    /// counted in [`Logger::dropped`]. A trailing newline is removed (the framing adds one);
    /// an empty message is ignored.
    pub fn log(&self, level: u8, msg: &[u8]) {
        let Some(h) = &self.inner else { return };
        let mut msg = msg;
        while let [rest @ .., b'\n' | 0] = msg {
            msg = rest;
        }
        if msg.is_empty() {
            return;
        }
        let msg = &msg[..msg.len().min(h.msg_cap)];
        let time = SystemTime::now();
        let shared = &h.shared;
        let mut st = shared.lock();
        if st.queue.len() >= shared.capacity {
            drop(st);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut buf = st.free.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(msg);
        st.queue.push_back(Entry {
            level: level.min(7),
            time,
            msg: buf,
        });
        st.enqueued += 1;
        drop(st);
        shared.work.notify_one();
    }

    /// False when there are no targets: callers skip building the line at all.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Blocks until every line queued before this call has been handed to the targets.
    pub fn flush(&self) {
        let Some(h) = &self.inner else { return };
        let shared = &h.shared;
        let mut st = shared.lock();
        let target = st.enqueued;
        while st.written < target && st.writer_alive {
            st = shared.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |h| h.shared.dropped.load(Ordering::Relaxed))
    }

    /// Per-target writes that failed (target unreachable, socket error); HAProxy drops
    /// those lines too.
    pub fn send_failures(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |h| h.shared.send_failures.load(Ordering::Relaxed))
    }

    #[cfg(test)]
    fn set_paused(&self, paused: bool) {
        if let Some(h) = &self.inner {
            h.shared.lock().paused = paused;
            h.shared.work.notify_all();
        }
    }
}

/// `len` as configured, HAProxy's 1024 when unset (0).
fn max_len(t: &LogTarget) -> usize {
    if t.max_len == 0 {
        DEFAULT_MAX_LEN
    } else {
        t.max_len
    }
}

/// What the syslog headers name besides the time.
struct Meta {
    tag: Vec<u8>,
    hostname: Option<Vec<u8>>,
    pid: u32,
}

/// The header dates, rebuilt once per second: `Nov 23 06:27:46 ` (RFC 3164, day padded with
/// a space) and `2026-11-23T06:27:46` plus the `+00:00` offset (RFC 5424), both local time.
struct HeaderClock {
    tz: fn(i64) -> sys::Tm,
    secs: i64,
    legacy: [u8; 16],
    iso: [u8; 19],
    offset: [u8; 6],
}

impl HeaderClock {
    fn new(tz: fn(i64) -> sys::Tm) -> Self {
        HeaderClock {
            tz,
            secs: i64::MIN,
            legacy: [b' '; 16],
            iso: [b'0'; 19],
            offset: *b"+00:00",
        }
    }

    fn update(&mut self, secs: i64) {
        if secs == self.secs {
            return;
        }
        self.secs = secs;
        let tm = (self.tz)(secs);
        let mut v = Vec::with_capacity(20);
        v.extend_from_slice(month_name(tm.mon));
        v.push(b' ');
        if tm.mday < 10 {
            v.push(b' ');
            v.push(b'0' + tm.mday);
        } else {
            write_2digits(&mut v, u32::from(tm.mday));
        }
        v.push(b' ');
        write_hms(&mut v, &tm);
        v.push(b' ');
        self.legacy.copy_from_slice(&v[..16]);

        v.clear();
        let year = tm.year.clamp(0, 9999) as u32;
        write_2digits(&mut v, year / 100);
        write_2digits(&mut v, year % 100);
        v.push(b'-');
        write_2digits(&mut v, u32::from(tm.mon) + 1);
        v.push(b'-');
        write_2digits(&mut v, u32::from(tm.mday));
        v.push(b'T');
        write_hms(&mut v, &tm);
        self.iso.copy_from_slice(&v[..19]);

        v.clear();
        v.push(if tm.gmtoff < 0 { b'-' } else { b'+' });
        let off = tm.gmtoff.unsigned_abs() / 60;
        write_2digits(&mut v, off / 60);
        v.push(b':');
        write_2digits(&mut v, off % 60);
        self.offset.copy_from_slice(&v[..6]);
    }
}

fn write_hms(v: &mut Vec<u8>, tm: &sys::Tm) {
    write_2digits(v, u32::from(tm.hour));
    v.push(b':');
    write_2digits(v, u32::from(tm.min));
    v.push(b':');
    write_2digits(v, u32::from(tm.sec));
}

/// Which of HAProxy's truncation rules a destination follows (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cut {
    Datagram,
    Fd,
    Stream,
}

/// Builds one framed line for `target` into `out` (cleared first). Returns false when the
/// target's level filter drops the line.
#[allow(clippy::too_many_arguments)]
fn build_frame(
    out: &mut Vec<u8>,
    target: &LogTarget,
    cut: Cut,
    clock: &mut HeaderClock,
    meta: &Meta,
    level: u8,
    time: SystemTime,
    msg: &[u8],
) -> bool {
    if level > target.level {
        return false;
    }
    // `minlevel` caps severity instead of filtering (manual: "log" keyword).
    let level = level.max(target.min_level).min(7);
    let pri = u64::from(target.facility) * 8 + u64::from(level);
    out.clear();
    let (secs, micros) = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    };
    match target.format {
        LogFormat::Raw => {}
        // HAProxy's short format carries the level alone, not facility*8+level.
        LogFormat::Short => {
            out.push(b'<');
            write_u64(out, u64::from(level));
            out.push(b'>');
        }
        LogFormat::Rfc3164 | LogFormat::Local => {
            clock.update(secs);
            out.push(b'<');
            write_u64(out, pri);
            out.push(b'>');
            out.extend_from_slice(&clock.legacy);
            if target.format == LogFormat::Rfc3164 {
                if let Some(h) = &meta.hostname {
                    out.extend_from_slice(h);
                    out.push(b' ');
                }
            }
            if !meta.tag.is_empty() {
                out.extend_from_slice(&meta.tag);
                out.push(b'[');
                write_u64(out, u64::from(meta.pid));
                out.extend_from_slice(b"]: ");
            }
        }
        LogFormat::Rfc5424 => {
            clock.update(secs);
            out.push(b'<');
            write_u64(out, pri);
            out.extend_from_slice(b">1 ");
            out.extend_from_slice(&clock.iso);
            out.push(b'.');
            let mut m = micros;
            let mut digits = [b'0'; 6];
            for d in digits.iter_mut().rev() {
                *d = b'0' + (m % 10) as u8;
                m /= 10;
            }
            out.extend_from_slice(&digits);
            out.extend_from_slice(&clock.offset);
            out.push(b' ');
            match &meta.hostname {
                Some(h) => out.extend_from_slice(h),
                None => out.push(b'-'),
            }
            out.push(b' ');
            if meta.tag.is_empty() {
                out.push(b'-');
            } else {
                out.extend_from_slice(&meta.tag);
            }
            out.push(b' ');
            write_u64(out, u64::from(meta.pid));
            // MSGID and STRUCTURED-DATA are both NILVALUE in HAProxy's default.
            out.extend_from_slice(b" - - ");
        }
    }
    let len = max_len(target);
    match cut {
        Cut::Datagram | Cut::Fd => {
            let limit = if cut == Cut::Fd { len - 1 } else { len };
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(&msg[..msg.len().min(room)]);
            out.truncate(limit);
        }
        Cut::Stream => out.extend_from_slice(&msg[..msg.len().min(len)]),
    }
    out.push(b'\n');
    true
}

enum Conn {
    Fd(libc::c_int),
    Udp(UdpSocket, SocketAddr),
    Unix(UnixDatagram, PathBuf),
    Tcp {
        addr: SocketAddr,
        stream: Option<TcpStream>,
        retry_at: Option<Instant>,
    },
}

struct Sink {
    target: LogTarget,
    conn: Conn,
}

impl Sink {
    fn open(t: &LogTarget) -> io::Result<Sink> {
        let conn = match &t.dest {
            LogDest::Stdout => Conn::Fd(1),
            LogDest::Stderr => Conn::Fd(2),
            LogDest::Udp(addr) => {
                let bind: SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                Conn::Udp(UdpSocket::bind(bind)?, *addr)
            }
            LogDest::Unix(path) => Conn::Unix(UnixDatagram::unbound()?, path.clone()),
            // Connected lazily by the writer, as HAProxy does, so a collector that is down
            // at start-up does not stop the proxy from starting.
            LogDest::Tcp(addr) => Conn::Tcp {
                addr: *addr,
                stream: None,
                retry_at: None,
            },
        };
        Ok(Sink {
            target: t.clone(),
            conn,
        })
    }

    fn cut(&self) -> Cut {
        match self.conn {
            Conn::Fd(_) => Cut::Fd,
            Conn::Udp(..) | Conn::Unix(..) => Cut::Datagram,
            Conn::Tcp { .. } => Cut::Stream,
        }
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        match &mut self.conn {
            Conn::Fd(fd) => sys::write_fd(*fd, frame),
            Conn::Udp(sock, addr) => sock.send_to(frame, *addr).map(drop),
            Conn::Unix(sock, path) => sock.send_to(frame, &*path).map(drop),
            Conn::Tcp {
                addr,
                stream,
                retry_at,
            } => {
                if stream.is_none() {
                    if retry_at.is_some_and(|at| Instant::now() < at) {
                        return Err(io::ErrorKind::NotConnected.into());
                    }
                    match TcpStream::connect_timeout(addr, TCP_CONNECT_TIMEOUT) {
                        Ok(s) => {
                            s.set_write_timeout(Some(TCP_WRITE_TIMEOUT))?;
                            s.set_nodelay(true)?;
                            *stream = Some(s);
                            *retry_at = None;
                        }
                        Err(e) => {
                            *retry_at = Some(Instant::now() + TCP_RETRY_AFTER);
                            return Err(e);
                        }
                    }
                }
                let Some(s) = stream.as_mut() else {
                    return Err(io::ErrorKind::NotConnected.into());
                };
                let res = s.write_all(frame);
                if res.is_err() {
                    // Reconnect on the next line rather than resend: a partial frame may
                    // already be out, and the collector resyncs on the newline.
                    *stream = None;
                }
                res
            }
        }
    }
}

struct Writer {
    shared: Arc<Shared>,
    sinks: Vec<Sink>,
    meta: Meta,
    clock: HeaderClock,
    frame: Vec<u8>,
}

/// Marks the writer gone even if it unwinds, so `flush` callers are released.
struct AliveGuard<'a>(&'a Shared);

impl Drop for AliveGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().writer_alive = false;
        self.0.done.notify_all();
    }
}

impl Writer {
    fn run(&mut self) {
        let shared = Arc::clone(&self.shared);
        let _alive = AliveGuard(&shared);
        let mut batch: VecDeque<Entry> = VecDeque::new();
        loop {
            {
                let mut st = shared.lock();
                while !st.shutdown && (st.queue.is_empty() || Self::paused(&st)) {
                    st = shared.work.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                if st.queue.is_empty() {
                    // Shut down and drained.
                    return;
                }
                // Take the whole queue in one swap so callers contend for the lock only
                // for that instant, not for the I/O.
                std::mem::swap(&mut st.queue, &mut batch);
            }
            let n = batch.len() as u64;
            for e in &batch {
                self.write_entry(e);
            }
            let mut st = shared.lock();
            for e in batch.drain(..) {
                if st.free.len() < shared.capacity {
                    st.free.push(e.msg);
                }
            }
            st.written += n;
            drop(st);
            shared.done.notify_all();
        }
    }

    #[cfg(test)]
    fn paused(st: &State) -> bool {
        st.paused
    }

    #[cfg(not(test))]
    fn paused(_st: &State) -> bool {
        false
    }

    fn write_entry(&mut self, e: &Entry) {
        for sink in &mut self.sinks {
            let cut = sink.cut();
            if !build_frame(
                &mut self.frame,
                &sink.target,
                cut,
                &mut self.clock,
                &self.meta,
                e.level,
                e.time,
                &e.msg,
            ) {
                continue;
            }
            if sink.send(&self.frame).is_err() {
                self.shared.send_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! Headers and framing as HAProxy 2.6.12 sent them (UDP captured with a Python socket,
    //! stdout/stderr redirected to files, TCP with a Python listener):
    //!
    //! ```text
    //! (no format)         <134>Nov 23 06:27:46 haproxy[4529]: 127.0.0.1:42316 [...]\n
    //! + log-send-hostname <134>Nov 23 06:28:43 myhost haproxy[4763]: 127.0.0.1:53462 [...]\n
    //! format local        <134>Nov 23 06:29:53 haproxy[5634]: 127.0.0.1:45048 [...]\n
    //! format rfc5424      <134>1 2026-11-23T06:27:46.845883+00:00 - haproxy 4529 - - 127.0.0.1:42316 [...]\n
    //! + log-send-hostname <134>1 2026-11-23T06:28:43.441710+00:00 myhost haproxy 4763 - - 127.0.0.1:53462 [...]\n
    //! format short        <6>127.0.0.1:42316 [...]\n
    //! UDP len 80 (81 bytes with the \n):
    //!   <134>Nov 23 06:27:46 haproxy[4529]: 127.0.0.1:42316 [23/Nov/2026:06:27:46.844] f\n
    //! stdout len 80 format rfc3164 (80 bytes with the \n):
    //!   <134>Nov 23 06:29:29 localhost haproxy[5402]: 127.0.0.1:40928 [23/Nov/2026:06:2\n
    //! tcp@ len 100 format rfc5424: header, then 100 bytes of message, then \n
    //! ```
    //! (`format rfc3164` spelled out prints `localhost` when no hostname is set; without a
    //! `format` it prints none. The model cannot tell the two apart, so the common case is
    //! kept: no hostname unless `log-send-hostname`.)

    use super::*;
    use std::net::TcpListener;

    const T: u64 = 1_795_415_266; // 2026-11-23T06:27:46Z

    fn target(dest: LogDest, format: LogFormat) -> LogTarget {
        LogTarget {
            dest,
            format,
            facility: 16,
            level: 7,
            min_level: 0,
            max_len: 1024,
        }
    }

    fn meta(host: Option<&str>) -> Meta {
        Meta {
            tag: b"haproxy".to_vec(),
            hostname: host.map(|h| h.as_bytes().to_vec()),
            pid: 4529,
        }
    }

    fn frame(t: &LogTarget, cut: Cut, host: Option<&str>, micros: u64, msg: &[u8]) -> String {
        let mut out = Vec::new();
        let mut clock = HeaderClock::new(sys::utc);
        let time = UNIX_EPOCH + Duration::from_secs(T) + Duration::from_micros(micros);
        assert!(build_frame(
            &mut out,
            t,
            cut,
            &mut clock,
            &meta(host),
            6,
            time,
            msg
        ));
        String::from_utf8(out).unwrap()
    }

    const MSG: &[u8] = b"127.0.0.1:42316 [23/Nov/2026:06:27:46.844] fe_http be_http/s1 0/0/0/1/1 200 127 - - ---- 1/1/0/0/0 0/0 \"GET /foo?x=1 HTTP/1.1\"";

    #[test]
    fn rfc3164_header_bytes() {
        let udp = LogDest::Udp(SocketAddr::from(([127, 0, 0, 1], 514)));
        let t = target(udp.clone(), LogFormat::Rfc3164);
        let m = String::from_utf8_lossy(MSG);
        assert_eq!(
            frame(&t, Cut::Datagram, None, 0, MSG),
            format!("<134>Nov 23 06:27:46 haproxy[4529]: {m}\n")
        );
        assert_eq!(
            frame(&t, Cut::Datagram, Some("myhost"), 0, MSG),
            format!("<134>Nov 23 06:27:46 myhost haproxy[4529]: {m}\n")
        );
        let local = target(udp, LogFormat::Local);
        assert_eq!(
            frame(&local, Cut::Datagram, Some("myhost"), 0, MSG),
            format!("<134>Nov 23 06:27:46 haproxy[4529]: {m}\n")
        );
    }

    #[test]
    fn rfc3164_pads_single_digit_day_with_a_space() {
        let mut clock = HeaderClock::new(sys::utc);
        clock.update(T as i64 - 20 * 86_400); // 2026-11-03
        assert_eq!(&clock.legacy, b"Nov  3 06:27:46 ");
    }

    #[test]
    fn rfc5424_header_bytes() {
        let t = target(
            LogDest::Udp(SocketAddr::from(([127, 0, 0, 1], 514))),
            LogFormat::Rfc5424,
        );
        let m = String::from_utf8_lossy(MSG);
        assert_eq!(
            frame(&t, Cut::Datagram, None, 845_883, MSG),
            format!("<134>1 2026-11-23T06:27:46.845883+00:00 - haproxy 4529 - - {m}\n")
        );
        assert_eq!(
            frame(&t, Cut::Datagram, Some("myhost"), 1_710, MSG),
            format!("<134>1 2026-11-23T06:27:46.001710+00:00 myhost haproxy 4529 - - {m}\n")
        );
    }

    #[test]
    fn rfc5424_offset_follows_the_zone() {
        fn ist(secs: i64) -> sys::Tm {
            sys::Tm {
                gmtoff: 5 * 3600 + 1800,
                ..sys::utc(secs + 5 * 3600 + 1800)
            }
        }
        let mut clock = HeaderClock::new(ist);
        clock.update(T as i64);
        assert_eq!(&clock.iso, b"2026-11-23T11:57:46");
        assert_eq!(&clock.offset, b"+05:30");
    }

    #[test]
    fn short_and_raw_framing() {
        let udp = LogDest::Udp(SocketAddr::from(([127, 0, 0, 1], 514)));
        let m = String::from_utf8_lossy(MSG);
        // Short carries the level alone: <6>, not <134>.
        let short = target(udp.clone(), LogFormat::Short);
        assert_eq!(
            frame(&short, Cut::Datagram, None, 0, MSG),
            format!("<6>{m}\n")
        );
        let raw = target(udp, LogFormat::Raw);
        assert_eq!(frame(&raw, Cut::Fd, None, 0, MSG), format!("{m}\n"));
    }

    #[test]
    fn max_len_truncation_per_destination() {
        let mut udp = target(
            LogDest::Udp(SocketAddr::from(([127, 0, 0, 1], 514))),
            LogFormat::Rfc3164,
        );
        udp.max_len = 80;
        let got = frame(&udp, Cut::Datagram, None, 0, MSG);
        assert_eq!(
            got,
            "<134>Nov 23 06:27:46 haproxy[4529]: 127.0.0.1:42316 [23/Nov/2026:06:27:46.844] f\n"
        );
        assert_eq!(got.len(), 81);

        let mut out = target(LogDest::Stdout, LogFormat::Rfc3164);
        out.max_len = 80;
        let got = frame(&out, Cut::Fd, Some("localhost"), 0, MSG);
        assert_eq!(
            got,
            "<134>Nov 23 06:27:46 localhost haproxy[4529]: 127.0.0.1:42316 [23/Nov/2026:06:2\n"
        );
        assert_eq!(got.len(), 80);

        let mut tcp = target(
            LogDest::Tcp(SocketAddr::from(([127, 0, 0, 1], 514))),
            LogFormat::Rfc5424,
        );
        tcp.max_len = 100;
        let got = frame(&tcp, Cut::Stream, Some("myhost"), 0, MSG);
        let body = got.split_once(" - - ").unwrap().1;
        assert_eq!(body.len(), 101);
        assert_eq!(body.as_bytes()[..100], MSG[..100]);
    }

    #[test]
    fn min_level_caps_severity() {
        let mut t = target(LogDest::Stdout, LogFormat::Rfc3164);
        t.min_level = 3;
        let mut out = Vec::new();
        let mut clock = HeaderClock::new(sys::utc);
        let time = UNIX_EPOCH + Duration::from_secs(T);
        assert!(build_frame(
            &mut out,
            &t,
            Cut::Fd,
            &mut clock,
            &meta(None),
            0,
            time,
            b"x"
        ));
        assert!(
            out.starts_with(b"<131>"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    fn udp_pair(format: LogFormat) -> (UdpSocket, LogTarget) {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = target(LogDest::Udp(rx.local_addr().unwrap()), format);
        (rx, t)
    }

    fn recv(rx: &UdpSocket) -> Vec<u8> {
        let mut buf = [0u8; 4096];
        let n = rx.recv(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn udp_target_receives_one_datagram_per_line() {
        let (rx, t) = udp_pair(LogFormat::Raw);
        let logger = Logger::start(&[t], "haproxy", None, 1).unwrap();
        assert!(logger.is_enabled());
        for i in 0..5 {
            logger.log(6, format!("line {i}\n").as_bytes());
        }
        logger.flush();
        for i in 0..5 {
            assert_eq!(recv(&rx), format!("line {i}\n").into_bytes());
        }
        assert_eq!(logger.dropped(), 0);
    }

    #[test]
    fn level_filter_drops_debug() {
        let (rx, mut t) = udp_pair(LogFormat::Rfc3164);
        t.level = 6; // `log ... local0 info`
        let logger = Logger::start(&[t], "haproxy", None, 77).unwrap();
        logger.log(7, b"debug line");
        logger.log(6, b"info line");
        logger.flush();
        let got = recv(&rx);
        assert!(
            got.starts_with(b"<134>"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        assert!(got.ends_with(b" haproxy[77]: info line\n"));
        rx.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        assert!(
            rx.recv(&mut buf).is_err(),
            "the debug line must not be sent"
        );
    }

    #[test]
    fn tcp_target_is_newline_framed() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let t = target(
            LogDest::Tcp(listener.local_addr().unwrap()),
            LogFormat::Rfc5424,
        );
        let logger = Logger::start(&[t], "haproxy", Some("h"), 9).unwrap();
        logger.log(6, b"one");
        logger.log(6, b"two");
        logger.flush();
        drop(logger);
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut got).unwrap();
        let s = String::from_utf8(got).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2, "{s}");
        assert!(lines[0].starts_with("<134>1 ") && lines[0].ends_with(" h haproxy 9 - - one"));
        assert!(lines[1].ends_with(" - - two"));
    }

    #[test]
    fn unix_datagram_target() {
        let dir = std::env::temp_dir().join(format!("sluice-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.sock");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = target(LogDest::Unix(path.clone()), LogFormat::Short);
        let logger = Logger::start(&[t], "haproxy", None, 1).unwrap();
        logger.log(3, b"err line");
        logger.flush();
        let mut buf = [0u8; 128];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<3>err line\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn full_queue_drops_instead_of_blocking() {
        let (rx, t) = udp_pair(LogFormat::Raw);
        let logger = Logger::start_with_capacity(&[t], "haproxy", None, 1, 16).unwrap();
        logger.set_paused(true);
        let start = Instant::now();
        for i in 0..100 {
            logger.log(6, format!("l{i}").as_bytes());
        }
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(logger.dropped(), 84);
        logger.set_paused(false);
        logger.flush();
        for i in 0..16 {
            assert_eq!(recv(&rx), format!("l{i}\n").into_bytes());
        }
    }

    #[test]
    fn no_targets_means_disabled() {
        let logger = Logger::start(&[], "haproxy", None, 1).unwrap();
        assert!(!logger.is_enabled());
        logger.log(6, b"ignored");
        logger.flush();
        assert_eq!(logger.dropped(), 0);
    }

    #[test]
    fn message_is_cut_to_the_largest_len_minus_one() {
        let (rx, t) = udp_pair(LogFormat::Raw);
        let logger = Logger::start(&[t], "haproxy", None, 1).unwrap();
        logger.log(6, &[b'a'; 2000]);
        logger.log(6, b"");
        logger.log(6, b"next");
        logger.flush();
        // HAProxy builds the line in a 1024-byte buffer (1023 + NUL), then adds the '\n'.
        assert_eq!(recv(&rx).len(), 1024);
        assert_eq!(recv(&rx), b"next\n");
    }

    #[test]
    fn clones_share_one_writer_and_it_stops_with_the_last() {
        let (rx, t) = udp_pair(LogFormat::Raw);
        let logger = Logger::start(&[t], "haproxy", None, 1).unwrap();
        let other = logger.clone();
        let h = std::thread::spawn(move || {
            other.log(6, b"from thread");
            other.flush();
        });
        h.join().unwrap();
        assert_eq!(recv(&rx), b"from thread\n");
        let shared = Arc::clone(&logger.inner.as_ref().unwrap().shared);
        logger.log(6, b"last");
        drop(logger);
        // The writer drains what was queued, then exits.
        assert_eq!(recv(&rx), b"last\n");
        let mut st = shared.lock();
        while st.writer_alive {
            st = shared.done.wait(st).unwrap();
        }
    }
}
