//! The compiled configuration the data path reads: frontends and backends with their balancer,
//! server states and counters, built once at load from `sluice_config::Config` and shared by
//! every worker thread behind an `Arc`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sluice_balance::{Algo, Lb, ServerSpec, XorShift64};
use sluice_config::{
    AccessLog, Backend, Balance, Config, Frontend, HashType, HttpConnMode, Mode, Timeouts,
};
use sluice_log::Logger;
use tokio::sync::Semaphore;

use crate::queue::Waiter;

/// Counters of one frontend, backend or server; read by logs now, by stats later.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections (frontend) or requests/sessions (backend, server) in progress.
    pub cur: AtomicU32,
    pub total: AtomicU64,
}

impl Counters {
    pub fn enter(&self) -> u32 {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.cur.fetch_add(1, Ordering::Relaxed) + 1
    }
    pub fn leave(&self) {
        self.cur.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn current(&self) -> u32 {
        self.cur.load(Ordering::Relaxed)
    }
}

/// A server as the data path sees it.
#[derive(Debug)]
pub struct ServerRt {
    pub name: String,
    pub addr: SocketAddr,
    pub counters: Counters,
    /// Health as the checker last decided (true when checks are off).
    pub up: AtomicBool,
    pub maxqueue: u32,
    /// 0 = unlimited.
    pub maxconn: u32,
    /// `ssl`: TLS towards the server.
    pub tls: Option<Arc<crate::tls_setup::ServerTlsRt>>,
    /// Whether the traffic itself is TLS (`ssl`), not only the checks (`check-ssl`).
    pub ssl: bool,
    /// `proto h2`: HTTP/2 to the server.
    pub h2: bool,
    /// `namespace`: the network namespace its connections are opened in.
    pub netns: Option<Arc<crate::netns::Netns>>,
}

/// The balancer and its queue, behind one lock per backend (HAProxy holds `lbprm.lock`
/// the same way). Held for a pick or a release, never across I/O.
pub struct LbState {
    pub lb: Lb,
    pub rng: XorShift64,
    pub waiters: std::collections::VecDeque<Waiter>,
    /// Requests queued per server (`Some(i)` waiters), for `maxqueue` and the log's `sq`.
    pub queued_per_server: Vec<u32>,
}

pub struct BackendRt {
    pub name: String,
    pub id: usize,
    pub mode: Mode,
    pub balance: Balance,
    pub hash: sluice_config::HashSpec,
    pub servers: Vec<ServerRt>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub redispatch: Option<i32>,
    pub conn_mode: HttpConnMode,
    pub forwardfor: Option<sluice_config::ForwardFor>,
    pub counters: Counters,
    pub lb: Mutex<LbState>,
    pub logger: Logger,
    pub errorfiles: std::collections::BTreeMap<u16, Vec<u8>>,
}

impl BackendRt {
    /// The balancer lock; a poisoned lock (a panic elsewhere) still holds valid state.
    pub fn lock(&self) -> MutexGuard<'_, LbState> {
        self.lb.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `timeout queue`, or `timeout connect` when unset, as HAProxy does.
    pub fn queue_timeout(&self) -> Option<Duration> {
        self.timeouts.queue.or(self.timeouts.connect)
    }

