//! Sluice's data path: listeners, per-thread workers, the L4 relay and the HTTP/1 stream,
//! server connection pools and queues, health checks and access logs.

pub mod access_log;
pub mod buffer;
pub mod check;
pub mod http_rules;
pub mod idle;
pub mod listener;
pub mod mux_h2;
pub mod net;
pub mod netns;
pub mod pipe;
pub mod queue;
pub mod relay;
pub mod rules;
pub mod runtime;
pub mod server_conn;
pub mod server_h2;
pub mod stream_http;
pub mod stream_tcp;
mod sys;
pub mod termination;
pub mod tls_setup;
pub mod transport;
pub mod txn;
mod unchunk;
mod wait_timer;
pub mod worker;

use std::sync::Arc;

use sluice_config::Config;
use tokio::sync::watch;

pub use runtime::Runtime;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Bind(String),
    #[error("cannot open log targets: {0}")]
    Log(std::io::Error),
    #[error("{0}")]
    Rules(String),
    #[error("cannot start worker threads: {0}")]
    Threads(std::io::Error),
}

/// A running proxy.
pub struct Running {
    pub runtime: Arc<Runtime>,
    workers: Vec<std::thread::JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Running {
    /// Soft stop: listeners close, sessions in progress finish, then the workers end.
    pub fn soft_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits for every worker to end (after [`Running::soft_stop`]).
    pub fn join(self) {
        for w in self.workers {
            let _ = w.join();
        }
    }
}

/// Binds every listener (`threads` sockets per address). Done before forking into the
/// background so bind errors reach the terminal, as with HAProxy.
pub fn bind(cfg: &Config, threads: usize) -> Result<Vec<listener::BoundListener>, StartError> {
    listener::bind_all(cfg, threads.max(1)).map_err(|errs| {
        StartError::Bind(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// A configuration compiled for the data path: rules and TLS, checked once at load.
pub struct Prepared {
    pub rules: rules::CompiledRules,
    pub tls: tls_setup::TlsSetup,
    /// Per backend, per server: its network namespace (`namespace`).
    pub netns: netns::ServerNetns,
    /// Warnings found while compiling (ignored cipher names, `h2` left out of ALPN, ...).
    pub warnings: Vec<sluice_config::Diagnostic>,
}

/// Compiles rules and TLS settings (reads certificate, CA and pattern files). Every error is
/// returned, with its `file:line`.
pub fn prepare(cfg: &Config) -> Result<Prepared, Vec<sluice_config::Diagnostic>> {
    let rules = rules::compile(cfg);
    let tls = tls_setup::compile(cfg);
    let netns = netns::open_all(cfg);
    match (rules, tls, netns) {
        (Ok(mut rules), Ok((tls, tls_warnings)), Ok(netns)) => {
            let mut warnings = std::mem::take(&mut rules.warnings);
            warnings.extend(tls_warnings);
            Ok(Prepared {
                rules,
                tls,
                netns,
                warnings,
            })
        }
        (r, t, n) => {
            let mut errs = r.err().unwrap_or_default();
            errs.extend(t.err().unwrap_or_default());
            errs.extend(n.err().unwrap_or_default());
            Err(errs)
        }
    }
}

/// Starts the workers on bound listeners, and the health checks.
pub fn launch(
    cfg: &Config,
    prepared: Prepared,
    listeners: Vec<listener::BoundListener>,
    threads: usize,
    quiet: bool,
) -> Result<Running, StartError> {
    let rt = Arc::new(
        Runtime::build(
            cfg,
            prepared.rules,
            prepared.tls,
            prepared.netns,
            std::process::id(),
        )
        .map_err(StartError::Log)?,
    );
    let (stop, stop_rx) = watch::channel(false);
    let workers = worker::start(rt.clone(), listeners, threads.max(1), stop_rx)
        .map_err(StartError::Threads)?;
    check::start(rt.clone(), cfg, quiet).map_err(StartError::Threads)?;
    Ok(Running {
        runtime: rt,
        workers,
        stop,
    })
}

/// Compiles, binds and launches in one step (tests, foreground use).
pub fn start(cfg: &Config, threads: usize, quiet: bool) -> Result<Running, StartError> {
    let prepared = prepare(cfg).map_err(|d| {
        StartError::Rules(
            d.iter()
                .map(|x| x.render(std::process::id()))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    let listeners = bind(cfg, threads)?;
    launch(cfg, prepared, listeners, threads, quiet)
}
