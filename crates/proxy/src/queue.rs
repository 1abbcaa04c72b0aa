//! Server assignment with HAProxy's queueing at `maxconn` (manual 5.2 `maxconn`, `maxqueue`;
//! 4.2 `timeout queue`): a request that finds every eligible server full waits in the backend
//! (or the hashed server's) queue until a slot frees or the queue timeout expires.

use std::time::{Duration, Instant};

use sluice_balance::Pick;
use tokio::sync::oneshot;

use crate::runtime::BackendRt;

/// A request waiting for a server slot. The releaser hands the slot over already counted
/// (`conn_started`), so the waiter owns it as soon as it receives the index.
pub struct Waiter {
    /// `Some(i)`: waits for server `i` only (hash-based pick on a full server).
    pub server: Option<usize>,
    pub tx: oneshot::Sender<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignError {
    /// No usable server (all down, or none configured): 503, `<NOSRV>`.
    NoServer,
    /// `maxqueue` reached: 503.
    QueueFull,
    /// `timeout queue` expired: 503, termination `sQ`.
    QueueTimeout,
}

/// A server slot held by a request; give it back with [`release`].
#[derive(Debug, Clone, Copy)]
pub struct Assigned {
    pub server: usize,
    /// Time spent queued (`Tw` in the logs), 0 when served at once.
    pub queued: Duration,
    /// Queue lengths seen at assignment (`sq`/`bq` in the logs).
    pub srv_queue: u32,
    pub backend_queue: u32,
}

/// Picks a server for one request or connection, queueing when all eligible servers are full.
pub async fn assign(
    be: &BackendRt,
    key: Option<u32>,
    avoid: Option<usize>,
) -> Result<Assigned, AssignError> {
    let start = Instant::now();
    let rx = {
        let mut st = be.lock();
        let st = &mut *st;
        let pick = st.lb.pick(key, &mut st.rng, avoid);
        match pick {
            Pick::Server(i) => return Ok(take(be, st, i)),
            Pick::NoServer => return Err(AssignError::NoServer),
            Pick::Queue(server) => enqueue(be, st, server)?,
        }
    };
    wait(be, rx, start).await
}

/// `use-server`: the named server takes the request, queueing on it when it is full. None
/// when it is down: the request then goes through the balancer, as in HAProxy.
pub async fn assign_to(be: &BackendRt, server: usize) -> Option<Result<Assigned, AssignError>> {
    let start = Instant::now();
    let rx = {
        let mut st = be.lock();
        let st = &mut *st;
        if !st.lb.is_up(server) {
            return None;
        }
        let max = be.servers[server].maxconn;
        if max == 0 || st.lb.cur_conns(server) < max {
            return Some(Ok(take(be, st, server)));
        }
        match enqueue(be, st, Some(server)) {
            Ok(rx) => rx,
            Err(e) => return Some(Err(e)),
        }
    };
    Some(wait(be, rx, start).await)
}

/// Counts a request on a server with room.
fn take(be: &BackendRt, st: &mut crate::runtime::LbState, i: usize) -> Assigned {
    st.lb.conn_started(i);
    be.servers[i].counters.enter();
    Assigned {
        server: i,
        queued: Duration::ZERO,
        srv_queue: 0,
        backend_queue: 0,
    }
}

/// Queues a request on a server (`Some`) or the backend (`None`), within `maxqueue`.
fn enqueue(
    be: &BackendRt,
    st: &mut crate::runtime::LbState,
    server: Option<usize>,
) -> Result<oneshot::Receiver<usize>, AssignError> {
    if let Some(i) = server {
        let max = be.servers[i].maxqueue;
        if max != 0 && st.queued_per_server[i] >= max {
            return Err(AssignError::QueueFull);
        }
        st.queued_per_server[i] += 1;
    }
    let (tx, rx) = oneshot::channel();
    st.waiters.push_back(Waiter { server, tx });
    sync_queue_lengths(st);
    Ok(rx)
}

/// Waits for a queued request's slot, up to `timeout queue`.
async fn wait(
    be: &BackendRt,
    rx: oneshot::Receiver<usize>,
    start: Instant,
) -> Result<Assigned, AssignError> {
    let backend_queue = be.lock().waiters.len() as u32;
    let outcome = match be.queue_timeout() {
        Some(t) => tokio::time::timeout(t, rx).await.ok(),
        None => Some(rx.await),
    };
    match outcome {
        Some(Ok(i)) => Ok(Assigned {
            server: i,
            queued: start.elapsed(),
            srv_queue: 0,
            backend_queue,
        }),
        // The sender is gone only if the runtime is being torn down: treat as a timeout.
        Some(Err(_)) | None => {
            // Dropping `rx` makes a later hand-over fail, and the releaser then gives the
            // slot to the next waiter; only our queue accounting is left to undo.
            let mut st = be.lock();
            st.waiters.retain(|w| !w.tx.is_closed());
            recount_server_queues(&mut st);
            Err(AssignError::QueueTimeout)
        }
    }
}

fn recount_server_queues(st: &mut crate::runtime::LbState) {
    for q in st.queued_per_server.iter_mut() {
        *q = 0;
    }
    for w in &st.waiters {
        if let Some(i) = w.server {
            if let Some(q) = st.queued_per_server.get_mut(i) {
                *q += 1;
            }
        }
    }
    sync_queue_lengths(st);
}

/// Tells the balancer the queue lengths: as in HAProxy, a server with requests in its own
/// queue counts as full, and while the backend queue is not empty new requests queue behind
/// it instead of overtaking.
fn sync_queue_lengths(st: &mut crate::runtime::LbState) {
    let backend = st.waiters.iter().filter(|w| w.server.is_none()).count() as u32;
    st.lb.set_backend_queue(backend);
    for i in 0..st.queued_per_server.len() {
        let n = st.queued_per_server[i];
        st.lb.set_server_queue(i, n);
    }
}

/// Gives a server slot back and hands it to the first waiter that may use it.
pub fn release(be: &BackendRt, server: usize) {
    be.servers[server].counters.leave();
    let mut st = be.lock();
    st.lb.conn_ended(server);
    hand_over(be, &mut st, server);
}

/// Offers freed capacity on `server` to queued requests, oldest first.
fn hand_over(be: &BackendRt, st: &mut crate::runtime::LbState, server: usize) {
    if !be.servers[server]
        .up
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return;
    }
    loop {
        let Some(pos) = st
            .waiters
            .iter()
            .position(|w| w.server.is_none_or(|s| s == server))
        else {
            return;
        };
        let Some(w) = st.waiters.remove(pos) else {
            return;
        };
        if let Some(i) = w.server {
            st.queued_per_server[i] = st.queued_per_server[i].saturating_sub(1);
        }
        sync_queue_lengths(st);
        // A backend-queue waiter takes whatever server the algorithm picks now, so the
        // weights still hold while the queue drains.
        let target = match w.server {
            Some(i) => i,
            None => match st.lb.pick(None, &mut st.rng, None) {
                Pick::Server(i) => i,
                _ => server,
            },
        };
        st.lb.conn_started(target);
        be.servers[target].counters.enter();
        if w.tx.send(target).is_ok() {
            if target == server {
                return;
            }
            // Another server had room too: keep draining for the freed one.
            continue;
        }
        // The waiter gave up (timeout) between our look and the send.
        st.lb.conn_ended(target);
        be.servers[target].counters.leave();
    }
}

/// Called when a server comes back up: queued requests may now be served.
pub fn server_up(be: &BackendRt, server: usize) {
    let mut st = be.lock();
    hand_over(be, &mut st, server);
}
