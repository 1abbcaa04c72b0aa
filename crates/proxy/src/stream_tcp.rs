//! One client connection in `mode tcp` (manual 4, `mode tcp`): pick a server (queueing at
//! `maxconn`), connect with retries, relay bytes both ways with half-close, log with
//! `option tcplog`.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use sluice_config::{Balance, HashType};
use tokio::net::TcpStream;

use crate::access_log::{self, TcpLog};
use crate::buffer::Buf;
use crate::queue::{self, AssignError};
use crate::relay::{relay, RelayTimeouts};
use crate::runtime::{FrontendRt, Runtime};
use crate::server_conn::{self, ConnectError};
use crate::termination::{Term, TermPhase};

pub async fn serve(
    rt: &Runtime,
    fe: &FrontendRt,
    mut client: TcpStream,
    peer: SocketAddr,
    accept_time: SystemTime,
) {
    let accepted = Instant::now();
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
    };
    // `use_backend` rules in a TCP frontend see the connection's addresses.
    let rules = &rt.rules.frontends[fe.id];
    let mut chosen = fe.default_backend;
    if !rules.use_backend.is_empty() {
        let txn = crate::txn::ConnTxn {
            src: peer,
            dst: client.local_addr().ok(),
        };
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
        let txn = crate::txn::ConnTxn {
            src: peer,
            dst: client.local_addr().ok(),
        };
        crate::http_rules::eval_use_server(rt, fe.id, be_id, &txn)
    };
    match server_conn::connect(be, key, forced, false).await {
        Ok(conn) => {
            let srv = conn.assigned.server;
            log.server = Some(srv);
            log.t_queue = Some(conn.assigned.queued);
            log.t_connect = Some(conn.connect_time);
            log.retries = conn.retries;
            log.redispatched = conn.redispatched;
            log.srv_conn = be.servers[srv].counters.current();
            let mut server = conn.stream;
            let mut cbuf = Buf::new(rt.bufsize);
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
    access_log::log_tcp(rt, &log);
}
