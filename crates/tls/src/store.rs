//! The certificate store of one `bind` (manual 5.1 `crt`, `crt-list`, `strict-sni`): certificates
//! indexed by SNI name, exact names first then wildcards, ECDSA preferred when the client can
//! use it, the first certificate loaded as the default. Entries can be replaced at run time
//! (`set ssl cert` + `commit ssl cert`) without blocking handshakes: the index is an `ArcSwap`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::crtlist::{parse_crt_list, SslBindConf};
use crate::load::{default_provider, load_cert_file, parse_cert_pem, with_base, LoadedCert};
use crate::x509::CertFields;
use crate::TlsError;

/// Key family of a certificate, which HAProxy uses to choose between an ECDSA and an RSA
/// certificate for the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA key.
    Ecdsa,
    /// RSA key.
    Rsa,
    /// Anything else (Ed25519, ...): HAProxy's "anonymous" slot.
    Other,
}

/// One certificate of the store: a `crt` file, or one line of a crt-list.
#[derive(Debug, Clone)]
pub struct CertEntry {
    /// The file (after `crt-base`).
    pub path: PathBuf,
    /// Chain and key served for this entry.
    pub key: Arc<CertifiedKey>,
    /// Key family.
    pub kind: KeyKind,
    /// Leaf certificate fields (names, validity, DNs).
    pub fields: CertFields,
    /// crt-list SNI filters as written (`www.example.org`, `*.example.org`, `!bad.example.org`);
    /// empty when the names come from the certificate.
    pub filters: Vec<String>,
    /// crt-list `[ ... ]` options of this line.
    pub options: Option<Arc<SslBindConf>>,
}

impl CertEntry {
    fn from_loaded(
        l: LoadedCert,
        filters: Vec<String>,
        options: Option<Arc<SslBindConf>>,
    ) -> CertEntry {
        let kind = match l.key.key.algorithm() {
            SignatureAlgorithm::ECDSA => KeyKind::Ecdsa,
            SignatureAlgorithm::RSA => KeyKind::Rsa,
            _ => KeyKind::Other,
        };
        CertEntry {
            path: l.path,
            key: l.key,
            kind,
            fields: l.fields,
            filters,
            options,
        }
    }

    /// The SNI keys this entry is indexed under: (name, negative). Filters when given, else the
    /// certificate's SAN DNS names and CNs.
    fn sni_keys(&self) -> Vec<(String, bool)> {
        if self.filters.is_empty() {
            return self
                .fields
                .sni_names()
                .into_iter()
                .map(|n| (n, false))
                .collect();
        }
        self.filters
            .iter()
            .filter_map(|f| {
                let (neg, name) = match f.strip_prefix('!') {
                    Some(n) => (true, n),
                    None => (false, f.as_str()),
                };
                // `!*...` is a no-op in HAProxy.
                if name.is_empty() || (neg && name.starts_with('*')) {
                    return None;
                }
                Some((name.to_ascii_lowercase(), neg))
            })
            .collect()
    }

