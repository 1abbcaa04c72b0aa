//! In-memory handshakes (manual 5.1 `ssl`, `verify`, `alpn`, `crl-file`; 5.2 `verify`, `verifyhost`, `crt`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rustls::server::Acceptor;
use rustls::{ClientConnection, ServerConnection};

use super::*;
use crate::{
    client_config, conn_info, server_config, server_name, BindAcceptor, BindTls, CertStore,
    ServerTls, TlsVersion, Verify,
};

struct Pki {
    dir: TempDir,
    ca: Ca,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: TempDir::new(),
            ca: ca("Test CA"),
        }
    }
    fn cert(&self, file: &str, cn: &str, sans: &[&str]) -> std::path::PathBuf {
        self.dir
            .write(file, &leaf(&self.ca, cn, sans).bundle(&self.ca))
    }
    fn ca_file(&self) -> std::path::PathBuf {
        self.dir.write("ca.pem", &self.ca.pem)
    }
    fn store(&self) -> Arc<CertStore> {
        let mut s = CertStore::new();
        s.load_crt(
            &self.cert("default.pem", "default.example", &["default.example"]),
            None,
        )
        .unwrap();
        s.load_crt(
            &self.cert("www.pem", "www.example.org", &["www.example.org"]),
            None,
        )
        .unwrap();
        Arc::new(s)
    }
    /// A client trusting this PKI's CA, checking the name it connects to.
    fn client(&self, alpn: &[&str], crt: Option<std::path::PathBuf>) -> ServerTls {
        ServerTls {
            verify: Verify::Required,
            ca_file: Some(self.ca_file()),
            crt,
            alpn: alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
            ..ServerTls::default()
        }
    }
}

fn connect(
    bind: &BindTls,
    client: &ServerTls,
    sni: &str,
) -> Result<(ClientConnection, ServerConnection), rustls::Error> {
    let scfg = server_config(bind).unwrap();
    let mut c = client_conn(client_config(client).unwrap(), sni);
    let mut s = ServerConnection::new(scfg).unwrap();
    pump(&mut c, &mut s)?;
    Ok((c, s))
}

#[test]
fn handshake_selects_the_certificate_by_sni_and_negotiates_h2() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        ..BindTls::default()
    };
    let (c, s) = connect(
        &bind,
        &pki.client(&["h2", "http/1.1"], None),
        "www.example.org",
    )
    .unwrap();
    assert_eq!(served_cn(&c), "www.example.org");
    assert_eq!(c.alpn_protocol(), Some(&b"h2"[..]));
    let info = conn_info(&s);
    assert_eq!(info.sni.as_deref(), Some("www.example.org"));
    assert_eq!(info.protocol, Some("TLSv1.3"));
    assert_eq!(info.cipher, Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(info.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(info.client_cert, None);

    // An unknown name gets the default certificate (and fails the client's name check).
    let err = connect(&bind, &pki.client(&[], None), "nowhere.example").unwrap_err();
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(_)),
        "{err:?}"
    );
    let (c, _) = connect(
        &bind,
        &ServerTls {
            verify: Verify::None,
            ..ServerTls::default()
        },
        "nowhere.example",
    )
    .unwrap();
    assert_eq!(served_cn(&c), "default.example");
}

#[test]
fn strict_sni_refuses_an_unknown_name() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        strict_sni: true,
        ..BindTls::default()
    };
    let none = ServerTls {
        verify: Verify::None,
        ..ServerTls::default()
    };
    assert!(connect(&bind, &none, "nowhere.example").is_err());
    let (c, _) = connect(&bind, &none, "www.example.org").unwrap();
    assert_eq!(served_cn(&c), "www.example.org");
}

/// Runs a handshake through rustls' `Acceptor`, letting `BindAcceptor::choose` pick the config.
fn accept(
    ba: &BindAcceptor,
    client: &ServerTls,
    sni: &str,
) -> Result<(ClientConnection, ServerConnection), rustls::Error> {
    let mut c = client_conn(client_config(client).unwrap(), sni);
    let mut buf = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut buf).unwrap();
    }
    let mut acc = Acceptor::default();
    acc.read_tls(&mut &buf[..]).unwrap();
    let accepted = acc
        .accept()
        .map_err(|(e, _)| e)?
        .expect("whole ClientHello");
    let cfg = ba.choose(&accepted.client_hello());
    let mut s = accepted.into_connection(cfg).map_err(|(e, _)| e)?;
    pump(&mut c, &mut s)?;
    Ok((c, s))
}

