//! crypt(3) password hashes for userlists (manual section 3.4 "Userlists":
//! `password` takes a crypt(3) hash): SHA-512 `$6$`, SHA-256 `$5$`,
//! MD5 `$1$` and bcrypt `$2a$`/`$2b$`/`$2y$`.

use md5::Md5;
use sha2::digest::Digest;
use sha2::{Sha256, Sha512};

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BCRYPT64: &[u8; 64] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn to64(out: &mut Vec<u8>, mut v: u32, n: usize) {
    for _ in 0..n {
        out.push(ITOA64[(v & 0x3f) as usize]);
        v >>= 6;
    }
}

/// Check `password` against a crypt(3) string; unknown schemes never match.
pub(crate) fn verify(password: &[u8], hash: &str) -> bool {
    let computed = if let Some(rest) = hash.strip_prefix("$6$") {
        sha_crypt::<Sha512>(password, rest, &SHA512_ORDER, "$6$")
    } else if let Some(rest) = hash.strip_prefix("$5$") {
        sha_crypt::<Sha256>(password, rest, &SHA256_ORDER, "$5$")
    } else if let Some(rest) = hash.strip_prefix("$1$") {
        Some(md5_crypt(password, rest))
    } else if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        bcrypt(password, hash)
    } else {
        None
    };
    match computed {
        Some(c) => constant_eq(c.as_bytes(), hash.as_bytes()),
        None => false,
    }
}

pub(crate) fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const SHA512_ORDER: [[usize; 3]; 21] = [
    [0, 21, 42],
    [22, 43, 1],
    [44, 2, 23],
    [3, 24, 45],
    [25, 46, 4],
    [47, 5, 26],
    [6, 27, 48],
    [28, 49, 7],
    [50, 8, 29],
    [9, 30, 51],
    [31, 52, 10],
    [53, 11, 32],
    [12, 33, 54],
    [34, 55, 13],
    [56, 14, 35],
    [15, 36, 57],
    [37, 58, 16],
    [59, 17, 38],
    [18, 39, 60],
    [40, 61, 19],
    [62, 20, 41],
];
const SHA256_ORDER: [[usize; 3]; 10] = [
    [0, 10, 20],
    [21, 1, 11],
    [12, 22, 2],
    [3, 13, 23],
    [24, 4, 14],
    [15, 25, 5],
    [6, 16, 26],
    [27, 7, 17],
    [18, 28, 8],
    [9, 19, 29],
];

/// Ulrich Drepper's SHA-crypt; `rest` is what follows `$5$`/`$6$`.
fn sha_crypt<D: Digest + Clone>(
    pw: &[u8],
    rest: &str,
    order: &[[usize; 3]],
    magic: &str,
) -> Option<String> {
    let (rounds, explicit, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, after) = r.split_once('$')?;
            let n: u64 = n.parse().ok()?;
            (n.clamp(1000, 999_999_999), true, after)
        }
        None => (5000, false, rest),
    };
    let salt_full = rest.split('$').next().unwrap_or("");
    let salt = &salt_full.as_bytes()[..salt_full.len().min(16)];
    let hlen = <D as Digest>::output_size();

    let b = D::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut a = D::new().chain_update(pw).chain_update(salt);
    let mut n = pw.len();
    while n >= hlen {
        a.update(&b);
        n -= hlen;
    }
    a.update(&b[..n]);
    let mut n = pw.len();
    while n > 0 {
        if n & 1 != 0 {
            a.update(&b)
        } else {
            a.update(pw)
        }
        n >>= 1;
    }
    let a = a.finalize();
    let mut dp = D::new();
    for _ in 0..pw.len() {
        dp.update(pw);
    }
    let dp = dp.finalize();
    let p: Vec<u8> = dp.iter().cycle().take(pw.len()).copied().collect();
    let mut ds = D::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(salt);
    }
    let ds = ds.finalize();
    let s: Vec<u8> = ds.iter().cycle().take(salt.len()).copied().collect();
    let mut c = a.to_vec();
    for i in 0..rounds {
        let mut h = D::new();
        if i & 1 != 0 {
            h.update(&p)
        } else {
            h.update(&c)
        }
        if i % 3 != 0 {
            h.update(&s);
        }
        if i % 7 != 0 {
            h.update(&p);
        }
        if i & 1 != 0 {
            h.update(&c)
        } else {
            h.update(&p)
        }
        c = h.finalize().to_vec();
    }
    let mut out = Vec::new();
    out.extend_from_slice(magic.as_bytes());
    if explicit {
        out.extend_from_slice(format!("rounds={rounds}$").as_bytes());
    }
    out.extend_from_slice(salt);
    out.push(b'$');
    for t in order {
        to64(
            &mut out,
            (u32::from(c[t[0]]) << 16) | (u32::from(c[t[1]]) << 8) | u32::from(c[t[2]]),
            4,
        );
    }
    if hlen == 64 {
        to64(&mut out, u32::from(c[63]), 2);
    } else {
        to64(&mut out, (u32::from(c[31]) << 8) | u32::from(c[30]), 3);
    }
    String::from_utf8(out).ok()
}

