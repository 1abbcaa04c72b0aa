//! The crypto provider of one `bind` or `server` line: this build's provider (aws-lc-rs or
//! ring) narrowed by `ciphers`, `ciphersuites`, `curves`/`ecdhe` (manual 5.1, 5.2).

use rustls::crypto::CryptoProvider;

use crate::load::default_provider;
use crate::suites::{map_curves, map_openssl_ciphers, map_openssl_ciphersuites};
use crate::TlsError;

/// The cipher and curve keywords of a line, as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SuiteSettings<'a> {
    /// `ciphers`
    pub ciphers: Option<&'a str>,
    /// `ciphersuites`
    pub ciphersuites: Option<&'a str>,
    /// `curves`
    pub curves: Option<&'a str>,
    /// `ecdhe` (ignored when `curves` is set, as in HAProxy)
    pub ecdhe: Option<&'a str>,
}

/// Builds the provider for `s`; names rustls cannot do are appended to `warnings`.
pub fn provider_for(
    s: SuiteSettings<'_>,
    warnings: &mut Vec<String>,
) -> Result<CryptoProvider, TlsError> {
    let mut p = default_provider();
    let (mut tls13, mut tls12): (Vec<_>, Vec<_>) = p
        .cipher_suites
        .iter()
        .partition(|cs| cs.version() == &rustls::version::TLS13);
    if let Some(c) = s.ciphers {
        let sel = map_openssl_ciphers(c, &p)?;
        if !sel.unsupported.is_empty() {
            warnings.push(format!(
                "'ciphers' : {} not supported by Sluice, ignored",
                sel.unsupported.join(", ")
            ));
        }
        tls12 = sel.suites;
    }
    if let Some(c) = s.ciphersuites {
        let sel = map_openssl_ciphersuites(c, &p)?;
        if !sel.unsupported.is_empty() {
            warnings.push(format!(
                "'ciphersuites' : {} not supported by Sluice, ignored",
                sel.unsupported.join(", ")
            ));
        }
        tls13 = sel.suites;
    }
    tls13.extend(tls12);
    p.cipher_suites = tls13;
    let curves = match (s.curves, s.ecdhe) {
        (Some(c), _) => Some(("curves", c)),
        (None, Some(e)) => Some(("ecdhe", e)),
        (None, None) => None,
    };
    if let Some((kw, list)) = curves {
        let sel = map_curves(kw, list)?;
        if !sel.unsupported.is_empty() {
            warnings.push(format!(
                "'{kw}' : {} not supported by Sluice, ignored",
                sel.unsupported.join(", ")
            ));
        }
        p.kx_groups = sel.groups;
    }
    Ok(p)
}