#[test]
fn alpn_without_overlap_goes_on_without_alpn_as_haproxy() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        alpn: vec![b"h2".to_vec()],
        ..BindTls::default()
    };
    let client = pki.client(&["spdy/3"], None);
    // Plain rustls refuses the handshake...
    assert!(matches!(
        connect(&bind, &client, "www.example.org").unwrap_err(),
        rustls::Error::NoApplicationProtocol | rustls::Error::AlertReceived(_)
    ));
    // ...the acceptor picks the ALPN-less variant.
    let ba = BindAcceptor::new(&bind).unwrap();
    let (c, s) = accept(&ba, &client, "www.example.org").unwrap();
    assert_eq!(c.alpn_protocol(), None);
    assert_eq!(conn_info(&s).alpn, None);
    let (c, _) = accept(
        &ba,
        &pki.client(&["http/1.1", "h2"], None),
        "www.example.org",
    )
    .unwrap();
    assert_eq!(c.alpn_protocol(), Some(&b"h2"[..]));
}

#[test]
fn crt_list_line_options_apply_to_their_certificate() {
    let pki = Pki::new();
    pki.cert("a.pem", "a.example", &["a.example"]);
    pki.cert("b.pem", "b.example", &["b.example"]);
    let list = pki
        .dir
        .write("list", "a.pem\nb.pem [alpn http/1.1 ssl-max-ver TLSv1.2]\n");
    let mut s = CertStore::new();
    s.load_crt_list(&list, Some(pki.dir.path())).unwrap();
    let bind = BindTls {
        certs: Arc::new(s),
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        ..BindTls::default()
    };
    let ba = BindAcceptor::new(&bind).unwrap();
    let client = pki.client(&["h2", "http/1.1"], None);
    let (c, s) = accept(&ba, &client, "a.example").unwrap();
    assert_eq!(c.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(conn_info(&s).protocol, Some("TLSv1.3"));
    let (c, s) = accept(&ba, &client, "b.example").unwrap();
    assert_eq!(c.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(conn_info(&s).protocol, Some("TLSv1.2"));
    assert_eq!(conn_info(&s).cipher, Some("ECDHE-ECDSA-AES256-GCM-SHA384"));
}

fn mtls_bind(pki: &Pki, verify: Verify) -> BindTls {
    BindTls {
        certs: pki.store(),
        verify,
        ca_file: Some(pki.ca_file()),
        ..BindTls::default()
    }
}

#[test]
fn verify_required_refuses_a_client_without_certificate_and_accepts_a_good_one() {
    let pki = Pki::new();
    let bind = mtls_bind(&pki, Verify::Required);
    let err = connect(&bind, &pki.client(&[], None), "www.example.org").unwrap_err();
    assert!(
        matches!(err, rustls::Error::NoCertificatesPresented),
        "{err:?}"
    );

    let crt = pki.cert("client.pem", "client", &["client.example"]);
    let (_, s) = connect(&bind, &pki.client(&[], Some(crt)), "www.example.org").unwrap();
    let cc = conn_info(&s).client_cert.expect("ssl_c_used");
    assert_eq!(cc.subject_dn, "/C=FR/O=Sluice/CN=client");
    assert_eq!(cc.issuer_dn, "/C=FR/O=Sluice/CN=Test CA");
    assert_eq!(cc.serial_hex(), "0102AB");
    assert_eq!(cc.verify_result, 0);

    // A certificate from another CA is refused.
    let other = ca("Other CA");
    let stranger = pki.dir.write(
        "stranger.pem",
        &leaf(&other, "stranger", &["s.example"]).bundle(&other),
    );
    assert!(connect(&bind, &pki.client(&[], Some(stranger)), "www.example.org").is_err());
}

#[test]
fn verify_optional_accepts_with_and_without_certificate() {
    let pki = Pki::new();
    let bind = mtls_bind(&pki, Verify::Optional);
    let (_, s) = connect(&bind, &pki.client(&[], None), "www.example.org").unwrap();
    assert!(conn_info(&s).client_cert.is_none());
    let crt = pki.cert("client.pem", "client", &["client.example"]);
    let (_, s) = connect(&bind, &pki.client(&[], Some(crt)), "www.example.org").unwrap();
    assert!(conn_info(&s).client_cert.is_some());
}

#[test]
fn crl_file_revokes_a_client_certificate() {
    let pki = Pki::new();
    let revoked = pki.dir.write(
        "revoked.pem",
        &leaf_with(
            &pki.ca,
            "revoked",
            &["r.example"],
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &[0x42],
        )
        .bundle(&pki.ca),
    );
    let good = pki.cert("good.pem", "good", &["g.example"]);
    let crl = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2020, 1, 1),
        next_update: rcgen::date_time_ymd(2100, 1, 1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(&[0x42]),
            revocation_time: rcgen::date_time_ymd(2021, 1, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&pki.ca.issuer)
    .unwrap();
    let crl_path = pki.dir.write("crl.pem", &crl.pem().unwrap());
    let bind = BindTls {
        crl_file: Some(crl_path),
        ..mtls_bind(&pki, Verify::Required)
    };
    assert!(connect(&bind, &pki.client(&[], Some(revoked)), "www.example.org").is_err());
    connect(&bind, &pki.client(&[], Some(good)), "www.example.org").unwrap();
}

#[test]
fn verify_without_ca_file_is_refused_on_bind_and_server() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        verify: Verify::Required,
        ..BindTls::default()
    };
    let e = server_config(&bind).unwrap_err();
    assert_eq!(e.to_string(), "verify is enabled but no CA file specified");
    let e = client_config(&ServerTls::default()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("verify is enabled by default but no CA file specified."),
        "{e}"
    );
    let e = client_config(&ServerTls {
        verify: Verify::Optional,
        ..ServerTls::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("'none' or 'required'"), "{e}");
    assert!(matches!(
        server_config(&BindTls::default()),
        Err(crate::TlsError::NoCertificates)
    ));
}

#[test]
fn verify_none_on_a_server_accepts_any_certificate() {
    let pki = Pki::new();
    let selfsigned = ca("self-signed.example");
    let mut store = CertStore::new();
    // A certificate from an unknown CA, for another name.
    store
        .load_crt(
            &pki.dir.write(
                "odd.pem",
                &leaf(&selfsigned, "odd", &["odd.example"]).bundle(&selfsigned),
            ),
            None,
        )
        .unwrap();
    let bind = BindTls {
        certs: Arc::new(store),
        ..BindTls::default()
    };
    let none = ServerTls {
        verify: Verify::None,
        ..ServerTls::default()
    };
    connect(&bind, &none, "www.example.org").unwrap();
    assert!(connect(&bind, &pki.client(&[], None), "odd.example").is_err());
}

#[test]
fn server_names_are_checked_against_sni_else_verifyhost_else_not_at_all() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        ..BindTls::default()
    };
    let scfg = server_config(&bind).unwrap();
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let run = |client: &ServerTls, name| {
        let mut c = ClientConnection::new(client_config(client).unwrap(), name).unwrap();
        let mut s = ServerConnection::new(scfg.clone()).unwrap();
        pump(&mut c, &mut s).map(|_| served_cn(&c))
    };
    let base = pki.client(&[], None);
    // No SNI, no verifyhost: chain checked, names ignored; the default certificate is served.
    assert_eq!(
        run(&base, server_name(None, ip)).unwrap(),
        "default.example"
    );
    let vh = ServerTls {
        verifyhost: Some("default.example".into()),
        ..base.clone()
    };
    run(&vh, server_name(None, ip)).unwrap();
    let vh_bad = ServerTls {
        verifyhost: Some("other.example".into()),
        ..base.clone()
    };
    assert!(run(&vh_bad, server_name(None, ip)).is_err());
    // With SNI the SNI is checked (verifyhost does not override it).
    run(&vh_bad, server_name(Some("www.example.org"), ip)).unwrap();
    // An SNI that is not a host name is not sent.
    assert!(matches!(
        server_name(Some("not a name"), ip),
        rustls::pki_types::ServerName::IpAddress(_)
    ));
}

