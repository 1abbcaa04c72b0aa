//! TLS towards servers (manual 5.2 `ssl`, `verify`, `verifyhost`, `ca-file`, `crl-file`, `sni`,
//! `crt`, `alpn`, `check-ssl`, `no-tls-tickets`; 3.1 `ssl-default-server-*`,
//! `ssl-server-verify`): a rustls `ClientConfig` per server line.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Tls12Resumption, WebPkiServerVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};

use crate::load::{load_ca_file, load_cert_file, load_crl_file};
use crate::options::{protocol_versions, TlsVersion, Verify};
use crate::provider::{provider_for, SuiteSettings};
use crate::TlsError;

/// The TLS settings of one `server ... ssl` line, `ssl-default-server-*` already applied.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// `verify none|required`; HAProxy's default is `required` (`ssl-server-verify`).
    pub verify: Verify,
    /// `verifyhost`: the name checked when no SNI is sent.
    pub verifyhost: Option<String>,
    /// `ca-file` (after `ca-base`), needed by `verify required`.
    pub ca_file: Option<PathBuf>,
    /// `crl-file` (after `ca-base`).
    pub crl_file: Option<PathBuf>,
    /// `crt`: client certificate (PEM with key, or `.key` beside), after `crt-base`.
    pub crt: Option<PathBuf>,
    /// `alpn`.
    pub alpn: Vec<Vec<u8>>,
    /// `ssl-min-ver`.
    pub min_ver: Option<TlsVersion>,
    /// `ssl-max-ver`.
    pub max_ver: Option<TlsVersion>,
    /// `ciphers`.
    pub ciphers: Option<String>,
    /// `ciphersuites`.
    pub ciphersuites: Option<String>,
    /// `curves`.
    pub curves: Option<String>,
    /// `no-tls-tickets`.
    pub no_tls_tickets: bool,
}

impl Default for ServerTls {
    fn default() -> Self {
        ServerTls {
            verify: Verify::Required,
            verifyhost: None,
            ca_file: None,
            crl_file: None,
            crt: None,
            alpn: Vec::new(),
            min_ver: None,
            max_ver: None,
            ciphers: None,
            ciphersuites: None,
            curves: None,
            no_tls_tickets: false,
        }
    }
}

/// The name to open a server connection with: the `sni` expression's value when it is a valid
/// host name (sent as SNI and checked against the certificate), else the server's address (no
/// SNI sent; the certificate is checked against `verifyhost`, or its names are not checked, as
/// HAProxy does).
pub fn server_name(sni: Option<&str>, addr: IpAddr) -> ServerName<'static> {
    sni.and_then(|s| ServerName::try_from(s.to_string()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)))
        .unwrap_or(ServerName::IpAddress(addr.into()))
}

/// `verify required`: the chain must verify against `ca-file` (and `crl-file`); the name checked
/// is the SNI sent, else `verifyhost`, else none (HAProxy: "When no name is found, the
/// certificate's names are ignored").
#[derive(Debug)]
struct HaproxyVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verifyhost: Option<ServerName<'static>>,
}

impl ServerCertVerifier for HaproxyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if matches!(server_name, ServerName::DnsName(_)) {
            return self.inner.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            );
        }
        if let Some(vh) = &self.verifyhost {
            return self
                .inner
                .verify_server_cert(end_entity, intermediates, vh, ocsp, now);
        }
        // webpki checks the chain before the name: a name error means the chain is good.
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `verify none`: any certificate is accepted, as HAProxy does (the handshake signatures are
/// still checked, so the server must hold the key of the certificate it sends).
#[derive(Debug)]
pub struct AcceptAnyServerCert {
    provider: Arc<CryptoProvider>,
}

impl AcceptAnyServerCert {
    /// A verifier accepting any certificate, checking signatures with `provider`.
    pub fn new(provider: Arc<CryptoProvider>) -> AcceptAnyServerCert {
        AcceptAnyServerCert { provider }
    }
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Always presents the `crt` of the server line.
#[derive(Debug)]
struct FixedClientCert(Arc<CertifiedKey>);

impl ResolvesClientCert for FixedClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Compiles a server line. `verify required` without `ca-file` is refused with HAProxy's
/// message; `verify optional` does not exist on servers.
pub fn client_config(s: &ServerTls) -> Result<Arc<ClientConfig>, TlsError> {
    client_config_with_warnings(s, &mut Vec::new())
}

/// As [`client_config`], appending ignored cipher/curve names to `warnings`.
pub fn client_config_with_warnings(
    s: &ServerTls,
    warnings: &mut Vec<String>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(provider_for(
        SuiteSettings {
            ciphers: s.ciphers.as_deref(),
            ciphersuites: s.ciphersuites.as_deref(),
            curves: s.curves.as_deref(),
            ecdhe: None,
        },
        warnings,
    )?);
    let versions = protocol_versions(s.min_ver, s.max_ver)?;
    let verifier: Arc<dyn ServerCertVerifier> = match s.verify {
        Verify::None => Arc::new(AcceptAnyServerCert::new(provider.clone())),
        Verify::Optional => {
            return Err(TlsError::BadValue {
                keyword: "verify",
                detail: "expects 'none' or 'required' on a server line, got 'optional'".into(),
            })
        }
        Verify::Required => {
            let Some(ca) = &s.ca_file else {
                return Err(TlsError::Config(
                    "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.".into(),
                ));
            };
            let roots = Arc::new(load_ca_file(ca)?);
            let mut b = WebPkiServerVerifier::builder_with_provider(roots, provider.clone());
            if let Some(crl) = &s.crl_file {
                b = b.with_crls(load_crl_file(crl)?);
            }
            let inner = b
                .build()
                .map_err(|e| TlsError::Config(format!("server certificate verification: {e}")))?;
            let verifyhost = match &s.verifyhost {
                Some(h) => {
                    Some(
                        ServerName::try_from(h.clone()).map_err(|_| TlsError::BadValue {
                            keyword: "verifyhost",
                            detail: format!("invalid host name '{h}'"),
                        })?,
                    )
                }
                None => None,
            };
            Arc::new(HaproxyVerifier { inner, verifyhost })
        }
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cfg = match &s.crt {
        Some(p) => {
            let l = load_cert_file(p, &provider)?;
            builder.with_client_cert_resolver(Arc::new(FixedClientCert(l.key)))
        }
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = s.alpn.clone();
    if s.no_tls_tickets {
        cfg.resumption =
            rustls::client::Resumption::default().tls12_resumption(Tls12Resumption::SessionIdOnly);
    }
    Ok(Arc::new(cfg))
}
