//! TLS for Sluice on rustls (HAProxy manual 5.1 `bind` SSL options, 5.2 `server` SSL options,
//! 3.1 `ssl-default-*`, `crt-base`, `ca-base`; 7.3.4/7.3.5 SSL fetches): certificate loading and
//! the SNI store, `ServerConfig`s for `bind ... ssl`, `ClientConfig`s for `server ... ssl`,
//! OpenSSL cipher names, connection facts for the `ssl_*` fetches, and a ClientHello sniffer for
//! `req.ssl_sni`. A leaf crate: no async runtime, no other Sluice crate.
//!
//! The crypto provider is aws-lc-rs (feature `aws-lc-rs`, default) or ring (feature `ring`).

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!("sluice-tls needs a crypto provider: enable the `aws-lc-rs` or the `ring` feature");

mod bind;
mod client;
mod crtlist;
mod error;
mod hello;
mod info;
mod load;
mod options;
mod provider;
mod store;
mod suites;
mod x509;

pub use bind::{server_config, BindAcceptor, BindTls, SniResolver};
pub use client::{
    client_config, client_config_with_warnings, server_name, AcceptAnyServerCert, ServerTls,
};
pub use crtlist::{parse_crt_list, CrtListLine, SslBindConf};
pub use error::TlsError;
pub use hello::{fuzz_client_hello, parse_client_hello, Hello, HelloParse, MAX_HELLO};
pub use info::{common_info, conn_info, protocol_name, ConnInfo, PeerCertInfo};
pub use load::{
    default_provider, load_ca_file, load_cert_file, load_crl_file, parse_cert_pem, with_base,
    LoadedCert,
};
pub use options::{parse_alpn, protocol_versions, TlsVersion, Verify};
pub use provider::{provider_for, SuiteSettings};
pub use store::{CertEntry, CertStore, ClientSigs, KeyKind};
pub use suites::{
    map_curves, map_openssl_ciphers, map_openssl_ciphersuites, openssl_name, CipherSelection,
    CurveSelection,
};
pub use x509::{parse_cert, CertFields};

/// rustls, re-exported so callers use the same version.
pub use rustls;

#[cfg(test)]
mod tests;
