//! What a TLS connection tells the fetches of manual 7.3.4: `ssl_fc`, `ssl_fc_sni`,
//! `ssl_fc_protocol`, `ssl_fc_cipher`, `ssl_fc_alpn`, `ssl_fc_is_resumed`, `ssl_c_used`,
//! `ssl_c_verify`, `ssl_c_s_dn`, `ssl_c_i_dn`, `ssl_c_serial`, `ssl_c_sha1`, in HAProxy's formats.

use rustls::{CommonState, HandshakeKind, ProtocolVersion, ServerConnection};
use sha1::{Digest, Sha1};

use crate::suites::openssl_name;
use crate::x509::parse_cert;

/// The peer's leaf certificate as the `ssl_c_*` fetches see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertInfo {
    /// `ssl_c_s_dn`: `/C=FR/O=Example/CN=client`.
    pub subject_dn: String,
    /// `ssl_c_i_dn`.
    pub issuer_dn: String,
    /// `ssl_c_serial` (binary).
    pub serial: Vec<u8>,
    /// `ssl_c_sha1` (binary): SHA-1 of the DER certificate.
    pub sha1: [u8; 20],
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// `ssl_c_verify`: OpenSSL's X509_V_* code; 0 because rustls only completes a handshake
    /// with a certificate that verified.
    pub verify_result: i64,
}

fn hex_upper(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

impl PeerCertInfo {
    /// From a DER certificate; `None` when it does not parse.
    pub fn from_der(der: &[u8]) -> Option<PeerCertInfo> {
        let f = parse_cert(der)?;
        Some(PeerCertInfo {
            subject_dn: f.subject_dn,
            issuer_dn: f.issuer_dn,
            serial: f.serial,
            sha1: Sha1::digest(der).into(),
            not_before: f.not_before,
            not_after: f.not_after,
            verify_result: 0,
        })
    }

    /// `ssl_c_serial,hex`.
    pub fn serial_hex(&self) -> String {
        hex_upper(&self.serial)
    }

    /// `ssl_c_sha1,hex`.
    pub fn sha1_hex(&self) -> String {
        hex_upper(&self.sha1)
    }
}

/// Connection-level TLS facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnInfo {
    /// `ssl_fc_sni`.
    pub sni: Option<String>,
    /// `ssl_fc_protocol`: `TLSv1.2`, `TLSv1.3`.
    pub protocol: Option<&'static str>,
    /// `ssl_fc_cipher`: the OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_256_GCM_SHA384`).
    pub cipher: Option<&'static str>,
    /// `ssl_fc_alpn`.
    pub alpn: Option<Vec<u8>>,
    /// `ssl_fc_is_resumed`.
    pub resumed: bool,
    /// `ssl_c_used` is `client_cert.is_some()`.
    pub client_cert: Option<PeerCertInfo>,
}

/// The OpenSSL name of a protocol version.
pub fn protocol_name(v: ProtocolVersion) -> Option<&'static str> {
    Some(match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        ProtocolVersion::SSLv3 => "SSLv3",
        _ => return None,
    })
}

/// Facts of any connection (server or client side); `sni` is passed in.
pub fn common_info(c: &CommonState, sni: Option<&str>) -> ConnInfo {
    ConnInfo {
        sni: sni.map(str::to_string),
        protocol: c.protocol_version().and_then(protocol_name),
        cipher: c
            .negotiated_cipher_suite()
            .and_then(|s| openssl_name(s.suite())),
        alpn: c.alpn_protocol().map(<[u8]>::to_vec),
        resumed: c.handshake_kind() == Some(HandshakeKind::Resumed),
        client_cert: c
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|der| PeerCertInfo::from_der(der)),
    }
}

/// Facts of a client connection on a `bind` line, after the handshake.
pub fn conn_info(conn: &ServerConnection) -> ConnInfo {
    common_info(conn, conn.server_name())
}
