//! Worker threads (manual 3.1 `nbthread`): each runs its own current-thread tokio runtime
//! with its own listening sockets, as HAProxy runs one event loop per thread; connections
//! never migrate between threads, so per-thread pools need no locks.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sluice_config::Mode;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::listener::BoundListener;
use crate::runtime::Runtime;
use crate::stream_http::{Served, StreamStart};
use crate::transport::Conn;

/// A connection's place under `maxconn` (global and frontend): given back when the
/// connection ends, whatever way it ends, parked or not.
pub struct ConnSlots {
    rt: Arc<Runtime>,
    fe: usize,
}

impl Drop for ConnSlots {
    fn drop(&mut self) {
        self.rt.actconn.fetch_sub(1, Ordering::Relaxed);
        self.rt.frontends[self.fe].counters.leave();
        self.rt.frontends[self.fe].slots.add_permits(1);
        self.rt.global_slots.add_permits(1);
    }
}

/// Logs a connection that failed its TLS handshake, as HAProxy logs embryonic sessions
/// (not at all under `option dontlognull` when the client just went away).
fn log_handshake_failure(
    fe: &crate::runtime::FrontendRt,
    peer: std::net::SocketAddr,
    accept_time: SystemTime,
    listener: &str,
    e: &crate::transport::HandshakeError,
) {
    use crate::transport::HandshakeError;
    if !fe.logger.is_enabled() || (fe.dontlognull && matches!(e, HandshakeError::Closed)) {
        return;
    }
    let msg = match e {
        HandshakeError::Closed => "Connection closed during SSL handshake",
        HandshakeError::Timeout => "Timeout during SSL handshake",
        HandshakeError::Tls(_) => "SSL handshake failure",
    };
    let mut line = crate::buffer::take_vec();
    sluice_log::format_embryonic(peer, accept_time, &fe.name, listener, msg, &mut line);
    // LOG_INFO, or LOG_ERR under `option log-separate-errors`.
    fe.logger
        .log(if fe.log_separate_errors { 3 } else { 6 }, &line);
    crate::buffer::give_vec(line);
}

/// What a listening socket serves.
struct ListenerCtx {
    fe: usize,
    /// The line's TLS acceptor, for `bind ... ssl`.
    tls: Option<Arc<sluice_tls::BindAcceptor>>,
    /// The listener's name in logs.
    label: Arc<str>,
    /// `proto h2`: clients speak HTTP/2 from the first byte.
    h2: bool,
}

/// What the accept loop hands to a connection's task.
struct Accepted {
    rt: Arc<Runtime>,
    fe_id: usize,
    sock: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    tls: Option<Arc<sluice_tls::BindAcceptor>>,
    label: Arc<str>,
    h2_bind: bool,
}

/// One accepted connection, start to end: TLS handshake when the bind has `ssl`, then the
/// stream of its mode and protocol. The arguments come boxed and are unpacked at once: an
/// async fn keeps its arguments for its whole life, and every idle connection would carry
/// them.
async fn session(a: Box<Accepted>) {
    let Accepted {
        rt,
        fe_id,
        sock,
        peer,
        tls,
        label,
        h2_bind,
    } = {
        // Unboxed in a block so the box is freed now, not when the session ends.
        let a = a;
        *a
    };
    let slots = ConnSlots { rt, fe: fe_id };
    let rt = &slots.rt;
    let fe = &rt.frontends[fe_id];
    let now = SystemTime::now();
    let conn = match tls {
        None => Conn::Plain(sock),
        Some(acc) => {
            // The handshake is bounded by `timeout client`, as HAProxy bounds an embryonic
            // session. Boxed, as HTTP/2 below: a task is as large as its largest state, and
            // idle HTTP/1 connections are the many.
            let deadline = fe.timeouts.client.map(|t| Instant::now() + t);
            match Box::pin(crate::transport::accept(sock, &acc, deadline)).await {
                Ok(c) => c,
                Err(e) => {
                    log_handshake_failure(fe, peer, now, &label, &e);
                    return;
                }
            }
        }
    };
    // Only handshake failures are logged with the listener's name.
    drop(label);
    // HTTP/2 when ALPN chose it, or on a `proto h2` bind (prior knowledge).
    let h2 = fe.mode == Mode::Http && (h2_bind || conn.alpn() == Some(b"h2"));
    match fe.mode {
        Mode::Http if h2 => {
            Box::pin(crate::mux_h2::serve(rt.clone(), fe_id, conn, peer, now)).await
        }
        Mode::Http => {
            let start = StreamStart::fresh(now);
            // TLS connections are not parked: their TLS state is most of what they hold.
            crate::stream_http::serve(rt, fe, conn, peer, start, None).await;
        }
        Mode::Tcp => Box::pin(crate::stream_tcp::serve(rt, fe, conn, peer, now)).await,
    }
}

