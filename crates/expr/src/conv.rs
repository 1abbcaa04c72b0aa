//! Converters (manual section 7.3.1 "Converters"): transformations applied
//! after a fetch, `fetch,conv1(args),conv2`.

use std::borrow::Cow;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use md5::Md5;
use regex::bytes::{Regex, RegexBuilder};
use sha1::Sha1;
use sha2::digest::Digest;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::args::Call;
use crate::codec;
use crate::error::{err, ExprError};
use crate::fetch::Env;
use crate::json::{self, JVal};
use crate::pattern::map::{parse_value, MapConv};
use crate::pattern::{IndexSpec, MatchKind, OutKind};
use crate::sample::{parse_int_full, Sample, SmpType};
use crate::txn::{Txn, VarScope};

#[derive(Debug, Clone)]
enum Operand {
    Int(i64),
    Var(VarScope, String),
}

impl Operand {
    fn get(&self, txn: &dyn Txn) -> Option<i64> {
        match self {
            Operand::Int(i) => Some(*i),
            Operand::Var(s, n) => txn.var(*s, n)?.to_int(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

#[derive(Debug, Clone, Copy)]
enum Alg {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Alg {
    fn parse(s: &str) -> Option<Alg> {
        Some(match s.to_ascii_lowercase().as_str() {
            "md5" => Alg::Md5,
            "sha1" => Alg::Sha1,
            "sha224" => Alg::Sha224,
            "sha256" => Alg::Sha256,
            "sha384" => Alg::Sha384,
            "sha512" => Alg::Sha512,
            _ => return None,
        })
    }
    fn digest(self, d: &[u8]) -> Vec<u8> {
        match self {
            Alg::Md5 => Md5::digest(d).to_vec(),
            Alg::Sha1 => Sha1::digest(d).to_vec(),
            Alg::Sha224 => Sha224::digest(d).to_vec(),
            Alg::Sha256 => Sha256::digest(d).to_vec(),
            Alg::Sha384 => Sha384::digest(d).to_vec(),
            Alg::Sha512 => Sha512::digest(d).to_vec(),
        }
    }
    fn hmac(self, key: &[u8], d: &[u8]) -> Option<Vec<u8>> {
        macro_rules! h {
            ($t:ty) => {{
                let mut m = <Hmac<$t> as Mac>::new_from_slice(key).ok()?;
                m.update(d);
                m.finalize().into_bytes().to_vec()
            }};
        }
        Some(match self {
            Alg::Md5 => h!(Md5),
            Alg::Sha1 => h!(Sha1),
            Alg::Sha224 => h!(Sha224),
            Alg::Sha256 => h!(Sha256),
            Alg::Sha384 => h!(Sha384),
            Alg::Sha512 => h!(Sha512),
        })
    }
}

#[derive(Debug)]
enum Kind {
    Lower,
    Upper,
    Map(MapConv),
    RegSub {
        re: Regex,
        subst: Vec<u8>,
        global: bool,
    },
    Base64,
    B64Dec,
    Concat {
        pre: Vec<u8>,
        var: Option<(VarScope, String)>,
        post: Vec<u8>,
    },
    Field {
        idx: i64,
        delims: Vec<u8>,
        count: i64,
        word: bool,
    },
    IpMask {
        v4: u8,
        v6: u8,
    },
    Hex,
    Hex2i,
    UrlDec(bool),
    UrlEnc,
    Json,
    Hash {
        f: fn(&[u8]) -> u32,
        aval: bool,
    },
    Digest(Alg),
    Hmac(Alg, Vec<u8>),
    Bytes {
        off: usize,
        len: Option<usize>,
    },
    Length,
    Arith(Arith, Operand),
    Neg,
    Bool,
    Not,
    Odd,
    Even,
    StrCmp(VarScope, String, bool),
    Time {
        fmt: Vec<u8>,
        off: i64,
    },
    Iif(Vec<u8>, Vec<u8>),
    JsonQuery(Vec<json::Step>, bool),
    SetVar(VarScope, String),
    Ltrim(Vec<u8>),
    Rtrim(Vec<u8>),
    CutCrlf,
    Debug,
}

/// A compiled converter.
#[derive(Debug)]
pub struct Conv {
    kind: Kind,
}

fn var_arg(c: &Call<'_>, i: usize) -> Result<(VarScope, String), ExprError> {
    let s = c.arg(i).unwrap_or("");
    VarScope::parse(s)
        .map(|(sc, n)| (sc, n.to_string()))
        .ok_or_else(|| {
            ExprError::new(format!(
                "invalid arg {} in converter '{}' : invalid variable name '{s}'",
                i + 1,
                c.name
            ))
            .with_hint("a variable name starts with 'proc.', 'sess.', 'txn.', 'req.' or 'res.'")
        })
}

fn int_arg(c: &Call<'_>, i: usize, default: i64) -> Result<i64, ExprError> {
    match c.arg(i) {
        None => Ok(default),
        Some(s) => parse_int_full(s).ok_or_else(|| {
            ExprError::new(format!(
                "invalid arg {} in converter '{}' : failed to parse '{s}' as type integer",
                i + 1,
                c.name
            ))
        }),
    }
}

fn bad_arg(c: &Call<'_>, i: usize, why: &str) -> ExprError {
    ExprError::new(format!(
        "invalid arg {} in converter '{}' : {why}",
        i + 1,
        c.name
    ))
}

/// Whether `name` is a converter keyword.
pub(crate) fn exists(name: &str) -> bool {
    parse_map_name(name).is_some()
        || matches!(
            name,
            "lower"
                | "upper"
                | "regsub"
                | "base64"
                | "b64dec"
                | "concat"
                | "field"
                | "word"
                | "ipmask"
                | "hex"
                | "hex2i"
                | "url_dec"
                | "url_enc"
                | "json"
                | "crc32"
                | "djb2"
                | "sdbm"
                | "wt6"
                | "sha1"
                | "sha2"
                | "digest"
                | "hmac"
                | "bytes"
                | "length"
                | "add"
                | "sub"
                | "mul"
                | "div"
                | "mod"
                | "and"
                | "or"
                | "xor"
                | "neg"
                | "bool"
                | "not"
                | "odd"
                | "even"
                | "strcmp"
                | "secure_memcmp"
                | "ltime"
                | "utime"
                | "iif"
                | "json_query"
                | "set-var"
                | "ltrim"
                | "rtrim"
                | "cut_crlf"
                | "debug"
        )
}

/// `map`, `map_<match>`, `map_<match>_<out>`.
fn parse_map_name(name: &str) -> Option<(MatchKind, OutKind)> {
    let rest = name.strip_prefix("map")?;
    if rest.is_empty() {
        return Some((MatchKind::Str, OutKind::Str));
    }
    let mut parts = rest.strip_prefix('_')?.split('_');
    let m = match parts.next()? {
        "str" => MatchKind::Str,
        "beg" => MatchKind::Beg,
        "sub" => MatchKind::Sub,
        "dir" => MatchKind::Dir,
        "dom" => MatchKind::Dom,
        "end" => MatchKind::End,
        "reg" => MatchKind::Reg,
        "int" => MatchKind::Int,
        "ip" => MatchKind::Ip,
        "len" => MatchKind::Len,
        _ => return None,
    };
    let o = match parts.next() {
        None | Some("str") => OutKind::Str,
        Some("int") => OutKind::Int,
        Some("ip") => OutKind::Ip,
        _ => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((m, o))
}

impl Conv {
    /// Compile a converter call.
    pub(crate) fn compile(c: &Call<'_>, env: &Env<'_>) -> Result<Conv, ExprError> {
        let (min, max) = match c.name {
            "lower" | "upper" | "base64" | "b64dec" | "hex" | "hex2i" | "length" | "neg"
            | "bool" | "not" | "odd" | "even" | "sha1" | "cut_crlf" => (0, 0),
            "debug" => (0, 2),
            "regsub" => (2, 3),
            "concat" => (0, 3),
            "field" | "word" => (2, 3),
            "ipmask" => (1, 2),
            "url_dec" | "url_enc" | "json" | "crc32" | "djb2" | "sdbm" | "wt6" | "sha2" => (0, 1),
            "digest" => (1, 1),
            "hmac" => (2, 2),
            "bytes" => (1, 2),
            "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => (1, 1),
            "strcmp" | "secure_memcmp" | "set-var" => (1, 1),
            "ltime" | "utime" => (1, 2),
            "iif" => (2, 2),
            "json_query" => (1, 2),
            "ltrim" | "rtrim" => (1, 1),
            n if parse_map_name(n).is_some() => (1, 2),
            n => return err(format!("unknown converter '{n}'")),
        };
        c.check_conv(min, max)?;
        let a = |i: usize| c.arg(i).unwrap_or("");
        let kind = match c.name {
            "lower" => Kind::Lower,
            "upper" => Kind::Upper,
            "regsub" => {
                let flags = a(2);
                let re = RegexBuilder::new(a(0))
                    .case_insensitive(flags.contains('i'))
                    .unicode(false)
                    .build()
                    .map_err(|e| bad_arg(c, 0, &format!("regex '{}' is invalid ({e})", a(0))))?;
                Kind::RegSub {
                    re,
                    subst: a(1).as_bytes().to_vec(),
                    global: flags.contains('g'),
                }
            }
            "base64" => Kind::Base64,
            "b64dec" => Kind::B64Dec,
            "concat" => Kind::Concat {
                pre: a(0).as_bytes().to_vec(),
                var: if c.arg(1).is_some() {
                    Some(var_arg(c, 1)?)
                } else {
                    None
                },
                post: a(2).as_bytes().to_vec(),
            },
            "field" | "word" => {
                let idx = int_arg(c, 0, 0)?;
                if idx == 0 {
                    return Err(bad_arg(c, 0, "index must be different from 0"));
                }
                if a(1).is_empty() {
                    return Err(bad_arg(c, 1, "empty delimiter list"));
                }
                Kind::Field {
                    idx,
                    delims: a(1).as_bytes().to_vec(),
                    count: int_arg(c, 2, 1)?.max(0),
                    word: c.name == "word",
                }
            }
            "ipmask" => {
                let v4 = match a(0).parse::<u8>() {
                    Ok(l) if l <= 32 => l,
                    _ => match a(0).parse::<std::net::Ipv4Addr>() {
                        Ok(m)
                            if u32::from(m).leading_ones() + u32::from(m).trailing_zeros()
                                == 32 =>
                        {
                            u32::from(m).leading_ones() as u8
                        }
                        _ => return Err(bad_arg(c, 0, "invalid IPv4 mask")),
                    },
                };
                let v6 = match c.arg(1) {
                    None => 128,
                    Some(s) => match s.parse::<u8>() {
                        Ok(l) if l <= 128 => l,
                        _ => return Err(bad_arg(c, 1, "invalid IPv6 mask")),
                    },
                };
                Kind::IpMask { v4, v6 }
            }
            "hex" => Kind::Hex,
            "hex2i" => Kind::Hex2i,
            "url_dec" => Kind::UrlDec(int_arg(c, 0, 0)? != 0),
            "url_enc" => Kind::UrlEnc,
            "json" => Kind::Json,
            "crc32" | "djb2" | "sdbm" | "wt6" => Kind::Hash {
                f: match c.name {
                    "crc32" => codec::crc32,
                    "djb2" => codec::djb2,
                    "sdbm" => codec::sdbm,
                    _ => codec::wt6,
                },
                aval: int_arg(c, 0, 0)? != 0,
            },
            "sha1" => Kind::Digest(Alg::Sha1),
            "sha2" => Kind::Digest(match int_arg(c, 0, 256)? {
                224 => Alg::Sha224,
                256 => Alg::Sha256,
                384 => Alg::Sha384,
                512 => Alg::Sha512,
                _ => {
                    return Err(bad_arg(
                        c,
                        0,
                        "Unsupported number of bits: must be 224, 256, 384 or 512",
                    ))
                }
            }),
            "digest" | "hmac" => {
                let alg = Alg::parse(a(0))
                    .ok_or_else(|| bad_arg(c, 0, &format!("unsupported algorithm '{}'", a(0))))?;
                if c.name == "digest" {
                    Kind::Digest(alg)
                } else {
                    let key = codec::base64_decode(a(1).as_bytes())
                        .ok_or_else(|| bad_arg(c, 1, "key must be base64 encoded"))?;
                    Kind::Hmac(alg, key)
                }
            }
            "bytes" => {
                let off = int_arg(c, 0, 0)?;
                let len = int_arg(c, 1, -1)?;
                if off < 0 {
                    return Err(bad_arg(c, 0, "offset must be positive"));
                }
                Kind::Bytes {
                    off: off as usize,
                    len: (len >= 0).then_some(len as usize),
                }
            }
            "length" => Kind::Length,
            "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => {
                let op = match c.name {
                    "add" => Arith::Add,
                    "sub" => Arith::Sub,
                    "mul" => Arith::Mul,
                    "div" => Arith::Div,
                    "mod" => Arith::Mod,
                    "and" => Arith::And,
                    "or" => Arith::Or,
                    _ => Arith::Xor,
                };
                let operand = match parse_int_full(a(0)) {
                    Some(v) => Operand::Int(v),
                    None => {
                        let (s, n) = var_arg(c, 0)?;
                        Operand::Var(s, n)
                    }
                };
                Kind::Arith(op, operand)
            }
            "neg" => Kind::Neg,
            "bool" => Kind::Bool,
            "not" => Kind::Not,
            "odd" => Kind::Odd,
            "even" => Kind::Even,
            "strcmp" | "secure_memcmp" => {
                let (s, n) = var_arg(c, 0)?;
                Kind::StrCmp(s, n, c.name == "secure_memcmp")
            }
            "set-var" => {
                let (s, n) = var_arg(c, 0)?;
                Kind::SetVar(s, n)
            }
            "ltime" | "utime" => Kind::Time {
                fmt: a(0).as_bytes().to_vec(),
                off: int_arg(c, 1, 0)?,
            },
            "iif" => Kind::Iif(a(0).as_bytes().to_vec(), a(1).as_bytes().to_vec()),
            "json_query" => {
                let steps = json::parse_path(a(0))
                    .ok_or_else(|| bad_arg(c, 0, &format!("invalid json path '{}'", a(0))))?;
                let as_int = match c.arg(1) {
                    None => false,
                    Some("int") => true,
                    Some(o) => {
                        return Err(bad_arg(
                            c,
                            1,
                            &format!("output_type '{o}' is not supported"),
                        ))
                    }
                };
                Kind::JsonQuery(steps, as_int)
            }
            "ltrim" => Kind::Ltrim(a(0).as_bytes().to_vec()),
            "rtrim" => Kind::Rtrim(a(0).as_bytes().to_vec()),
            "cut_crlf" => Kind::CutCrlf,
            "debug" => Kind::Debug,
            name => {
                let (m, o) = parse_map_name(name)
                    .ok_or_else(|| ExprError::new(format!("unknown converter '{name}'")))?;
                let wrap =
                    |e: ExprError| e.prefix(&format!("invalid args in converter '{name}' : "));
                let pref = env.registry.load(a(0), true).map_err(wrap)?;
                let cell = pref
                    .cell(IndexSpec {
                        kind: m,
                        icase: false,
                        out: o,
                    })
                    .map_err(wrap)?;
                let default = match c.args.get(1) {
                    Some(d) => Some(parse_value(o, d.as_bytes()).map_err(wrap)?),
                    None => None,
                };
                Kind::Map(MapConv { cell, default })
            }
        };
        Ok(Conv { kind })
    }

    /// Output type given the input type (decides an ACL's default match).
    pub(crate) fn out_type(&self, input: SmpType) -> SmpType {
        use SmpType as T;
        match &self.kind {
            Kind::Map(m) => m.out_type(),
            Kind::B64Dec | Kind::Digest(_) | Kind::Hmac(..) | Kind::Bytes { .. } => T::Bin,
            Kind::IpMask { .. } => T::Ip,
            Kind::Hex2i | Kind::Hash { .. } | Kind::Length | Kind::Arith(..) | Kind::Neg => T::Int,
            Kind::StrCmp(_, _, false) => T::Int,
            Kind::Bool | Kind::Not | Kind::Odd | Kind::Even | Kind::StrCmp(_, _, true) => T::Bool,
            Kind::JsonQuery(_, true) => T::Int,
            Kind::SetVar(..) | Kind::Debug => input,
            _ => T::Str,
        }
    }

    /// Apply to a sample; `None` when the conversion fails.
    pub fn apply<'t>(&self, s: Sample<'t>, txn: &'t dyn Txn) -> Option<Sample<'t>> {
        let owned = |v: Vec<u8>| Some(Sample::Str(Cow::Owned(v)));
        Some(match &self.kind {
            Kind::Lower | Kind::Upper => {
                let up = matches!(self.kind, Kind::Upper);
                let mut b = s.into_bytes();
                let need = b.iter().any(|c| {
                    if up {
                        c.is_ascii_lowercase()
                    } else {
                        c.is_ascii_uppercase()
                    }
                });
                if need {
                    let v = b.to_mut();
                    if up {
                        v.make_ascii_uppercase()
                    } else {
                        v.make_ascii_lowercase()
                    }
                }
                Sample::Str(b)
            }
            Kind::Map(m) => m.apply(&s)?,
            Kind::RegSub { re, subst, global } => {
                let b = s.into_bytes();
                let mut out = Vec::with_capacity(b.len());
                let mut last = 0;
                for caps in re.captures_iter(&b) {
                    let Some(m0) = caps.get(0) else { continue };
                    out.extend_from_slice(&b[last..m0.start()]);
                    expand(subst, &caps, &mut out);
                    last = m0.end();
                    if !global {
                        break;
                    }
                }
                out.extend_from_slice(&b[last..]);
                return owned(out);
            }
            Kind::Base64 => {
                let mut o = Vec::new();
                codec::base64_encode(&s.to_str(), &mut o);
                return owned(o);
            }
            Kind::B64Dec => Sample::Bin(Cow::Owned(codec::base64_decode(&s.to_str())?)),
            Kind::Concat { pre, var, post } => {
                let mut o = s.into_bytes().into_owned();
                o.extend_from_slice(pre);
                if let Some((sc, n)) = var {
                    if let Some(v) = txn.var(*sc, n) {
                        v.write_to(&mut o);
                    }
                }
                o.extend_from_slice(post);
                return owned(o);
            }
            Kind::Field {
                idx,
                delims,
                count,
                word,
            } => {
                let b = s.into_bytes();
                let r = field(&b, *idx, delims, *count as usize, *word)?;
                match b {
                    Cow::Borrowed(x) => Sample::Str(Cow::Borrowed(&x[r.0..r.1])),
                    Cow::Owned(x) => Sample::Str(Cow::Owned(x[r.0..r.1].to_vec())),
                }
            }
            Kind::IpMask { v4, v6 } => match s.to_ip()? {
                IpAddr::V4(a) => {
                    let m = if *v4 == 0 {
                        0
                    } else {
                        u32::MAX << (32 - u32::from(*v4))
                    };
                    Sample::Ip(IpAddr::V4((u32::from(a) & m).into()))
                }
                IpAddr::V6(a) => {
                    let m = if *v6 == 0 {
                        0
                    } else {
                        u128::MAX << (128 - u32::from(*v6))
                    };
                    Sample::Ip(IpAddr::V6((u128::from(a) & m).into()))
                }
            },
            Kind::Hex => {
                let mut o = Vec::new();
                codec::hex_encode(&s.to_str(), &mut o);
                return owned(o);
            }
            Kind::Hex2i => {
                let b = s.to_str();
                let t = std::str::from_utf8(&b).ok()?;
                Sample::Int(i64::from_str_radix(t, 16).ok()?)
            }
            Kind::UrlDec(q) => return owned(codec::url_decode(&s.to_str(), *q)?),
            Kind::UrlEnc => {
                let mut o = Vec::new();
                codec::url_encode(&s.to_str(), &mut o);
                return owned(o);
            }
            Kind::Json => {
                let mut o = Vec::new();
                codec::json_escape(&s.to_str(), &mut o);
                return owned(o);
            }
            Kind::Hash { f, aval } => {
                let h = f(&s.to_str());
                Sample::Int(i64::from(if *aval { codec::avalanche(h) } else { h }))
            }
            Kind::Digest(alg) => Sample::Bin(Cow::Owned(alg.digest(&s.to_str()))),
            Kind::Hmac(alg, key) => Sample::Bin(Cow::Owned(alg.hmac(key, &s.to_str())?)),
            Kind::Bytes { off, len } => {
                let b = s.into_bytes();
                if *off >= b.len() {
                    return None;
                }
                let end = len.map_or(b.len(), |l| (off + l).min(b.len()));
                match b {
                    Cow::Borrowed(x) => Sample::Bin(Cow::Borrowed(&x[*off..end])),
                    Cow::Owned(x) => Sample::Bin(Cow::Owned(x[*off..end].to_vec())),
                }
            }
            Kind::Length => Sample::Int(s.to_str().len() as i64),
            Kind::Arith(op, operand) => {
                let x = s.to_int()?;
                let y = operand.get(txn)?;
                Sample::Int(match op {
                    Arith::Add => x.saturating_add(y),
                    Arith::Sub => x.saturating_sub(y),
                    Arith::Mul => x.saturating_mul(y),
                    Arith::Div => {
                        if y == 0 {
                            i64::MAX
                        } else {
                            x.wrapping_div(y)
                        }
                    }
                    Arith::Mod => {
                        if y == 0 {
                            0
                        } else {
                            x.wrapping_rem(y)
                        }
                    }
                    Arith::And => x & y,
                    Arith::Or => x | y,
                    Arith::Xor => x ^ y,
                })
            }
            Kind::Neg => Sample::Int(s.to_int()?.wrapping_neg()),
            Kind::Bool => Sample::Bool(s.to_int()? != 0),
            Kind::Not => Sample::Bool(s.to_int()? == 0),
            Kind::Odd => Sample::Bool(s.to_int()? & 1 == 1),
            Kind::Even => Sample::Bool(s.to_int()? & 1 == 0),
            Kind::StrCmp(sc, n, secure) => {
                let v = txn.var(*sc, n)?;
                let a = s.to_str();
                let b = v.to_str();
                if *secure {
                    Sample::Bool(crate::crypt::constant_eq(&a, &b))
                } else {
                    Sample::Int(match a.as_ref().cmp(b.as_ref()) {
                        std::cmp::Ordering::Less => -1,
                        std::cmp::Ordering::Equal => 0,
                        std::cmp::Ordering::Greater => 1,
                    })
                }
            }
            Kind::Time { fmt, off } => {
                let t = s.to_int()?.saturating_add(*off);
                let mut o = Vec::new();
                crate::time::strftime(fmt, t, &mut o);
                return owned(o);
            }
            Kind::Iif(t, f) => {
                Sample::Str(Cow::Owned(if s.to_bool()? { t.clone() } else { f.clone() }))
            }
            Kind::JsonQuery(steps, as_int) => {
                let b = s.to_str();
                match json::query(&b, steps)? {
                    JVal::Str(v) => Sample::Str(Cow::Owned(v.into_owned())),
                    JVal::Bool(v) => Sample::Bool(v),
                    JVal::Null => return None,
                    JVal::Raw(v) => Sample::Str(Cow::Owned(v.to_vec())),
                    JVal::Num(n) => {
                        let t = std::str::from_utf8(n).ok()?;
                        if *as_int {
                            Sample::Int(t.parse::<i64>().ok().or_else(|| {
                                t.parse::<f64>()
                                    .ok()
                                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                                    .map(|f| f as i64)
                            })?)
                        } else {
                            let f: f64 = t.parse().ok()?;
                            Sample::Str(Cow::Owned(format_g(f).into_bytes()))
                        }
                    }
                }
            }
            Kind::SetVar(sc, n) => {
                txn.set_var(*sc, n, s.clone().into_owned());
                s
            }
            Kind::Ltrim(chars) | Kind::Rtrim(chars) => {
                let left = matches!(self.kind, Kind::Ltrim(_));
                let b = s.into_bytes();
                let (st, en) = if left {
                    (
                        b.iter().position(|c| !chars.contains(c)).unwrap_or(b.len()),
                        b.len(),
                    )
                } else {
                    (
                        0,
                        b.iter()
                            .rposition(|c| !chars.contains(c))
                            .map_or(0, |p| p + 1),
                    )
                };
                slice_cow(b, st, en)
            }
            Kind::CutCrlf => {
                let b = s.into_bytes();
                let en = b
                    .iter()
                    .position(|&c| c == b'\r' || c == b'\n')
                    .unwrap_or(b.len());
                slice_cow(b, 0, en)
            }
            Kind::Debug => s,
        })
    }
}

fn slice_cow(b: Cow<'_, [u8]>, st: usize, en: usize) -> Sample<'_> {
    match b {
        Cow::Borrowed(x) => Sample::Str(Cow::Borrowed(&x[st..en])),
        Cow::Owned(x) => Sample::Str(Cow::Owned(x[st..en].to_vec())),
    }
}

/// `%g`-like formatting of a double (6 significant digits).
fn format_g(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e6 {
        return format!("{}", f as i64);
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-5..6).contains(&exp) {
        let m = f / 10f64.powi(exp);
        let ms = format!("{m:.5}");
        let ms = ms.trim_end_matches('0').trim_end_matches('.');
        return format!("{ms}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{f:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Expand `\N` back-references of `regsub`.
fn expand(subst: &[u8], caps: &regex::bytes::Captures<'_>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < subst.len() {
        if subst[i] == b'\\' && i + 1 < subst.len() && subst[i + 1].is_ascii_digit() {
            if let Some(m) = caps.get(usize::from(subst[i + 1] - b'0')) {
                out.extend_from_slice(m.as_bytes());
            }
            i += 2;
        } else {
            out.push(subst[i]);
            i += 1;
        }
    }
}

/// Byte range of the `idx`-th field (1-based, negative from the end) and
/// `count` following ones (0: all the rest); `word` skips empty fields.
fn field(b: &[u8], idx: i64, delims: &[u8], count: usize, word: bool) -> Option<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if delims.contains(c) {
            spans.push((start, i));
            start = i + 1;
        }
    }
    spans.push((start, b.len()));
    if word {
        spans.retain(|(s, e)| e > s);
    }
    let n = spans.len() as i64;
    let (first, last) = if idx > 0 {
        let f = idx - 1;
        let l = if count == 0 {
            n - 1
        } else {
            (f + count as i64 - 1).min(n - 1)
        };
        (f, l)
    } else {
        let l = n + idx;
        let f = if count == 0 {
            0
        } else {
            (l - count as i64 + 1).max(0)
        };
        (f, l)
    };
    if first < 0 || first >= n || last < first {
        return None;
    }
    Some((spans[first as usize].0, spans[last as usize].1))
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::field;

    #[test]
    fn fields() {
        let f = |s: &str, i, d: &str, c, w| {
            field(s.as_bytes(), i, d.as_bytes(), c, w).map(|(a, b)| s[a..b].to_string())
        };
        assert_eq!(f("a,b,,c", 2, ",", 1, false).as_deref(), Some("b"));
        assert_eq!(f("a,b,,c", 3, ",", 1, false).as_deref(), Some(""));
        assert_eq!(f("a,b,,c", 3, ",", 1, true).as_deref(), Some("c"));
        assert_eq!(f("a,b,,c", -1, ",", 1, false).as_deref(), Some("c"));
        assert_eq!(f("a,b,,c", 2, ",", 0, false).as_deref(), Some("b,,c"));
        assert_eq!(f("a,b,,c", 1, ",", 2, false).as_deref(), Some("a,b"));
        assert_eq!(f("a,b", 5, ",", 1, false), None);
        assert_eq!(f("/a/b/c", 2, "/", 1, true).as_deref(), Some("b"));
    }
}