#[test]
fn tls12_with_ciphers_reports_openssl_names() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        max_ver: Some(TlsVersion::Tls12),
        ciphers: Some("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256".into()),
        ..BindTls::default()
    };
    let (_, s) = connect(&bind, &pki.client(&[], None), "www.example.org").unwrap();
    let info = conn_info(&s);
    assert_eq!(info.protocol, Some("TLSv1.2"));
    assert_eq!(info.cipher, Some("ECDHE-ECDSA-AES128-GCM-SHA256"));

    let bind13 = BindTls {
        ciphersuites: Some("TLS_CHACHA20_POLY1305_SHA256".into()),
        ..BindTls {
            certs: pki.store(),
            ..BindTls::default()
        }
    };
    let (_, s) = connect(&bind13, &pki.client(&[], None), "www.example.org").unwrap();
    assert_eq!(conn_info(&s).cipher, Some("TLS_CHACHA20_POLY1305_SHA256"));

    // A client limited to TLSv1.3 cannot talk to a TLSv1.2-only bind.
    let c13 = ServerTls {
        min_ver: Some(TlsVersion::Tls13),
        ..pki.client(&[], None)
    };
    assert!(connect(&bind, &c13, "www.example.org").is_err());
}

#[test]
fn session_resumption_is_reported() {
    let pki = Pki::new();
    let bind = BindTls {
        certs: pki.store(),
        ..BindTls::default()
    };
    let scfg = server_config(&bind).unwrap();
    let ccfg = client_config(&pki.client(&[], None)).unwrap();
    let mut resumed = Vec::new();
    for _ in 0..2 {
        let mut c = client_conn(ccfg.clone(), "www.example.org");
        let mut s = ServerConnection::new(scfg.clone()).unwrap();
        pump(&mut c, &mut s).unwrap();
        // Let the client read the NewSessionTicket the server sent after the handshake.
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
            c.process_new_packets().unwrap();
        }
        resumed.push(conn_info(&s).resumed);
    }
    assert_eq!(resumed, [false, true]);
}