    pub fn uses_hash(&self) -> bool {
        matches!(
            self.balance,
            Balance::Source | Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
        )
    }
}

pub struct FrontendRt {
    pub name: String,
    pub id: usize,
    pub mode: Mode,
    pub timeouts: Timeouts,
    pub default_backend: Option<usize>,
    pub maxconn: u32,
    pub access_log: AccessLog,
    pub dontlognull: bool,
    pub log_separate_errors: bool,
    pub forwardfor: Option<sluice_config::ForwardFor>,
    pub conn_mode: HttpConnMode,
    pub counters: Counters,
    pub logger: Logger,
    pub errorfiles: std::collections::BTreeMap<u16, Vec<u8>>,
    /// `unique-id-header`.
    pub unique_id_header: Option<String>,
    pub capture_request: Vec<(String, usize)>,
    pub capture_response: Vec<(String, usize)>,
    /// Free connection slots under this frontend's `maxconn`.
    pub slots: Semaphore,
}

/// Everything a worker needs, immutable after load but for atomics and the per-backend lock.
pub struct Runtime {
    pub frontends: Vec<FrontendRt>,
    pub backends: Vec<BackendRt>,
    pub global_maxconn: u32,
    /// Connections in progress across all frontends (`actconn` in the logs).
    pub actconn: AtomicU32,
    /// Requests received since start (`%rt` in log formats).
    pub requests_total: AtomicU64,
    /// Free connection slots under the global `maxconn`.
    pub global_slots: Semaphore,
    pub bufsize: usize,
    pub max_head: usize,
    pub max_headers: usize,
    pub logger: Logger,
    pub rules: crate::rules::CompiledRules,
    /// Per frontend, per `bind` line: the TLS acceptor of a `bind ... ssl`.
    pub tls_binds: Vec<Vec<Option<Arc<sluice_tls::BindAcceptor>>>>,
}

pub type SharedRuntime = Arc<Runtime>;

/// HAProxy's default `maxconn` when none is set (derived from the descriptor limit; we use
/// the compiled-in default of HAProxy 2.6 builds).
const DEFAULT_MAXCONN: u32 = 4096;

fn algo_of(balance: &Balance, hash_type: HashType) -> Algo {
    match balance {
        Balance::RoundRobin => Algo::RoundRobin,
        Balance::StaticRr => Algo::StaticRr,
        Balance::LeastConn => Algo::LeastConn,
        Balance::First => Algo::First,
        Balance::Random { draws } => Algo::Random { draws: *draws },
        Balance::Source | Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. } => {
            Algo::Hash {
                consistent: hash_type == HashType::Consistent,
            }
        }
    }
}

