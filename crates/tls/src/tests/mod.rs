//! Shared test helpers: a temporary directory, an rcgen PKI, and an in-memory handshake pump.

mod ciphers;
mod handshake;
mod hello;
mod store;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConnection};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "sluice-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn write(&self, name: &str, data: &str) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "FR");
    d.push(DnType::OrganizationName, "Sluice");
    d.push(DnType::CommonName, cn);
    d
}

pub struct Ca {
    pub issuer: Issuer<'static, KeyPair>,
    pub pem: String,
}

pub fn ca(cn: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name = dn(cn);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Leaf {
    /// Leaf, then the CA, then the key: HAProxy's usual all-in-one PEM.
    pub fn bundle(&self, ca: &Ca) -> String {
        format!("{}{}{}", self.cert_pem, ca.pem, self.key_pem)
    }
}

pub fn leaf_with(
    ca: &Ca,
    cn: &str,
    sans: &[&str],
    alg: &'static rcgen::SignatureAlgorithm,
    serial: &[u8],
) -> Leaf {
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from_slice(serial));
    let key = KeyPair::generate_for(alg).unwrap();
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

pub fn leaf(ca: &Ca, cn: &str, sans: &[&str]) -> Leaf {
    leaf_with(
        ca,
        cn,
        sans,
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &[0x01, 0x02, 0xAB],
    )
}

/// Moves bytes between the two ends until both finish the handshake; the first error wins.
pub fn pump(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..32 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
            server.process_new_packets()?;
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).unwrap();
            client.process_new_packets()?;
        }
        if !client.is_handshaking()
            && !server.is_handshaking()
            && !client.wants_write()
            && !server.wants_write()
        {
            return Ok(());
        }
    }
    Err(rustls::Error::General("handshake did not finish".into()))
}

pub fn client_conn(cfg: Arc<ClientConfig>, sni: &str) -> ClientConnection {
    ClientConnection::new(cfg, ServerName::try_from(sni.to_string()).unwrap()).unwrap()
}

/// CN of the certificate the server presented to `client`.
pub fn served_cn(client: &ClientConnection) -> String {
    let der = &client.peer_certificates().unwrap()[0];
    crate::parse_cert(der).unwrap().common_names[0].clone()
}
