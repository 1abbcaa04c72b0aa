//! Compiles the TLS settings of a configuration once at load (manual 5.1 `bind ... ssl`, 5.2
//! `server ... ssl`): certificates and CA files are read and checked here, so a bad file is a
//! configuration error naming the line, never a failure at the first handshake.

use std::sync::Arc;

use sluice_config::{
    BindAddr, BindSsl, Config, Diagnostic, Location, ServerSsl, SslVerify, SslVersion,
};
use sluice_tls::rustls::ClientConfig;
use sluice_tls::{BindAcceptor, BindTls, CertStore, ServerTls, TlsError, TlsVersion, Verify};

/// TLS towards one server.
#[derive(Debug)]
pub struct ServerTlsRt {
    /// For the traffic.
    pub config: Arc<ClientConfig>,
    /// For health checks (`check-ssl`, or implied by `ssl` when checks go to the traffic port),
    /// with `check-alpn` in place of `alpn`.
    pub check: Option<Arc<ClientConfig>>,
    /// `check-sni`.
    pub check_sni: Option<String>,
}

/// Everything TLS in a configuration, compiled.
#[derive(Default)]
pub struct TlsSetup {
    /// Per frontend, per `bind` line: its acceptor when the line has `ssl`.
    pub binds: Vec<Vec<Option<Arc<BindAcceptor>>>>,
    /// Per backend, per server: its client settings when the server has `ssl` (or
    /// `check-ssl`).
    pub servers: Vec<Vec<Option<Arc<ServerTlsRt>>>>,
}

fn version(v: Option<SslVersion>) -> Option<TlsVersion> {
    v.map(|v| match v {
        SslVersion::SslV3 => TlsVersion::Ssl3,
        SslVersion::TlsV10 => TlsVersion::Tls10,
        SslVersion::TlsV11 => TlsVersion::Tls11,
        SslVersion::TlsV12 => TlsVersion::Tls12,
        SslVersion::TlsV13 => TlsVersion::Tls13,
    })
}

fn verify(v: SslVerify) -> Verify {
    match v {
        SslVerify::None => Verify::None,
        SslVerify::Optional => Verify::Optional,
        SslVerify::Required => Verify::Required,
    }
}

/// An `alpn` list as written (`h2,http/1.1`); none when absent.
fn alpn_of(text: Option<&str>) -> Result<Vec<Vec<u8>>, TlsError> {
    text.map_or(Ok(Vec::new()), sluice_tls::parse_alpn)
}

fn addr_label(addrs: &[BindAddr]) -> String {
    match addrs.first() {
        Some(BindAddr::Inet(a)) => a.to_string(),
        Some(BindAddr::Fd(fd)) => format!("fd@{fd}"),
        Some(BindAddr::Unix(p)) => p.display().to_string(),
        None => String::new(),
    }
}

fn bind_acceptor(
    s: &BindSsl,
    label: &str,
    loc: &Location,
    warnings: &mut Vec<Diagnostic>,
) -> Result<BindAcceptor, TlsError> {
    let mut store = CertStore::new();
    for crt in &s.crt {
        store.load_crt(crt, None)?;
    }
    for list in &s.crt_list {
        store.load_crt_list(list, s.crt_base.as_deref())?;
    }
    // HAProxy 2.6 serves an expired certificate without a word; Sluice loads it too (a
    // config HAProxy accepts must load) but says so, naming the file.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for e in store.entries() {
        if e.fields.not_after < now {
            warnings.push(Diagnostic::warning(
                loc,
                format!(
                    "'bind {label}' : the certificate in '{}' has expired; clients will refuse it.",
                    e.path.display()
                ),
            ));
        }
    }
    let alpn = alpn_of(s.alpn.as_deref())?;
    let b = BindTls {
        certs: Arc::new(store),
        alpn,
        min_ver: version(s.min_ver),
        max_ver: version(s.max_ver),
        ciphers: s.ciphers.clone(),
        ciphersuites: s.ciphersuites.clone(),
        curves: s.curves.clone(),
        ecdhe: s.ecdhe.clone(),
        verify: verify(s.verify),
        ca_file: s.ca_file.clone(),
        crl_file: s.crl_file.clone(),
        ca_base: s.ca_base.clone(),
        no_ca_names: s.no_ca_names,
        strict_sni: s.strict_sni,
        no_tls_tickets: s.no_tls_tickets,
        prefer_client_ciphers: s.prefer_client_ciphers,
    };
    let acc = BindAcceptor::new(&b)?;
    for w in acc.warnings() {
        warnings.push(Diagnostic::warning(loc, format!("'bind {label}' : {w}")));
    }
    Ok(acc)
}

