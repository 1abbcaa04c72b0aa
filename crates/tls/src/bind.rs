//! TLS on `bind` lines (manual 5.1 `ssl`, `crt`, `crt-list`, `ca-file`, `verify`, `crl-file`,
//! `alpn`, `ssl-min-ver`, `ssl-max-ver`, `ciphers`, `ciphersuites`, `curves`, `no-tls-tickets`,
//! `strict-sni`; 3.1 `ssl-default-bind-*`): compiled into rustls `ServerConfig`s whose
//! certificate resolver is the line's [`CertStore`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{
    ClientHello, ResolvesServerCert, ServerSessionMemoryCache, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::crtlist::SslBindConf;
use crate::load::{load_ca_file, load_crl_file, with_base};
use crate::options::{protocol_versions, TlsVersion, Verify};
use crate::provider::{provider_for, SuiteSettings};
use crate::store::{CertStore, ClientSigs};
use crate::TlsError;

/// HAProxy's default `tune.ssl.cachesize`.
const SESSION_CACHE_ENTRIES: usize = 20_000;

/// The TLS settings of one `bind ... ssl` line, `ssl-default-bind-*` already applied.
#[derive(Debug, Clone)]
pub struct BindTls {
    /// Certificates from `crt` and `crt-list`.
    pub certs: Arc<CertStore>,
    /// `alpn` protocols in preference order.
    pub alpn: Vec<Vec<u8>>,
    /// `ssl-min-ver` (HAProxy 2.6 default: TLSv1.2).
    pub min_ver: Option<TlsVersion>,
    /// `ssl-max-ver`.
    pub max_ver: Option<TlsVersion>,
    /// `ciphers` (TLSv1.2 and below, OpenSSL syntax).
    pub ciphers: Option<String>,
    /// `ciphersuites` (TLSv1.3).
    pub ciphersuites: Option<String>,
    /// `curves`.
    pub curves: Option<String>,
    /// `ecdhe`.
    pub ecdhe: Option<String>,
    /// `verify` (default `none`).
    pub verify: Verify,
    /// `ca-file` (after `ca-base`).
    pub ca_file: Option<PathBuf>,
    /// `crl-file` (after `ca-base`).
    pub crl_file: Option<PathBuf>,
    /// `ca-base`, for `ca-file`/`crl-file` given on crt-list lines.
    pub ca_base: Option<PathBuf>,
    /// `no-ca-names`: send no CA names in the CertificateRequest.
    pub no_ca_names: bool,
    /// `strict-sni`: no default certificate.
    pub strict_sni: bool,
    /// `no-tls-tickets`: resumption by session id only.
    pub no_tls_tickets: bool,
    /// `prefer-client-ciphers`: the client's order wins (HAProxy prefers the server's).
    pub prefer_client_ciphers: bool,
}

impl Default for BindTls {
    fn default() -> Self {
        BindTls {
            certs: Arc::new(CertStore::new()),
            alpn: Vec::new(),
            min_ver: None,
            max_ver: None,
            ciphers: None,
            ciphersuites: None,
            curves: None,
            ecdhe: None,
            verify: Verify::None,
            ca_file: None,
            crl_file: None,
            ca_base: None,
            no_ca_names: false,
            strict_sni: false,
            no_tls_tickets: false,
            prefer_client_ciphers: false,
        }
    }
}

/// `ResolvesServerCert` over a [`CertStore`]: HAProxy's SNI choice, `strict-sni` honoured.
#[derive(Debug)]
pub struct SniResolver {
    store: Arc<CertStore>,
    strict: bool,
}

impl SniResolver {
    /// A resolver over `store`; with `strict`, no default certificate.
    pub fn new(store: Arc<CertStore>, strict: bool) -> SniResolver {
        SniResolver { store, strict }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sigs = ClientSigs::from_schemes(hello.signature_schemes());
        self.store
            .select(hello.server_name(), sigs, self.strict)
            .map(|e| e.key.clone())
    }
}

