//! Cipher, curve and version mapping (manual 5.1 `ciphers`, `ciphersuites`, `curves`, `ssl-min-ver`).

use crate::{
    default_provider, map_curves, map_openssl_ciphers, map_openssl_ciphersuites, openssl_name,
    parse_alpn, protocol_versions, TlsVersion, Verify,
};

fn names(list: &str) -> (Vec<&'static str>, Vec<String>) {
    let sel = map_openssl_ciphers(list, &default_provider()).unwrap();
    (
        sel.suites
            .iter()
            .map(|s| openssl_name(s.suite()).unwrap())
            .collect(),
        sel.unsupported,
    )
}

#[test]
fn explicit_openssl_names_map_in_order() {
    let (got, unsupported) = names("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_eq!(
        got,
        [
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-CHACHA20-POLY1305"
        ]
    );
    assert!(unsupported.is_empty());
}

#[test]
fn mozilla_intermediate_keeps_what_rustls_has_and_reports_dhe() {
    let (got, unsupported) = names(
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
    );
    assert_eq!(got.len(), 6);
    assert_eq!(
        unsupported,
        ["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"]
    );
}

#[test]
fn keywords_and_operators_follow_openssl() {
    let (got, _) = names("HIGH:!aNULL:!MD5");
    assert_eq!(got.len(), 6, "{got:?}");
    let (got, _) = names("ECDHE+AESGCM:!ECDSA");
    assert_eq!(
        got,
        ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]
    );
    // `+` moves to the end, `-` removes but allows re-adding, `!` bans for good.
    let (got, _) = names("ECDHE+AESGCM:+AES256");
    assert_eq!(got.last(), Some(&"ECDHE-RSA-AES256-GCM-SHA384"));
    let (got, _) = names("CHACHA20:-ECDSA:ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_eq!(
        got,
        [
            "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE-ECDSA-CHACHA20-POLY1305"
        ]
    );
    let (got, _) = names("CHACHA20:!ECDSA:ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_eq!(got, ["ECDHE-RSA-CHACHA20-POLY1305"]);
    let (got, _) = names("AES128:AES256:@STRENGTH");
    assert!(got[0].contains("AES256"), "{got:?}");
    let (got, _) = names("DEFAULT:@SECLEVEL=2");
    assert_eq!(got.len(), 6);
}

#[test]
fn unknown_or_unsupported_only_lists_are_errors() {
    let p = default_provider();
    let e = map_openssl_ciphers("ECDHE-RSA-AES128-GCM-SHA256:BOGUS-CIPHER", &p).unwrap_err();
    assert_eq!(e.to_string(), "'ciphers' : unknown cipher or keyword 'BOGUS-CIPHER' in 'ECDHE-RSA-AES128-GCM-SHA256:BOGUS-CIPHER'");
    let e = map_openssl_ciphers("AES128-SHA:DES-CBC3-SHA", &p).unwrap_err();
    assert!(
        e.to_string()
            .contains("no cipher in 'AES128-SHA:DES-CBC3-SHA' is supported"),
        "{e}"
    );
    let sel =
        map_openssl_ciphersuites("TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256", &p).unwrap();
    assert_eq!(sel.suites.len(), 1);
    assert_eq!(sel.unsupported, ["TLS_AES_128_CCM_SHA256"]);
    assert!(map_openssl_ciphersuites("TLS_AES_128_CCM_8_SHA256", &p).is_err());
    assert!(map_openssl_ciphersuites("ECDHE-RSA-AES128-GCM-SHA256", &p).is_err());
}

#[test]
fn curves_map_by_openssl_names() {
    let sel = map_curves("curves", "X25519:P-256:secp384r1:X448").unwrap();
    assert_eq!(sel.groups.len(), 3);
    assert_eq!(sel.groups[0].name(), rustls::NamedGroup::X25519);
    assert_eq!(sel.unsupported, ["X448"]);
    assert!(map_curves("curves", "X448").is_err());
    let e = map_curves("ecdhe", "nope").unwrap_err();
    assert_eq!(e.to_string(), "'ecdhe' : unknown curve 'nope' in 'nope'");
}

#[test]
fn version_ranges_follow_haproxy_defaults() {
    assert_eq!(protocol_versions(None, None).unwrap().len(), 2);
    assert_eq!(
        protocol_versions(Some(TlsVersion::Tls10), Some(TlsVersion::Tls12)).unwrap(),
        [&rustls::version::TLS12]
    );
    assert_eq!(
        protocol_versions(Some(TlsVersion::Tls13), None).unwrap(),
        [&rustls::version::TLS13]
    );
    let e = protocol_versions(None, Some(TlsVersion::Tls11)).unwrap_err();
    assert!(e.to_string().contains("not supported by Sluice yet"), "{e}");
    assert!(protocol_versions(Some(TlsVersion::Tls13), Some(TlsVersion::Tls12)).is_err());
    assert_eq!("TLSv1.0".parse::<TlsVersion>().unwrap(), TlsVersion::Tls10);
    assert!("TLSv1".parse::<TlsVersion>().is_err());
    assert_eq!("optional".parse::<Verify>().unwrap(), Verify::Optional);
    assert_eq!(
        parse_alpn("h2,http/1.1").unwrap(),
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    assert!(parse_alpn("h2,,x").is_err());
}

#[test]
fn unsupported_names_become_warnings_in_configs() {
    let mut w = Vec::new();
    let p = crate::provider_for(
        crate::SuiteSettings {
            ciphers: Some("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"),
            curves: Some("X25519:X448"),
            ..Default::default()
        },
        &mut w,
    )
    .unwrap();
    assert_eq!(p.kx_groups.len(), 1);
    assert_eq!(
        w,
        [
            "'ciphers' : AES128-SHA not supported by Sluice, ignored",
            "'curves' : X448 not supported by Sluice, ignored"
        ]
    );
}
