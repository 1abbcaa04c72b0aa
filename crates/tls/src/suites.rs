//! OpenSSL cipher strings, TLS 1.3 ciphersuites and curve lists mapped onto rustls (manual 5.1
//! `ciphers`, `ciphersuites`, `curves`, `ecdhe`; 3.1 `ssl-default-bind-ciphers`, ...). OpenSSL's
//! list syntax (`:`, `,` or blank separated; `!`, `-`, `+` prefixes; `A+B` intersections;
//! keywords such as `HIGH`, `ECDHE`, `aNULL`; `@STRENGTH`) works on a table of OpenSSL suites;
//! the ones rustls cannot negotiate are reported in `unsupported` (OpenSSL itself ignores what it
//! lacks, so the caller may warn); a token OpenSSL would not know either is an error.

use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{CipherSuite, NamedGroup, SupportedCipherSuite};

use crate::TlsError;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kx {
    Ecdhe,
    Dhe,
    Rsa,
}
#[derive(Clone, Copy, PartialEq, Eq)]
enum Au {
    Ecdsa,
    Rsa,
    Null,
}
#[derive(Clone, Copy, PartialEq, Eq)]
enum Enc {
    AesGcm128,
    AesGcm256,
    Chacha20,
    Aes128,
    Aes256,
    Camellia128,
    Camellia256,
    TripleDes,
    Rc4,
    Null,
}
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mac {
    Aead,
    Sha1,
    Sha256,
    Sha384,
    Md5,
}

struct Suite {
    name: &'static str,
    kx: Kx,
    au: Au,
    enc: Enc,
    mac: Mac,
    rustls: Option<CipherSuite>,
}

const fn s(
    name: &'static str,
    kx: Kx,
    au: Au,
    enc: Enc,
    mac: Mac,
    rustls: Option<CipherSuite>,
) -> Suite {
    Suite {
        name,
        kx,
        au,
        enc,
        mac,
        rustls,
    }
}

