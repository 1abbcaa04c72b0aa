//! Address syntax shared by `bind`, `server` and `log` (manual section 11 "Address formats"):
//! an optional `family@` prefix, then `host:port` split at the LAST colon (so `:::80` is
//! `[::]:80` while `::80` is the invalid host `:`), brackets allowed around IPv6 hosts, and
//! host names resolved once at load with the system resolver, as HAProxy does with libc.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// Splits `family@rest` for the prefixes that select an IP family. Other prefixes are
/// returned whole in the second element for the caller to judge.
pub fn split_prefix(s: &str) -> (Option<&str>, &str) {
    match s.split_once('@') {
        Some((p, rest)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (Some(p), rest)
        }
        _ => (None, s),
    }
}

/// `host:port` at the last colon; `None` for the port when there is no colon.
pub fn split_host_port(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// The host part as an address: empty or `*` is the wildcard, brackets are removed, IP
/// literals are taken as they are, anything else goes to the system resolver.
pub fn resolve_host(host: &str, family: Family) -> Option<IpAddr> {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || host == "*" {
        return Some(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match (family, ip) {
            (Family::V4, IpAddr::V6(_)) | (Family::V6, IpAddr::V4(_)) => None,
            _ => Some(ip),
        };
    }
    // Names are looked up once, at load: a later DNS change does not move the server,
    // exactly like HAProxy's libc resolution at startup.
    let found = (host, 0u16).to_socket_addrs().ok()?;
    found.map(|sa| sa.ip()).find(|ip| match family {
        Family::Any => true,
        Family::V4 => ip.is_ipv4(),
        Family::V6 => ip.is_ipv6(),
    })
}

/// Parses an address family prefix; `None` when the prefix is not an IP-family one.
pub fn ip_family(prefix: Option<&str>) -> Option<Family> {
    match prefix {
        None | Some("tcp") | Some("udp") => Some(Family::Any),
        Some("ipv4") | Some("tcp4") | Some("udp4") => Some(Family::V4),
        Some("ipv6") | Some("tcp6") | Some("udp6") => Some(Family::V6),
        _ => None,
    }
}

/// A socket address from `host:port` with a mandatory port in 1..=65535.
pub fn socket_addr(host: &str, port: u16, family: Family) -> Option<SocketAddr> {
    resolve_host(host, family).map(|ip| SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split_host_port("1.2.3.4:80"), ("1.2.3.4", Some("80")));
        assert_eq!(split_host_port(":::80"), ("::", Some("80")));
        assert_eq!(split_host_port("::80"), (":", Some("80")));
        assert_eq!(split_host_port("[::1]:80"), ("[::1]", Some("80")));
        assert_eq!(split_host_port("host"), ("host", None));
        assert_eq!(split_prefix("ipv6@:80"), (Some("ipv6"), ":80"));
        assert_eq!(split_prefix("1.2.3.4:80"), (None, "1.2.3.4:80"));
    }

    #[test]
    fn hosts() {
        let v4any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(resolve_host("", Family::Any), Some(v4any));
        assert_eq!(resolve_host("*", Family::Any), Some(v4any));
        assert_eq!(
            resolve_host("", Family::V6),
            Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!(
            resolve_host("[::]", Family::Any),
            Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!(resolve_host("10.0.0.1", Family::V6), None);
        assert_eq!(resolve_host(":", Family::Any), None);
        assert!(resolve_host("localhost", Family::Any).is_some_and(|ip| ip.is_loopback()));
    }
}
