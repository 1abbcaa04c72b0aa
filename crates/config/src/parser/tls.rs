//! What the TLS keywords of `bind` (manual section 5.1), `server` (5.2) and the global
//! `ssl-default-*` lines (3.1) share: protocol versions collected and resolved the way HAProxy
//! does it, `crt-base`/`ca-base` prefixes, ALPN lists. Certificates are not read here: the
//! proxy crate loads them and reports problems at the line's location.

use std::path::{Path, PathBuf};

use crate::model::{SslDefaults, SslVersion};

/// Rustls has no NPN; the keyword is accepted (HAProxy configurations carry it) and ignored.
pub const NPN_IGNORED: &str =
    "'npn' is ignored: Sluice's TLS library (rustls) has no NPN, only ALPN (see 'alpn').";

/// `no-*`, `force-*`, `ssl-min-ver` and `ssl-max-ver` as written on one line (HAProxy's
/// `tls_version_filter`): resolved into a range once the `ssl-default-*-options` are merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Methods {
    /// One bit per `SslVersion` disabled with `no-*`.
    pub disabled: u8,
    pub min: Option<SslVersion>,
    pub max: Option<SslVersion>,
}

fn bit(v: SslVersion) -> u8 {
    1 << (v as u8)
}

/// The allowed range of protocol versions, computed as HAProxy's `ssl_sock_prepare_ctx`
/// computes it, with what it would say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `None` when nothing restricts that end.
    pub min: Option<SslVersion>,
    pub max: Option<SslVersion>,
    /// `no-*` given together with `ssl-min-ver`/`ssl-max-ver`/`force-*`: HAProxy ignores them.
    pub disabled_ignored: bool,
    /// Versions disabled between two allowed ones ("range not contiguous").
    pub holes: Vec<SslVersion>,
    /// Nothing is left.
    pub none_left: bool,
}

impl Methods {
    /// `no-sslv3` .. `no-tlsv13`, `force-sslv3` .. `force-tlsv13`; false for other words.
    pub fn option(&mut self, word: &str) -> bool {
        let (force, name) = if let Some(rest) = word.strip_prefix("no-") {
            (false, rest)
        } else if let Some(rest) = word.strip_prefix("force-") {
            (true, rest)
        } else {
            return false;
        };
        let v = match name {
            "sslv3" => SslVersion::SslV3,
            "tlsv10" => SslVersion::TlsV10,
            "tlsv11" => SslVersion::TlsV11,
            "tlsv12" => SslVersion::TlsV12,
            "tlsv13" => SslVersion::TlsV13,
            _ => return false,
        };
        if force {
            self.min = Some(v);
            self.max = Some(v);
        } else {
            self.disabled |= bit(v);
        }
        true
    }

    /// `ssl-min-ver VERSION` / `ssl-max-ver VERSION`, with HAProxy's messages.
    pub fn min_max(&mut self, kw: &str, arg: Option<&str>) -> Result<(), String> {
        let Some(arg) = arg.filter(|a| !a.is_empty()) else {
            return Err(format!("'{kw}' : missing the ssl/tls version"));
        };
        let v = SslVersion::from_name(arg)
            .ok_or_else(|| format!("'{arg}' : unknown ssl/tls version"))?;
        if kw == "ssl-min-ver" {
            self.min = Some(v);
        } else {
            self.max = Some(v);
        }
        Ok(())
    }

    /// The `-options` part of an `ssl-default-*` global.
    pub fn of_defaults(d: &SslDefaults) -> Self {
        Methods {
            disabled: d.disabled.iter().fold(0, |acc, v| acc | bit(*v)),
            min: d.min_ver,
            max: d.max_ver,
        }
    }

    /// Copies the versions kept in an `ssl-default-*` global.
    pub fn store(self, d: &mut SslDefaults) {
        d.min_ver = self.min;
        d.max_ver = self.max;
        d.disabled = SslVersion::ALL
            .into_iter()
            .filter(|v| self.disabled & bit(*v) != 0)
            .collect();
    }

    /// HAProxy's merge of the defaults into a line: disabled versions add up, the bounds
    /// fill only what the line left unset.
    pub fn with_defaults(self, d: &SslDefaults) -> Self {
        let g = Methods::of_defaults(d);
        Methods {
            disabled: self.disabled | g.disabled,
            min: self.min.or(g.min),
            max: self.max.or(g.max),
        }
    }

    pub fn resolve(self) -> Resolved {
        let bounded = self.min.is_some() || self.max.is_some();
        let disabled_ignored = self.disabled != 0 && bounded;
        let mut off = if bounded { 0 } else { self.disabled };
        for v in SslVersion::ALL {
            if self.min.is_some_and(|m| v < m) || self.max.is_some_and(|m| v > m) {
                off |= bit(v);
            }
        }
        let (mut lo, mut hi, mut hole) = (None, None, None);
        let mut holes = Vec::new();
        for v in SslVersion::ALL {
            if off & bit(v) == 0 {
                if lo.is_none() {
                    lo = Some(v);
                } else if let Some(h) = hole.take() {
                    holes.push(h);
                }
                hi = Some(v);
            } else if lo.is_some() {
                hole = Some(v);
            }
        }
        Resolved {
            min: lo.filter(|v| self.min.is_some() || *v != SslVersion::SslV3),
            max: hi.filter(|v| self.max.is_some() || *v != SslVersion::TlsV13),
            disabled_ignored,
            holes,
            none_left: lo.is_none(),
        }
    }
}

