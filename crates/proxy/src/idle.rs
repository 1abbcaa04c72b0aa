//! The idle set: clear HTTP/1 client connections that stayed silent between requests past a
//! short delay are parked here, per thread, without a task of their own. A parked connection
//! costs its socket's registration with the event loop and a small record; a task, with its
//! future, is spawned again when a byte (or the close) arrives or its idle timeout runs out.
//! HAProxy holds an idle connection in about 1.1 KiB; a task per connection alone costs more
//! than half of that, and idle connections are the many (browsers keep theirs for minutes).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::worker::HttpConn;

/// How long a connection stays idle in its task before it is parked. Long enough that a
/// connection in steady use never pays the hand-over (a spawn and a peek), short against
/// the seconds or minutes a client keeps an idle connection open.
pub const PARK_AFTER: Duration = Duration::from_millis(250);

/// How long after connections were parked the allocator is asked to give back what their
/// tasks held: parking comes in bursts, and one trim serves a burst.
const TRIM_AFTER: Duration = Duration::from_millis(100);

/// The allocator's "give unused memory back to the system" (set by the binary, which picks
/// the allocator). Parked connections free their tasks, but an allocator keeps freed pages
/// until later activity on the thread, and an idle thread has none.
static TRIM: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the allocator's trim, called on a worker thread after a burst of parking.
pub fn set_trim(trim: fn()) {
    let _ = TRIM.set(trim);
}

/// What wakers share with the thread's manager task: which parked connections became
/// readable. Wakers are `Send`, so this is too; in practice they fire on the thread itself.
struct Shared {
    ready: Mutex<Vec<(u32, u32)>>,
    notify: Notify,
}

/// The waker a parked connection's readiness is registered with: names its slot.
struct SlotWaker {
    shared: Arc<Shared>,
    slot: u32,
    generation: u32,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut r) = self.shared.ready.lock() {
            r.push((self.slot, self.generation));
        }
        self.shared.notify.notify_one();
    }
}

#[derive(Default)]
struct Slot {
    /// Bumped on every use, so a late wake-up or expiry for an earlier tenant is ignored.
    generation: u32,
    conn: Option<Box<HttpConn>>,
}

/// One thread's parked connections.
struct IdleSet {
    shared: Arc<Shared>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Idle deadlines, earliest first; entries of connections gone since are skipped.
    expiry: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    parked: usize,
    manager_running: bool,
    /// When to hand memory back after connections were parked (see [`set_trim`]).
    trim_at: Option<Instant>,
    /// The thread is stopping: idle connections are closed instead of parked.
    stopping: bool,
}

impl IdleSet {
    fn new() -> IdleSet {
        IdleSet {
            shared: Arc::new(Shared {
                ready: Mutex::new(Vec::new()),
                notify: Notify::new(),
            }),
            slots: Vec::new(),
            free: Vec::new(),
            expiry: BinaryHeap::new(),
            parked: 0,
            manager_running: false,
            trim_at: None,
            stopping: false,
        }
    }

    /// Takes the connection out of `slot` if it is still the tenant `generation` names.
    fn take(&mut self, slot: u32, generation: u32) -> Option<Box<HttpConn>> {
        let s = self.slots.get_mut(slot as usize)?;
        if s.generation != generation {
            return None;
        }
        let conn = s.conn.take()?;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.parked -= 1;
        Some(conn)
    }

    /// Drops deadline entries of connections that left, once they outnumber the parked ones.
    fn compact(&mut self) {
        if self.expiry.len() > 2 * self.parked + 1024 {
            let slots = &self.slots;
            self.expiry.retain(|Reverse((_, slot, generation))| {
                slots
                    .get(*slot as usize)
                    .is_some_and(|s| s.generation == *generation && s.conn.is_some())
            });
        }
    }
}

thread_local! {
    static IDLE: RefCell<Option<IdleSet>> = const { RefCell::new(None) };
}

/// Parks `conn` until it is readable or `deadline` passes, then serves it again in a new
/// task. Must run on a worker thread (inside its runtime).
pub fn park(conn: Box<HttpConn>) {
    // Readable already (the request came as the delay ran out): no need to park.
    let deadline = conn.deadline;
    let conn = match register(conn, deadline) {
        Some(c) => c,
        None => return,
    };
    crate::worker::resume_http(conn);
}

