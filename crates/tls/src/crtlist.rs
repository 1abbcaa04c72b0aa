//! crt-list files (manual 5.1 `crt-list`): `<crtfile> [\[<sslbindconf> ...\]] [[!]<snifilter> ...]`
//! per line, `#` comments, per-line SSL options overriding the `bind` line's.

use std::path::{Path, PathBuf};

use crate::options::{parse_alpn, TlsVersion, Verify};
use crate::TlsError;

/// The `[ ... ]` options of a crt-list line (HAProxy's `ssl_bind_conf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SslBindConf {
    /// `alpn`
    pub alpn: Option<Vec<Vec<u8>>>,
    /// `npn` (kept to be refused by the caller: rustls has no NPN)
    pub npn: Option<String>,
    /// `verify`
    pub verify: Option<Verify>,
    /// `ca-file` as written (relative to `ca-base`)
    pub ca_file: Option<PathBuf>,
    /// `crl-file` as written (relative to `ca-base`)
    pub crl_file: Option<PathBuf>,
    /// `ciphers`
    pub ciphers: Option<String>,
    /// `ciphersuites`
    pub ciphersuites: Option<String>,
    /// `curves`
    pub curves: Option<String>,
    /// `ecdhe` (a single curve)
    pub ecdhe: Option<String>,
    /// `ssl-min-ver`
    pub ssl_min_ver: Option<TlsVersion>,
    /// `ssl-max-ver`
    pub ssl_max_ver: Option<TlsVersion>,
    /// `no-ca-names`
    pub no_ca_names: bool,
    /// `allow-0rtt`
    pub allow_0rtt: bool,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrtListLine {
    /// 1-based line number.
    pub line: usize,
    /// Certificate file as written (relative to `crt-base`).
    pub crt: PathBuf,
    /// `[ ... ]` options, if any.
    pub options: Option<SslBindConf>,
    /// SNI filters as written.
    pub filters: Vec<String>,
}

/// Splits on blanks, honouring backslash escapes (`\ ` keeps a space in a path).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            ' ' | '\t' => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            _ => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

/// Parses a crt-list. `path` only names the file in errors.
pub fn parse_crt_list(path: &Path, text: &str) -> Result<Vec<CrtListLine>, TlsError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let err = |detail: String| TlsError::CrtList {
            path: path.to_path_buf(),
            line: lineno,
            detail,
        };
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut w = words(trimmed).into_iter();
        let Some(crt) = w.next() else { continue };
        let rest: Vec<String> = w.collect();
        let mut options = None;
        let mut filters = Vec::new();
        let mut i = 0;
        if rest.first().is_some_and(|s| s.starts_with('[')) {
            let mut opt_words: Vec<String> = Vec::new();
            let mut closed = false;
            while i < rest.len() {
                let mut t = rest[i].as_str();
                i += 1;
                if opt_words.is_empty() && t.starts_with('[') && !closed {
                    t = &t[1..];
                }
                if let Some(s) = t.strip_suffix(']') {
                    if !s.is_empty() {
                        opt_words.push(s.to_string());
                    }
                    closed = true;
                    break;
                }
                if !t.is_empty() {
                    opt_words.push(t.to_string());
                }
            }
            if !closed {
                return Err(err("missing ']' after the SSL options".into()));
            }
            options = Some(parse_options(&opt_words).map_err(err)?);
        }
        for f in &rest[i..] {
            if f.starts_with('[') || f.ends_with(']') {
                return Err(err(format!(
                    "unexpected '{f}': SSL options go right after the certificate"
                )));
            }
            filters.push(f.clone());
        }
        out.push(CrtListLine {
            line: lineno,
            crt: PathBuf::from(crt),
            options,
            filters,
        });
    }
    Ok(out)
}

fn parse_options(words: &[String]) -> Result<SslBindConf, String> {
    let mut c = SslBindConf::default();
    let mut it = words.iter();
    while let Some(k) = it.next() {
        let mut arg = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("'{k}' : missing argument"))
        };
        match k.as_str() {
            "alpn" => c.alpn = Some(parse_alpn(&arg()?).map_err(|e| e.to_string())?),
            "npn" => c.npn = Some(arg()?),
            "verify" => c.verify = Some(arg()?.parse().map_err(|e: TlsError| e.to_string())?),
            "ca-file" => c.ca_file = Some(PathBuf::from(arg()?)),
            "crl-file" => c.crl_file = Some(PathBuf::from(arg()?)),
            "ciphers" => c.ciphers = Some(arg()?),
            "ciphersuites" => c.ciphersuites = Some(arg()?),
            "curves" => c.curves = Some(arg()?),
            "ecdhe" => c.ecdhe = Some(arg()?),
            "ssl-min-ver" => {
                c.ssl_min_ver = Some(arg()?.parse().map_err(|e: TlsError| e.to_string())?)
            }
            "ssl-max-ver" => {
                c.ssl_max_ver = Some(arg()?.parse().map_err(|e: TlsError| e.to_string())?)
            }
            "no-ca-names" => c.no_ca_names = true,
            "allow-0rtt" => c.allow_0rtt = true,
            other => {
                return Err(format!(
                    "unknown ssl keyword '{other}' (crt-list lines accept allow-0rtt, alpn, ca-file, ciphers, ciphersuites, crl-file, curves, ecdhe, no-ca-names, npn, ssl-min-ver, ssl-max-ver, verify)"
                ))
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crt_list_lines_with_options_and_filters() {
        let text = "# comment\n\n\
            site1.pem\n\
            site2.pem [alpn h2,http/1.1 verify optional ssl-min-ver TLSv1.3] www.example.org *.example.org !bad.example.org\n\
            site3.pem [ciphers ECDHE-RSA-AES128-GCM-SHA256]\n\
            dir\\ with\\ space/c.pem [no-ca-names] a.example\n";
        let l = parse_crt_list(Path::new("l.txt"), text).unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(l[0].line, 3);
        assert_eq!(l[0].options, None);
        assert!(l[0].filters.is_empty());
        let o = l[1].options.as_ref().unwrap();
        assert_eq!(o.alpn, Some(vec![b"h2".to_vec(), b"http/1.1".to_vec()]));
        assert_eq!(o.verify, Some(Verify::Optional));
        assert_eq!(o.ssl_min_ver, Some(TlsVersion::Tls13));
        assert_eq!(
            l[1].filters,
            ["www.example.org", "*.example.org", "!bad.example.org"]
        );
        assert_eq!(
            l[2].options.as_ref().unwrap().ciphers.as_deref(),
            Some("ECDHE-RSA-AES128-GCM-SHA256")
        );
        assert_eq!(l[3].crt, PathBuf::from("dir with space/c.pem"));
        assert!(l[3].options.as_ref().unwrap().no_ca_names);
        assert_eq!(l[3].filters, ["a.example"]);
    }

    #[test]
    fn crt_list_errors_name_file_and_line() {
        let e = parse_crt_list(Path::new("l.txt"), "a.pem\nb.pem [alpn h2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "crt-list 'l.txt' line 2 : missing ']' after the SSL options"
        );
        let e = parse_crt_list(Path::new("l.txt"), "b.pem [bogus 1]\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 1 : unknown ssl keyword 'bogus'"),
            "{e}"
        );
        let e = parse_crt_list(Path::new("l.txt"), "b.pem [verify]\n").unwrap_err();
        assert!(e.to_string().contains("'verify' : missing argument"), "{e}");
    }
}
