//! Certificate loading and SNI selection (manual 5.1 `crt`, `crt-list`, `strict-sni`).

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::{CertStore, ClientSigs, KeyKind, TlsError};

fn cn_of(e: &crate::CertEntry) -> &str {
    &e.fields.common_names[0]
}

fn sni_cn(store: &CertStore, sni: Option<&str>, strict: bool) -> Option<String> {
    store
        .select(sni, ClientSigs::ANY, strict)
        .map(|e| cn_of(&e).to_string())
}

#[test]
fn pem_with_chain_and_key_in_one_file_loads() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let l = leaf(&ca, "www.example.com", &["www.example.com"]);
    let p = d.write("site.pem", &l.bundle(&ca));
    let mut s = CertStore::new();
    s.load_crt(&p, None).unwrap();
    let e = s.default_entry().unwrap();
    assert_eq!(e.key.cert.len(), 2, "leaf and CA served as the chain");
    assert_eq!(e.kind, KeyKind::Ecdsa);
    assert_eq!(e.fields.subject_dn, "/C=FR/O=Sluice/CN=www.example.com");
    assert_eq!(e.fields.issuer_dn, "/C=FR/O=Sluice/CN=Test CA");
    assert_eq!(e.fields.sni_names(), ["www.example.com"]);
}

#[test]
fn key_in_dot_key_file_beside_the_certificate_loads() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let l = leaf(&ca, "a.example", &["a.example"]);
    let p = d.write("a.pem", &l.cert_pem);
    d.write("a.pem.key", &l.key_pem);
    let mut s = CertStore::new();
    s.load_crt(&p, None).unwrap();
    assert_eq!(s.len(), 1);
}

#[test]
fn crt_base_applies_to_relative_paths_only() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let l = leaf(&ca, "a.example", &["a.example"]);
    d.write("certs/a.pem", &l.bundle(&ca));
    let mut s = CertStore::new();
    s.load_crt(Path::new("a.pem"), Some(&d.path().join("certs")))
        .unwrap();
    s.load_crt(
        &d.path().join("certs/a.pem"),
        Some(Path::new("/nonexistent")),
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.entries()[0].path, d.path().join("certs/a.pem"));
}

#[test]
fn missing_key_names_both_places_looked_at() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let l = leaf(&ca, "a.example", &["a.example"]);
    let p = d.write("nokey.pem", &l.cert_pem);
    let e = CertStore::new().load_crt(&p, None).unwrap_err();
    assert!(matches!(e, TlsError::NoPrivateKey { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("nokey.pem' or '") && msg.contains("nokey.pem.key'"),
        "{msg}"
    );
}

#[test]
fn mismatched_key_is_refused_naming_the_file() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let a = leaf(&ca, "a.example", &["a.example"]);
    let b = leaf(&ca, "b.example", &["b.example"]);
    let p = d.write("mixed.pem", &format!("{}{}", a.cert_pem, b.key_pem));
    let e = CertStore::new().load_crt(&p, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "inconsistencies between private key and certificate loaded '{}'.",
            p.display()
        )
    );
}

#[test]
fn unreadable_and_non_pem_files_are_reported() {
    let d = TempDir::new();
    let missing = d.path().join("missing.pem");
    let e = CertStore::new().load_crt(&missing, None).unwrap_err();
    assert!(e.to_string().starts_with("unable to load SSL file"), "{e}");
    assert!(e.to_string().contains("missing.pem"), "{e}");
    let junk = d.write("junk.pem", "hello\n");
    let e = CertStore::new().load_crt(&junk, None).unwrap_err();
    assert!(e.to_string().contains("no certificate found"), "{e}");
    let e = crate::load_ca_file(&junk).unwrap_err();
    assert!(
        e.to_string().contains("unable to load CA file") && e.to_string().contains("junk.pem"),
        "{e}"
    );
    let e = crate::load_crl_file(&junk).unwrap_err();
    assert!(e.to_string().contains("junk.pem"), "{e}");
}

