//! Just enough X.509 (DER) reading for HAProxy's certificate handling (manual 5.1 `crt`, 7.3.4
//! `ssl_c_*` fetches): subject and issuer in OpenSSL's one-line form, serial, SAN DNS names and
//! common names (the SNI names of a `crt`), notAfter. Bounded and panic-free on any input.

/// The fields of a certificate Sluice needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    /// Subject as HAProxy's `ssl_c_s_dn`: `/C=FR/O=Example/CN=www.example.com`.
    pub subject_dn: String,
    /// Issuer as HAProxy's `ssl_c_i_dn`.
    pub issuer_dn: String,
    /// Serial number bytes as OpenSSL keeps them (no DER sign padding); `ssl_c_serial` is binary.
    pub serial: Vec<u8>,
    /// DNS names of the subjectAltName extension, in certificate order.
    pub san_dns: Vec<String>,
    /// Every commonName of the subject, in order.
    pub common_names: Vec<String>,
    /// notBefore as seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter as seconds since the Unix epoch.
    pub not_after: i64,
}

impl CertFields {
    /// Names HAProxy indexes a certificate under for SNI when no crt-list filter is given: SAN
    /// DNS names, then every CN (both, as `ckch_inst_new_load_store` does), lower-cased.
    pub fn sni_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in self.san_dns.iter().chain(self.common_names.iter()) {
            let n = n.to_ascii_lowercase();
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }
}

/// Parses a DER certificate. `None` when it is not a well-formed X.509 certificate.
pub fn parse_cert(der: &[u8]) -> Option<CertFields> {
    let (tag, cert, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = tlv(cert)?;
    if tag != 0x30 {
        return None;
    }
    let mut r = tbs;
    let (mut tag, mut val, mut rest) = tlv(r)?;
    if tag == 0xa0 {
        r = rest;
        (tag, val, rest) = tlv(r)?;
    }
    if tag != 0x02 {
        return None;
    }
    let serial = strip_int_padding(val).to_vec();
    r = rest;
    let (_, _sigalg, rest) = expect(r, 0x30)?;
    let (_, issuer, rest) = expect(rest, 0x30)?;
    let (_, validity, rest) = expect(rest, 0x30)?;
    let (_, subject, rest) = expect(rest, 0x30)?;
    let (_, _spki, mut rest) = expect(rest, 0x30)?;
    let (nb_tag, nb, vrest) = tlv(validity)?;
    let (na_tag, na, _) = tlv(vrest)?;
    let not_before = parse_time(nb_tag, nb)?;
    let not_after = parse_time(na_tag, na)?;
    let mut san_dns = Vec::new();
    while !rest.is_empty() {
        let (tag, val, next) = tlv(rest)?;
        rest = next;
        if tag == 0xa3 {
            san_dns = san_from_extensions(val)?;
        }
    }
    let mut common_names = Vec::new();
    let subject_dn = name_oneline(subject, &mut common_names)?;
    let issuer_dn = name_oneline(issuer, &mut Vec::new())?;
    Some(CertFields {
        subject_dn,
        issuer_dn,
        serial,
        san_dns,
        common_names,
        not_before,
        not_after,
    })
}

/// One DER TLV: (tag, content, rest). Single-byte tags only (all X.509 needs), lengths up to
/// 4 bytes.
fn tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let first = *buf.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    let content = buf.get(hdr..end)?;
    Some((tag, content, buf.get(end..)?))
}

fn expect(buf: &[u8], want: u8) -> Option<(u8, &[u8], &[u8])> {
    let t = tlv(buf)?;
    (t.0 == want).then_some(t)
}

fn strip_int_padding(v: &[u8]) -> &[u8] {
    match v {
        [0, second, ..] if second & 0x80 != 0 => &v[1..],
        _ => v,
    }
}

const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