/// One compiled settings set: with ALPN, and the same without ALPN for clients whose ALPN list
/// shares nothing with ours (HAProxy then goes on without ALPN; rustls would abort).
#[derive(Debug, Clone)]
struct ConfigPair {
    alpn: Arc<ServerConfig>,
    no_alpn: Arc<ServerConfig>,
}

/// A compiled `bind ... ssl` line: pick the `ServerConfig` for a ClientHello with
/// [`BindAcceptor::choose`] (use with rustls' `Acceptor`/tokio-rustls' `LazyConfigAcceptor`),
/// or use [`BindAcceptor::config`] directly.
#[derive(Debug)]
pub struct BindAcceptor {
    store: Arc<CertStore>,
    strict: bool,
    base: ConfigPair,
    per_line: Vec<(Arc<SslBindConf>, ConfigPair)>,
    warnings: Vec<String>,
}

/// The settings one `ServerConfig` is built from: the bind line, possibly overridden by a
/// crt-list line.
struct Effective<'a> {
    alpn: &'a [Vec<u8>],
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
    suites: SuiteSettings<'a>,
    verify: Verify,
    ca_file: Option<PathBuf>,
    crl_file: Option<PathBuf>,
    no_ca_names: bool,
}

fn client_verifier(
    e: &Effective<'_>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    if e.verify == Verify::None {
        return Ok(WebPkiClientVerifier::no_client_auth());
    }
    let Some(ca) = &e.ca_file else {
        return Err(TlsError::Config(
            "verify is enabled but no CA file specified".into(),
        ));
    };
    let roots = load_ca_file(ca)?;
    let mut b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    if let Some(crl) = &e.crl_file {
        b = b.with_crls(load_crl_file(crl)?);
    }
    if e.verify == Verify::Optional {
        b = b.allow_unauthenticated();
    }
    if e.no_ca_names {
        b = b.clear_root_hint_subjects();
    }
    b.build()
        .map_err(|err| TlsError::Config(format!("client certificate verification: {err}")))
}

fn build(
    b: &BindTls,
    e: &Effective<'_>,
    warnings: &mut Vec<String>,
    cache: &Arc<ServerSessionMemoryCache>,
) -> Result<ConfigPair, TlsError> {
    let provider = Arc::new(provider_for(e.suites, warnings)?);
    let versions = protocol_versions(e.min, e.max)?;
    let verifier = client_verifier(e, &provider)?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SniResolver::new(b.certs.clone(), b.strict_sni)));
    cfg.ignore_client_order = !b.prefer_client_ciphers;
    cfg.session_storage = cache.clone();
    if !b.no_tls_tickets {
        cfg.ticketer = ticketer()?;
    }
    let no_alpn = Arc::new(cfg.clone());
    cfg.alpn_protocols = e.alpn.to_vec();
    Ok(ConfigPair {
        alpn: Arc::new(cfg),
        no_alpn,
    })
}

fn ticketer() -> Result<Arc<dyn rustls::server::ProducesTickets>, TlsError> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(rustls::crypto::aws_lc_rs::Ticketer::new()?)
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(rustls::crypto::ring::Ticketer::new()?)
    }
}

fn opt_path(p: &Option<PathBuf>, base: Option<&Path>) -> Option<PathBuf> {
    p.as_ref().map(|p| with_base(p, base))
}

