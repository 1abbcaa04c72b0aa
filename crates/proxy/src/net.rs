//! Address helpers for the data path: network membership (for `except` networks) and
//! allocation-free formatting of an IP into a header value.

use std::io::Write;
use std::net::IpAddr;

/// Whether `ip` lies in `net/bits`. IPv4-mapped IPv6 clients match IPv4 networks.
pub fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = u32::from(bits.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = u32::from(bits.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Writes `ip` as text into `out`, returning the length (64 bytes always suffice).
pub fn write_ip(out: &mut [u8; 64], ip: IpAddr) -> usize {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let mut cur = std::io::Cursor::new(&mut out[..]);
    let _ = write!(cur, "{ip}");
    cur.position() as usize
}

/// Reads what the socket has into `buf`'s free space. A short read means the socket was
/// drained, so its readiness is cleared without a second syscall (tokio would otherwise
/// report it ready again and the next read would only return EAGAIN). Closed states are
/// never cleared, so an EOF that came with the data is still seen.
pub fn read_into(
    s: &tokio::net::TcpStream,
    buf: &mut crate::buffer::Buf,
) -> std::io::Result<usize> {
    let spare = buf.spare();
    let room = spare.len();
    let n = s.try_read(spare)?;
    buf.filled(n);
    if n > 0 && n < room {
        let _ = s.try_io(tokio::io::Interest::READABLE, || {
            Err::<(), _>(std::io::ErrorKind::WouldBlock.into())
        });
    }
    Ok(n)
}

/// Whether a read would return something (bytes, EOF or an error) right now, without
/// consuming anything; clears a spurious readiness when it would block.
pub fn has_bytes_or_eof(s: &tokio::net::TcpStream) -> bool {
    let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    match s.try_io(tokio::io::Interest::READABLE, || {
        socket2::SockRef::from(s).peek(&mut probe)
    }) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_membership_v4_v6_and_mapped() {
        let net: IpAddr = "192.168.1.0".parse().unwrap();
        assert!(in_network("192.168.1.77".parse().unwrap(), net, 24));
        assert!(!in_network("192.168.2.1".parse().unwrap(), net, 24));
        assert!(in_network("::ffff:192.168.1.9".parse().unwrap(), net, 24));
        let n6: IpAddr = "2001:db8::".parse().unwrap();
        assert!(in_network("2001:db8::1".parse().unwrap(), n6, 32));
        assert!(in_network(
            "10.0.0.1".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            0
        ));
    }

    #[test]
    fn writes_ip_without_allocating() {
        let mut b = [0u8; 64];
        let n = write_ip(&mut b, "127.0.0.1".parse().unwrap());
        assert_eq!(&b[..n], b"127.0.0.1");
        let n = write_ip(&mut b, "::ffff:10.1.2.3".parse().unwrap());
        assert_eq!(&b[..n], b"10.1.2.3");
    }
}