#[test]
fn directory_loads_files_in_name_order_skipping_extra_files() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let b = leaf(&ca, "b.example", &["b.example"]);
    let a = leaf(&ca, "a.example", &["a.example"]);
    let c = leaf(&ca, "c.example", &["c.example"]);
    d.write("certs/b.pem", &b.bundle(&ca));
    d.write("certs/a.pem", &a.bundle(&ca));
    d.write("certs/c.crt", &c.cert_pem);
    d.write("certs/c.crt.key", &c.key_pem);
    for skipped in ["x.ocsp", "x.issuer", "x.sctl", ".hidden"] {
        d.write(&format!("certs/{skipped}"), "not a cert");
    }
    let mut s = CertStore::new();
    s.load_crt(&d.path().join("certs"), None).unwrap();
    let cns: Vec<String> = s.entries().iter().map(|e| cn_of(e).to_string()).collect();
    assert_eq!(cns, ["a.example", "b.example", "c.example"]);
    assert_eq!(sni_cn(&s, None, false).as_deref(), Some("a.example"));
}

fn three_sites() -> (TempDir, CertStore) {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let mut s = CertStore::new();
    for (file, cn, sans) in [
        ("default.pem", "default.example", vec!["default.example"]),
        ("wild.pem", "*.example.org", vec!["*.example.org"]),
        (
            "www.pem",
            "www.example.org",
            vec!["www.example.org", "WWW2.Example.Org"],
        ),
    ] {
        let p = d.write(file, &leaf(&ca, cn, &sans).bundle(&ca));
        s.load_crt(&p, None).unwrap();
    }
    (d, s)
}

#[test]
fn sni_exact_beats_wildcard_and_unknown_gets_default() {
    let (_d, s) = three_sites();
    assert_eq!(
        sni_cn(&s, Some("www.example.org"), false).as_deref(),
        Some("www.example.org")
    );
    assert_eq!(
        sni_cn(&s, Some("WWW2.example.ORG"), false).as_deref(),
        Some("www.example.org")
    );
    assert_eq!(
        sni_cn(&s, Some("api.example.org"), false).as_deref(),
        Some("*.example.org")
    );
    // A wildcard covers one label only.
    assert_eq!(
        sni_cn(&s, Some("a.b.example.org"), false).as_deref(),
        Some("default.example")
    );
    assert_eq!(
        sni_cn(&s, Some("example.org"), false).as_deref(),
        Some("default.example")
    );
    assert_eq!(
        sni_cn(&s, Some("other.net"), false).as_deref(),
        Some("default.example")
    );
    assert_eq!(sni_cn(&s, None, false).as_deref(), Some("default.example"));
    assert!(s.resolve(Some("other.net")).is_some());
}

#[test]
fn strict_sni_gives_nothing_without_a_match() {
    let (_d, s) = three_sites();
    assert_eq!(sni_cn(&s, Some("other.net"), true), None);
    assert_eq!(sni_cn(&s, None, true), None);
    assert_eq!(
        sni_cn(&s, Some("api.example.org"), true).as_deref(),
        Some("*.example.org")
    );
}

#[test]
fn crt_list_filters_replace_certificate_names_and_negative_filters_exclude() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    d.write(
        "first.pem",
        &leaf(&ca, "first", &["first.example"]).bundle(&ca),
    );
    d.write(
        "wild.pem",
        &leaf(&ca, "wild", &["*.example.org"]).bundle(&ca),
    );
    d.write(
        "other.pem",
        &leaf(&ca, "other", &["other.example"]).bundle(&ca),
    );
    let list = d.write(
        "list.txt",
        "# crt-list\n\
         first.pem\n\
         wild.pem [alpn h2] *.example.org !secret.example.org\n\
         other.pem alias.example.net *.example.com\n",
    );
    let mut s = CertStore::new();
    s.load_crt_list(&list, Some(d.path())).unwrap();
    assert_eq!(s.len(), 3);
    // Filters replace the certificate's own names.
    assert_eq!(
        sni_cn(&s, Some("alias.example.net"), false).as_deref(),
        Some("other")
    );
    assert_eq!(
        sni_cn(&s, Some("x.example.com"), false).as_deref(),
        Some("other")
    );
    assert_eq!(
        sni_cn(&s, Some("other.example"), false).as_deref(),
        Some("first")
    );
    assert_eq!(
        sni_cn(&s, Some("api.example.org"), false).as_deref(),
        Some("wild")
    );
    // The negative filter keeps that name off the line's wildcard: default, or none if strict.
    assert_eq!(
        sni_cn(&s, Some("secret.example.org"), false).as_deref(),
        Some("first")
    );
    assert_eq!(sni_cn(&s, Some("secret.example.org"), true), None);
    let e = s
        .select(Some("api.example.org"), ClientSigs::ANY, false)
        .unwrap();
    assert_eq!(e.options.as_ref().unwrap().alpn, Some(vec![b"h2".to_vec()]));

    // The exclusion is per line: another line's wildcard still serves the name (checked
    // against HAProxy 2.6.12 with `openssl s_client -servername`).
    d.write(
        "last.pem",
        &leaf(&ca, "last", &["last.example"]).bundle(&ca),
    );
    let list2 = d.write("list2.txt", "last.pem *.example.org\n");
    s.load_crt_list(&list2, Some(d.path())).unwrap();
    assert_eq!(
        sni_cn(&s, Some("secret.example.org"), true).as_deref(),
        Some("last")
    );
    assert_eq!(
        sni_cn(&s, Some("api.example.org"), true).as_deref(),
        Some("wild")
    );
}

