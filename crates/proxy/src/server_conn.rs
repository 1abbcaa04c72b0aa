//! Getting a connection to a server: assignment (with queueing), reuse of an idle keep-alive
//! connection from this thread's pool, or a new connect with HAProxy's `retries` and
//! `option redispatch` (manual 4.2), `timeout connect`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use crate::queue::{self, AssignError, Assigned};
use crate::runtime::BackendRt;
use crate::transport::{self, Conn};

/// Idle connections kept per server and thread.
const POOL_PER_SERVER: usize = 512;

/// Idle connections per (backend, server), each with its SNI tag.
type IdlePool = HashMap<(usize, usize), Vec<(u64, Conn)>, BuildHasherDefault<IndexHasher>>;

/// The pool's keys are our own small indices, never a client's bytes: a multiply-mix
/// spreads them well enough, where SipHash cost some 200 instructions a request (one
/// lookup to take a connection, one to park it).
#[derive(Default)]
struct IndexHasher(u64);

impl IndexHasher {
    fn mix(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IndexHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.mix(u64::from(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

thread_local! {
    /// Idle server connections of this worker thread, keyed by (backend, server). Tasks never
    /// leave their thread (one current-thread runtime per worker), so no lock is needed.
    /// Each connection is tagged with the SNI it was opened with (0: none), as a TLS
    /// connection may only serve requests that would have opened it with the same name.
    static IDLE: RefCell<IdlePool> = RefCell::new(HashMap::default());
}

/// Takes a live idle connection to the server opened with SNI tag `tag`, if any. A pooled
/// connection the server has closed (or that has unexpected bytes) is dropped.
pub fn take_idle(backend: usize, server: usize, tag: u64) -> Option<Conn> {
    IDLE.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.get_mut(&(backend, server))?;
        while let Some(i) = list.iter().rposition(|(t, _)| *t == tag) {
            let (_, mut c) = list.swap_remove(i);
            if c.idle_alive() {
                return Some(c);
            }
        }
        None
    })
}

/// Parks a server connection for reuse by a later request of this thread.
pub fn put_idle(backend: usize, server: usize, tag: u64, s: Conn) {
    // A pipe to an HTTP/2 stream carries one request; its connection is shared anyway.
    if matches!(s, Conn::Pipe(..)) {
        return;
    }
    let _ = IDLE.try_with(|p| {
        let mut p = p.borrow_mut();
        let list = p.entry((backend, server)).or_default();
        if list.len() < POOL_PER_SERVER {
            list.push((tag, s));
        }
    });
}

/// The pool tag of an SNI value: 0 without one.
pub fn sni_tag(sni: Option<&str>) -> u64 {
    use std::hash::Hash;
    match sni {
        None => 0,
        Some(s) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            s.hash(&mut h);
            h.finish() | 1
        }
    }
}

/// Drops every idle connection to a server (it went down).
pub fn drop_idle(backend: usize, server: usize) {
    let _ = IDLE.try_with(|p| p.borrow_mut().remove(&(backend, server)));
    crate::server_h2::forget(backend, server);
}

/// A request's "connection" on a shared HTTP/2 session. The HTTP/1 stream writes heads
/// within its own bounds, so generous parse limits apply here.
fn h2_stream(send: h2::client::SendRequest<bytes::Bytes>) -> Conn {
    crate::server_h2::stream(send, 64 * 1024, 1024)
}

#[derive(Debug)]
pub struct Connected {
    pub stream: Conn,
    /// The SNI tag to park the connection with (see [`put_idle`]).
    pub tag: u64,
    pub assigned: Assigned,
    /// Connect attempts that failed before this one (`rc` in the logs).
    pub retries: u32,
    pub redispatched: bool,
    /// `Tc`: time to establish the connection (0 when reused).
    pub connect_time: Duration,
    pub reused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    Assign(AssignError),
    /// Every attempt failed; `server` is the last one tried, `timeout` whether the last
    /// failure was `timeout connect`.
    Failed {
        server: usize,
        timeout: bool,
        retries: u32,
        queued: Duration,
    },
}

/// Whether retry number `retry` (1-based) of `retries` goes to another server.
fn redispatch_now(interval: Option<i32>, retry: u32, retries: u32) -> bool {
    match interval {
        None | Some(0) => false,
        Some(n) if n > 0 => retry.is_multiple_of(n as u32),
        Some(n) => i64::from(retry) == i64::from(retries) + i64::from(n) + 1,
    }
}

/// Connects to a server, with TLS when it has `ssl`; `timeout connect` covers both the TCP
/// connect and the handshake, as in HAProxy. `Err(true)` on a timeout.
async fn connect_once(
    srv: &crate::runtime::ServerRt,
    sni: Option<&str>,
    t: Option<Duration>,
) -> Result<Conn, bool> {
    let deadline = t.map(|t| Instant::now() + t);
    let fut = crate::netns::connect(srv.addr, srv.netns.as_deref());
    let res = match deadline {
        Some(at) => match tokio::time::timeout_at(at.into(), fut).await {
            Ok(r) => r,
            Err(_) => return Err(true),
        },
        None => fut.await,
    };
    let tcp = match res {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            s
        }
        Err(_) => return Err(false),
    };
    match srv.tls.as_ref().filter(|_| srv.ssl) {
        None => Ok(Conn::Plain(tcp)),
        Some(tls) => {
            let name = sluice_tls::server_name(sni, srv.addr.ip());
            // Boxed: a handshake's state would otherwise enlarge every request's future.
            Box::pin(transport::connect(tcp, tls.config.clone(), name, deadline))
                .await
                .map_err(|e| matches!(e, transport::HandshakeError::Timeout))
        }
    }
}

