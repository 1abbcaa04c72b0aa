//! The `global` section (manual section 3 "Global parameters"): process settings Sluice
//! implements, HAProxy's wording for bad values, and "not supported by Sluice yet" for the
//! rest of HAProxy's global keywords (anything else is an unknown keyword).

use std::path::PathBuf;
use std::time::Duration;

use super::tls::Methods;
use super::{global_candidates, unknown_keyword};
use crate::diag::Diagnostic;
use crate::keywords::{unsupported, GLOBAL_KEYWORDS};
use crate::lexer::Line;
use crate::model::{Global, SslDefaults, SslVerify};
use crate::units::{atol, bad_unit_char, parse_size, TimeError};

/// HAProxy's defaults for the tunables the data path reads.
pub fn default_global() -> Global {
    Global::default()
}

/// The machine's name, for `log-send-hostname` without an argument.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

pub fn keyword(g: &mut Global, line: &Line, diags: &mut Vec<Diagnostic>) {
    let loc = &line.location;
    let w = &line.words;
    let kw = w[0].as_str();
    let arg1 = w.get(1).map_or("", String::as_str);
    if ssl_keyword(g, line, diags) {
        return;
    }
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    // Keywords taking no argument say so in HAProxy's words.
    let no_args = |alert: &mut dyn FnMut(String)| {
        if let Some(extra) = w.get(1) {
            alert(format!(
                "'{kw}' cannot handle unexpected argument '{extra}'."
            ));
        }
    };
    match kw {
        "daemon" => {
            no_args(&mut alert);
            g.daemon = true;
        }
        "quiet" => {
            no_args(&mut alert);
            g.quiet = true;
        }
        "master-worker" => {
            // The master process is HAProxy's reload helper; Sluice reloads in place, so
            // the keyword changes nothing but is accepted as HAProxy accepts it.
            if !matches!(arg1, "" | "no-exit-on-failure") {
                alert(format!("'master-worker' only supports 'no-exit-on-failure' option (got '{arg1}')."));
            }
        }
        "nbthread" => match crate::units::strict_u64(arg1) {
            None => alert(format!("'nbthread' passed a missing or unparsable integer value in '{arg1}'")),
            Some(n) if (1..=64).contains(&n) => g.nbthread = Some(n as usize),
            Some(n) => alert(format!("'nbthread' value must be between 1 and 64 (was {n})")),
        },
        "nbproc" => alert(
            "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."
                .into(),
        ),
        "maxconn" => {
            if arg1.is_empty() {
                alert("'maxconn' expects an integer argument.".into());
            } else {
                // HAProxy reads it with atol(): `maxconn 100x` is 100.
                g.maxconn = Some(u32::try_from(atol(arg1).max(0)).unwrap_or(u32::MAX));
            }
        }
        "pidfile" => {
            if arg1.is_empty() {
                alert("'pidfile' expects a file name as an argument.".into());
            } else {
                g.pidfile = Some(PathBuf::from(arg1));
            }
        }
        "log" => {
            if w.len() == 1 {
                alert("log : expects <address> and <facility>  as arguments".into());
            } else if arg1 == "global" {
                alert("'log global' is only allowed in proxies.".into());
            } else {
                match super::log::parse_target(&w[1..]) {
                    Ok(t) => g.logs.push(t),
                    Err(e) => alert(e),
                }
            }
        }
        "log-send-hostname" => g.log_send_hostname = Some(if arg1.is_empty() { hostname() } else { arg1.to_string() }),
        "log-tag" => {
            if arg1.is_empty() {
                alert("'log-tag' expects a tag for use in syslog.".into());
            } else {
                g.log_tag = Some(arg1.to_string());
            }
        }
        // HAProxy reads these with atol(); Sluice also takes k/m/g suffixes so that
        // `tune.bufsize 16k` means 16 KiB rather than 16 bytes.
        "tune.bufsize" => match parse_size(arg1).filter(|n| *n > 0) {
            Some(n) => g.bufsize = n as usize,
            None => alert("'tune.bufsize' expects a positive integer argument.".into()),
        },
        "tune.maxrewrite" => match parse_size(arg1) {
            Some(n) => g.maxrewrite = n as usize,
            None => alert("'tune.maxrewrite' expects an integer argument.".into()),
        },
        "tune.http.maxhdr" => match crate::units::strict_u64(arg1) {
            Some(n) if (1..=32767).contains(&n) => g.max_headers = n as usize,
            _ => alert("'tune.http.maxhdr' expects a numeric value between 1 and 32767".into()),
        },
        "user" | "group" | "chroot" => {
            if arg1.is_empty() {
                alert(format!("'{kw}' expects an argument."));
            } else {
                let v = arg1.to_string();
                match kw {
                    "user" => g.user = Some(v),
                    "group" => g.group = Some(v),
                    _ => g.chroot = Some(PathBuf::from(v)),
                }
            }
        }
        // Allows HAProxy's experimental keywords (`http-request normalize-uri`).
        "expose-experimental-directives" => {
            no_args(&mut alert);
            g.expose_experimental = true;
        }
        "stats" => alert(unsupported(&format!("'stats {arg1}'"), "stats")),
        _ if GLOBAL_KEYWORDS.contains(&kw) => alert(unsupported(&format!("'{kw}'"), kw)),
        _ => alert(unknown_keyword(kw, "global", global_candidates())),
    }
}