/// Poul-Henning Kamp's MD5-crypt; `rest` is what follows `$1$`.
fn md5_crypt(pw: &[u8], rest: &str) -> String {
    let salt_full = rest.split('$').next().unwrap_or("");
    let salt = &salt_full.as_bytes()[..salt_full.len().min(8)];
    let fin = Md5::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(pw)
        .chain_update(b"$1$")
        .chain_update(salt);
    let mut pl = pw.len() as isize;
    while pl > 0 {
        ctx.update(&fin[..pl.min(16) as usize]);
        pl -= 16;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 != 0 {
            ctx.update([0u8])
        } else {
            ctx.update(&pw[..1])
        }
        i >>= 1;
    }
    let mut f = ctx.finalize();
    for i in 0..1000 {
        let mut c = Md5::new();
        if i & 1 != 0 {
            c.update(pw)
        } else {
            c.update(f)
        }
        if i % 3 != 0 {
            c.update(salt);
        }
        if i % 7 != 0 {
            c.update(pw);
        }
        if i & 1 != 0 {
            c.update(f)
        } else {
            c.update(pw)
        }
        f = c.finalize();
    }
    let mut out = b"$1$".to_vec();
    out.extend_from_slice(salt);
    out.push(b'$');
    for t in [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] {
        to64(
            &mut out,
            (u32::from(f[t[0]]) << 16) | (u32::from(f[t[1]]) << 8) | u32::from(f[t[2]]),
            4,
        );
    }
    to64(&mut out, u32::from(f[11]), 2);
    String::from_utf8_lossy(&out).into_owned()
}

fn bcrypt_decode(s: &[u8], n: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(n + 2);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        acc = (acc << 6) | BCRYPT64.iter().position(|&x| x == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out.truncate(n);
    (out.len() == n).then_some(out)
}

fn bcrypt_encode(data: &[u8], out: &mut Vec<u8>) {
    for ch in data.chunks(3) {
        let n = (u32::from(ch[0]) << 16)
            | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
            | u32::from(*ch.get(2).unwrap_or(&0));
        let chars = ch.len() + 1;
        for k in 0..chars {
            out.push(BCRYPT64[((n >> (18 - 6 * k)) & 0x3f) as usize]);
        }
    }
}

/// bcrypt (`$2b$cc$` + 22 salt chars + 31 hash chars).
fn bcrypt(pw: &[u8], hash: &str) -> Option<String> {
    let b = hash.as_bytes();
    if b.len() < 29 || b[6] != b'$' {
        return None;
    }
    let cost: u32 = hash.get(4..6)?.parse().ok()?;
    if !(4..=31).contains(&cost) {
        return None;
    }
    let salt = bcrypt_decode(&b[7..29], 16)?;
    let mut key: Vec<u8> = pw
        .iter()
        .copied()
        .chain(std::iter::once(0))
        .take(72)
        .collect();
    if key.is_empty() {
        key.push(0);
    }
    let mut st = blowfish::Blowfish::bc_init_state();
    st.salted_expand_key(&salt, &key);
    for _ in 0..(1u64 << cost) {
        st.bc_expand_key(&key);
        st.bc_expand_key(&salt);
    }
    let mut ctext = [0u32; 6];
    for (i, w) in b"OrpheanBeholderScryDoubt".chunks(4).enumerate() {
        ctext[i] = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
    }
    for i in (0..6).step_by(2) {
        for _ in 0..64 {
            let r = st.bc_encrypt([ctext[i], ctext[i + 1]]);
            ctext[i] = r[0];
            ctext[i + 1] = r[1];
        }
    }
    let raw: Vec<u8> = ctext.iter().flat_map(|w| w.to_be_bytes()).collect();
    let mut out = b[..29].to_vec();
    bcrypt_encode(&raw[..23], &mut out);
    String::from_utf8(out).ok()
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vectors() {
        let pw = b"ipaygoodmoneyforthis";
        for h in [
            "$6$saltsalt$teT0JuoERMtEEbtBPx7.HTkBPi2M4YMOaVbeMnxF6voiKrt12EaJGmgBqYCif8skxkeisEn4tupZp4MCTRO83.",
            "$6$rounds=1000$abc$0hwtec7i.6r9zrTYpMQVKzllYXK.9pB9.i3gECM4cSFwhhfJnccxA8s6Jtn0rahxM4TmJoe7let4fhKnyoFza.",
            "$5$saltsalt$o0xsG0ropE9HRmpHlrC4NQxHdQcTr0s2R7pa2EM1Pp5",
            "$1$saltsalt$hBWP4gG4jIXv1jZkVaG4g0",
            "$2b$04$abcdefghijklmnopqrstuuSK2QCnYRJMB/U2CUDDs8ow.6wb1ys3m",
        ] {
            assert!(verify(pw, h), "{h}");
            assert!(!verify(b"wrong", h), "{h}");
        }
        assert!(verify(
            &[b'a'; 80],
            "$5$rounds=2000$0123456789abcdef$JZjWhAtYigo8RFNDnzQvuZvSzSqd.JukW2eJv3Wx8j2"
        ));
        assert!(!verify(pw, "plain"));
    }
}
