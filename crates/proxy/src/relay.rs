//! Bidirectional byte relay between a client and a server connection, used by `mode tcp`
//! and by HTTP tunnels (WebSocket, CONNECT). Implements the timeouts of manual 4.2:
//! `timeout client|server` per side, `client-fin|server-fin` once a side half-closed, and
//! `timeout tunnel` superseding both for the whole tunnel.

use std::future::Future;
use std::io;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::Interest;

use crate::buffer::Buf;
use crate::transport::Conn;
use crate::wait_timer::WaitTimer;

#[derive(Debug, Clone, Copy, Default)]
pub struct RelayTimeouts {
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tunnel: Option<Duration>,
}

impl RelayTimeouts {
    /// The client side's timeouts from the frontend, the server side's from the backend;
    /// `timeout tunnel` from the backend, else the frontend.
    pub fn between(fe: &sluice_config::Timeouts, be: &sluice_config::Timeouts) -> Self {
        RelayTimeouts {
            client: fe.client,
            server: be.server,
            client_fin: fe.client_fin,
            server_fin: be.server_fin,
            tunnel: be.tunnel.or(fe.tunnel),
        }
    }
}

/// How a relay ended, in the terms of HAProxy's termination state's first letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both sides closed cleanly (`--`).
    Normal,
    /// The client reset or failed (`CD`).
    ClientError,
    /// The server reset or failed (`SD`).
    ServerError,
    /// Client-side inactivity timeout (`cD`).
    ClientTimeout,
    /// Server-side inactivity timeout (`sD`).
    ServerTimeout,
}

