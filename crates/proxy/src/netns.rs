//! Network namespaces for servers (manual 5.2 `namespace`): a socket is created inside the
//! namespace `/var/run/netns/NAME` and keeps it for its whole life, whichever thread uses it.
//! As HAProxy does, the creating thread enters the namespace for the `socket()` call only and
//! comes straight back.

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

/// Where `ip netns add` puts named namespaces (HAProxy looks there too).
const NETNS_DIR: &str = "/var/run/netns";

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
    fd: OwnedFd,
}

impl Netns {
    /// Opens `/var/run/netns/NAME`.
    pub fn open(name: &str) -> io::Result<Netns> {
        let f = File::open(std::path::Path::new(NETNS_DIR).join(name))?;
        Ok(Netns {
            name: name.to_string(),
            fd: OwnedFd::from(f),
        })
    }
}

/// The namespace the process started in, to come back to.
fn home() -> io::Result<&'static OwnedFd> {
    static HOME: OnceLock<Option<OwnedFd>> = OnceLock::new();
    HOME.get_or_init(|| File::open("/proc/self/ns/net").ok().map(OwnedFd::from))
        .as_ref()
        .ok_or_else(|| io::Error::other("cannot open /proc/self/ns/net"))
}

/// A non-blocking TCP socket for `addr`, created inside `ns`.
pub fn tcp_socket_in(ns: &Netns, addr: SocketAddr) -> io::Result<Socket> {
    let home = home()?;
    crate::sys::setns_net(&ns.fd)?;
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP));
    if let Err(e) = crate::sys::setns_net(home) {
        // This thread would go on creating sockets in the wrong namespace: a failure to
        // come back is fatal for the process, as it cannot be repaired from here.
        eprintln!(
            "[ALERT]    ({}) : cannot leave network namespace '{}': {e}",
            std::process::id(),
            ns.name
        );
        std::process::abort();
    }
    let s = s?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// Connects to `addr` from inside `ns`, or from the process's own namespace.
pub async fn connect(addr: SocketAddr, ns: Option<&Netns>) -> io::Result<tokio::net::TcpStream> {
    match ns {
        None => tokio::net::TcpStream::connect(addr).await,
        Some(ns) => {
            let s = tcp_socket_in(ns, addr)?;
            let std: std::net::TcpStream = s.into();
            tokio::net::TcpSocket::from_std_stream(std)
                .connect(addr)
                .await
        }
    }
}

/// Opens the namespace of every server that names one, sharing one descriptor per name.
/// A namespace that cannot be opened is a configuration error, in HAProxy's words.
pub type ServerNetns = Vec<Vec<Option<std::sync::Arc<Netns>>>>;

pub fn open_all(
    cfg: &sluice_config::Config,
) -> Result<ServerNetns, Vec<sluice_config::Diagnostic>> {
    use sluice_config::{Diagnostic, Style};
    let mut opened: Vec<std::sync::Arc<Netns>> = Vec::new();
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(cfg.backends.len());
    for be in &cfg.backends {
        let mut per = Vec::with_capacity(be.servers.len());
        for srv in &be.servers {
            let Some(name) = &srv.namespace else {
                per.push(None);
                continue;
            };
            if let Some(ns) = opened.iter().find(|n| &n.name == name) {
                per.push(Some(ns.clone()));
                continue;
            }
            match Netns::open(name) {
                Ok(ns) => {
                    let ns = std::sync::Arc::new(ns);
                    opened.push(ns.clone());
                    per.push(Some(ns));
                }
                Err(_) => {
                    errors.push(
                        Diagnostic::alert(
                            &srv.location,
                            format!(
                                "'server {}/{}' : Cannot open namespace '{name}'.",
                                be.name, srv.name
                            ),
                        )
                        .with_style(Style::Bracket),
                    );
                    per.push(None);
                }
            }
        }
        out.push(per);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