impl BindAcceptor {
    /// Compiles a bind line. Fails without certificates, with `verify` but no `ca-file`, on an
    /// unreadable CA/CRL file, on a cipher/curve/version list rustls cannot honour at all, or
    /// on `npn` in a crt-list line (rustls has no NPN).
    pub fn new(b: &BindTls) -> Result<BindAcceptor, TlsError> {
        if b.certs.is_empty() {
            return Err(TlsError::NoCertificates);
        }
        let mut warnings = Vec::new();
        let cache = ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
        let base_eff = Effective {
            alpn: &b.alpn,
            min: b.min_ver,
            max: b.max_ver,
            suites: SuiteSettings {
                ciphers: b.ciphers.as_deref(),
                ciphersuites: b.ciphersuites.as_deref(),
                curves: b.curves.as_deref(),
                ecdhe: b.ecdhe.as_deref(),
            },
            verify: b.verify,
            ca_file: b.ca_file.clone(),
            crl_file: b.crl_file.clone(),
            no_ca_names: b.no_ca_names,
        };
        let base = build(b, &base_eff, &mut warnings, &cache)?;
        let mut per_line: Vec<(Arc<SslBindConf>, ConfigPair)> = Vec::new();
        for entry in b.certs.entries() {
            let Some(o) = &entry.options else { continue };
            if per_line.iter().any(|(p, _)| Arc::ptr_eq(p, o)) {
                continue;
            }
            if o.npn.is_some() {
                return Err(TlsError::Config(format!(
                    "crt-list line for '{}' : 'npn' is not supported by Sluice (use 'alpn')",
                    entry.path.display()
                )));
            }
            let ca_base = b.ca_base.as_deref();
            let eff = Effective {
                alpn: o.alpn.as_deref().unwrap_or(&b.alpn),
                min: o.ssl_min_ver.or(b.min_ver),
                max: o.ssl_max_ver.or(b.max_ver),
                suites: SuiteSettings {
                    ciphers: o.ciphers.as_deref().or(b.ciphers.as_deref()),
                    ciphersuites: o.ciphersuites.as_deref().or(b.ciphersuites.as_deref()),
                    curves: o.curves.as_deref().or(b.curves.as_deref()),
                    ecdhe: o.ecdhe.as_deref().or(b.ecdhe.as_deref()),
                },
                verify: o.verify.unwrap_or(b.verify),
                ca_file: opt_path(&o.ca_file, ca_base).or_else(|| b.ca_file.clone()),
                crl_file: opt_path(&o.crl_file, ca_base).or_else(|| b.crl_file.clone()),
                no_ca_names: o.no_ca_names || b.no_ca_names,
            };
            let pair = build(b, &eff, &mut warnings, &cache)?;
            per_line.push((o.clone(), pair));
        }
        warnings.dedup();
        Ok(BindAcceptor {
            store: b.certs.clone(),
            strict: b.strict_sni,
            base,
            per_line,
            warnings,
        })
    }

    /// The line's configuration (ALPN enforced as rustls does: a client whose ALPN list shares
    /// nothing with ours is refused; [`BindAcceptor::choose`] avoids that).
    pub fn config(&self) -> Arc<ServerConfig> {
        self.base.alpn.clone()
    }

    /// The configuration for this ClientHello: the crt-list line's options when the certificate
    /// chosen for its SNI has some, and no ALPN when the client's protocols share nothing with
    /// ours (HAProxy's behaviour).
    pub fn choose(&self, hello: &ClientHello<'_>) -> Arc<ServerConfig> {
        let sigs = ClientSigs::from_schemes(hello.signature_schemes());
        let entry = self.store.select(hello.server_name(), sigs, self.strict);
        let pair = entry
            .as_ref()
            .and_then(|e| e.options.as_ref())
            .and_then(|o| self.per_line.iter().find(|(p, _)| Arc::ptr_eq(p, o)))
            .map(|(_, pair)| pair)
            .unwrap_or(&self.base);
        let ours = &pair.alpn.alpn_protocols;
        if let Some(mut theirs) = hello.alpn() {
            if !ours.is_empty() && !theirs.any(|t| ours.iter().any(|o| o.as_slice() == t)) {
                return pair.no_alpn.clone();
            }
        }
        pair.alpn.clone()
    }

    /// What was ignored while compiling (cipher or curve names rustls lacks), for warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The `ServerConfig` of a bind line (see [`BindAcceptor::config`]).
pub fn server_config(b: &BindTls) -> Result<Arc<ServerConfig>, TlsError> {
    Ok(BindAcceptor::new(b)?.config())
}