fn san_from_extensions(exts: &[u8]) -> Option<Vec<String>> {
    let (_, mut list, _) = expect(exts, 0x30)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let (_, ext, next) = expect(list, 0x30)?;
        list = next;
        let (_, oid, mut rest) = expect(ext, 0x06)?;
        if oid != OID_SAN {
            continue;
        }
        if let Some((0x01, _, r)) = tlv(rest) {
            rest = r;
        }
        let (_, octets, _) = expect(rest, 0x04)?;
        let (_, mut names, _) = expect(octets, 0x30)?;
        while !names.is_empty() {
            let (tag, val, next) = tlv(names)?;
            names = next;
            if tag == 0x82 {
                out.push(String::from_utf8_lossy(val).into_owned());
            }
        }
    }
    Some(out)
}

/// `X509_NAME` in HAProxy's `ssl_sock_get_dn_oneline` form: `/SN=value` per entry, raw values,
/// numeric OIDs for attributes OpenSSL has no short name for.
fn name_oneline(name: &[u8], cns: &mut Vec<String>) -> Option<String> {
    let mut out = String::new();
    let mut rdns = name;
    while !rdns.is_empty() {
        let (_, mut set, next) = expect(rdns, 0x31)?;
        rdns = next;
        while !set.is_empty() {
            let (_, atv, next) = expect(set, 0x30)?;
            set = next;
            let (_, oid, rest) = expect(atv, 0x06)?;
            let (vtag, val, _) = tlv(rest)?;
            let value = string_value(vtag, val);
            if oid == OID_CN {
                cns.push(value.clone());
            }
            out.push('/');
            match short_name(oid) {
                Some(sn) => out.push_str(sn),
                None => out.push_str(&oid_dotted(oid)),
            }
            out.push('=');
            out.push_str(&value);
        }
    }
    Some(out)
}

fn string_value(tag: u8, val: &[u8]) -> String {
    if tag == 0x1e {
        // BMPString: UTF-16BE.
        let units: Vec<u16> = val
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(val).into_owned()
}

fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, n] => match n {
            3 => "CN",
            4 => "SN",
            5 => "serialNumber",
            6 => "C",
            7 => "L",
            8 => "ST",
            9 => "street",
            10 => "O",
            11 => "OU",
            12 => "title",
            13 => "description",
            15 => "businessCategory",
            17 => "postalCode",
            41 => "name",
            42 => "GN",
            43 => "initials",
            44 => "generationQualifier",
            46 => "dnQualifier",
            65 => "pseudonym",
            _ => return None,
        },
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

fn oid_dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut cur: u64 = 0;
    for &b in oid {
        cur = cur.saturating_mul(128).saturating_add(u64::from(b & 0x7f));
        if b & 0x80 == 0 {
            arcs.push(cur);
            cur = 0;
        }
    }
    let mut out = String::new();
    if let Some(&first) = arcs.first() {
        let (a, b) = match first {
            0..=39 => (0, first),
            40..=79 => (1, first - 40),
            _ => (2, first - 80),
        };
        out = format!("{a}.{b}");
    }
    for a in arcs.iter().skip(1) {
        out.push('.');
        out.push_str(&a.to_string());
    }
    out
}

fn digits(s: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) to Unix seconds.
fn parse_time(tag: u8, v: &[u8]) -> Option<i64> {
    let (year, rest) = match tag {
        0x17 => {
            let yy = digits(v.get(0..2)?)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, v.get(2..)?)
        }
        0x18 => (digits(v.get(0..4)?)?, v.get(4..)?),
        _ => return None,
    };
    let month = digits(rest.get(0..2)?)?;
    let day = digits(rest.get(2..4)?)?;
    let hour = digits(rest.get(4..6)?)?;
    let min = digits(rest.get(6..8)?)?;
    let sec = digits(rest.get(8..10)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(parse_time(0x18, b"20380119031408Z"), Some(2_147_483_648));
    }

    #[test]
    fn unknown_oids_print_dotted() {
        assert_eq!(
            oid_dotted(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37]),
            "1.3.6.1.4.1.311"
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 7;
        for len in 0..300 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = parse_cert(&buf);
            let mut seq = vec![0x30, 0x82, 0x01, 0x00];
            seq.extend_from_slice(&buf);
            let _ = parse_cert(&seq);
        }
    }
}