/// Puts `conn` in a slot with its waker registered; gives it back when it is readable now.
fn register(conn: Box<HttpConn>, deadline: Option<Instant>) -> Option<Box<HttpConn>> {
    let placed = IDLE.try_with(|cell| {
        let mut guard = cell.borrow_mut();
        let set = guard.get_or_insert_with(IdleSet::new);
        if set.stopping {
            // Soft stop: an idle connection is closed, as HAProxy closes its idle
            // keep-alive connections when it stops.
            drop(conn);
            return None;
        }
        if !set.manager_running {
            set.manager_running = true;
            tokio::spawn(manage(set.shared.clone()));
        }
        let slot = match set.free.pop() {
            Some(i) => i,
            None => {
                set.slots.push(Slot::default());
                (set.slots.len() - 1) as u32
            }
        };
        let generation = set.slots[slot as usize].generation;
        let waker = Waker::from(Arc::new(SlotWaker {
            shared: set.shared.clone(),
            slot,
            generation,
        }));
        let mut cx = Context::from_waker(&waker);
        // Twice at most: a first readiness may be stale (a fresh socket is reported
        // readable before any byte); the peek clears it and the second poll registers.
        for _ in 0..2 {
            match conn.sock.poll_read_ready(&mut cx) {
                Poll::Pending => {
                    if let Some(at) = deadline {
                        set.expiry.push(Reverse((at, slot, generation)));
                    }
                    set.slots[slot as usize].conn = Some(conn);
                    set.parked += 1;
                    if set.trim_at.is_none() {
                        set.trim_at = Some(Instant::now() + TRIM_AFTER);
                        set.shared.notify.notify_one();
                    }
                    return None;
                }
                Poll::Ready(Err(_)) => break,
                Poll::Ready(Ok(())) => {
                    if crate::net::has_bytes_or_eof(&conn.sock) {
                        break;
                    }
                }
            }
        }
        set.free.push(slot);
        Some(conn)
    });
    // On a thread that is ending, the connection is dropped with it.
    placed.unwrap_or_default()
}