fn server_tls(
    s: &ServerSsl,
    alpn: Option<&str>,
    label: &str,
    loc: &Location,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let alpn = alpn_of(alpn)?;
    let t = ServerTls {
        verify: verify(s.verify),
        verifyhost: s.verifyhost.clone(),
        ca_file: s.ca_file.clone(),
        crl_file: s.crl_file.clone(),
        crt: s.crt.clone(),
        alpn,
        min_ver: version(s.min_ver),
        max_ver: version(s.max_ver),
        ciphers: s.ciphers.clone(),
        ciphersuites: s.ciphersuites.clone(),
        curves: s.curves.clone(),
        no_tls_tickets: s.no_tls_tickets,
    };
    let mut ws = Vec::new();
    let mut cfg = sluice_tls::client_config_with_warnings(&t, &mut ws)?;
    if s.no_ssl_reuse {
        // `no-ssl-reuse`: a full handshake on every connection.
        let mut c = (*cfg).clone();
        c.resumption = sluice_tls::rustls::client::Resumption::disabled();
        cfg = Arc::new(c);
    }
    for w in ws {
        warnings.push(Diagnostic::warning(loc, format!("'server {label}' : {w}")));
    }
    Ok(cfg)
}

/// Compiles every `bind ... ssl` and `server ... ssl`. Returns the setup and its warnings, or
/// every error found.
pub fn compile(cfg: &Config) -> Result<(TlsSetup, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut setup = TlsSetup::default();
    for fe in &cfg.frontends {
        let mut binds = Vec::with_capacity(fe.binds.len());
        for b in &fe.binds {
            let Some(s) = &b.ssl else {
                binds.push(None);
                continue;
            };
            let label = addr_label(&b.addrs);
            match bind_acceptor(s, &label, &b.location, &mut warnings) {
                Ok(a) => binds.push(Some(Arc::new(a))),
                Err(e) => {
                    errors.push(Diagnostic::alert(
                        &b.location,
                        format!("'bind {label}' in {} '{}' : {e}", "frontend", fe.name),
                    ));
                    binds.push(None);
                }
            }
        }
        setup.binds.push(binds);
    }
    for be in &cfg.backends {
        let mut servers = Vec::with_capacity(be.servers.len());
        for srv in &be.servers {
            let s = &srv.ssl;
            if !s.enabled && !s.check_ssl {
                servers.push(None);
                continue;
            }
            let label = format!("{}/{}", be.name, srv.name);
            let traffic = server_tls(s, s.alpn.as_deref(), &label, &srv.location, &mut warnings);
            // Checks use the traffic's settings unless `check-alpn` asks for other protocols.
            let check = match (&traffic, s.check_alpn.as_deref()) {
                (Ok(cfg), None) => Ok(cfg.clone()),
                (_, alpn) => server_tls(
                    s,
                    alpn.or(s.alpn.as_deref()),
                    &label,
                    &srv.location,
                    &mut Vec::new(),
                ),
            };
            match (traffic, check) {
                (Ok(config), Ok(check)) => servers.push(Some(Arc::new(ServerTlsRt {
                    config,
                    check: Some(check),
                    check_sni: s.check_sni.clone(),
                }))),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(Diagnostic::alert(
                        &srv.location,
                        format!("'server {label}' : {e}"),
                    ));
                    servers.push(None);
                }
            }
        }
        setup.servers.push(servers);
    }
    if errors.is_empty() {
        Ok((setup, warnings))
    } else {
        Err(errors)
    }
}
