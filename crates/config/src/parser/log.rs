//! `log` in `global` and proxies (manual section 3.1 "log" and 4.2 "log"):
//! `log global`, `no log`, and `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]`
//! with TARGET `stdout`, `stderr`, `fd@1|2`, a Unix socket path, `udp@`/`tcp@` or plain
//! `HOST[:PORT]` (UDP, port 514 by default).

use std::path::PathBuf;

use super::addr::{ip_family, socket_addr, split_host_port, split_prefix};
use crate::keywords::unsupported;
use crate::model::{LogDest, LogFormat, LogTarget};

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Parses the arguments after `log` (not `log global`); the error is HAProxy's message.
pub fn parse_target(args: &[String]) -> Result<LogTarget, String> {
    let Some(target) = args.first() else {
        return Err("log : expects <address> and <facility>  as arguments".into());
    };
    let dest = parse_dest(target)?;
    let mut target = LogTarget {
        dest,
        format: LogFormat::Rfc3164,
        facility: 0,
        level: 7,
        min_level: 0,
        max_len: 1024,
    };
    let mut i = 1;
    loop {
        match args.get(i).map(String::as_str) {
            Some("len") => {
                let v = args.get(i + 1).map_or("", String::as_str);
                match crate::units::strict_u64(v) {
                    Some(n) if (80..=65535).contains(&n) => target.max_len = n as usize,
                    _ => {
                        return Err(format!(
                            "log : invalid log length '{v}', must be between 80 and 65535"
                        ))
                    }
                }
                i += 2;
            }
            Some("format") => {
                let v = args.get(i + 1).map_or("", String::as_str);
                target.format = match v {
                    "rfc3164" => LogFormat::Rfc3164,
                    "rfc5424" => LogFormat::Rfc5424,
                    "raw" => LogFormat::Raw,
                    "short" => LogFormat::Short,
                    "local" => LogFormat::Local,
                    "priority" | "timed" | "iso" => {
                        return Err(format!(
                            "log : {}",
                            unsupported(&format!("log format '{v}'"), v)
                        ))
                    }
                    _ => return Err(format!("log : unknown log format '{v}'")),
                };
                i += 2;
            }
            Some("sample") => return Err(format!("log : {}", unsupported("'sample'", "sample"))),
            _ => break,
        }
    }
    let Some(fac) = args.get(i) else {
        return Err("log : expects <address> and <facility>  as arguments".into());
    };
    target.facility =
        index_of(FACILITIES, fac).ok_or_else(|| format!("log : unknown log facility '{fac}'"))?;
    if let Some(lvl) = args.get(i + 1) {
        target.level = index_of(LEVELS, lvl)
            .ok_or_else(|| format!("log : unknown optional log level '{lvl}'"))?;
    }
    if let Some(min) = args.get(i + 2) {
        target.min_level = index_of(LEVELS, min)
            .ok_or_else(|| format!("log : unknown optional minimum log level '{min}'"))?;
    }
    if let Some(extra) = args.get(i + 3) {
        return Err(format!(
            "log : cannot handle unexpected argument '{extra}'."
        ));
    }
    Ok(target)
}

fn index_of(table: &[&str], name: &str) -> Option<u8> {
    table
        .iter()
        .position(|n| *n == name)
        .and_then(|i| u8::try_from(i).ok())
}

fn parse_dest(s: &str) -> Result<LogDest, String> {
    match s {
        "stdout" | "fd@1" => return Ok(LogDest::Stdout),
        "stderr" | "fd@2" => return Ok(LogDest::Stderr),
        _ => {}
    }
    if s.starts_with('/') {
        return Ok(LogDest::Unix(PathBuf::from(s)));
    }
    let (prefix, rest) = split_prefix(s);
    let tcp = matches!(prefix, Some("tcp" | "tcp4" | "tcp6"));
    match prefix {
        Some("unix") => return Ok(LogDest::Unix(PathBuf::from(rest))),
        Some(p) if ip_family(Some(p)).is_none() => {
            return Err(format!(
                "log : {}",
                unsupported(&format!("the '{p}@' log target"), p)
            ))
        }
        _ => {}
    }
    let family = ip_family(prefix).unwrap_or(super::addr::Family::Any);
    let (host, port) = split_host_port(rest);
    let port = match port {
        None | Some("") => 514,
        Some(p) => crate::units::strict_u64(p)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("log : invalid port '{p}' in '{s}'"))?,
    };
    // `log :514` is not a wildcard to send to: HAProxy needs a host there too.
    if host.is_empty() {
        return Err(format!("log : invalid address: '{s}'"));
    }
    let addr = socket_addr(host, port, family)
        .ok_or_else(|| format!("log : invalid address: '{host}' in '{s}'"))?;
    Ok(if tcp {
        LogDest::Tcp(addr)
    } else {
        LogDest::Udp(addr)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn targets() {
        let t = parse_target(&args("stdout format raw local0")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                t.dest,
                t.format,
                t.facility,
                t.level,
                t.min_level,
                t.max_len
            ),
            (LogDest::Stdout, LogFormat::Raw, 16, 7, 0, 1024)
        );
        let t = parse_target(&args(
            "127.0.0.1:514 len 2048 format rfc5424 local7 info notice",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.dest,
            LogDest::Udp("127.0.0.1:514".parse().unwrap_or_else(|e| panic!("{e}")))
        );
        assert_eq!(
            (t.format, t.facility, t.level, t.min_level, t.max_len),
            (LogFormat::Rfc5424, 23, 6, 5, 2048)
        );
        let cases = [
            (
                "10.0.0.1 daemon",
                LogDest::Udp("10.0.0.1:514".parse().unwrap_or_else(|e| panic!("{e}"))),
            ),
            (
                "tcp@10.0.0.1:601 user",
                LogDest::Tcp("10.0.0.1:601".parse().unwrap_or_else(|e| panic!("{e}"))),
            ),
            (
                "udp@[::1]:10514 user",
                LogDest::Udp("[::1]:10514".parse().unwrap_or_else(|e| panic!("{e}"))),
            ),
            ("/dev/log local0", LogDest::Unix("/dev/log".into())),
            ("unix@/run/log local0", LogDest::Unix("/run/log".into())),
            ("stderr local0", LogDest::Stderr),
            ("fd@1 local0", LogDest::Stdout),
        ];
        for (s, want) in cases {
            assert_eq!(parse_target(&args(s)).map(|t| t.dest), Ok(want), "{s}");
        }
    }

    #[test]
    fn errors() {
        let cases = [
            ("stdout foo", "log : unknown log facility 'foo'"),
            ("stdout local9", "log : unknown log facility 'local9'"),
            (
                "stdout",
                "log : expects <address> and <facility>  as arguments",
            ),
            (
                "1.2.3.4 local0 foo",
                "log : unknown optional log level 'foo'",
            ),
            (
                "1.2.3.4 local0 info foo",
                "log : unknown optional minimum log level 'foo'",
            ),
            (
                "1.2.3.4 format bogus local0",
                "log : unknown log format 'bogus'",
            ),
            (
                "1.2.3.4 len x local0",
                "log : invalid log length 'x', must be between 80 and 65535",
            ),
            (
                "1.2.3.4 len 79 local0",
                "log : invalid log length '79', must be between 80 and 65535",
            ),
            (
                "ring@buf local0",
                "log : the 'ring@' log target is not supported by Sluice yet.",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_target(&args(s)).err().as_deref(), Some(want), "{s}");
        }
    }
}