/// A clear HTTP/1 connection, the common case: what its task starts from, and what the idle
/// set holds of it while it is parked ([`crate::idle`]).
pub struct HttpConn {
    slots: ConnSlots,
    pub(crate) sock: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    start: StreamStart,
    /// When its idle timeout runs out, while parked.
    pub(crate) deadline: Option<Instant>,
}

/// A clear HTTP/1 connection in a task of its own kind: nothing but the HTTP stream's state
/// is kept while it is idle, and after a while idle not even a task.
async fn http_session(conn: Box<HttpConn>) {
    let HttpConn {
        slots,
        sock,
        peer,
        start,
        ..
    } = {
        // Unboxed in a block so the box is freed now, not when the session ends.
        let c = conn;
        *c
    };
    let rt = &*slots.rt;
    let fe = &rt.frontends[slots.fe];
    let park_after = Some(crate::idle::PARK_AFTER);
    let served =
        crate::stream_http::serve(rt, fe, Conn::Plain(sock), peer, start, park_after).await;
    if let Served::Idle {
        client: Conn::Plain(sock),
        start,
        deadline,
    } = served
    {
        crate::idle::park(Box::new(HttpConn {
            slots,
            sock,
            peer,
            start,
            deadline,
        }));
    }
}

/// Serves a parked connection again, in a new task.
pub(crate) fn resume_http(conn: Box<HttpConn>) {
    tokio::spawn(http_session(conn));
}

