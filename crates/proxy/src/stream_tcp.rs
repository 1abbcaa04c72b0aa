//! One client connection in `mode tcp` (manual 4, `mode tcp`): pick a server (queueing at
//! `maxconn`), connect with retries, relay bytes both ways with half-close, log with
//! `option tcplog`.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use sluice_config::{Balance, HashType};

use crate::access_log::{self, TcpLog};
use crate::buffer::Buf;
use crate::queue::{self, AssignError};
use crate::relay::{relay, RelayTimeouts};
use crate::runtime::{FrontendRt, Runtime};
use crate::server_conn::{self, ConnectError};
use crate::termination::{Term, TermPhase};
use crate::transport::Conn;

pub async fn serve(
    rt: &Runtime,
    fe: &FrontendRt,
    mut client: Conn,
    peer: SocketAddr,
    accept_time: SystemTime,
) {
    let accepted = Instant::now();
    let ssl = client.take_ssl_info();
    let ssl = ssl.as_deref();
    let mut log = TcpLog {
        peer,
        accept_time,
        accepted,
        backend: fe.default_backend,
        server: None,
        t_queue: None,
        t_connect: None,
        bytes_out: 0,
        bytes_in: 0,
        term: Term::normal(),
        retries: 0,
        redispatched: false,
        beconn: 0,
        srv_conn: 0,
        fe,
        ssl,
    };
    let rules = &rt.rules.frontends[fe.id];
    let local = client.local_addr().ok();
    // `tcp-request session reject` closes without a log line, as in HAProxy.
    if !rules.tcp_session.is_empty() {
        let txn = crate::txn::ConnTxn::new(peer, local, ssl);
        if !rules.accept_session(&txn) {
            return;
        }
    }
    let mut cbuf = Buf::new(rt.bufsize);
    if !rules.tcp_content.is_empty() {
        let accept = inspect(rules, &mut client, &mut cbuf, accepted, peer, local, ssl).await;
        if !accept {
            // Refused before any backend was chosen: logged against the frontend.
            log.backend = None;
            log.term = Term::new(b'P', TermPhase::Request);
            access_log::log_tcp(rt, &log);
            return;
        }
    }
    // `use_backend` rules in a TCP frontend see the connection and the bytes inspected.
    let mut chosen = fe.default_backend;
    if !rules.use_backend.is_empty() {
        let txn = crate::txn::ConnTxn::new(peer, local, ssl).with_payload(cbuf.data(), true);
        if let Some(b) = crate::http_rules::eval_use_backend(
            &rules.use_backend,
            &txn,
            &txn,
            &rt.rules.backend_by_name,
        ) {
            chosen = Some(b);
        }
    }
    log.backend = chosen;
    let Some(be_id) = chosen else {
        log.term = Term::new(b'P', TermPhase::Request);
        access_log::log_tcp(rt, &log);
        return;
    };
    let be = &rt.backends[be_id];
    log.beconn = be.counters.enter();
    let key = match be.balance {
        Balance::Source => {
            let consistent = be.hash.kind == HashType::Consistent;
            Some(sluice_balance::hash::source_key(
                peer.ip(),
                consistent,
                sluice_balance::hash::effective_avalanche(
                    consistent,
                    be.hash.function_given,
                    be.hash.avalanche,
                ),
            ))
        }
        _ => None,
    };
    let forced = {
        let txn = crate::txn::ConnTxn::new(peer, local, ssl).with_payload(cbuf.data(), true);
        crate::http_rules::eval_use_server(rt, fe.id, be_id, &txn)
    };
    let sni_of = |srv: usize| {
        let e = rt.rules.server_sni.get(be_id)?.get(srv)?.as_ref()?;
        let txn = crate::txn::ConnTxn::new(peer, local, ssl).with_payload(cbuf.data(), true);
        crate::txn::eval_string(e, &txn)
    };
    match server_conn::connect(be, key, forced, false, &sni_of).await {
        Ok(conn) => {
            let srv = conn.assigned.server;
            log.server = Some(srv);
            log.t_queue = Some(conn.assigned.queued);
            log.t_connect = Some(conn.connect_time);
            log.retries = conn.retries;
            log.redispatched = conn.redispatched;
            log.srv_conn = be.servers[srv].counters.current();
            let mut server = conn.stream;
            let mut sbuf = Buf::new(rt.bufsize);
            let t = RelayTimeouts::between(&fe.timeouts, &be.timeouts);
            let res = relay(&mut client, &mut server, &mut cbuf, &mut sbuf, t).await;
            queue::release(be, srv);
            log.bytes_in = res.client_to_server;
            log.bytes_out = res.server_to_client;
            log.term = res.end.term();
        }
        Err(e) => {
            log.term = match e {
                ConnectError::Assign(AssignError::QueueTimeout) => {
                    log.t_queue = Some(accepted.elapsed());
                    Term::new(b's', TermPhase::Queue)
                }
                ConnectError::Assign(_) => Term::new(b'S', TermPhase::Connect),
                ConnectError::Failed {
                    server,
                    timeout,
                    retries,
                    queued,
                } => {
                    log.server = Some(server);
                    log.retries = retries;
                    log.t_queue = Some(queued);
                    Term::new(if timeout { b's' } else { b'S' }, TermPhase::Connect)
                }
            };
        }
    }
    be.counters.leave();
    // `%bc`/`%sc` at log time, after this session let go of them (HAProxy's order).
    log.beconn = be.counters.current();
    if let Some(srv) = log.server {
        log.srv_conn = be.servers[srv].counters.current();
    }
    access_log::log_tcp(rt, &log);
}

/// `tcp-request content` inspection (manual 4.2 `tcp-request inspect-delay`): reads the
/// client's first bytes into `cbuf` until the rules decide, the buffer is full, the client
/// closes or the delay runs out (then they decide on what came). Returns whether to go on.
async fn inspect(
    rules: &crate::rules::ProxyRules,
    client: &mut Conn,
    cbuf: &mut Buf,
    accepted: Instant,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    ssl: Option<&sluice_tls::ConnInfo>,
) -> bool {
    let deadline = rules.inspect_delay.map(|d| accepted + d);
    let mut eof = false;
    loop {
        let payload_final = eof || cbuf.is_full() || deadline.is_none_or(|d| Instant::now() >= d);
        let txn =
            crate::txn::ConnTxn::new(peer, local, ssl).with_payload(cbuf.data(), payload_final);
        match rules.content_verdict(&txn) {
            Some(v) => return v,
            // Undecided only while more bytes may come; defensive for a final payload.
            None if payload_final => return true,
            None => {}
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = client.ready(tokio::io::Interest::READABLE) => {
                if r.is_err() {
                    eof = true;
                    continue;
                }
                match client.try_read_into(cbuf) {
                    Ok(0) => eof = true,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => eof = true,
                }
            }
            _ = sleep => {}
        }
    }
}