impl Runtime {
    /// Compiles a validated configuration. Log targets are opened here; the caller decides
    /// what to do with an error (at start: exit; at reload: keep the old runtime).
    pub fn build(
        cfg: &Config,
        rules: crate::rules::CompiledRules,
        tls: crate::tls_setup::TlsSetup,
        mut netns: crate::netns::ServerNetns,
        pid: u32,
    ) -> std::io::Result<Runtime> {
        let crate::tls_setup::TlsSetup {
            binds: tls_binds,
            servers: mut tls_servers,
        } = tls;
        let tag = cfg
            .global
            .log_tag
            .clone()
            .unwrap_or_else(|| "haproxy".into());
        let mut loggers = LoggerCache {
            tag,
            hostname: cfg.global.log_send_hostname.clone(),
            pid,
            started: Vec::new(),
        };
        let global_logger = loggers.get(&cfg.global.logs)?;
        let backends = cfg
            .backends
            .iter()
            .enumerate()
            .map(|(id, b)| {
                let tls = tls_servers
                    .get_mut(id)
                    .map(std::mem::take)
                    .unwrap_or_default();
                let ns = netns.get_mut(id).map(std::mem::take).unwrap_or_default();
                build_backend(id, b, tls, ns, &mut loggers, pid)
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let frontends = cfg
            .frontends
            .iter()
            .enumerate()
            .map(|(id, f)| build_frontend(id, f, cfg, &mut loggers))
            .collect::<std::io::Result<Vec<_>>>()?;
        let bufsize = cfg.global.bufsize.max(1024);
        let global_maxconn = cfg.global.maxconn.unwrap_or(DEFAULT_MAXCONN);
        Ok(Runtime {
            global_slots: Semaphore::new(global_maxconn as usize),
            requests_total: AtomicU64::new(0),
            frontends,
            backends,
            global_maxconn,
            actconn: AtomicU32::new(0),
            bufsize,
            max_head: bufsize.saturating_sub(cfg.global.maxrewrite).max(256),
            max_headers: cfg.global.max_headers.max(1),
            logger: global_logger,
            rules,
            tls_binds,
        })
    }
}

/// One logger (and writer thread) per distinct list of targets: `log global` in every
/// proxy shares the global one.
struct LoggerCache {
    tag: String,
    hostname: Option<String>,
    pid: u32,
    started: Vec<(Vec<sluice_config::LogTarget>, Logger)>,
}

impl LoggerCache {
    fn get(&mut self, targets: &[sluice_config::LogTarget]) -> std::io::Result<Logger> {
        if let Some((_, l)) = self.started.iter().find(|(t, _)| t.as_slice() == targets) {
            return Ok(l.clone());
        }
        let l = Logger::start(targets, &self.tag, self.hostname.as_deref(), self.pid)?;
        self.started.push((targets.to_vec(), l.clone()));
        Ok(l)
    }
}

fn build_backend(
    id: usize,
    b: &Backend,
    mut tls: Vec<Option<Arc<crate::tls_setup::ServerTlsRt>>>,
    mut netns: Vec<Option<Arc<crate::netns::Netns>>>,
    loggers: &mut LoggerCache,
    pid: u32,
) -> std::io::Result<BackendRt> {
    let specs: Vec<ServerSpec> = b
        .servers
        .iter()
        .map(|s| ServerSpec {
            id: s.id,
            weight: s.weight,
            backup: s.backup,
            maxconn: s.maxconn,
        })
        .collect();
    let mut lb = Lb::new(algo_of(&b.balance, b.hash.kind), &specs, b.allbackups);
    for (i, s) in b.servers.iter().enumerate() {
        if s.disabled {
            lb.set_up(i, false);
        }
    }
    let servers = b
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| ServerRt {
            tls: tls.get_mut(i).and_then(Option::take),
            ssl: s.ssl.enabled,
            h2: s.proto_h2,
            netns: netns.get_mut(i).and_then(Option::take),
            name: s.name.clone(),
            addr: s.addr,
            counters: Counters::default(),
            up: AtomicBool::new(!s.disabled),
            maxqueue: s.maxqueue,
            maxconn: s.maxconn,
        })
        .collect();
    let seed = 0x9E37_79B9_7F4A_7C15u64 ^ ((id as u64) << 32) ^ u64::from(pid);
    Ok(BackendRt {
        name: b.name.clone(),
        id,
        mode: b.mode,
        balance: b.balance.clone(),
        hash: b.hash,
        servers,
        timeouts: b.timeouts,
        retries: b.retries,
        redispatch: b.redispatch,
        conn_mode: b.conn_mode,
        forwardfor: b.forwardfor.clone(),
        counters: Counters::default(),
        lb: Mutex::new(LbState {
            lb,
            rng: XorShift64::new(seed),
            waiters: std::collections::VecDeque::new(),
            queued_per_server: vec![0; b.servers.len()],
        }),
        logger: loggers.get(&b.logs)?,
        errorfiles: b.errorfiles.clone(),
    })
}

fn build_frontend(
    id: usize,
    f: &Frontend,
    cfg: &Config,
    loggers: &mut LoggerCache,
) -> std::io::Result<FrontendRt> {
    let maxconn = f
        .maxconn
        .unwrap_or(cfg.global.maxconn.unwrap_or(DEFAULT_MAXCONN));
    Ok(FrontendRt {
        slots: Semaphore::new(maxconn as usize),
        unique_id_header: f.unique_id_header.clone(),
        capture_request: f.capture_request.clone(),
        capture_response: f.capture_response.clone(),
        name: f.name.clone(),
        id,
        mode: f.mode,
        timeouts: f.timeouts,
        default_backend: f.default_backend,
        maxconn,
        access_log: f.access_log,
        dontlognull: f.dontlognull,
        log_separate_errors: f.log_separate_errors,
        forwardfor: f.forwardfor.clone(),
        conn_mode: f.conn_mode,
        counters: Counters::default(),
        logger: loggers.get(&f.logs)?,
        errorfiles: f.errorfiles.clone(),
    })
}
