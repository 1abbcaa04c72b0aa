//! Errors of the TLS layer (manual 5.1 `crt`, `ca-file`, `crl-file`, `ciphers`, ...): each names
//! the file or the keyword value and what is wrong, in HAProxy's words where it has some. The
//! configuration layer prefixes `parsing [file:line] : `.

use std::path::PathBuf;

/// What went wrong while loading or compiling TLS settings.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, permissions, a directory where a file was expected).
    #[error("unable to load SSL file '{path}' : {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A directory given to `crt` could not be listed.
    #[error("unable to scan directory '{path}' : {source}")]
    UnreadableDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PEM text itself is broken (bad base64, unterminated section).
    #[error("unable to load SSL certificate from PEM file '{path}' : {detail}")]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        detail: String,
    },
    /// No certificate in a file given to `crt`.
    #[error("unable to load SSL certificate from PEM file '{path}' : no certificate found")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// Neither the PEM nor `<file>.key` holds a private key.
    #[error("No Private Key found in '{path}' or '{path}.key'.")]
    NoPrivateKey {
        /// The certificate file.
        path: PathBuf,
    },
    /// The key is of a type or encoding the crypto provider cannot use.
    #[error("unable to load the private key of '{path}' : {detail}")]
    BadKey {
        /// The file holding the key.
        path: PathBuf,
        /// The provider's reason.
        detail: String,
    },
    /// The private key does not belong to the certificate.
    #[error("inconsistencies between private key and certificate loaded '{path}'.")]
    KeyMismatch {
        /// The certificate file.
        path: PathBuf,
    },
    /// The leaf certificate is not parseable X.509.
    #[error("unable to parse the certificate in '{path}'")]
    BadCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A CA file with no usable certificate.
    #[error("unable to load CA file '{path}' : {detail}")]
    BadCaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// A CRL file with no usable CRL.
    #[error("unable to configure CRL file '{path}' : {detail}")]
    BadCrlFile {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// A crt-list line is malformed.
    #[error("crt-list '{path}' line {line} : {detail}")]
    CrtList {
        /// The crt-list file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// A keyword value (cipher list, curve, version, ALPN) is not acceptable.
    #[error("'{keyword}' : {detail}")]
    BadValue {
        /// The HAProxy keyword (`ciphers`, `curves`, `ssl-min-ver`, ...).
        keyword: &'static str,
        /// What is wrong with the value.
        detail: String,
    },
    /// Settings that cannot go together, or a verification mode without what it needs.
    #[error("{0}")]
    Config(String),
    /// No certificate was loaded for a `bind ... ssl`.
    #[error("no certificate loaded (a 'bind' with 'ssl' needs 'crt' or 'crt-list')")]
    NoCertificates,
    /// rustls refused the assembled configuration.
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}