    fn excludes(&self, name: &str) -> bool {
        self.filters.iter().any(|f| {
            f.strip_prefix('!')
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct SniRef {
    entry: usize,
    neg: bool,
}

#[derive(Clone, Default)]
struct Index {
    entries: Vec<Arc<CertEntry>>,
    /// Full names.
    exact: HashMap<String, Vec<SniRef>>,
    /// Wildcards keyed without their `*` (`*.example.com` under `.example.com`).
    wild: HashMap<String, Vec<SniRef>>,
}

impl Index {
    fn add(&mut self, e: CertEntry) {
        let id = self.entries.len();
        self.index_entry(id, &e);
        self.entries.push(Arc::new(e));
    }

    fn index_entry(&mut self, id: usize, e: &CertEntry) {
        for (name, neg) in e.sni_keys() {
            let r = SniRef { entry: id, neg };
            match name.strip_prefix('*') {
                Some(w) => self.wild.entry(w.to_string()).or_default().push(r),
                None => self.exact.entry(name).or_default().push(r),
            }
        }
    }

    fn reindex(&mut self) {
        self.exact.clear();
        self.wild.clear();
        let entries = self.entries.clone();
        for (id, e) in entries.iter().enumerate() {
            self.index_entry(id, e);
        }
    }
}

/// What the client's ClientHello says it can verify, for the ECDSA/RSA choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSigs {
    /// The client offered an ECDSA signature scheme.
    pub ecdsa: bool,
    /// The client offered an RSA signature scheme.
    pub rsa: bool,
}

impl ClientSigs {
    /// Both families (no ClientHello at hand).
    pub const ANY: ClientSigs = ClientSigs {
        ecdsa: true,
        rsa: true,
    };

    /// From the signature_algorithms extension of a ClientHello.
    pub fn from_schemes(schemes: &[SignatureScheme]) -> ClientSigs {
        use SignatureScheme as S;
        let ecdsa = schemes.iter().any(|s| {
            matches!(
                s,
                S::ECDSA_NISTP256_SHA256 | S::ECDSA_NISTP384_SHA384 | S::ECDSA_NISTP521_SHA512
            )
        });
        let rsa = schemes.iter().any(|s| {
            matches!(
                s,
                S::RSA_PKCS1_SHA256
                    | S::RSA_PKCS1_SHA384
                    | S::RSA_PKCS1_SHA512
                    | S::RSA_PSS_SHA256
                    | S::RSA_PSS_SHA384
                    | S::RSA_PSS_SHA512
            )
        });
        ClientSigs { ecdsa, rsa }
    }
}

/// Certificates of one `bind` line, by SNI.
pub struct CertStore {
    index: ArcSwap<Index>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idx = self.index.load();
        f.debug_struct("CertStore")
            .field(
                "entries",
                &idx.entries.iter().map(|e| &e.path).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for CertStore {
    fn default() -> Self {
        CertStore::new()
    }
}

impl CertStore {
    /// An empty store using this build's crypto provider.
    pub fn new() -> CertStore {
        CertStore::with_provider(Arc::new(default_provider()))
    }

    /// An empty store loading keys with `provider`.
    pub fn with_provider(provider: Arc<CryptoProvider>) -> CertStore {
        CertStore {
            index: ArcSwap::from_pointee(Index::default()),
            provider,
        }
    }

    fn modify<T>(
        &mut self,
        f: impl FnOnce(&mut Index) -> Result<T, TlsError>,
    ) -> Result<T, TlsError> {
        // `&mut self`: no reader can hold the index, so this is a move, not a copy.
        let arc = self.index.swap(Arc::new(Index::default()));
        let mut idx = Arc::try_unwrap(arc).unwrap_or_else(|a| (*a).clone());
        let r = f(&mut idx);
        self.index.store(Arc::new(idx));
        r
    }

    /// `crt <path>`: a PEM file, or a directory whose files are all loaded in name order except
    /// `.key`, `.ocsp`, `.issuer`, `.sctl` and dot-files (as HAProxy's `crtlist_load_cert_dir`).
    /// `base` is `crt-base`. The first certificate loaded becomes the default.
    pub fn load_crt(&mut self, path: &Path, base: Option<&Path>) -> Result<(), TlsError> {
        let full = with_base(path, base);
        let loaded: Vec<LoadedCert> = if full.is_dir() {
            let rd = std::fs::read_dir(&full).map_err(|source| TlsError::UnreadableDir {
                path: full.clone(),
                source,
            })?;
            let mut names: Vec<PathBuf> = Vec::new();
            for de in rd {
                let de = de.map_err(|source| TlsError::UnreadableDir {
                    path: full.clone(),
                    source,
                })?;
                let name = de.file_name();
                let name = name.to_string_lossy();
                let skip = name.starts_with('.')
                    || [".key", ".ocsp", ".issuer", ".sctl"]
                        .iter()
                        .any(|ext| name.ends_with(ext));
                if !skip && de.path().is_file() {
                    names.push(de.path());
                }
            }
            names.sort();
            names
                .iter()
                .map(|p| load_cert_file(p, &self.provider))
                .collect::<Result<_, _>>()?
        } else {
            vec![load_cert_file(&full, &self.provider)?]
        };
        self.modify(|idx| {
            for l in loaded {
                idx.add(CertEntry::from_loaded(l, Vec::new(), None));
            }
            Ok(())
        })
    }

    /// `crt-list <path>`: one certificate per line, `file [ssl-options] [[!]sni-filter ...]`;
    /// relative certificate paths take `crt-base`.
    pub fn load_crt_list(&mut self, path: &Path, base: Option<&Path>) -> Result<(), TlsError> {
        let text = std::fs::read_to_string(path).map_err(|source| TlsError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let lines = parse_crt_list(path, &text)?;
        let mut loaded = Vec::with_capacity(lines.len());
        for l in lines {
            let full = with_base(&l.crt, base);
            let cert = load_cert_file(&full, &self.provider).map_err(|e| TlsError::CrtList {
                path: path.to_path_buf(),
                line: l.line,
                detail: e.to_string(),
            })?;
            loaded.push(CertEntry::from_loaded(
                cert,
                l.filters,
                l.options.map(Arc::new),
            ));
        }
        self.modify(|idx| {
            for e in loaded {
                idx.add(e);
            }
            Ok(())
        })
    }

    /// Adds an already loaded certificate (for callers that build PEM in memory).
    pub fn add_pem(
        &mut self,
        name: &Path,
        pem: &[u8],
        filters: Vec<String>,
    ) -> Result<(), TlsError> {
        let l = parse_cert_pem(name, pem, &self.provider)?;
        self.modify(|idx| {
            idx.add(CertEntry::from_loaded(l, filters, None));
            Ok(())
        })
    }

    /// Replaces, at run time, every entry loaded from `path` with the certificate and key in
    /// `pem` (`set ssl cert <path> <pem>` then `commit ssl cert <path>`). Entries without
    /// crt-list filters are re-indexed under the new certificate's names. Handshakes in
    /// progress keep the old certificate. Returns how many entries changed.
    pub fn replace_pem(&self, path: &Path, pem: &[u8]) -> Result<usize, TlsError> {
        let l = parse_cert_pem(path, pem, &self.provider)?;
        let mut idx = (**self.index.load()).clone();
        let mut n = 0;
        for e in idx.entries.iter_mut() {
            if e.path == path {
                let mut ne =
                    CertEntry::from_loaded(l.clone(), e.filters.clone(), e.options.clone());
                ne.path = e.path.clone();
                *e = Arc::new(ne);
                n += 1;
            }
        }
        if n == 0 {
            return Err(TlsError::Config(format!(
                "certificate '{}' is not used by this store",
                path.display()
            )));
        }
        idx.reindex();
        self.index.store(Arc::new(idx));
        Ok(n)
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.index.load().entries.len()
    }

    /// Whether no certificate was loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All entries in load order (the first is the default).
    pub fn entries(&self) -> Vec<Arc<CertEntry>> {
        self.index.load().entries.clone()
    }

    /// The default certificate: the first loaded.
    pub fn default_entry(&self) -> Option<Arc<CertEntry>> {
        self.index.load().entries.first().cloned()
    }

    /// The certificate for `sni` with the default as fallback (no SNI, or no match).
    pub fn resolve(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        self.select(sni, ClientSigs::ANY, false)
            .map(|e| e.key.clone())
    }

    /// HAProxy's `ssl_sock_switchctx_cbk` choice: the exact name first, then the wildcard of the
    /// name minus its first label, skipping negative filters (and, for a wildcard, a negative
    /// filter on the same crt-list line naming this exact host); within one stage ECDSA if the
    /// client offered it, else RSA, else another key. No match, or no SNI: the default
    /// certificate, or nothing with `strict-sni`.
    pub fn select(
        &self,
        sni: Option<&str>,
        sigs: ClientSigs,
        strict: bool,
    ) -> Option<Arc<CertEntry>> {
        let idx = self.index.load();
        let Some(sni) = sni.filter(|s| !s.is_empty()) else {
            return if strict {
                None
            } else {
                idx.entries.first().cloned()
            };
        };
        let name = sni.to_ascii_lowercase();
        let wildp = name.find('.').map(|i| &name[i..]);
        let stages = [
            idx.exact.get(name.as_str()),
            wildp.and_then(|w| idx.wild.get(w)),
        ];
        for (stage, refs) in stages.iter().enumerate() {
            let Some(refs) = refs else { continue };
            let (mut ecdsa, mut rsa, mut other) = (None, None, None);
            for r in refs.iter().filter(|r| !r.neg) {
                let Some(e) = idx.entries.get(r.entry) else {
                    continue;
                };
                if stage == 1 && e.excludes(&name) {
                    continue;
                }
                let slot = match e.kind {
                    KeyKind::Ecdsa => &mut ecdsa,
                    KeyKind::Rsa => &mut rsa,
                    KeyKind::Other => &mut other,
                };
                slot.get_or_insert_with(|| e.clone());
            }
            let pick = if sigs.ecdsa && ecdsa.is_some() {
                ecdsa
            } else if sigs.rsa && rsa.is_some() {
                rsa
            } else {
                other.or(ecdsa).or(rsa)
            };
            if pick.is_some() {
                return pick;
            }
        }
        if strict {
            None
        } else {
            idx.entries.first().cloned()
        }
    }
}