use CipherSuite as C;
/// OpenSSL's TLS 1.2-and-below suites in OpenSSL 1.1.1's default order.
static TLS12: &[Suite] = &[
    s(
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::AesGcm256,
        Mac::Aead,
        Some(C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    ),
    s(
        "ECDHE-RSA-AES256-GCM-SHA384",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::AesGcm256,
        Mac::Aead,
        Some(C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
    ),
    s(
        "DHE-RSA-AES256-GCM-SHA384",
        Kx::Dhe,
        Au::Rsa,
        Enc::AesGcm256,
        Mac::Aead,
        None,
    ),
    s(
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::Chacha20,
        Mac::Aead,
        Some(C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
    ),
    s(
        "ECDHE-RSA-CHACHA20-POLY1305",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Chacha20,
        Mac::Aead,
        Some(C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
    ),
    s(
        "DHE-RSA-CHACHA20-POLY1305",
        Kx::Dhe,
        Au::Rsa,
        Enc::Chacha20,
        Mac::Aead,
        None,
    ),
    s(
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::AesGcm128,
        Mac::Aead,
        Some(C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    ),
    s(
        "ECDHE-RSA-AES128-GCM-SHA256",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::AesGcm128,
        Mac::Aead,
        Some(C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    ),
    s(
        "DHE-RSA-AES128-GCM-SHA256",
        Kx::Dhe,
        Au::Rsa,
        Enc::AesGcm128,
        Mac::Aead,
        None,
    ),
    s(
        "ECDHE-ECDSA-AES256-SHA384",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::Aes256,
        Mac::Sha384,
        None,
    ),
    s(
        "ECDHE-RSA-AES256-SHA384",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Aes256,
        Mac::Sha384,
        None,
    ),
    s(
        "DHE-RSA-AES256-SHA256",
        Kx::Dhe,
        Au::Rsa,
        Enc::Aes256,
        Mac::Sha256,
        None,
    ),
    s(
        "ECDHE-ECDSA-AES128-SHA256",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::Aes128,
        Mac::Sha256,
        None,
    ),
    s(
        "ECDHE-RSA-AES128-SHA256",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Aes128,
        Mac::Sha256,
        None,
    ),
    s(
        "DHE-RSA-AES128-SHA256",
        Kx::Dhe,
        Au::Rsa,
        Enc::Aes128,
        Mac::Sha256,
        None,
    ),
    s(
        "ECDHE-ECDSA-AES256-SHA",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::Aes256,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-RSA-AES256-SHA",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Aes256,
        Mac::Sha1,
        None,
    ),
    s(
        "DHE-RSA-AES256-SHA",
        Kx::Dhe,
        Au::Rsa,
        Enc::Aes256,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-ECDSA-AES128-SHA",
        Kx::Ecdhe,
        Au::Ecdsa,
        Enc::Aes128,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-RSA-AES128-SHA",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Aes128,
        Mac::Sha1,
        None,
    ),
    s(
        "DHE-RSA-AES128-SHA",
        Kx::Dhe,
        Au::Rsa,
        Enc::Aes128,
        Mac::Sha1,
        None,
    ),
    s(
        "DHE-RSA-CAMELLIA256-SHA",
        Kx::Dhe,
        Au::Rsa,
        Enc::Camellia256,
        Mac::Sha1,
        None,
    ),
    s(
        "DHE-RSA-CAMELLIA128-SHA",
        Kx::Dhe,
        Au::Rsa,
        Enc::Camellia128,
        Mac::Sha1,
        None,
    ),
    s(
        "AES256-GCM-SHA384",
        Kx::Rsa,
        Au::Rsa,
        Enc::AesGcm256,
        Mac::Aead,
        None,
    ),
    s(
        "AES128-GCM-SHA256",
        Kx::Rsa,
        Au::Rsa,
        Enc::AesGcm128,
        Mac::Aead,
        None,
    ),
    s(
        "AES256-SHA256",
        Kx::Rsa,
        Au::Rsa,
        Enc::Aes256,
        Mac::Sha256,
        None,
    ),
    s(
        "AES128-SHA256",
        Kx::Rsa,
        Au::Rsa,
        Enc::Aes128,
        Mac::Sha256,
        None,
    ),
    s("AES256-SHA", Kx::Rsa, Au::Rsa, Enc::Aes256, Mac::Sha1, None),
    s("AES128-SHA", Kx::Rsa, Au::Rsa, Enc::Aes128, Mac::Sha1, None),
    s(
        "CAMELLIA256-SHA",
        Kx::Rsa,
        Au::Rsa,
        Enc::Camellia256,
        Mac::Sha1,
        None,
    ),
    s(
        "CAMELLIA128-SHA",
        Kx::Rsa,
        Au::Rsa,
        Enc::Camellia128,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-RSA-DES-CBC3-SHA",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::TripleDes,
        Mac::Sha1,
        None,
    ),
    s(
        "EDH-RSA-DES-CBC3-SHA",
        Kx::Dhe,
        Au::Rsa,
        Enc::TripleDes,
        Mac::Sha1,
        None,
    ),
    s(
        "DES-CBC3-SHA",
        Kx::Rsa,
        Au::Rsa,
        Enc::TripleDes,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-RSA-RC4-SHA",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Rc4,
        Mac::Sha1,
        None,
    ),
    s("RC4-SHA", Kx::Rsa, Au::Rsa, Enc::Rc4, Mac::Sha1, None),
    s("RC4-MD5", Kx::Rsa, Au::Rsa, Enc::Rc4, Mac::Md5, None),
    s(
        "ADH-AES256-GCM-SHA384",
        Kx::Dhe,
        Au::Null,
        Enc::AesGcm256,
        Mac::Aead,
        None,
    ),
    s(
        "ADH-AES128-GCM-SHA256",
        Kx::Dhe,
        Au::Null,
        Enc::AesGcm128,
        Mac::Aead,
        None,
    ),
    s(
        "AECDH-AES256-SHA",
        Kx::Ecdhe,
        Au::Null,
        Enc::Aes256,
        Mac::Sha1,
        None,
    ),
    s(
        "AECDH-AES128-SHA",
        Kx::Ecdhe,
        Au::Null,
        Enc::Aes128,
        Mac::Sha1,
        None,
    ),
    s(
        "ECDHE-RSA-NULL-SHA",
        Kx::Ecdhe,
        Au::Rsa,
        Enc::Null,
        Mac::Sha1,
        None,
    ),
    s(
        "NULL-SHA256",
        Kx::Rsa,
        Au::Rsa,
        Enc::Null,
        Mac::Sha256,
        None,
    ),
    s("NULL-SHA", Kx::Rsa, Au::Rsa, Enc::Null, Mac::Sha1, None),
];

/// TLS 1.3 suites by their OpenSSL (= IANA) names.
static TLS13: &[(&str, Option<CipherSuite>)] = &[
    ("TLS_AES_256_GCM_SHA384", Some(C::TLS13_AES_256_GCM_SHA384)),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        Some(C::TLS13_CHACHA20_POLY1305_SHA256),
    ),
    ("TLS_AES_128_GCM_SHA256", Some(C::TLS13_AES_128_GCM_SHA256)),
    ("TLS_AES_128_CCM_SHA256", None),
    ("TLS_AES_128_CCM_8_SHA256", None),
];

impl Suite {
    fn bits(&self) -> u32 {
        match self.enc {
            Enc::AesGcm256 | Enc::Chacha20 | Enc::Aes256 | Enc::Camellia256 => 256,
            Enc::AesGcm128 | Enc::Aes128 | Enc::Camellia128 | Enc::Rc4 => 128,
            Enc::TripleDes => 112,
            Enc::Null => 0,
        }
    }

    /// One OpenSSL keyword, or `None` when it is not a keyword.
    fn keyword(&self, k: &str) -> Option<bool> {
        let anon = self.au == Au::Null;
        let null = self.enc == Enc::Null;
        Some(match k {
            "ALL" => !null,
            "COMPLEMENTOFALL" | "eNULL" | "NULL" => null,
            "DEFAULT" => !null && !anon,
            "COMPLEMENTOFDEFAULT" => anon && !null,
            "HIGH" => self.bits() >= 128 && self.enc != Enc::Rc4,
            "MEDIUM" => self.enc == Enc::Rc4 || self.enc == Enc::TripleDes,
            "LOW" | "EXPORT" | "EXP" | "DES" | "SEED" | "IDEA" | "ARIA" | "PSK" | "kPSK"
            | "aPSK" | "SRP" | "kSRP" | "DSS" | "aDSS" | "kECDH" | "aECDH" | "kGOST" | "aGOST"
            | "GOST89MAC" => false,
            "aNULL" => anon,
            "kRSA" | "RSA" => self.kx == Kx::Rsa,
            "aRSA" => self.au == Au::Rsa,
            "kECDHE" | "kEECDH" => self.kx == Kx::Ecdhe,
            "ECDHE" | "EECDH" => self.kx == Kx::Ecdhe && !anon,
            "AECDH" => self.kx == Kx::Ecdhe && anon,
            "aECDSA" | "ECDSA" => self.au == Au::Ecdsa,
            "kDHE" | "kEDH" | "DH" => self.kx == Kx::Dhe,
            "DHE" | "EDH" => self.kx == Kx::Dhe && !anon,
            "ADH" => self.kx == Kx::Dhe && anon,
            "AES" => matches!(
                self.enc,
                Enc::AesGcm128 | Enc::AesGcm256 | Enc::Aes128 | Enc::Aes256
            ),
            "AES128" => matches!(self.enc, Enc::AesGcm128 | Enc::Aes128),
            "AES256" => matches!(self.enc, Enc::AesGcm256 | Enc::Aes256),
            "AESGCM" => matches!(self.enc, Enc::AesGcm128 | Enc::AesGcm256),
            "AESCCM" | "AESCCM8" => false,
            "CHACHA20" => self.enc == Enc::Chacha20,
            "CAMELLIA" => matches!(self.enc, Enc::Camellia128 | Enc::Camellia256),
            "CAMELLIA128" => self.enc == Enc::Camellia128,
            "CAMELLIA256" => self.enc == Enc::Camellia256,
            "3DES" => self.enc == Enc::TripleDes,
            "RC4" => self.enc == Enc::Rc4,
            "MD5" => self.mac == Mac::Md5,
            "SHA1" | "SHA" => self.mac == Mac::Sha1,
            "SHA256" => {
                self.mac == Mac::Sha256 || (self.mac == Mac::Aead && self.enc != Enc::AesGcm256)
            }
            "SHA384" => self.mac == Mac::Sha384 || self.enc == Enc::AesGcm256,
            "TLSv1.2" => self.mac != Mac::Sha1 && self.mac != Mac::Md5,
            "TLSv1" | "TLSv1.0" | "SSLv3" => self.mac == Mac::Sha1 || self.mac == Mac::Md5,
            "SUITEB128" | "SUITEB128ONLY" | "SUITEB192" => {
                self.au == Au::Ecdsa && matches!(self.enc, Enc::AesGcm128 | Enc::AesGcm256)
            }
            _ => return None,
        })
    }

    /// A name, keyword or `A+B` intersection.
    fn matches(&self, term: &str) -> Option<bool> {
        if term.contains('+') {
            let mut all = true;
            for part in term.split('+') {
                all &= self.matches(part)?;
            }
            return Some(all);
        }
        if TLS12.iter().any(|s| s.name == term) {
            return Some(self.name == term);
        }
        self.keyword(term)
    }
}

/// The outcome of mapping an OpenSSL list onto rustls.
#[derive(Debug, Clone)]
pub struct CipherSelection {
    /// Suites rustls will offer, in the list's order.
    pub suites: Vec<SupportedCipherSuite>,
    /// Suites the list selects that rustls cannot negotiate (OpenSSL names), for a warning.
    pub unsupported: Vec<String>,
}

fn find_suite(
    provider: &CryptoProvider,
    all: &[SupportedCipherSuite],
    cs: CipherSuite,
) -> Option<SupportedCipherSuite> {
    provider
        .cipher_suites
        .iter()
        .chain(all.iter())
        .find(|s| s.suite() == cs)
        .copied()
}

fn all_suites() -> &'static [SupportedCipherSuite] {
    #[cfg(feature = "aws-lc-rs")]
    {
        rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        rustls::crypto::ring::ALL_CIPHER_SUITES
    }
}

fn all_kx_groups() -> &'static [&'static dyn SupportedKxGroup] {
    #[cfg(feature = "aws-lc-rs")]
    {
        rustls::crypto::aws_lc_rs::ALL_KX_GROUPS
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        rustls::crypto::ring::ALL_KX_GROUPS
    }
}

/// Maps a `ciphers` value (TLS 1.2 and below, OpenSSL cipher-list syntax) onto `provider`'s
/// suites. Errors on a token OpenSSL would not know, and when nothing rustls can do is left.
pub fn map_openssl_ciphers(
    list: &str,
    provider: &CryptoProvider,
) -> Result<CipherSelection, TlsError> {
    let bad = |detail: String| TlsError::BadValue {
        keyword: "ciphers",
        detail,
    };
    let mut chosen: Vec<usize> = Vec::new();
    let mut banned = vec![false; TLS12.len()];
    for tok in list.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        if tok == "@STRENGTH" {
            chosen.sort_by_key(|&i| std::cmp::Reverse(TLS12[i].bits()));
            continue;
        }
        if tok.starts_with("@SECLEVEL=") {
            continue;
        }
        let (op, term) = match tok.as_bytes()[0] {
            b @ (b'!' | b'-' | b'+') => (b, &tok[1..]),
            _ => (0, tok),
        };
        let mut set = Vec::new();
        for (i, s) in TLS12.iter().enumerate() {
            match s.matches(term) {
                Some(true) => set.push(i),
                Some(false) => {}
                None => {
                    return Err(bad(format!(
                        "unknown cipher or keyword '{term}' in '{list}'"
                    )))
                }
            }
        }
        match op {
            b'!' => {
                for &i in &set {
                    banned[i] = true;
                }
                chosen.retain(|i| !set.contains(i));
            }
            b'-' => chosen.retain(|i| !set.contains(i)),
            b'+' => {
                let moved: Vec<usize> =
                    chosen.iter().copied().filter(|i| set.contains(i)).collect();
                chosen.retain(|i| !set.contains(i));
                chosen.extend(moved);
            }
            _ => {
                for i in set {
                    if !banned[i] && !chosen.contains(&i) {
                        chosen.push(i);
                    }
                }
            }
        }
    }
    let mut out = CipherSelection {
        suites: Vec::new(),
        unsupported: Vec::new(),
    };
    for i in chosen {
        let s = &TLS12[i];
        match s
            .rustls
            .and_then(|cs| find_suite(provider, all_suites(), cs))
        {
            Some(sup) => out.suites.push(sup),
            None => out.unsupported.push(s.name.to_string()),
        }
    }
    if out.suites.is_empty() {
        return Err(bad(format!(
            "no cipher in '{list}' is supported by Sluice (rustls offers ECDHE with AES-GCM or CHACHA20-POLY1305 for TLSv1.2)"
        )));
    }
    Ok(out)
}

/// Maps a `ciphersuites` value (TLS 1.3, `:`-separated IANA names) onto `provider`'s suites.
pub fn map_openssl_ciphersuites(
    list: &str,
    provider: &CryptoProvider,
) -> Result<CipherSelection, TlsError> {
    let mut out = CipherSelection {
        suites: Vec::new(),
        unsupported: Vec::new(),
    };
    for tok in list.split(':').filter(|t| !t.is_empty()) {
        let Some((name, cs)) = TLS13.iter().find(|(n, _)| *n == tok) else {
            return Err(TlsError::BadValue {
                keyword: "ciphersuites",
                detail: format!("unknown TLSv1.3 ciphersuite '{tok}' in '{list}'"),
            });
        };
        match cs.and_then(|cs| find_suite(provider, all_suites(), cs)) {
            Some(sup) => {
                if !out.suites.iter().any(|s| s.suite() == sup.suite()) {
                    out.suites.push(sup)
                }
            }
            None => out.unsupported.push((*name).to_string()),
        }
    }
    if out.suites.is_empty() {
        return Err(TlsError::BadValue {
            keyword: "ciphersuites",
            detail: format!("no ciphersuite in '{list}' is supported by Sluice (TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256)"),
        });
    }
    Ok(out)
}

/// The OpenSSL name of a negotiated suite, as `ssl_fc_cipher` returns it.
pub fn openssl_name(cs: CipherSuite) -> Option<&'static str> {
    TLS12
        .iter()
        .find(|s| s.rustls == Some(cs))
        .map(|s| s.name)
        .or_else(|| TLS13.iter().find(|(_, c)| *c == Some(cs)).map(|(n, _)| *n))
}

/// Curve names OpenSSL accepts in `curves`/`ecdhe`, to the TLS group.
fn named_group(name: &str) -> Option<NamedGroup> {
    Some(match name {
        "X25519" | "x25519" => NamedGroup::X25519,
        "P-256" | "prime256v1" | "secp256r1" => NamedGroup::secp256r1,
        "P-384" | "secp384r1" => NamedGroup::secp384r1,
        "P-521" | "secp521r1" => NamedGroup::secp521r1,
        "X448" | "x448" => NamedGroup::X448,
        "ffdhe2048" => NamedGroup::FFDHE2048,
        "ffdhe3072" => NamedGroup::FFDHE3072,
        "ffdhe4096" => NamedGroup::FFDHE4096,
        "ffdhe6144" => NamedGroup::FFDHE6144,
        "ffdhe8192" => NamedGroup::FFDHE8192,
        "X25519MLKEM768" => NamedGroup::X25519MLKEM768,
        "SecP256r1MLKEM768" => NamedGroup::secp256r1MLKEM768,
        _ => return None,
    })
}

/// The outcome of mapping a curve list.
#[derive(Debug)]
pub struct CurveSelection {
    /// Groups rustls will use, in the list's order of preference.
    pub groups: Vec<&'static dyn SupportedKxGroup>,
    /// Curves named that rustls cannot do, for a warning.
    pub unsupported: Vec<String>,
}

/// Maps a `curves` value (`X25519:P-256`) or an `ecdhe` curve onto key-exchange groups.
pub fn map_curves(keyword: &'static str, list: &str) -> Result<CurveSelection, TlsError> {
    let mut out = CurveSelection {
        groups: Vec::new(),
        unsupported: Vec::new(),
    };
    for tok in list.split(':').filter(|t| !t.is_empty()) {
        let Some(g) = named_group(tok) else {
            return Err(TlsError::BadValue {
                keyword,
                detail: format!("unknown curve '{tok}' in '{list}'"),
            });
        };
        match all_kx_groups().iter().find(|k| k.name() == g) {
            Some(k) => {
                if !out.groups.iter().any(|x| x.name() == g) {
                    out.groups.push(*k);
                }
            }
            None => out.unsupported.push(tok.to_string()),
        }
    }
    if out.groups.is_empty() {
        return Err(TlsError::BadValue {
            keyword,
            detail: format!("no curve in '{list}' is supported by Sluice (X25519, P-256, P-384, X25519MLKEM768)"),
        });
    }
    Ok(out)
}
