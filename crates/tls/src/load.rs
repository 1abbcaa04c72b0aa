//! Loading PEM files as HAProxy does (manual 5.1 `crt`, `ca-file`, `crl-file`; 3.1 `crt-base`,
//! `ca-base`): a `crt` file holds the leaf certificate, its chain and usually the key; when the
//! key is missing `<file>.key` is tried; the key must match the certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs1KeyDer,
    PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;

use crate::x509::{parse_cert, CertFields};
use crate::TlsError;

/// The crypto provider this build uses: aws-lc-rs (default feature) or ring.
pub fn default_provider() -> CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        rustls::crypto::aws_lc_rs::default_provider()
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        rustls::crypto::ring::default_provider()
    }
}

/// Joins `path` to `base` as HAProxy does for `crt-base`/`ca-base`: only relative paths move.
pub fn with_base(path: &Path, base: Option<&Path>) -> PathBuf {
    match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path.to_path_buf(),
    }
}

/// A certificate with its chain and key, loaded from a `crt` file.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    /// The file it came from (after `crt-base`).
    pub path: PathBuf,
    /// Chain (leaf first) and signing key.
    pub key: Arc<CertifiedKey>,
    /// Fields of the leaf certificate.
    pub fields: CertFields,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

fn sections(path: &Path, data: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, TlsError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

fn key_of(kind: SectionKind, der: Vec<u8>) -> Option<PrivateKeyDer<'static>> {
    match kind {
        SectionKind::PrivateKey => Some(PrivatePkcs8KeyDer::from(der).into()),
        SectionKind::RsaPrivateKey => Some(PrivatePkcs1KeyDer::from(der).into()),
        SectionKind::EcPrivateKey => Some(PrivateSec1KeyDer::from(der).into()),
        _ => None,
    }
}

/// Loads a `crt` file: certificates in order (leaf first) and the first private key; without a
/// key in the file, `<path>.key` is read (HAProxy's `ssl-load-extra-files key`, on by default).
pub fn load_cert_file(path: &Path, provider: &CryptoProvider) -> Result<LoadedCert, TlsError> {
    let data = read(path)?;
    parse_cert_pem(path, &data, provider)
}

/// As [`load_cert_file`] with the PEM text given (the runtime API's `set ssl cert` payload);
/// `path` names the entry and is where `<path>.key` is looked for.
pub fn parse_cert_pem(
    path: &Path,
    data: &[u8],
    provider: &CryptoProvider,
) -> Result<LoadedCert, TlsError> {
    let mut chain: Vec<CertificateDer<'static>> = Vec::new();
    let mut key: Option<PrivateKeyDer<'static>> = None;
    let mut key_path = path.to_path_buf();
    for (kind, der) in sections(path, data)? {
        if kind == SectionKind::Certificate {
            chain.push(CertificateDer::from(der));
        } else if key.is_none() {
            key = key_of(kind, der);
        }
    }
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    if key.is_none() {
        let mut kp = path.as_os_str().to_owned();
        kp.push(".key");
        let kp = PathBuf::from(kp);
        if kp.exists() {
            let kdata = read(&kp)?;
            key = sections(&kp, &kdata)?
                .into_iter()
                .find_map(|(kind, der)| key_of(kind, der));
            key_path = kp;
        }
    }
    let Some(key) = key else {
        return Err(TlsError::NoPrivateKey {
            path: path.to_path_buf(),
        });
    };
    let fields = parse_cert(&chain[0]).ok_or_else(|| TlsError::BadCertificate {
        path: path.to_path_buf(),
    })?;
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::BadKey {
            path: key_path.clone(),
            detail: e.to_string(),
        })?;
    let ck = CertifiedKey::new(chain, signer);
    match ck.keys_match() {
        Ok(()) => {}
        // The provider cannot tell (no SPKI for this key type): accept as OpenSSL would only
        // with a matching key; a mismatch still fails at the first handshake.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => {
            return Err(TlsError::KeyMismatch {
                path: path.to_path_buf(),
            })
        }
    }
    Ok(LoadedCert {
        path: path.to_path_buf(),
        key: Arc::new(ck),
        fields,
    })
}

/// Where OpenSSL's default CA bundle lives, for `ca-file @system-ca`.
const SYSTEM_CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Loads a `ca-file` into a root store. `@system-ca` reads the system bundle (`SSL_CERT_FILE`
/// or the usual Debian/RHEL/SUSE paths).
pub fn load_ca_file(path: &Path) -> Result<RootCertStore, TlsError> {
    let real = if path.as_os_str() == "@system-ca" {
        let env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        env.into_iter()
            .chain(SYSTEM_CA_FILES.iter().map(PathBuf::from))
            .find(|p| p.is_file())
            .ok_or_else(|| TlsError::BadCaFile {
                path: path.to_path_buf(),
                detail: "no system CA bundle found".into(),
            })?
    } else {
        path.to_path_buf()
    };
    let data = read(&real)?;
    let secs = sections(&real, &data).map_err(|e| TlsError::BadCaFile {
        path: real.clone(),
        detail: e.to_string(),
    })?;
    let mut roots = RootCertStore::empty();
    for (kind, der) in secs {
        if kind == SectionKind::Certificate {
            roots
                .add(CertificateDer::from(der))
                .map_err(|e| TlsError::BadCaFile {
                    path: real.clone(),
                    detail: e.to_string(),
                })?;
        }
    }
    if roots.is_empty() {
        return Err(TlsError::BadCaFile {
            path: real,
            detail: "no PEM certificate found".into(),
        });
    }
    Ok(roots)
}

/// Loads a `crl-file` (PEM, one or more CRLs).
pub fn load_crl_file(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let data = read(path)?;
    let crls: Vec<CertificateRevocationListDer<'static>> = sections(path, &data)
        .map_err(|e| TlsError::BadCrlFile {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?
        .into_iter()
        .filter(|(k, _)| *k == SectionKind::Crl)
        .map(|(_, der)| CertificateRevocationListDer::from(der))
        .collect();
    if crls.is_empty() {
        return Err(TlsError::BadCrlFile {
            path: path.to_path_buf(),
            detail: "no PEM X509 CRL found".into(),
        });
    }
    Ok(crls)
}