#[test]
fn crt_list_certificate_errors_name_list_and_line() {
    let d = TempDir::new();
    let list = d.write("list.txt", "\nmissing.pem www.example.com\n");
    let e = CertStore::new()
        .load_crt_list(&list, Some(d.path()))
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "crt-list '{}' line 2 : unable to load SSL file",
            list.display()
        )),
        "{msg}"
    );
}

#[test]
fn ecdsa_is_preferred_when_the_client_offers_it() {
    let d = TempDir::new();
    let ca = ca("Test CA");
    let rsa = leaf_with(&ca, "rsa", &["both.example"], &rcgen::PKCS_RSA_SHA256, &[1]);
    let ec = leaf_with(
        &ca,
        "ecdsa",
        &["both.example"],
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &[2],
    );
    let mut s = CertStore::new();
    s.load_crt(&d.write("rsa.pem", &rsa.bundle(&ca)), None)
        .unwrap();
    s.load_crt(&d.write("ec.pem", &ec.bundle(&ca)), None)
        .unwrap();
    assert_eq!(s.entries()[0].kind, KeyKind::Rsa);
    let pick = |sigs| cn_of(&s.select(Some("both.example"), sigs, false).unwrap()).to_string();
    assert_eq!(pick(ClientSigs::ANY), "ecdsa");
    assert_eq!(
        pick(ClientSigs {
            ecdsa: false,
            rsa: true
        }),
        "rsa"
    );
    assert_eq!(
        pick(ClientSigs {
            ecdsa: true,
            rsa: false
        }),
        "ecdsa"
    );
}

#[test]
fn replacing_a_certificate_at_run_time_reindexes_its_names() {
    let (d, s) = three_sites();
    let s = Arc::new(s);
    let ca = ca("Other CA");
    let new = leaf(&ca, "new.example.org", &["new.example.org"]);
    let path = d.path().join("www.pem");
    assert_eq!(s.replace_pem(&path, new.bundle(&ca).as_bytes()).unwrap(), 1);
    assert_eq!(
        sni_cn(&s, Some("new.example.org"), false).as_deref(),
        Some("new.example.org")
    );
    // The old name is gone from the exact index; the wildcard covers it now.
    assert_eq!(
        sni_cn(&s, Some("www.example.org"), false).as_deref(),
        Some("*.example.org")
    );
    let e = s
        .replace_pem(Path::new("/not/loaded.pem"), new.bundle(&ca).as_bytes())
        .unwrap_err();
    assert!(e.to_string().contains("/not/loaded.pem"), "{e}");
    let bad = s.replace_pem(&path, new.cert_pem.as_bytes()).unwrap_err();
    assert!(matches!(bad, TlsError::NoPrivateKey { .. }));
}

#[test]
fn certificate_fields_in_haproxy_formats() {
    let ca = ca("Test CA");
    let l = leaf_with(
        &ca,
        "client",
        &["c.example", "d.example"],
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &[0x9F, 0x01],
    );
    let der = rustls::pki_types::CertificateDer::from_pem_slice(l.cert_pem.as_bytes()).unwrap();
    let info = crate::PeerCertInfo::from_der(&der).unwrap();
    assert_eq!(info.subject_dn, "/C=FR/O=Sluice/CN=client");
    assert_eq!(info.issuer_dn, "/C=FR/O=Sluice/CN=Test CA");
    assert_eq!(info.serial_hex(), "9F01");
    assert_eq!(info.sha1_hex().len(), 40);
    assert!(info.not_after > info.not_before);
    let f = crate::parse_cert(&der).unwrap();
    assert_eq!(f.sni_names(), ["c.example", "d.example", "client"]);
}

use rustls::pki_types::pem::PemObject;
