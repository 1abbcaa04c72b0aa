//! Listening sockets for `bind` lines (manual 5.1): one `SO_REUSEPORT` socket per address and
//! worker thread so the kernel spreads connections over the workers, or a duplicate of an
//! inherited `fd@N`. Sockets are opened before any worker starts, so a bind failure is
//! reported at start-up as HAProxy reports it.

use sluice_config::{BindAddr, Config};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::SocketAddr;

/// The sockets of one listening address, one per worker thread.
pub struct BoundListener {
    pub frontend: usize,
    /// Index of the `bind` line in its frontend.
    pub bind: usize,
    /// The listener's name in logs: the bind's `name`, else its 1-based number in the
    /// frontend (HAProxy's `luid`, one per address).
    pub label: String,
    /// `proto h2` on the bind line.
    pub h2: bool,
    pub addr: String,
    pub sockets: Vec<std::net::TcpListener>,
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("Starting frontend {frontend}: cannot bind socket ({reason}) [{addr}]")]
    Bind {
        frontend: String,
        addr: String,
        reason: String,
    },
    #[error("Starting frontend {frontend}: {what} is not supported by Sluice yet [{addr}]")]
    Unsupported {
        frontend: String,
        addr: String,
        what: &'static str,
    },
}

fn reason(e: &std::io::Error) -> String {
    // HAProxy prints the bare strerror() text.
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn open_inet(
    addr: SocketAddr,
    v6only: Option<bool>,
    backlog: i32,
    ns: Option<&crate::netns::Netns>,
) -> std::io::Result<std::net::TcpListener> {
    let sock = match ns {
        // `bind ... namespace`: the socket is made inside it and listens there.
        Some(ns) => crate::netns::tcp_socket_in(ns, addr)?,
        None => Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?,
    };
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if let (SocketAddr::V6(_), Some(only)) = (addr, v6only) {
        sock.set_only_v6(only)?;
    }
    sock.set_nodelay(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

fn dup_fd(fd: i32) -> std::io::Result<std::net::TcpListener> {
    let l = crate::sys::listener_from_owned(crate::sys::dup_cloexec(fd)?);
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Opens every bind address of every enabled frontend, `threads` sockets each.
pub fn bind_all(cfg: &Config, threads: usize) -> Result<Vec<BoundListener>, Vec<BindError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (fi, fe) in cfg.frontends.iter().enumerate() {
        if fe.disabled {
            continue;
        }
        let backlog = fe
            .maxconn
            .or(cfg.global.maxconn)
            .unwrap_or(4096)
            .clamp(128, 65535) as i32;
        let mut luid = 0usize;
        for (bi, bind) in fe.binds.iter().enumerate() {
            let ns = match bind.namespace.as_deref().map(crate::netns::Netns::open) {
                None => None,
                Some(Ok(ns)) => Some(ns),
                Some(Err(e)) => {
                    errors.push(BindError::Bind {
                        frontend: fe.name.clone(),
                        addr: format!("namespace {}", bind.namespace.as_deref().unwrap_or("")),
                        reason: reason(&e),
                    });
                    continue;
                }
            };
            for a in &bind.addrs {
                luid += 1;
                let (label, res): (String, std::io::Result<Vec<std::net::TcpListener>>) = match a {
                    BindAddr::Inet(sa) => (
                        sa.to_string(),
                        (0..threads)
                            .map(|_| open_inet(*sa, bind.v6only, backlog, ns.as_ref()))
                            .collect(),
                    ),
                    BindAddr::Fd(fd) => (
                        format!("fd@{fd}"),
                        (0..threads).map(|_| dup_fd(*fd)).collect(),
                    ),
                    BindAddr::Unix(p) => {
                        errors.push(BindError::Unsupported {
                            frontend: fe.name.clone(),
                            addr: p.display().to_string(),
                            what: "a UNIX socket bind",
                        });
                        continue;
                    }
                };
                match res {
                    Ok(sockets) => out.push(BoundListener {
                        frontend: fi,
                        bind: bi,
                        label: bind.name.clone().unwrap_or_else(|| luid.to_string()),
                        h2: bind.proto_h2,
                        addr: label,
                        sockets,
                    }),
                    Err(e) => errors.push(BindError::Bind {
                        frontend: fe.name.clone(),
                        addr: label,
                        reason: reason(&e),
                    }),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
