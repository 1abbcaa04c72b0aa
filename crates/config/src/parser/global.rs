//! The `global` section (manual section 3 "Global parameters"): process settings Sluice
//! implements, HAProxy's wording for bad values, and "not supported by Sluice yet" for the
//! rest of HAProxy's global keywords (anything else is an unknown keyword).

use std::path::PathBuf;

use super::{global_candidates, unknown_keyword};
use crate::diag::Diagnostic;
use crate::keywords::{unsupported, GLOBAL_KEYWORDS};
use crate::lexer::Line;
use crate::model::Global;
use crate::units::{atol, parse_size};

/// HAProxy's defaults for the tunables the data path reads.
pub fn default_global() -> Global {
    Global {
        bufsize: 16384,
        maxrewrite: 1024,
        max_headers: 101,
        ..Global::default()
    }
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
        "stats" => alert(unsupported(&format!("'stats {arg1}'"), "stats")),
        _ if GLOBAL_KEYWORDS.contains(&kw) => alert(unsupported(&format!("'{kw}'"), kw)),
        _ => alert(unknown_keyword(kw, "global", global_candidates())),
    }
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
            ("ca-base /etc/ssl", "parsing [g.cfg:1] : 'ca-base' is not supported by Sluice yet (TLS"),
            ("crt-base /etc/ssl", "parsing [g.cfg:1] : 'crt-base' is not supported by Sluice yet"),
            ("ssl-default-bind-ciphers X", "'ssl-default-bind-ciphers' is not supported by Sluice yet"),
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
