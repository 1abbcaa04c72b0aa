//! Getting a connection to a server: assignment (with queueing), reuse of an idle keep-alive
//! connection from this thread's pool, or a new connect with HAProxy's `retries` and
//! `option redispatch` (manual 4.2), `timeout connect`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::queue::{self, AssignError, Assigned};
use crate::runtime::BackendRt;

/// Idle connections kept per server and thread.
const POOL_PER_SERVER: usize = 512;

thread_local! {
    /// Idle server connections of this worker thread, keyed by (backend, server). Tasks never
    /// leave their thread (one current-thread runtime per worker), so no lock is needed.
    static IDLE: RefCell<HashMap<(usize, usize), Vec<TcpStream>>> = RefCell::new(HashMap::new());
}

/// Takes a live idle connection to the server, if any. A pooled connection the server has
/// closed (or that has unexpected bytes) is dropped.
pub fn take_idle(backend: usize, server: usize) -> Option<TcpStream> {
    IDLE.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.get_mut(&(backend, server))?;
        while let Some(s) = list.pop() {
            let mut probe = [0u8; 1];
            match s.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(s),
                _ => continue,
            }
        }
        None
    })
}

/// Parks a server connection for reuse by a later request of this thread.
pub fn put_idle(backend: usize, server: usize, s: TcpStream) {
    let _ = IDLE.try_with(|p| {
        let mut p = p.borrow_mut();
        let list = p.entry((backend, server)).or_default();
        if list.len() < POOL_PER_SERVER {
            list.push(s);
        }
    });
}

/// Drops every idle connection to a server (it went down).
pub fn drop_idle(backend: usize, server: usize) {
    let _ = IDLE.try_with(|p| p.borrow_mut().remove(&(backend, server)));
}

#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
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

async fn connect_once(addr: std::net::SocketAddr, t: Option<Duration>) -> Result<TcpStream, bool> {
    let fut = TcpStream::connect(addr);
    let res = match t {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => return Err(true),
        },
        None => fut.await,
    };
    match res {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(_) => Err(false),
    }
}

/// Assigns a server (`forced` by `use-server` when it is up) and returns a connection to
/// it, reused when `reuse` allows.
pub async fn connect(
    be: &BackendRt,
    key: Option<u32>,
    forced: Option<usize>,
    reuse: bool,
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
    if reuse {
        if let Some(stream) = take_idle(be.id, assigned.server) {
            return Ok(Connected {
                stream,
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
        let addr = be.servers[assigned.server].addr;
        match connect_once(addr, be.timeouts.connect).await {
            Ok(stream) => {
                return Ok(Connected {
                    stream,
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