async fn accept_loop(
    rt: Arc<Runtime>,
    lc: ListenerCtx,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let fe_id = lc.fe;
    loop {
        let fe = &rt.frontends[fe_id];
        // Take the slots before accepting: at maxconn, connections wait in the kernel's
        // backlog as in HAProxy, instead of being accepted and starved.
        let permits = tokio::select! {
            g = rt.global_slots.acquire() => g,
            _ = stop.changed() => return,
        };
        let Ok(g) = permits else { return };
        let f = tokio::select! {
            f = fe.slots.acquire() => f,
            _ = stop.changed() => return,
        };
        let Ok(f) = f else { return };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok((sock, peer)) => {
                let conn_rules = &rt.rules.frontends[fe_id];
                if !conn_rules.tcp_connection.is_empty() {
                    let txn = crate::txn::ConnTxn::new(peer, sock.local_addr().ok(), None);
                    if !conn_rules.accept_connection(&txn) {
                        // `tcp-request connection reject`: closed at once and not
                        // logged, as HAProxy does.
                        continue;
                    }
                }
                g.forget();
                f.forget();
                let _ = sock.set_nodelay(true);
                if fe.access_log == sluice_config::AccessLog::Default
                    && rt.rules.frontends[fe_id].log_format.is_none()
                    && fe.logger.is_enabled()
                {
                    // Without httplog/tcplog HAProxy logs only the accept ("Connect from").
                    if let Ok(local) = sock.local_addr() {
                        let mut line = crate::buffer::take_vec();
                        sluice_log::format_connect(peer, local, &fe.name, fe.mode, &mut line);
                        fe.logger.log(6, &line);
                        crate::buffer::give_vec(line);
                    }
                }
                rt.actconn.fetch_add(1, Ordering::Relaxed);
                fe.counters.enter();
                let tls = lc.tls.clone();
                let h2_bind = lc.h2;
                if tls.is_none() && !h2_bind && fe.mode == Mode::Http {
                    tokio::spawn(http_session(Box::new(HttpConn {
                        slots: ConnSlots {
                            rt: rt.clone(),
                            fe: fe_id,
                        },
                        sock,
                        peer,
                        start: StreamStart::fresh(SystemTime::now()),
                        deadline: None,
                    })));
                } else {
                    tokio::spawn(session(Box::new(Accepted {
                        rt: rt.clone(),
                        fe_id,
                        sock,
                        peer,
                        tls,
                        label: lc.label.clone(),
                        h2_bind,
                    })));
                }
            }
            Err(_) => {
                // Out of descriptors or a transient accept error: back off briefly rather
                // than spin (HAProxy pauses the listener the same way).
                drop((g, f));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Starts `threads` workers serving `listeners`. Returns their join handles; they end when
/// `stop` turns true and their connections are done.
pub fn start(
    rt: Arc<Runtime>,
    listeners: Vec<BoundListener>,
    threads: usize,
    stop: watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    // Hand socket `t` of every address to thread `t`.
    let mut per_thread: Vec<Vec<(ListenerCtx, std::net::TcpListener)>> =
        (0..threads).map(|_| Vec::new()).collect();
    for l in listeners {
        let tls = rt
            .tls_binds
            .get(l.frontend)
            .and_then(|b| b.get(l.bind))
            .cloned()
            .flatten();
        let label: Arc<str> = Arc::from(l.label.as_str());
        for (t, s) in l.sockets.into_iter().enumerate() {
            if let Some(v) = per_thread.get_mut(t) {
                let lc = ListenerCtx {
                    fe: l.frontend,
                    tls: tls.clone(),
                    label: label.clone(),
                    h2: l.h2,
                };
                v.push((lc, s));
            }
        }
    }
    let mut handles = Vec::new();
    for (t, socks) in per_thread.into_iter().enumerate() {
        let rt = rt.clone();
        let stop = stop.clone();
        let h = std::thread::Builder::new()
            .name(format!("sluice-w{t}"))
            .spawn(move || {
                let Ok(tokio_rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build()
                else {
                    eprintln!("[ALERT] worker {t}: cannot start its event loop");
                    return;
                };
                tokio_rt.block_on(async move {
                    let mut loops = Vec::new();
                    for (lc, s) in socks {
                        match TcpListener::from_std(s) {
                            Ok(l) => loops.push(tokio::spawn(accept_loop(
                                rt.clone(),
                                lc,
                                l,
                                stop.clone(),
                            ))),
                            Err(e) => eprintln!("[ALERT] worker {t}: listener: {e}"),
                        }
                    }
                    for l in loops {
                        let _ = l.await;
                    }
                    // Idle keep-alive connections are closed (HAProxy does so on a soft
                    // stop); the others finish their request first.
                    crate::idle::stop_here();
                    // Soft stop: wait for this thread's sessions to finish.
                    while rt.actconn.load(Ordering::Relaxed) > 0 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                });
            })?;
        handles.push(h);
    }
    Ok(handles)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    /// A runtime for a one-frontend config, for tests that drive sessions directly.
    pub(crate) fn runtime_for(text: &str) -> Arc<crate::Runtime> {
        let cfg =
            sluice_config::load_str("t.cfg", text, &|_| None).unwrap_or_else(|e| panic!("{e:?}"));
        let prepared = crate::prepare(&cfg.config).unwrap_or_else(|e| panic!("{e:?}"));
        Arc::new(
            crate::Runtime::build(&cfg.config, prepared.rules, prepared.tls, prepared.netns, 1)
                .unwrap(),
        )
    }

    /// A loopback connection: the client end, and the accepted end with its peer address.
    pub(crate) async fn loopback_pair() -> (
        tokio::net::TcpStream,
        tokio::net::TcpStream,
        std::net::SocketAddr,
    ) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let (s, peer) = l.accept().await.unwrap();
        (c, s, peer)
    }

    /// An accepted clear HTTP connection of frontend 0, counted as the accept loop counts it.
    pub(crate) fn http_conn(
        rt: &Arc<crate::Runtime>,
        sock: tokio::net::TcpStream,
        peer: std::net::SocketAddr,
    ) -> Box<super::HttpConn> {
        rt.actconn.fetch_add(1, Ordering::Relaxed);
        rt.frontends[0].counters.enter();
        Box::new(super::HttpConn {
            slots: super::ConnSlots {
                rt: rt.clone(),
                fe: 0,
            },
            sock,
            peer,
            start: super::StreamStart::fresh(std::time::SystemTime::now()),
            deadline: None,
        })
    }

    /// What one idle HTTP/1 connection costs in task memory before it is parked: the future
    /// of its task (the per-request work is boxed apart and gone while idle). A guard
    /// against a large state (a TLS handshake, an HTTP/2 session) growing it again.
    #[test]
    fn an_idle_http_connection_task_stays_small() {
        let rt = runtime_for(
            "defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    server s 127.0.0.1:1\n",
        );
        let trt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        trt.block_on(async {
            let (c, s, peer) = loopback_pair().await;
            let fut = super::http_session(http_conn(&rt, s, peer));
            let size = std::mem::size_of_val(&fut);
            eprintln!("connection task future: {size} bytes");
            assert!(
                size <= 640,
                "the connection task future grew to {size} bytes"
            );
            drop(c);
        });
    }
}