/// The TLS keywords of the global section (manual section 3.1); false for other keywords.
fn ssl_keyword(g: &mut Global, line: &Line, diags: &mut Vec<Diagnostic>) -> bool {
    let loc = &line.location;
    let w = &line.words;
    let kw = w[0].as_str();
    let arg1 = w.get(1).map_or("", String::as_str);
    let handled = matches!(
        kw,
        "ca-base"
            | "crt-base"
            | "ssl-server-verify"
            | "ssl-default-bind-ciphers"
            | "ssl-default-bind-ciphersuites"
            | "ssl-default-bind-curves"
            | "ssl-default-bind-options"
            | "ssl-default-server-ciphers"
            | "ssl-default-server-ciphersuites"
            | "ssl-default-server-curves"
            | "ssl-default-server-options"
            | "tune.ssl.default-dh-param"
            | "tune.ssl.cachesize"
            | "tune.ssl.lifetime"
    );
    if !handled {
        return false;
    }
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    // HAProxy's too_many_args(): all of these but the `-options` take one argument.
    if !kw.ends_with("-options") {
        if let Some(extra) = w.get(2) {
            alert(format!(
                "'{kw}' cannot handle unexpected argument '{extra}'."
            ));
            return true;
        }
    }
    fn defaults<'a>(g: &'a mut Global, kw: &str) -> &'a mut SslDefaults {
        if kw.starts_with("ssl-default-bind-") {
            &mut g.ssl_default_bind
        } else {
            &mut g.ssl_default_server
        }
    }
    match kw {
        "ca-base" | "crt-base" => {
            let target = if kw == "ca-base" {
                &mut g.ca_base
            } else {
                &mut g.crt_base
            };
            if target.is_some() {
                alert(format!("'{kw}' already specified."));
            } else if arg1.is_empty() {
                alert(format!(
                    "global statement '{kw}' expects a directory path as an argument."
                ));
            } else {
                *target = Some(PathBuf::from(arg1));
            }
        }
        "ssl-server-verify" => match arg1 {
            // HAProxy 2.6's words for a missing argument.
            "" => alert(format!("'{kw}' expects an integer argument.")),
            "none" => g.ssl_server_verify = SslVerify::None,
            "required" => g.ssl_server_verify = SslVerify::Required,
            _ => alert(format!("'{kw}' expects 'none' or 'required' as argument.")),
        },
        "ssl-default-bind-ciphers"
        | "ssl-default-bind-ciphersuites"
        | "ssl-default-server-ciphers"
        | "ssl-default-server-ciphersuites" => {
            if arg1.is_empty() {
                alert(format!(
                    "global statement '{kw}' expects a cipher suite as an argument."
                ));
            } else if kw.ends_with("ciphers") {
                defaults(g, kw).ciphers = Some(arg1.to_string());
            } else {
                defaults(g, kw).ciphersuites = Some(arg1.to_string());
            }
        }
        "ssl-default-bind-curves" | "ssl-default-server-curves" => {
            if arg1.is_empty() {
                alert(format!(
                    "global statement '{kw}' expects a curves suite as an arguments."
                ));
            } else {
                defaults(g, kw).curves = Some(arg1.to_string());
            }
        }
        "ssl-default-bind-options" | "ssl-default-server-options" => {
            if arg1.is_empty() {
                alert(format!(
                    "global statement '{kw}' expects an option as an argument."
                ));
                return true;
            }
            let bind = kw == "ssl-default-bind-options";
            let mut d = defaults(g, kw).clone();
            let mut methods = Methods::of_defaults(&d);
            let mut i = 1;
            while i < w.len() {
                let word = w[i].as_str();
                match word {
                    "no-tls-tickets" => d.no_tls_tickets = true,
                    "prefer-client-ciphers" if bind => d.prefer_client_ciphers = true,
                    "ssl-min-ver" | "ssl-max-ver" => {
                        if let Err(e) = methods.min_max(word, w.get(i + 1).map(String::as_str)) {
                            alert(format!("{e} on global statement '{kw}'."));
                            return true;
                        }
                        i += 1;
                    }
                    _ if methods.option(word) => {}
                    _ => {
                        alert(format!(
                            "unknown option '{word}' on global statement '{kw}'."
                        ));
                        return true;
                    }
                }
                i += 1;
            }
            methods.store(&mut d);
            *defaults(g, kw) = d;
        }
        "tune.ssl.default-dh-param" => {
            if arg1.is_empty() {
                alert(format!("'{kw}' expects an integer argument."));
            } else if atol(arg1) < 1024 {
                alert(format!("'{kw}' expects a value >= 1024."));
            } else {
                diags.push(Diagnostic::warning(
                    loc,
                    format!("'{kw}' has no effect: Sluice's TLS library (rustls) uses no finite-field Diffie-Hellman."),
                ));
            }
        }
        "tune.ssl.cachesize" => {
            if arg1.is_empty() {
                alert(format!("'{kw}' expects an integer argument."));
            } else {
                // atoi() like HAProxy: `tune.ssl.cachesize x` is 0 (no cache).
                match usize::try_from(atol(arg1)) {
                    Ok(n) => g.ssl_cachesize = Some(n),
                    Err(_) => alert(format!("'{kw}' expects a positive numeric value.")),
                }
            }
        }
        _ => {
            // tune.ssl.lifetime
            if arg1.is_empty() {
                alert(format!(
                    "'{kw}' expects ssl sessions <lifetime> in seconds as argument."
                ));
            } else {
                match parse_seconds(arg1) {
                    Ok(d) => g.ssl_lifetime = Some(d),
                    Err(TimeError::BadChar(c)) => alert(format!(
                        "unexpected character '{c}' in argument to <{kw}>."
                    )),
                    Err(_) => alert(format!("timer overflow in argument '{arg1}' to <{kw}> (maximum value is 2147483647 s or ~68 years).")),
                }
            }
        }
    }
    true
}