/// `path` with `base` in front unless it is absolute (HAProxy 2.6 prefixes every path that
/// does not start with '/'); without a base, as written.
pub fn with_base(base: Option<&Path>, path: &str) -> PathBuf {
    match base {
        Some(b) if !path.starts_with('/') => b.join(path),
        _ => PathBuf::from(path),
    }
}

/// An `alpn`/`check-alpn` list: kept as written once HAProxy would accept it.
pub fn alpn(kw: &str, arg: Option<&str>) -> Result<String, String> {
    let Some(arg) = arg.filter(|a| !a.is_empty()) else {
        return Err(format!(
            "'{kw}' : missing the comma-delimited ALPN protocol suite"
        ));
    };
    if let Some(long) = arg.split(',').find(|p| p.len() > 255) {
        return Err(format!("'{kw}' : ALPN protocol name too long : '{long}'"));
    }
    Ok(arg.to_string())
}

/// The argument of an option, `None` when missing or empty (HAProxy treats both alike).
pub fn arg_of(words: &[String], i: usize) -> Option<&str> {
    words
        .get(i + 1)
        .map(String::as_str)
        .filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SslVersion::*;

    fn methods(words: &[&str]) -> Methods {
        let mut m = Methods::default();
        let mut i = 0;
        while i < words.len() {
            if matches!(words[i], "ssl-min-ver" | "ssl-max-ver") {
                m.min_max(words[i], words.get(i + 1).copied())
                    .unwrap_or_else(|e| panic!("{e}"));
                i += 1;
            } else {
                assert!(m.option(words[i]), "{}", words[i]);
            }
            i += 1;
        }
        m
    }

    #[test]
    fn versions_fold_like_haproxy() {
        let range = |w: &[&str]| {
            let r = methods(w).resolve();
            (r.min, r.max)
        };
        assert_eq!(range(&[]), (None, None));
        assert_eq!(
            range(&["no-sslv3", "no-tlsv10", "no-tlsv11"]),
            (Some(TlsV12), None)
        );
        assert_eq!(range(&["no-tlsv13"]), (None, Some(TlsV12)));
        assert_eq!(range(&["force-tlsv12"]), (Some(TlsV12), Some(TlsV12)));
        assert_eq!(range(&["ssl-min-ver", "TLSv1.2"]), (Some(TlsV12), None));
        assert_eq!(range(&["ssl-max-ver", "TLSv1.3"]), (None, Some(TlsV13)));
        assert_eq!(range(&["ssl-min-ver", "SSLv3"]), (Some(SslV3), None));
        let r = methods(&["no-tlsv10", "ssl-min-ver", "TLSv1.1"]).resolve();
        assert!(r.disabled_ignored);
        assert_eq!((r.min, r.max), (Some(TlsV11), None));
        let r = methods(&["no-tlsv11"]).resolve();
        assert_eq!(r.holes, [TlsV11]);
        assert_eq!((r.min, r.max), (None, None));
        let all = [
            "no-sslv3",
            "no-tlsv10",
            "no-tlsv11",
            "no-tlsv12",
            "no-tlsv13",
        ];
        assert!(methods(&all).resolve().none_left);
        let r = methods(&["ssl-min-ver", "TLSv1.3", "ssl-max-ver", "TLSv1.2"]).resolve();
        assert!(r.none_left);
    }

    #[test]
    fn defaults_merge() {
        let mut d = SslDefaults::default();
        methods(&["no-tlsv10", "ssl-max-ver", "TLSv1.2"]).store(&mut d);
        assert_eq!(
            (d.disabled.clone(), d.min_ver, d.max_ver),
            (vec![TlsV10], None, Some(TlsV12))
        );
        let m = methods(&["ssl-min-ver", "TLSv1.1"]).with_defaults(&d);
        assert_eq!(
            (m.min, m.max, m.disabled),
            (Some(TlsV11), Some(TlsV12), bit(TlsV10))
        );
        assert!(m.resolve().disabled_ignored);
    }

    #[test]
    fn messages() {
        let mut m = Methods::default();
        assert_eq!(
            m.min_max("ssl-min-ver", None),
            Err("'ssl-min-ver' : missing the ssl/tls version".into())
        );
        assert_eq!(
            m.min_max("ssl-max-ver", Some("TLSv9")),
            Err("'TLSv9' : unknown ssl/tls version".into())
        );
        assert!(!m.option("no-tlsv14") && !m.option("tlsv12"));
        assert_eq!(
            alpn("alpn", Some("")),
            Err("'alpn' : missing the comma-delimited ALPN protocol suite".into())
        );
        let long = "x".repeat(256);
        assert_eq!(
            alpn("alpn", Some(&format!("h2,{long}"))),
            Err(format!("'alpn' : ALPN protocol name too long : '{long}'"))
        );
        assert_eq!(
            with_base(Some(Path::new("/b")), "c.pem"),
            PathBuf::from("/b/c.pem")
        );
        assert_eq!(
            with_base(Some(Path::new("/b")), "/c.pem"),
            PathBuf::from("/c.pem")
        );
        assert_eq!(with_base(None, "c.pem"), PathBuf::from("c.pem"));
    }
}
