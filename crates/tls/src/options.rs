//! Value types shared by `bind` and `server` TLS keywords (manual 5.1 `verify`, `alpn`,
//! `ssl-min-ver`, `ssl-max-ver`; 5.2 `verify`, `alpn`): their parsing from HAProxy's spelling.

use std::fmt;
use std::str::FromStr;

use crate::TlsError;

/// `verify none|optional|required`. A `bind` defaults to `None`; a `server` to `Required`
/// (unless `ssl-server-verify none` in `global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Do not ask for (bind) / do not check (server) the peer certificate.
    #[default]
    None,
    /// bind only: ask for a client certificate, verify it when given, accept none.
    Optional,
    /// Require a valid peer certificate.
    Required,
}

impl FromStr for Verify {
    type Err = TlsError;
    fn from_str(s: &str) -> Result<Self, TlsError> {
        match s {
            "none" => Ok(Verify::None),
            "optional" => Ok(Verify::Optional),
            "required" => Ok(Verify::Required),
            _ => Err(TlsError::BadValue {
                keyword: "verify",
                detail: format!(
                    "expects 'none', 'optional' or 'required' as argument but got '{s}'"
                ),
            }),
        }
    }
}

/// A protocol version as `ssl-min-ver`/`ssl-max-ver` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// `SSLv3`
    Ssl3,
    /// `TLSv1.0`
    Tls10,
    /// `TLSv1.1`
    Tls11,
    /// `TLSv1.2`
    Tls12,
    /// `TLSv1.3`
    Tls13,
}

impl TlsVersion {
    /// HAProxy's (and OpenSSL's) name, as `ssl_fc_protocol` returns it.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TlsVersion {
    type Err = TlsError;
    fn from_str(s: &str) -> Result<Self, TlsError> {
        match s {
            "SSLv3" => Ok(TlsVersion::Ssl3),
            "TLSv1.0" => Ok(TlsVersion::Tls10),
            "TLSv1.1" => Ok(TlsVersion::Tls11),
            "TLSv1.2" => Ok(TlsVersion::Tls12),
            "TLSv1.3" => Ok(TlsVersion::Tls13),
            _ => Err(TlsError::BadValue {
                keyword: "ssl-min-ver/ssl-max-ver",
                detail: format!(
                    "unknown protocol version '{s}', expects SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3"
                ),
            }),
        }
    }
}

/// The rustls versions allowed by `ssl-min-ver`/`ssl-max-ver` (HAProxy 2.6 defaults: min
/// TLSv1.2, no max). rustls speaks TLS 1.2 and 1.3 only: a range that keeps neither is an
/// error; a minimum below TLSv1.2 is accepted and means TLSv1.2.
pub fn protocol_versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsError> {
    let max = max.unwrap_or(TlsVersion::Tls13);
    if max < TlsVersion::Tls12 {
        return Err(TlsError::BadValue {
            keyword: "ssl-max-ver",
            detail: format!("{max} is not supported by Sluice yet (TLSv1.2 and TLSv1.3 only)"),
        });
    }
    let min = min.unwrap_or(TlsVersion::Tls12);
    if min > max {
        return Err(TlsError::BadValue {
            keyword: "ssl-min-ver",
            detail: format!("minimum version {min} is above maximum version {max}"),
        });
    }
    let mut out = Vec::new();
    if min <= TlsVersion::Tls13 && max >= TlsVersion::Tls13 {
        out.push(&rustls::version::TLS13);
    }
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        out.push(&rustls::version::TLS12);
    }
    Ok(out)
}

/// `alpn h2,http/1.1`: comma-separated protocol names, in preference order.
pub fn parse_alpn(s: &str) -> Result<Vec<Vec<u8>>, TlsError> {
    let mut out = Vec::new();
    for p in s.split(',') {
        if p.is_empty() || p.len() > 255 {
            return Err(TlsError::BadValue {
                keyword: "alpn",
                detail: format!("invalid protocol name '{p}' in '{s}' (1 to 255 characters)"),
            });
        }
        out.push(p.as_bytes().to_vec());
    }
    Ok(out)
}