/// A duration whose bare numbers are seconds (HAProxy's `TIME_UNIT_S`), rounded up to
/// whole seconds, at most 2^31-1 seconds.
fn parse_seconds(s: &str) -> Result<Duration, TimeError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(TimeError::BadChar(s.chars().next().unwrap_or(' ')));
    }
    let (num, unit) = s.split_at(digits);
    let value: u64 = num.parse().map_err(|_| TimeError::Overflow)?;
    let (mult, div): (u64, u64) = match unit {
        "us" => (1, 1_000_000),
        "ms" => (1, 1000),
        "" | "s" => (1, 1),
        "m" => (60, 1),
        "h" => (3600, 1),
        "d" => (86_400, 1),
        _ => return Err(TimeError::BadChar(bad_unit_char(unit))),
    };
    let secs = value
        .checked_mul(mult)
        .map(|v| v.div_ceil(div))
        .filter(|v| *v <= 2_147_483_647)
        .ok_or(TimeError::Overflow)?;
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Location, LogDest};

    fn run(lines: &[&str]) -> (Global, Vec<String>) {
        let mut g = default_global();
        let mut diags = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let line = Line {
                location: Location {
                    file: "g.cfg".into(),
                    line: i as u32 + 1,
                },
                words: l.split_whitespace().map(String::from).collect(),
            };
            keyword(&mut g, &line, &mut diags);
        }
        (g, diags.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn accepted() {
        let (g, d) = run(&[
            "daemon",
            "quiet",
            "master-worker",
            "nbthread 4",
            "maxconn 256",
            "pidfile /run/s.pid",
            "log stdout format raw local0",
            "log-send-hostname edge1",
            "log-tag web",
            "tune.bufsize 32768",
            "tune.maxrewrite 2k",
            "tune.http.maxhdr 200",
            "user haproxy",
            "group haproxy",
            "chroot /var/empty",
        ]);
        assert!(d.is_empty(), "{d:?}");
        assert!(g.daemon && g.quiet);
        assert_eq!(g.nbthread, Some(4));
        assert_eq!(g.maxconn, Some(256));
        assert_eq!(g.pidfile, Some(PathBuf::from("/run/s.pid")));
        assert_eq!(g.logs.len(), 1);
        assert_eq!(g.logs[0].dest, LogDest::Stdout);
        assert_eq!(g.log_send_hostname.as_deref(), Some("edge1"));
        assert_eq!(g.log_tag.as_deref(), Some("web"));
        assert_eq!((g.bufsize, g.maxrewrite, g.max_headers), (32768, 2048, 200));
        assert_eq!(
            (g.user.as_deref(), g.group.as_deref()),
            (Some("haproxy"), Some("haproxy"))
        );
        assert_eq!(g.chroot, Some(PathBuf::from("/var/empty")));
        let (g, _) = run(&["maxconn 12abc", "tune.bufsize 16k", "log-send-hostname"]);
        assert_eq!(g.maxconn, Some(12));
        assert_eq!(g.bufsize, 16384);
        assert!(g.log_send_hostname.is_some_and(|h| !h.is_empty()));
        let g = default_global();
        assert_eq!((g.bufsize, g.maxrewrite, g.max_headers), (16384, 1024, 101));
    }

    #[test]
    fn tls_globals() {
        let (g, d) = run(&[
            "ca-base /etc/ssl/ca",
            "crt-base /etc/ssl/private",
            "ssl-server-verify none",
            "ssl-default-bind-ciphers ECDHE+AESGCM",
            "ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384",
            "ssl-default-bind-curves X25519",
            "ssl-default-bind-options no-sslv3 no-tlsv10 no-tls-tickets prefer-client-ciphers ssl-max-ver TLSv1.3",
            "ssl-default-server-ciphers AES256",
            "ssl-default-server-ciphersuites TLS_CHACHA20_POLY1305_SHA256",
            "ssl-default-server-curves P-256",
            "ssl-default-server-options force-tlsv12 no-tls-tickets",
            "tune.ssl.cachesize 5000",
            "tune.ssl.lifetime 5m",
        ]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(g.ca_base, Some(PathBuf::from("/etc/ssl/ca")));
        assert_eq!(g.crt_base, Some(PathBuf::from("/etc/ssl/private")));
        assert_eq!(g.ssl_server_verify, SslVerify::None);
        use crate::model::SslVersion::*;
        assert_eq!(
            g.ssl_default_bind,
            SslDefaults {
                ciphers: Some("ECDHE+AESGCM".into()),
                ciphersuites: Some("TLS_AES_256_GCM_SHA384".into()),
                curves: Some("X25519".into()),
                min_ver: None,
                max_ver: Some(TlsV13),
                disabled: vec![SslV3, TlsV10],
                no_tls_tickets: true,
                prefer_client_ciphers: true,
            }
        );
        assert_eq!(
            g.ssl_default_server,
            SslDefaults {
                ciphers: Some("AES256".into()),
                ciphersuites: Some("TLS_CHACHA20_POLY1305_SHA256".into()),
                curves: Some("P-256".into()),
                min_ver: Some(TlsV12),
                max_ver: Some(TlsV12),
                disabled: vec![],
                no_tls_tickets: true,
                prefer_client_ciphers: false,
            }
        );
        assert_eq!(g.ssl_cachesize, Some(5000));
        assert_eq!(g.ssl_lifetime, Some(Duration::from_secs(300)));
        // HAProxy's defaults, and values read the way HAProxy reads them.
        let g = default_global();
        assert_eq!(g.ssl_server_verify, SslVerify::Required);
        assert_eq!(
            (g.ca_base.clone(), g.ssl_cachesize, g.ssl_lifetime),
            (None, None, None)
        );
        let (g, d) = run(&[
            "tune.ssl.lifetime 300",
            "tune.ssl.cachesize x",
            "ssl-server-verify required",
        ]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            (g.ssl_lifetime, g.ssl_cachesize),
            (Some(Duration::from_secs(300)), Some(0))
        );
        assert_eq!(g.ssl_server_verify, SslVerify::Required);
        let (g, _) = run(&["tune.ssl.lifetime 1500ms"]);
        assert_eq!(g.ssl_lifetime, Some(Duration::from_secs(2)));
        // Repeated `-options` lines add up, as in HAProxy.
        let (g, _) = run(&[
            "ssl-default-bind-options no-tlsv10",
            "ssl-default-bind-options no-tlsv11",
        ]);
        assert_eq!(g.ssl_default_bind.disabled, [TlsV10, TlsV11]);
        // A base is given once.
        let (_, d) = run(&["ca-base /a", "ca-base /b"]);
        assert_eq!(d, ["parsing [g.cfg:2] : 'ca-base' already specified."]);
        // The DH size is accepted with a warning: rustls has no finite-field DH.
        let mut g = default_global();
        let mut diags = Vec::new();
        let line = Line {
            location: Location {
                file: "g.cfg".into(),
                line: 3,
            },
            words: vec!["tune.ssl.default-dh-param".into(), "2048".into()],
        };
        keyword(&mut g, &line, &mut diags);
        assert_eq!(diags.len(), 1);
        assert!(!diags[0].is_error());
        assert_eq!(diags[0].render(1), "[WARNING]  (1) : config : parsing [g.cfg:3] : 'tune.ssl.default-dh-param' has no effect: Sluice's TLS library (rustls) uses no finite-field Diffie-Hellman.");
    }

    #[test]
    fn refused() {
        let cases = [
            ("nbproc 2", "parsing [g.cfg:1] : nbproc is not supported any more since HAProxy 2.5."),
            ("nbthread 0", "parsing [g.cfg:1] : 'nbthread' value must be between 1 and 64 (was 0)"),
            ("nbthread x", "parsing [g.cfg:1] : 'nbthread' passed a missing or unparsable integer value in 'x'"),
            ("daemon x", "parsing [g.cfg:1] : 'daemon' cannot handle unexpected argument 'x'."),
            ("maxconn", "parsing [g.cfg:1] : 'maxconn' expects an integer argument."),
            ("log-tag", "parsing [g.cfg:1] : 'log-tag' expects a tag for use in syslog."),
            ("tune.bufsize 0", "parsing [g.cfg:1] : 'tune.bufsize' expects a positive integer argument."),
            ("tune.http.maxhdr 0", "parsing [g.cfg:1] : 'tune.http.maxhdr' expects a numeric value between 1 and 32767"),
            ("stats socket /run/s.sock", "parsing [g.cfg:1] : 'stats socket' is not supported by Sluice yet"),
            ("ssl-engine rdrand", "parsing [g.cfg:1] : 'ssl-engine' is not supported by Sluice yet (Sluice's TLS does not implement this setting yet)."),
            ("tune.ssl.maxrecord 1400", "'tune.ssl.maxrecord' is not supported by Sluice yet (Sluice's TLS"),
            ("ca-base", "parsing [g.cfg:1] : global statement 'ca-base' expects a directory path as an argument."),
            ("crt-base /a b", "parsing [g.cfg:1] : 'crt-base' cannot handle unexpected argument 'b'."),
            ("ssl-server-verify foo", "parsing [g.cfg:1] : 'ssl-server-verify' expects 'none' or 'required' as argument."),
            ("ssl-server-verify", "parsing [g.cfg:1] : 'ssl-server-verify' expects an integer argument."),
            ("ssl-server-verify none x", "'ssl-server-verify' cannot handle unexpected argument 'x'."),
            ("ssl-default-bind-ciphers", "parsing [g.cfg:1] : global statement 'ssl-default-bind-ciphers' expects a cipher suite as an argument."),
            ("ssl-default-bind-ciphers a b", "parsing [g.cfg:1] : 'ssl-default-bind-ciphers' cannot handle unexpected argument 'b'."),
            ("ssl-default-server-ciphersuites", "global statement 'ssl-default-server-ciphersuites' expects a cipher suite as an argument."),
            ("ssl-default-bind-curves", "parsing [g.cfg:1] : global statement 'ssl-default-bind-curves' expects a curves suite as an arguments."),
            ("ssl-default-bind-options", "parsing [g.cfg:1] : global statement 'ssl-default-bind-options' expects an option as an argument."),
            ("ssl-default-bind-options foo", "parsing [g.cfg:1] : unknown option 'foo' on global statement 'ssl-default-bind-options'."),
            ("ssl-default-bind-options strict-sni", "unknown option 'strict-sni' on global statement 'ssl-default-bind-options'."),
            ("ssl-default-server-options prefer-client-ciphers", "unknown option 'prefer-client-ciphers' on global statement 'ssl-default-server-options'."),
            ("ssl-default-bind-options ssl-min-ver TLSv9", "parsing [g.cfg:1] : 'TLSv9' : unknown ssl/tls version on global statement 'ssl-default-bind-options'."),
            ("ssl-default-server-options ssl-max-ver", "parsing [g.cfg:1] : 'ssl-max-ver' : missing the ssl/tls version on global statement 'ssl-default-server-options'."),
            ("tune.ssl.default-dh-param 512", "parsing [g.cfg:1] : 'tune.ssl.default-dh-param' expects a value >= 1024."),
            ("tune.ssl.default-dh-param", "parsing [g.cfg:1] : 'tune.ssl.default-dh-param' expects an integer argument."),
            ("tune.ssl.cachesize -1", "parsing [g.cfg:1] : 'tune.ssl.cachesize' expects a positive numeric value."),
            ("tune.ssl.cachesize", "parsing [g.cfg:1] : 'tune.ssl.cachesize' expects an integer argument."),
            ("tune.ssl.lifetime", "parsing [g.cfg:1] : 'tune.ssl.lifetime' expects ssl sessions <lifetime> in seconds as argument."),
            ("tune.ssl.lifetime 5x", "parsing [g.cfg:1] : unexpected character 'x' in argument to <tune.ssl.lifetime>."),
            ("tune.ssl.lifetime 99999999999", "parsing [g.cfg:1] : timer overflow in argument '99999999999' to <tune.ssl.lifetime> (maximum value is 2147483647 s or ~68 years)."),
            ("mode http", "parsing [g.cfg:1] : unknown keyword 'mode' in 'global' section; did you mean 'node' maybe ?"),
            ("deamon", "unknown keyword 'deamon' in 'global' section; did you mean 'daemon' maybe ?"),
            ("frobnicate", "unknown keyword 'frobnicate' in 'global' section"),
        ];
        for (l, want) in cases {
            let (_, d) = run(&[l]);
            assert_eq!(d.len(), 1, "{l}: {d:?}");
            assert!(d[0].contains(want), "{l}: {}", d[0]);
        }
    }
}