/// The thread's manager task: resumes parked connections that became readable or whose
/// idle deadline passed.
async fn manage(shared: Arc<Shared>) {
    let _reset = ManagerGone;
    let mut woken: Vec<(u32, u32)> = Vec::new();
    let mut resume: Vec<Box<HttpConn>> = Vec::new();
    loop {
        let next = IDLE
            .try_with(|c| {
                c.borrow().as_ref().and_then(|s| {
                    let expiry = s.expiry.peek().map(|Reverse((at, _, _))| *at);
                    match (expiry, s.trim_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                })
            })
            .ok()
            .flatten();
        tokio::select! {
            _ = shared.notify.notified() => {}
            _ = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        if let Ok(mut r) = shared.ready.lock() {
            std::mem::swap(&mut *r, &mut woken);
        }
        let now = Instant::now();
        let _ = IDLE.try_with(|c| {
            let mut guard = c.borrow_mut();
            let Some(set) = guard.as_mut() else { return };
            for (slot, generation) in woken.drain(..) {
                if let Some(conn) = set.take(slot, generation) {
                    resume.push(conn);
                }
            }
            while let Some(Reverse((at, slot, generation))) = set.expiry.peek().copied() {
                if at > now {
                    break;
                }
                set.expiry.pop();
                if let Some(conn) = set.take(slot, generation) {
                    resume.push(conn);
                }
            }
            set.compact();
            if set.trim_at.is_some_and(|at| at <= now) {
                set.trim_at = None;
                if let Some(trim) = TRIM.get() {
                    trim();
                }
            }
        });
        // Outside the borrow: a connection that turns out silent (a spurious wake-up) is
        // parked again, which borrows the set.
        for conn in resume.drain(..) {
            let now = Instant::now();
            let expired = conn.deadline.is_some_and(|d| d <= now);
            if expired || crate::net::has_bytes_or_eof(&conn.sock) {
                crate::worker::resume_http(conn);
            } else {
                park(conn);
            }
        }
    }
}

/// Soft stop on this thread: parked connections are closed now, and connections that go
/// idle from now on are closed instead of parked (within [`PARK_AFTER`] of their last
/// response). Requests in progress finish first.
pub fn stop_here() {
    let closing = IDLE
        .try_with(|c| {
            let mut guard = c.borrow_mut();
            let set = guard.get_or_insert_with(IdleSet::new);
            set.stopping = true;
            set.expiry.clear();
            set.parked = 0;
            set.slots
                .iter_mut()
                .filter_map(|s| {
                    s.generation = s.generation.wrapping_add(1);
                    s.conn.take()
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    drop(closing);
}

/// Dropped with the manager task (its runtime shut down): the parked connections are
/// dropped with it, and a later runtime on this thread starts a manager of its own.
struct ManagerGone;

impl Drop for ManagerGone {
    fn drop(&mut self) {
        let set = IDLE
            .try_with(|c| c.try_borrow_mut().ok().and_then(|mut g| g.take()))
            .ok()
            .flatten();
        drop(set);
    }
}

/// How many connections this thread holds parked.
pub fn parked_here() -> usize {
    IDLE.try_with(|c| c.borrow().as_ref().map_or(0, |s| s.parked))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::worker::tests::{http_conn, loopback_pair, runtime_for};

    const CONFIG: &str = "defaults\n    mode http\n    timeout http-request 1s\n    timeout http-keep-alive 1s\n    timeout client 100s\n    timeout connect 1s\n    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:1\n    http-request return status 200 content-type text/plain string pong\n";

    /// Reads one response with a `content-length` body; the whole text.
    async fn read_response(c: &mut tokio::net::TcpStream) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = c.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    return text;
                }
            }
        }
    }

    /// Runs `test` on a paused clock (timers fire as soon as nothing else can run) with a
    /// session on a real loopback connection: its client end and the runtime.
    fn with_session<F, Fut>(test: F)
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let rt = runtime_for(CONFIG);
        let trt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        trt.block_on(async {
            let (c, s, peer) = loopback_pair().await;
            crate::worker::resume_http(http_conn(&rt, s, peer));
            test(c).await;
        });
        drop(trt);
        assert_eq!(
            rt.actconn.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "the connection's slot was given back"
        );
    }

    #[test]
    fn an_idle_keep_alive_connection_is_parked_and_served_again() {
        with_session(|mut c| async move {
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            assert!(read_response(&mut c).await.starts_with("HTTP/1.1 200"));
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1, "idle past the delay: parked");
            c.write_all(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let text = read_response(&mut c).await;
            assert!(
                text.starts_with("HTTP/1.1 200") && text.ends_with("pong"),
                "{text}"
            );
            // Parked again, then closed at `timeout http-keep-alive` as an unparked one is.
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1);
            let mut rest = Vec::new();
            let n = c.read_to_end(&mut rest).await.unwrap();
            assert_eq!(n, 0, "closed without a response");
            assert_eq!(super::parked_here(), 0);
        });
    }

    #[test]
    fn a_silent_parked_connection_gets_408_at_http_request_timeout() {
        with_session(|mut c| async move {
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(
                super::parked_here(),
                1,
                "a silent fresh connection is parked"
            );
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.unwrap();
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            assert_eq!(super::parked_here(), 0);
        });
    }

    #[test]
    fn a_new_runtime_on_the_thread_gets_its_own_manager() {
        with_session(|c| async move {
            let _open = c;
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1);
        });
        // The first runtime is gone, and with it its parked connection.
        assert_eq!(super::parked_here(), 0);
        with_session(|mut c| async move {
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1);
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            assert!(read_response(&mut c).await.starts_with("HTTP/1.1 200"));
        });
    }

    #[test]
    fn a_soft_stop_closes_idle_connections() {
        with_session(|mut c| async move {
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1);
            super::stop_here();
            assert_eq!(super::parked_here(), 0);
            let mut rest = Vec::new();
            assert_eq!(c.read_to_end(&mut rest).await.unwrap(), 0, "closed, no 408");
        });
    }

    #[test]
    fn after_a_soft_stop_a_request_is_answered_then_the_connection_closes() {
        with_session(|mut c| async move {
            super::stop_here();
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.unwrap();
            let text = String::from_utf8_lossy(&got);
            assert!(
                text.starts_with("HTTP/1.1 200") && text.ends_with("pong"),
                "{text}"
            );
        });
    }

    #[test]
    fn a_parked_connection_closed_by_its_client_is_let_go() {
        with_session(|c| async move {
            tokio::time::sleep(super::PARK_AFTER * 2).await;
            assert_eq!(super::parked_here(), 1);
            drop(c);
            // The close wakes it well before any timeout.
            let waited = tokio::time::Instant::now();
            while super::parked_here() > 0 {
                tokio::task::yield_now().await;
            }
            assert!(waited.elapsed() < Duration::from_secs(1));
        });
    }
}