impl RelayEnd {
    /// The termination state this end is logged with (data phase).
    pub fn term(self) -> crate::termination::Term {
        use crate::termination::{Term, TermPhase};
        match self {
            RelayEnd::Normal => Term::normal(),
            RelayEnd::ClientError => Term::new(b'C', TermPhase::Data),
            RelayEnd::ServerError => Term::new(b'S', TermPhase::Data),
            RelayEnd::ClientTimeout => Term::new(b'c', TermPhase::Data),
            RelayEnd::ServerTimeout => Term::new(b's', TermPhase::Data),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RelayResult {
    pub client_to_server: u64,
    pub server_to_client: u64,
    pub end: RelayEnd,
}

fn later(t: Instant, d: Option<Duration>) -> Option<Instant> {
    d.map(|d| t + d)
}

/// Relays until both directions are closed, an error, or a timeout. `cbuf` may already hold
/// client bytes destined to the server (and `sbuf` server bytes for the client).
pub async fn relay(
    client: &mut Conn,
    server: &mut Conn,
    cbuf: &mut Buf,
    sbuf: &mut Buf,
    t: RelayTimeouts,
) -> RelayResult {
    let mut res = RelayResult {
        client_to_server: 0,
        server_to_client: 0,
        end: RelayEnd::Normal,
    };
    let mut client_eof = false;
    let mut server_eof = false;
    let mut server_shut = false;
    let mut client_shut = false;
    let mut client_seen = Instant::now();
    let mut server_seen = client_seen;
    // One timer for the whole relay: each message moves the deadlines on, and a timer
    // registered and cancelled per message cost more than the forwarding itself.
    let timer = tokio::time::sleep_until(client_seen.into());
    tokio::pin!(timer);
    let mut wait = WaitTimer::new();
    let mut client_first = false;
    loop {
        // Half-close propagation once everything read from a side was delivered.
        if client_eof && cbuf.is_empty() && !server_shut {
            let _ = server.shutdown().await;
            server_shut = true;
        }
        if server_eof && sbuf.is_empty() && !client_shut {
            let _ = client.shutdown().await;
            client_shut = true;
        }
        if client_shut && server_shut {
            return res;
        }
        // An idle tunnel holds no buffer: storage comes back from the thread's pool on the
        // next read.
        cbuf.release_if_empty();
        sbuf.release_if_empty();
        let c_read = !client_eof && !cbuf.is_full();
        let c_write = !sbuf.is_empty();
        let s_read = !server_eof && !sbuf.is_full();
        let s_write = !cbuf.is_empty();
        let c_interest = interest(c_read, c_write);
        let s_interest = interest(s_read, s_write);

        let deadline = match t.tunnel {
            Some(tun) => Some((client_seen.max(server_seen) + tun, RelayEnd::ClientTimeout)),
            None => {
                let c = later(
                    client_seen,
                    if client_eof {
                        t.client_fin.or(t.client)
                    } else {
                        t.client
                    },
                );
                let s = later(
                    server_seen,
                    if server_eof {
                        t.server_fin.or(t.server)
                    } else {
                        t.server
                    },
                );
                match (c, s) {
                    (Some(c), Some(s)) if s < c => Some((s, RelayEnd::ServerTimeout)),
                    (Some(c), _) => Some((c, RelayEnd::ClientTimeout)),
                    (None, Some(s)) => Some((s, RelayEnd::ServerTimeout)),
                    (None, None) => None,
                }
            }
        };
        wait.arm(timer.as_mut(), deadline.map(|(at, _)| at));

        // Both sides and the timer are polled from one future, with no readiness future
        // per wait; the side polled first alternates, so neither starves the other.
        client_first = !client_first;
        let wake = std::future::poll_fn(|cx| {
            for client_turn in [client_first, !client_first] {
                let (conn, interest) = if client_turn {
                    (&mut *client, c_interest)
                } else {
                    (&mut *server, s_interest)
                };
                let Some(interest) = interest else { continue };
                if let Poll::Ready(r) = conn.poll_ready(cx, interest) {
                    return Poll::Ready(if client_turn {
                        Wake::Client(r)
                    } else {
                        Wake::Server(r)
                    });
                }
            }
            if wait.is_armed() && timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            Poll::Pending
        })
        .await;
        match wake {
            Wake::Client(r) => {
                let Ok(ready) = r else {
                    res.end = RelayEnd::ClientError;
                    return res;
                };
                if c_write && ready.is_writable() {
                    match client.try_write(sbuf.data()) {
                        Ok(n) => {
                            sbuf.consume(n);
                            res.server_to_client += n as u64;
                            client_seen = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            res.end = RelayEnd::ClientError;
                            return res;
                        }
                    }
                }
                if c_read && (ready.is_readable() || ready.is_read_closed()) {
                    match client.try_read_into(cbuf) {
                        Ok(0) => {
                            client_eof = true;
                            client_seen = Instant::now();
                        }
                        Ok(_) => {
                            client_seen = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            res.end = RelayEnd::ClientError;
                            return res;
                        }
                    }
                }
            }
            Wake::Server(r) => {
                let Ok(ready) = r else {
                    res.end = RelayEnd::ServerError;
                    return res;
                };
                if s_write && ready.is_writable() {
                    match server.try_write(cbuf.data()) {
                        Ok(n) => {
                            cbuf.consume(n);
                            res.client_to_server += n as u64;
                            server_seen = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            res.end = RelayEnd::ServerError;
                            return res;
                        }
                    }
                }
                if s_read && (ready.is_readable() || ready.is_read_closed()) {
                    match server.try_read_into(sbuf) {
                        Ok(0) => {
                            server_eof = true;
                            server_seen = Instant::now();
                        }
                        Ok(_) => {
                            server_seen = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => {
                            res.end = RelayEnd::ServerError;
                            return res;
                        }
                    }
                }
            }
            Wake::Timer => {
                let now = wait.fired();
                if let Some((at, end)) = deadline {
                    if at <= now {
                        res.end = end;
                        return res;
                    }
                }
                // Early: activity moved the deadline on; the next round arms it again.
            }
        }
        // Nothing left to do on either side (both read-closed with data drained) is handled
        // at the top of the loop; a side with no interest simply is not polled.
        if c_interest.is_none() && s_interest.is_none() {
            return res;
        }
    }
}

/// What woke the relay.
enum Wake {
    Client(io::Result<tokio::io::Ready>),
    Server(io::Result<tokio::io::Ready>),
    Timer,
}

fn interest(read: bool, write: bool) -> Option<Interest> {
    match (read, write) {
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Some(Interest::READABLE),
        (false, true) => Some(Interest::WRITABLE),
        (false, false) => None,
    }
}