/// Assigns a server (`forced` by `use-server` when it is up) and returns a connection to
/// it, reused when `reuse` allows. `sni` gives the SNI to open a TLS connection to a server
/// with (its `sni` expression, evaluated on the request).
pub async fn connect(
    be: &BackendRt,
    key: Option<u32>,
    forced: Option<usize>,
    reuse: bool,
    sni: &(dyn Fn(usize) -> Option<String> + Sync),
) -> Result<Connected, ConnectError> {
    let forced = match forced {
        Some(i) => queue::assign_to(be, i).await,
        None => None,
    };
    let mut assigned = match forced {
        Some(r) => r,
        None => queue::assign(be, key, None).await,
    }
    .map_err(ConnectError::Assign)?;
    let mut name = sni(assigned.server);
    let mut tag = sni_tag(name.as_deref());
    // An HTTP/2 server: every request of the thread shares one connection.
    if reuse {
        if let Some(send) = crate::server_h2::session(be.id, assigned.server) {
            return Ok(Connected {
                stream: h2_stream(send),
                tag,
                assigned,
                retries: 0,
                redispatched: false,
                connect_time: Duration::ZERO,
                reused: true,
            });
        }
    }
    if reuse {
        if let Some(stream) = take_idle(be.id, assigned.server, tag) {
            return Ok(Connected {
                stream,
                tag,
                assigned,
                retries: 0,
                redispatched: false,
                connect_time: Duration::ZERO,
                reused: true,
            });
        }
    }
    let mut retry = 0u32;
    let mut redispatched = false;
    loop {
        let start = Instant::now();
        let srv = &be.servers[assigned.server];
        let opened = match connect_once(srv, name.as_deref(), be.timeouts.connect).await {
            // `proto h2`, or `alpn h2` chosen by the server: start HTTP/2 on it.
            Ok(c) if srv.h2 || c.alpn() == Some(b"h2") => {
                match Box::pin(crate::server_h2::open(be.id, assigned.server, c)).await {
                    Ok(send) => Ok(h2_stream(send)),
                    Err(_) => Err(false),
                }
            }
            r => r,
        };
        match opened {
            Ok(stream) => {
                return Ok(Connected {
                    stream,
                    tag,
                    assigned,
                    retries: retry,
                    redispatched,
                    connect_time: start.elapsed(),
                    reused: false,
                })
            }
            Err(timeout) => {
                if retry >= be.retries {
                    queue::release(be, assigned.server);
                    return Err(ConnectError::Failed {
                        server: assigned.server,
                        timeout,
                        retries: retry,
                        queued: assigned.queued,
                    });
                }
                retry += 1;
                if redispatch_now(be.redispatch, retry, be.retries) {
                    let failed = assigned.server;
                    queue::release(be, failed);
                    let queued = assigned.queued;
                    assigned = match queue::assign(be, key, Some(failed)).await {
                        Ok(a) => a,
                        Err(e) => return Err(ConnectError::Assign(e)),
                    };
                    assigned.queued += queued;
                    redispatched = true;
                    name = sni(assigned.server);
                    tag = sni_tag(name.as_deref());
                } else if !timeout {
                    // HAProxy's turn-around: a refused connection is retried on the same
                    // server after min(timeout connect, 1s), not at once.
                    let pause = be
                        .timeouts
                        .connect
                        .unwrap_or(Duration::from_secs(1))
                        .min(Duration::from_secs(1));
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redispatch_now;

    #[test]
    fn redispatch_interval_follows_haproxy() {
        // `option redispatch` alone = -1: only the last retry moves.
        assert!(!redispatch_now(Some(-1), 1, 3));
        assert!(!redispatch_now(Some(-1), 2, 3));
        assert!(redispatch_now(Some(-1), 3, 3));
        // Every 2nd retry.
        assert!(!redispatch_now(Some(2), 1, 3));
        assert!(redispatch_now(Some(2), 2, 3));
        // Every retry.
        assert!(redispatch_now(Some(1), 1, 3));
        assert!(!redispatch_now(None, 3, 3));
    }
}
